//! The PostgreSQL backend against a real PostgreSQL server: each test starts
//! its own (tests/support/pg.rs) on a free port and stops it at the end.

#[path = "support/pg.rs"]
mod pg_harness;

use std::time::{Duration, SystemTime};

use opsdeck::domain::{Change, DbSession, DbSnapshot, QueryRule, SessionState, SessionTarget};
use opsdeck::pg::{PgExecutor, PgOptions, PgSource, connect, open};
use opsdeck::runbook::{ActionKind, EstateView};
use opsdeck::source::{ChangeExecutor, DatabaseSource, SourceError};
use pg_harness::*;
use tokio_postgres::error::SqlState;

const DB: &str = "orders-db";

async fn backend(server: &PgServer) -> (PgSource, PgExecutor) {
    connect(&PgOptions::new(DB, server.superuser_url()))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"))
}

async fn snap(source: &PgSource) -> DbSnapshot {
    source
        .snapshot()
        .await
        .unwrap_or_else(|e| panic!("snapshot: {e}"))
}

fn session(s: &DbSnapshot, pid: i32) -> Option<&DbSession> {
    s.sessions.iter().find(|x| x.pid == pid)
}

fn target(s: &DbSession) -> SessionTarget {
    SessionTarget {
        pid: s.pid,
        backend_start: s.backend_start,
        query: s.query.clone(),
    }
}

/// Wait until every pid is active in pg_sleep; return the snapshot that shows it.
async fn until_sleeping(source: &PgSource, pids: &[i32]) -> DbSnapshot {
    wait_for(10, "sleepers to be active", || async {
        let s = snap(source).await;
        pids.iter()
            .all(|p| {
                session(&s, *p).is_some_and(|x| {
                    x.state == SessionState::Active && x.wait_event.as_deref() == Some("PgSleep")
                })
            })
            .then_some(s)
    })
    .await
}

async fn until_gone(source: &PgSource, pid: i32) {
    wait_for(10, "the session to disappear", || async {
        session(&snap(source).await, pid).is_none().then_some(())
    })
    .await
}

