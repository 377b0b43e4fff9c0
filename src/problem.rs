//! Problems found in user-editable files (config, themes, keymaps, runbooks).
//! Collected, never panicked on; shown in the status bar and printed by
//! `opsdeck check-config`.

use std::fmt;

/// One problem in one file, with the line and key it concerns when known.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// The file as the user knows it (a path, or `embedded:themes/default.toml`).
    pub file: String,
    /// 1-based line number.
    pub line: Option<usize>,
    /// Dotted key path (`normal.ctrl-d`, `health.ok`, `steps[2].actions[0].kind`).
    pub key: Option<String>,
    pub message: String,
}

impl Problem {
    pub fn new(
        file: impl Into<String>,
        line: Option<usize>,
        key: Option<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            file: file.into(),
            line,
            key,
            message: message.into(),
        }
    }
}

impl fmt::Display for Problem {
    /// `keymaps/vim.toml:12: logs.ctrl-x: unknown action "scrol_down"`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.file)?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": {k}")?;
        }
        write!(f, ": {}", self.message)
    }
}

/// 1-based line number of a byte offset in `text`.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_and_lines() {
        let p = Problem::new(
            "k.toml",
            Some(3),
            Some("logs.x".into()),
            "unknown action \"y\"",
        );
        assert_eq!(p.to_string(), "k.toml:3: logs.x: unknown action \"y\"");
        assert_eq!(line_of("a\nb\nc", 4), 3);
        assert_eq!(line_of("a", 99), 1);
    }
}
