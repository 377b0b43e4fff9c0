//! Connection options: a `postgres://` URL or a libpq `key=value` string,
//! with the standard `PG*` environment variables as defaults, parsed into a
//! tokio-postgres configuration plus the TLS settings tokio-postgres does not
//! know about (`sslmode=verify-ca|verify-full`, `sslrootcert`).
//!
//! The password never leaves this module in readable form: [`redacted`]
//! masks it in connection strings, [`Redactor::scrub`] masks it in any text
//! (error messages from the server or the TLS stack), and [`PgOptions`]'s
//! `Debug` shows only redacted text.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

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
}

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
        }
    }

    /// The same options with a connection string on top of the environment defaults.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = Some(url.into());
        self
    }

    /// The connection string with its password masked, for messages.
    pub fn redacted_url(&self) -> String {
        self.url.as_deref().map(redacted).unwrap_or_default()
    }
}

/// libpq's `sslmode`. `allow` is treated as `prefer` (TLS if the server
/// offers it); `prefer` and `require` encrypt without checking the
/// certificate (as libpq does, unless `sslrootcert` is given: then `require`
/// checks like `verify-ca`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    /// The certificate chain must lead to a trusted root; the host name is not checked.
    VerifyCa,
    /// Chain and host name are checked.
    VerifyFull,
}

impl SslMode {
    pub fn as_str(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl FromStr for SslMode {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        Ok(match s {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "invalid sslmode {other:?}: expected disable, allow, prefer, require, verify-ca or verify-full"
                ));
            }
        })
    }
}

/// Where trusted roots come from for `verify-ca` / `verify-full`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RootCerts {
    /// The operating system's store (also what `sslrootcert=system` asks for).
    System,
    /// A PEM file (`sslrootcert=/path/global-bundle.pem`, e.g. the RDS bundle).
    File(PathBuf),
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
    let redactor = Redactor { password };
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

/// Masks one password wherever it appears in a text.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    password: Option<String>,
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Redactor(***)")
    }
}

impl Redactor {
    /// The text with every occurrence of the password replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        match self.password.as_deref() {
            Some(p) if !p.is_empty() => text.replace(p, "***"),
            _ => text.to_string(),
        }
    }
}

/// A connection string with its password replaced by `***`: the userinfo
/// password of a URL, and any `password` parameter (URL query or
/// `key=value`). Works on malformed strings too, erring towards hiding
/// more: an unterminated quoted password hides the rest of the string.
pub fn redacted(conninfo: &str) -> String {
    // Any `scheme://` (a mistyped one too) is redacted as a URL.
    if let Some(i) = conninfo.find("://") {
        let scheme = conninfo[..i].trim_start();
        if scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        {
            let (head, rest) = conninfo.split_at(i + 3);
            return format!("{head}{}", redact_url_rest(rest));
        }
    }
    redact_kv(conninfo)
}

fn strip_scheme(s: &str) -> Option<&str> {
    s.strip_prefix("postgresql://")
        .or_else(|| s.strip_prefix("postgres://"))
}

fn redact_url_rest(rest: &str) -> String {
    // In a valid URL the userinfo ends at the last '@' before the query
    // string. A raw '?' inside a password would start the "query" early, so
    // an '@' after the '?' still ends the userinfo when nothing between
    // them looks like a query parameter (no '=' or '&').
    let q = rest.find('?');
    let mut at = rest[..q.unwrap_or(rest.len())].rfind('@');
    if let Some(q) = q {
        for (i, c) in rest[q..].char_indices() {
            match c {
                '@' => at = Some(q + i),
                '=' | '&' => break,
                _ => {}
            }
        }
    }
    let mut out = String::new();
    let tail = match at {
        Some(at) => {
            let userinfo = &rest[..at];
            match userinfo.find(':') {
                Some(colon) => {
                    out.push_str(&userinfo[..colon]);
                    out.push_str(":***");
                }
                None => out.push_str(userinfo),
            }
            &rest[at..]
        }
        None => rest,
    };
    let (path, query) = match tail.split_once('?') {
        Some((p, q)) => (p, Some(q)),
        None => (tail, None),
    };
    out.push_str(path);
    if let Some(q) = query {
        out.push('?');
        let parts: Vec<String> = q
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((k, _)) if percent_decode(k).is_ok_and(|k| k == "password") => {
                    format!("{k}=***")
                }
                _ => pair.to_string(),
            })
            .collect();
        out.push_str(&parts.join("&"));
    }
    out
}

