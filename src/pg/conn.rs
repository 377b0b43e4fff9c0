//! One connection per database, shared by the source and the executor (a
//! console that uses a single slot is what you want during connection
//! exhaustion), re-established on the next call after it fails.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;
use tokio_postgres::error::SqlState;
use tokio_postgres::{Client, Config};
use tokio_postgres_rustls::MakeRustlsConnect;

use super::config::{PgOptions, Redactor, resolve};
use crate::source::SourceError;

/// How long one query (or a connection attempt) may take before the
/// connection is given up as unreachable.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(30);

pub(crate) struct Conn {
    /// Display name (`orders-db`).
    pub name: String,
    /// `user@host:port/dbname`, no password.
    pub display: String,
    config: Config,
    tls: MakeRustlsConnect,
    redactor: Redactor,
    client: Mutex<Option<Arc<Client>>>,
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
            client: Mutex::new(None),
        })
    }

    /// The open client, connecting first when there is none or it closed.
    pub async fn client(&self) -> Result<Arc<Client>, SourceError> {
        let mut slot = self.client.lock().await;
        if let Some(c) = slot.as_ref().filter(|c| !c.is_closed()) {
            return Ok(c.clone());
        }
        *slot = None;
        let connecting = self.config.connect(self.tls.clone());
        let (client, connection) = match tokio::time::timeout(QUERY_TIMEOUT, connecting).await {
            Ok(Ok(pair)) => pair,
            Ok(Err(e)) => return Err(self.error("cannot connect", &e)),
            Err(_) => {
                return Err(SourceError::Unreachable(format!(
                    "{} ({}): cannot connect: no answer within {}s",
                    self.name,
                    self.display,
                    QUERY_TIMEOUT.as_secs()
                )));
            }
        };
        let name = self.name.clone();
        let redactor = self.redactor.clone();
        tokio::spawn(async move {
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
        *slot = Some(client.clone());
        Ok(client)
    }

    /// Forget a client that failed, so the next call reconnects.
    pub async fn reset(&self, failed: &Arc<Client>) {
        let mut slot = self.client.lock().await;
        if slot.as_ref().is_some_and(|c| Arc::ptr_eq(c, failed)) {
            *slot = None;
        }
    }

    /// Run `f` with the client, within [`QUERY_TIMEOUT`]; connection
    /// failures and timeouts drop the client (the next call reconnects).
    pub async fn run<T, F, Fut>(&self, what: &str, f: F) -> Result<T, SourceError>
    where
        F: FnOnce(Arc<Client>) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        let client = self.client().await?;
        match tokio::time::timeout(QUERY_TIMEOUT, f(client.clone())).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) => {
                if e.as_db_error().is_none() || client.is_closed() {
                    self.reset(&client).await;
                }
                Err(self.error(what, &e))
            }
            Err(_) => {
                self.reset(&client).await;
                Err(SourceError::Unreachable(format!(
                    "{} ({}): {what}: no answer within {}s",
                    self.name,
                    self.display,
                    QUERY_TIMEOUT.as_secs()
                )))
            }
        }
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
