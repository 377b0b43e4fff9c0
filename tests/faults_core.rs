//! Faults as the core and the screen show them: per-pane staleness with the
//! true age, "never connected", the problems view and the status bar, action
//! results that stay, and signals during an action.

use std::time::{Duration, SystemTime};

use crossterm::event::{KeyCode, KeyModifiers};
use opsdeck::core::{ConfirmStatus, Effect, Feed, Layer, Msg, State, update};
use opsdeck::domain::{ChangeOutcome, Health, Target, Workload, WorkloadKind, WorkloadRef};
use opsdeck::keymap::{KeyChord, Keymap};
use opsdeck::theme::{Slot, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn pod(name: &str) -> Workload {
    Workload {
        id: WorkloadRef::new(WorkloadKind::Pod, "shop", name),
        status: "Running".into(),
        ready: 1,
        desired: 1,
        restarts: 0,
        oom_killed: false,
        health: Health::Ok,
        reason: None,
        owner: None,
        revision: None,
        created: t0() - Duration::from_secs(3600),
        uid: None,
        image: None,
    }
}

fn state() -> State {
    let mut s = State::new(
        Keymap::shipped("default").unwrap(),
        Target::Kube {
            context: "prod".into(),
            namespace: None,
        },
        t0(),
    );
    update(&mut s, Msg::Workloads(vec![pod("api-1"), pod("api-2")]));
    s
}

fn at(s: &mut State, secs: u64) {
    update(s, Msg::Tick(t0() + Duration::from_secs(secs)));
}

fn ok(s: &mut State, feed: Feed, source: &str) {
    update(
        s,
        Msg::FeedOk {
            feed,
            source: source.into(),
            at: None,
        },
    );
}

fn failed(s: &mut State, feed: Feed, source: &str, error: &str) {
    update(
        s,
        Msg::FeedFailed {
            feed,
            source: source.into(),
            error: error.into(),
        },
    );
}

fn key(s: &mut State, c: char) -> Vec<Effect> {
    update(
        s,
        Msg::Key(KeyChord::new(KeyCode::Char(c), KeyModifiers::NONE)),
    )
}

fn special(s: &mut State, code: KeyCode) -> Vec<Effect> {
    update(s, Msg::Key(KeyChord::new(code, KeyModifiers::NONE)))
}

fn draw(state: &State, w: u16, h: u16) -> Buffer {
    let theme = Theme::shipped("default").unwrap();
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| opsdeck::ui::render(f, state, &theme))
        .unwrap();
    term.backend().buffer().clone()
}

fn rows(buf: &Buffer) -> Vec<String> {
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect()
}

#[test]
fn each_pane_says_in_its_title_that_it_is_stale_with_the_true_age() {
    let mut s = state();
    ok(&mut s, Feed::Workloads, "kube:prod");
    ok(&mut s, Feed::Logs, "kube:prod");
    // The cluster stops answering at 5 s; retries every few seconds fail.
    for t in [5, 9, 17, 33, 50] {
        at(&mut s, t);
        failed(
            &mut s,
            Feed::Workloads,
            "kube:prod",
            "unreachable: the API server did not answer within 6s",
        );
        // Logs are still flowing (another connection).
        ok(&mut s, Feed::Logs, "kube:prod");
    }
    // A database that never answered.
    failed(
        &mut s,
        Feed::Database,
        "orders",
        "unreachable: connection refused",
    );
    at(&mut s, 52);
    let screen = rows(&draw(&s, 80, 24));
    let workloads = &screen[1];
    assert!(
        workloads.starts_with("┌ 1 Workloads (2) STALE 52s "),
        "{workloads}"
    );
    let logs = screen
        .iter()
        .find(|l| l.contains("2 Logs"))
        .expect("logs pane");
    assert!(!logs.contains("STALE"), "logs are live: {logs}");
    // The rows stay on screen.
    assert!(screen.iter().any(|l| l.contains("api-1")), "{screen:#?}");
    // At 200x60 the Database pane is shown too, never connected.
    let big = rows(&draw(&s, 200, 60));
    assert!(
        big.iter().any(|l| l.contains("5 Database never connected")),
        "{big:#?}"
    );
    // The age is from the last real answer: it keeps growing.
    at(&mut s, 70);
    let screen = rows(&draw(&s, 80, 24));
    assert!(screen[1].contains("STALE 70s"), "{}", screen[1]);
}

