//! One connection per database, shared by the source and the executor (a
//! console that uses a single slot is what you want during connection
//! exhaustion), re-established on the next call after it fails.
//!
//! Every call is bounded by the options' timeout ([`super::QUERY_TIMEOUT`] unless
//! set), connecting included, so a hung database is reported within it. A
//! connection that timed out is not kept waiting: its query is cancelled on
//! the server and its socket closed, and the next call connects afresh.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio::task::AbortHandle;
use tokio::time::Instant;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::config::{PgOptions, Redactor, resolve};
use crate::source::SourceError;

pub(crate) struct Conn {
    /// Display name (`orders-db`).
    pub name: String,
    /// `user@host:port/dbname`, no password.
    pub display: String,
    config: Config,
    tls: MakeRustlsConnect,
    redactor: Redactor,
    timeout: Duration,
    client: Mutex<Option<Open>>,
}

/// A connected client and the task driving its socket.
struct Open {
    client: Arc<Client>,
    task: AbortHandle,
}

impl Conn {
    /// Parse the options and set up TLS; does not connect.
    pub fn new(opts: &PgOptions) -> Result<Self, SourceError> {
        let r = resolve(opts).map_err(SourceError::Other)?;
        let tls = super::tls::connector(r.ssl, &r.roots, r.explicit_roots).map_err(|e| {
            SourceError::Other(
                r.redactor
                    .scrub(&format!("{} ({}): {e}", opts.name, r.display)),
            )
        })?;
        Ok(Self {
            name: opts.name.clone(),
            display: r.display,
            config: r.config,
            tls,
            redactor: r.redactor,
            timeout: opts.timeout,
            client: Mutex::new(None),
        })
    }

    /// The open client, connecting first when there is none or it closed;
    /// within the timeout.
    pub async fn client(&self) -> Result<Arc<Client>, SourceError> {
        self.client_by(Instant::now() + self.timeout).await
    }

    async fn client_by(&self, deadline: Instant) -> Result<Arc<Client>, SourceError> {
        match tokio::time::timeout_at(deadline, self.open()).await {
            Ok(result) => result,
            Err(_) => Err(self.no_answer("cannot connect")),
        }
    }

    async fn open(&self) -> Result<Arc<Client>, SourceError> {
        let mut slot = self.client.lock().await;
        if let Some(open) = slot.as_ref().filter(|o| !o.client.is_closed()) {
            return Ok(open.client.clone());
        }
        if let Some(old) = slot.take() {
            old.task.abort();
        }
        let (client, connection) = self
            .config
            .connect(self.tls.clone())
            .await
            .map_err(|e| self.error("cannot connect", &e))?;
        let name = self.name.clone();
        let redactor = self.redactor.clone();
        let task = tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::warn!(
                    database = %name,
                    error = %redactor.scrub(&e.to_string()),
                    "postgres connection closed"
                );
            }
        });
        tracing::info!(database = %self.name, target = %self.display, "connected to postgres");
        let client = Arc::new(client);
        *slot = Some(Open {
            client: client.clone(),
            task: task.abort_handle(),
        });
        Ok(client)
    }

    /// Forget a client that failed, so the next call reconnects, and close
    /// its socket.
    pub async fn reset(&self, failed: &Arc<Client>) {
        let mut slot = self.client.lock().await;
        if slot
            .as_ref()
            .is_some_and(|o| Arc::ptr_eq(&o.client, failed))
        {
            if let Some(old) = slot.take() {
                old.task.abort();
            }
        }
    }

    /// Give up on a client whose query did not answer in time: ask the
    /// server to cancel what it runs (in the background, within the
    /// timeout), then close it.
    async fn give_up(&self, hung: &Arc<Client>) {
        let token = hung.cancel_token();
        let tls = self.tls.clone();
        let timeout = self.timeout;
        let name = self.name.clone();
        let redactor = self.redactor.clone();
        tokio::spawn(async move {
            let outcome = tokio::time::timeout(timeout, token.cancel_query(tls)).await;
            if let Ok(Err(e)) = outcome {
                tracing::warn!(
                    database = %name,
                    error = %redactor.scrub(&e.to_string()),
                    "could not cancel a query that timed out"
                );
            }
        });
        self.reset(hung).await;
    }

    /// Run `f` with the client; connecting (when needed) and `f` together
    /// get the timeout. Connection failures and timeouts drop the client
    /// (the next call reconnects).
    pub async fn run<T, F, Fut>(&self, what: &str, f: F) -> Result<T, SourceError>
    where
        F: FnOnce(Arc<Client>) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        let deadline = Instant::now() + self.timeout;
        let client = self.client_by(deadline).await?;
        match tokio::time::timeout_at(deadline, f(client.clone())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if e.as_db_error().is_none() || client.is_closed() {
                    self.reset(&client).await;
                }
                Err(self.error(what, &e))
            }
            Err(_) => {
                self.give_up(&client).await;
                Err(self.no_answer(what))
            }
        }
    }

    fn no_answer(&self, what: &str) -> SourceError {
        SourceError::Unreachable(format!(
            "{} ({}): {what}: no answer within {}",
            self.name,
            self.display,
            humantime::format_duration(self.timeout)
        ))
    }

    /// A tokio-postgres error as a [`SourceError`], with context and no password.
    pub fn error(&self, what: &str, e: &tokio_postgres::Error) -> SourceError {
        let text = self.redactor.scrub(&format!(
            "{} ({}): {what}: {}",
            self.name,
            self.display,
            describe(e)
        ));
        classify(e, text)
    }
}

/// The error's text: the server's message (with detail and hint) or the
/// client-side cause chain.
pub(crate) fn describe(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        let mut s = db.message().to_string();
        if let Some(d) = db.detail() {
            s.push_str(&format!(" ({d})"));
        }
        if let Some(h) = db.hint() {
            s.push_str(&format!("; hint: {h}"));
        }
        return s;
    }
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        let c = cause.to_string();
        if !s.contains(&c) {
            s.push_str(": ");
            s.push_str(&c);
        }
        source = cause.source();
    }
    if s.contains("UnknownIssuer") {
        s.push_str(
            " (the server's certificate is not signed by a trusted root: set sslrootcert \
             to its CA's PEM file; for RDS/Aurora, AWS's global-bundle.pem)",
        );
    }
    if e.is_closed() && !s.contains("closed") {
        s.push_str(" (connection closed)");
    }
    s
}

fn classify(e: &tokio_postgres::Error, text: String) -> SourceError {
    let Some(db) = e.as_db_error() else {
        return SourceError::Unreachable(text);
    };
    let code = db.code();
    if *code == SqlState::INVALID_PASSWORD
        || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        || *code == SqlState::INSUFFICIENT_PRIVILEGE
    {
        SourceError::Forbidden(text)
    } else if *code == SqlState::INVALID_CATALOG_NAME {
        SourceError::NotFound(text)
    } else if code.code().starts_with("08")
        || code.code().starts_with("57P")
        || *code == SqlState::TOO_MANY_CONNECTIONS
    {
        // Connection exceptions, admin shutdown / crash / cannot connect now,
        // and no free connection slot.
        SourceError::Unreachable(text)
    } else {
        SourceError::Other(text)
    }
}
