//! The Kubernetes backend: pure conversions on recorded API payloads, and the
//! whole backend against the simulator's API server over a real socket.

#[path = "support/kube_proxy.rs"]
mod kube_proxy;
#[path = "support/kubectl.rs"]
mod kubectl;

use std::time::SystemTime;

use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::Pod;
use opsdeck::domain::{Health, WorkloadKind};
use opsdeck::kube::actions::{rollback_annotations, rollback_patch, rollback_target};
use opsdeck::kube::convert::{
    deployment_to_workload, pod_status_text, pod_to_workload, workload_rows,
};

fn fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!("{}/tests/fixtures/kube/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn at(s: &str) -> SystemTime {
    humantime::parse_rfc3339(s).unwrap()
}

fn now() -> SystemTime {
    at("2026-11-23T10:00:00Z")
}

fn api_replica_sets() -> Vec<ReplicaSet> {
    let list: k8s_openapi::List<ReplicaSet> = fixture("replicasets_api.json");
    list.items
}

#[test]
fn running_pod_is_ok() {
    let pod: Pod = fixture("pod_running.json");
    let w = pod_to_workload(&pod, now());
    assert_eq!(w.id.kind, WorkloadKind::Pod);
    assert_eq!(w.id.scope, "shop");
    assert_eq!(w.id.name, "api-7c9d8f6b5-x2x7q");
    assert_eq!(w.status, "Running");
    assert_eq!((w.ready, w.desired, w.restarts), (1, 1, 0));
    assert_eq!(w.health, Health::Ok);
    assert_eq!(w.reason, None);
    assert_eq!(w.owner.as_deref(), Some("api"));
    assert!(!w.oom_killed);
    assert_eq!(w.created, at("2026-11-23T09:40:12Z"));
}

#[test]
fn oom_crashloop_pod_is_critical_with_reason() {
    let pod: Pod = fixture("pod_crashloop_oom.json");
    let w = pod_to_workload(&pod, now());
    assert_eq!(w.status, "CrashLoopBackOff");
    assert_eq!(w.health, Health::Critical);
    assert!(w.oom_killed);
    assert_eq!(w.restarts, 6);
    assert_eq!((w.ready, w.desired), (0, 1));
    assert_eq!(
        w.reason.as_deref(),
        Some("CrashLoopBackOff (worker); last: OOMKilled (exit 137) 8m ago; 6 restarts")
    );
    assert_eq!(w.owner.as_deref(), Some("worker"));
}

#[test]
fn image_pull_backoff_is_critical_with_the_kubelet_message() {
    let pod: Pod = fixture("pod_imagepull.json");
    let w = pod_to_workload(&pod, now());
    assert_eq!(w.status, "ImagePullBackOff");
    assert_eq!(w.health, Health::Critical);
    let reason = w.reason.unwrap();
    assert!(
        reason.starts_with("ImagePullBackOff (web): Back-off pulling image"),
        "{reason}"
    );
}

#[test]
fn pending_pod_warns_not_ready() {
    let pod: Pod = fixture("pod_pending.json");
    let w = pod_to_workload(&pod, now());
    assert_eq!(w.status, "ContainerCreating");
    assert_eq!(w.health, Health::Warn);
    assert_eq!(
        w.reason.as_deref(),
        Some("not ready (ContainerCreating): containers with unready status: [api]")
    );
}

#[test]
fn terminating_pod_is_marked() {
    let pod: Pod = fixture("pod_terminating.json");
    assert_eq!(pod_status_text(&pod), "Terminating");
    let w = pod_to_workload(&pod, now());
    assert_eq!(w.health, Health::Ok);
    assert_eq!(w.ready, 0);
    assert_eq!(w.reason.as_deref(), Some("terminating"));
}

#[test]
fn rolling_deployment_warns_with_revision() {
    let d: Deployment = fixture("deployment_rolling.json");
    let rss = api_replica_sets();
    let refs: Vec<&ReplicaSet> = rss.iter().collect();
    let w = deployment_to_workload(&d, &refs, now());
    assert_eq!(w.id.kind, WorkloadKind::Deployment);
    assert_eq!(w.status, "Progressing 2/4 updated");
    assert_eq!((w.ready, w.desired), (3, 4));
    assert_eq!(w.health, Health::Warn);
    assert_eq!(w.revision, Some(2));
    assert_eq!(
        w.reason.as_deref(),
        Some("3/4 ready; rollout to revision 2 in progress")
    );
}

#[test]
fn revision_falls_back_to_the_newest_replica_set() {
    let mut d: Deployment = fixture("deployment_rolling.json");
    d.metadata.annotations = None;
    let rss = api_replica_sets();
    let refs: Vec<&ReplicaSet> = rss.iter().collect();
    assert_eq!(deployment_to_workload(&d, &refs, now()).revision, Some(2));
}

#[test]
fn progress_deadline_exceeded_is_critical() {
    let d: Deployment = fixture("deployment_deadline.json");
    let w = deployment_to_workload(&d, &[], now());
    assert_eq!(w.status, "ProgressDeadlineExceeded");
    assert_eq!(w.health, Health::Critical);
    assert_eq!(
        w.reason.as_deref(),
        Some("ProgressDeadlineExceeded: ReplicaSet \"web-6d5f4c3b2a\" has timed out progressing.")
    );
    assert_eq!(w.revision, Some(5));
}

#[test]
fn deployment_with_no_ready_pods_is_critical() {
    let d: Deployment = fixture("deployment_degraded.json");
    let w = deployment_to_workload(&d, &[], now());
    assert_eq!(w.status, "Degraded");
    assert_eq!(w.health, Health::Critical);
    assert_eq!(w.reason.as_deref(), Some("0/2 ready"));
}

#[test]
fn rows_group_pods_under_their_deployment_and_sum_their_trouble() {
    let api: Deployment = fixture("deployment_rolling.json");
    let worker: Deployment = fixture("deployment_degraded.json");
    let rss = api_replica_sets();
    let pods: Vec<Pod> = vec![
        fixture("pod_crashloop_oom.json"),
        fixture("pod_running.json"),
        fixture("pod_terminating.json"),
        fixture("pod_imagepull.json"),
    ];
    let rs_refs: Vec<&ReplicaSet> = rss.iter().collect();
    let pod_refs: Vec<&Pod> = pods.iter().collect();
    let rows = workload_rows(&[&worker, &api], &rs_refs, &pod_refs, now());
    let names: Vec<(&str, &str)> = rows
        .iter()
        .map(|r| (r.id.kind.short(), r.id.name.as_str()))
        .collect();
    assert_eq!(
        names,
        vec![
            ("deploy", "api"),
            ("pod", "api-7c9d8f6b5-old77"),
            ("pod", "api-7c9d8f6b5-x2x7q"),
            ("deploy", "worker"),
            ("pod", "worker-5b6c7d8e9f-k4m2p"),
            // web's deployment is not in the cache: its pod still shows.
            ("pod", "web-6d5f4c3b2a-zz9qd"),
        ]
    );
    // Pods get their ReplicaSet's revision.
    assert_eq!(rows[2].revision, Some(1));
    // The worker deployment carries its pod's OOM kill and restarts.
    let worker_row = &rows[3];
    assert!(worker_row.oom_killed);
    assert_eq!(worker_row.restarts, 6);
    assert_eq!(worker_row.health, Health::Critical);
    assert!(
        worker_row
            .reason
            .as_deref()
            .unwrap()
            .contains("1 pod failing (CrashLoopBackOff (worker)"),
        "{:?}",
        worker_row.reason
    );
    // Terminating pods do not count towards the deployment's restarts.
    assert_eq!(rows[0].restarts, 0);
}

