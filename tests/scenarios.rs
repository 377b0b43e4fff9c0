//! Every demo scenario develops its incident, and following its runbook
//! resolves it; the simulator is deterministic and its actions behave like
//! the real ones.

use std::time::{Duration, SystemTime};

use opsdeck::domain::{
    Change, DbSnapshot, Health, MetricSeries, QueryRule, SessionState, SessionTarget, Workload,
    WorkloadKind, WorkloadRef,
};
use opsdeck::runbook::{EstateView, Runbook};
use opsdeck::sim::{Scenario, World};
use opsdeck::source::SourceError;

const SEED: u64 = 42;
const MINUTE: Duration = Duration::from_secs(60);

fn start() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn world(s: Scenario) -> World {
    World::new(s, SEED, start())
}

struct Snap {
    workloads: Vec<Workload>,
    metrics: Vec<MetricSeries>,
    databases: Vec<DbSnapshot>,
}

impl Snap {
    fn of(w: &World) -> Snap {
        Snap {
            workloads: w.workloads(),
            metrics: w.metrics(),
            databases: w.databases(),
        }
    }

    fn view(&self) -> EstateView<'_> {
        EstateView {
            workloads: &self.workloads,
            metrics: &self.metrics,
            databases: &self.databases,
        }
    }

    fn metric(&self, key: &str) -> f64 {
        self.metrics
            .iter()
            .find(|m| m.key == key)
            .and_then(MetricSeries::current)
            .unwrap_or_else(|| panic!("no value for {key}"))
    }

    /// The highest value of the last `n` points.
    fn peak(&self, key: &str, n: usize) -> f64 {
        let m = self
            .metrics
            .iter()
            .find(|m| m.key == key)
            .unwrap_or_else(|| panic!("no metric {key}"));
        m.points
            .iter()
            .rev()
            .take(n)
            .map(|p| p.value)
            .fold(f64::MIN, f64::max)
    }

    fn workload(&self, kind: WorkloadKind, scope: &str, name: &str) -> &Workload {
        let id = WorkloadRef::new(kind, scope, name);
        self.workloads
            .iter()
            .find(|w| w.id == id)
            .unwrap_or_else(|| panic!("no {id}"))
    }

    fn unhealthy(&self) -> Vec<String> {
        self.workloads
            .iter()
            .filter(|w| w.health != Health::Ok)
            .map(|w| format!("{} {:?} {:?}", w.id, w.health, w.reason))
            .collect()
    }
}

fn runbook(s: Scenario) -> Runbook {
    let path = format!("{}/runbooks/{}.toml", env!("CARGO_MANIFEST_DIR"), s.name());
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    let book = Runbook::parse(&path, &text).unwrap_or_else(|ps| panic!("{ps:?}"));
    assert_eq!(book.scenario.as_deref(), Some(s.name()));
    book
}

/// The estate at t=0 is healthy and the runbook's resolution holds.
fn assert_starts_healthy(s: Scenario) {
    let w = world(s);
    let snap = Snap::of(&w);
    assert!(
        snap.unhealthy().is_empty(),
        "{s}: unhealthy at start: {:?}",
        snap.unhealthy()
    );
    assert!(snap.metric("orders-db.connections") < 80.0);
    assert!(snap.metric("api.5xx_rate") < 1.0);
    assert!(snap.metric("api.latency_p95") < 0.5);
    assert!(snap.metric("worker.memory") < 80.0);
    assert_eq!(snap.metric("checkout.running_tasks"), 4.0);
    assert!(
        runbook(s).is_resolved(&snap.view()),
        "{s}: not resolved at start"
    );
}

