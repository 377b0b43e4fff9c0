//! Reading the user's TOML files (config, themes, keymaps, runbooks) with the
//! position of everything, so every mistake names its file, line and key,
//! worded the same way whichever file it is in.
//!
//! Depends only on [`crate::problem`]. A [`Doc`] is a parsed file plus its
//! text and name; its methods turn spans into lines and build the problems.

use std::ffi::OsStr;
use std::fs;
use std::io;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;
use toml::de::{DeString, DeTable, DeValue, ValueDeserializer};

use crate::problem::{Lines, Problem, line_of};

/// A table entry: key and value, both with their spans.
pub type Entry<'a, 'i> = (&'a Spanned<DeString<'i>>, &'a Spanned<DeValue<'i>>);
/// A value with its span.
pub type Value<'i> = Spanned<DeValue<'i>>;
/// A table (its map is sorted by key; see [`sorted_entries`]).
pub type Table<'i> = DeTable<'i>;

/// One file's text, the name problems give it, and where its lines start.
#[derive(Debug, Clone)]
pub struct Doc<'a> {
    pub text: &'a str,
    pub file: &'a str,
    lines: Lines,
}

impl<'a> Doc<'a> {
    pub fn new(text: &'a str, file: &'a str) -> Self {
        Self {
            text,
            file,
            lines: Lines::new(text),
        }
    }

