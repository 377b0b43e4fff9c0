//! The Database pane: connections against max_connections, sessions by
//! state, lock waits by blocker, and the sessions by running time, with
//! cancel and terminate.

mod detail;
mod render;
mod update;
mod view;

use super::Pane;
pub use detail::{detail_target, session_detail};
pub use render::{render, title};
pub use update::{copy_text, offered, terminate_matching};
pub use update::{navigate, on_action};
pub use view::{DB_HISTORY, DatabaseView, SessionKey, db_rows};

impl Pane {
    /// Sessions, locks and connections of each database.
    pub const DATABASE: Pane = Pane("database");
}