#[test]
fn rollback_picks_the_previous_revision_like_kubectl() {
    let rss = api_replica_sets();
    let refs: Vec<&ReplicaSet> = rss.iter().collect();
    let rs = rollback_target(&refs, None).unwrap();
    assert_eq!(rs.metadata.name.as_deref(), Some("api-7c9d8f6b5"));
    let rs = rollback_target(&refs, Some(2)).unwrap();
    assert_eq!(rs.metadata.name.as_deref(), Some("api-6f5e4d3c2b"));
    assert_eq!(
        rollback_target(&refs, Some(9)).unwrap_err(),
        "unable to find specified revision 9 in history"
    );
    assert_eq!(
        rollback_target(&refs[..1], None).unwrap_err(),
        "no rollout history found"
    );
}

#[test]
fn rollback_patch_matches_kubectl() {
    let d: Deployment = fixture("deployment_rolling.json");
    let rss = api_replica_sets();
    let rs = &rss[0];
    let annotations = rollback_annotations(&d, rs);
    // The deployment keeps its own revision; the ReplicaSet's bookkeeping
    // annotations are not copied.
    assert_eq!(
        serde_json::to_value(&annotations).unwrap(),
        serde_json::json!({ "deployment.kubernetes.io/revision": "2" })
    );
    let template = rs.spec.as_ref().unwrap().template.clone().unwrap();
    let patch = rollback_patch(&template, &annotations);
    assert_eq!(
        patch,
        serde_json::json!([
            {
                "op": "replace",
                "path": "/spec/template",
                "value": {
                    "metadata": { "labels": { "app": "api" } },
                    "spec": { "containers": [ { "name": "api", "image": "registry.example.com/shop/api:1.8.3" } ] }
                }
            },
            {
                "op": "replace",
                "path": "/metadata/annotations",
                "value": { "deployment.kubernetes.io/revision": "2" }
            }
        ])
    );
}

// ---------------------------------------------------------------------------
// Against the simulator's Kubernetes API server, over a real socket.
// ---------------------------------------------------------------------------

mod live {
    use std::collections::BTreeSet;
    use std::future::Future;
    use std::path::PathBuf;
    use std::time::{Duration, Instant, SystemTime};

    use futures_util::StreamExt;
    use k8s_openapi::api::apps::v1::Deployment;
    use k8s_openapi::api::core::v1::Pod;
    use kube::api::Api;
    use kube::runtime::watcher::{self, Event};
    use opsdeck::domain::{
        Change, Level, LogLine, StreamState, Workload, WorkloadKind, WorkloadRef,
    };
    use opsdeck::kube::{
        KubeBackend, KubeOptions, LogOptions, LogSelector, WatchPhase, backends, connect, contexts,
    };
    use opsdeck::sim::k8s::JOURNAL_CAPACITY;
    use opsdeck::sim::kube_api::{ApiServer, ServeOptions, normalised_deployment};
    use opsdeck::sim::{Scenario, SimEstate, World};
    use opsdeck::source::{ChangeExecutor, LogSource, MetricSource, SourceError, WorkloadSource};

    const WAIT: Duration = Duration::from_secs(30);

    fn world_at(scenario: Scenario, seed: u64, start: SystemTime) -> World {
        let prewarm = Duration::from_secs(12 * 60);
        let mut world = World::new(scenario, seed, start);
        world.step(prewarm);
        world
    }

    fn twelve_minutes_ago() -> SystemTime {
        SystemTime::now() - Duration::from_secs(12 * 60)
    }

    struct Sim {
        server: Option<ApiServer>,
        estate: SimEstate,
        port: u16,
        kubeconfig: PathBuf,
        _dir: tempfile::TempDir,
    }

    impl Sim {
        async fn start(scenario: Scenario, speed: f64) -> Sim {
            Sim::serve(SimEstate::new(
                world_at(scenario, 7, twelve_minutes_ago()),
                speed,
            ))
            .await
        }

        async fn serve(estate: SimEstate) -> Sim {
            let server = ApiServer::start(estate.clone(), ServeOptions { port: 0 })
                .await
                .unwrap();
            let dir = tempfile::tempdir().unwrap();
            let kubeconfig = dir.path().join("kubeconfig");
            server.write_kubeconfig(&kubeconfig).unwrap();
            Sim {
                port: server.addr().port(),
                server: Some(server),
                estate,
                kubeconfig,
                _dir: dir,
            }
        }

        fn opts(&self, context: &str) -> KubeOptions {
            KubeOptions {
                kubeconfig: Some(self.kubeconfig.clone()),
                context: Some(context.to_string()),
                namespace: Some("shop".to_string()),
                ..KubeOptions::default()
            }
        }

        async fn connect(&self, context: &str) -> KubeBackend {
            connect(self.opts(context)).await.unwrap()
        }

        async fn stop(&mut self) {
            if let Some(server) = self.server.take() {
                server.shutdown().await;
            }
        }

        async fn restart(&mut self) {
            let server = ApiServer::start(self.estate.clone(), ServeOptions { port: self.port })
                .await
                .unwrap();
            self.server = Some(server);
        }

        /// Push more changes through the journal than it keeps, so every
        /// resourceVersion from before is expired (410 Gone).
        fn expire_history(&self) {
            self.estate.with(|w| {
                let (k, _, _) = w.k8s_write();
                k.record_changes();
                for _ in 0..=JOURNAL_CAPACITY {
                    let rv = k.next_rv();
                    k.pods[0].meta.resource_version = rv;
                    k.record_changes();
                }
            });
        }
    }

