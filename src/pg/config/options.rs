//! How a source connects to one database ([`PgOptions`]), resolved into a
//! tokio-postgres configuration with the environment's defaults under the
//! connection string's parameters.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::conninfo::parse_conninfo;
use super::redact::{Redactor, redacted};
use super::sslmode::{RootCerts, SslMode};

/// How a source connects to one database.
#[derive(Clone, PartialEq, Eq)]
pub struct PgOptions {
    /// Display name (`orders-db`): the database's name in runbooks, actions
    /// and the status bar (`pg:orders-db`).
    pub name: String,
    /// `postgres://user:password@host:port/dbname?sslmode=require` or
    /// `host=... port=... user=...`. Parameters given here win over `env`.
    pub url: Option<String>,
    /// Defaults from the `PG*` environment variables, as libpq parameters
    /// (`host`, `port`, `user`, `password`, ...): used for whatever `url`
    /// does not set, as libpq does.
    pub env: Vec<(String, String)>,
    /// How long one call may take, connecting included, before the
    /// database is reported unreachable and the connection dropped (the
    /// next call reconnects). [`QUERY_TIMEOUT`] unless set.
    pub timeout: Duration,
}

/// How long one call to a database (a snapshot, one step of an action) may
/// take, connecting included: one hung database is reported within this
/// time and never holds up the poll for long.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(10);

impl fmt::Debug for PgOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let env: Vec<String> = self
            .env
            .iter()
            .map(|(k, v)| {
                if k == "password" {
                    format!("{k}=***")
                } else {
                    format!("{k}={v}")
                }
            })
            .collect();
        f.debug_struct("PgOptions")
            .field("name", &self.name)
            .field("url", &self.url.as_deref().map(redacted))
            .field("env", &env)
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// The `PG*` variables read by [`PgOptions::from_env`], and the libpq
/// parameter each one sets.
pub const ENV_VARS: [(&str, &str); 9] = [
    ("PGHOST", "host"),
    ("PGHOSTADDR", "hostaddr"),
    ("PGPORT", "port"),
    ("PGUSER", "user"),
    ("PGPASSWORD", "password"),
    ("PGDATABASE", "dbname"),
    ("PGSSLMODE", "sslmode"),
    ("PGSSLROOTCERT", "sslrootcert"),
    ("PGAPPNAME", "application_name"),
];

impl PgOptions {
    /// Options from an explicit connection string only.
    pub fn new(name: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            url: Some(url.into()),
            env: Vec::new(),
            timeout: QUERY_TIMEOUT,
        }
    }

    /// Options from the process environment (`PGHOST`, `PGPORT`, `PGUSER`,
    /// `PGPASSWORD`, `PGDATABASE`, `PGSSLMODE`, `PGSSLROOTCERT`, `PGAPPNAME`).
    pub fn from_env(name: impl Into<String>) -> Self {
        Self::from_vars(name, |k| std::env::var(k).ok())
    }

    /// Like [`PgOptions::from_env`], with the variables looked up by `var`
    /// (tests pass a map instead of changing the process environment).
    pub fn from_vars(name: impl Into<String>, var: impl Fn(&str) -> Option<String>) -> Self {
        let env = ENV_VARS
            .iter()
            .filter_map(|(var_name, key)| {
                var(var_name)
                    .filter(|v| !v.is_empty())
                    .map(|v| ((*key).to_string(), v))
            })
            .collect();
        Self {
            name: name.into(),
            url: None,
            env,
            timeout: QUERY_TIMEOUT,
        }
    }

    /// The same options with a connection string on top of the environment defaults.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The same options with another bound on each call (see [`PgOptions::timeout`]).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The connection string with its password masked, for messages.
    pub fn redacted_url(&self) -> String {
        self.url.as_deref().map(redacted).unwrap_or_default()
    }
}

/// Everything needed to open a connection, with the password kept inside.
pub struct Resolved {
    pub config: tokio_postgres::Config,
    pub ssl: SslMode,
    pub roots: RootCerts,
    /// Whether `sslrootcert` was given (then `require` verifies like `verify-ca`).
    pub explicit_roots: bool,
    /// `user@host:port/dbname`: safe to show.
    pub display: String,
    pub redactor: Redactor,
}

