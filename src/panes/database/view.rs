//! The Database pane's state: selection in the session table and the
//! connection history behind its sparkline.

use std::collections::VecDeque;
use std::time::SystemTime;

use crate::domain::{DbSession, DbSnapshot, SessionState};

/// Connection counts kept per database for the Database pane's sparkline.
pub const DB_HISTORY: usize = 120;

/// The Database pane: selection in the session table and connection history.
#[derive(Debug, Clone, Default)]
pub struct DatabaseView {
    /// Index into [`db_rows`]: where the cursor is drawn.
    pub selected: usize,
    /// The session the cursor is on; refreshes move the cursor to follow it.
    pub pinned: Option<SessionKey>,
    /// The pinned session has ended: the pane says so and actions on it are
    /// refused until another row is chosen.
    pub gone: Option<SessionKey>,
    /// Per database: connections in use at each snapshot, oldest first.
    pub history: Vec<(String, VecDeque<u32>)>,
    /// Sessions marked for one terminate of all of them.
    pub marked: Vec<SessionKey>,
}

/// A session's identity: its database, pid and backend start (a pid is
/// reused by the server once its session ends).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionKey {
    pub database: String,
    pub pid: i32,
    pub backend_start: SystemTime,
}

impl SessionKey {
    pub fn of(database: &str, s: &DbSession) -> Self {
        Self {
            database: database.to_string(),
            pid: s.pid,
            backend_start: s.backend_start,
        }
    }
}

impl DatabaseView {
    /// The selected session and its database; None when it has ended.
    pub fn selected_session<'a>(&self, dbs: &'a [DbSnapshot]) -> Option<(&'a str, &'a DbSession)> {
        if self.gone.is_some() {
            return None;
        }
        db_rows(dbs).get(self.selected).copied()
    }

    /// Put the cursor on the `i`th session row and pin that session.
    pub fn select(&mut self, dbs: &[DbSnapshot], i: usize) {
        let rows = db_rows(dbs);
        let i = i.min(rows.len().saturating_sub(1));
        self.selected = i;
        self.pinned = rows.get(i).map(|(d, s)| SessionKey::of(d, s));
        self.gone = None;
    }

    /// After a refresh: follow the pinned session (the one the user chose;
    /// until then the cursor keeps its row), or mark it ended.
    pub fn reselect(&mut self, dbs: &[DbSnapshot]) {
        let rows = db_rows(dbs);
        let last = rows.len().saturating_sub(1);
        let (selected, pinned, gone) = match &self.pinned {
            // Nothing chosen yet: the cursor stays where it is.
            None => (self.selected.min(last), None, None),
            Some(key) => match rows.iter().position(|(d, s)| SessionKey::of(d, s) == *key) {
                Some(i) => (i, Some(key.clone()), None),
                None => (
                    self.selected.min(last),
                    Some(key.clone()),
                    Some(key.clone()),
                ),
            },
        };
        self.selected = selected;
        self.pinned = pinned;
        self.gone = gone;
        self.marked
            .retain(|k| rows.iter().any(|(d, s)| SessionKey::of(d, s) == *k));
    }

    /// Mark or unmark the selected session.
    pub fn toggle_mark(&mut self, dbs: &[DbSnapshot]) -> Result<(), String> {
        let Some((d, s)) = self.selected_session(dbs) else {
            return Err("no database session selected".into());
        };
        let key = SessionKey::of(d, s);
        match self.marked.iter().position(|k| *k == key) {
            Some(i) => {
                self.marked.remove(i);
            }
            None => self.marked.push(key),
        }
        Ok(())
    }

    pub fn record(&mut self, snapshots: &[DbSnapshot]) {
        for db in snapshots {
            let used = db.connections();
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
