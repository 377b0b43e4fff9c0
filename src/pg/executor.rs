//! Cancel a query, terminate a session, terminate the sessions a rule picked.
//!
//! Every target is re-checked by the server in the same statement that
//! signals it: the pid must still belong to a session of this database that
//! started at the confirmed `backend_start` (microsecond precision, as PostgreSQL stores it),
//! and for a rule-based terminate the query must still match the rule. A pid
//! reused by a new connection between the confirmation and the run is
//! therefore never signalled.

use std::sync::Arc;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;

use super::conn::Conn;
use super::signal::{Signal, hidden, signal_one};
use crate::domain::{Change, ChangeOutcome, Preview, QueryRule, SessionTarget};
use crate::source::{ChangeExecutor, SourceError};

/// Re-check one target against the rule and, when `$6` is true and it still
/// matches, terminate it, in one statement. The other columns say why a
/// target was skipped.
const RECHECK_SQL: &str = "\
SELECT a.backend_start, a.state, a.running_us, a.usename, a.application_name,
       CASE WHEN $6::bool
             AND a.backend_start = $2::timestamptz
             AND a.state = 'active'
             AND a.running_us >= $3::bigint
             AND ($4::text IS NULL OR a.usename = $4::text)
             AND ($5::text IS NULL OR a.application_name = $5::text)
            THEN pg_terminate_backend(a.pid) END AS terminated
FROM (SELECT pid, backend_start, state, usename::text AS usename, application_name,
             (extract(epoch FROM now() - query_start) * 1000000)::bigint AS running_us
      FROM pg_stat_activity
      WHERE pid = $1::int AND pid <> pg_backend_pid() AND datname = current_database()
        AND (backend_type = 'client backend'
             OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL))) a";

/// Whether the current role may signal the given backends, following
/// PostgreSQL's rule: superusers may signal anyone; others may not signal a
/// superuser's backend, and otherwise need the privileges of the backend's
/// role or of `pg_signal_backend`.
const MAY_SIGNAL_SQL: &str = "\
SELECT me.rolsuper AS superuser,
       pg_has_role(current_user, 'pg_signal_backend', 'USAGE') AS signal_backend,
       current_user::text AS role
FROM pg_roles me WHERE me.rolname = current_user";

const TARGET_ROLES_SQL: &str = "\
SELECT a.pid, a.usename::text AS usename, coalesce(r.rolsuper, false) AS superuser,
       coalesce(pg_has_role(current_user, a.usesysid, 'USAGE'), false) AS own,
       a.backend_start IS NOT NULL AS visible
FROM pg_stat_activity a LEFT JOIN pg_roles r ON r.oid = a.usesysid
WHERE a.pid = ANY($1::int[])";

/// Runs database actions on one PostgreSQL database.
pub struct PgExecutor {
    pub(crate) conn: Arc<Conn>,
}

/// What the re-check found for one target.
enum Verdict {
    Terminated {
        user: String,
        application: String,
    },
    Gone,
    Reused(SystemTime),
    /// The role may not see the session's backend start, so it cannot be pinned.
    Hidden,
    NoLongerMatches,
    /// pg_terminate_backend returned false (the server printed a warning).
    NotSignalled,
    WouldTerminate,
}

fn micros(d: Duration) -> i64 {
    i64::try_from(d.as_micros()).unwrap_or(i64::MAX)
}

impl PgExecutor {
    fn check_database(&self, database: &str) -> Result<(), SourceError> {
        if database == self.conn.name {
            Ok(())
        } else {
            Err(SourceError::NotFound(format!(
                "database {database} (this executor runs actions on {})",
                self.conn.name
            )))
        }
    }

