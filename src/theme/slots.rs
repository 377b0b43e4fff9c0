//! The semantic slots a theme styles, and the modifier names theme files use.

use ratatui::style::Modifier;

macro_rules! slots {
    ($( $variant:ident = $name:literal, )+) => {
        /// A semantic place in the UI that a theme gives a style to.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Slot { $( $variant, )+ }

        impl Slot {
            pub const ALL: &'static [Slot] = &[ $( Slot::$variant, )+ ];

            /// Dotted name used in theme files (`health.ok`).
            pub fn name(self) -> &'static str {
                match self { $( Slot::$variant => $name, )+ }
            }

            pub fn from_name(s: &str) -> Option<Slot> {
                match s { $( $name => Some(Slot::$variant), )+ _ => None }
            }
        }
    };
}

slots! {
    Base = "base",
    Border = "border",
    BorderFocused = "border.focused",
    Title = "title",
    TitleFocused = "title.focused",
    Header = "header",
    Selection = "selection",
    Hint = "hint",
    HelpKey = "help.key",
    HealthOk = "health.ok",
    HealthWarn = "health.warn",
    HealthCritical = "health.critical",
    HealthUnknown = "health.unknown",
    LogTimestamp = "log.timestamp",
    LogSource = "log.source",
    LogTrace = "log.trace",
    LogDebug = "log.debug",
    LogInfo = "log.info",
    LogWarn = "log.warn",
    LogError = "log.error",
    SearchMatch = "search.match",
    SparkLine = "spark.line",
    SparkWarn = "spark.warn",
    SparkCritical = "spark.critical",
    StatusBar = "status.bar",
    StatusContext = "status.context",
    StatusReadonly = "status.readonly",
    StatusStale = "status.stale",
    StatusProblem = "status.problem",
    RunbookDone = "runbook.done",
    RunbookFailing = "runbook.failing",
    RunbookPending = "runbook.pending",
    Dialog = "dialog",
    DialogBorder = "dialog.border",
    Danger = "danger",
    Input = "input",
}

impl Slot {
    /// The slot's dotted name and each shorter prefix (`health.ok`, `health`).
    pub(crate) fn fallbacks(self) -> impl Iterator<Item = &'static str> {
        let name = self.name();
        std::iter::successors(Some(name), |n| n.rfind('.').map(|i| &n[..i]))
    }
}

/// True for a name a theme file may set: a slot (`health.ok`) or a group that
/// is a prefix of slot names (`health`).
pub fn is_settable(name: &str) -> bool {
    Slot::from_name(name).is_some()
        || Slot::ALL.iter().any(|s| {
            s.name()
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('.'))
        })
}

/// A slot with no slots under it (`selection`, `health.ok`; not `health`).
pub fn is_leaf_slot(name: &str) -> bool {
    Slot::from_name(name).is_some()
        && !Slot::ALL.iter().any(|s| {
            s.name()
                .strip_prefix(name)
                .is_some_and(|rest| rest.starts_with('.'))
        })
}

/// Modifier names accepted in theme files.
pub const MODIFIERS: &[(&str, Modifier)] = &[
    ("bold", Modifier::BOLD),
    ("dim", Modifier::DIM),
    ("italic", Modifier::ITALIC),
    ("underlined", Modifier::UNDERLINED),
    ("reversed", Modifier::REVERSED),
    ("crossed_out", Modifier::CROSSED_OUT),
    ("slow_blink", Modifier::SLOW_BLINK),
];