    /// Parse the text; a syntax error becomes the file's one problem.
    pub fn parse(&self) -> Result<Spanned<DeTable<'a>>, Problem> {
        DeTable::parse(self.text).map_err(|e| syntax_problem(self.file, self.text, &e))
    }

    /// 1-based line of a byte offset (a binary search: any number of
    /// lookups stays linear in the file's size).
    pub fn line(&self, offset: usize) -> usize {
        self.lines.line(offset)
    }

    /// A problem at `offset` about `key` (a dotted path).
    pub fn problem(&self, offset: usize, key: &str, message: impl Into<String>) -> Problem {
        Problem::new(
            self.file,
            Some(self.line(offset)),
            (!key.is_empty()).then(|| key.to_string()),
            message,
        )
    }

    /// `expected <what>, found <type>` at the value.
    pub fn wrong_type(&self, key: &str, expected: &str, value: &Value<'_>) -> Problem {
        self.problem(value.span().start, key, wrong_type(expected, value))
    }

    /// `unknown field "x", expected one of a, b` at the key.
    pub fn unknown_field(
        &self,
        path: &str,
        name: &Spanned<DeString<'_>>,
        allowed: &[&str],
    ) -> Problem {
        let field = name.get_ref().as_ref();
        self.problem(
            name.span().start,
            &join_key(path, field),
            unknown_field(field, allowed),
        )
    }

    /// Deserialize `table` (whose span is `span`), leaving out the fields in
    /// `skip`, as `T`. A failure is a problem at the field the error points
    /// into, else at the table (`path`).
    pub fn deserialize<T: for<'de> Deserialize<'de>>(
        &self,
        table: &DeTable<'a>,
        span: Range<usize>,
        path: &str,
        skip: &[&str],
    ) -> Result<T, Problem> {
        let kept: DeTable<'a> = table
            .iter()
            .filter(|(k, _)| !skip.contains(&k.get_ref().as_ref()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let value = Spanned::new(span.clone(), DeValue::Table(kept));
        T::deserialize(ValueDeserializer::from(value)).map_err(|e| {
            let field = e.span().and_then(|s| {
                table.iter().find(|(k, v)| {
                    let (ks, vs) = (k.span(), v.span());
                    (ks.start..vs.end.max(ks.end)).contains(&s.start)
                })
            });
            let message = out_of_range(e.message().trim())
                .unwrap_or_else(|| e.message().trim().replace('`', "\""));
            match field {
                Some((k, _)) => self.problem(
                    k.span().start,
                    &join_key(path, k.get_ref().as_ref()),
                    message,
                ),
                None => self.problem(span.start, path, message),
            }
        })
    }
}

/// `a.b` from a path and a field (`b` alone at the top level).
pub fn join_key(path: &str, field: &str) -> String {
    if path.is_empty() {
        field.to_string()
    } else {
        format!("{path}.{field}")
    }
}

/// The one wording of a type mismatch.
pub fn wrong_type(expected: &str, value: &Value<'_>) -> String {
    format!("expected {expected}, found {}", value.get_ref().type_str())
}

/// The one wording of a field that is not allowed.
pub fn unknown_field(field: &str, allowed: &[&str]) -> String {
    if allowed.is_empty() {
        format!("unknown field \"{field}\"")
    } else if let [only] = allowed {
        format!("unknown field \"{field}\", expected {only}")
    } else {
        format!(
            "unknown field \"{field}\", expected one of {}",
            allowed.join(", ")
        )
    }
}

/// An integer value as `i64`. The error is the one wording of a value that
/// is not an integer (`expected an integer, found string`) or of a number too
/// large for one (`99999999999999999999 is out of range ...`).
pub fn integer(value: &DeValue<'_>) -> Result<i64, String> {
    match value {
        DeValue::Integer(i) => i64::from_str_radix(i.as_str(), i.radix()).map_err(|_| {
            let prefix = match i.radix() {
                16 => "0x",
                8 => "0o",
                2 => "0b",
                _ => "",
            };
            format!(
                "the number {prefix}{} is out of range (an integer from {} to {})",
                i.as_str(),
                i64::MIN,
                i64::MAX
            )
        }),
        other => Err(format!("expected an integer, found {}", other.type_str())),
    }
}

/// serde's wording of an integer that does not fit the field
/// (``invalid type: integer `99999999999999999999` as i128, expected u32``,
/// ``invalid value: integer `-1`, expected u32``) in ours: the number is out
/// of range, and what the range is.
fn out_of_range(message: &str) -> Option<String> {
    let rest = message
        .strip_prefix("invalid type: integer `")
        .or_else(|| message.strip_prefix("invalid value: integer `"))?;
    let (number, rest) = rest.split_once('`')?;
    let (_, ty) = rest.rsplit_once("expected ")?;
    let range = match ty {
        "u8" => format!("0 to {}", u8::MAX),
        "u16" => format!("0 to {}", u16::MAX),
        "u32" => format!("0 to {}", u32::MAX),
        "u64" | "usize" => format!("0 to {}", u64::MAX),
        "i8" => format!("{} to {}", i8::MIN, i8::MAX),
        "i16" => format!("{} to {}", i16::MIN, i16::MAX),
        "i32" => format!("{} to {}", i32::MIN, i32::MAX),
        "i64" | "isize" => format!("{} to {}", i64::MIN, i64::MAX),
        _ => return None,
    };
    Some(format!(
        "the number {number} is out of range (an integer from {range})"
    ))
}

/// A problem for a TOML syntax error, at the line of the error's span.
pub fn syntax_problem(file: &str, text: &str, err: &toml::de::Error) -> Problem {
    let line = err.span().map(|s| line_of(text, s.start));
    Problem::new(
        file,
        line,
        None,
        format!(
            "TOML syntax error: {}",
            err.message().trim().replace('\n', " ")
        ),
    )
}

/// A table's entries in file order (the map itself is sorted by key).
pub fn sorted_entries<'a, 'i>(table: &'a DeTable<'i>) -> Vec<Entry<'a, 'i>> {
    let mut v: Vec<Entry<'a, 'i>> = table.iter().collect();
    v.sort_by_key(|(k, _)| k.span().start);
    v
}

/// The value of `field` in `table`, if set.
pub fn get<'a, 'i>(table: &'a DeTable<'i>, field: &str) -> Option<&'a Value<'i>> {
    table
        .iter()
        .find(|(k, _)| k.get_ref().as_ref() == field)
        .map(|(_, v)| v)
}

/// A user file read from a directory: name (file stem), display path, text.
#[derive(Debug, Clone)]
pub struct UserFile {
    pub name: String,
    pub file: String,
    pub text: String,
}

/// Read every `*.<extension>` in `dir` (sorted by name). A missing directory
/// is fine; unreadable files, and anything but a regular text file, are
/// problems (see [`crate::user_file`]).
pub fn read_dir(dir: &Path, extensions: &[&str]) -> (Vec<UserFile>, Vec<Problem>) {
    let mut files = Vec::new();
    let mut problems = Vec::new();
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return (files, problems),
        Err(e) => {
            problems.push(Problem::new(
                dir.display().to_string(),
                None,
                None,
                format!("cannot read directory: {e}"),
            ));
            return (files, problems);
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension()
                .and_then(OsStr::to_str)
                .is_some_and(|x| extensions.contains(&x))
        })
        .collect();
    paths.sort();
    for path in paths {
        let file = path.display().to_string();
        let Some(name) = path.file_stem().and_then(OsStr::to_str) else {
            problems.push(Problem::new(
                file,
                None,
                None,
                "file name is not valid UTF-8",
            ));
            continue;
        };
        match crate::user_file::read_text(&path, &file) {
            Ok(Some(text)) => files.push(UserFile {
                name: name.to_string(),
                file,
                text,
            }),
            // Gone since the directory was listed.
            Ok(None) => {}
            Err(p) => problems.push(p),
        }
    }
    (files, problems)
}