/// Default connect timeout when the connection string sets none.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Parse the options into a connection configuration. Errors name the
/// problem and show only the redacted connection string.
pub fn resolve(opts: &PgOptions) -> Result<Resolved, String> {
    let mut params: Vec<(String, String)> = opts.env.clone();
    if let Some(url) = opts.url.as_deref() {
        let given = parse_conninfo(url).map_err(|e| {
            format!(
                "invalid connection string for {} ({}): {e}",
                opts.name,
                redacted(url)
            )
        })?;
        for (k, v) in given {
            params.retain(|(pk, _)| *pk != k);
            params.push((k, v));
        }
    }
    let password = params
        .iter()
        .find(|(k, _)| k == "password")
        .map(|(_, v)| v.clone());
    let redactor = Redactor::new(password);
    let where_ = match opts.url.as_deref() {
        Some(url) => format!("{} ({})", opts.name, redacted(url)),
        None => format!("{} (from the PG* environment variables)", opts.name),
    };
    let fail =
        |msg: String| redactor.scrub(&format!("invalid connection string for {where_}: {msg}"));

    let mut ssl = SslMode::Prefer;
    let mut roots = RootCerts::System;
    let mut explicit_roots = false;
    let mut fallback_app = None;
    let mut has_app = false;
    let mut kv = String::new();
    for (k, v) in &params {
        match k.as_str() {
            "sslmode" => ssl = v.parse().map_err(fail)?,
            "sslrootcert" => {
                explicit_roots = true;
                roots = if v == "system" {
                    RootCerts::System
                } else {
                    RootCerts::File(PathBuf::from(v))
                };
            }
            "fallback_application_name" => fallback_app = Some(v.clone()),
            "sslsni" => {}
            "client_encoding" if v.eq_ignore_ascii_case("utf8") || v == "UTF-8" => {}
            "sslcert"
            | "sslkey"
            | "sslpassword"
            | "sslcrl"
            | "sslcrldir"
            | "passfile"
            | "service"
            | "gssencmode"
            | "requiressl"
            | "sslcompression"
            | "client_encoding"
            | "krbsrvname"
            | "gsslib"
            | "requirepeer"
            | "replication"
            | "ssl_min_protocol_version"
            | "ssl_max_protocol_version" => {
                return Err(fail(format!("option `{k}` is not supported by opsdeck")));
            }
            _ => {
                if k == "application_name" {
                    has_app = true;
                }
                push_kv(&mut kv, k, v);
            }
        }
    }
    if !has_app {
        push_kv(
            &mut kv,
            "application_name",
            fallback_app.as_deref().unwrap_or("opsdeck"),
        );
    }
    let mut config = tokio_postgres::Config::from_str(&kv).map_err(|e| fail(e.to_string()))?;
    if config.get_hosts().is_empty() && config.get_hostaddrs().is_empty() {
        config.host("localhost");
    }
    if config.get_user().is_none() {
        config.user(whoami::username());
    }
    if config.get_connect_timeout().is_none() {
        config.connect_timeout(DEFAULT_CONNECT_TIMEOUT);
    }
    config.ssl_mode(match ssl {
        SslMode::Disable => tokio_postgres::config::SslMode::Disable,
        SslMode::Prefer => tokio_postgres::config::SslMode::Prefer,
        SslMode::Require | SslMode::VerifyCa | SslMode::VerifyFull => {
            tokio_postgres::config::SslMode::Require
        }
    });
    let display = display_of(&config);
    Ok(Resolved {
        config,
        ssl,
        roots,
        explicit_roots,
        display,
        redactor,
    })
}

/// `user@host:port/dbname` (several hosts comma-separated); never the password.
pub fn display_of(config: &tokio_postgres::Config) -> String {
    use tokio_postgres::config::Host;
    let mut hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            Host::Tcp(name) => name.clone(),
            Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    if hosts.is_empty() {
        hosts = config
            .get_hostaddrs()
            .iter()
            .map(|a| a.to_string())
            .collect();
    }
    let ports = config.get_ports();
    let hosts: Vec<String> = hosts
        .iter()
        .enumerate()
        .map(|(i, h)| {
            let port = ports.get(i).or(ports.first()).copied().unwrap_or(5432);
            if h.contains(':') && !h.starts_with('/') {
                format!("[{h}]:{port}")
            } else {
                format!("{h}:{port}")
            }
        })
        .collect();
    let user = config.get_user().unwrap_or("");
    let db = config.get_dbname().unwrap_or(user);
    format!("{user}@{}/{db}", hosts.join(","))
}

