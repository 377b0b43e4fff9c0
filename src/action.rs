//! The one vocabulary of user intents: every key binding names an [`Action`],
//! and the help overlay is generated from the doc comments here.

use serde::{Deserialize, Serialize};

/// Input modes. Each has its own table in a keymap file; the top layer gets keys first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    /// Keys that work in every pane unless a more specific mode binds them.
    Global,
    Workloads,
    Logs,
    Metrics,
    Runbook,
    Database,
    /// A confirmation dialog is open.
    Confirm,
    /// A text prompt (filter, search, replicas, typed name) is open.
    Input,
    /// The help overlay is open.
    Help,
    /// A detail view (describe, events, YAML) is open.
    Detail,
}

impl Mode {
    pub const ALL: [Mode; 10] = [
        Mode::Global,
        Mode::Workloads,
        Mode::Logs,
        Mode::Metrics,
        Mode::Runbook,
        Mode::Database,
        Mode::Confirm,
        Mode::Input,
        Mode::Help,
        Mode::Detail,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Mode::Global => "global",
            Mode::Workloads => "workloads",
            Mode::Logs => "logs",
            Mode::Metrics => "metrics",
            Mode::Runbook => "runbook",
            Mode::Database => "database",
            Mode::Confirm => "confirm",
            Mode::Input => "input",
            Mode::Help => "help",
            Mode::Detail => "detail",
        }
    }

    pub fn from_name(s: &str) -> Option<Mode> {
        Mode::ALL.into_iter().find(|m| m.name() == s)
    }
}

