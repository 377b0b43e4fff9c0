//! The panes of the screen, one module each: its view state, what it does
//! with its actions (its part of `update`) and how it is drawn.
//!
//! This file is the one list of panes: the modules, and [`REGISTRY`] with
//! each pane's title, keymap mode, focus action, place in the grid and
//! functions. Order in the registry gives the digit keys (1 = first) and the
//! focus cycle; [`Place`] gives the grid. To add a pane: a module here and
//! its registry entry, a field for its view in `crate::core::State`, its
//! mode and focus action in `crate::action` (with a key table in
//! `keymaps/` if it binds keys), and theme slots if it needs new ones.

pub mod database;
mod id;
pub mod layout;
pub mod logs;
pub mod metrics;
pub mod runbook;
pub mod widgets;
pub mod workloads;

use ratatui::Frame;
use ratatui::layout::Rect;

pub use id::Pane;

use crate::action::{Action, Mode};
use crate::core::Effect;
use crate::core::State;
use crate::theme::Theme;

/// Left or right half of the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    Left,
    Right,
}

/// Where a pane sits in the grid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Place {
    pub column: Column,
    /// Order from the top within the column.
    pub row: u8,
    /// Share of the column's height (percent) on a tall screen.
    pub tall: u16,
    /// Share on a short screen (below 40 rows).
    pub short: u16,
    /// On a short screen the shared panes of a column take turns in one
    /// slot, showing the one focused last.
    pub shared: bool,
}

/// Everything the core and the UI need to know of a pane.
pub struct PaneSpec {
    pub pane: Pane,
    pub title: &'static str,
    /// The keymap table used while the pane has focus.
    pub mode: Mode,
    /// The action that focuses it (its digit comes from its position).
    pub focus: Action,
    pub place: Place,
    /// The actions it offers on its selection (keys, hints, help).
    pub offered: fn(&State) -> Vec<Action>,
    /// Handle an action; `None` when the action is not this pane's.
    pub on_action: fn(&mut State, Action) -> Option<Vec<Effect>>,
    /// Move the selection or scroll by `delta` rows (`Top`/`Bottom` by the action).
    pub navigate: fn(&mut State, Action, isize, crate::core::ops::Page),
    /// What `copy` puts on the clipboard (the selected object's name, a
    /// log line, a query); `None` when there is nothing to copy.
    pub copy_text: fn(&State) -> Option<String>,
    /// What `describe` opens: the selected row's object; `None` when
    /// nothing is selected or the pane has no details.
    pub detail_target: fn(&State) -> Option<crate::domain::DetailTarget>,
    /// Title and state summary for the border.
    pub title_of: fn(&State) -> (String, String),
    /// The feed that fills it: its title says when that feed is stale.
    pub feed: Option<crate::core::Feed>,
    pub render: fn(&mut Frame, Rect, &State, &Theme),
}

fn nothing_offered(_: &State) -> Vec<Action> {
    Vec::new()
}

fn nothing_to_copy(_: &State) -> Option<String> {
    None
}

fn nothing_to_describe(_: &State) -> Option<crate::domain::DetailTarget> {
    None
}

/// Every pane, in digit order.
pub static REGISTRY: [PaneSpec; 5] = [
    PaneSpec {
        pane: Pane::WORKLOADS,
        title: "Workloads",
        mode: Mode::Workloads,
        focus: Action::FocusWorkloads,
        place: Place {
            column: Column::Left,
            row: 0,
            tall: 50,
            short: 50,
            shared: false,
        },
        offered: workloads::offered,
        on_action: workloads::on_action,
        navigate: workloads::navigate,
        copy_text: workloads::copy_text,
        detail_target: workloads::detail_target,
        title_of: workloads::title,
        feed: Some(crate::core::Feed::Workloads),
        render: workloads::render,
    },
    PaneSpec {
        pane: Pane::LOGS,
        title: "Logs",
        mode: Mode::Logs,
        focus: Action::FocusLogs,
        place: Place {
            column: Column::Left,
            row: 1,
            tall: 50,
            short: 50,
            shared: false,
        },
        offered: nothing_offered,
        on_action: logs::on_action,
        navigate: logs::navigate,
        copy_text: logs::copy_text,
        detail_target: nothing_to_describe,
        title_of: logs::title,
        feed: Some(crate::core::Feed::Logs),
        render: logs::render,
    },
    PaneSpec {
        pane: Pane::METRICS,
        title: "Metrics",
        mode: Mode::Metrics,
        focus: Action::FocusMetrics,
        place: Place {
            column: Column::Right,
            row: 1,
            tall: 30,
            short: 50,
            shared: true,
        },
        offered: nothing_offered,
        on_action: metrics::on_action,
        navigate: metrics::navigate,
        copy_text: nothing_to_copy,
        detail_target: metrics::detail_target,
        title_of: metrics::title,
        feed: Some(crate::core::Feed::Metrics),
        render: metrics::render,
    },
    PaneSpec {
        pane: Pane::RUNBOOK,
        title: "Runbook",
        mode: Mode::Runbook,
        focus: Action::FocusRunbook,
        place: Place {
            column: Column::Right,
            row: 0,
            tall: 40,
            short: 50,
            shared: false,
        },
        offered: runbook::offered,
        on_action: runbook::on_action,
        navigate: runbook::navigate,
        copy_text: nothing_to_copy,
        detail_target: nothing_to_describe,
        title_of: runbook::title,
        feed: None,
        render: runbook::render,
    },
    PaneSpec {
        pane: Pane::DATABASE,
        title: "Database",
        mode: Mode::Database,
        focus: Action::FocusDatabase,
        place: Place {
            column: Column::Right,
            row: 2,
            tall: 30,
            short: 50,
            shared: true,
        },
        offered: database::offered,
        on_action: database::on_action,
        navigate: database::navigate,
        copy_text: database::copy_text,
        detail_target: database::detail_target,
        title_of: database::title,
        feed: Some(crate::core::Feed::Database),
        render: database::render,
    },
];

/// The spec of a pane (the first pane's for one not registered).
pub fn spec(pane: Pane) -> &'static PaneSpec {
    REGISTRY
        .iter()
        .find(|s| s.pane == pane)
        .unwrap_or(&REGISTRY[0])
}

/// The pane's 1-based digit.
pub fn digit(pane: Pane) -> usize {
    REGISTRY
        .iter()
        .position(|s| s.pane == pane)
        .map_or(0, |i| i + 1)
}
