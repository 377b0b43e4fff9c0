//! The shipped files of one kind (themes, keymaps) plus the user's files of
//! that kind, each parsed once.

use std::collections::BTreeMap;
use std::path::Path;

use crate::problem::Problem;

/// Parsed files by name: shipped ones (embedded) and the user's.
#[derive(Debug, Clone)]
pub struct Library<F> {
    pub shipped: BTreeMap<String, F>,
    pub user: BTreeMap<String, F>,
    /// Problems reading the user's directory or its files.
    pub problems: Vec<Problem>,
    parse: fn(&str, &str) -> F,
}

impl<F> Library<F> {
    /// The shipped `(name, text)` files (labelled by `shipped_file(name)`),
    /// plus every `*.toml` in `user_dir` if given (a missing directory is fine).
    pub fn new(
        shipped: &[(&str, &str)],
        shipped_file: fn(&str) -> String,
        parse: fn(&str, &str) -> F,
        user_dir: Option<&Path>,
    ) -> Self {
        let mut lib = Library {
            shipped: shipped
                .iter()
                .map(|(name, text)| (name.to_string(), parse(text, &shipped_file(name))))
                .collect(),
            user: BTreeMap::new(),
            problems: Vec::new(),
            parse,
        };
        if let Some(dir) = user_dir {
            let (files, problems) = crate::toml_doc::read_toml_dir(dir);
            lib.problems = problems;
            for f in files {
                lib.add_user(&f.name, &f.text, &f.file);
            }
        }
        lib
    }

    /// Add (or replace) a user file from text; `file` names it in problems.
    pub fn add_user(&mut self, name: &str, text: &str, file: &str) {
        self.user.insert(name.to_string(), (self.parse)(text, file));
    }

    /// Every name, shipped and user, sorted and unique.
    pub fn names(&self) -> Vec<String> {
        let mut n: Vec<String> = self
            .shipped
            .keys()
            .chain(self.user.keys())
            .cloned()
            .collect();
        n.sort();
        n.dedup();
        n
    }

    /// Names of the user's files.
    pub fn user_names(&self) -> Vec<String> {
        self.user.keys().cloned().collect()
    }
}