fn redact_kv(s: &str) -> String {
    let mut out = String::new();
    let chars: Vec<char> = s.chars().collect();
    let mut i = 0;
    while i < chars.len() {
        // Copy whitespace.
        if chars[i].is_whitespace() {
            out.push(chars[i]);
            i += 1;
            continue;
        }
        // A key.
        let start = i;
        while i < chars.len() && chars[i] != '=' && !chars[i].is_whitespace() {
            i += 1;
        }
        let key: String = chars[start..i].iter().collect();
        out.push_str(&key);
        while i < chars.len() && chars[i].is_whitespace() {
            out.push(chars[i]);
            i += 1;
        }
        if i >= chars.len() || chars[i] != '=' {
            continue;
        }
        out.push('=');
        i += 1;
        while i < chars.len() && chars[i].is_whitespace() {
            out.push(chars[i]);
            i += 1;
        }
        // A value, quoted or not.
        let vstart = i;
        let mut terminated = true;
        if i < chars.len() && chars[i] == '\'' {
            i += 1;
            terminated = false;
            while i < chars.len() {
                match chars[i] {
                    '\\' => i += 2,
                    '\'' => {
                        i += 1;
                        terminated = true;
                        break;
                    }
                    _ => i += 1,
                }
            }
        } else {
            while i < chars.len() && !chars[i].is_whitespace() {
                if chars[i] == '\\' {
                    i += 1;
                }
                i += 1;
            }
        }
        let i_end = i.min(chars.len());
        if key == "password" {
            out.push_str("***");
            if !terminated {
                return out;
            }
        } else {
            out.extend(&chars[vstart..i_end]);
        }
        i = i_end;
    }
    out
}

/// Split a connection string (URL or `key=value`) into libpq parameters,
/// percent-decoding URL parts.
pub fn parse_conninfo(s: &str) -> Result<Vec<(String, String)>, String> {
    let t = s.trim();
    if let Some(rest) = strip_scheme(t) {
        return parse_url(rest);
    }
    if t.contains("://") {
        let scheme = t.split("://").next().unwrap_or("");
        return Err(format!(
            "unsupported URL scheme {scheme:?}: expected postgres:// or postgresql://"
        ));
    }
    if !t.is_empty() && !t.contains('=') {
        return Err(
            "expected a postgres://user@host:port/dbname URL or key=value pairs (host=... port=...)"
                .into(),
        );
    }
    parse_kv(t)
}

fn parse_kv(s: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let mut chars = s.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.peek().is_none() {
            return Ok(out);
        }
        let mut key = String::new();
        while let Some(&c) = chars.peek() {
            if c == '=' || c.is_whitespace() {
                break;
            }
            key.push(c);
            chars.next();
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        if chars.next() != Some('=') {
            return Err(format!("missing \"=\" after {key:?}"));
        }
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let mut value = String::new();
        if chars.peek() == Some(&'\'') {
            chars.next();
            let mut closed = false;
            while let Some(c) = chars.next() {
                match c {
                    '\\' => match chars.next() {
                        Some(e) => value.push(e),
                        None => break,
                    },
                    '\'' => {
                        closed = true;
                        break;
                    }
                    c => value.push(c),
                }
            }
            if !closed {
                return Err(format!("unterminated quoted value for {key:?}"));
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                chars.next();
                if c == '\\' {
                    if let Some(e) = chars.next() {
                        value.push(e);
                    }
                } else {
                    value.push(c);
                }
            }
        }
        if key.is_empty() {
            return Err("a parameter has no name before \"=\"".into());
        }
        out.push((key, value));
    }
}