/// Read every `*.toml` in `dir`.
pub fn read_toml_dir(dir: &Path) -> (Vec<UserFile>, Vec<Problem>) {
    read_dir(dir, &["toml"])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Pair {
        name: String,
        count: u32,
    }

    #[test]
    fn problems_name_file_line_and_key() {
        let text = "a = 1\n[t]\nname = \"x\"\ncount = \"three\"\n";
        let doc = Doc::new(text, "f.toml");
        let root = doc.parse().unwrap();
        let entries = sorted_entries(root.get_ref());
        assert_eq!(entries[0].0.get_ref().as_ref(), "a");
        let (_, t) = entries[1];
        let DeValue::Table(table) = t.get_ref() else {
            panic!("a table")
        };
        let err = doc
            .deserialize::<Pair>(table, t.span(), "t", &[])
            .unwrap_err();
        assert_eq!(err.file, "f.toml");
        assert_eq!(err.line, Some(4));
        assert_eq!(err.key.as_deref(), Some("t.count"));
        assert!(err.message.contains("invalid type"), "{}", err.message);
        let p = doc.wrong_type("a", "a string", entries[0].1);
        assert_eq!(
            p.to_string(),
            "f.toml:1: a: expected a string, found integer"
        );
        let p = doc.unknown_field("t", entries[0].0, &["name", "count"]);
        assert_eq!(
            p.to_string(),
            "f.toml:1: t.a: unknown field \"a\", expected one of name, count"
        );
    }

    #[test]
    fn integers_that_do_not_fit_are_out_of_range() {
        let doc = Doc::new(
            "[t]\nname = \"x\"\ncount = 99999999999999999999\n",
            "f.toml",
        );
        let root = doc.parse().unwrap();
        let (_, t) = sorted_entries(root.get_ref())[0];
        let DeValue::Table(table) = t.get_ref() else {
            panic!("a table")
        };
        let err = doc
            .deserialize::<Pair>(table, t.span(), "t", &[])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "f.toml:3: t.count: the number 99999999999999999999 is out of range (an integer from 0 to 4294967295)"
        );
        let doc = Doc::new("name = \"x\"\ncount = -1\n", "g.toml");
        let root = doc.parse().unwrap();
        let err = doc
            .deserialize::<Pair>(root.get_ref(), root.span(), "", &[])
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "g.toml:2: count: the number -1 is out of range (an integer from 0 to 4294967295)"
        );
        assert_eq!(
            integer(&DeValue::String("x".into())),
            Err("expected an integer, found string".to_string())
        );
    }

    #[test]
    fn syntax_errors_have_a_line() {
        let err = Doc::new("a = 1\nb = = 2\n", "f.toml").parse().unwrap_err();
        assert_eq!(err.line, Some(2));
        assert!(err.message.starts_with("TOML syntax error"));
    }

    #[test]
    fn a_missing_directory_is_empty() {
        let (files, problems) = read_toml_dir(Path::new("/nonexistent/opsdeck/dir"));
        assert!(files.is_empty() && problems.is_empty());
    }
}
