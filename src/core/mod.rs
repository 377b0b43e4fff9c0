//! The sans-IO core: [`State`], the [`Msg`]s that change it and the
//! [`Effect`]s it asks the driver to run. `update` is a plain function.
//!
//! The core handles what is not a pane's: messages from the backends, the
//! layers on top (help, prompts, confirmations, pickers), focus and the
//! global actions. Everything a pane does on its own lives in its module
//! under `crate::panes`, reached through the pane registry.

mod command;
mod confirm;
pub mod detail;
mod detail_view;
mod feeds;
mod insights;
mod layers;
mod msg;
pub(crate) mod ops;
mod problems;
mod quit;
mod readline;
mod state;
mod update;

pub use command::{Arg, COMMANDS, Cmd, CommandSpec};
pub use confirm::{CheckState, Confirm, ConfirmStatus, Input, InputPurpose};
pub use detail_view::{
    DetailFrame, DetailView, LineStyle, ShownLine, lines as detail_lines, matches as detail_matches,
};
pub use feeds::{Feed, Feeds, STALE_AFTER, SourceStatus, Stale};
pub use insights::{DEFAULT_QUERY, InsightsView};
pub use layers::mode as layer_mode;
pub use msg::{Effect, Msg};
pub use problems::ProblemLine;
pub use readline::{HISTORY_LEN, History};
pub use state::{Flash, Layer, State};
pub use update::{offered_actions, update};

pub use crate::panes::Pane;
pub use crate::panes::database::{DB_HISTORY, DatabaseView, db_rows};
pub use crate::panes::logs::{LogsView, MAX_LOG_LINES};
pub use crate::panes::metrics::MetricsView;
pub use crate::panes::runbook::RunbookView;
pub use crate::panes::workloads::{SortKey, WorkloadsView};
