//! The audit log comes first: an action whose "started" record cannot be
//! written does not run, and says why; once the log can be written, the
//! same action runs and is recorded before and after.

use std::sync::atomic::{AtomicUsize, Ordering};
use tokio_util::sync::CancellationToken;

use async_trait::async_trait;
use opsdeck::app::run_audited;
use opsdeck::audit::AuditLog;
use opsdeck::domain::{Change, ChangeOutcome, WorkloadKind, WorkloadRef};
use opsdeck::source::{ChangeExecutor, SourceError};

/// Counts the changes it is asked to run.
#[derive(Default)]
struct Counting(AtomicUsize);

#[async_trait]
impl ChangeExecutor for Counting {
    async fn execute(&self, request: &Change) -> Result<ChangeOutcome, SourceError> {
        self.0.fetch_add(1, Ordering::SeqCst);
        Ok(ChangeOutcome {
            summary: format!("did {}", request.describe()),
            details: Vec::new(),
        })
    }
}

fn scale() -> Change {
    Change::Scale {
        target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"),
        from: 3,
        to: 4,
    }
}

#[tokio::test]
async fn an_action_whose_audit_record_cannot_be_written_does_not_run() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The log's directory is a file: neither it nor the log can be created.
    let blocker = dir.path().join("not-a-directory");
    std::fs::write(&blocker, "").expect("blocker");
    let unwritable = AuditLog::new(blocker.join("audit.jsonl"), "alice", "kube:test");
    let executor = Counting::default();

    let err = run_audited(&executor, &unwritable, &scale(), &CancellationToken::new())
        .await
        .expect_err("refused");
    let path = blocker.join("audit.jsonl");
    assert!(
        err.starts_with(&format!(
            "not run: the audit log {} cannot be written: ",
            path.display()
        )),
        "{err}"
    );
    assert_eq!(executor.0.load(Ordering::SeqCst), 0, "nothing ran");
    assert!(!path.exists());

    // Writable: it runs, once, recorded before and after.
    let writable = AuditLog::new(dir.path().join("audit.jsonl"), "alice", "kube:test");
    let out = run_audited(&executor, &writable, &scale(), &CancellationToken::new())
        .await
        .expect("runs");
    assert_eq!(out.summary, "did scale deployment shop/api 3 -> 4");
    assert_eq!(executor.0.load(Ordering::SeqCst), 1);
    let text = std::fs::read_to_string(writable.path()).expect("audit log");
    let phases: Vec<String> = text
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).expect("JSON");
            v["phase"].as_str().unwrap_or("").to_string()
        })
        .collect();
    assert_eq!(phases, ["started", "finished"]);
}
