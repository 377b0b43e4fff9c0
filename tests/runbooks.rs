//! Shipped runbooks parse; each mistake in a runbook file is reported with
//! file, line, dotted key and message.

use std::time::{Duration, SystemTime};

use opsdeck::domain::{
    Change, DbSession, DbSnapshot, Health, MetricSeries, Point, SessionState, Workload,
    WorkloadKind, WorkloadRef,
};
use opsdeck::runbook::{self, ActionKind, Check, CheckResult, EstateView, Runbook};
use opsdeck::sim::Scenario;

fn fixture(name: &str) -> Vec<String> {
    let path = format!("tests/fixtures/runbooks/{name}.toml");
    let text = std::fs::read_to_string(format!("{}/{path}", env!("CARGO_MANIFEST_DIR")))
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    match Runbook::parse_for(&path, &text, &Scenario::names()) {
        Ok(_) => panic!("{path} parsed without problems"),
        Err(problems) => problems.iter().map(ToString::to_string).collect(),
    }
}

#[test]
fn every_shipped_runbook_parses() {
    let shipped = runbook::shipped();
    assert_eq!(shipped.len(), 4);
    for (label, text) in shipped {
        let book = Runbook::parse(label, text).unwrap_or_else(|ps| panic!("{label}: {ps:?}"));
        assert!(
            !book.steps.is_empty() && !book.resolved_when.is_empty(),
            "{label}"
        );
        assert!(book.actions().count() >= 1, "{label} offers no action");
        assert!(
            book.steps
                .iter()
                .all(|s| !s.title.is_empty() && !s.text.is_empty()),
            "{label}"
        );
    }
}

#[test]
fn every_scenario_has_a_runbook() {
    for s in Scenario::ALL {
        let book = runbook::for_scenario(s.name())
            .unwrap_or_else(|ps| panic!("{ps:?}"))
            .unwrap_or_else(|| panic!("no runbook for {s}"));
        assert_eq!(book.id, s.name());
    }
    assert_eq!(runbook::for_scenario("nope"), Ok(None));
}

#[test]
fn unknown_field() {
    assert_eq!(
        fixture("unknown-field"),
        [
            "tests/fixtures/runbooks/unknown-field.toml:6: steps[0].txt: unknown field \"txt\", expected one of title, text, checks, actions"
        ]
    );
}

#[test]
fn unknown_action_kind() {
    assert_eq!(
        fixture("unknown-action-kind"),
        [
            "tests/fixtures/runbooks/unknown-action-kind.toml:12: steps[1].actions[0].kind: unknown action kind \"scael\""
        ]
    );
}

#[test]
fn bad_target() {
    assert_eq!(
        fixture("bad-target"),
        [
            "tests/fixtures/runbooks/bad-target.toml:10: steps[0].actions[0].target: invalid target \"deploy shop/api\": unknown kind \"deploy\" (expected deployment, pod, ecs-service or ecs-task)"
        ]
    );
}

#[test]
fn bad_duration() {
    assert_eq!(
        fixture("bad-duration"),
        [
            "tests/fixtures/runbooks/bad-duration.toml:11: steps[0].actions[0].older_than: invalid duration \"ten minutes\" (use e.g. \"10m\", \"90s\", \"1h30m\")"
        ]
    );
}

#[test]
fn missing_title() {
    assert_eq!(
        fixture("missing-title"),
        ["tests/fixtures/runbooks/missing-title.toml:7: steps[1].title: missing field \"title\""]
    );
}

#[test]
fn toml_syntax_error() {
    assert_eq!(
        fixture("syntax-error"),
        [
            "tests/fixtures/runbooks/syntax-error.toml:2: TOML syntax error: invalid basic string, expected `\"`"
        ]
    );
}

#[test]
fn check_with_both_limits() {
    assert_eq!(
        fixture("bad-check"),
        [
            "tests/fixtures/runbooks/bad-check.toml:4: resolved_when[0]: a metric check needs exactly one of \"below\" or \"above\""
        ]
    );
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = r#"id = "many"
scenario = "db-conn"

[[steps]]
title = "One"
checks = [ { metric = "api.5xx_rate", below = "one" } ]

[[steps.actions]]
label = "Scale"
kind = "scale"
target = "pod shop/api-1"
replicas = -1
"#;
    let problems: Vec<String> = Runbook::parse_for("many.toml", text, &Scenario::names())
        .err()
        .unwrap_or_default()
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        problems,
        [
            "many.toml:1: title: missing field \"title\"",
            "many.toml:2: scenario: unknown scenario \"db-conn\" (expected one of db-connections, oom-crashloop, bad-deploy, ecs-unhealthy)",
            "many.toml:6: steps[0].checks[0].below: expected a number, found string",
            "many.toml:11: steps[0].actions[0].target: a pod cannot be a target here (expected deployment or ecs-service)",
            "many.toml:12: steps[0].actions[0].replicas: replicas must be between 0 and 1000, not -1",
        ]
    );
}

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000)
}