    async fn recheck(
        &self,
        target: &SessionTarget,
        rule: &QueryRule,
        kill: bool,
    ) -> Result<Verdict, SourceError> {
        let older = micros(rule.older_than);
        let rows = self
            .conn
            .run(&format!("re-checking pid {}", target.pid), |c| async move {
                c.query(
                    RECHECK_SQL,
                    &[
                        &target.pid,
                        &target.backend_start,
                        &older,
                        &rule.user,
                        &rule.application,
                        &kill,
                    ],
                )
                .await
            })
            .await?;
        let Some(row) = rows.first() else {
            return Ok(Verdict::Gone);
        };
        let get = |e: tokio_postgres::Error| {
            SourceError::Other(format!("pid {}: unexpected row: {e}", target.pid))
        };
        let started: Option<SystemTime> = row.try_get("backend_start").map_err(get)?;
        let terminated: Option<bool> = row.try_get("terminated").map_err(get)?;
        let user: Option<String> = row.try_get("usename").map_err(get)?;
        let application: Option<String> = row.try_get("application_name").map_err(get)?;
        Ok(match (terminated, started) {
            (Some(true), _) => Verdict::Terminated {
                user: user.unwrap_or_default(),
                application: application.unwrap_or_default(),
            },
            (Some(false), _) => Verdict::NotSignalled,
            (None, None) => Verdict::Hidden,
            (None, Some(s)) if s != target.backend_start => Verdict::Reused(s),
            (None, Some(_)) => {
                let state: Option<String> = row.try_get("state").map_err(get)?;
                let running: Option<i64> = row.try_get("running_us").map_err(get)?;
                let matches = state.as_deref() == Some("active")
                    && running.is_some_and(|r| r >= older)
                    && rule.user.as_ref().is_none_or(|u| Some(u) == user.as_ref())
                    && rule
                        .application
                        .as_ref()
                        .is_none_or(|a| Some(a) == application.as_ref());
                if matches && !kill {
                    Verdict::WouldTerminate
                } else {
                    Verdict::NoLongerMatches
                }
            }
        })
    }

    async fn terminate_queries(
        &self,
        database: &str,
        rule: &QueryRule,
        sessions: &[SessionTarget],
    ) -> Result<ChangeOutcome, SourceError> {
        self.check_database(database)?;
        // Fail as a whole when the server cannot be reached at all.
        self.conn.client().await?;
        let mut details = Vec::new();
        let mut done = 0;
        let mut failed = 0;
        for target in sessions {
            let pid = target.pid;
            match self.recheck(target, rule, true).await {
                Ok(Verdict::Terminated { user, application }) => {
                    done += 1;
                    details.push(format!("pid {pid}: terminated ({user} {application})"));
                }
                Ok(Verdict::Gone) => {
                    details.push(format!("pid {pid}: skipped: no longer connected"))
                }
                Ok(Verdict::Reused(started)) => details.push(format!(
                    "pid {pid}: skipped: pid now belongs to another session (backend started {})",
                    humantime::format_rfc3339_seconds(started)
                )),
                Ok(Verdict::NoLongerMatches | Verdict::WouldTerminate) => {
                    details.push(format!("pid {pid}: skipped: no longer matches {rule}"))
                }
                Ok(Verdict::Hidden) => {
                    failed += 1;
                    details.push(format!(
                        "pid {pid}: failed: forbidden: {}",
                        hidden(&self.conn.name, pid)
                    ));
                }
                Ok(Verdict::NotSignalled) => {
                    failed += 1;
                    details.push(format!("pid {pid}: failed: the server could not signal it"));
                }
                Err(e) => {
                    failed += 1;
                    details.push(format!("pid {pid}: failed: {e}"));
                }
            }
        }
        let mut summary = format!(
            "terminated {done} of {} sessions on {database}",
            sessions.len()
        );
        if failed > 0 {
            summary.push_str(&format!(" ({failed} failed)"));
        }
        tracing::info!(
            database,
            done,
            failed,
            total = sessions.len(),
            "terminate_queries"
        );
        Ok(ChangeOutcome { summary, details })
    }

    /// Why the current role may not signal these pids, if it may not.
    async fn may_signal(&self, pids: Vec<i32>) -> Result<(), String> {
        let me = self
            .conn
            .run("checking the role's privileges", |c| async move {
                c.query_one(MAY_SIGNAL_SQL, &[]).await
            })
            .await
            .map_err(|e| e.to_string())?;
        let superuser: bool = me.try_get("superuser").map_err(|e| e.to_string())?;
        let signal_backend: bool = me.try_get("signal_backend").map_err(|e| e.to_string())?;
        let role: String = me.try_get("role").map_err(|e| e.to_string())?;
        if superuser {
            return Ok(());
        }
        let rows = self
            .conn
            .run("checking the sessions' roles", |c| async move {
                c.query(TARGET_ROLES_SQL, &[&pids]).await
            })
            .await
            .map_err(|e| e.to_string())?;
        let mut refused = Vec::new();
        for row in rows {
            let pid: i32 = row.try_get("pid").map_err(|e| e.to_string())?;
            let owner: Option<String> = row.try_get("usename").map_err(|e| e.to_string())?;
            let owner = owner.unwrap_or_else(|| "?".into());
            let target_super: bool = row.try_get("superuser").map_err(|e| e.to_string())?;
            let own: bool = row.try_get("own").map_err(|e| e.to_string())?;
            let visible: bool = row.try_get("visible").map_err(|e| e.to_string())?;
            if target_super {
                refused.push(format!("pid {pid} belongs to superuser {owner}"));
            } else if !own && !signal_backend {
                refused.push(format!("pid {pid} belongs to role {owner}"));
            } else if !visible {
                refused.push(format!(
                    "pid {pid}'s backend start is hidden (grant pg_read_all_stats)"
                ));
            }
        }
        if refused.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "role {role} on {} may not signal these sessions ({}): it needs to be a superuser \
                 or a member of pg_signal_backend and pg_read_all_stats (on RDS/Aurora: \
                 rds_superuser has both); only superusers may signal a superuser's session",
                self.conn.name,
                refused.join(", ")
            ))
        }
    }
}

