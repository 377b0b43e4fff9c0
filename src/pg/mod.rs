//! PostgreSQL backend (tokio-postgres): the Database pane's sessions from
//! `pg_stat_activity`, and the runbook's database actions (cancel a query,
//! terminate a session, terminate the queries running longer than a rule
//! allows) with every target re-checked by pid and backend start at run time.
//!
//! ```no_run
//! # async fn demo() -> Result<(), opsdeck::source::SourceError> {
//! use opsdeck::pg::{PgOptions, connect};
//! let opts = PgOptions::from_env("orders-db").with_url("postgres://ops@orders-db.internal/orders?sslmode=verify-full");
//! let (source, executor) = connect(&opts).await?;
//! # Ok(()) }
//! ```
//!
//! The source and the executor share one connection (one slot on a server
//! that is running out of them), re-established on the next call after a
//! failure. Each call, connecting included, gets [`QUERY_TIMEOUT`] (10 s)
//! unless [`PgOptions::with_timeout`] says otherwise: one hung database is
//! reported on its own and its connection replaced on the next poll. The
//! password never appears in labels, errors, logs or outcomes.

mod activity;
mod config;
mod conn;
mod executor;
mod signal;
mod source;
mod tls;

use std::sync::Arc;

pub use activity::{ActivityRow, lossy, session_of, state_of, wait_event_of};
pub use config::{
    ENV_VARS, PgOptions, QUERY_TIMEOUT, RootCerts, SslMode, parse_conninfo, redacted,
};
pub use executor::PgExecutor;
pub use source::{PgSource, SNAPSHOT_SQL};

use crate::source::SourceError;

/// A source and an executor for one database, without connecting yet (the
/// first snapshot connects). Fails only on a bad connection string or TLS
/// set-up (an unreadable `sslrootcert`).
pub fn open(opts: &PgOptions) -> Result<(PgSource, PgExecutor), SourceError> {
    let conn = Arc::new(conn::Conn::new(opts)?);
    Ok((PgSource { conn: conn.clone() }, PgExecutor { conn }))
}

/// Like [`open`], and connect now: an unreachable server, a refused login
/// or a missing database is reported here.
pub async fn connect(opts: &PgOptions) -> Result<(PgSource, PgExecutor), SourceError> {
    let (source, executor) = open(opts)?;
    source.conn.client().await?;
    Ok((source, executor))
}
