//! Running a change with its audit records: `started` before, `finished`
//! after (or `finished`, marked interrupted, when opsdeck must quit first).

use tokio_util::sync::CancellationToken;

use crate::audit::{AuditLog, Audited, new_id};
use crate::source::ChangeExecutor;

/// Write the audit record, run the action, write its result. The action does
/// not run if the first record cannot be written. Both records carry a new
/// ULID and the executor's context for the request (the Kubernetes context,
/// the AWS profile, region and cluster), else the session's.
pub async fn run_audited(
    executor: &dyn ChangeExecutor,
    audit: &AuditLog,
    request: &crate::domain::Change,
    interrupt: &CancellationToken,
) -> Result<crate::domain::ChangeOutcome, String> {
    let action = Audited {
        id: new_id(),
        // A batch acts in one place (one namespace, cluster or database):
        // where its first action runs.
        context: match request {
            crate::domain::Change::Batch { changes } => {
                changes.first().and_then(|c| executor.context(c))
            }
            _ => executor.context(request),
        },
        request,
    };
    let id = action.id.as_str();
    if let Err(e) = audit.started(&action) {
        tracing::error!(error = %e, path = %audit.path().display(), "audit log not writable; action not run");
        return Err(format!(
            "not run: the audit log {} cannot be written: {e}",
            audit.path().display()
        ));
    }
    tracing::info!(id, change = %request.describe(), "action started");
    let run = async {
        match request {
            crate::domain::Change::Batch { changes } => {
                run_batch(executor, changes, &request.describe()).await
            }
            _ => executor.execute(request).await.map_err(|e| e.to_string()),
        }
    };
    let result = tokio::select! {
        r = run => r,
        () = interrupt.cancelled() => {
            let why = "interrupted: opsdeck quit before the result came back; \
                       its outcome is unknown, check the object";
            tracing::warn!(id, "action interrupted by quitting");
            if let Err(e) = audit.interrupted(&action, why) {
                tracing::error!(error = %e, "audit log: interruption not written");
            }
            return Err(why.to_string());
        }
    };
    if let Err(e) = audit.finished(&action, &result) {
        tracing::error!(error = %e, "audit log: result not written");
        return match result {
            Ok(o) => Err(format!(
                "{} — but its result could not be written to the audit log: {e}",
                o.summary
            )),
            Err(r) => Err(format!("{r} (and the audit log could not be written: {e})")),
        };
    }
    tracing::info!(id, ok = result.is_ok(), "action finished");
    result
}

/// Run a batch's actions one after another (one failure does not stop the
/// rest); the outcome has one line per item, and fails if any item failed.
async fn run_batch(
    executor: &dyn ChangeExecutor,
    changes: &[crate::domain::Change],
    what: &str,
) -> Result<crate::domain::ChangeOutcome, String> {
    let mut details = Vec::new();
    let mut failed = 0;
    for c in changes {
        match executor.execute(c).await {
            Ok(o) => details.push(format!("ok: {}", o.summary)),
            Err(e) => {
                failed += 1;
                details.push(format!("failed: {}: {e}", c.target()));
            }
        }
    }
    let n = changes.len();
    if failed == 0 {
        Ok(crate::domain::ChangeOutcome {
            summary: format!("{n} of {n} done: {what}"),
            details,
        })
    } else {
        Err(format!(
            "{} of {n} done, {failed} failed: {}",
            n - failed,
            details
                .iter()
                .filter(|d| d.starts_with("failed"))
                .cloned()
                .collect::<Vec<_>>()
                .join("; ")
        ))
    }
}

#[cfg(test)]
mod batch_tests {
    use super::*;
    use crate::domain::{Change, ChangeOutcome, WorkloadKind, WorkloadRef};
    use crate::source::SourceError;
    use async_trait::async_trait;

    /// Deletes every pod but `api-2`, which is already gone.
    struct Pods;

    #[async_trait]
    impl ChangeExecutor for Pods {
        async fn execute(&self, request: &Change) -> Result<ChangeOutcome, SourceError> {
            match request {
                Change::DeletePod { target, .. } if target.name == "api-2" => {
                    Err(SourceError::NotFound(format!("{target}")))
                }
                Change::DeletePod { target, .. } => Ok(ChangeOutcome {
                    summary: format!("deleted {target}"),
                    details: Vec::new(),
                }),
                other => Err(SourceError::Blocked(other.describe())),
            }
        }

        fn context(&self, request: &Change) -> Option<String> {
            Some(format!("kube:test {}", request.verb()))
        }
    }

    fn pod(name: &str) -> Change {
        Change::DeletePod {
            target: WorkloadRef::new(WorkloadKind::Pod, "shop", name),
            uid: None,
        }
    }

    #[tokio::test]
    async fn a_batch_runs_every_item_and_is_audited_once_with_each_result() {
        let dir = tempfile::tempdir().expect("tempdir");
        let audit = AuditLog::new(dir.path().join("audit.jsonl"), "alice", "session");
        let ok = Change::Batch {
            changes: vec![pod("api-1"), pod("api-3")],
        };
        let none = CancellationToken::new();
        let out = run_audited(&Pods, &audit, &ok, &none)
            .await
            .expect("all ok");
        assert_eq!(out.summary, "2 of 2 done: delete 2 pods in shop");
        assert_eq!(
            out.details,
            ["ok: deleted pod shop/api-1", "ok: deleted pod shop/api-3"]
        );
        let mixed = Change::Batch {
            changes: vec![pod("api-1"), pod("api-2"), pod("api-3")],
        };
        let err = run_audited(&Pods, &audit, &mixed, &none)
            .await
            .expect_err("one failed");
        assert_eq!(
            err,
            "2 of 3 done, 1 failed: failed: pod shop/api-2: not found: pod shop/api-2"
        );
        let text = std::fs::read_to_string(audit.path()).expect("audit");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(lines.len(), 4, "started and finished, once per batch");
        assert_eq!(lines[2]["action"], "batch");
        assert_eq!(lines[2]["change"], "delete 3 pods in shop");
        // A batch is recorded where its actions run, not as a "batch".
        assert_eq!(lines[2]["context"], "kube:test delete_pod");
        assert_eq!(
            lines[2]["parameters"]["changes"][1]["target"]["name"],
            "api-2"
        );
        assert_eq!(lines[3]["result"]["ok"], false);
    }

    /// Never answers.
    struct Hung;

    #[async_trait]
    impl ChangeExecutor for Hung {
        async fn execute(&self, _request: &Change) -> Result<ChangeOutcome, SourceError> {
            std::future::pending().await
        }
    }

    #[tokio::test]
    async fn an_interrupted_action_gets_a_finished_record_marked_so() {
        let dir = tempfile::tempdir().expect("tempdir");
        let audit = AuditLog::new(dir.path().join("audit.jsonl"), "alice", "session");
        let interrupt = CancellationToken::new();
        let stop = interrupt.clone();
        tokio::spawn(async move {
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            stop.cancel();
        });
        let err = run_audited(&Hung, &audit, &pod("api-1"), &interrupt)
            .await
            .expect_err("interrupted");
        assert!(err.starts_with("interrupted:"), "{err}");
        let text = std::fs::read_to_string(audit.path()).expect("audit");
        let lines: Vec<serde_json::Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).expect("json"))
            .collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[0]["phase"], "started");
        assert_eq!(lines[1]["phase"], "finished");
        assert_eq!(lines[1]["id"], lines[0]["id"]);
        assert_eq!(lines[1]["result"]["interrupted"], true);
        assert_eq!(lines[1]["result"]["ok"], false);
    }
}