/// Turn every runbook action into a request against the current estate
/// and run it, a few seconds apart, as an operator would.
fn follow_runbook(w: &mut World, book: &Runbook) -> Vec<String> {
    let mut summaries = Vec::new();
    for action in book.actions() {
        let snap = Snap::of(w);
        let request = action
            .to_change(&snap.view())
            .unwrap_or_else(|e| panic!("{}: {e}", action.label()));
        let outcome = w
            .apply(&request)
            .unwrap_or_else(|e| panic!("{}: {e}", request.describe()));
        summaries.push(outcome.summary);
        w.step(Duration::from_secs(10));
    }
    assert!(!summaries.is_empty(), "{} has no actions", book.id);
    summaries
}

fn logs_contain(w: &World, needle: &str) -> bool {
    w.logs_since(0).0.iter().any(|l| l.text.contains(needle))
}

#[test]
fn db_connections_develops_and_resolves() {
    let s = Scenario::DbConnections;
    assert_starts_healthy(s);
    let mut w = world(s);
    w.step(12 * MINUTE);
    let snap = Snap::of(&w);
    assert!(
        snap.metric("orders-db.connections") >= 90.0,
        "connections {}",
        snap.metric("orders-db.connections")
    );
    let db = &snap.databases[0];
    let long = db
        .sessions
        .iter()
        .filter(|x| x.state == SessionState::Active && x.running > Duration::from_secs(600))
        .count();
    assert!(long >= 3, "only {long} sessions running > 10m");
    assert!(
        db.sessions
            .iter()
            .any(|x| x.state == SessionState::IdleInTransaction)
    );
    assert!(db.sessions.iter().any(|x| x.query.contains("FOR UPDATE")));
    assert!(snap.metric("api.5xx_rate") > 1.0);
    assert!(snap.metric("api.latency_p95") > 0.5);
    assert!(logs_contain(&w, "remaining connection slots are reserved"));
    assert!(logs_contain(&w, "pool: timeout"));
    let book = runbook(s);
    assert!(!book.is_resolved(&snap.view()));

    let summaries = follow_runbook(&mut w, &book);
    assert!(summaries[0].starts_with("terminated "), "{summaries:?}");
    w.step(MINUTE - Duration::from_secs(10));
    let snap = Snap::of(&w);
    assert!(
        snap.metric("orders-db.connections") < 80.0,
        "connections {} a minute later",
        snap.metric("orders-db.connections")
    );
    w.step(MINUTE);
    let snap = Snap::of(&w);
    assert!(
        book.is_resolved(&snap.view()),
        "{:?}",
        book.resolved_when
            .iter()
            .map(|c| c.evaluate(&snap.view()))
            .collect::<Vec<_>>()
    );
    assert!(snap.metric("api.5xx_rate") < 1.0);
    assert!(snap.metric("api.latency_p95") < 0.5);
    let long = snap.databases[0]
        .sessions
        .iter()
        .filter(|x| x.state == SessionState::Active && x.running > Duration::from_secs(600))
        .count();
    assert_eq!(long, 0);
}

#[test]
fn oom_crashloop_develops_and_resolves() {
    let s = Scenario::OomCrashloop;
    assert_starts_healthy(s);
    let mut w = world(s);
    w.step(12 * MINUTE);
    let snap = Snap::of(&w);
    let looping: Vec<&Workload> = snap
        .workloads
        .iter()
        .filter(|x| {
            x.id.kind == WorkloadKind::Pod
                && x.owner.as_deref() == Some("worker")
                && x.oom_killed
                && x.restarts > 3
        })
        .collect();
    assert!(!looping.is_empty(), "{:?}", snap.unhealthy());
    assert!(looping.iter().all(|p| p.health == Health::Critical));
    assert!(
        snap.peak("worker.memory", 18) >= 90.0,
        "worker.memory peak {}",
        snap.peak("worker.memory", 18)
    );
    assert_ne!(
        snap.workload(WorkloadKind::Deployment, "shop", "worker")
            .health,
        Health::Ok
    );
    let book = runbook(s);
    assert!(!book.is_resolved(&snap.view()));

    let summaries = follow_runbook(&mut w, &book);
    assert_eq!(summaries[0], "scaled deployment shop/worker 2 -> 5");
    w.step(2 * MINUTE);
    let snap = Snap::of(&w);
    assert!(book.is_resolved(&snap.view()), "{:?}", snap.unhealthy());
    assert!(snap.metric("worker.memory") < 80.0);
    let worker = snap.workload(WorkloadKind::Deployment, "shop", "worker");
    assert_eq!((worker.ready, worker.desired), (5, 5));
    let pods: Vec<&Workload> = snap
        .workloads
        .iter()
        .filter(|x| x.id.kind == WorkloadKind::Pod && x.owner.as_deref() == Some("worker"))
        .collect();
    assert_eq!(pods.len(), 5);
    assert!(
        pods.iter()
            .all(|p| p.restarts == 0 && !p.oom_killed && p.health == Health::Ok),
        "{pods:?}"
    );
    // And it stays fixed.
    w.step(3 * MINUTE);
    assert!(book.is_resolved(&Snap::of(&w).view()));
}