fn assert_code(r: Result<(), tokio_postgres::Error>, code: &SqlState) {
    match r {
        Ok(()) => panic!("the query succeeded; expected {code:?}"),
        Err(e) => assert_eq!(e.code(), Some(code), "{e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_shows_sessions_with_growing_running_time() {
    let server = PgServer::start();
    let (source, _) = backend(&server).await;
    assert_eq!(source.label(), "pg:orders-db");
    assert!(!source.label().contains(SUPER_PASSWORD));

    let a = server.sleeper("sleeper-a").await;
    let b = server.sleeper_as(APP_USER, APP_PASSWORD, "sleeper-b").await;
    let idle = server.client(SUPERUSER, SUPER_PASSWORD, "idle-one").await;
    let in_tx = server.client(SUPERUSER, SUPER_PASSWORD, "in-tx").await;
    in_tx.client.batch_execute("BEGIN; SELECT 1").await.unwrap();
    // A lock wait: `holder` keeps an exclusive lock, `waiter` queues behind it.
    let holder = server.client(SUPERUSER, SUPER_PASSWORD, "holder").await;
    holder
        .client
        .batch_execute("BEGIN; LOCK TABLE locked IN ACCESS EXCLUSIVE MODE")
        .await
        .unwrap();
    let waiter = server.client(SUPERUSER, SUPER_PASSWORD, "waiter").await;
    let wc = waiter.client.clone();
    let waiting = tokio::spawn(async move { wc.simple_query("SELECT * FROM locked").await });

    let first = until_sleeping(&source, &[a.pid(), b.pid()]).await;
    assert_eq!(first.name, DB);
    assert_eq!(first.max_connections, 40);
    let sa = session(&first, a.pid()).unwrap();
    assert_eq!(sa.user, SUPERUSER);
    assert_eq!(sa.application, "sleeper-a");
    assert!(sa.client.starts_with("127.0.0.1:"), "{}", sa.client);
    assert_eq!(sa.query, "SELECT pg_sleep(600)");
    assert!(sa.blocked_by.is_empty());
    let age = SystemTime::now()
        .duration_since(sa.backend_start)
        .unwrap_or_default();
    assert!(age < Duration::from_secs(60), "backend_start {age:?} ago");
    assert_eq!(session(&first, b.pid()).unwrap().user, APP_USER);
    // opsdeck's own backend is not listed (its application_name is opsdeck).
    assert!(first.sessions.iter().all(|s| s.application != "opsdeck"));

    let s = wait_for(10, "idle, idle in transaction and a lock wait", || async {
        let s = snap(&source).await;
        let ok = session(&s, idle.pid).is_some_and(|x| x.state == SessionState::Idle)
            && session(&s, in_tx.pid).is_some_and(|x| x.state == SessionState::IdleInTransaction)
            && session(&s, waiter.pid).is_some_and(|x| !x.blocked_by.is_empty());
        ok.then_some(s)
    })
    .await;
    let w = session(&s, waiter.pid).unwrap();
    assert_eq!(w.blocked_by, vec![holder.pid]);
    assert_eq!(w.wait_event.as_deref(), Some("Lock:relation"));
    assert_eq!(w.state, SessionState::Active);

    // Running time is computed by the server and grows.
    let before = session(&first, a.pid()).unwrap().running;
    let later = wait_for(10, "a later snapshot", || async {
        let s = snap(&source).await;
        let r = session(&s, a.pid()).unwrap().running;
        (r > before).then_some(r)
    })
    .await;
    assert!(later > before, "{later:?} <= {before:?}");

    holder.client.batch_execute("COMMIT").await.unwrap();
    assert!(waiting.await.unwrap().is_ok());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_ends_the_query_and_keeps_the_session() {
    let server = PgServer::start();
    let (source, exec) = backend(&server).await;
    let sleeper = server.sleeper("to-cancel").await;
    let s = until_sleeping(&source, &[sleeper.pid()]).await;
    let req = Change::CancelQuery {
        database: DB.into(),
        session: target(session(&s, sleeper.pid()).unwrap()),
    };
    assert_eq!(exec.allowed(&req).await, Ok(()));
    let preview = exec.preview(&req).await.unwrap().unwrap().summary;
    assert!(
        preview.starts_with(&format!(
            "would cancel the query of pid {} on orders-db (active for ",
            sleeper.pid()
        )),
        "{preview}"
    );
    assert!(sleeper.sleeping(), "the dry run cancelled the query");
    let out = exec.execute(&req).await.unwrap();
    assert_eq!(
        out.summary,
        format!("cancelled the query of pid {} on orders-db", sleeper.pid())
    );
    assert_eq!(
        out.details,
        vec![format!("pid {}: cancelled", sleeper.pid())]
    );

    let client = sleeper.client.client.clone();
    let pid = sleeper.pid();
    assert_code(sleeper.outcome().await, &SqlState::QUERY_CANCELED);
    assert!(
        client.simple_query("SELECT 1").await.is_ok(),
        "connection lost"
    );
    wait_for(10, "the session to be idle", || async {
        session(&snap(&source).await, pid)
            .is_some_and(|x| x.state == SessionState::Idle)
            .then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_session_closes_the_connection() {
    let server = PgServer::start();
    let (source, exec) = backend(&server).await;
    let sleeper = server.sleeper("to-terminate").await;
    let other = server.sleeper("bystander").await;
    let s = until_sleeping(&source, &[sleeper.pid(), other.pid()]).await;
    let req = Change::TerminateSession {
        database: DB.into(),
        session: target(session(&s, sleeper.pid()).unwrap()),
    };
    let out = exec.execute(&req).await.unwrap();
    assert_eq!(
        out.summary,
        format!("terminated pid {} on orders-db", sleeper.pid())
    );
    assert_eq!(
        out.details,
        vec![format!("pid {}: terminated", sleeper.pid())]
    );
    let pid = sleeper.pid();
    assert!(sleeper.client.closed().await, "the connection stayed open");
    assert_code(sleeper.outcome().await, &SqlState::ADMIN_SHUTDOWN);
    until_gone(&source, pid).await;
    assert!(other.sleeping());

    // Terminating it again: the session no longer exists.
    match exec.execute(&req).await {
        Err(SourceError::NotFound(m)) => assert!(m.contains("no such session"), "{m}"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn terminate_queries_hits_only_the_sessions_older_than_the_rule() {
    let server = PgServer::start();
    let (source, exec) = backend(&server).await;
    let old = [server.sleeper("old-1").await, server.sleeper("old-2").await];
    let old_idle = server.client(SUPERUSER, SUPER_PASSWORD, "old-idle").await;
    let old_pids: Vec<i32> = old.iter().map(|s| s.pid()).collect();
    until_sleeping(&source, &old_pids).await;
    // Real time must pass for query_start to age: wait until the server
    // says the old queries have run for 3 s.
    wait_for(20, "the old queries to run for 3s", || async {
        let s = snap(&source).await;
        old_pids
            .iter()
            .all(|p| session(&s, *p).is_some_and(|x| x.running >= Duration::from_secs(3)))
            .then_some(())
    })
    .await;
    let young = [
        server.sleeper("young-1").await,
        server.sleeper("young-2").await,
    ];
    let young_pids: Vec<i32> = young.iter().map(|s| s.pid()).collect();
    let s = until_sleeping(&source, &young_pids).await;

    let rule = QueryRule {
        older_than: Duration::from_secs(2),
        user: None,
        application: None,
    };
    for p in &old_pids {
        assert!(rule.matches(session(&s, *p).unwrap()));
    }
    for p in &young_pids {
        assert!(!rule.matches(session(&s, *p).unwrap()));
    }
    // Every test session is a target: the server-side re-check must pick
    // the old active ones only (the idle one is old but not running a query).
    let mut pids = old_pids.clone();
    pids.extend(&young_pids);
    pids.push(old_idle.pid);
    let sessions: Vec<SessionTarget> = pids
        .iter()
        .map(|p| target(session(&s, *p).unwrap()))
        .collect();
    let req = Change::TerminateQueries {
        database: DB.into(),
        rule: rule.clone(),
        sessions,
    };
    let preview = exec.preview(&req).await.unwrap().unwrap().summary;
    assert!(
        preview.starts_with(&format!(
            "would terminate 2 of 5 sessions on orders-db (pid {}, {})",
            old_pids[0], old_pids[1]
        )),
        "{preview}"
    );
    let out = exec.execute(&req).await.unwrap();
    assert_eq!(out.summary, "terminated 2 of 5 sessions on orders-db");
    let mut expected: Vec<String> = old
        .iter()
        .map(|o| format!("pid {}: terminated (postgres {})", o.pid(), o.app))
        .collect();
    for p in young_pids.iter().chain([&old_idle.pid]) {
        expected.push(format!("pid {p}: skipped: no longer matches running > 2s"));
    }
    assert_eq!(out.details, expected);

    for o in old {
        assert!(o.client.closed().await, "{} survived", o.app);
        assert_code(o.outcome().await, &SqlState::ADMIN_SHUTDOWN);
    }
    for y in &young {
        assert!(y.sleeping(), "{} was hit", y.app);
    }
    assert!(old_idle.alive().await, "the idle session was hit");
    wait_for(10, "the old sessions to disappear", || async {
        let s = snap(&source).await;
        let gone = old_pids.iter().all(|p| session(&s, *p).is_none());
        let kept = young_pids
            .iter()
            .all(|p| session(&s, *p).is_some_and(|x| x.state == SessionState::Active));
        (gone && kept).then_some(())
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reused_pid_is_never_signalled() {
    let server = PgServer::start();
    let (source, exec) = backend(&server).await;
    let sleeper = server.sleeper("pinned").await;
    let s = until_sleeping(&source, &[sleeper.pid()]).await;
    let real = target(session(&s, sleeper.pid()).unwrap());
    let pid = real.pid;
    let rule = QueryRule {
        older_than: Duration::ZERO,
        user: None,
        application: None,
    };
    // Same pid, another backend start: what a reused pid looks like. One
    // microsecond off is enough (timestamps compare at full precision).
    for shift in [Duration::from_secs(1), Duration::from_micros(1)] {
        let forged = SessionTarget {
            backend_start: real.backend_start + shift,
            ..real.clone()
        };
        let out = exec
            .execute(&Change::TerminateQueries {
                database: DB.into(),
                rule: rule.clone(),
                sessions: vec![forged.clone()],
            })
            .await
            .unwrap();
        assert_eq!(out.summary, "terminated 0 of 1 sessions on orders-db");
        assert_eq!(
            out.details,
            vec![format!(
                "pid {pid}: skipped: pid now belongs to another session (backend started {})",
                humantime::format_rfc3339_seconds(real.backend_start)
            )]
        );
        for req in [
            Change::TerminateSession {
                database: DB.into(),
                session: forged.clone(),
            },
            Change::CancelQuery {
                database: DB.into(),
                session: forged.clone(),
            },
        ] {
            match exec.execute(&req).await {
                Err(SourceError::NotFound(m)) => assert!(
                    m.contains(&format!("pid {pid} on orders-db: no such session")),
                    "{m}"
                ),
                other => panic!("{other:?}"),
            }
        }
    }
    assert!(sleeper.sleeping(), "the session was signalled");
    let s = snap(&source).await;
    assert_eq!(session(&s, pid).unwrap().state, SessionState::Active);

    // The exact backend_start from the snapshot (a µs round trip) does hit it.
    let out = exec
        .execute(&Change::TerminateQueries {
            database: DB.into(),
            rule,
            sessions: vec![real],
        })
        .await
        .unwrap();
    assert_eq!(out.summary, "terminated 1 of 1 sessions on orders-db");
    assert!(sleeper.client.closed().await);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_db_connections_runbook_action_runs_against_a_real_server() {
    let server = PgServer::start();
    let (source, exec) = backend(&server).await;
    let book = opsdeck::runbook::for_scenario("db-connections")
        .unwrap()
        .unwrap();
    let spec = book
        .actions()
        .find(|a| matches!(a.kind, ActionKind::TerminateQueries { .. }))
        .unwrap()
        .clone();
    let ActionKind::TerminateQueries { database, rule } = &spec.kind else {
        unreachable!()
    };
    assert_eq!(database, DB);
    assert_eq!(rule.older_than, Duration::from_secs(600));

    let old = server.sleeper("report-job").await;
    until_sleeping(&source, &[old.pid()]).await;
    wait_for(20, "the old query to run for 3s", || async {
        session(&snap(&source).await, old.pid())
            .is_some_and(|x| x.running >= Duration::from_secs(3))
            .then_some(())
    })
    .await;
    let young = server.sleeper("api").await;
    let s = until_sleeping(&source, &[young.pid()]).await;
    let dbs = vec![s];
    let estate = EstateView {
        workloads: &[],
        metrics: &[],
        databases: &dbs,
    };

    // With the runbook's real 10-minute threshold, nothing on this fresh
    // server qualifies: the action is evaluated against the real snapshot.
    assert_eq!(
        spec.to_change(&estate),
        Err("no session on orders-db matches running > 10m".to_string())
    );

    // A query cannot be made to have started 10 minutes ago (query_start is
    // set by the server), and waiting 10 minutes is not a test. So the same
    // ChangeSpec is used with only its threshold shortened to 2 s: the
    // database name, the user/application filters and the code path
    // (to_change -> PgExecutor::execute) are the runbook's own.
    let mut short = spec.clone();
    if let ActionKind::TerminateQueries { rule, .. } = &mut short.kind {
        rule.older_than = Duration::from_secs(2);
    }
    let req = short.to_change(&estate).unwrap();
    let Change::TerminateQueries { sessions, .. } = &req else {
        panic!("{req:?}")
    };
    assert_eq!(
        sessions.iter().map(|s| s.pid).collect::<Vec<_>>(),
        vec![old.pid()]
    );
    assert_eq!(exec.allowed(&req).await, Ok(()));
    let out = exec.execute(&req).await.unwrap();
    assert_eq!(out.summary, "terminated 1 of 1 sessions on orders-db");
    assert_eq!(
        out.details,
        vec![format!(
            "pid {}: terminated (postgres report-job)",
            old.pid()
        )]
    );
    assert!(old.client.closed().await);
    assert!(young.sleeping());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allowed_needs_the_right_to_signal() {
    let server = PgServer::start();
    let su_sleeper = server.sleeper("su-job").await;
    let app_sleeper = server.sleeper_as(APP_USER, APP_PASSWORD, "app-job").await;
    let (su_source, su_exec) = backend(&server).await;
    let s = until_sleeping(&su_source, &[su_sleeper.pid(), app_sleeper.pid()]).await;
    let su_target = target(session(&s, su_sleeper.pid()).unwrap());
    let app_target = target(session(&s, app_sleeper.pid()).unwrap());
    let term = |t: &SessionTarget| Change::TerminateSession {
        database: DB.into(),
        session: t.clone(),
    };

    let (app_source, app_exec) = connect(&PgOptions::new(DB, server.url(APP_USER, APP_PASSWORD)))
        .await
        .unwrap();
    // Without pg_read_all_stats, another role's session is listed (it holds
    // a slot) but its details are hidden by the server.
    let seen = snap(&app_source).await;
    let hidden = session(&seen, su_sleeper.pid()).unwrap();
    assert_eq!(hidden.state, SessionState::Other);
    assert_eq!(hidden.backend_start, SystemTime::UNIX_EPOCH);
    assert_eq!(hidden.query, "<insufficient privilege>");
    assert_eq!(hidden.user, SUPERUSER);
    assert_eq!(
        session(&seen, app_sleeper.pid()).unwrap().state,
        SessionState::Active
    );
    let (_, sig_exec) = connect(&PgOptions::new(
        DB,
        server.url(SIGNALLER, SIGNALLER_PASSWORD),
    ))
    .await
    .unwrap();

    assert_eq!(su_exec.allowed(&term(&su_target)).await, Ok(()));
    assert_eq!(su_exec.allowed(&term(&app_target)).await, Ok(()));
    // An ordinary role may signal its own sessions only.
    assert_eq!(app_exec.allowed(&term(&app_target)).await, Ok(()));
    let why = app_exec.allowed(&term(&su_target)).await.unwrap_err();
    assert!(
        why.contains("role app on orders-db may not signal"),
        "{why}"
    );
    assert!(why.contains("pg_signal_backend"), "{why}");
    // pg_signal_backend: anyone's but a superuser's.
    assert_eq!(sig_exec.allowed(&term(&app_target)).await, Ok(()));
    let why = sig_exec.allowed(&term(&su_target)).await.unwrap_err();
    assert!(why.contains("superuser postgres"), "{why}");

    // And the server agrees when it is tried anyway.
    match app_exec.execute(&term(&su_target)).await {
        // It cannot even see the superuser session's backend start (no
        // pg_read_all_stats), so it cannot pin it: refused before signalling.
        Err(SourceError::Forbidden(m)) => assert!(m.contains("pg_read_all_stats"), "{m}"),
        other => panic!("{other:?}"),
    }
    let out = app_exec
        .execute(&Change::TerminateQueries {
            database: DB.into(),
            rule: QueryRule {
                older_than: Duration::ZERO,
                user: None,
                application: None,
            },
            sessions: vec![su_target.clone(), app_target.clone()],
        })
        .await
        .unwrap();
    assert_eq!(
        out.summary,
        "terminated 1 of 2 sessions on orders-db (1 failed)"
    );
    assert!(
        out.details[0].starts_with(&format!("pid {}: failed: forbidden:", su_target.pid)),
        "{:?}",
        out.details
    );
    assert!(su_sleeper.sleeping());
    assert!(app_sleeper.client.closed().await);

    // Another database's request is not run here.
    let elsewhere = Change::TerminateSession {
        database: "billing-db".into(),
        session: su_target,
    };
    assert!(matches!(
        su_exec.execute(&elsewhere).await,
        Err(SourceError::NotFound(_))
    ));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connection_problems_are_clear_and_never_show_the_password() {
    let server = PgServer::start();
    let check = |e: &SourceError| {
        let m = e.to_string();
        assert!(!m.contains(SUPER_PASSWORD), "password shown: {m}");
        assert!(!m.contains("wrong-Secret"), "password shown: {m}");
        m
    };

    // A malformed string.
    let bad = format!("postgres://postgres:{SUPER_PASSWORD}@127.0.0.1:notaport/postgres");
    let e = connect(&PgOptions::new(DB, bad)).await.err().unwrap();
    let m = check(&e);
    assert!(matches!(e, SourceError::Other(_)), "{e:?}");
    assert!(m.contains("invalid port \"notaport\""), "{m}");
    assert!(m.contains("postgres:***@127.0.0.1"), "{m}");

    let e = open(&PgOptions::new(
        DB,
        format!("host=127.0.0.1 password={SUPER_PASSWORD} sslmode=verify-everything"),
    ))
    .err()
    .unwrap();
    let m = check(&e);
    assert!(m.contains("invalid sslmode"), "{m}");

    // Wrong password.
    let e = connect(&PgOptions::new(DB, server.url(SUPERUSER, "wrong-Secret")))
        .await
        .err()
        .unwrap();
    let m = check(&e);
    assert!(matches!(e, SourceError::Forbidden(_)), "{e:?}");
    assert!(m.contains("password authentication failed"), "{m}");

    // A missing database.
    let url = format!(
        "postgres://postgres:{SUPER_PASSWORD}@127.0.0.1:{}/nosuchdb",
        server.port
    );
    let e = connect(&PgOptions::new(DB, url)).await.err().unwrap();
    check(&e);
    assert!(matches!(e, SourceError::NotFound(_)), "{e:?}");

    // Nothing listening.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("postgres://postgres:{SUPER_PASSWORD}@127.0.0.1:{port}/postgres");
    let e = connect(&PgOptions::new(DB, url)).await.err().unwrap();
    let m = check(&e);
    assert!(matches!(e, SourceError::Unreachable(_)), "{e:?}");
    assert!(m.contains("orders-db"), "{m}");
    assert!(
        m.contains(&format!("postgres@127.0.0.1:{port}/postgres")),
        "{m}"
    );
    assert!(m.to_lowercase().contains("refused"), "{m}");

    // The PG* variables (passed in, not set in the process).
    let port = server.port.to_string();
    let opts = PgOptions::from_vars(DB, |k| {
        Some(match k {
            "PGHOST" => "127.0.0.1".to_string(),
            "PGPORT" => port.clone(),
            "PGUSER" => APP_USER.into(),
            "PGPASSWORD" => APP_PASSWORD.into(),
            "PGDATABASE" => "postgres".into(),
            "PGSSLMODE" => "disable".into(),
            "PGAPPNAME" => "from-env".into(),
            _ => return None,
        })
    });
    assert!(!format!("{opts:?}").contains(APP_PASSWORD));
    let (source, _) = connect(&opts).await.unwrap();
    assert_eq!(source.target(), format!("app@127.0.0.1:{port}/postgres"));
    let watcher = server.client(SUPERUSER, SUPER_PASSWORD, "watcher").await;
    let row = watcher
        .client
        .query_one(
            "SELECT a.usename::text, s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
             WHERE a.application_name = 'from-env'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), APP_USER);
    assert!(!row.get::<_, bool>(1), "sslmode=disable used TLS");
    snap(&source).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_source_reports_an_outage_and_recovers() {
    let server = PgServer::start();
    let (source, exec) = backend(&server).await;
    snap(&source).await;

    server.stop();
    for _ in 0..2 {
        match source.snapshot().await {
            Err(SourceError::Unreachable(m)) => {
                assert!(m.contains("orders-db"), "{m}");
                assert!(!m.contains(SUPER_PASSWORD), "{m}");
            }
            other => panic!("expected unreachable, got {other:?}"),
        }
    }
    let rule = QueryRule {
        older_than: Duration::ZERO,
        user: None,
        application: None,
    };
    let req = Change::TerminateQueries {
        database: DB.into(),
        rule,
        sessions: Vec::new(),
    };
    assert!(matches!(
        exec.execute(&req).await,
        Err(SourceError::Unreachable(_))
    ));

    server.start_again();
    let s = wait_for(20, "the source to reconnect", || async {
        source.snapshot().await.ok()
    })
    .await;
    assert_eq!(s.max_connections, 40);
    assert!(exec.execute(&req).await.is_ok());
}

/// Which sslmode gives which connection, against a server with TLS on and
/// a certificate for `localhost` signed by a test CA.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sslmodes_follow_libpq() {
    let server = PgServer::start();
    let watcher = server.client(SUPERUSER, SUPER_PASSWORD, "watcher").await;
    let ca = server.ca_cert().display().to_string();
    let port = server.port;
    let url = |host: &str, app: &str, params: &str| {
        format!(
            "postgres://postgres:{SUPER_PASSWORD}@{host}:{port}/postgres?application_name={app}{params}"
        )
    };
    let tls_of = |app: &'static str| {
        let c = watcher.client.clone();
        async move {
            c.query_one(
                "SELECT s.ssl FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid) \
                 WHERE a.application_name = $1",
                &[&app],
            )
            .await
            .unwrap()
            .get::<_, bool>(0)
        }
    };
    let cases: [(&'static str, String, bool); 6] = [
        (
            "m-disable",
            url("127.0.0.1", "m-disable", "&sslmode=disable"),
            false,
        ),
        ("m-default", url("127.0.0.1", "m-default", ""), true),
        (
            "m-require",
            url("127.0.0.1", "m-require", "&sslmode=require"),
            true,
        ),
        (
            "m-verify-ca",
            url(
                "127.0.0.1",
                "m-verify-ca",
                &format!("&sslmode=verify-ca&sslrootcert={ca}"),
            ),
            true,
        ),
        (
            "m-verify-full",
            url(
                "localhost",
                "m-verify-full",
                &format!("&sslmode=verify-full&sslrootcert={ca}"),
            ),
            true,
        ),
        (
            "m-require-ca",
            url(
                "127.0.0.1",
                "m-require-ca",
                &format!("&sslmode=require&sslrootcert={ca}"),
            ),
            true,
        ),
    ];
    let mut keep = Vec::new();
    for (app, u, tls) in cases {
        let pair = connect(&PgOptions::new(DB, u))
            .await
            .unwrap_or_else(|e| panic!("{app}: {e}"));
        assert_eq!(tls_of(app).await, tls, "{app}");
        keep.push(pair);
    }

    // verify-full checks the name: the certificate is for localhost only.
    let e = connect(&PgOptions::new(
        DB,
        url(
            "127.0.0.1",
            "m-bad-name",
            &format!("&sslmode=verify-full&sslrootcert={ca}"),
        ),
    ))
    .await
    .err()
    .unwrap();
    let m = e.to_string();
    assert!(
        m.contains("certificate not valid for name \"127.0.0.1\""),
        "{m}"
    );
    assert!(!m.contains(SUPER_PASSWORD), "{m}");

    // verify-ca against roots that did not sign it (the system's store, or
    // none there at all) fails too.
    let r = connect(&PgOptions::new(
        DB,
        url("localhost", "m-unknown-ca", "&sslmode=verify-ca"),
    ))
    .await;
    let m = r.err().unwrap().to_string();
    assert!(m.contains("sslrootcert"), "{m}");
    assert!(!m.contains(SUPER_PASSWORD), "{m}");

    // An unreadable sslrootcert is reported before connecting.
    let e = open(&PgOptions::new(
        DB,
        url(
            "localhost",
            "x",
            "&sslmode=verify-full&sslrootcert=/nonexistent/ca.pem",
        ),
    ))
    .err()
    .unwrap();
    assert!(
        e.to_string()
            .contains("cannot read sslrootcert /nonexistent/ca.pem"),
        "{e}"
    );
}

/// A `SQL_ASCII` database passes a client's bytes on unchecked, so a query
/// can hold a byte that is not UTF-8. That session shows with U+FFFD in
/// place of the byte, and the rest of the snapshot is untouched. A LATIN1
/// database's text is converted by the server, `é` and all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_that_is_not_utf8_shows_with_a_replacement_character() {
    let server = PgServer::start();
    for (db, encoding) in [("legacy", "SQL_ASCII"), ("western", "LATIN1")] {
        server.psql(
            "postgres",
            &format!(
                "CREATE DATABASE {db} ENCODING '{encoding}' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0"
            ),
        );
    }
    let script = b"select pg_sleep(120) /* caf\xe9 */;\n";
    let mut clients = vec![
        server.psql_bytes("legacy", "latin-client", script),
        server.psql_bytes("western", "latin-client", script),
    ];

    let url = server.url_to("legacy", SUPERUSER, SUPER_PASSWORD);
    let (source, _) = connect(&PgOptions::new(DB, url))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let other = server
        .sleeper_on("legacy", SUPERUSER, SUPER_PASSWORD, "plain")
        .await;
    let watcher = server
        .client_on("legacy", SUPERUSER, SUPER_PASSWORD, "watcher")
        .await;
    wait_for(10, "the latin-1 query to run", || async {
        let rows = watcher
            .client
            .query(
                "SELECT 1 FROM pg_stat_activity WHERE application_name = 'latin-client' \
                 AND datname = 'legacy' AND wait_event = 'PgSleep'",
                &[],
            )
            .await
            .unwrap();
        (!rows.is_empty()).then_some(())
    })
    .await;
    // The byte really is in pg_stat_activity: reading the column as text
    // fails the whole statement (what used to blank the pane).
    let strict = watcher
        .client
        .query(
            "SELECT query FROM pg_stat_activity WHERE application_name = 'latin-client'",
            &[],
        )
        .await;
    assert!(
        strict.is_err(),
        "the query text was valid UTF-8: {strict:?}"
    );

    let s = until_sleeping(&source, &[other.pid()]).await;
    assert_eq!(s.unreadable, 0);
    let bad = s
        .sessions
        .iter()
        .find(|x| x.application == "latin-client")
        .unwrap_or_else(|| panic!("the latin-1 session is missing: {s:?}"));
    assert_eq!(bad.query, "select pg_sleep(120) /* caf\u{FFFD} */;");
    assert_eq!(bad.state, SessionState::Active);
    assert_eq!(bad.wait_event.as_deref(), Some("PgSleep"));
    assert_eq!(
        session(&s, other.pid()).unwrap().query,
        "SELECT pg_sleep(600)"
    );
    assert_eq!(session(&s, watcher.pid).unwrap().application, "watcher");

    let url = server.url_to("western", SUPERUSER, SUPER_PASSWORD);
    let (western, _) = connect(&PgOptions::new("western-db", url)).await.unwrap();
    let s = wait_for(10, "the LATIN1 session", || async {
        let s = snap(&western).await;
        s.sessions
            .iter()
            .any(|x| x.query.contains("/* caf"))
            .then_some(s)
    })
    .await;
    assert!(
        s.sessions
            .iter()
            .any(|x| x.query == "select pg_sleep(120) /* café */;"),
        "{s:?}"
    );
    for c in &mut clients {
        let _ = c.kill();
        let _ = c.wait();
    }
}

/// pg_stat_activity is server-wide: two databases configured on one server
/// each list only their own sessions (a session appears once), count the
/// other's connections against max_connections, and never signal the other's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_databases_on_one_server_each_list_their_own_sessions() {
    let server = PgServer::start();
    server.psql("postgres", "CREATE DATABASE billing");
    let (orders, orders_exec) = backend(&server).await;
    let billing_url = server.url_to("billing", SUPERUSER, SUPER_PASSWORD);
    let (billing, billing_exec) = connect(&PgOptions::new("billing-db", billing_url))
        .await
        .unwrap_or_else(|e| panic!("connect: {e}"));
    let in_orders = server.sleeper("orders-job").await;
    let in_billing = server
        .sleeper_on("billing", SUPERUSER, SUPER_PASSWORD, "billing-job")
        .await;
    let idle_billing = server
        .client_on("billing", SUPERUSER, SUPER_PASSWORD, "billing-idle")
        .await;

    let o = until_sleeping(&orders, &[in_orders.pid()]).await;
    let b = until_sleeping(&billing, &[in_billing.pid()]).await;
    assert_eq!(b.name, "billing-db");
    // Every test session shows once, in its own database; each source's own
    // connection (application opsdeck) is hidden from both.
    let apps = |s: &DbSnapshot| {
        let mut a: Vec<String> = s.sessions.iter().map(|x| x.application.clone()).collect();
        a.sort();
        a
    };
    assert_eq!(apps(&o), vec!["orders-job"], "{o:?}");
    assert_eq!(apps(&b), vec!["billing-idle", "billing-job"], "{b:?}");
    assert!(session(&b, idle_billing.pid).is_some());
    // The other database's connections still count against the server's
    // max_connections: billing's 2 sessions and billing's own poller for
    // orders; orders-job and orders' poller for billing.
    assert_eq!((o.other_databases, o.connections()), (3, 4));
    assert_eq!((b.other_databases, b.connections()), (2, 4));

    // orders-db's executor does not reach billing's session, even by its
    // exact pid and backend start.
    let billing_target = target(session(&b, in_billing.pid()).unwrap());
    for req in [
        Change::CancelQuery {
            database: DB.into(),
            session: billing_target.clone(),
        },
        Change::TerminateSession {
            database: DB.into(),
            session: billing_target.clone(),
        },
    ] {
        match orders_exec.execute(&req).await {
            Err(SourceError::NotFound(m)) => assert!(m.contains("no such session"), "{m}"),
            other => panic!("{other:?}"),
        }
    }
    assert!(in_billing.sleeping(), "billing's session was signalled");
    let out = billing_exec
        .execute(&Change::TerminateSession {
            database: "billing-db".into(),
            session: billing_target,
        })
        .await
        .unwrap();
    assert_eq!(
        out.summary,
        format!("terminated pid {} on billing-db", in_billing.pid())
    );
    assert!(in_billing.client.closed().await);
    assert!(in_orders.sleeping());
}

/// pg_cancel_backend returns true for an idle session too, where it does
/// nothing: a cancel is refused, in the dry run and at run time, when the
/// session is running no query. Terminate still works on it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_refuses_a_session_that_runs_no_query() {
    let server = PgServer::start();
    let (source, exec) = backend(&server).await;
    let idle = server.client(SUPERUSER, SUPER_PASSWORD, "idle-one").await;
    let in_tx = server.client(SUPERUSER, SUPER_PASSWORD, "in-tx").await;
    in_tx
        .client
        .batch_execute("BEGIN; CREATE TEMP TABLE kept (id int)")
        .await
        .unwrap();
    let s = wait_for(10, "idle and idle in transaction", || async {
        let s = snap(&source).await;
        let ok = session(&s, idle.pid).is_some_and(|x| x.state == SessionState::Idle)
            && session(&s, in_tx.pid).is_some_and(|x| x.state == SessionState::IdleInTransaction);
        ok.then_some(s)
    })
    .await;
    for (client, state) in [(&idle, "idle"), (&in_tx, "idle in transaction")] {
        let req = Change::CancelQuery {
            database: DB.into(),
            session: target(session(&s, client.pid).unwrap()),
        };
        let why = format!(
            "pid {} on orders-db is {state}: it is running no query, so there is nothing to \
             cancel (terminate the session to end it)",
            client.pid
        );
        assert_eq!(exec.allowed(&req).await, Ok(()));
        assert_eq!(
            exec.preview(&req).await,
            Err(SourceError::Blocked(why.clone()))
        );
        assert_eq!(exec.execute(&req).await, Err(SourceError::Blocked(why)));
    }
    // Nothing was signalled: the transaction is still open and usable.
    in_tx
        .client
        .batch_execute("INSERT INTO kept VALUES (1); COMMIT")
        .await
        .unwrap();
    assert!(idle.alive().await);

    let req = Change::TerminateSession {
        database: DB.into(),
        session: target(session(&s, idle.pid).unwrap()),
    };
    assert_eq!(
        exec.preview(&req).await.unwrap().unwrap().summary,
        format!("would terminate pid {} on orders-db (idle)", idle.pid)
    );
    assert!(idle.alive().await, "the dry run terminated the session");
    exec.execute(&req).await.unwrap();
    assert!(idle.closed().await);
}

/// Send `signal` (`STOP`, `CONT`) to a server process.
fn kill(signal: &str, pid: i32) {
    let ok = std::process::Command::new("kill")
        .arg(format!("-{signal}"))
        .arg(pid.to_string())
        .status()
        .is_ok_and(|s| s.success());
    assert!(ok, "kill -{signal} {pid}");
}

/// A database whose backend stops answering is reported unreachable within
/// the source's own timeout, while another database of the same server
/// answers at once; the next poll reconnects, and the hung connection is
/// cancelled and closed rather than left waiting.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hung_database_times_out_on_its_own_and_the_next_poll_reconnects() {
    let server = PgServer::start();
    server.psql("postgres", "CREATE DATABASE billing");
    let timeout = Duration::from_secs(1);
    let opts = PgOptions::new(DB, server.superuser_url()).with_timeout(timeout);
    let (orders, _) = connect(&opts).await.unwrap();
    let billing_url = server.url_to("billing", SUPERUSER, SUPER_PASSWORD);
    let (billing, _) = connect(&PgOptions::new("billing-db", billing_url))
        .await
        .unwrap();
    snap(&orders).await;
    // orders' own backend, as billing's poller cannot see it: ask directly.
    let watcher = server.client(SUPERUSER, SUPER_PASSWORD, "watcher").await;
    let hung: i32 = watcher
        .client
        .query_one(
            "SELECT pid FROM pg_stat_activity WHERE application_name = 'opsdeck' \
             AND datname = 'postgres'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    kill("STOP", hung);

    let started = std::time::Instant::now();
    let (stuck, other) = tokio::join!(orders.snapshot(), async {
        let r = billing.snapshot().await;
        (r, started.elapsed())
    });
    let took = started.elapsed();
    match stuck {
        Err(SourceError::Unreachable(m)) => assert!(
            m.contains("orders-db") && m.contains("reading pg_stat_activity: no answer within 1s"),
            "{m}"
        ),
        other => {
            kill("CONT", hung);
            panic!("expected a timeout, got {other:?}")
        }
    }
    assert!(took >= timeout, "gave up after {took:?}");
    assert!(took < Duration::from_secs(5), "took {took:?}");
    let (billing_result, billing_took) = other;
    assert!(billing_result.is_ok(), "{billing_result:?}");
    assert!(billing_took < timeout, "billing waited {billing_took:?}");

    // The next poll connects afresh, while the old backend is still stopped
    // (it is listed: it holds a slot, running our snapshot).
    let s = orders
        .snapshot()
        .await
        .unwrap_or_else(|e| panic!("no reconnect: {e}"));
    assert!(session(&s, hung).is_some_and(|x| x.application == "opsdeck"));

    // Woken up, the old backend finds its query cancelled and its client
    // gone, and ends.
    kill("CONT", hung);
    until_gone(&orders, hung).await;
}

/// A server that accepts the connection but never answers: connecting is
/// bounded by the same timeout, on every poll.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_that_never_answers_times_out_connecting_on_every_poll() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let silent = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let url = format!("postgres://postgres:{SUPER_PASSWORD}@127.0.0.1:{port}/postgres");
    let timeout = Duration::from_millis(500);
    let (source, _) = open(&PgOptions::new(DB, url).with_timeout(timeout)).unwrap();
    for _ in 0..2 {
        let started = std::time::Instant::now();
        match source.snapshot().await {
            Err(SourceError::Unreachable(m)) => {
                assert!(m.contains("cannot connect: no answer within 500ms"), "{m}");
                assert!(!m.contains(SUPER_PASSWORD), "{m}");
            }
            other => panic!("expected a timeout, got {other:?}"),
        }
        let took = started.elapsed();
        assert!(
            took >= timeout && took < Duration::from_secs(3),
            "took {took:?}"
        );
    }
    silent.abort();
}
