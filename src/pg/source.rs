//! The sessions of a PostgreSQL database from `pg_stat_activity`.

use std::sync::Arc;

use async_trait::async_trait;

use super::activity::snapshot_from_rows;
use super::conn::Conn;
use crate::domain::DbSnapshot;
use crate::source::{DatabaseSource, SourceError};

/// One statement: max_connections, the number of connections to the
/// server's other databases, and every client backend of this database but
/// our own (pg_stat_activity is server-wide: two databases of one server
/// would each list every session), with running time computed by the server
/// (`now() - query_start`, in µs). The LEFT JOIN keeps one row (with a NULL
/// pid) when there is no session.
///
/// Text columns come as bytes, decoded lossily here (see
/// [`super::activity`]): pg_stat_activity holds whatever bytes each backend
/// was sent. `textsend` converts them to the client's UTF-8 as reading the
/// text would (a LATIN1 database's `é` arrives right), without failing on a
/// byte that is not UTF-8; a `SQL_ASCII` database is never converted (the
/// server would refuse the whole statement), so its bytes come as they are.
///
/// A role without pg_read_all_stats sees other roles' sessions with most
/// columns NULL, `backend_type` included: those are kept when they belong to
/// a user and a database (they hold connection slots too) and shown with
/// state `other`, no backend start (the Unix epoch) and the server's
/// `<insufficient privilege>` as query. The executor refuses to signal them,
/// since it cannot pin them by backend start.
pub const SNAPSHOT_SQL: &str = "\
SELECT s.max_connections,
       s.other_databases,
       a.pid,
       a.backend_start,
       CASE WHEN s.raw THEN convert_to(a.usename::text, 'SQL_ASCII')
            ELSE textsend(a.usename::text) END AS usename,
       CASE WHEN s.raw THEN convert_to(a.application_name, 'SQL_ASCII')
            ELSE textsend(a.application_name) END AS application_name,
       CASE WHEN s.raw THEN convert_to(a.client, 'SQL_ASCII')
            ELSE textsend(a.client) END AS client,
       CASE WHEN s.raw THEN convert_to(a.state, 'SQL_ASCII')
            ELSE textsend(a.state) END AS state,
       CASE WHEN s.raw THEN convert_to(a.wait_event_type, 'SQL_ASCII')
            ELSE textsend(a.wait_event_type) END AS wait_event_type,
       CASE WHEN s.raw THEN convert_to(a.wait_event, 'SQL_ASCII')
            ELSE textsend(a.wait_event) END AS wait_event,
       a.running_us,
       CASE WHEN s.raw THEN convert_to(a.query, 'SQL_ASCII')
            ELSE textsend(a.query) END AS query,
       a.blocked_by
FROM (SELECT current_setting('max_connections')::int AS max_connections,
             (SELECT count(*) FROM pg_stat_activity
              WHERE datname IS DISTINCT FROM current_database()
                AND (backend_type = 'client backend'
                     OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL))
             )::int AS other_databases,
             current_setting('server_encoding') = 'SQL_ASCII' AS raw) s
LEFT JOIN (SELECT pid, backend_start, usename, application_name,
                  CASE WHEN client_addr IS NOT NULL THEN host(client_addr) || ':' || client_port
                       WHEN client_port = -1 THEN '[local]'
                       ELSE '' END AS client,
                  state, wait_event_type, wait_event, query, query_start,
                  (extract(epoch FROM now() - query_start) * 1000000)::bigint AS running_us,
                  pg_blocking_pids(pid) AS blocked_by
           FROM pg_stat_activity
           WHERE pid <> pg_backend_pid()
             AND datname = current_database()
             AND (backend_type = 'client backend'
                  OR (backend_type IS NULL AND datid IS NOT NULL AND usesysid IS NOT NULL))) a
       ON true
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
        Ok(snapshot_from_rows(&self.conn.name, &rows))
    }
}