#[test]
fn bad_deploy_develops_and_resolves() {
    let s = Scenario::BadDeploy;
    assert_starts_healthy(s);
    let mut w = world(s);
    assert_eq!(
        Snap::of(&w)
            .workload(WorkloadKind::Deployment, "shop", "api")
            .revision,
        Some(2)
    );
    w.step(12 * MINUTE);
    let snap = Snap::of(&w);
    assert_eq!(
        snap.workload(WorkloadKind::Deployment, "shop", "api")
            .revision,
        Some(3)
    );
    assert!(snap.metric("api.5xx_rate") > 5.0);
    assert!(snap.metric("api.latency_p95") > 1.0);
    assert!(logs_contain(&w, "handler panicked"));
    let book = runbook(s);
    assert!(!book.is_resolved(&snap.view()));

    follow_runbook(&mut w, &book);
    w.step(2 * MINUTE);
    let snap = Snap::of(&w);
    assert!(book.is_resolved(&snap.view()), "{:?}", snap.unhealthy());
    let api = snap.workload(WorkloadKind::Deployment, "shop", "api");
    assert_eq!(
        api.revision,
        Some(4),
        "undo makes the old template the newest revision"
    );
    assert!(snap.metric("api.5xx_rate") < 1.0);
    assert!(snap.metric("api.latency_p95") < 0.5);
    let k8s = w.k8s();
    let api_pods: Vec<_> = k8s.pods.iter().filter(|p| p.app() == "api").collect();
    assert_eq!(api_pods.len(), 3);
    assert!(
        api_pods
            .iter()
            .all(|p| p.container.image.ends_with(":1.8.2"))
    );
    // The old ReplicaSet came back: still three ReplicaSets, none created.
    let d = k8s
        .deployment("api")
        .map(|d| d.meta.uid.clone())
        .unwrap_or_default();
    let mut revisions: Vec<u64> = k8s.replica_sets_of(&d).map(|rs| rs.revision()).collect();
    revisions.sort_unstable();
    assert_eq!(revisions, vec![1, 3, 4]);
}