fn row(
    kind: WorkloadKind,
    scope: &str,
    name: &str,
    ready: u32,
    desired: u32,
    health: Health,
    owner: Option<&str>,
) -> Workload {
    Workload {
        id: WorkloadRef::new(kind, scope, name),
        status: "Running".into(),
        ready,
        desired,
        restarts: 0,
        oom_killed: false,
        health,
        reason: (health != Health::Ok).then(|| "broken".to_string()),
        owner: owner.map(str::to_string),
        revision: None,
        created: t0(),
        uid: None,
        image: None,
    }
}

fn series(key: &str, value: f64) -> MetricSeries {
    MetricSeries {
        key: key.into(),
        name: key.into(),
        unit: "%".into(),
        points: vec![Point { time: t0(), value }],
        warning: None,
        critical: None,
        lower_is_worse: false,
    }
}

fn session(pid: i32, state: SessionState, running_s: u64) -> DbSession {
    DbSession {
        blocked_by: Vec::new(),
        pid,
        backend_start: t0(),
        user: "app".into(),
        application: "api".into(),
        client: "10.0.0.1:5000".into(),
        state,
        wait_event: None,
        running: Duration::from_secs(running_s),
        query: format!("SELECT {pid}"),
    }
}

const BOOK: &str = r#"
id = "t"
title = "T"
resolved_when = [ { metric = "api.5xx_rate", below = 1 }, { workload = "deployment shop/api", healthy = true } ]

[[steps]]
title = "Act"
checks = [ { metric = "api.5xx_rate", above = 0.5 }, { workload = "deployment shop/api", ready_at_least_desired = true } ]

[[steps.actions]]
label = "Scale api"
kind = "scale"
target = "deployment shop/api"
replicas = 6

[[steps.actions]]
label = "Delete the worst api pod"
kind = "delete_pod"
target = "deployment shop/api"

[[steps.actions]]
label = "Kill long queries"
kind = "terminate_queries"
database = "orders-db"
older_than = "10m"
application = "api"

[[steps.actions]]
label = "Undo"
kind = "rollout_undo"
target = "deployment shop/missing"
to_revision = 2
"#;

#[test]
fn checks_and_actions_against_an_estate() {
    let book = Runbook::parse("t.toml", BOOK).unwrap_or_else(|ps| panic!("{ps:?}"));
    let workloads = vec![
        row(
            WorkloadKind::Deployment,
            "shop",
            "api",
            2,
            3,
            Health::Warn,
            None,
        ),
        row(
            WorkloadKind::Pod,
            "shop",
            "api-a-1",
            1,
            1,
            Health::Ok,
            Some("api"),
        ),
        row(
            WorkloadKind::Pod,
            "shop",
            "api-a-2",
            0,
            1,
            Health::Critical,
            Some("api"),
        ),
        row(
            WorkloadKind::Pod,
            "shop",
            "api-a-3",
            0,
            1,
            Health::Warn,
            Some("api"),
        ),
    ];
    let metrics = vec![series("api.5xx_rate", 3.0)];
    let databases = vec![DbSnapshot {
        name: "orders-db".into(),
        max_connections: 100,
        sessions: vec![
            session(10, SessionState::Active, 900),
            session(11, SessionState::IdleInTransaction, 900),
            session(12, SessionState::Active, 30),
        ],
        unreadable: 0,
        other_databases: 0,
    }];
    let view = EstateView {
        workloads: &workloads,
        metrics: &metrics,
        databases: &databases,
    };
    assert!(!book.is_resolved(&view));
    let step = &book.steps[0];
    assert_eq!(step.checks[0].evaluate(&view), CheckResult::Pass);
    assert_eq!(
        step.checks[1].evaluate(&view),
        CheckResult::Fail("deployment shop/api has 2/3 ready".into())
    );
    assert_eq!(
        book.resolved_when[0].evaluate(&view),
        CheckResult::Fail("api.5xx_rate is 3% (needs to be below 1%)".into())
    );
    assert_eq!(
        Check::MetricBelow {
            key: "nope".into(),
            limit: 1.0
        }
        .evaluate(&view),
        CheckResult::Unknown("no metric nope".into())
    );

    let actions = &step.actions;
    assert!(matches!(
        actions[0].kind,
        ActionKind::Scale { replicas: 6, .. }
    ));
    assert_eq!(actions[0].label(), "Scale api");
    assert_eq!(
        actions[0].to_change(&view),
        Ok(Change::Scale {
            target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"),
            from: 3,
            to: 6
        })
    );
    assert_eq!(
        actions[1].to_change(&view),
        Ok(Change::DeletePod {
            target: WorkloadRef::new(WorkloadKind::Pod, "shop", "api-a-2"),
            uid: None,
        })
    );
    match actions[2].to_change(&view) {
        Ok(Change::TerminateQueries {
            database, sessions, ..
        }) => {
            assert_eq!(database, "orders-db");
            let pids: Vec<i32> = sessions.iter().map(|s| s.pid).collect();
            assert_eq!(pids, [10], "only active sessions past the limit");
            assert_eq!(sessions[0].backend_start, t0());
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(
        actions[3].to_change(&view),
        Err("deployment shop/missing not found".into())
    );

    // Nothing left to do once the estate is healthy.
    let healthy = vec![row(
        WorkloadKind::Deployment,
        "shop",
        "api",
        6,
        6,
        Health::Ok,
        None,
    )];
    let calm = vec![series("api.5xx_rate", 0.2)];
    let quiet = vec![DbSnapshot {
        name: "orders-db".into(),
        max_connections: 100,
        sessions: vec![session(12, SessionState::Active, 30)],
        unreadable: 0,
        other_databases: 0,
    }];
    let view = EstateView {
        workloads: &healthy,
        metrics: &calm,
        databases: &quiet,
    };
    assert!(book.is_resolved(&view));
    assert_eq!(
        actions[0].to_change(&view),
        Err("deployment shop/api already has 6 desired".into())
    );
    assert_eq!(
        actions[1].to_change(&view),
        Err("no unhealthy pod in deployment shop/api".into())
    );
    assert_eq!(
        actions[2].to_change(&view),
        Err("no session on orders-db matches running > 10m application=api".into())
    );
}

#[test]
fn check_dir_reports_problems_per_file() {
    let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("good.toml"), runbook::shipped()[0].1)
        .unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("bad.toml"), "id = \"x\"\n").unwrap_or_else(|e| panic!("{e}"));
    std::fs::write(dir.path().join("notes.txt"), "ignored").unwrap_or_else(|e| panic!("{e}"));
    let (books, problems) = runbook::load_dir(dir.path(), &Scenario::names());
    assert_eq!(books.len(), 1);
    let shown: Vec<String> = problems.iter().map(ToString::to_string).collect();
    let bad = dir.path().join("bad.toml").display().to_string();
    assert_eq!(
        shown,
        [
            format!("{bad}:1: title: missing field \"title\""),
            format!(
                "{bad}:1: steps: missing field \"steps\" (a runbook needs at least one [[steps]])"
            )
        ]
    );
    assert!(runbook::check_dir(&dir.path().join("absent"), &Scenario::names()).is_empty());
}