#[async_trait]
impl ChangeExecutor for PgExecutor {
    fn context(&self, _request: &Change) -> Option<String> {
        Some(format!("pg:{}", self.conn.name))
    }

    async fn execute(&self, request: &Change) -> Result<ChangeOutcome, SourceError> {
        match request {
            Change::CancelQuery { database, session } => {
                self.check_database(database)?;
                signal_one(&self.conn, session, Signal::Cancel, false).await
            }
            Change::TerminateSession { database, session } => {
                self.check_database(database)?;
                signal_one(&self.conn, session, Signal::Terminate, false).await
            }
            Change::TerminateQueries {
                database,
                rule,
                sessions,
            } => self.terminate_queries(database, rule, sessions).await,
            other => Err(SourceError::Blocked(format!(
                "{} is not a database action: the PostgreSQL backend cannot run it",
                other.describe()
            ))),
        }
    }

    /// For one session: whether it is still there and, for a cancel, running
    /// a query. For a rule-based terminate: which targets still match.
    async fn preview(&self, request: &Change) -> Result<Option<Preview>, SourceError> {
        let (database, rule, sessions) = match request {
            Change::CancelQuery { database, session } => {
                self.check_database(database)?;
                let dry = signal_one(&self.conn, session, Signal::Cancel, true).await?;
                return Ok(Some(Preview::says(dry.summary)));
            }
            Change::TerminateSession { database, session } => {
                self.check_database(database)?;
                let dry = signal_one(&self.conn, session, Signal::Terminate, true).await?;
                return Ok(Some(Preview::says(dry.summary)));
            }
            Change::TerminateQueries {
                database,
                rule,
                sessions,
            } => (database, rule, sessions),
            _ => return Ok(None),
        };
        self.check_database(database)?;
        let mut would = Vec::new();
        let mut skipped = Vec::new();
        for target in sessions {
            match self.recheck(target, rule, false).await? {
                Verdict::WouldTerminate => would.push(target.pid.to_string()),
                Verdict::Gone => skipped.push(format!("pid {} is gone", target.pid)),
                Verdict::Reused(_) => {
                    skipped.push(format!("pid {} belongs to another session", target.pid))
                }
                Verdict::Hidden => skipped.push(format!(
                    "pid {}'s details are hidden from this role",
                    target.pid
                )),
                _ => skipped.push(format!("pid {} no longer matches", target.pid)),
            }
        }
        let mut text = format!(
            "would terminate {} of {} sessions on {database}",
            would.len(),
            sessions.len()
        );
        if !would.is_empty() {
            text.push_str(&format!(" (pid {})", would.join(", ")));
        }
        if !skipped.is_empty() {
            text.push_str(&format!("; {}", skipped.join("; ")));
        }
        Ok(Some(Preview::says(text)))
    }

    async fn allowed(&self, request: &Change) -> Result<(), String> {
        let pids = match request {
            Change::CancelQuery { database, session }
            | Change::TerminateSession { database, session } => {
                self.check_database(database).map_err(|e| e.to_string())?;
                vec![session.pid]
            }
            Change::TerminateQueries {
                database, sessions, ..
            } => {
                self.check_database(database).map_err(|e| e.to_string())?;
                sessions.iter().map(|s| s.pid).collect()
            }
            other => {
                return Err(format!(
                    "{} is not a database action: the PostgreSQL backend cannot run it",
                    other.describe()
                ));
            }
        };
        self.may_signal(pids).await
    }
}