#[test]
fn ecs_unhealthy_develops_and_resolves() {
    let s = Scenario::EcsUnhealthy;
    assert_starts_healthy(s);
    let mut w = world(s);
    w.step(12 * MINUTE);
    let snap = Snap::of(&w);
    let svc = snap.workload(WorkloadKind::EcsService, "prod", "checkout");
    assert!(svc.ready < svc.desired, "{svc:?}");
    assert_ne!(svc.health, Health::Ok);
    let tasks: Vec<&Workload> = snap
        .workloads
        .iter()
        .filter(|x| x.id.kind == WorkloadKind::EcsTask)
        .collect();
    assert!(tasks.iter().any(|t| {
        t.status == "STOPPED"
            && t.reason
                .as_deref()
                .is_some_and(|r| r.contains("failed ELB health checks"))
    }));
    assert!(
        snap.peak("checkout.running_tasks", 90) == 4.0
            && snap.metric("checkout.running_tasks") < 4.0
    );
    assert!(logs_contain(&w, "payments client: dial tcp"));
    let book = runbook(s);
    assert!(!book.is_resolved(&snap.view()));

    follow_runbook(&mut w, &book);
    w.step(2 * MINUTE);
    let snap = Snap::of(&w);
    assert!(book.is_resolved(&snap.view()), "{:?}", snap.unhealthy());
    let svc = snap.workload(WorkloadKind::EcsService, "prod", "checkout");
    assert_eq!((svc.ready, svc.desired), (4, 4));
    let running: Vec<&Workload> = snap
        .workloads
        .iter()
        .filter(|x| x.id.kind == WorkloadKind::EcsTask && x.status.starts_with("RUNNING"))
        .collect();
    assert_eq!(running.len(), 4);
    assert!(running.iter().all(|t| t.status == "RUNNING HEALTHY"));
    w.step(5 * MINUTE);
    assert!(book.is_resolved(&Snap::of(&w).view()), "stays resolved");
}

#[test]
fn same_seed_same_world() {
    for s in Scenario::ALL {
        let mut a = world(s);
        let mut b = world(s);
        for w in [&mut a, &mut b] {
            w.step(Duration::from_millis(4_500));
            w.step(7 * MINUTE);
            let target = WorkloadRef::new(WorkloadKind::Deployment, "shop", "web");
            w.apply(&Change::Scale {
                target,
                from: 2,
                to: 3,
            })
            .unwrap_or_else(|e| panic!("{e}"));
            w.step(MINUTE);
        }
        assert_eq!(a.workloads(), b.workloads());
        assert_eq!(a.metrics(), b.metrics());
        assert_eq!(a.databases(), b.databases());
        assert_eq!(a.logs_since(0), b.logs_since(0));
        assert!(a == b, "{s}: worlds differ");
        let c = World::new(s, SEED + 1, start());
        assert_ne!(
            Snap::of(&a).workloads,
            Snap::of(&c).workloads,
            "another seed gives another world"
        );
    }
}

#[test]
fn time_moves_in_whole_ticks() {
    let mut w = world(Scenario::BadDeploy);
    w.step(Duration::from_millis(2_500));
    assert_eq!(w.now(), start() + Duration::from_secs(2));
    w.step(Duration::from_millis(600));
    assert_eq!(w.now(), start() + Duration::from_secs(3));
    w.step(MINUTE);
    let m = Snap::of(&w).metrics;
    let conn = m
        .iter()
        .find(|m| m.key == "orders-db.connections")
        .map(|m| m.points.len());
    assert_eq!(conn, Some(7), "one point at start and one per 10 s");
}

#[test]
fn terminate_skips_a_reused_pid() {
    let mut w = world(Scenario::DbConnections);
    w.step(12 * MINUTE);
    let db = &w.databases()[0];
    let rule = QueryRule {
        older_than: Duration::from_secs(600),
        user: None,
        application: None,
    };
    let mut long = db.sessions.iter().filter(|s| rule.matches(s));
    let (Some(a), Some(b)) = (long.next().cloned(), long.next().cloned()) else {
        panic!("need two long sessions");
    };
    let reused = SessionTarget {
        pid: b.pid,
        backend_start: b.backend_start - Duration::from_secs(3600),
        query: b.query.clone(),
    };
    let real = SessionTarget {
        pid: a.pid,
        backend_start: a.backend_start,
        query: a.query.clone(),
    };
    let gone = SessionTarget {
        pid: 1,
        backend_start: a.backend_start,
        query: "SELECT 1".into(),
    };
    let request = Change::TerminateQueries {
        database: "orders-db".into(),
        rule,
        sessions: vec![real, reused, gone],
    };
    let outcome = w.apply(&request).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(outcome.summary, "terminated 1 of 3 sessions on orders-db");
    assert_eq!(outcome.details.len(), 3);
    assert!(
        outcome.details[0].starts_with(&format!("pid {}: terminated", a.pid)),
        "{:?}",
        outcome.details
    );
    assert!(
        outcome.details[1].starts_with(&format!(
            "pid {}: skipped: pid now belongs to another session",
            b.pid
        )),
        "{:?}",
        outcome.details
    );
    assert_eq!(outcome.details[2], "pid 1: skipped: no longer connected");
    let after = &w.databases()[0];
    assert!(!after.sessions.iter().any(|s| s.pid == a.pid));
    assert!(
        after
            .sessions
            .iter()
            .any(|s| s.pid == b.pid && s.backend_start == b.backend_start)
    );
}

