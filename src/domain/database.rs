//! Database sessions and snapshots, and how a session is pinned for an action.

use std::fmt;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

/// State of a database session (pg_stat_activity.state).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SessionState {
    Active,
    Idle,
    IdleInTransaction,
    Other,
}

/// Why a cancel is refused for a session in `state` (idle, idle in
/// transaction): it runs no query, so there is nothing to cancel.
pub fn nothing_to_cancel(database: &str, pid: i32, state: &str) -> String {
    format!(
        "pid {pid} on {database} is {state}: it is running no query, so there is nothing \
         to cancel (terminate the session to end it)"
    )
}

impl SessionState {
    pub fn label(self) -> &'static str {
        match self {
            SessionState::Active => "active",
            SessionState::Idle => "idle",
            SessionState::IdleInTransaction => "idle in transaction",
            SessionState::Other => "other",
        }
    }
}

/// One database session. `(pid, backend_start)` identifies it: a pid alone can be reused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSession {
    pub pid: i32,
    pub backend_start: SystemTime,
    pub user: String,
    pub application: String,
    pub client: String,
    pub state: SessionState,
    pub wait_event: Option<String>,
    /// Time since the current query started.
    pub running: Duration,
    /// Untrusted text, sanitised on render.
    pub query: String,
    /// Sessions holding locks this one waits for (pg_blocking_pids).
    pub blocked_by: Vec<i32>,
}

/// A database's connection picture.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DbSnapshot {
    pub name: String,
    pub max_connections: u32,
    pub sessions: Vec<DbSession>,
    /// Sessions the backend could not read (skipped, not in `sessions`):
    /// they still hold connections, and the pane says how many there are.
    pub unreadable: u32,
    /// Connections to the server's other databases. `sessions` lists this
    /// database's only (two databases of one server would otherwise list
    /// every session twice), but max_connections counts them all.
    pub other_databases: u32,
}

impl DbSnapshot {
    /// Connections in use on the server, against max_connections: the
    /// sessions listed, the unreadable ones and the other databases'.
    pub fn connections(&self) -> u32 {
        u32::try_from(self.sessions.len())
            .unwrap_or(u32::MAX)
            .saturating_add(self.unreadable)
            .saturating_add(self.other_databases)
    }
}

/// A session chosen for termination, pinned by pid and backend start.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionTarget {
    pub pid: i32,
    #[serde(with = "humantime_serde_compat")]
    pub backend_start: SystemTime,
    pub query: String,
}

impl SessionTarget {
    /// Pin a session as it is in a snapshot.
    pub fn of(s: &DbSession) -> Self {
        Self {
            pid: s.pid,
            backend_start: s.backend_start,
            query: s.query.clone(),
        }
    }
}

/// Which sessions a rule-based terminate hits.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueryRule {
    /// Only sessions whose query has been running at least this long.
    #[serde(with = "humantime_serde_duration")]
    pub older_than: Duration,
    pub user: Option<String>,
    pub application: Option<String>,
}

impl QueryRule {
    /// The sessions of a snapshot the rule matches now, pinned.
    pub fn targets(&self, db: &DbSnapshot) -> Vec<SessionTarget> {
        db.sessions
            .iter()
            .filter(|s| self.matches(s))
            .map(SessionTarget::of)
            .collect()
    }

    pub fn matches(&self, s: &DbSession) -> bool {
        s.state == SessionState::Active
            && s.running >= self.older_than
            && self.user.as_ref().is_none_or(|u| &s.user == u)
            && self
                .application
                .as_ref()
                .is_none_or(|a| &s.application == a)
    }
}

impl fmt::Display for QueryRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "running > {}",
            crate::fmt::duration_short(self.older_than)
        )?;
        if let Some(u) = &self.user {
            write!(f, " user={u}")?;
        }
        if let Some(a) = &self.application {
            write!(f, " application={a}")?;
        }
        Ok(())
    }
}

/// `SystemTime` as RFC 3339 text in the audit log.
mod humantime_serde_compat {
    use std::time::SystemTime;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &SystemTime, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_rfc3339_micros(*t).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<SystemTime, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_rfc3339(&s).map_err(serde::de::Error::custom)
    }
}

/// `Duration` as `10m` text in the audit log.
mod humantime_serde_duration {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let s = String::deserialize(d)?;
        humantime::parse_duration(&s).map_err(serde::de::Error::custom)
    }
}
