//! Problems found in user-editable files (config, themes, keymaps, runbooks).
//! Collected, never panicked on; shown in the status bar and printed by
//! `opsdeck check-config`.
//!
//! A problem echoes what the file says (a key, a value, a file name), so its
//! text is untrusted: [`Problem`]'s `Display` sanitises every part (escape
//! sequences and control characters are shown escaped, `\u{1b}`, so the key
//! can still be found in the file), and that is the only way problems are
//! turned into text for the terminal.

use std::fmt;

/// One problem in one file, with the line and key it concerns when known.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
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
    /// `keymaps/vim.toml:12: logs.ctrl-x: unknown action "scrol_down"`, with
    /// the control characters of every part shown escaped, never raw.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use crate::sanitize::visible;
        write!(f, "{}", visible(&self.file))?;
        if let Some(l) = self.line {
            write!(f, ":{l}")?;
        }
        if let Some(k) = &self.key {
            write!(f, ": {}", visible(k))?;
        }
        write!(f, ": {}", visible(&self.message))
    }
}

/// Where something was written: file, line and key, for problems found
/// later (a database entry whose connection string start-up cannot use).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct Place {
    pub file: String,
    pub line: Option<usize>,
    pub key: Option<String>,
}

impl Place {
    /// A problem at this place.
    pub fn problem(&self, message: impl Into<String>) -> Problem {
        Problem::new(&self.file, self.line, self.key.clone(), message)
    }
}

/// The start of every line of a text, to turn byte offsets into line numbers
/// in O(log n) each (a file with many keys is read in linear time).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Lines {
    /// Byte offset just after each `\n`.
    breaks: Vec<usize>,
    len: usize,
}

impl Lines {
    pub fn new(text: &str) -> Self {
        let breaks = text
            .bytes()
            .enumerate()
            .filter(|(_, b)| *b == b'\n')
            .map(|(i, _)| i + 1)
            .collect();
        Self {
            breaks,
            len: text.len(),
        }
    }

    /// 1-based line of a byte offset (an offset past the end is on the last line).
    pub fn line(&self, offset: usize) -> usize {
        let offset = offset.min(self.len);
        self.breaks.partition_point(|&b| b <= offset) + 1
    }
}

/// 1-based line number of a byte offset in `text`. Scans the text: for one
/// offset only; use [`Lines`] for many.
pub fn line_of(text: &str, offset: usize) -> usize {
    let end = offset.min(text.len());
    text.as_bytes()[..end]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

/// Problems in their order, each once (linear: a file with a hundred
/// thousand mistakes is reported as fast as it is read).
pub fn dedup(problems: Vec<Problem>) -> Vec<Problem> {
    let mut seen = std::collections::HashSet::with_capacity(problems.len());
    problems
        .into_iter()
        .filter(|p| seen.insert(p.clone()))
        .collect()
}

/// Up to 20 names, then how many more (a directory of thousands of files
/// does not make every message thousands of names long).
pub fn some_names(names: &[String]) -> String {
    const SHOWN: usize = 20;
    let mut text = names
        .iter()
        .take(SHOWN)
        .cloned()
        .collect::<Vec<_>>()
        .join(", ");
    if names.len() > SHOWN {
        text.push_str(&format!(" and {} more", names.len() - SHOWN));
    }
    text
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

    #[test]
    fn the_line_index_agrees_with_scanning() {
        for text in ["", "a", "a\n", "\n\n", "ab\ncd\n\nef", "x\ny\n"] {
            let lines = Lines::new(text);
            for offset in 0..text.len() + 3 {
                assert_eq!(
                    lines.line(offset),
                    line_of(text, offset),
                    "{text:?} @ {offset}"
                );
            }
        }
    }

    #[test]
    fn display_sanitises_every_part() {
        let p = Problem::new(
            "a\u{1b}[2Jb.toml",
            Some(1),
            Some("\u{1b}]0;pwned\u{7}\u{1b}[2J".into()),
            "unknown field \"\u{1b}]0;pwned\u{7}\u{9b}31m\"",
        );
        let s = p.to_string();
        assert!(crate::sanitize::is_clean(&s), "{s:?}");
        assert_eq!(
            s,
            r#"a\u{1b}[2Jb.toml:1: \u{1b}]0;pwned\u{7}\u{1b}[2J: unknown field "\u{1b}]0;pwned\u{7}\u{9b}31m""#
        );
    }

    #[test]
    fn dedup_keeps_the_first_of_each() {
        let a = Problem::new("f", Some(1), None, "a");
        let b = Problem::new("f", Some(2), None, "b");
        assert_eq!(dedup(vec![a.clone(), b.clone(), a.clone()]), vec![a, b]);
    }
}
