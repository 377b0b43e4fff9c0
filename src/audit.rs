//! The audit log: one JSON object per line, appended before an action runs
//! and again with its result. If the "before" record cannot be written, the
//! action does not run.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

use serde::Serialize;

use crate::domain::{Change, ChangeOutcome};

/// One audit record.
#[derive(Debug, Serialize)]
pub struct Record<'a> {
    pub time: String,
    pub user: &'a str,
    /// Correlates the `started` and `finished` records of one action.
    pub id: u64,
    pub phase: &'static str,
    pub context: &'a str,
    pub target: String,
    pub action: &'static str,
    pub change: String,
    pub parameters: &'a Change,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result: Option<AuditResult<'a>>,
}

/// The result part of a `finished` record.
#[derive(Debug, Serialize)]
pub struct AuditResult<'a> {
    pub ok: bool,
    pub summary: &'a str,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub details: &'a [String],
}

/// An append-only JSON-lines file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    user: String,
    context: String,
}

/// The OS user running opsdeck.
pub fn os_user() -> String {
    whoami::fallible::username()
        .ok()
        .or_else(|| std::env::var("USER").ok())
        .unwrap_or_else(|| "unknown".into())
}

impl AuditLog {
    pub fn new(
        path: impl Into<PathBuf>,
        user: impl Into<String>,
        context: impl Into<String>,
    ) -> Self {
        Self {
            path: path.into(),
            user: user.into(),
            context: context.into(),
        }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn open(&self) -> std::io::Result<File> {
        if let Some(dir) = self.path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.path)
    }

    fn write(&self, record: &Record<'_>) -> std::io::Result<()> {
        let mut line = serde_json::to_vec(record).map_err(std::io::Error::other)?;
        line.push(b'\n');
        let mut f = self.open()?;
        // One write call per record so concurrent appenders never interleave a line.
        f.write_all(&line)?;
        f.sync_data()
    }

    fn record<'a>(
        &'a self,
        id: u64,
        phase: &'static str,
        request: &'a Change,
        result: Option<AuditResult<'a>>,
    ) -> Record<'a> {
        Record {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            user: &self.user,
            id,
            phase,
            context: &self.context,
            target: request.target(),
            action: request.verb(),
            change: request.describe(),
            parameters: request,
            result,
        }
    }

    /// Append the record written before an action runs.
    pub fn started(&self, id: u64, request: &Change) -> std::io::Result<()> {
        self.write(&self.record(id, "started", request, None))
    }

    /// Append the record of an action's result.
    pub fn finished(
        &self,
        id: u64,
        request: &Change,
        result: &Result<ChangeOutcome, String>,
    ) -> std::io::Result<()> {
        let res = match result {
            Ok(o) => AuditResult {
                ok: true,
                summary: &o.summary,
                details: &o.details,
            },
            Err(e) => AuditResult {
                ok: false,
                summary: e,
                details: &[],
            },
        };
        self.write(&self.record(id, "finished", request, Some(res)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::{WorkloadKind, WorkloadRef};

    #[test]
    fn writes_started_and_finished_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = AuditLog::new(dir.path().join("sub/audit.jsonl"), "alice", "sim:test");
        let req = Change::Scale {
            target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"),
            from: 3,
            to: 6,
        };
        log.started(7, &req).unwrap();
        log.finished(
            7,
            &req,
            &Ok(ChangeOutcome {
                summary: "scaled".into(),
                details: vec![],
            }),
        )
        .unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["phase"], "started");
        assert_eq!(lines[0]["user"], "alice");
        assert_eq!(lines[0]["action"], "scale");
        assert_eq!(lines[0]["target"], "deployment shop/api");
        assert_eq!(lines[0]["change"], "scale deployment shop/api 3 -> 6");
        assert_eq!(lines[0]["parameters"]["to"], 6);
        assert!(lines[0].get("result").is_none());
        assert_eq!(lines[1]["phase"], "finished");
        assert_eq!(lines[1]["result"]["ok"], true);
        assert_eq!(lines[1]["id"], 7);
    }
}
