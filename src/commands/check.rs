//! `opsdeck check-config`: every problem in the configuration, themes,
//! keymaps, runbooks and databases (everything start-up checks), printed
//! sanitised; a non-zero exit if there is any.

use std::process::ExitCode;

use crate::config::{self, LoadOptions};
use crate::problem::Problem;
use crate::runbook::{self, Runbook};
use crate::session;
use crate::sim::Scenario;

pub fn check_config(opts: &LoadOptions) -> ExitCode {
    let problems = config::check_with(opts, |loaded| {
        let mut extra = runbook_problems(opts);
        // The databases as start-up opens them (connection strings, TLS files).
        let specs = session::database_specs(&loaded.config.databases, |k| std::env::var(k).ok());
        extra.extend(session::database_problems(&specs));
        extra
    });
    if problems.is_empty() {
        println!("opsdeck: configuration OK");
        ExitCode::SUCCESS
    } else {
        for p in &problems {
            println!("{p}");
        }
        eprintln!(
            "opsdeck: {} problem{} found",
            problems.len(),
            if problems.len() == 1 { "" } else { "s" }
        );
        ExitCode::FAILURE
    }
}

/// Problems in the shipped runbooks and the user's runbooks directory.
pub fn runbook_problems(opts: &LoadOptions) -> Vec<Problem> {
    let mut out = Vec::new();
    let scenarios = Scenario::names();
    for (label, text) in runbook::shipped() {
        if let Err(ps) = Runbook::parse_for(label, text, &scenarios) {
            out.extend(ps);
        }
    }
    if let Some(dir) = config::config_dir(opts) {
        out.extend(runbook::check_dir(&dir.join("runbooks"), &scenarios));
    }
    out
}
