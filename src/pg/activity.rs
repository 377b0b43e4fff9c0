//! pg_stat_activity rows as [`DbSession`]s.
//!
//! The text in pg_stat_activity is whatever bytes each backend was sent: a
//! session of a `SQL_ASCII` database can put any byte in its query, and a
//! UTF-8 database passes it on unchecked (tokio-postgres's `String` then
//! fails the row). So every text column is read as bytes and decoded
//! lossily (an invalid sequence becomes U+FFFD), and a row that still cannot
//! be read is skipped and counted: one odd session never blanks a whole
//! database's picture.

use std::time::{Duration, SystemTime};

use tokio_postgres::Row;

use crate::domain::{DbSession, DbSnapshot, SessionState};

/// One pg_stat_activity row as it came off the wire, text columns as raw
/// bytes (NULL as `None`). [`session_of`] turns it into a [`DbSession`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ActivityRow<'a> {
    pub pid: i32,
    /// NULL when the role may not see the session's details.
    pub backend_start: Option<SystemTime>,
    pub usename: Option<&'a [u8]>,
    pub application_name: Option<&'a [u8]>,
    pub client: Option<&'a [u8]>,
    pub state: Option<&'a [u8]>,
    pub wait_event_type: Option<&'a [u8]>,
    pub wait_event: Option<&'a [u8]>,
    /// `now() - query_start` in microseconds, computed by the server.
    pub running_us: Option<i64>,
    pub query: Option<&'a [u8]>,
    pub blocked_by: Option<Vec<i32>>,
}

/// The session a row describes. Never fails: text is decoded lossily.
pub fn session_of(row: &ActivityRow<'_>) -> DbSession {
    let state = row.state.map(|s| lossy(Some(s)));
    let kind = row.wait_event_type.map(|k| lossy(Some(k)));
    let event = row.wait_event.map(|e| lossy(Some(e)));
    DbSession {
        pid: row.pid,
        // NULL when the role may not see the session's details: such a
        // session can never be matched by a re-check, so it is never hit.
        backend_start: row.backend_start.unwrap_or(SystemTime::UNIX_EPOCH),
        user: lossy(row.usename),
        application: lossy(row.application_name),
        client: lossy(row.client),
        state: state_of(state.as_deref()),
        wait_event: wait_event_of(kind.as_deref(), event.as_deref()),
        running: Duration::from_micros(u64::try_from(row.running_us.unwrap_or(0)).unwrap_or(0)),
        query: lossy(row.query),
        blocked_by: row.blocked_by.clone().unwrap_or_default(),
    }
}

/// Text bytes as a `String`: valid UTF-8 exactly, each invalid sequence as
/// U+FFFD, NULL as empty.
pub fn lossy(bytes: Option<&[u8]>) -> String {
    bytes
        .map(|b| String::from_utf8_lossy(b).into_owned())
        .unwrap_or_default()
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

/// A text column, sent as bytea by [`super::SNAPSHOT_SQL`].
fn text<'a>(row: &'a Row, column: &str) -> Result<Option<&'a [u8]>, tokio_postgres::Error> {
    row.try_get(column)
}

/// Read one row of [`super::SNAPSHOT_SQL`]: `None` for the row the LEFT JOIN
/// keeps when the database has no other session.
fn activity_row(row: &Row) -> Result<Option<ActivityRow<'_>>, tokio_postgres::Error> {
    let Some(pid) = row.try_get::<_, Option<i32>>("pid")? else {
        return Ok(None);
    };
    Ok(Some(ActivityRow {
        pid,
        backend_start: row.try_get("backend_start")?,
        usename: text(row, "usename")?,
        application_name: text(row, "application_name")?,
        client: text(row, "client")?,
        state: text(row, "state")?,
        wait_event_type: text(row, "wait_event_type")?,
        wait_event: text(row, "wait_event")?,
        running_us: row.try_get("running_us")?,
        query: text(row, "query")?,
        blocked_by: row.try_get("blocked_by")?,
    }))
}