fn parse_url(rest: &str) -> Result<Vec<(String, String)>, String> {
    let mut out = Vec::new();
    let (main, query) = match rest.split_once('?') {
        Some((m, q)) => (m, Some(q)),
        None => (rest, None),
    };
    // The authority ends at the first '/' after the userinfo.
    let (userinfo, after_user) = match main.rfind('@') {
        Some(at) if !main[..at].contains('/') => (Some(&main[..at]), &main[at + 1..]),
        _ => (None, main),
    };
    if let Some(ui) = userinfo {
        let (user, password) = match ui.split_once(':') {
            Some((u, p)) => (u, Some(p)),
            None => (ui, None),
        };
        if !user.is_empty() {
            out.push(("user".into(), percent_decode(user)?));
        }
        if let Some(p) = password {
            out.push(("password".into(), percent_decode(p)?));
        }
    }
    let (hostspec, path) = match after_user.split_once('/') {
        Some((h, p)) => (h, Some(p)),
        None => (after_user, None),
    };
    let mut hosts = Vec::new();
    let mut ports = Vec::new();
    if !hostspec.is_empty() {
        for part in hostspec.split(',') {
            let (host, port) = if let Some(v6) = part.strip_prefix('[') {
                let (h, after) = v6
                    .split_once(']')
                    .ok_or_else(|| format!("unterminated IPv6 address in {part:?}"))?;
                match after {
                    "" => (h.to_string(), None),
                    p => match p.strip_prefix(':') {
                        Some(port) => (h.to_string(), Some(port)),
                        None => return Err(format!("unexpected {p:?} after an IPv6 address")),
                    },
                }
            } else {
                match part.split_once(':') {
                    Some((h, p)) => (percent_decode(h)?, Some(p)),
                    None => (percent_decode(part)?, None),
                }
            };
            if let Some(p) = port {
                if p.is_empty() || p.parse::<u16>().is_err() {
                    return Err(format!(
                        "invalid port {p:?} for host {host:?}: expected a number from 1 to 65535"
                    ));
                }
            }
            hosts.push(host);
            ports.push(port.unwrap_or("").to_string());
        }
    }
    if hosts.iter().any(|h| !h.is_empty()) {
        out.push(("host".into(), hosts.join(",")));
    }
    if ports.iter().any(|p| !p.is_empty()) {
        out.push(("port".into(), ports.join(",")));
    }
    if let Some(db) = path.filter(|p| !p.is_empty()) {
        out.push(("dbname".into(), percent_decode(db)?));
    }
    if let Some(q) = query {
        for pair in q.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair
                .split_once('=')
                .ok_or_else(|| format!("URL parameter {pair:?} has no \"=\""))?;
            let k = percent_decode(k)?;
            let v = percent_decode(v)?;
            // libpq's aliases in URLs.
            let k = match k.as_str() {
                "ssl" if v == "true" => {
                    out.push(("sslmode".into(), "require".into()));
                    continue;
                }
                _ => k,
            };
            out.push((k, v));
        }
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
                .ok_or("invalid percent-encoding (a % must be followed by two hex digits)")?;
            out.push(hex);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| "percent-encoding does not decode to UTF-8".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_url_passwords() {
        assert_eq!(
            redacted("postgres://app:hunter2@db.example.com:5432/orders"),
            "postgres://app:***@db.example.com:5432/orders"
        );
        assert_eq!(
            redacted("postgresql://app:p%40ss@h/db?sslmode=require&password=x2"),
            "postgresql://app:***@h/db?sslmode=require&password=***"
        );
        // Raw '@', '?' and '/' inside the password.
        let r = redacted("postgres://app:p@s?s/w@h:5432/db?application_name=a@b");
        assert_eq!(r, "postgres://app:***@h:5432/db?application_name=a@b");
        assert!(!redacted("postgres://app:sec?ret@h/db").contains("sec"));
        // No password: unchanged.
        assert_eq!(redacted("postgres://app@h/db"), "postgres://app@h/db");
        assert_eq!(redacted("postgres://h/db"), "postgres://h/db");
        assert_eq!(
            redacted("postgres://h:notaport/db"),
            "postgres://h:notaport/db"
        );
    }

    #[test]
    fn redacts_key_value_passwords() {
        assert_eq!(
            redacted("host=h password=hunter2 user=app"),
            "host=h password=*** user=app"
        );
        assert_eq!(
            redacted("host=h password = 'two words\\' here' user=app"),
            "host=h password = *** user=app"
        );
        // Unterminated quote: everything after it is hidden.
        assert_eq!(
            redacted("host=h password='hunter2 user=app"),
            "host=h password=***"
        );
        assert_eq!(redacted("host=h user=app"), "host=h user=app");
    }

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
    fn scrub_masks_the_password_anywhere() {
        let r = Redactor {
            password: Some("hunter2".into()),
        };
        assert_eq!(r.scrub("bad hunter2 here"), "bad *** here");
        assert_eq!(Redactor::default().scrub("x"), "x");
    }

    #[test]
    fn parses_urls() {
        let p = parse_conninfo(
            "postgresql://app:p%40ss@[::1]:5433,db2/orders%2Fx?sslmode=verify-full&application_name=me",
        )
        .unwrap_or_default();
        let get = |k: &str| p.iter().find(|(pk, _)| pk == k).map(|(_, v)| v.as_str());
        assert_eq!(get("user"), Some("app"));
        assert_eq!(get("password"), Some("p@ss"));
        assert_eq!(get("host"), Some("::1,db2"));
        assert_eq!(get("port"), Some("5433,"));
        assert_eq!(get("dbname"), Some("orders/x"));
        assert_eq!(get("sslmode"), Some("verify-full"));
        assert_eq!(get("application_name"), Some("me"));
    }

    #[test]
    fn parses_key_values() {
        let p =
            parse_conninfo("host=h port = 5433 password='a b\\'c' user=app").unwrap_or_default();
        assert_eq!(
            p,
            vec![
                ("host".to_string(), "h".to_string()),
                ("port".into(), "5433".into()),
                ("password".into(), "a b'c".into()),
                ("user".into(), "app".into()),
            ]
        );
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
