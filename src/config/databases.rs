//! The `[databases]` of `config.toml`: each database's connection string and
//! where it is written, so that a connection string start-up cannot use is
//! reported at its file, line and key (by `check-config`, and by the
//! console, which shows that database as failing and starts anyway).

use std::collections::BTreeMap;

use toml::de::DeValue;

use crate::problem::{Place, Problem};
use crate::toml_doc::{Doc, Table, sorted_entries};

/// One `[databases]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DatabaseEntry {
    /// A `postgres://` URL or a libpq `key=value` connection string.
    pub url: String,
    /// Where the connection string is written (`databases.NAME` or
    /// `databases.NAME.url`).
    pub place: Place,
}

/// `[databases]`: `name = "url"` or `[databases.name] url = "..."`.
pub(super) fn databases(
    doc: &Doc<'_>,
    table: &Table<'_>,
    problems: &mut Vec<Problem>,
) -> BTreeMap<String, DatabaseEntry> {
    let mut out = BTreeMap::new();
    for (name, v) in sorted_entries(table) {
        let name_str = name.get_ref().to_string();
        let at = format!("databases.{name_str}");
        let place = |offset: usize, key: String| Place {
            file: doc.file.to_string(),
            line: Some(doc.line(offset)),
            key: Some(key),
        };
        let entry = match v.get_ref() {
            DeValue::String(s) => Some(DatabaseEntry {
                url: s.to_string(),
                place: place(v.span().start, at.clone()),
            }),
            DeValue::Table(fields) => {
                let mut url = None;
                for (fk, fv) in sorted_entries(fields) {
                    match (fk.get_ref().as_ref(), fv.get_ref()) {
                        ("url", DeValue::String(s)) => {
                            url = Some(DatabaseEntry {
                                url: s.to_string(),
                                place: place(fv.span().start, format!("{at}.url")),
                            })
                        }
                        ("url", _) => {
                            problems.push(doc.wrong_type(&format!("{at}.url"), "a string", fv))
                        }
                        _ => problems.push(doc.unknown_field(&at, fk, &["url"])),
                    }
                }
                if url.is_none() {
                    problems.push(doc.problem(
                        name.span().start,
                        &at,
                        "missing url (a postgres:// URL or key=value connection string)",
                    ));
                }
                url
            }
            _ => {
                problems.push(doc.problem(
                    name.span().start,
                    &at,
                    crate::toml_doc::wrong_type("a connection string or a table with url", v),
                ));
                None
            }
        };
        if let Some(entry) = entry {
            out.insert(name_str, entry);
        }
    }
    out
}
