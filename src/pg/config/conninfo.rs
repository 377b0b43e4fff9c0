//! Connection strings, URL (`postgres://user@host:port/dbname?sslmode=...`)
//! or libpq `key=value`, split into libpq parameters.

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

/// Decode `%XX` escapes; the result must be UTF-8.
pub(super) fn percent_decode(s: &str) -> Result<String, String> {
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

fn strip_scheme(s: &str) -> Option<&str> {
    s.strip_prefix("postgresql://")
        .or_else(|| s.strip_prefix("postgres://"))
}

#[cfg(test)]
mod tests {
    use super::*;

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
}
