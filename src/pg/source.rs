//! The sessions of a PostgreSQL database from `pg_stat_activity`.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use tokio_postgres::Row;

use super::conn::Conn;
use crate::domain::{DbSession, DbSnapshot, SessionState};
use crate::source::{DatabaseSource, SourceError};

/// One statement: max_connections and every client backend but our own,
/// with running time computed by the server (`now() - query_start`, in µs).
/// The LEFT JOIN keeps one row (with a NULL pid) when there is no session.
///
/// A role without pg_read_all_stats sees other roles' sessions with most
/// columns NULL, `backend_type` included: those are kept when they belong to
/// a user and a database (they hold connection slots too) and shown with
/// state `other`, no backend start (the Unix epoch) and the server's
/// `<insufficient privilege>` as query. The executor refuses to signal them,
/// since it cannot pin them by backend start.
pub const SNAPSHOT_SQL: &str = "\
SELECT s.max_connections,
       a.pid,
       a.backend_start,
       a.usename::text AS usename,
       a.application_name,
       CASE WHEN a.client_addr IS NOT NULL THEN host(a.client_addr) || ':' || a.client_port
            WHEN a.client_port = -1 THEN '[local]'
            ELSE '' END AS client,
       a.state,
       a.wait_event_type,
       a.wait_event,
       (extract(epoch FROM now() - a.query_start) * 1000000)::bigint AS running_us,
       a.query,
       pg_blocking_pids(a.pid) AS blocked_by
FROM (SELECT current_setting('max_connections')::int AS max_connections) s
LEFT JOIN pg_stat_activity a
       ON a.pid <> pg_backend_pid()
      AND (a.backend_type = 'client backend'
           OR (a.backend_type IS NULL AND a.datid IS NOT NULL AND a.usesysid IS NOT NULL))
ORDER BY a.query_start NULLS LAST, a.pid";

/// Reads one database's sessions. Label `pg:<name>`.
pub struct PgSource {
    pub(crate) conn: Arc<Conn>,
}

impl PgSource {
    /// The display name (`orders-db`).
    pub fn name(&self) -> &str {
        &self.conn.name
    }

    /// `user@host:port/dbname`: where it connects, without the password.
    pub fn target(&self) -> &str {
        &self.conn.display
    }
}

#[async_trait]
impl DatabaseSource for PgSource {
    fn label(&self) -> String {
        format!("pg:{}", self.conn.name)
    }

    async fn snapshot(&self) -> Result<DbSnapshot, SourceError> {
        let rows = self
            .conn
            .run("reading pg_stat_activity", |c| async move {
                c.query(SNAPSHOT_SQL, &[]).await
            })
            .await?;
        snapshot_from_rows(&self.conn.name, &rows).map_err(|e| {
            SourceError::Other(self.conn.scrub(&format!(
                "{} ({}): unexpected pg_stat_activity row: {e}",
                self.conn.name, self.conn.display
            )))
        })
    }
}

/// pg_stat_activity.state as a [`SessionState`].
pub fn state_of(state: Option<&str>) -> SessionState {
    match state {
        Some("active") => SessionState::Active,
        Some("idle") => SessionState::Idle,
        Some("idle in transaction" | "idle in transaction (aborted)") => {
            SessionState::IdleInTransaction
        }
        _ => SessionState::Other,
    }
}

/// `Lock:transactionid` for lock waits (the kind of lock matters), the bare
/// event name (`ClientRead`, `PgSleep`) otherwise.
pub fn wait_event_of(kind: Option<&str>, event: Option<&str>) -> Option<String> {
    let event = event?;
    Some(match kind {
        Some(k @ ("Lock" | "LWLock")) => format!("{k}:{event}"),
        _ => event.to_string(),
    })
}

fn snapshot_from_rows(name: &str, rows: &[Row]) -> Result<DbSnapshot, tokio_postgres::Error> {
    let mut max_connections = 0;
    let mut sessions = Vec::new();
    for row in rows {
        let max: i32 = row.try_get("max_connections")?;
        max_connections = u32::try_from(max).unwrap_or(0);
        let Some(pid) = row.try_get::<_, Option<i32>>("pid")? else {
            continue;
        };
        let running_us: Option<i64> = row.try_get("running_us")?;
        sessions.push(DbSession {
            pid,
            // NULL when the role may not see the session's details: such a
            // session can never be matched by a re-check, so it is never hit.
            backend_start: row
                .try_get::<_, Option<SystemTime>>("backend_start")?
                .unwrap_or(SystemTime::UNIX_EPOCH),
            user: row
                .try_get::<_, Option<String>>("usename")?
                .unwrap_or_default(),
            application: row
                .try_get::<_, Option<String>>("application_name")?
                .unwrap_or_default(),
            client: row
                .try_get::<_, Option<String>>("client")?
                .unwrap_or_default(),
            state: state_of(row.try_get::<_, Option<&str>>("state")?),
            wait_event: wait_event_of(
                row.try_get::<_, Option<&str>>("wait_event_type")?,
                row.try_get::<_, Option<&str>>("wait_event")?,
            ),
            running: Duration::from_micros(u64::try_from(running_us.unwrap_or(0)).unwrap_or(0)),
            query: row
                .try_get::<_, Option<String>>("query")?
                .unwrap_or_default(),
            blocked_by: row
                .try_get::<_, Option<Vec<i32>>>("blocked_by")?
                .unwrap_or_default(),
        });
    }
    Ok(DbSnapshot {
        name: name.to_string(),
        max_connections,
        sessions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_and_wait_events() {
        assert_eq!(state_of(Some("active")), SessionState::Active);
        assert_eq!(state_of(Some("idle")), SessionState::Idle);
        assert_eq!(
            state_of(Some("idle in transaction (aborted)")),
            SessionState::IdleInTransaction
        );
        assert_eq!(
            state_of(Some("fastpath function call")),
            SessionState::Other
        );
        assert_eq!(state_of(None), SessionState::Other);
        assert_eq!(
            wait_event_of(Some("Lock"), Some("transactionid")).as_deref(),
            Some("Lock:transactionid")
        );
        assert_eq!(
            wait_event_of(Some("Client"), Some("ClientRead")).as_deref(),
            Some("ClientRead")
        );
        assert_eq!(wait_event_of(Some("Client"), None), None);
    }
}
