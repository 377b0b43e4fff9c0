//! Cancel one session's query or terminate the session, or say what that
//! would do (the confirmation's dry run), with the session re-checked by the
//! server in the same statement.
//!
//! `pg_cancel_backend` returns true for an idle session too, where it does
//! nothing (there is no query to cancel): a cancel is therefore refused,
//! before and at run time, unless the session is running something.

use std::time::Duration;

use super::conn::Conn;
use crate::domain::{ChangeOutcome, SessionTarget};
use crate::source::SourceError;

/// One session of this database, if `(pid, backend_start)` still names it:
/// its backend start (NULL when the role may not see the session's
/// details: another role's session without pg_read_all_stats), whether it
/// is the confirmed one, its state and running time, and, unless `$4` asks
/// for a dry run, the signal's result. A cancel is sent only to a session
/// that is not idle.
const SIGNAL_ONE_SQL: &str = "\
SELECT backend_start IS NOT NULL AS visible,
       coalesce(backend_start = $2::timestamptz, false) AS same,
       state,
       (extract(epoch FROM now() - query_start) * 1000000)::bigint AS running_us,
       CASE WHEN backend_start = $2::timestamptz
             AND NOT $4::bool
             AND ($3::bool OR coalesce(state, '') NOT IN ('idle', 'idle in transaction',
                                                        'idle in transaction (aborted)'))
            THEN CASE WHEN $3::bool THEN pg_terminate_backend(pid) ELSE pg_cancel_backend(pid) END
       END AS signalled
FROM pg_stat_activity
WHERE pid = $1::int AND pid <> pg_backend_pid() AND datname = current_database()
  AND (backend_type = 'client backend'
       OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL))";

/// Cancel the query or terminate the session.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Signal {
    Cancel,
    Terminate,
}

/// Whether a session in this pg_stat_activity state has no query running.
fn idle(state: Option<&str>) -> bool {
    matches!(
        state,
        Some("idle" | "idle in transaction" | "idle in transaction (aborted)")
    )
}

/// Why a session whose details the role may not see cannot be signalled.
pub(super) fn hidden(database: &str, pid: i32) -> String {
    format!(
        "pid {pid} on {database}: this role cannot see the session's details (backend start), \
         so it cannot make sure the pid still belongs to the confirmed session; \
         it needs the privileges of the session's role, or pg_read_all_stats"
    )
}

/// Send `signal` to the session on `conn`'s database (`dry`: only say what
/// it would do).
pub(super) async fn signal_one(
    conn: &Conn,
    session: &SessionTarget,
    signal: Signal,
    dry: bool,
) -> Result<ChangeOutcome, SourceError> {
    let database = conn.name.as_str();
    let pid = session.pid;
    let terminate = signal == Signal::Terminate;
    let what = match (signal, dry) {
        (Signal::Terminate, false) => format!("terminating pid {pid}"),
        (Signal::Cancel, false) => format!("cancelling the query of pid {pid}"),
        (_, true) => format!("checking pid {pid}"),
    };
    let rows = conn
        .run(&what, |c| async move {
            c.query(
                SIGNAL_ONE_SQL,
                &[&pid, &session.backend_start, &terminate, &dry],
            )
            .await
        })
        .await?;
    let gone = || {
        SourceError::NotFound(format!(
            "pid {pid} on {database}: no such session (it ended, or the pid now belongs to another session)"
        ))
    };
    let Some(row) = rows.first() else {
        return Err(gone());
    };
    let get = |e: tokio_postgres::Error| SourceError::Other(format!("pid {pid}: {e}"));
    let visible: bool = row.try_get("visible").map_err(get)?;
    let same: bool = row.try_get("same").map_err(get)?;
    let state: Option<String> = row.try_get("state").map_err(get)?;
    let running_us: Option<i64> = row.try_get("running_us").map_err(get)?;
    let signalled: Option<bool> = row.try_get("signalled").map_err(get)?;
    if !visible {
        return Err(SourceError::Forbidden(hidden(database, pid)));
    }
    if !same {
        return Err(gone());
    }
    let state = state.as_deref();
    if signal == Signal::Cancel && idle(state) {
        return Err(SourceError::Blocked(crate::domain::nothing_to_cancel(
            database,
            pid,
            state.unwrap_or("idle"),
        )));
    }
    if dry {
        let running = crate::fmt::duration_short(Duration::from_micros(
            running_us.and_then(|r| u64::try_from(r).ok()).unwrap_or(0),
        ));
        let state = state.unwrap_or("state unknown");
        return Ok(ChangeOutcome {
            summary: match signal {
                Signal::Cancel => format!(
                    "would cancel the query of pid {pid} on {database} ({state} for {running})"
                ),
                Signal::Terminate => {
                    format!("would terminate pid {pid} on {database} ({state})")
                }
            },
            details: Vec::new(),
        });
    }
    match signalled {
        Some(true) => {}
        Some(false) => {
            return Err(SourceError::Other(format!(
                "pid {pid} on {database}: the server could not signal it"
            )));
        }
        None => return Err(gone()),
    }
    tracing::info!(database, pid, terminate, "signalled a postgres backend");
    Ok(if terminate {
        ChangeOutcome {
            summary: format!("terminated pid {pid} on {database}"),
            details: vec![format!("pid {pid}: terminated")],
        }
    } else {
        ChangeOutcome {
            summary: format!("cancelled the query of pid {pid} on {database}"),
            details: vec![format!("pid {pid}: cancelled")],
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn idle_states_have_no_query_to_cancel() {
        for s in [
            "idle",
            "idle in transaction",
            "idle in transaction (aborted)",
        ] {
            assert!(idle(Some(s)), "{s}");
        }
        for s in ["active", "fastpath function call", "disabled"] {
            assert!(!idle(Some(s)), "{s}");
        }
        assert!(!idle(None));
    }
}