fn push_kv(out: &mut String, key: &str, value: &str) {
    if !out.is_empty() {
        out.push(' ');
    }
    out.push_str(key);
    out.push_str("='");
    for c in value.chars() {
        if c == '\'' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('\'');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_never_shows_the_password() {
        let o = PgOptions::from_vars("orders-db", |k| match k {
            "PGPASSWORD" => Some("hunter2".into()),
            "PGHOST" => Some("db".into()),
            _ => None,
        })
        .with_url("postgres://app:hunter3@h/db");
        let d = format!("{o:?}");
        assert!(!d.contains("hunter"), "{d}");
        assert!(d.contains("orders-db"), "{d}");
    }

    #[test]
    fn env_is_a_default_and_the_url_wins() {
        let o = PgOptions::from_vars("orders-db", |k| match k {
            "PGHOST" => Some("envhost".into()),
            "PGUSER" => Some("envuser".into()),
            "PGPORT" => Some("6000".into()),
            "PGSSLMODE" => Some("verify-full".into()),
            "PGSSLROOTCERT" => Some("/etc/rds/global-bundle.pem".into()),
            "PGAPPNAME" => Some("oncall".into()),
            _ => None,
        });
        let r = match resolve(&o) {
            Ok(r) => r,
            Err(e) => panic!("{e}"),
        };
        assert_eq!(r.display, "envuser@envhost:6000/envuser");
        assert_eq!(r.ssl, SslMode::VerifyFull);
        assert_eq!(
            r.roots,
            RootCerts::File("/etc/rds/global-bundle.pem".into())
        );
        assert_eq!(r.config.get_application_name(), Some("oncall"));

        let o = o.with_url("postgres://urluser@urlhost/orders");
        let Ok(r) = resolve(&o) else { panic!() };
        assert_eq!(r.display, "urluser@urlhost:6000/orders");
        assert_eq!(r.config.get_application_name(), Some("oncall"));
    }

    #[test]
    fn defaults() {
        let Ok(r) = resolve(&PgOptions::new("x", "host=h user=u")) else {
            panic!()
        };
        assert_eq!(r.ssl, SslMode::Prefer);
        assert_eq!(r.config.get_application_name(), Some("opsdeck"));
        assert_eq!(
            r.config.get_connect_timeout(),
            Some(&DEFAULT_CONNECT_TIMEOUT)
        );
        assert_eq!(r.display, "u@h:5432/u");
        assert_eq!(PgOptions::new("x", "host=h").timeout, QUERY_TIMEOUT);
        assert_eq!(PgOptions::from_vars("x", |_| None).timeout, QUERY_TIMEOUT);
        assert_eq!(QUERY_TIMEOUT, Duration::from_secs(10));
    }

    fn err(url: &str) -> String {
        match resolve(&PgOptions::new("orders-db", url)) {
            Ok(_) => panic!("{url} parsed"),
            Err(e) => e,
        }
    }

    #[test]
    fn bad_strings_name_the_problem_and_hide_the_password() {
        let e = err("postgres://app:hunter2@h:notaport/db");
        assert!(e.contains("invalid port \"notaport\""), "{e}");
        assert!(e.contains("orders-db"), "{e}");
        assert!(e.contains("app:***@h"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");

        let e = err("postgres://app:hunter2@h/db?sslmode=verify-everything");
        assert!(e.contains("invalid sslmode \"verify-everything\""), "{e}");
        assert!(!e.contains("hunter2"), "{e}");

        let e = err("host=h password='hunter2 user=app");
        assert!(
            e.contains("unterminated quoted value for \"password\""),
            "{e}"
        );
        assert!(!e.contains("hunter2"), "{e}");

        let e = err("host=h password=hunter2 sslcert=/x.pem");
        assert!(e.contains("`sslcert` is not supported"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");

        let e = err("host=h password=hunter2 bogus=1");
        assert!(e.contains("bogus"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");

        let e = err("mysql://app:hunter2@h/db");
        assert!(e.contains("unsupported URL scheme \"mysql\""), "{e}");
        assert!(!e.contains("hunter2"), "{e}");

        let e = err("db.example.com");
        assert!(e.contains("expected a postgres://"), "{e}");

        let e = err("postgres://app:hunter2@h/db?password=%zz");
        assert!(e.contains("percent-encoding"), "{e}");
        assert!(!e.contains("hunter2"), "{e}");
    }
}