#[test]
fn missing_targets_are_not_found() {
    let mut w = world(Scenario::BadDeploy);
    w.step(MINUTE);
    let dep = |name: &str| WorkloadRef::new(WorkloadKind::Deployment, "shop", name);
    let requests = [
        Change::Scale {
            target: dep("nope"),
            from: 1,
            to: 2,
        },
        Change::Scale {
            target: WorkloadRef::new(WorkloadKind::Deployment, "other", "api"),
            from: 3,
            to: 4,
        },
        Change::RolloutUndo {
            target: dep("nope"),
            to_revision: None,
            plan: None,
        },
        Change::RolloutUndo {
            target: dep("api"),
            to_revision: Some(9),
            plan: None,
        },
        Change::RolloutRestart {
            target: dep("nope"),
        },
        Change::DeletePod {
            target: WorkloadRef::new(WorkloadKind::Pod, "shop", "api-xxxxxxxxxx-xxxxx"),
            uid: None,
        },
        Change::StopTask {
            target: WorkloadRef::new(
                WorkloadKind::EcsTask,
                "prod",
                "0123456789abcdef0123456789abcdef",
            ),
        },
        Change::ForceNewDeployment {
            target: WorkloadRef::new(WorkloadKind::EcsService, "prod", "nope"),
        },
        Change::Scale {
            target: WorkloadRef::new(WorkloadKind::EcsService, "staging", "checkout"),
            from: 4,
            to: 5,
        },
        Change::TerminateQueries {
            database: "users-db".into(),
            rule: QueryRule {
                older_than: MINUTE,
                user: None,
                application: None,
            },
            sessions: Vec::new(),
        },
    ];
    let before = w.clone();
    for r in &requests {
        assert!(
            matches!(w.apply(r), Err(SourceError::NotFound(_))),
            "{}",
            r.describe()
        );
    }
    assert!(w == before, "failed actions change nothing");
}