/// What every row repeats about the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Server {
    max_connections: u32,
    other_databases: u32,
}

fn server_row(row: &Row) -> Result<Server, tokio_postgres::Error> {
    let count = |column: &str| -> Result<u32, tokio_postgres::Error> {
        let n: i32 = row.try_get(column)?;
        Ok(u32::try_from(n).unwrap_or(0))
    };
    Ok(Server {
        max_connections: count("max_connections")?,
        other_databases: count("other_databases")?,
    })
}

/// A snapshot from the rows of [`super::SNAPSHOT_SQL`].
pub(crate) fn snapshot_from_rows(name: &str, rows: &[Row]) -> DbSnapshot {
    collect(
        name,
        rows.iter().map(|row| -> Result<_, tokio_postgres::Error> {
            Ok((server_row(row)?, activity_row(row)?))
        }),
    )
}

/// A snapshot from rows read one by one: a row that could not be read is
/// logged, skipped and counted in [`DbSnapshot::unreadable`].
fn collect<'a, E: std::fmt::Display>(
    name: &str,
    rows: impl Iterator<Item = Result<(Server, Option<ActivityRow<'a>>), E>>,
) -> DbSnapshot {
    let mut snapshot = DbSnapshot {
        name: name.to_string(),
        max_connections: 0,
        sessions: Vec::new(),
        unreadable: 0,
        other_databases: 0,
    };
    for row in rows {
        match row {
            Ok((server, session)) => {
                snapshot.max_connections = server.max_connections;
                snapshot.other_databases = server.other_databases;
                snapshot.sessions.extend(session.as_ref().map(session_of));
            }
            Err(e) => {
                snapshot.unreadable += 1;
                tracing::warn!(database = %name, error = %e, "skipped an unreadable pg_stat_activity row");
            }
        }
    }
    snapshot
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

    #[test]
    fn a_latin1_byte_in_the_query_becomes_a_replacement_character() {
        let row = ActivityRow {
            pid: 7,
            state: Some(b"active"),
            wait_event_type: Some(b"Timeout"),
            wait_event: Some(b"PgSleep"),
            running_us: Some(2_500_000),
            query: Some(b"select pg_sleep(120) /* caf\xe9 */"),
            ..ActivityRow::default()
        };
        let s = session_of(&row);
        assert_eq!(s.query, "select pg_sleep(120) /* caf\u{FFFD} */");
        assert_eq!(s.state, SessionState::Active);
        assert_eq!(s.wait_event.as_deref(), Some("PgSleep"));
        assert_eq!(s.running, Duration::from_millis(2500));
        assert_eq!(s.backend_start, SystemTime::UNIX_EPOCH);
        assert_eq!(s.user, "");
    }

    #[test]
    fn an_unreadable_row_is_skipped_and_counted() {
        let row = |pid| ActivityRow {
            pid,
            state: Some(b"idle".as_slice()),
            ..ActivityRow::default()
        };
        let server = Server {
            max_connections: 100,
            other_databases: 5,
        };
        let rows: Vec<Result<(Server, Option<ActivityRow>), String>> = vec![
            Ok((server, Some(row(1)))),
            Err("error deserializing column 10".into()),
            Ok((server, Some(row(3)))),
        ];
        let s = collect("orders-db", rows.into_iter());
        assert_eq!(s.max_connections, 100);
        assert_eq!(s.unreadable, 1);
        assert_eq!(
            s.sessions.iter().map(|x| x.pid).collect::<Vec<_>>(),
            vec![1, 3]
        );
        assert_eq!(s.other_databases, 5);
        assert_eq!(s.connections(), 8);

        // The row the LEFT JOIN keeps for a database with no other session.
        let server = Server {
            max_connections: 40,
            other_databases: 0,
        };
        let empty: Vec<Result<_, String>> = vec![Ok((server, None))];
        let s = collect("orders-db", empty.into_iter());
        assert_eq!(
            (s.max_connections, s.sessions.len(), s.unreadable),
            (40, 0, 0)
        );
    }
}