/// RESOLVED needs the runbook's workloads settled, not only its checks: a
/// service at 1/1 whose new task is still starting (health UNKNOWN) is not.
#[test]
fn resolution_waits_for_the_runbooks_workloads_to_settle() {
    let text = r#"
id = "ecs"
title = "ECS"
resolved_when = [ { workload = "ecs-service prod/checkout", ready_at_least_desired = true } ]
resolved_hold = "2m"
[[steps]]
title = "Redeploy"
text = "x"
[[steps.actions]]
label = "Force"
kind = "force_new_deployment"
target = "ecs-service prod/checkout"
"#;
    let book = Runbook::parse("ecs.toml", text).unwrap_or_else(|ps| panic!("{ps:?}"));
    assert_eq!(book.resolved_hold, Duration::from_secs(120));
    let service = row(
        WorkloadKind::EcsService,
        "prod",
        "checkout",
        1,
        1,
        Health::Ok,
        None,
    );
    let mut task = row(
        WorkloadKind::EcsTask,
        "prod",
        "4f1c",
        0,
        1,
        Health::Unknown,
        Some("checkout"),
    );
    task.status = "PROVISIONING".into();
    let mut stopped = row(
        WorkloadKind::EcsTask,
        "prod",
        "9a2b",
        0,
        1,
        Health::Critical,
        Some("checkout"),
    );
    stopped.status = "STOPPED".into();
    let rows = vec![service.clone(), task.clone(), stopped.clone()];
    let view = EstateView {
        workloads: &rows,
        metrics: &[],
        databases: &[],
    };
    assert_eq!(
        book.resolution(&view),
        Err("ecs-task prod/4f1c is PROVISIONING".into())
    );
    task.health = Health::Ok;
    task.status = "RUNNING".into();
    let rows = vec![service, task, stopped];
    let view = EstateView {
        workloads: &rows,
        metrics: &[],
        databases: &[],
    };
    assert_eq!(
        book.resolution(&view),
        Ok(()),
        "a stopped task does not count"
    );

    let bad = text.replace("\"2m\"", "\"soon\"");
    let problems = Runbook::parse("ecs.toml", &bad).expect_err("a bad hold");
    assert!(
        problems
            .iter()
            .any(|p| p.to_string().contains("resolved_hold") && p.to_string().contains("soon")),
        "{problems:?}"
    );
}