#[test]
fn actions_behave_like_the_real_ones() {
    let mut w = world(Scenario::BadDeploy);
    w.step(MINUTE);
    // Scale: new pods are Pending, then Running and ready within seconds.
    let api = WorkloadRef::new(WorkloadKind::Deployment, "shop", "api");
    w.apply(&Change::Scale {
        target: api.clone(),
        from: 3,
        to: 5,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    w.step(Duration::from_secs(1));
    let pending = w
        .k8s()
        .pods
        .iter()
        .filter(|p| p.app() == "api" && p.phase.as_str() == "Pending")
        .count();
    assert_eq!(pending, 2);
    w.step(Duration::from_secs(15));
    let snap = Snap::of(&w);
    let d = snap.workload(WorkloadKind::Deployment, "shop", "api");
    assert_eq!((d.ready, d.desired, d.health), (5, 5, Health::Ok));
    assert_eq!(
        w.k8s()
            .deployment("api")
            .map(|d| (d.meta.generation, d.status.observed_generation)),
        Some((3, 3))
    );

    // Delete pod: the ReplicaSet replaces it.
    let victim = snap
        .workloads
        .iter()
        .find(|x| x.id.kind == WorkloadKind::Pod && x.owner.as_deref() == Some("api"))
        .map(|x| x.id.clone());
    let victim = victim.unwrap_or_else(|| panic!("no api pod"));
    w.apply(&Change::DeletePod {
        target: victim.clone(),
        uid: None,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    w.step(Duration::from_secs(15));
    let snap = Snap::of(&w);
    assert!(!snap.workloads.iter().any(|x| x.id == victim));
    assert_eq!(
        snap.workload(WorkloadKind::Deployment, "shop", "api").ready,
        5
    );

    // Rollout restart: every pod replaced, never more than maxSurge extra.
    let old: Vec<String> = w
        .k8s()
        .pods
        .iter()
        .filter(|p| p.app() == "web")
        .map(|p| p.meta.name.clone())
        .collect();
    w.apply(&Change::RolloutRestart {
        target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "web"),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    for _ in 0..60 {
        w.step(Duration::from_secs(1));
        let live = w
            .k8s()
            .pods
            .iter()
            .filter(|p| p.app() == "web" && !p.terminating())
            .count();
        assert!(live <= 3, "web surged to {live}");
    }
    let now: Vec<String> = w
        .k8s()
        .pods
        .iter()
        .filter(|p| p.app() == "web")
        .map(|p| p.meta.name.clone())
        .collect();
    assert_eq!(now.len(), 2);
    assert!(now.iter().all(|n| !old.contains(n)));
    assert_eq!(w.k8s().deployment("web").map(|d| d.revision()), Some(3));

    // Names, labels and owners look like Kubernetes'.
    let k8s = w.k8s();
    for p in &k8s.pods {
        let rs = k8s
            .replica_set_of_pod(p)
            .unwrap_or_else(|| panic!("{} has no ReplicaSet", p.meta.name));
        let d = k8s
            .deployment_of_pod(p)
            .unwrap_or_else(|| panic!("{} has no deployment", p.meta.name));
        assert!(rs.meta.name.starts_with(&format!("{}-", d.meta.name)));
        assert!(p.meta.name.starts_with(&format!("{}-", rs.meta.name)));
        assert_eq!(p.meta.name.len(), rs.meta.name.len() + 6);
        assert_eq!(p.meta.labels.get("app"), Some(&d.meta.name));
        assert_eq!(
            p.meta.labels.get("pod-template-hash").map(String::as_str),
            Some(rs.template_hash())
        );
    }

    // ECS: scale out launches tasks that go PROVISIONING -> RUNNING healthy; stop task is replaced.
    let checkout = WorkloadRef::new(WorkloadKind::EcsService, "prod", "checkout");
    w.apply(&Change::Scale {
        target: checkout.clone(),
        from: 4,
        to: 6,
    })
    .unwrap_or_else(|e| panic!("{e}"));
    w.step(Duration::from_secs(1));
    assert_eq!(
        w.ecs()
            .tasks
            .iter()
            .filter(|t| t.last_status.as_str() == "PROVISIONING")
            .count(),
        2
    );
    w.step(Duration::from_secs(40));
    let snap = Snap::of(&w);
    let svc = snap.workload(WorkloadKind::EcsService, "prod", "checkout");
    assert_eq!((svc.ready, svc.desired, svc.health), (6, 6, Health::Ok));
    let task = snap
        .workloads
        .iter()
        .find(|x| x.id.kind == WorkloadKind::EcsTask && x.status == "RUNNING HEALTHY")
        .map(|x| x.id.clone());
    let task = task.unwrap_or_else(|| panic!("no task"));
    w.apply(&Change::StopTask {
        target: task.clone(),
    })
    .unwrap_or_else(|e| panic!("{e}"));
    let snap = Snap::of(&w);
    let stopped = snap
        .workloads
        .iter()
        .find(|x| x.id == task)
        .map(|x| (x.status.clone(), x.reason.clone()));
    assert_eq!(
        stopped,
        Some((
            "STOPPED".to_string(),
            Some("Task stopped by opsdeck".to_string())
        ))
    );
    w.step(Duration::from_secs(40));
    assert_eq!(
        Snap::of(&w)
            .workload(WorkloadKind::EcsService, "prod", "checkout")
            .ready,
        6
    );
}

#[test]
fn logs_are_a_cursor_stream_with_some_ansi() {
    let mut w = world(Scenario::DbConnections);
    w.step(5 * MINUTE);
    let (all, cursor) = w.logs_since(0);
    assert_eq!(cursor, all.len() as u64);
    assert!(all.iter().any(|l| l.text.starts_with('{')), "JSON lines");
    assert!(all.iter().any(|l| !l.text.starts_with('{')), "plain lines");
    assert!(
        all.iter().any(|l| l.text.contains('\u{1b}')),
        "an ANSI-coloured line"
    );
    assert!(
        all.iter()
            .any(|l| l.source.starts_with("checkout/checkout/"))
    );
    assert!(all.windows(2).all(|p| p[0].time <= p[1].time));
    let (none, same) = w.logs_since(cursor);
    assert!(none.is_empty() && same == cursor);
    w.step(Duration::from_secs(5));
    let (more, next) = w.logs_since(cursor);
    assert!(!more.is_empty());
    assert_eq!(next, cursor + more.len() as u64);
}

/// In the db-connections incident, sessions waiting on row locks report the
/// lock holders as their blockers (pg_blocking_pids), and terminating the
/// long-running queries frees them.
#[test]
fn lock_waiters_name_their_blockers() {
    let mut world = World::new(
        Scenario::DbConnections,
        42,
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
    );
    world.step(Duration::from_secs(12 * 60));
    let db = world.databases().into_iter().next().unwrap();
    let waiting: Vec<_> = db
        .sessions
        .iter()
        .filter(|s| {
            s.wait_event
                .as_deref()
                .is_some_and(|w| w.starts_with("Lock"))
        })
        .collect();
    assert!(!waiting.is_empty(), "the incident has lock waiters");
    let pids: Vec<i32> = db.sessions.iter().map(|s| s.pid).collect();
    for w in &waiting {
        assert!(
            !w.blocked_by.is_empty(),
            "pid {} waits on a lock but names no blocker",
            w.pid
        );
        assert!(w.blocked_by.iter().all(|b| pids.contains(b) && *b != w.pid));
    }
    assert!(
        db.sessions
            .iter()
            .filter(|s| s
                .wait_event
                .as_deref()
                .is_none_or(|w| !w.starts_with("Lock")))
            .all(|s| s.blocked_by.is_empty())
    );
}

/// As on the real server: cancelling a session that runs no query is
/// refused (nothing to cancel), an active one's query is cancelled.
#[test]
fn cancel_refuses_an_idle_session_and_cancels_an_active_one() {
    let mut w = world(Scenario::DbConnections);
    w.step(12 * MINUTE);
    let db = w.databases()[0].clone();
    let target = |s: &opsdeck::domain::DbSession| SessionTarget {
        pid: s.pid,
        backend_start: s.backend_start,
        query: s.query.clone(),
    };
    let idle = db
        .sessions
        .iter()
        .find(|s| s.state == SessionState::Idle)
        .expect("an idle session");
    let err = w
        .apply(&Change::CancelQuery {
            database: "orders-db".into(),
            session: target(idle),
        })
        .expect_err("idle: nothing to cancel");
    assert_eq!(
        err.to_string(),
        SourceError::Blocked(opsdeck::domain::nothing_to_cancel(
            "orders-db",
            idle.pid,
            "idle"
        ))
        .to_string()
    );
    let active = db
        .sessions
        .iter()
        .find(|s| s.state == SessionState::Active)
        .expect("an active session");
    let done = w
        .apply(&Change::CancelQuery {
            database: "orders-db".into(),
            session: target(active),
        })
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        done.summary,
        format!("cancelled the query of pid {} on orders-db", active.pid)
    );
}
