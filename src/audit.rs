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
    /// Correlates the `started` and `finished` records of one action: a
    /// ULID, unique across runs and sessions and sortable by time.
    pub id: &'a str,
    pub phase: &'static str,
    /// Where the action ran: the Kubernetes context, the AWS
    /// profile/region/cluster, the database.
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
    /// opsdeck had to quit before the action's result came back: its
    /// outcome is unknown.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub interrupted: bool,
}

/// An append-only JSON-lines file.
#[derive(Debug, Clone)]
pub struct AuditLog {
    path: PathBuf,
    user: String,
    /// The session's label, for records whose executor names no context.
    context: String,
}

/// Crockford's base32 alphabet, as ULIDs use it.
const CROCKFORD: &[u8; 32] = b"0123456789ABCDEFGHJKMNPQRSTVWXYZ";

/// A new action id: a ULID (48 bits of milliseconds since the epoch, then
/// 80 random bits) in its 26-character text form. Ids from different runs
/// never repeat, and they sort by time.
pub fn new_id() -> String {
    use std::hash::{BuildHasher, Hasher};
    use std::sync::atomic::{AtomicU64, Ordering};
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap_or_default();
    let millis = (now.as_millis() as u64) & ((1 << 48) - 1);
    // RandomState is seeded from the OS's randomness once per thread and
    // differs on every call; the sequence number and the clock make two
    // ids of one process differ even if it did not.
    let seq = SEQ.fetch_add(1, Ordering::Relaxed);
    let mut random = [0u64; 2];
    for (i, r) in random.iter_mut().enumerate() {
        let mut h = std::hash::RandomState::new().build_hasher();
        h.write_u64(seq);
        h.write_u128(now.as_nanos());
        h.write_u32(std::process::id());
        h.write_usize(i);
        *r = h.finish();
    }
    let bits: u128 =
        (u128::from(millis) << 80) | (u128::from(random[0] & 0xFFFF) << 64) | u128::from(random[1]);
    (0..26)
        .rev()
        .map(|i| CROCKFORD[((bits >> (i * 5)) & 31) as usize] as char)
        .collect()
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
        action: &'a Audited<'a>,
        phase: &'static str,
        result: Option<AuditResult<'a>>,
    ) -> Record<'a> {
        let request = action.request;
        Record {
            time: humantime::format_rfc3339_millis(SystemTime::now()).to_string(),
            user: &self.user,
            id: &action.id,
            phase,
            context: action.context.as_deref().unwrap_or(&self.context),
            target: request.target(),
            action: request.verb(),
            change: request.describe(),
            parameters: request,
            result,
        }
    }

    /// Append the record written before an action runs.
    pub fn started(&self, action: &Audited<'_>) -> std::io::Result<()> {
        self.write(&self.record(action, "started", None))
    }

    /// Append the record of an action's result.
    pub fn finished(
        &self,
        action: &Audited<'_>,
        result: &Result<ChangeOutcome, String>,
    ) -> std::io::Result<()> {
        let res = match result {
            Ok(o) => AuditResult {
                ok: true,
                summary: &o.summary,
                details: &o.details,
                interrupted: false,
            },
            Err(e) => AuditResult {
                ok: false,
                summary: e,
                details: &[],
                interrupted: false,
            },
        };
        self.write(&self.record(action, "finished", Some(res)))
    }

    /// Append the `finished` record of an action whose result never came
    /// back because opsdeck had to quit (`why`).
    pub fn interrupted(&self, action: &Audited<'_>, why: &str) -> std::io::Result<()> {
        let res = AuditResult {
            ok: false,
            summary: why,
            details: &[],
            interrupted: true,
        };
        self.write(&self.record(action, "finished", Some(res)))
    }
}

/// One action as the audit log records it.
#[derive(Debug, Clone)]
pub struct Audited<'a> {
    /// From [`new_id`].
    pub id: String,
    /// The executor's context for this request, if it names one.
    pub context: Option<String>,
    pub request: &'a Change,
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
        let action = Audited {
            id: new_id(),
            context: Some("kube:prod".into()),
            request: &req,
        };
        log.started(&action).unwrap();
        log.finished(
            &action,
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
        assert_eq!(lines[1]["id"], lines[0]["id"]);
        assert_eq!(lines[0]["id"].as_str().map(str::len), Some(26));
        assert_eq!(lines[0]["context"], "kube:prod");
        // Without an executor's context the session's label stands.
        let other = Audited {
            id: new_id(),
            context: None,
            request: &req,
        };
        log.started(&other).unwrap();
        let text = std::fs::read_to_string(log.path()).unwrap();
        let third: serde_json::Value = serde_json::from_str(text.lines().nth(2).unwrap()).unwrap();
        assert_eq!(third["context"], "sim:test");
    }

    #[test]
    fn ids_are_ulids_unique_and_time_ordered() {
        let ids: Vec<String> = (0..2000).map(|_| new_id()).collect();
        let unique: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(unique.len(), ids.len());
        for id in &ids {
            assert_eq!(id.len(), 26);
            assert!(id.bytes().all(|b| CROCKFORD.contains(&b)), "{id}");
        }
        // The first 10 characters are the time: never decreasing.
        let first = &ids[0][..10];
        let last = &ids[ids.len() - 1][..10];
        assert!(first <= last);
        // 2026 starts with 01K…; a ULID of the epoch would be all zeros.
        assert!(
            ids[0].starts_with('0') && &ids[0][..2] != "00",
            "{}",
            ids[0]
        );
    }
}