macro_rules! actions {
    ($( $(#[doc = $doc:literal])+ $variant:ident = $name:literal, )+) => {
        /// Everything a key can be bound to.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Action {
            $( $(#[doc = $doc])+ $variant, )+
        }

        impl Action {
            /// Every action, in help order.
            pub const ALL: &'static [Action] = &[ $( Action::$variant, )+ ];

            /// The snake_case name used in keymap files.
            pub fn name(self) -> &'static str {
                match self { $( Action::$variant => $name, )+ }
            }

            /// Parse a keymap file's action name.
            pub fn from_name(s: &str) -> Option<Action> {
                match s { $( $name => Some(Action::$variant), )+ _ => None }
            }

            /// One line of help text (the variant's doc comment).
            pub fn help(self) -> &'static str {
                match self { $( Action::$variant => concat!($($doc),+).trim_ascii(), )+ }
            }
        }
    };
}

actions! {
    /// Quit opsdeck
    Quit = "quit",
    /// Show or hide this help
    Help = "help",
    /// List every current problem (failing sources, configuration) in full
    Problems = "problems",
    /// Dismiss the message in the status bar (an action's result stays until then)
    Dismiss = "dismiss",
    /// Focus the next pane
    FocusNext = "focus_next",
    /// Focus the previous pane
    FocusPrev = "focus_prev",
    /// Focus the Workloads pane
    FocusWorkloads = "focus_workloads",
    /// Focus the Logs pane
    FocusLogs = "focus_logs",
    /// Focus the Metrics pane
    FocusMetrics = "focus_metrics",
    /// Focus the Runbook pane
    FocusRunbook = "focus_runbook",
    /// Focus the Database pane
    FocusDatabase = "focus_database",
    /// Zoom the focused pane to the whole screen, or back
    ToggleZoom = "toggle_zoom",
    /// Refresh every source now
    Refresh = "refresh",
    /// Open the command prompt (:pods, :deploy, :svc, :events, :ctx, :ns, :runbook, :theme, :q)
    Command = "command",
    /// Copy the selected object's name, log line or query to the clipboard (OSC 52)
    Copy = "copy",
    /// Switch to another Kubernetes context
    SwitchContext = "switch_context",
    /// Watch another Kubernetes namespace, or all of them
    SwitchNamespace = "switch_namespace",
    /// Move the selection up
    Up = "up",
    /// Move the selection down
    Down = "down",
    /// Scroll half a page up
    HalfPageUp = "half_page_up",
    /// Scroll half a page down
    HalfPageDown = "half_page_down",
    /// Scroll a page up
    PageUp = "page_up",
    /// Scroll a page down
    PageDown = "page_down",
    /// Go to the first line
    Top = "top",
    /// Go to the last line
    Bottom = "bottom",
    /// Filter the rows of the focused pane
    Filter = "filter",
    /// Cycle the sort column of the Workloads pane
    CycleSort = "cycle_sort",
    /// Reverse the sort order
    ReverseSort = "reverse_sort",
    /// Scale the selected deployment or ECS service
    Scale = "scale",
    /// Roll the selected deployment back to its previous revision (an ECS service to its previous task definition)
    RolloutUndo = "rollout_undo",
    /// Restart every pod of the selected deployment
    RolloutRestart = "rollout_restart",
    /// Delete the selected pod
    DeletePod = "delete_pod",
    /// Stop the selected ECS task
    StopTask = "stop_task",
    /// Force a new deployment of the selected ECS service
    ForceNewDeployment = "force_new_deployment",
    /// Show the selected workload's logs only, or all logs again
    LogsForSelected = "logs_for_selected",
    /// Show the logs of the selected pod's previous (crashed) container
    PreviousLogs = "previous_logs",
    /// Follow new log lines, or pause
    ToggleFollow = "toggle_follow",
    /// Search the logs
    Search = "search",
    /// Jump to the next search match
    NextMatch = "next_match",
    /// Jump to the previous search match
    PrevMatch = "prev_match",
    /// Cycle the minimum log level shown
    CycleLevel = "cycle_level",
    /// Cycle the log source shown
    CycleSource = "cycle_source",
    /// Pretty-print JSON log lines, or show them compact
    ToggleJson = "toggle_json",
    /// Show or hide log timestamps
    ToggleTimestamps = "toggle_timestamps",
    /// Wrap long log lines, or cut them at the pane's edge
    ToggleWrap = "toggle_wrap",
    /// Show the whole log line at the bottom of the Logs pane
    ShowLine = "show_line",
    /// Save the log lines shown (after the filters) to a file
    SaveLogs = "save_logs",
    /// Clear the filter or search
    ClearFilter = "clear_filter",
    /// Fold or unfold the selected deployment's pods or service's tasks
    ToggleCollapse = "toggle_collapse",
    /// Mark or unmark the selected pod, task or session; delete, stop and terminate then act on every marked one
    ToggleMark = "toggle_mark",
    /// Open the selected row's detail view (describe, events, rollout history)
    Describe = "describe",
    /// Show the detail view's object as YAML, or as the description again
    ToggleYaml = "toggle_yaml",
    /// Select the next related object in a detail view (enter opens it)
    NextLink = "next_link",
    /// Run a CloudWatch Logs Insights query over the session's log groups
    LogsInsights = "logs_insights",
    /// Cancel the selected session's running query (the connection stays)
    CancelQuery = "cancel_query",
    /// Terminate the selected database session
    TerminateSession = "terminate_session",
    /// Terminate every active query running longer than a threshold
    TerminateMatching = "terminate_matching",
    /// Run the selected runbook action
    RunAction = "run_action",
    /// Select the next runbook step
    NextStep = "next_step",
    /// Select the previous runbook step
    PrevStep = "prev_step",
    /// Answer yes in a confirmation
    ConfirmYes = "confirm_yes",
    /// Answer no in a confirmation
    ConfirmNo = "confirm_no",
    /// Switch the highlighted answer in a confirmation
    ToggleChoice = "toggle_choice",
    /// Accept the input or the highlighted answer
    Submit = "submit",
    /// Close the dialog, prompt or overlay
    Cancel = "cancel",
    /// Delete the character before the cursor
    Backspace = "backspace",
    /// Delete the word before the cursor
    DeleteWord = "delete_word",
    /// Delete everything before the cursor
    ClearLine = "clear_line",
    /// Move the cursor one character left
    CursorLeft = "cursor_left",
    /// Move the cursor one character right
    CursorRight = "cursor_right",
    /// Move the cursor to the start of the input
    LineStart = "line_start",
    /// Move the cursor to the end of the input
    LineEnd = "line_end",
    /// Recall the previous entry of this prompt's history
    HistoryPrev = "history_prev",
    /// Recall the next entry of this prompt's history
    HistoryNext = "history_next",
    /// Complete the command, or its argument
    Complete = "complete",
}
