//! The Database pane's state: selection in the session table and the
//! connection history behind its sparkline.

use std::collections::VecDeque;

use crate::domain::{DbSession, DbSnapshot, SessionState};

/// Connection counts kept per database for the Database pane's sparkline.
pub const DB_HISTORY: usize = 120;

/// The Database pane: selection in the session table and connection history.
#[derive(Debug, Clone, Default)]
pub struct DatabaseView {
    pub selected: usize,
    /// Per database: connections in use at each snapshot, oldest first.
    pub history: Vec<(String, VecDeque<u32>)>,
}

impl DatabaseView {
    pub fn record(&mut self, snapshots: &[DbSnapshot]) {
        for db in snapshots {
            let used = db.sessions.len() as u32;
            match self.history.iter_mut().find(|(n, _)| *n == db.name) {
                Some((_, h)) => {
                    if h.len() == DB_HISTORY {
                        h.pop_front();
                    }
                    h.push_back(used);
                }
                None => self
                    .history
                    .push((db.name.clone(), std::iter::once(used).collect())),
            }
        }
    }

    pub fn history_of(&self, name: &str) -> Option<&VecDeque<u32>> {
        self.history.iter().find(|(n, _)| n == name).map(|(_, h)| h)
    }
}

/// Database sessions as the Database pane lists them: active first, longest
/// running first, with their database.
pub fn db_rows(dbs: &[DbSnapshot]) -> Vec<(&str, &DbSession)> {
    let mut rows: Vec<(&str, &DbSession)> = dbs
        .iter()
        .flat_map(|d| d.sessions.iter().map(move |s| (d.name.as_str(), s)))
        .collect();
    rows.sort_by(|a, b| {
        (b.1.state == SessionState::Active)
            .cmp(&(a.1.state == SessionState::Active))
            .then(b.1.running.cmp(&a.1.running))
            .then(a.1.pid.cmp(&b.1.pid))
    });
    rows
}
