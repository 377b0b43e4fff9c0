//! The typed field readers of the runbook parser: each reports a mistake
//! with the file, line and dotted key, and the parse goes on.

use std::ops::Range;

use toml::Spanned;
use toml::de::{DeTable, DeValue};

use crate::domain::{WorkloadKind, WorkloadRef};
use crate::problem::{Lines, Problem};
use crate::toml_doc::{join_key, unknown_field};

pub(super) type Table<'i> = DeTable<'i>;
pub(super) type Val<'i> = Spanned<DeValue<'i>>;

pub(super) struct Parser<'a> {
    pub file: &'a str,
    /// Where the file's lines start.
    pub lines: Lines,
    /// The scenario names a runbook may name, when checked.
    pub scenarios: Option<&'a [&'a str]>,
    pub problems: Vec<Problem>,
}

impl Parser<'_> {
    pub(super) fn problem(&mut self, span: &Range<usize>, key: &str, message: impl Into<String>) {
        let line = self.lines.line(span.start);
        let key = (!key.is_empty()).then(|| key.to_string());
        self.problems
            .push(Problem::new(self.file, Some(line), key, message));
    }

    /// Report keys not in `allowed`.
    pub(super) fn unknown_fields(&mut self, table: &Table<'_>, path: &str, allowed: &[&str]) {
        for (k, _) in table.iter() {
            let name: &str = k.get_ref();
            if !allowed.contains(&name) {
                self.problem(
                    &k.span(),
                    &join_key(path, name),
                    unknown_field(name, allowed),
                );
            }
        }
    }

    pub(super) fn get<'t, 'i>(&self, table: &'t Table<'i>, key: &str) -> Option<&'t Val<'i>> {
        table
            .iter()
            .find(|(k, _)| k.get_ref() == key)
            .map(|(_, v)| v)
    }

    pub(super) fn string(
        &mut self,
        table: &Table<'_>,
        span: &Range<usize>,
        path: &str,
        key: &str,
        required: bool,
    ) -> Option<String> {
        match self.get(table, key) {
            None => {
                if required {
                    self.problem(
                        span,
                        &join_key(path, key),
                        format!("missing field \"{key}\""),
                    );
                }
                None
            }
            Some(v) => match v.get_ref().as_str() {
                Some(s) if required && s.trim().is_empty() => {
                    self.problem(&v.span(), &join_key(path, key), "must not be empty");
                    None
                }
                Some(s) => Some(s.to_string()),
                None => {
                    self.problem(
                        &v.span(),
                        &join_key(path, key),
                        format!("expected a string, found {}", v.get_ref().type_str()),
                    );
                    None
                }
            },
        }
    }

    pub(super) fn integer(
        &mut self,
        table: &Table<'_>,
        path: &str,
        key: &str,
    ) -> Option<Result<i64, ()>> {
        let v = self.get(table, key)?;
        Some(
            crate::toml_doc::integer(v.get_ref())
                .map_err(|message| self.problem(&v.span(), &join_key(path, key), message)),
        )
    }

    pub(super) fn number(&mut self, v: &Val<'_>, path: &str, key: &str) -> Option<f64> {
        let n = match v.get_ref() {
            DeValue::Integer(_) => crate::toml_doc::integer(v.get_ref()).map(|n| n as f64),
            DeValue::Float(f) => f
                .as_str()
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or_else(|| format!("expected a finite number, found {}", f.as_str())),
            other => Err(format!("expected a number, found {}", other.type_str())),
        };
        n.map_err(|message| self.problem(&v.span(), &join_key(path, key), message))
            .ok()
    }

    pub(super) fn boolean(&mut self, v: &Val<'_>, path: &str, key: &str) -> Option<bool> {
        let b = v.get_ref().as_bool();
        if b.is_none() {
            self.problem(
                &v.span(),
                &join_key(path, key),
                format!("expected true or false, found {}", v.get_ref().type_str()),
            );
        }
        b
    }

    /// An array of tables (`[[steps]]` or an inline array of inline tables).
    pub(super) fn tables<'t, 'i>(
        &mut self,
        v: &'t Val<'i>,
        path: &str,
    ) -> Vec<(&'t Table<'i>, Range<usize>)> {
        let Some(items) = v.get_ref().as_array() else {
            self.problem(
                &v.span(),
                path,
                format!(
                    "expected an array of tables, found {}",
                    v.get_ref().type_str()
                ),
            );
            return Vec::new();
        };
        let mut out = Vec::new();
        for (i, item) in items.iter().enumerate() {
            match item.get_ref().as_table() {
                Some(t) => out.push((t, item.span())),
                None => {
                    self.problem(
                        &item.span(),
                        &format!("{path}[{i}]"),
                        format!("expected a table, found {}", item.get_ref().type_str()),
                    );
                }
            }
        }
        out
    }

    pub(super) fn target(
        &mut self,
        table: &Table<'_>,
        span: &Range<usize>,
        path: &str,
        allowed: &[WorkloadKind],
    ) -> Option<WorkloadRef> {
        let v = self.get(table, "target");
        let text = self.string(table, span, path, "target", true)?;
        let vspan = v.map_or(span.clone(), Spanned::span);
        let key = join_key(path, "target");
        match parse_target(&text) {
            Ok(t) if allowed.contains(&t.kind) => Some(t),
            Ok(t) => {
                let nouns: Vec<&str> = allowed.iter().map(|k| k.noun()).collect();
                self.problem(
                    &vspan,
                    &key,
                    format!(
                        "a {} cannot be a target here (expected {})",
                        t.kind.noun(),
                        nouns.join(" or ")
                    ),
                );
                None
            }
            Err(msg) => {
                self.problem(&vspan, &key, msg);
                None
            }
        }
    }
}

/// Parse a workload target: `deployment shop/api`.
pub fn parse_target(text: &str) -> Result<WorkloadRef, String> {
    let mut words = text.split_whitespace();
    let (Some(noun), Some(path), None) = (words.next(), words.next(), words.next()) else {
        return Err(format!(
            "invalid target \"{text}\" (expected e.g. \"deployment shop/api\")"
        ));
    };
    let kinds = [
        WorkloadKind::Deployment,
        WorkloadKind::Pod,
        WorkloadKind::EcsService,
        WorkloadKind::EcsTask,
    ];
    let Some(kind) = kinds.into_iter().find(|k| k.noun() == noun) else {
        return Err(format!(
            "invalid target \"{text}\": unknown kind \"{noun}\" (expected deployment, pod, ecs-service or ecs-task)"
        ));
    };
    match path.split_once('/') {
        Some((scope, name)) if !scope.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok(WorkloadRef::new(kind, scope, name))
        }
        _ => Err(format!(
            "invalid target \"{text}\": expected <namespace-or-cluster>/<name> after \"{noun}\""
        )),
    }
}
