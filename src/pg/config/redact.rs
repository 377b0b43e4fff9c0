//! Keeping the password out of sight: [`redacted`] masks it in connection
//! strings, [`Redactor::scrub`] in any other text.

use std::fmt;

use super::conninfo::percent_decode;

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
    /// A redactor for `password` (none: nothing to mask).
    pub(super) fn new(password: Option<String>) -> Self {
        Self { password }
    }

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
    fn scrub_masks_the_password_anywhere() {
        let r = Redactor {
            password: Some("hunter2".into()),
        };
        assert_eq!(r.scrub("bad hunter2 here"), "bad *** here");
        assert_eq!(Redactor::default().scrub("x"), "x");
    }
}