#[test]
fn the_status_bar_counts_problems_and_shows_the_newest_never_a_join() {
    let mut s = state();
    at(&mut s, 10);
    failed(
        &mut s,
        Feed::Database,
        "orders",
        "timeout: no answer within 15s",
    );
    at(&mut s, 20);
    failed(&mut s, Feed::Database, "billing", "refused");
    at(&mut s, 21);
    let screen = rows(&draw(&s, 80, 24));
    let status = screen.last().unwrap();
    assert_eq!(status, " 2 problems !  database billing: refused");
    // Each is listed in full, with when it began, in the problems view.
    key(&mut s, '!');
    assert!(matches!(s.layer, Some(Layer::Problems { .. })));
    let long = "x".repeat(150);
    failed(
        &mut s,
        Feed::Metrics,
        "cloudwatch",
        &format!("throttled {long} END"),
    );
    let screen = rows(&draw(&s, 80, 24)).join("\n");
    assert!(screen.contains("Problems (3)"), "{screen}");
    assert!(screen.contains("database billing: refused"), "{screen}");
    assert!(
        screen.contains("database orders: timeout: no answer within 15s"),
        "{screen}"
    );
    assert!(screen.contains("END"), "wrapped, not cut: {screen}");
    assert!(screen.contains("failed 1 time; never answered"), "{screen}");
    special(&mut s, KeyCode::Esc);
    assert!(s.layer.is_none());
}

/// Open a delete-pod confirmation on `api-1`, confirm it and return the
/// running action's id.
fn run_delete(s: &mut State) -> u64 {
    let i = s
        .workloads
        .visible()
        .iter()
        .position(|w| w.id.name == "api-1")
        .unwrap();
    s.workloads.select(i);
    let effects = key(s, 'x');
    let [Effect::CheckChange { id, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    update(
        s,
        Msg::ChangeChecked {
            id: *id,
            allowed: Ok(()),
            preview: Ok(None),
        },
    );
    for c in "api-1".chars() {
        key(s, c);
    }
    let effects = special(s, KeyCode::Enter);
    let [Effect::RunChange { id, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    *id
}

fn finished(s: &mut State, id: u64) -> Vec<Effect> {
    update(
        s,
        Msg::ChangeFinished {
            id,
            result: Ok(ChangeOutcome {
                summary: "deleted pod shop/api-1".into(),
                details: vec![],
            }),
        },
    )
}

#[test]
fn an_action_result_stays_until_dismissed_or_replaced() {
    let mut s = state();
    failed(&mut s, Feed::Database, "orders", "refused");
    let id = run_delete(&mut s);
    finished(&mut s, id);
    at(&mut s, 3600);
    let screen = rows(&draw(&s, 80, 24));
    assert_eq!(
        screen.last().unwrap(),
        " 1 problem !  done: deleted pod shop/api-1  database orders: refused"
    );
    special(&mut s, KeyCode::Esc);
    assert!(s.flash.is_none());
}

#[test]
fn q_during_an_action_says_what_it_waits_for() {
    let mut s = state();
    let id = run_delete(&mut s);
    assert!(key(&mut s, 'q').is_empty());
    assert!(!s.quit);
    let flash = s.flash.clone().unwrap();
    assert!(
        flash.text.contains("waiting for \"delete pod shop/api-1\""),
        "{flash:?}"
    );
    finished(&mut s, id);
    assert_eq!(key(&mut s, 'q'), vec![Effect::Quit]);
}

#[test]
fn a_signal_waits_for_the_running_action_then_quits_with_its_code() {
    // No action running: quit at once, with 128 + the signal's number.
    let mut s = state();
    let effects = update(
        &mut s,
        Msg::Signal {
            name: "SIGTERM",
            code: 143,
        },
    );
    assert_eq!(effects, vec![Effect::Quit]);
    assert_eq!(s.exit_code, Some(143));

    let mut s = state();
    let id = run_delete(&mut s);
    let effects = update(
        &mut s,
        Msg::Signal {
            name: "SIGHUP",
            code: 129,
        },
    );
    assert_eq!(
        effects,
        vec![Effect::InterruptAfter {
            after: Duration::from_secs(10)
        }]
    );
    assert!(!s.quit);
    let flash = s.flash.clone().unwrap();
    assert_eq!(
        flash.text,
        "SIGHUP: quitting once \"delete pod shop/api-1\" has finished (at most 10s more)"
    );
    // A second signal stops waiting.
    let effects = update(
        &mut s,
        Msg::Signal {
            name: "SIGTERM",
            code: 143,
        },
    );
    assert_eq!(
        effects,
        vec![Effect::InterruptAfter {
            after: Duration::ZERO
        }]
    );
    // The result (or the interruption) comes back: now it quits.
    assert!(matches!(
        &s.layer,
        Some(Layer::Confirm(c)) if matches!(c.status, ConfirmStatus::Running { .. })
    ));
    assert_eq!(finished(&mut s, id), vec![Effect::Quit]);
    assert_eq!(s.exit_code, Some(143));
}

#[test]
fn the_stale_mark_uses_the_stale_slot() {
    let mut s = state();
    failed(&mut s, Feed::Workloads, "kube:prod", "refused");
    let buf = draw(&s, 80, 24);
    let row = rows(&buf)[1].clone();
    let col = row.find("never connected").unwrap();
    let x = row[..col].chars().count() as u16;
    let theme = Theme::shipped("default").unwrap();
    assert_eq!(buf[(x, 1)].fg, theme.style(Slot::StatusStale).fg.unwrap());
}
