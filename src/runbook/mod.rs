//! Runbooks: step-by-step incident procedures with checks against live
//! metrics and workloads, and actions the console can run.
//!
//! A runbook is a TOML file (see `runbooks/*.toml`): [`model`] is what it
//! is, [`parse`] how it is read. Which demo scenarios exist is not known
//! here: callers that care pass the names to [`Runbook::parse_for`].

mod fields;
mod model;
mod parse;

use std::path::Path;

pub use fields::parse_target;
pub use model::{
    ACTION_KINDS, ActionKind, ChangeSpec, Check, CheckResult, DEFAULT_RESOLVED_HOLD, EstateView,
    Runbook, Step, settled,
};

use crate::problem::Problem;

/// The runbooks shipped in the binary: (file label, text).
pub fn shipped() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "embedded:runbooks/db-connections.toml",
            include_str!("../../runbooks/db-connections.toml"),
        ),
        (
            "embedded:runbooks/oom-crashloop.toml",
            include_str!("../../runbooks/oom-crashloop.toml"),
        ),
        (
            "embedded:runbooks/bad-deploy.toml",
            include_str!("../../runbooks/bad-deploy.toml"),
        ),
        (
            "embedded:runbooks/ecs-unhealthy.toml",
            include_str!("../../runbooks/ecs-unhealthy.toml"),
        ),
    ]
}

/// The shipped runbook for a demo scenario.
pub fn for_scenario(scenario: &str) -> Result<Option<Runbook>, Vec<Problem>> {
    for (label, text) in shipped() {
        let book = Runbook::parse(label, text)?;
        if book.scenario.as_deref() == Some(scenario) {
            return Ok(Some(book));
        }
    }
    Ok(None)
}

/// Parse every `*.toml` in a directory; a missing directory has no problems.
/// `scenarios` are the names a runbook's `scenario` may take.
pub fn load_dir(dir: &Path, scenarios: &[&str]) -> (Vec<Runbook>, Vec<Problem>) {
    let (files, mut problems) = crate::toml_doc::read_toml_dir(dir);
    let mut books = Vec::new();
    for f in files {
        match Runbook::parse_for(&f.file, &f.text, scenarios) {
            Ok(b) => books.push(b),
            Err(ps) => problems.extend(ps),
        }
    }
    (books, problems)
}

/// Problems in every runbook of a directory.
pub fn check_dir(dir: &Path, scenarios: &[&str]) -> Vec<Problem> {
    load_dir(dir, scenarios).1
}