    /// Poll `f` until it yields, at most `limit`.
    async fn eventually<T, F, Fut>(what: &str, limit: Duration, mut f: F) -> T
    where
        F: FnMut() -> Fut,
        Fut: Future<Output = Option<T>>,
    {
        let deadline = Instant::now() + limit;
        loop {
            if let Some(v) = f().await {
                return v;
            }
            assert!(Instant::now() < deadline, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Events are watched and arrive as log lines under `events`, warnings as warnings.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn events_are_watched_into_the_log_stream() {
        let mut sim = Sim::start(Scenario::OomCrashloop, 1.0).await;
        let backend = sim.connect("sim").await;
        let mut events = backend.events();
        let mut seen: Vec<LogLine> = Vec::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        let line = loop {
            seen.extend(
                events
                    .next_batch(Duration::from_millis(200))
                    .await
                    .unwrap_or_default(),
            );
            // Events arrive in no set order: wait for a BackOff warning and
            // for a Normal event (shown as info).
            let backoff = seen
                .iter()
                .find(|l| l.text.starts_with("Warning BackOff pod/worker-"));
            let normal = seen.iter().any(|l| l.text.starts_with("Normal "));
            if let (Some(l), true) = (backoff, normal) {
                break l.clone();
            }
            assert!(
                Instant::now() < deadline,
                "no BackOff warning and Normal event in {seen:?}"
            );
        };
        assert_eq!(line.source, "events");
        assert_eq!(line.level, Level::Warn);
        assert!(seen.iter().all(|l| l.source == "events"));
        assert!(
            seen.iter()
                .filter(|l| l.text.starts_with("Normal "))
                .all(|l| l.level == Level::Info),
            "Normal events are info"
        );
        // While the API server is down the stream reports it.
        sim.stop().await;
        let deadline = Instant::now() + Duration::from_secs(30);
        let err = loop {
            if let Err(e) = events.next_batch(Duration::from_millis(200)).await {
                break e;
            }
            assert!(
                Instant::now() < deadline,
                "the events watch never reported the outage"
            );
        };
        assert!(
            matches!(err, SourceError::Unreachable(ref m) if m.contains("watching events")),
            "{err:?}"
        );
        sim.restart().await;
    }

    fn row<'a>(rows: &'a [Workload], kind: WorkloadKind, name: &str) -> Option<&'a Workload> {
        rows.iter().find(|r| r.id.kind == kind && r.id.name == name)
    }

    fn live_pods_of<'a>(rows: &'a [Workload], deployment: &str) -> Vec<&'a Workload> {
        rows.iter()
            .filter(|r| {
                r.id.kind == WorkloadKind::Pod
                    && r.owner.as_deref() == Some(deployment)
                    && r.status != "Terminating"
            })
            .collect()
    }

    fn deployment(name: &str) -> WorkloadRef {
        WorkloadRef::new(WorkloadKind::Deployment, "shop", name)
    }

    async fn rows_when(
        source: &dyn WorkloadSource,
        what: &str,
        ok: impl Fn(&[Workload]) -> bool,
    ) -> Vec<Workload> {
        eventually(what, WAIT, || async {
            match source.workloads().await {
                Ok(rows) if ok(&rows) => Some(rows),
                _ => None,
            }
        })
        .await
    }

    async fn replicas(sim: &Sim, name: &str) -> u32 {
        let backend = sim.connect("sim").await;
        let api: Api<Deployment> = Api::namespaced(backend.client(), "shop");
        let d = api.get(name).await.unwrap();
        d.spec.unwrap().replicas.unwrap() as u32
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn lists_and_watches_workloads_and_sees_a_scale() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let backend = sim.connect("sim").await;
        let source = backend.workloads();
        assert_eq!(source.label(), "kube:sim/shop");
        let rows = rows_when(&source, "the three deployments", |rows| {
            ["api", "web", "worker"]
                .iter()
                .all(|d| row(rows, WorkloadKind::Deployment, d).is_some())
        })
        .await;
        for d in ["api", "web", "worker"] {
            let dep = row(&rows, WorkloadKind::Deployment, d).unwrap();
            assert_eq!(dep.revision, Some(2), "{dep:?}");
            assert!(!live_pods_of(&rows, d).is_empty(), "no pods for {d}");
            for p in live_pods_of(&rows, d) {
                assert_eq!(p.revision, Some(2), "{p:?}");
            }
        }
        let before = row(&rows, WorkloadKind::Deployment, "api").unwrap().desired;

        // A count confirmed against a number the deployment no longer has
        // is refused, in the dry run and for real, and nothing changes.
        let stale = Change::Scale {
            target: deployment("api"),
            from: before + 5,
            to: before + 2,
        };
        let dry = backend.executor().preview(&stale).await;
        let expected = format!(
            "deployment shop/api now has {before} replicas, not {} as confirmed; nothing was changed",
            before + 5
        );
        assert!(
            matches!(&dry, Err(SourceError::Blocked(m)) if *m == expected),
            "{dry:?}"
        );
        let refused = backend.executor().execute(&stale).await;
        assert!(
            matches!(&refused, Err(SourceError::Blocked(m)) if *m == expected),
            "{refused:?}"
        );
        assert_eq!(replicas(&sim, "api").await, before);

        let outcome = backend
            .executor()
            .execute(&Change::Scale {
                target: deployment("api"),
                from: before,
                to: before + 2,
            })
            .await
            .unwrap();
        assert_eq!(
            outcome.summary,
            format!(
                "scaled deployment shop/api replicas {before} -> {}",
                before + 2
            )
        );
        rows_when(&source, "the scale through the watch", |rows| {
            row(rows, WorkloadKind::Deployment, "api").is_some_and(|d| d.desired == before + 2)
                && live_pods_of(rows, "api").len() == (before + 2) as usize
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn an_expired_resource_version_relists_and_the_watch_continues() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let backend = sim.connect("sim").await;
        let source = backend.workloads();
        rows_when(&source, "first rows", |rows| !rows.is_empty()).await;

        // A plain kube watcher on the same server, to see the 410 itself.
        let pods: Api<Pod> = Api::namespaced(backend.client(), "shop");
        let mut stream = watcher(pods, watcher::Config::default()).boxed();
        let mut listed = false;
        while !listed {
            let ev = tokio::time::timeout(WAIT, stream.next()).await.unwrap();
            listed = matches!(ev, Some(Ok(Event::InitDone)));
        }

        sim.expire_history();

        // The watcher gets 410 Gone, relists (Init .. InitDone) and goes on.
        let mut saw_gone = false;
        let mut relisted = false;
        let deadline = Instant::now() + WAIT;
        while !relisted {
            assert!(Instant::now() < deadline, "no relist after 410");
            let ev = tokio::time::timeout(WAIT, stream.next())
                .await
                .unwrap()
                .unwrap();
            match ev {
                Err(watcher::Error::WatchError(status)) if status.code == 410 => saw_gone = true,
                Ok(Event::InitDone) if saw_gone => relisted = true,
                _ => {}
            }
        }

        // The backend's reflectors went through the same and are healthy.
        eventually("all watches ready", WAIT, || async {
            source
                .phases()
                .iter()
                .all(|(_, p)| *p == WatchPhase::Ready)
                .then_some(())
        })
        .await;
        let before = replicas(&sim, "web").await;
        backend
            .executor()
            .execute(&Change::Scale {
                target: deployment("web"),
                from: before,
                to: before + 1,
            })
            .await
            .unwrap();
        rows_when(&source, "a change after the relist", |rows| {
            row(rows, WorkloadKind::Deployment, "web").is_some_and(|d| d.desired == before + 1)
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn streaming_lists_end_on_the_initial_events_bookmark() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let backend = connect(KubeOptions {
            streaming_lists: true,
            ..sim.opts("sim")
        })
        .await
        .unwrap();

        // The raw watcher: Init, one InitApply per pod, InitDone on the bookmark.
        let pods: Api<Pod> = Api::namespaced(backend.client(), "shop");
        let mut stream = watcher(pods, watcher::Config::default().streaming_lists()).boxed();
        let mut initial = 0;
        loop {
            let ev = tokio::time::timeout(WAIT, stream.next())
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            match ev {
                Event::Init => {}
                Event::InitApply(_) => initial += 1,
                Event::InitDone => break,
                other => panic!("unexpected {other:?} before InitDone"),
            }
        }
        assert!(initial >= 7, "{initial} pods in the initial events");

        let source = backend.workloads();
        let rows = rows_when(&source, "rows from streaming lists", |rows| {
            row(rows, WorkloadKind::Deployment, "api").is_some()
        })
        .await;
        assert!(!live_pods_of(&rows, "api").is_empty());
        let before = row(&rows, WorkloadKind::Deployment, "worker")
            .unwrap()
            .desired;
        backend
            .executor()
            .execute(&Change::Scale {
                target: deployment("worker"),
                from: before,
                to: before + 1,
            })
            .await
            .unwrap();
        rows_when(&source, "the scale after a streaming list", |rows| {
            row(rows, WorkloadKind::Deployment, "worker").is_some_and(|d| d.desired == before + 1)
        })
        .await;
    }

    async fn collect_logs(
        logs: &mut dyn LogSource,
        what: &str,
        seen: &mut Vec<LogLine>,
        done: impl Fn(&[LogLine]) -> bool,
    ) {
        let deadline = Instant::now() + WAIT;
        while !done(seen) {
            assert!(
                Instant::now() < deadline,
                "timed out waiting for {what}; sources seen: {:?}",
                seen.iter().map(|l| &l.source).collect::<BTreeSet<_>>()
            );
            let batch = logs.next_batch(Duration::from_millis(500)).await.unwrap();
            seen.extend(batch);
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn follows_logs_of_many_pods_picks_up_new_ones_and_drops_deleted_ones() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let backend = sim.connect("sim").await;
        let source = backend.workloads();
        let rows = rows_when(&source, "api pods", |rows| {
            live_pods_of(rows, "api").len() >= 2
        })
        .await;
        let api_pods: BTreeSet<String> = live_pods_of(&rows, "api")
            .iter()
            .map(|r| r.id.name.clone())
            .collect();

        let mut logs = backend.logs(LogOptions {
            selector: LogSelector::Deployment {
                namespace: "shop".into(),
                name: "api".into(),
            },
            tail_lines: Some(20),
            ..LogOptions::default()
        });
        let mut seen = Vec::new();
        collect_logs(&mut logs, "lines from every api pod", &mut seen, |seen| {
            api_pods.iter().all(|p| seen.iter().any(|l| &l.source == p))
        })
        .await;
        // Only the api's pods, timestamps parsed from the stream.
        assert!(
            seen.iter().all(|l| api_pods.contains(&l.source)),
            "{seen:?}"
        );
        assert!(seen.iter().all(|l| l.time > SystemTime::UNIX_EPOCH));
        assert!(
            seen.iter().all(|l| !l.text.starts_with("20")),
            "timestamp left in text"
        );

        // Scale up: the new pod's lines appear.
        let n = api_pods.len() as u32;
        backend
            .executor()
            .execute(&Change::Scale {
                target: deployment("api"),
                from: n,
                to: n + 1,
            })
            .await
            .unwrap();
        let rows = rows_when(&source, "the new api pod", |rows| {
            live_pods_of(rows, "api").len() == (n + 1) as usize
        })
        .await;
        let new_pod = live_pods_of(&rows, "api")
            .into_iter()
            .map(|r| r.id.name.clone())
            .find(|p| !api_pods.contains(p))
            .unwrap();
        collect_logs(&mut logs, "lines from the new pod", &mut seen, |seen| {
            seen.iter()
                .any(|l| l.source == new_pod && !l.text.starts_with("[opsdeck]"))
        })
        .await;

        // Delete one: it is dropped with a note, and nothing more comes from it.
        let victim = api_pods.iter().next().unwrap().clone();
        backend
            .executor()
            .execute(&Change::DeletePod {
                target: WorkloadRef::new(WorkloadKind::Pod, "shop", &victim),
                uid: None,
            })
            .await
            .unwrap();
        const DROPPED: &str = "[opsdeck] pod deleted; stopped following its logs";
        collect_logs(&mut logs, "the deleted pod dropped", &mut seen, |seen| {
            seen.iter().any(|l| l.source == victim && l.text == DROPPED)
        })
        .await;
        // The note is the last line from it...
        let note = seen
            .iter()
            .position(|l| l.source == victim && l.text == DROPPED)
            .unwrap();
        assert!(
            seen[note + 1..].iter().all(|l| l.source != victim),
            "lines from a deleted pod after its note: {:?}",
            &seen[note..]
        );
        // ...while every other api pod (the new one too) keeps coming.
        let others: BTreeSet<String> = api_pods
            .iter()
            .filter(|p| **p != victim)
            .cloned()
            .chain([new_pod.clone()])
            .collect();
        let mut later = Vec::new();
        collect_logs(
            &mut logs,
            "more lines from every other api pod",
            &mut later,
            |later| later.len() > 20 && others.iter().all(|p| later.iter().any(|l| &l.source == p)),
        )
        .await;
        assert!(
            later.iter().all(|l| l.source != victim),
            "lines from a deleted pod after it was dropped: {:?}",
            &later
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_lost_log_stream_is_marked_and_reconnected() {
        let mut sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let backend = sim.connect("sim").await;
        let source = backend.workloads();
        let rows = rows_when(&source, "web pods", |rows| {
            !live_pods_of(rows, "web").is_empty()
        })
        .await;
        let pod = live_pods_of(&rows, "web")[0].id.name.clone();
        let mut logs = backend.logs(LogOptions {
            selector: LogSelector::Labels([("app".to_string(), "web".to_string())].into()),
            tail_lines: Some(5),
            ..LogOptions::default()
        });
        let mut seen = Vec::new();
        collect_logs(&mut logs, "web lines", &mut seen, |seen| {
            seen.iter().any(|l| l.source == pod)
        })
        .await;

        sim.stop().await;
        let mut states = Vec::new();
        let deadline = Instant::now() + WAIT;
        while !states.iter().any(|s: &StreamState| s.source == pod) {
            assert!(Instant::now() < deadline, "timed out waiting for the loss");
            seen.extend(logs.next_batch(Duration::from_millis(500)).await.unwrap());
            states.extend(logs.stream_states());
        }
        let st = states.iter().find(|s| s.source == pod).unwrap();
        assert_eq!(st.lost, 1);
        assert!(
            st.retry_at
                .is_some_and(|t| t > SystemTime::now() - Duration::from_secs(1))
        );
        // The loss is a state, not a line.
        assert!(seen.iter().all(|l| !l.text.contains("stream lost")));
        sim.restart().await;
        let mark = seen.len();
        collect_logs(&mut logs, "lines after reconnecting", &mut seen, |seen| {
            seen[mark..]
                .iter()
                .any(|l| l.source == pod && !l.text.starts_with("[opsdeck]"))
        })
        .await;
        // No line is repeated across the reconnect.
        let lines: Vec<_> = seen
            .iter()
            .filter(|l| l.source == pod && !l.text.starts_with("[opsdeck]"))
            .map(|l| (l.time, l.text.clone()))
            .collect();
        let unique: BTreeSet<_> = lines.iter().cloned().collect();
        assert_eq!(
            lines.len(),
            unique.len(),
            "duplicated lines after reconnect"
        );
    }

    fn section<'a>(
        d: &'a opsdeck::domain::Detail,
        heading: &str,
    ) -> &'a opsdeck::domain::DetailSection {
        d.sections
            .iter()
            .find(|s| s.heading.starts_with(heading))
            .unwrap_or_else(|| panic!("no {heading} in {d:#?}"))
    }

    fn row_texts(s: &opsdeck::domain::DetailSection) -> Vec<String> {
        use opsdeck::domain::DetailRow;
        s.rows
            .iter()
            .map(|r| match r {
                DetailRow::Field { key, value, .. } => format!("{key}: {value}"),
                DetailRow::Text { text, .. } => text.clone(),
            })
            .collect()
    }

    /// Describe a crash-looping pod and its deployment over the real API:
    /// events come from `fieldSelector=involvedObject.uid=...` and are the
    /// object's own; the deployment's history has one line per revision.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn describes_pods_and_deployments_with_their_own_events() {
        use opsdeck::domain::DetailTarget;
        use opsdeck::source::Describer;
        let sim = Sim::start(Scenario::OomCrashloop, 1.0).await;
        let backend = sim.connect("sim").await;
        let source = backend.workloads();
        let rows = rows_when(&source, "a restarted worker", |rows| {
            live_pods_of(rows, "worker").iter().any(|p| p.restarts > 0)
        })
        .await;
        let pod = live_pods_of(&rows, "worker")
            .into_iter()
            .find(|p| p.restarts > 0)
            .unwrap()
            .id
            .clone();
        let d = backend
            .describe(&DetailTarget::Workload(pod.clone()))
            .await
            .unwrap();
        let container = row_texts(section(&d, "Container worker")).join("\n");
        assert!(
            container.contains("last termination: Terminated: OOMKilled, exit code 137"),
            "{container}"
        );
        assert!(container.contains("image: "), "{container}");
        let events = row_texts(section(&d, "Events"));
        assert!(
            !events.is_empty() && !events[0].starts_with("none"),
            "{events:?}"
        );
        assert!(
            events
                .iter()
                .any(|e| e.contains("OOMKilled") || e.contains("BackOff")),
            "{events:?}"
        );
        // Only this pod's events: the other pods' names never appear.
        let others: Vec<String> = live_pods_of(&rows, "worker")
            .into_iter()
            .filter(|p| p.id != pod)
            .map(|p| p.id.name.clone())
            .collect();
        assert!(
            events
                .iter()
                .all(|e| others.iter().all(|o| !e.contains(o.as_str()))),
            "{events:?}"
        );
        let owner = row_texts(section(&d, "Pod "));
        assert!(
            owner.iter().any(|r| r.contains("Deployment worker")),
            "{owner:?}"
        );
        let yaml = d.yaml.clone().unwrap();
        assert!(yaml.contains("kind: Pod"), "{yaml}");
        assert!(!yaml.contains("managedFields"));
        let deployment = d.links.first().cloned().unwrap();
        assert_eq!(
            deployment,
            DetailTarget::Workload(WorkloadRef::new(WorkloadKind::Deployment, "shop", "worker"))
        );
        let dd = backend.describe(&deployment).await.unwrap();
        let summary = row_texts(section(&dd, "Deployment shop/worker"));
        assert!(
            summary.iter().any(|r| r.starts_with("revision: ")),
            "{summary:?}"
        );
        let history = row_texts(section(&dd, "Rollout history"));
        assert!(
            history.iter().any(|r| r.contains("(current)")),
            "{history:?}"
        );
        assert!(
            dd.links.contains(&DetailTarget::Workload(pod.clone())),
            "{:?}",
            dd.links
        );
        assert!(dd.yaml.unwrap().contains("kind: Deployment"));
        let missing = backend
            .describe(&DetailTarget::Workload(WorkloadRef::new(
                WorkloadKind::Pod,
                "shop",
                "no-such-pod",
            )))
            .await;
        assert!(
            matches!(missing, Err(SourceError::NotFound(_))),
            "{missing:?}"
        );
    }

    /// A crash-looping pod's log request ends at once: the reader backs
    /// off instead of reconnecting twice a second.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn a_crash_looping_pods_stream_is_retried_with_growing_delays() {
        let sim = Sim::start(Scenario::OomCrashloop, 1.0).await;
        let backend = sim.connect("sim").await;
        let mut logs = backend.logs(LogOptions {
            selector: LogSelector::Deployment {
                namespace: "shop".into(),
                name: "worker".into(),
            },
            tail_lines: Some(5),
            ..LogOptions::default()
        });
        let watch = Duration::from_secs(8);
        let start = Instant::now();
        let mut states: Vec<(Instant, StreamState)> = Vec::new();
        while start.elapsed() < watch {
            logs.next_batch(Duration::from_millis(200)).await.unwrap();
            let now = Instant::now();
            states.extend(logs.stream_states().into_iter().map(|s| (now, s)));
        }
        let mut by_pod: std::collections::BTreeMap<String, Vec<StreamState>> = Default::default();
        for (_, st) in &states {
            by_pod
                .entry(st.source.clone())
                .or_default()
                .push(st.clone());
        }
        assert!(!by_pod.is_empty(), "no worker stream was lost in {watch:?}");
        for (pod, states) in &by_pod {
            let losses: Vec<&StreamState> =
                states.iter().filter(|s| s.retry_at.is_some()).collect();
            // 0.5 s, 1 s, 2 s, 4 s: at most 5 losses in 8 s (twice a second would be 16).
            assert!(
                losses.len() <= 5,
                "{pod}: {} reconnects in {watch:?}: {states:?}",
                losses.len()
            );
            // Counted one by one, and each retry is further off than the last.
            let counts: Vec<u32> = losses.iter().map(|s| s.lost).collect();
            let expected: Vec<u32> = (counts[0]..counts[0] + counts.len() as u32).collect();
            assert_eq!(counts, expected, "{pod}");
        }
        let crashed = by_pod
            .values()
            .find(|v| v.iter().filter(|s| s.retry_at.is_some()).count() >= 3)
            .unwrap_or_else(|| panic!("no pod lost its stream 3 times: {by_pod:?}"));
        let gaps: Vec<Duration> = crashed
            .windows(2)
            .filter_map(|w| w[1].retry_at?.duration_since(w[0].retry_at?).ok())
            .collect();
        assert!(
            gaps.windows(2).all(|g| g[1] > g[0]),
            "retries come later and later: {gaps:?}"
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn previous_logs_of_a_restarted_container() {
        let sim = Sim::start(Scenario::OomCrashloop, 1.0).await;
        let backend = sim.connect("sim").await;
        let source = backend.workloads();
        let rows = rows_when(&source, "a restarted worker", |rows| {
            live_pods_of(rows, "worker").iter().any(|p| p.restarts > 0)
        })
        .await;
        let pod = live_pods_of(&rows, "worker")
            .into_iter()
            .find(|p| p.restarts > 0)
            .unwrap()
            .id
            .name
            .clone();
        let lines = backend.previous_logs("shop", &pod, None).await.unwrap();
        assert!(!lines.is_empty());
        assert!(lines.iter().all(|l| l.source == pod));
        let missing = backend.previous_logs("shop", "no-such-pod", None).await;
        assert!(
            matches!(missing, Err(SourceError::NotFound(_))),
            "{missing:?}"
        );
    }

    /// Two identical frozen estates in the middle of the bad deploy: kubectl
    /// undoes on one, opsdeck on the other; the deployments must match.
    async fn undo_like_kubectl(to_revision: Option<u64>) {
        let start = twelve_minutes_ago();
        let a = Sim::serve(SimEstate::new(world_at(Scenario::BadDeploy, 7, start), 0.0)).await;
        let b = Sim::serve(SimEstate::new(world_at(Scenario::BadDeploy, 7, start), 0.0)).await;
        let before = normalised_deployment(&a.estate, "shop", "api");
        assert_eq!(before, normalised_deployment(&b.estate, "shop", "api"));
        assert_ne!(before, serde_json::Value::Null);

        let kubeconfig = a.kubeconfig.clone();
        let mut args: Vec<String> = [
            "--context",
            "sim",
            "-n",
            "shop",
            "rollout",
            "undo",
            "deployment/api",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        if let Some(r) = to_revision {
            args.push(format!("--to-revision={r}"));
        }
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(crate::kubectl::kubectl())
                .arg("--kubeconfig")
                .arg(&kubeconfig)
                .args(&args)
                .output()
        })
        .await
        .unwrap()
        .expect("kubectl runs");
        assert!(
            out.status.success(),
            "kubectl rollout undo failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );

        let backend = b.connect("sim").await;
        let outcome = backend
            .executor()
            .execute(&Change::RolloutUndo {
                target: deployment("api"),
                to_revision,
                plan: None,
            })
            .await
            .unwrap();
        let expected = match to_revision {
            Some(r) => format!("rolled back deployment shop/api to revision {r} ("),
            None => "rolled back deployment shop/api to revision ".to_string(),
        };
        assert!(
            outcome.summary.starts_with(&expected),
            "{}",
            outcome.summary
        );
        let by_kubectl = normalised_deployment(&a.estate, "shop", "api");
        let by_opsdeck = normalised_deployment(&b.estate, "shop", "api");
        assert_ne!(by_opsdeck, before, "undo changed nothing");
        assert_eq!(by_opsdeck, by_kubectl);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn rollout_undo_leaves_the_deployment_as_kubectl_does() {
        undo_like_kubectl(None).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn rollout_undo_to_a_revision_leaves_the_deployment_as_kubectl_does() {
        undo_like_kubectl(Some(1)).await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn rollout_restart_and_delete_pod() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let backend = sim.connect("sim").await;
        let source = backend.workloads();
        let rows = rows_when(&source, "web", |rows| {
            row(rows, WorkloadKind::Deployment, "web").is_some()
                && !live_pods_of(rows, "web").is_empty()
        })
        .await;
        let revision = row(&rows, WorkloadKind::Deployment, "web")
            .unwrap()
            .revision
            .unwrap();
        let ex = backend.executor();

        let outcome = ex
            .execute(&Change::RolloutRestart {
                target: deployment("web"),
            })
            .await
            .unwrap();
        assert!(
            outcome
                .summary
                .starts_with("restarted deployment shop/web (restartedAt ")
        );
        let api: Api<Deployment> = Api::namespaced(backend.client(), "shop");
        let d = api.get("web").await.unwrap();
        let annotations = d
            .spec
            .unwrap()
            .template
            .metadata
            .unwrap()
            .annotations
            .unwrap();
        assert!(annotations.contains_key("kubectl.kubernetes.io/restartedAt"));
        rows_when(&source, "a new revision after the restart", |rows| {
            row(rows, WorkloadKind::Deployment, "web").and_then(|d| d.revision)
                == Some(revision + 1)
        })
        .await;

        // Delete a pod of the worker: it goes, and a replacement comes.
        let rows = rows_when(&source, "worker pods", |rows| {
            !live_pods_of(rows, "worker").is_empty()
        })
        .await;
        let count = live_pods_of(&rows, "worker").len();
        let victim = live_pods_of(&rows, "worker")[0].id.name.clone();
        let uid = live_pods_of(&rows, "worker")[0].uid.clone();
        assert!(uid.is_some(), "rows carry the pod's uid");
        // A uid the pod does not have: the server refuses, nothing is deleted.
        let refused = ex
            .execute(&Change::DeletePod {
                target: WorkloadRef::new(WorkloadKind::Pod, "shop", &victim),
                uid: Some("00000000-0000-0000-0000-000000000000".into()),
            })
            .await;
        assert!(
            matches!(&refused, Err(SourceError::Blocked(m)) if m.contains("Precondition failed: UID in precondition")),
            "{refused:?}"
        );
        let pods: Api<Pod> = Api::namespaced(backend.client(), "shop");
        assert!(
            pods.get(&victim)
                .await
                .unwrap()
                .metadata
                .deletion_timestamp
                .is_none(),
            "a refused delete deletes nothing"
        );
        let outcome = ex
            .execute(&Change::DeletePod {
                target: WorkloadRef::new(WorkloadKind::Pod, "shop", &victim),
                uid,
            })
            .await
            .unwrap();
        assert_eq!(
            outcome.summary,
            format!("deleted pod shop/{victim}; its controller will replace it")
        );
        rows_when(&source, "the pod replaced", |rows| {
            let pods = live_pods_of(rows, "worker");
            pods.len() == count && pods.iter().all(|p| p.id.name != victim)
        })
        .await;
        let again = ex
            .execute(&Change::DeletePod {
                target: WorkloadRef::new(WorkloadKind::Pod, "shop", "no-such-pod"),
                uid: None,
            })
            .await;
        assert!(matches!(again, Err(SourceError::NotFound(_))), "{again:?}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_viewer_is_denied_by_the_access_review_and_by_the_server() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let viewer = sim.connect("sim-viewer").await;
        assert_eq!(viewer.user(), "sim-viewer");
        let scale = Change::Scale {
            target: deployment("api"),
            from: 3,
            to: 6,
        };
        let denied = viewer.executor().allowed(&scale).await.unwrap_err();
        assert!(
            denied.starts_with("sim-viewer cannot patch deployments/scale in shop"),
            "{denied}"
        );
        let delete = Change::DeletePod {
            target: WorkloadRef::new(WorkloadKind::Pod, "shop", "api-x"),
            uid: None,
        };
        let denied = viewer.executor().allowed(&delete).await.unwrap_err();
        assert!(
            denied.starts_with("sim-viewer cannot delete pods in shop"),
            "{denied}"
        );

        let err = viewer.executor().execute(&scale).await.unwrap_err();
        assert!(matches!(err, SourceError::Forbidden(_)), "{err:?}");
        assert_eq!(replicas(&sim, "api").await, 3);

        // The admin may; requests for other backends are refused outright.
        let admin = sim.connect("sim").await;
        assert_eq!(admin.executor().allowed(&scale).await, Ok(()));
        let ecs = Change::StopTask {
            target: WorkloadRef::new(WorkloadKind::EcsTask, "prod", "abc"),
        };
        assert!(matches!(
            admin.executor().execute(&ecs).await,
            Err(SourceError::Blocked(_))
        ));
        // The viewer can still read.
        rows_when(&viewer.workloads(), "rows as the viewer", |rows| {
            !rows.is_empty()
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn the_api_server_going_away_is_reported_then_recovered() {
        let mut sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let backend = sim.connect("sim").await;
        let source = backend.workloads();
        let rows = rows_when(&source, "first rows", |rows| !rows.is_empty()).await;
        let before = row(&rows, WorkloadKind::Deployment, "api").unwrap().desired;

        sim.stop().await;
        let err = eventually("the outage reported", WAIT, || async {
            source.workloads().await.err()
        })
        .await;
        assert!(matches!(err, SourceError::Unreachable(_)), "{err:?}");
        assert!(err.to_string().contains("watching"), "{err}");

        // The estate changes while the server is down.
        sim.estate
            .with(|w| {
                w.apply(&Change::Scale {
                    target: deployment("api"),
                    from: before,
                    to: before + 1,
                })
            })
            .unwrap();
        sim.restart().await;
        rows_when(&source, "fresh rows after the restart", |rows| {
            row(rows, WorkloadKind::Deployment, "api").is_some_and(|d| d.desired == before + 1)
        })
        .await;
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn dry_run_previews_describe_and_change_nothing() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let backend = sim.connect("sim").await;
        let ex = backend.executor();
        let source = backend.workloads();
        let rows = rows_when(&source, "rows", |rows| {
            !live_pods_of(rows, "api").is_empty()
        })
        .await;
        let before = normalised_deployment(&sim.estate, "shop", "api");
        let n = replicas(&sim, "api").await;

        let preview = ex
            .preview(&Change::Scale {
                target: deployment("api"),
                from: n,
                to: n + 3,
            })
            .await
            .unwrap();
        assert_eq!(
            preview.map(|p| p.summary).as_deref(),
            Some(
                format!(
                    "server dry run: deployment shop/api replicas {n} -> {} accepted",
                    n + 3
                )
                .as_str()
            )
        );
        let preview = ex
            .preview(&Change::RolloutUndo {
                target: deployment("api"),
                to_revision: None,
                plan: None,
            })
            .await
            .unwrap()
            .unwrap();
        assert!(
            preview
                .summary
                .starts_with("server dry run: deployment shop/api rollback to revision 1 ("),
            "{preview:?}"
        );
        // The dry run resolves what "previous" means, with both ends' images:
        // that is what the confirmation shows and what then runs.
        let Some(Change::RolloutUndo {
            to_revision: Some(1),
            plan: Some(plan),
            ..
        }) = &preview.resolved
        else {
            panic!("rollback not resolved: {preview:?}")
        };
        assert_eq!(plan.from_revision, 2);
        assert_ne!(plan.from, plan.to);
        assert!(!plan.to.is_empty() && !plan.from.is_empty(), "{plan:?}");
        // A plan the deployment has moved on from is refused, and nothing changes.
        let mut stale = plan.clone();
        stale.from_revision = 7;
        let refused = ex
            .execute(&Change::RolloutUndo {
                target: deployment("api"),
                to_revision: Some(1),
                plan: Some(stale),
            })
            .await;
        assert!(
            matches!(&refused, Err(opsdeck::source::SourceError::Blocked(m)) if m.contains("now at revision 2, not 7")),
            "{refused:?}"
        );
        let preview = ex
            .preview(&Change::RolloutRestart {
                target: deployment("api"),
            })
            .await
            .unwrap()
            .unwrap();
        assert!(
            preview
                .summary
                .starts_with("server dry run: deployment shop/api restart"),
            "{preview:?}"
        );
        let pod = live_pods_of(&rows, "api")[0].id.name.clone();
        let preview = ex
            .preview(&Change::DeletePod {
                target: WorkloadRef::new(WorkloadKind::Pod, "shop", &pod),
                uid: None,
            })
            .await
            .unwrap();
        assert_eq!(
            preview.map(|p| p.summary),
            Some(format!("server dry run: delete pod shop/{pod} accepted"))
        );

        assert_eq!(normalised_deployment(&sim.estate, "shop", "api"), before);
        assert_eq!(replicas(&sim, "api").await, n);
        let pods: Api<Pod> = Api::namespaced(backend.client(), "shop");
        let still = pods.get(&pod).await.unwrap();
        assert!(still.metadata.deletion_timestamp.is_none());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn metrics_per_deployment_from_metrics_api() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let backend = sim.connect("sim").await;
        let source = backend.workloads();
        rows_when(&source, "rows", |rows| !rows.is_empty()).await;
        let metrics = backend.metrics();
        let series = metrics.metrics().await.unwrap();
        let keys: BTreeSet<&str> = series.iter().map(|s| s.key.as_str()).collect();
        for k in [
            "api.memory",
            "api.cpu",
            "web.memory",
            "worker.memory",
            "worker.cpu",
        ] {
            assert!(keys.contains(k), "{k} missing from {keys:?}");
        }
        let api = series.iter().find(|s| s.key == "api.memory").unwrap();
        assert_eq!(api.unit, "%");
        assert_eq!((api.warning, api.critical), (Some(80.0), Some(90.0)));
        // A second sample extends the series.
        let again = metrics.metrics().await.unwrap();
        let api = again.iter().find(|s| s.key == "api.memory").unwrap();
        assert_eq!(api.points.len(), 2);
    }

    /// A cluster without metrics-server (a proxy hides `metrics.k8s.io`
    /// from discovery and answers its paths 404): the metrics source answers
    /// with no series and no error, and the workloads still come. Through
    /// the same proxy hiding some other group, the series are there.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn without_the_metrics_api_there_are_no_series_and_no_error() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let upstream = sim.server.as_ref().unwrap().addr().to_string();
        for (hidden, expect_series) in [("metrics.k8s.io", false), ("example.com", true)] {
            let proxy = crate::kube_proxy::HidingProxy::start(upstream.clone(), hidden).await;
            let path = sim._dir.path().join(format!("kubeconfig-without-{hidden}"));
            std::fs::write(&path, opsdeck::sim::kube_api::kubeconfig_for(&proxy.url)).unwrap();
            let backend = connect(KubeOptions {
                kubeconfig: Some(path),
                context: Some("sim".into()),
                namespace: Some("shop".into()),
                ..KubeOptions::default()
            })
            .await
            .unwrap();
            rows_when(&backend.workloads(), "rows through the proxy", |rows| {
                row(rows, WorkloadKind::Deployment, "api").is_some()
            })
            .await;
            let series = backend.metrics().metrics().await.unwrap();
            assert_eq!(
                series.iter().any(|s| s.key == "api.cpu"),
                expect_series,
                "hiding {hidden}: {series:?}"
            );
            if !expect_series {
                assert!(series.is_empty(), "{series:?}");
            }
        }
    }

    /// `--read-only` holds across context switches: the sets a switch opens
    /// refuse to run anything, the admin context's too, while the same
    /// context opened without read-only may run it.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn read_only_survives_switching_contexts() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let scale = Change::Scale {
            target: deployment("api"),
            from: 3,
            to: 4,
        };
        let first = opsdeck::source::read_only(
            backends(sim.opts("sim")).await.unwrap(),
            "started with --read-only",
        );
        let viewer = first
            .switcher
            .clone()
            .unwrap()
            .open("sim-viewer", Some("shop"))
            .await
            .unwrap();
        assert_eq!(viewer.target.label(), "kube:sim-viewer");
        let admin = viewer
            .switcher
            .clone()
            .unwrap()
            .open("sim", Some("shop"))
            .await
            .unwrap();
        assert_eq!(admin.target.label(), "kube:sim");
        for set in [&first, &viewer, &admin] {
            let err = set.executor.execute(&scale).await.unwrap_err();
            assert!(
                matches!(&err, SourceError::Blocked(m) if m.starts_with("read-only mode: ")
                    && m.ends_with("(started with --read-only)")),
                "{}: {err:?}",
                set.target.label()
            );
        }
        let writable = backends(sim.opts("sim")).await.unwrap();
        assert_eq!(writable.executor.allowed(&scale).await, Ok(()));
        assert_eq!(replicas(&sim, "api").await, 3, "nothing ran");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn backends_contexts_and_switching() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let opts = sim.opts("sim");
        assert_eq!(contexts(&opts).unwrap(), vec!["sim", "sim-viewer"]);
        let b = backends(opts.clone()).await.unwrap();
        assert_eq!(b.target.label(), "kube:sim");
        assert_eq!(b.workloads.len(), 1);
        let switcher = b.switcher.clone().unwrap();
        assert_eq!(switcher.contexts(), vec!["sim", "sim-viewer"]);
        let viewer = switcher.open("sim-viewer", Some("shop")).await.unwrap();
        assert_eq!(viewer.target.label(), "kube:sim-viewer");
        let scale = Change::Scale {
            target: deployment("api"),
            from: 3,
            to: 4,
        };
        assert!(viewer.executor.allowed(&scale).await.is_err());
        rows_when(
            viewer.workloads[0].as_ref(),
            "rows after switching",
            |rows| !rows.is_empty(),
        )
        .await;

        let missing = connect(KubeOptions {
            context: Some("nope".into()),
            ..opts
        })
        .await;
        assert!(matches!(missing, Err(SourceError::NotFound(_))));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn exec_credential_plugins_authenticate() {
        use std::os::unix::fs::PermissionsExt;

        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let dir = tempfile::tempdir().unwrap();
        let plugin = dir.path().join("sim-credentials");
        let credential = serde_json::json!({
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "kind": "ExecCredential",
            "status": { "token": opsdeck::sim::kube_api::ADMIN_TOKEN },
        });
        std::fs::write(
            &plugin,
            format!("#!/bin/sh\ncat <<'END'\n{credential}\nEND\n"),
        )
        .unwrap();
        std::fs::set_permissions(&plugin, std::fs::Permissions::from_mode(0o755)).unwrap();

        let mut config: serde_json::Value =
            serde_json::from_str(&sim.server.as_ref().unwrap().kubeconfig()).unwrap();
        config["users"] = serde_json::json!([{
            "name": "exec-user",
            "user": { "exec": {
                "apiVersion": "client.authentication.k8s.io/v1beta1",
                "command": plugin,
                "interactiveMode": "Never",
            } },
        }]);
        config["contexts"] = serde_json::json!([{
            "name": "exec",
            "context": { "cluster": "sim", "user": "exec-user", "namespace": "shop" },
        }]);
        config["current-context"] = serde_json::json!("exec");
        let path = dir.path().join("kubeconfig");
        std::fs::write(&path, config.to_string()).unwrap();

        let backend = connect(KubeOptions {
            kubeconfig: Some(path),
            namespace: Some("shop".into()),
            ..KubeOptions::default()
        })
        .await
        .unwrap();
        assert_eq!(backend.context(), "exec");
        assert_eq!(backend.user(), "exec-user");
        rows_when(&backend.workloads(), "rows with exec credentials", |rows| {
            row(rows, WorkloadKind::Deployment, "api").is_some()
        })
        .await;
        let scale = Change::Scale {
            target: deployment("api"),
            from: 3,
            to: 4,
        };
        assert_eq!(backend.executor().allowed(&scale).await, Ok(()));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn dropping_the_backend_and_its_sources_stops_the_background_tasks() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let backend = sim.connect("sim").await;
        let stopped = backend.stopped();
        let source = backend.workloads();
        let logs = backend.logs(LogOptions::default());
        rows_when(&source, "rows", |rows| !rows.is_empty()).await;
        drop(backend);
        assert!(!stopped.is_cancelled(), "sources still alive");
        drop(source);
        assert!(!stopped.is_cancelled(), "the log source is still alive");
        drop(logs);
        assert!(stopped.is_cancelled());
    }

    /// The instant the frozen simulator of [`kubectls_view_converts_to_the_rows_opsdeck_shows`] is at.
    pub const CAPTURED_AT: &str = "2026-11-23T10:00:00Z";

    /// `kubectl get KIND -n shop -o json` against `sim`: kubectl's view, an
    /// independent client's reading of what the API server serves.
    async fn kubectl_get(sim: &Sim, kind: &str) -> Vec<serde_json::Value> {
        let kubeconfig = sim.kubeconfig.clone();
        let kind = kind.to_string();
        let out = tokio::task::spawn_blocking(move || {
            std::process::Command::new(crate::kubectl::kubectl())
                .arg("--kubeconfig")
                .arg(&kubeconfig)
                .args(["--context", "sim", "-n", "shop", "get", &kind, "-o", "json"])
                .env_remove("KUBERNETES_SERVICE_HOST")
                .output()
        })
        .await
        .unwrap()
        .expect("kubectl runs");
        assert!(
            out.status.success(),
            "kubectl get failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let list: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(list["kind"], "List");
        list["items"].as_array().cloned().unwrap_or_default()
    }

    /// Where two JSON values differ (paths), for a readable failure.
    fn differences(
        path: &str,
        a: &serde_json::Value,
        b: &serde_json::Value,
        out: &mut Vec<String>,
    ) {
        use serde_json::Value;
        match (a, b) {
            (Value::Object(x), Value::Object(y)) => {
                let keys: BTreeSet<&String> = x.keys().chain(y.keys()).collect();
                for k in keys {
                    match (x.get(k), y.get(k)) {
                        (Some(v), Some(w)) => differences(&format!("{path}.{k}"), v, w, out),
                        (Some(v), None) => {
                            out.push(format!("{path}.{k}: {v} only in kubectl's view"))
                        }
                        (None, Some(w)) => {
                            out.push(format!("{path}.{k}: {w} only in the typed object"))
                        }
                        (None, None) => {}
                    }
                }
            }
            (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
                for (i, (v, w)) in x.iter().zip(y).enumerate() {
                    differences(&format!("{path}[{i}]"), v, w, out);
                }
            }
            _ if a != b => out.push(format!("{path}: {a} vs {b}")),
            _ => {}
        }
    }

    /// Decode kubectl's items as the typed objects opsdeck's converter takes,
    /// checking that nothing kubectl shows is lost on the way (a field the
    /// API types do not know, a value of the wrong shape), and that they are
    /// the objects opsdeck's own client (kube-rs) lists.
    fn typed<K>(what: &str, kubectl_items: Vec<serde_json::Value>, listed: &[K]) -> Vec<K>
    where
        K: serde::de::DeserializeOwned
            + serde::Serialize
            + kube::Resource
            + PartialEq
            + std::fmt::Debug,
    {
        assert!(!kubectl_items.is_empty(), "kubectl shows no {what}");
        assert_eq!(
            kubectl_items.len(),
            listed.len(),
            "{what}: kubectl and kube-rs list as many"
        );
        kubectl_items
            .into_iter()
            .map(|item| {
                let object: K = serde_json::from_value(item.clone())
                    .unwrap_or_else(|e| panic!("{what}: kubectl's item does not decode: {e}"));
                let mut lost = Vec::new();
                differences(
                    what,
                    &item,
                    &serde_json::to_value(&object).unwrap(),
                    &mut lost,
                );
                assert!(
                    lost.is_empty(),
                    "{what}: decoding loses or changes {lost:#?}"
                );
                let name = object.meta().name.clone();
                let same = listed
                    .iter()
                    .find(|l| l.meta().name == name)
                    .unwrap_or_else(|| panic!("{what} {name:?}: kube-rs does not list it"));
                assert_eq!(
                    &object, same,
                    "{what} {name:?}: kubectl and kube-rs read it differently"
                );
                object
            })
            .collect()
    }

    /// The conversion on kubectl's view of a frozen simulator (oom-crashloop,
    /// seed 7, 12 minutes in at [`CAPTURED_AT`]): the payloads come from
    /// `kubectl get -o json`, not from the simulator's own serialisation;
    /// they lose nothing when decoded into the types opsdeck reads; they
    /// convert into the rows checked here by hand; and the live source
    /// (watch caches) shows those same rows.
    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn kubectls_view_converts_to_the_rows_opsdeck_shows() {
        use k8s_openapi::api::apps::v1::ReplicaSet;
        use opsdeck::domain::Health;
        use opsdeck::kube::convert::workload_rows;

        let now = humantime::parse_rfc3339(CAPTURED_AT).unwrap();
        let start = now - Duration::from_secs(12 * 60);
        let sim = Sim::serve(SimEstate::new(
            world_at(Scenario::OomCrashloop, 7, start),
            0.0,
        ))
        .await;
        let backend = sim.connect("sim").await;
        let lp = kube::api::ListParams::default();
        let listed_pods = Api::<Pod>::namespaced(backend.client(), "shop")
            .list(&lp)
            .await
            .unwrap()
            .items;
        let listed_deps = Api::<Deployment>::namespaced(backend.client(), "shop")
            .list(&lp)
            .await
            .unwrap()
            .items;
        let listed_rss = Api::<ReplicaSet>::namespaced(backend.client(), "shop")
            .list(&lp)
            .await
            .unwrap()
            .items;
        let pods: Vec<Pod> = typed("pods", kubectl_get(&sim, "pods").await, &listed_pods);
        let deployments: Vec<Deployment> = typed(
            "deployments",
            kubectl_get(&sim, "deployments").await,
            &listed_deps,
        );
        let rss: Vec<ReplicaSet> = typed(
            "replicasets",
            kubectl_get(&sim, "replicasets").await,
            &listed_rss,
        );
        let (pods, deployments, rss): (Vec<&Pod>, Vec<&Deployment>, Vec<&ReplicaSet>) = (
            pods.iter().collect(),
            deployments.iter().collect(),
            rss.iter().collect(),
        );

        let rows = workload_rows(&deployments, &rss, &pods, now);
        let summary: Vec<(&str, &str, &str, Health)> = rows
            .iter()
            .map(|r| {
                (
                    r.id.kind.short(),
                    r.owner.as_deref().unwrap_or(&r.id.name),
                    r.status.as_str(),
                    r.health,
                )
            })
            .collect();
        assert_eq!(
            summary,
            vec![
                ("deploy", "api", "Available", Health::Ok),
                ("pod", "api", "Running", Health::Ok),
                ("pod", "api", "Running", Health::Ok),
                ("pod", "api", "Running", Health::Ok),
                ("deploy", "web", "Available", Health::Ok),
                ("pod", "web", "Running", Health::Ok),
                ("pod", "web", "Running", Health::Ok),
                ("deploy", "worker", "Degraded", Health::Critical),
                ("pod", "worker", "CrashLoopBackOff", Health::Critical),
                ("pod", "worker", "CrashLoopBackOff", Health::Critical),
            ]
        );
        assert!(rows.iter().all(|r| r.revision == Some(2)));
        let worker = &rows[7];
        assert_eq!((worker.ready, worker.desired, worker.restarts), (0, 2, 12));
        assert!(worker.oom_killed);
        assert_eq!(
            worker.reason.as_deref(),
            Some(
                "0/2 ready; 2 pods failing \
                 (CrashLoopBackOff (worker); last: OOMKilled (exit 137) 2m ago; 6 restarts)"
            )
        );
        let crashing = &rows[8];
        assert_eq!(
            (
                crashing.ready,
                crashing.desired,
                crashing.restarts,
                crashing.oom_killed
            ),
            (0, 1, 6, true)
        );

        // The live source converts what it watched with the clock of the
        // moment; kubectl's objects converted at the same moment are the
        // same rows (retried if a minute boundary falls in between).
        let source = backend.workloads();
        rows_when(&source, "the watched rows", |rows| rows.len() == 10).await;
        for attempt in 0.. {
            let before = workload_rows(&deployments, &rss, &pods, SystemTime::now());
            let live = source.workloads().await.unwrap();
            let after = workload_rows(&deployments, &rss, &pods, SystemTime::now());
            if before == after {
                assert_eq!(
                    live, before,
                    "the live rows are the conversion of kubectl's view"
                );
                break;
            }
            assert!(attempt < 3, "the rows keep changing with the clock");
        }
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
    async fn rejected_credentials_are_reported_not_hidden() {
        let sim = Sim::start(Scenario::DbConnections, 1.0).await;
        let mut config: serde_json::Value =
            serde_json::from_str(&sim.server.as_ref().unwrap().kubeconfig()).unwrap();
        config["users"][0]["user"]["token"] = serde_json::json!("not-a-valid-token");
        let path = sim._dir.path().join("bad-kubeconfig");
        std::fs::write(&path, config.to_string()).unwrap();
        let backend = connect(KubeOptions {
            kubeconfig: Some(path),
            context: Some("sim".into()),
            namespace: Some("shop".into()),
            ..KubeOptions::default()
        })
        .await
        .unwrap();
        let err = backend.workloads().workloads().await.unwrap_err();
        assert!(matches!(err, SourceError::Forbidden(_)), "{err:?}");
        assert!(err.to_string().contains("watching"), "{err}");
    }

    use kube::runtime::watcher::watcher;
}
