//! Pure update tests: messages in, state and effects out. No terminal, no I/O.

use std::time::{Duration, SystemTime};

use crossterm::event::{KeyCode, KeyModifiers};
use opsdeck::core::{CheckState, ConfirmStatus, Effect, Feed, Layer, Msg, Pane, State, update};
use opsdeck::domain::{
    Change, ChangeOutcome, DbSession, DbSnapshot, Health, Level, LogLine, Preview, PreviewError,
    RollbackPlan, SessionState, SessionTarget, StreamState, Target, Workload, WorkloadKind,
    WorkloadRef,
};
use opsdeck::keymap::{KeyChord, Keymap};

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn keymap() -> Keymap {
    Keymap::shipped("default").expect("the default keymap ships")
}

fn row(kind: WorkloadKind, name: &str, ready: u32, desired: u32, health: Health) -> Workload {
    Workload {
        id: WorkloadRef::new(
            kind,
            if kind == WorkloadKind::EcsService || kind == WorkloadKind::EcsTask {
                "prod"
            } else {
                "shop"
            },
            name,
        ),
        status: "Running".into(),
        ready,
        desired,
        restarts: 0,
        oom_killed: false,
        health,
        reason: None,
        owner: None,
        revision: None,
        created: t0() - Duration::from_secs(3600),
        uid: None,
        image: None,
    }
}

/// A state with one deployment (shop/api 3/3), one pod and one ECS task.
fn state() -> State {
    let mut s = State::new(
        keymap(),
        Target::Sim {
            scenario: "test".into(),
        },
        t0(),
    );
    update(
        &mut s,
        Msg::Workloads(vec![
            row(WorkloadKind::Deployment, "api", 3, 3, Health::Ok),
            row(WorkloadKind::Pod, "api-6d4f-abcde", 1, 1, Health::Ok),
            row(WorkloadKind::EcsTask, "9f3c2a", 1, 1, Health::Ok),
        ]),
    );
    s
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

/// The backend allows the open confirmation's action and offers no dry run.
fn answered(s: &mut State) {
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!("no confirmation open")
    };
    let id = c.check_id;
    update(
        s,
        Msg::ChangeChecked {
            id,
            allowed: Ok(()),
            preview: Ok(None),
        },
    );
}

fn typed(s: &mut State, text: &str) -> Vec<Effect> {
    text.chars().flat_map(|c| key(s, c)).collect()
}

fn select(s: &mut State, name: &str) {
    let i = s
        .workloads
        .visible()
        .iter()
        .position(|w| w.id.name == name)
        .expect("row present");
    s.workloads.select(i);
}

#[test]
fn scale_yields_exactly_one_effect_only_after_confirmation() {
    let mut s = state();
    select(&mut s, "api");
    assert!(key(&mut s, 's').is_empty());
    assert!(
        matches!(s.layer, Some(Layer::Input(_))),
        "scale asks for the new count"
    );
    assert!(typed(&mut s, "6").is_empty());
    let target = WorkloadRef::new(WorkloadKind::Deployment, "shop", "api");
    let check = special(&mut s, KeyCode::Enter);
    assert_eq!(
        check,
        vec![Effect::CheckChange {
            id: 1,
            change: Change::Scale {
                target: target.clone(),
                from: 3,
                to: 6
            }
        }],
        "submitting the count opens the confirmation and asks the backend about it; nothing runs"
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!("confirmation expected")
    };
    assert_eq!(c.headline, "scale deployment shop/api 3 -> 6");
    assert!(!c.yes, "the default answer is No");
    assert!(!c.is_destructive(), "scale does not ask for the name");
    assert!(
        key(&mut s, 'y').is_empty(),
        "nothing runs before the backend has answered"
    );
    answered(&mut s);

    let effects = key(&mut s, 'y');
    assert_eq!(
        effects,
        vec![Effect::RunChange {
            id: 2,
            change: Change::Scale {
                target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"),
                from: 3,
                to: 6
            }
        }]
    );
    // Pressing again while it runs does nothing more.
    assert!(key(&mut s, 'y').is_empty());
    assert!(special(&mut s, KeyCode::Enter).is_empty());
}

#[test]
fn enter_on_the_default_answer_cancels() {
    let mut s = state();
    select(&mut s, "api");
    key(&mut s, 's');
    typed(&mut s, "5");
    special(&mut s, KeyCode::Enter);
    assert!(
        special(&mut s, KeyCode::Enter).is_empty(),
        "Enter on No runs nothing"
    );
    assert!(s.layer.is_none());
}

#[test]
fn toggling_to_yes_and_enter_runs() {
    let mut s = state();
    select(&mut s, "api");
    key(&mut s, 's');
    typed(&mut s, "2");
    special(&mut s, KeyCode::Enter);
    answered(&mut s);
    special(&mut s, KeyCode::Tab);
    let effects = special(&mut s, KeyCode::Enter);
    assert_eq!(
        ran(&effects),
        &Change::Scale {
            target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"),
            from: 3,
            to: 2
        }
    );
    assert!(
        matches!(&s.layer, Some(Layer::Confirm(c)) if matches!(c.status, ConfirmStatus::Running { .. })),
        "the dialog shows it running"
    );
}

/// The one change `effects` runs; fails unless they are exactly one RunChange.
fn ran(effects: &[Effect]) -> &Change {
    match effects {
        [Effect::RunChange { change, .. }] => change,
        other => panic!("expected exactly one RunChange, got {other:?}"),
    }
}

fn restart_api() -> Change {
    Change::RolloutRestart {
        target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"),
    }
}

#[test]
fn bad_counts_stay_in_the_prompt() {
    let mut s = state();
    select(&mut s, "api");
    key(&mut s, 's');
    typed(&mut s, "six");
    assert!(special(&mut s, KeyCode::Enter).is_empty());
    let Some(Layer::Input(i)) = &s.layer else {
        panic!("prompt stays open")
    };
    assert_eq!(i.error.as_deref(), Some("\"six\" is not a whole number"));
    for _ in 0..3 {
        special(&mut s, KeyCode::Backspace);
    }
    typed(&mut s, "3");
    special(&mut s, KeyCode::Enter);
    let Some(Layer::Input(i)) = &s.layer else {
        panic!("prompt stays open")
    };
    assert_eq!(i.error.as_deref(), Some("already 3"));
}

#[test]
fn read_only_yields_no_effect_and_says_why() {
    let mut s = state();
    s.read_only = true;
    select(&mut s, "api");
    for c in ['s', 'u', 'r'] {
        assert!(key(&mut s, c).is_empty());
        let Some(Layer::Notice { title, text }) = &s.layer else {
            panic!("read-only notice expected for {c}")
        };
        assert!(title.contains("read-only"), "{title}");
        assert!(text.contains("shop/api"), "{text}");
        assert!(key(&mut s, 'y').is_empty());
        special(&mut s, KeyCode::Esc);
        assert!(s.layer.is_none());
    }
}

#[test]
fn destructive_action_needs_the_name_typed() {
    let mut s = state();
    select(&mut s, "api");
    assert!(matches!(
        key(&mut s, 'u').as_slice(),
        [Effect::CheckChange { .. }]
    ));
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!("confirmation expected")
    };
    assert_eq!(
        c.headline,
        "rollout undo deployment shop/api to its previous revision"
    );
    assert_eq!(c.required_name(), Some("api"));
    answered(&mut s);
    // `y` is just a character here, not a yes.
    assert!(key(&mut s, 'y').is_empty());
    assert!(
        special(&mut s, KeyCode::Enter).is_empty(),
        "wrong name does nothing"
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!("still open")
    };
    assert_eq!(c.hint.as_deref(), Some("type api exactly to confirm"));
    assert_eq!(c.status, ConfirmStatus::Asking);
    special(&mut s, KeyCode::Backspace);
    typed(&mut s, "ap");
    assert!(
        special(&mut s, KeyCode::Enter).is_empty(),
        "a prefix is not the name"
    );
    typed(&mut s, "i");
    let effects = special(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::RunChange {
            id: 2,
            change: Change::RolloutUndo {
                target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"),
                to_revision: None,
                plan: None,
            }
        }]
    );
}

#[test]
fn action_result_closes_or_stays_in_the_dialog() {
    let mut s = state();
    select(&mut s, "api-6d4f-abcde");
    key(&mut s, 'x');
    answered(&mut s);
    typed(&mut s, "api-6d4f-abcde");
    let effects = special(&mut s, KeyCode::Enter);
    let [Effect::RunChange { id, .. }] = effects.as_slice() else {
        panic!("one effect: {effects:?}")
    };
    update(
        &mut s,
        Msg::ChangeFinished {
            id: *id,
            result: Err("forbidden: pods is forbidden".into()),
        },
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!("failure stays in the dialog")
    };
    assert_eq!(
        c.status,
        ConfirmStatus::Failed("forbidden: pods is forbidden".into())
    );
    special(&mut s, KeyCode::Esc);
    assert!(s.layer.is_none());

    key(&mut s, 'x');
    answered(&mut s);
    typed(&mut s, "api-6d4f-abcde");
    let effects = special(&mut s, KeyCode::Enter);
    let [Effect::RunChange { id, .. }] = effects.as_slice() else {
        panic!("one effect")
    };
    update(
        &mut s,
        Msg::ChangeFinished {
            id: *id,
            result: Ok(ChangeOutcome {
                summary: "deleted".into(),
                details: vec![],
            }),
        },
    );
    assert!(s.layer.is_none());
    assert!(s.flash.as_ref().is_some_and(|f| f.text.contains("deleted")));
}

#[test]
fn actions_are_offered_per_kind() {
    let mut s = state();
    select(&mut s, "9f3c2a");
    assert!(key(&mut s, 's').is_empty());
    assert!(s.layer.is_none(), "a task cannot be scaled");
    assert!(s.flash.as_ref().is_some_and(|f| f.error));
    key(&mut s, 't');
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!("stop task asks")
    };
    assert_eq!(c.headline, "stop ecs-task prod/9f3c2a");
}

#[test]
fn filter_applies_as_typed_and_esc_restores() {
    let mut s = state();
    key(&mut s, '/');
    typed(&mut s, "9f3");
    assert_eq!(s.workloads.visible().len(), 1);
    special(&mut s, KeyCode::Esc);
    assert_eq!(s.workloads.visible().len(), 3);
    key(&mut s, '/');
    typed(&mut s, "api");
    special(&mut s, KeyCode::Enter);
    assert_eq!(s.workloads.visible().len(), 2);
}

#[test]
fn logs_follow_pause_search_and_filters() {
    let mut s = state();
    key(&mut s, '2');
    assert_eq!(s.focus, Pane::LOGS);
    let lines: Vec<LogLine> = (0..50)
        .map(|i| LogLine {
            source: if i % 2 == 0 {
                "api-1".into()
            } else {
                "worker-1".into()
            },
            time: t0(),
            level: if i % 10 == 0 {
                Level::Error
            } else {
                Level::Info
            },
            text: format!("line {i}"),
        })
        .collect();
    update(&mut s, Msg::Logs(lines));
    assert!(s.logs.follow);
    key(&mut s, 'f');
    assert!(!s.logs.follow);
    key(&mut s, '/');
    typed(&mut s, "line 1");
    special(&mut s, KeyCode::Enter);
    assert_eq!(s.logs.match_count(), 11);
    key(&mut s, 'L');
    key(&mut s, 'L');
    key(&mut s, 'L');
    key(&mut s, 'L');
    assert_eq!(s.logs.min_level, Level::Error);
    assert_eq!(s.logs.visible_len(), 5);
    special(&mut s, KeyCode::Esc);
    assert_eq!(s.logs.visible_len(), 50);
    assert!(s.logs.search.is_empty());
    // `&` shows only matching lines, live; esc in the prompt restores the previous filter.
    key(&mut s, '&');
    typed(&mut s, "line 4");
    assert_eq!(s.logs.visible_len(), 11);
    special(&mut s, KeyCode::Esc);
    assert_eq!(s.logs.visible_len(), 50);
    key(&mut s, '&');
    typed(&mut s, "LINE 49");
    special(&mut s, KeyCode::Enter);
    assert_eq!(s.logs.visible_len(), 1);
}

#[test]
fn feed_failure_keeps_data_and_marks_it_with_the_true_age() {
    let mut s = state();
    let t0 = s.now;
    update(
        &mut s,
        Msg::FeedOk {
            feed: Feed::Workloads,
            source: "kube:prod".into(),
            at: None,
        },
    );
    assert_eq!(s.stale(Feed::Workloads), None);
    // Retries keep failing for a minute; none of them moves the age.
    for secs in [2, 16, 30, 60] {
        s.now = t0 + Duration::from_secs(secs);
        update(
            &mut s,
            Msg::FeedFailed {
                feed: Feed::Workloads,
                source: "kube:prod".into(),
                error: "unreachable: connection refused".into(),
            },
        );
    }
    assert_eq!(s.workloads.rows.len(), 3, "data stays");
    let stale = s.stale(Feed::Workloads).unwrap();
    assert_eq!(stale.label(), "STALE 60s");
    assert_eq!(
        stale.error.as_deref(),
        Some("unreachable: connection refused")
    );
    let src = s.feeds.of(Feed::Workloads).next().unwrap();
    assert_eq!(src.failures, 4);
    // Rows alone (a re-sent cache) are not an answer; the source's ok is.
    update(&mut s, Msg::Workloads(vec![]));
    assert!(s.stale(Feed::Workloads).is_some());
    update(
        &mut s,
        Msg::FeedOk {
            feed: Feed::Workloads,
            source: "kube:prod".into(),
            at: None,
        },
    );
    assert_eq!(s.stale(Feed::Workloads), None);
}

#[test]
fn a_source_that_never_answered_is_marked_so() {
    let mut s = state();
    update(
        &mut s,
        Msg::FeedFailed {
            feed: Feed::Database,
            source: "orders".into(),
            error: "timeout".into(),
        },
    );
    assert_eq!(s.stale(Feed::Database).unwrap().label(), "never connected");
}

#[test]
fn terminate_confirmation_lists_every_session() {
    let mut s = state();
    let db = DbSnapshot {
        name: "orders-db".into(),
        max_connections: 100,
        sessions: vec![DbSession {
            blocked_by: Vec::new(),
            pid: 4242,
            backend_start: t0(),
            user: "app".into(),
            application: "api".into(),
            client: "10.0.0.1".into(),
            state: SessionState::Active,
            wait_event: None,
            running: Duration::from_secs(900),
            query: "UPDATE orders SET x=1 \u{1b}[2J".into(),
        }],
        unreadable: 0,
        other_databases: 0,
    };
    update(&mut s, Msg::Databases(vec![db]));
    let req = Change::TerminateQueries {
        database: "orders-db".into(),
        rule: opsdeck::domain::QueryRule {
            older_than: Duration::from_secs(600),
            user: None,
            application: None,
        },
        sessions: vec![opsdeck::domain::SessionTarget {
            pid: 4242,
            backend_start: t0(),
            query: "UPDATE orders SET x=1 \u{1b}[2J".into(),
        }],
    };
    let c = opsdeck::core::Confirm::new(req);
    assert_eq!(c.headline, "terminate 1 query running > 10m on orders-db");
    assert_eq!(
        c.details,
        vec!["pid 4242: UPDATE orders SET x=1 ".to_string()]
    );
    assert_eq!(c.required_name(), Some("orders-db"));
}

#[test]
fn help_overlay_opens_and_closes() {
    let mut s = state();
    key(&mut s, '?');
    assert!(matches!(s.layer, Some(Layer::Help { .. })));
    assert!(
        key(&mut s, 's').is_empty(),
        "keys go to the top layer first"
    );
    special(&mut s, KeyCode::Esc);
    assert!(s.layer.is_none());
    assert_eq!(key(&mut s, 'q'), vec![Effect::Quit]);
}

#[test]
fn denied_actions_cannot_be_confirmed_and_say_why() {
    let mut s = state();
    select(&mut s, "api");
    let effects = key(&mut s, 'r');
    let [Effect::CheckChange { id, .. }] = effects.as_slice() else {
        panic!("check expected: {effects:?}")
    };
    update(
        &mut s,
        Msg::ChangeChecked {
            id: *id,
            allowed: Err("sim-viewer cannot patch deployments in shop".into()),
            preview: Ok(None),
        },
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!("still open")
    };
    assert_eq!(
        c.check,
        CheckState::Denied("sim-viewer cannot patch deployments in shop".into())
    );
    assert!(key(&mut s, 'y').is_empty(), "a denied action never runs");
    assert!(special(&mut s, KeyCode::Tab).is_empty());
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!("still open")
    };
    assert!(!c.yes, "there is no Yes to move to");
    assert_eq!(
        c.hint.as_deref(),
        Some("cannot be run: sim-viewer cannot patch deployments in shop")
    );
    // Enter closes the dialog; nothing ran.
    assert!(special(&mut s, KeyCode::Enter).is_empty());
    assert!(s.layer.is_none());
}

#[test]
fn dry_run_answer_lands_in_its_own_dialog_only() {
    let mut s = state();
    let id = open_confirm(&mut s, 'r');
    // An answer for another (older) dialog is ignored.
    update(
        &mut s,
        Msg::ChangeChecked {
            id: id + 100,
            allowed: Err("x".into()),
            preview: Ok(None),
        },
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!()
    };
    assert_eq!(c.check, CheckState::Pending);
    update(
        &mut s,
        Msg::ChangeChecked {
            id,
            allowed: Ok(()),
            preview: Ok(Some(Preview::says("server dry run: accepted"))),
        },
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!()
    };
    assert_eq!(
        c.check,
        CheckState::Allowed(Some("server dry run: accepted".into()))
    );
    assert_eq!(ran(&key(&mut s, 'y')), &restart_api());
}

/// Open the confirmation of `action_key` on deployment api; returns its check id.
fn open_confirm(s: &mut State, action_key: char) -> u64 {
    select(s, "api");
    let effects = key(s, action_key);
    let [Effect::CheckChange { id, .. }] = effects.as_slice() else {
        panic!("check expected: {effects:?}")
    };
    *id
}

/// Open the rollback confirmation on deployment api; returns its check id.
fn open_rollback(s: &mut State) -> u64 {
    open_confirm(s, 'u')
}

#[test]
fn a_rollback_runs_the_revision_its_dry_run_resolved_and_shows_both_ends() {
    let mut s = state();
    let id = open_rollback(&mut s);
    // Before the backend answers, nothing can be confirmed: what runs is
    // what the dialog will show.
    for c in "api".chars() {
        key(&mut s, c);
    }
    assert!(special(&mut s, KeyCode::Enter).is_empty());
    let resolved = Change::RolloutUndo {
        target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"),
        to_revision: Some(4),
        plan: Some(RollbackPlan {
            from_revision: 5,
            from: "registry.example.com/shop/api:1.8.0".into(),
            to: "registry.example.com/shop/api:1.7.3".into(),
        }),
    };
    update(
        &mut s,
        Msg::ChangeChecked {
            id,
            allowed: Ok(()),
            preview: Ok(Some(Preview {
                summary: "server dry run: accepted".into(),
                resolved: Some(resolved.clone()),
            })),
        },
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!("still open")
    };
    assert_eq!(
        c.headline,
        "rollout undo deployment shop/api: revision 5 (registry.example.com/shop/api:1.8.0) -> \
         revision 4 (registry.example.com/shop/api:1.7.3)"
    );
    let effects = special(&mut s, KeyCode::Enter);
    let [Effect::RunChange { change, .. }] = effects.as_slice() else {
        panic!("run expected: {effects:?}")
    };
    assert_eq!(
        change, &resolved,
        "the resolved request runs, not 'previous'"
    );
}

#[test]
fn a_resolution_for_another_target_is_ignored() {
    let mut s = state();
    let id = open_rollback(&mut s);
    update(
        &mut s,
        Msg::ChangeChecked {
            id,
            allowed: Ok(()),
            preview: Ok(Some(Preview {
                summary: "ok".into(),
                resolved: Some(Change::RolloutUndo {
                    target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "web"),
                    to_revision: Some(1),
                    plan: None,
                }),
            })),
        },
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!()
    };
    assert_eq!(
        c.change,
        Change::RolloutUndo {
            target: WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"),
            to_revision: None,
            plan: None,
        }
    );
}

#[test]
fn a_dry_run_refusal_offers_no_yes_and_asks_for_no_name() {
    let mut s = state();
    let id = open_rollback(&mut s);
    update(
        &mut s,
        Msg::ChangeChecked {
            id,
            allowed: Ok(()),
            preview: Err(PreviewError::Refused(
                "deployment shop/api has no previous revision to roll back to".into(),
            )),
        },
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!()
    };
    assert!(matches!(c.check, CheckState::Blocked(_)));
    // Keys are answers now, not the typed name: y is refused with the reason.
    for c in "api".chars() {
        assert!(key(&mut s, c).is_empty());
    }
    assert!(key(&mut s, 'y').is_empty());
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!()
    };
    assert!(c.typed.is_empty());
    assert_eq!(
        c.hint.as_deref(),
        Some("cannot be run: deployment shop/api has no previous revision to roll back to")
    );
    special(&mut s, KeyCode::Esc);
    assert!(s.layer.is_none());
}

#[test]
fn an_unavailable_dry_run_still_lets_the_user_decide() {
    let mut s = state();
    let id = open_confirm(&mut s, 'r');
    update(
        &mut s,
        Msg::ChangeChecked {
            id,
            allowed: Ok(()),
            preview: Err(PreviewError::Unavailable("unreachable: timed out".into())),
        },
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!()
    };
    assert_eq!(
        c.check,
        CheckState::PreviewFailed("unreachable: timed out".into())
    );
    assert_eq!(ran(&key(&mut s, 'y')), &restart_api());
}

#[test]
fn context_picker_and_namespace_prompt_ask_the_driver_to_switch() {
    let mut s = state();
    assert!(key(&mut s, 'C').is_empty());
    assert!(
        s.flash.as_ref().is_some_and(|f| f.error),
        "no contexts: says so"
    );
    s.contexts = vec!["sim".into(), "sim-viewer".into()];
    s.target = Target::Kube {
        context: "sim".into(),
        namespace: Some("shop".into()),
    };
    key(&mut s, 'C');
    assert!(matches!(s.layer, Some(Layer::Picker { selected: 0, .. })));
    special(&mut s, KeyCode::Down);
    let effects = special(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Switch {
            context: "sim-viewer".into(),
            namespace: Some("shop".into())
        }]
    );
    update(
        &mut s,
        Msg::Switched(Target::Kube {
            context: "sim-viewer".into(),
            namespace: Some("shop".into()),
        }),
    );
    assert_eq!(s.target.label(), "kube:sim-viewer");
    assert!(
        s.workloads.rows.is_empty(),
        "rows of the old context are dropped"
    );
    update(
        &mut s,
        Msg::Key(KeyChord::new(KeyCode::Char('n'), KeyModifiers::CONTROL)),
    );
    let Some(Layer::Input(i)) = &s.layer else {
        panic!("namespace prompt")
    };
    assert_eq!(i.text, "shop");
    for _ in 0..4 {
        special(&mut s, KeyCode::Backspace);
    }
    typed(&mut s, "all");
    let effects = special(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Switch {
            context: "sim-viewer".into(),
            namespace: None
        }]
    );
}

#[test]
fn previous_logs_of_a_pod_show_under_their_own_source() {
    let mut s = state();
    select(&mut s, "api");
    assert!(key(&mut s, 'p').is_empty(), "not for deployments");
    select(&mut s, "api-6d4f-abcde");
    let effects = key(&mut s, 'p');
    let pod = WorkloadRef::new(WorkloadKind::Pod, "shop", "api-6d4f-abcde");
    assert_eq!(effects, vec![Effect::PreviousLogs { pod: pod.clone() }]);
    let line = LogLine {
        source: "api-6d4f-abcde".into(),
        time: t0(),
        level: Level::Error,
        text: "fatal: out of memory".into(),
    };
    update(
        &mut s,
        Msg::PreviousLogs {
            pod: pod.clone(),
            result: Ok(vec![line]),
        },
    );
    assert_eq!(s.focus, Pane::LOGS);
    assert_eq!(s.logs.source.as_deref(), Some("api-6d4f-abcde (previous)"));
    assert!(!s.logs.follow, "paused on the crash");
    let shown: Vec<&str> = s
        .logs
        .visible()
        .iter()
        .map(|&i| s.logs.lines[i].text.as_str())
        .collect();
    assert_eq!(shown, vec!["fatal: out of memory"]);
    update(
        &mut s,
        Msg::PreviousLogs {
            pod,
            result: Err("bad request: previous terminated container not found".into()),
        },
    );
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.error && f.text.contains("previous terminated container not found"))
    );
}

fn db_session(pid: i32, state: SessionState, running_s: u64) -> DbSession {
    DbSession {
        pid,
        backend_start: t0() - Duration::from_secs(7200 + pid as u64),
        user: "app".into(),
        application: "api".into(),
        client: "10.0.0.9".into(),
        state,
        wait_event: None,
        running: Duration::from_secs(running_s),
        query: format!("select {pid}"),
        blocked_by: Vec::new(),
    }
}

fn with_db(s: &mut State) {
    let db = DbSnapshot {
        name: "orders-db".into(),
        max_connections: 100,
        sessions: vec![
            db_session(101, SessionState::Active, 30),
            db_session(102, SessionState::Active, 900),
            db_session(103, SessionState::Idle, 5000),
            db_session(104, SessionState::Active, 1200),
        ],
        unreadable: 0,
        other_databases: 0,
    };
    update(s, Msg::Databases(vec![db]));
}

#[test]
fn database_pane_lists_longest_active_first_and_pins_sessions() {
    let mut s = state();
    with_db(&mut s);
    key(&mut s, '5');
    assert_eq!(s.focus, Pane::DATABASE);
    assert_eq!(
        s.lower_right,
        Pane::DATABASE,
        "the shared quadrant shows the Database pane"
    );
    let order: Vec<i32> = opsdeck::core::db_rows(&s.metrics.databases)
        .iter()
        .map(|(_, x)| x.pid)
        .collect();
    assert_eq!(order, vec![104, 102, 101, 103]);
    // Cancel the selected (longest) query: no name to type, default No.
    let effects = key(&mut s, 'c');
    let [
        Effect::CheckChange {
            change: request, ..
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    let expected_session = SessionTarget {
        pid: 104,
        backend_start: t0() - Duration::from_secs(7304),
        query: "select 104".into(),
    };
    assert_eq!(
        request,
        &Change::CancelQuery {
            database: "orders-db".into(),
            session: expected_session.clone()
        }
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!()
    };
    assert!(!c.is_destructive());
    special(&mut s, KeyCode::Esc);
    // Terminate the next one down: destructive, the database's name must be typed.
    special(&mut s, KeyCode::Down);
    let effects = key(&mut s, 'x');
    let [
        Effect::CheckChange {
            change: request, ..
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    assert!(matches!(request, Change::TerminateSession { session, .. } if session.pid == 102));
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!()
    };
    assert_eq!(c.headline, "terminate session pid 102 on orders-db");
    assert_eq!(c.required_name(), Some("orders-db"));
    answered(&mut s);
    typed(&mut s, "orders-db");
    let effects = special(&mut s, KeyCode::Enter);
    assert!(matches!(
        effects.as_slice(),
        [Effect::RunChange {
            change: Change::TerminateSession { .. },
            ..
        }]
    ));
}

#[test]
fn terminate_matching_hits_exactly_the_active_queries_over_the_threshold() {
    let mut s = state();
    with_db(&mut s);
    key(&mut s, '5');
    key(&mut s, 'T');
    let Some(Layer::Input(i)) = &s.layer else {
        panic!("threshold prompt")
    };
    assert_eq!(i.text, "10m", "defaults to the runbook's 10 minutes");
    let effects = special(&mut s, KeyCode::Enter);
    let [
        Effect::CheckChange {
            change: request, ..
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    let Change::TerminateQueries { sessions, rule, .. } = request else {
        panic!("{request:?}")
    };
    let pids: Vec<i32> = sessions.iter().map(|x| x.pid).collect();
    assert_eq!(
        pids,
        vec![102, 104],
        "active and over 10m; the idle session and the young query are spared"
    );
    assert_eq!(rule.older_than, Duration::from_secs(600));
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!()
    };
    assert_eq!(c.headline, "terminate 2 queries running > 10m on orders-db");
    assert_eq!(
        c.details,
        vec![
            "pid 102: select 102".to_string(),
            "pid 104: select 104".to_string()
        ]
    );
    special(&mut s, KeyCode::Esc);
    // A threshold nothing passes stays in the prompt with the reason.
    key(&mut s, 'T');
    for _ in 0..3 {
        special(&mut s, KeyCode::Backspace);
    }
    typed(&mut s, "1h");
    assert!(special(&mut s, KeyCode::Enter).is_empty());
    let Some(Layer::Input(i)) = &s.layer else {
        panic!()
    };
    assert_eq!(
        i.error.as_deref(),
        Some("no active query on orders-db is running > 60m")
    );
    for _ in 0..2 {
        special(&mut s, KeyCode::Backspace);
    }
    typed(&mut s, "soon");
    special(&mut s, KeyCode::Enter);
    let Some(Layer::Input(i)) = &s.layer else {
        panic!()
    };
    assert!(
        i.error
            .as_deref()
            .is_some_and(|e| e.starts_with("\"soon\" is not a duration")),
        "{:?}",
        i.error
    );
    special(&mut s, KeyCode::Esc);
    // Optional user/application filters narrow the rule.
    let mut only = state();
    let mut a = db_session(201, SessionState::Active, 900);
    a.application = "reports".into();
    let b = db_session(202, SessionState::Active, 900);
    let db = DbSnapshot {
        name: "orders-db".into(),
        max_connections: 100,
        sessions: vec![a, b],
        unreadable: 0,
        other_databases: 0,
    };
    update(&mut only, Msg::Databases(vec![db]));
    key(&mut only, '5');
    key(&mut only, 'T');
    typed(&mut only, " app=reports");
    let effects = special(&mut only, KeyCode::Enter);
    let [
        Effect::CheckChange {
            change: Change::TerminateQueries { sessions, rule, .. },
            ..
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    assert_eq!(
        sessions.iter().map(|x| x.pid).collect::<Vec<_>>(),
        vec![201]
    );
    assert_eq!(rule.application.as_deref(), Some("reports"));
    let Some(Layer::Confirm(c)) = &only.layer else {
        panic!()
    };
    assert_eq!(
        c.headline,
        "terminate 1 query running > 10m application=reports on orders-db"
    );
    special(&mut only, KeyCode::Esc);
    key(&mut only, 'T');
    typed(&mut only, " owner=x");
    special(&mut only, KeyCode::Enter);
    let Some(Layer::Input(i)) = &only.layer else {
        panic!()
    };
    assert_eq!(
        i.error.as_deref(),
        Some("\"owner=x\": expected user=NAME or application=NAME after the duration")
    );
}

fn query_results(
    status: opsdeck::domain::QueryStatus,
    rows: &[(&str, &str)],
) -> opsdeck::domain::QueryResults {
    opsdeck::domain::QueryResults {
        status,
        columns: vec!["operation".into(), "errors".into()],
        rows: rows
            .iter()
            .map(|(a, b)| vec![a.to_string(), b.to_string()])
            .collect(),
        records_matched: 12.0,
        records_scanned: 3400.0,
        bytes_scanned: 1.5e6,
    }
}

#[test]
fn logs_insights_runs_the_typed_query_and_esc_stops_it() {
    use opsdeck::domain::QueryStatus;
    let mut s = state();
    s.focus = Pane::LOGS;
    // No log groups in the session: nothing to query, and it says so.
    assert!(key(&mut s, 'I').is_empty());
    assert!(s.layer.is_none());
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.error && f.text.contains("no CloudWatch Logs groups"))
    );

    update(&mut s, Msg::QueryGroups(vec!["/ecs/checkout".into()]));
    key(&mut s, 'I');
    let Some(Layer::Input(input)) = &s.layer else {
        panic!("the query prompt opens")
    };
    assert!(input.prompt.contains("/ecs/checkout"));
    assert_eq!(input.text, opsdeck::core::DEFAULT_QUERY);
    // Replace the query with a short one and run it.
    for _ in 0..opsdeck::core::DEFAULT_QUERY.len() {
        special(&mut s, KeyCode::Backspace);
    }
    typed(&mut s, "stats count(*) by operation");
    let effects = special(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::StartQuery {
            generation: 1,
            query: "stats count(*) by operation".into()
        }]
    );
    assert!(matches!(s.layer, Some(Layer::Insights)));
    assert!(s.insights.is_running());

    // Results arrive; a late answer for an older query is ignored.
    update(
        &mut s,
        Msg::Query {
            generation: 1,
            update: Ok(query_results(QueryStatus::Running, &[("GetCart", "7")])),
        },
    );
    update(
        &mut s,
        Msg::Query {
            generation: 0,
            update: Ok(query_results(QueryStatus::Complete, &[])),
        },
    );
    assert_eq!(s.insights.status, QueryStatus::Running);
    assert_eq!(s.insights.rows(), 1);

    // Esc while running stops the query and keeps the table open.
    assert_eq!(special(&mut s, KeyCode::Esc), vec![Effect::StopQuery]);
    assert_eq!(s.insights.status, QueryStatus::Cancelled);
    assert!(matches!(s.layer, Some(Layer::Insights)));
    // Results still in flight after the stop change nothing.
    update(
        &mut s,
        Msg::Query {
            generation: 1,
            update: Ok(query_results(
                QueryStatus::Running,
                &[("a", "1"), ("b", "2")],
            )),
        },
    );
    assert_eq!(s.insights.rows(), 1);
    // Esc again closes; the prompt remembers the query.
    assert!(special(&mut s, KeyCode::Esc).is_empty());
    assert!(s.layer.is_none());
    key(&mut s, 'I');
    let Some(Layer::Input(input)) = &s.layer else {
        panic!("the query prompt opens again")
    };
    assert_eq!(input.text, "stats count(*) by operation");
    // A second run bumps the generation; a failure is shown, not lost.
    let effects = special(&mut s, KeyCode::Enter);
    assert!(matches!(
        effects.as_slice(),
        [Effect::StartQuery { generation: 2, .. }]
    ));
    update(
        &mut s,
        Msg::Query {
            generation: 2,
            update: Err("the query did not start: MalformedQueryException".into()),
        },
    );
    assert_eq!(s.insights.status, QueryStatus::Failed);
    assert!(!s.insights.is_running());
    assert!(
        special(&mut s, KeyCode::Esc).is_empty(),
        "done: esc just closes"
    );
}

#[test]
fn an_empty_query_is_refused_in_the_prompt() {
    let mut s = state();
    s.focus = Pane::LOGS;
    update(&mut s, Msg::QueryGroups(vec!["/ecs/checkout".into()]));
    key(&mut s, 'I');
    for _ in 0..opsdeck::core::DEFAULT_QUERY.len() {
        special(&mut s, KeyCode::Backspace);
    }
    assert!(special(&mut s, KeyCode::Enter).is_empty());
    let Some(Layer::Input(input)) = &s.layer else {
        panic!("the prompt stays")
    };
    assert_eq!(input.error.as_deref(), Some("type a query"));
}

#[test]
fn log_lag_is_tracked_per_stream_until_it_clears() {
    let mut s = state();
    update(
        &mut s,
        Msg::LogLag {
            source: "cloudwatch:a".into(),
            lag: Some(Duration::from_secs(42)),
        },
    );
    update(
        &mut s,
        Msg::LogLag {
            source: "cloudwatch:b".into(),
            lag: Some(Duration::from_secs(3)),
        },
    );
    assert_eq!(s.logs.lag.values().max(), Some(&Duration::from_secs(42)));
    update(
        &mut s,
        Msg::LogLag {
            source: "cloudwatch:a".into(),
            lag: None,
        },
    );
    assert_eq!(s.logs.lag.values().max(), Some(&Duration::from_secs(3)));
}

#[test]
fn an_ecs_service_can_be_rolled_back_behind_a_typed_confirmation() {
    let mut s = state();
    update(
        &mut s,
        Msg::Workloads(vec![row(
            WorkloadKind::EcsService,
            "checkout",
            2,
            2,
            Health::Ok,
        )]),
    );
    select(&mut s, "checkout");
    // Nothing runs yet: the backend is only asked what it would do.
    let effects = key(&mut s, 'u');
    assert!(
        matches!(
            effects.as_slice(),
            [Effect::CheckChange {
                change: Change::RolloutUndo {
                    to_revision: None,
                    ..
                },
                ..
            }]
        ),
        "{effects:?}"
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!("rollback asks")
    };
    assert_eq!(c.required_name(), Some("checkout"));
    assert!(
        c.details
            .iter()
            .any(|l| l.contains("previous task definition revision")),
        "{:?}",
        c.details
    );
}

#[test]
fn digits_focus_the_panes_in_registry_order_unless_the_keymap_takes_them() {
    let mut s = state();
    for (i, spec) in opsdeck::panes::REGISTRY.iter().enumerate() {
        let digit = char::from_digit(i as u32 + 1, 10).unwrap();
        key(&mut s, digit);
        assert_eq!(s.focus, spec.pane, "{digit} focuses {}", spec.title);
    }
    key(&mut s, '2');
    assert_eq!(s.focus, Pane::LOGS);
    let beyond = char::from_digit(opsdeck::panes::REGISTRY.len() as u32 + 1, 10).unwrap();
    key(&mut s, beyond);
    assert_eq!(
        s.focus,
        Pane::LOGS,
        "a digit past the last pane does nothing"
    );

    // A keymap binding a digit takes it over.
    let mut km = keymap();
    let file = opsdeck::keymap::parse_keymap("[global]\n1 = \"focus_logs\"\n", "k.toml");
    assert!(file.problems.is_empty(), "{:?}", file.problems);
    km.apply(&file);
    let mut s = State::new(
        km,
        Target::Sim {
            scenario: "t".into(),
        },
        t0(),
    );
    key(&mut s, '1');
    assert_eq!(s.focus, Pane::LOGS);
}

#[test]
fn focusing_a_shared_pane_shows_it_on_a_short_screen() {
    let mut s = state();
    s.size = (80, 24);
    key(&mut s, '5');
    assert_eq!(s.focus, Pane::DATABASE);
    assert_eq!(s.lower_right, Pane::DATABASE);
    // Tab leaves Database for the next pane; tabbing onto Database shows it again.
    special(&mut s, KeyCode::Tab);
    assert_ne!(s.focus, Pane::DATABASE);
    key(&mut s, '3');
    assert_eq!(s.lower_right, Pane::METRICS);
    special(&mut s, KeyCode::Tab);
    assert_eq!(s.focus, Pane::RUNBOOK);
    assert_eq!(s.lower_right, Pane::METRICS);
    special(&mut s, KeyCode::Tab);
    assert_eq!(s.focus, Pane::DATABASE);
    assert_eq!(s.lower_right, Pane::DATABASE, "tab shows what it focuses");
}

#[test]
fn a_page_is_the_focused_panes_height() {
    let mut s = state();
    let rows: Vec<Workload> = (0..200)
        .map(|i| row(WorkloadKind::Pod, &format!("p{i:03}"), 1, 1, Health::Ok))
        .collect();
    update(&mut s, Msg::Workloads(rows));
    for (size, zoom) in [((80, 24), false), ((200, 60), false), ((80, 24), true)] {
        s.size = size;
        s.zoom = zoom;
        s.workloads.selected = 0;
        special(&mut s, KeyCode::PageDown);
        let [_, _, body, _] =
            opsdeck::panes::layout::screen(ratatui::layout::Rect::new(0, 0, size.0, size.1), &s);
        let (_, rect) = opsdeck::panes::layout::panes(body, &s)
            .into_iter()
            .find(|(p, _)| *p == Pane::WORKLOADS)
            .unwrap();
        assert_eq!(
            s.workloads.selected,
            usize::from(rect.height - 2),
            "{size:?} zoom {zoom}"
        );
    }
}

#[test]
fn the_workload_cursor_follows_its_object_across_refresh_sort_and_filter() {
    let mut s = state();
    select(&mut s, "api-6d4f-abcde");
    // A refresh that makes another row the worst moves rows around: the
    // cursor stays on the pod it was on.
    update(
        &mut s,
        Msg::Workloads(vec![
            row(WorkloadKind::Deployment, "api", 3, 3, Health::Ok),
            row(WorkloadKind::Deployment, "web", 0, 2, Health::Critical),
            row(WorkloadKind::Pod, "api-6d4f-abcde", 1, 1, Health::Ok),
            row(WorkloadKind::EcsTask, "9f3c2a", 1, 1, Health::Ok),
        ]),
    );
    let on = |s: &State| s.workloads.selected_row().map(|w| w.id.name.clone());
    assert_eq!(on(&s).as_deref(), Some("api-6d4f-abcde"));
    key(&mut s, 'o');
    assert_eq!(on(&s).as_deref(), Some("api-6d4f-abcde"), "after sorting");
    key(&mut s, 'O');
    assert_eq!(on(&s).as_deref(), Some("api-6d4f-abcde"), "after reversing");
    // A filter that still shows it keeps it; one that hides it moves to the first row shown.
    s.workloads.filter = "api".into();
    s.workloads.reselect();
    assert_eq!(on(&s).as_deref(), Some("api-6d4f-abcde"));
    s.workloads.filter = "web".into();
    s.workloads.reselect();
    assert_eq!(on(&s).as_deref(), Some("web"));
    s.workloads.filter.clear();
    s.workloads.reselect();
    assert_eq!(
        on(&s).as_deref(),
        Some("web"),
        "clearing keeps the new choice"
    );
}

#[test]
fn a_vanished_workload_is_said_and_no_action_reaches_another_row() {
    let mut s = state();
    select(&mut s, "api-6d4f-abcde");
    // The pod is replaced by a new one: the cursor must not slide onto it.
    update(
        &mut s,
        Msg::Workloads(vec![
            row(WorkloadKind::Deployment, "api", 3, 3, Health::Ok),
            row(WorkloadKind::Pod, "api-6d4f-zzzzz", 1, 1, Health::Ok),
            row(WorkloadKind::EcsTask, "9f3c2a", 1, 1, Health::Ok),
        ]),
    );
    assert!(s.workloads.selected_row().is_none());
    assert_eq!(
        s.workloads.gone.as_ref().map(|id| id.name.as_str()),
        Some("api-6d4f-abcde")
    );
    assert!(key(&mut s, 'x').is_empty(), "delete_pod acts on nothing");
    assert!(s.layer.is_none());
    let flash = s.flash.clone().expect("says why");
    assert!(
        flash.error && flash.text.contains("api-6d4f-abcde is gone"),
        "{}",
        flash.text
    );
    let (_, extra) = (opsdeck::panes::spec(Pane::WORKLOADS).title_of)(&s);
    assert!(extra.starts_with("gone: pod api-6d4f-abcde"), "{extra}");
    // Choosing a row again clears it.
    special(&mut s, KeyCode::Down);
    assert!(s.workloads.gone.is_none());
    assert!(s.workloads.selected_row().is_some());
}

#[test]
fn the_database_cursor_follows_its_session_and_refuses_an_ended_one() {
    let mut s = state();
    with_db(&mut s);
    key(&mut s, '5');
    special(&mut s, KeyCode::Down);
    let pid = |s: &State| {
        s.database
            .selected_session(&s.metrics.databases)
            .map(|(_, x)| x.pid)
    };
    assert_eq!(pid(&s), Some(102));
    // Running times change every refresh and reorder the table.
    let snapshot = |sessions: Vec<DbSession>| {
        Msg::Databases(vec![DbSnapshot {
            name: "orders-db".into(),
            max_connections: 100,
            sessions,
            unreadable: 0,
            other_databases: 0,
        }])
    };
    update(
        &mut s,
        snapshot(vec![
            db_session(101, SessionState::Active, 3000),
            db_session(102, SessionState::Active, 902),
            db_session(104, SessionState::Active, 1202),
        ]),
    );
    assert_eq!(pid(&s), Some(102), "the cursor stays on pid 102");
    let effects = key(&mut s, 'x');
    assert!(
        matches!(effects.as_slice(), [Effect::CheckChange { change: Change::TerminateSession { session, .. }, .. }] if session.pid == 102),
        "{effects:?}"
    );
    special(&mut s, KeyCode::Esc);
    // The session ends; its pid is reused by a new session.
    let mut reused = db_session(102, SessionState::Active, 1);
    reused.backend_start = t0();
    update(
        &mut s,
        snapshot(vec![db_session(101, SessionState::Active, 3001), reused]),
    );
    assert_eq!(pid(&s), None);
    assert!(
        key(&mut s, 'x').is_empty(),
        "no terminate on the new pid 102"
    );
    assert!(s.layer.is_none());
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("session 102 on orders-db has ended"))
    );
    let (_, extra) = (opsdeck::panes::spec(Pane::DATABASE).title_of)(&s);
    assert!(extra.starts_with("pid 102 ended"), "{extra}");
}

fn ctrl(s: &mut State, c: char) -> Vec<Effect> {
    update(
        s,
        Msg::Key(KeyChord::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
    )
}

fn prompt_text(s: &State) -> String {
    let Some(Layer::Input(i)) = &s.layer else {
        panic!("a prompt is open: {:?}", s.layer)
    };
    i.text.clone()
}

#[test]
fn a_prefilled_prompt_is_replaced_by_typing_and_edits_like_readline() {
    let mut s = state();
    s.target = Target::Aws {
        profile: "default".into(),
        region: "eu-west-1".into(),
    };
    ctrl(&mut s, 'n');
    assert_eq!(prompt_text(&s), "eu-west-1", "the current value is offered");
    typed(&mut s, "us-east-1");
    assert_eq!(
        prompt_text(&s),
        "us-east-1",
        "typing replaces it, not appends"
    );
    typed(&mut s, " b c");
    ctrl(&mut s, 'w');
    assert_eq!(prompt_text(&s), "us-east-1 b ");
    ctrl(&mut s, 'w');
    ctrl(&mut s, 'w');
    assert_eq!(prompt_text(&s), "");
    typed(&mut s, "x y");
    ctrl(&mut s, 'u');
    assert_eq!(prompt_text(&s), "");
    special(&mut s, KeyCode::Esc);
    // Backspace on the offered value clears it; enter alone accepts it.
    ctrl(&mut s, 'n');
    special(&mut s, KeyCode::Backspace);
    assert_eq!(prompt_text(&s), "");
    special(&mut s, KeyCode::Esc);
    ctrl(&mut s, 'n');
    let effects = special(&mut s, KeyCode::Enter);
    assert_eq!(
        effects,
        vec![Effect::Switch {
            context: "default".into(),
            namespace: Some("eu-west-1".into())
        }]
    );
}

#[test]
fn ctrl_c_quits_from_anywhere_but_asks_while_an_action_runs() {
    let mut s = state();
    key(&mut s, '?');
    assert!(matches!(s.layer, Some(Layer::Help { .. })));
    assert_eq!(ctrl(&mut s, 'c'), vec![Effect::Quit]);
    assert!(s.quit);

    let mut s = state();
    select(&mut s, "api");
    key(&mut s, 'r');
    answered(&mut s);
    special(&mut s, KeyCode::Tab);
    let effects = special(&mut s, KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::RunChange { .. }]),
        "{effects:?}"
    );
    assert!(ctrl(&mut s, 'c').is_empty(), "the first ctrl-c only warns");
    assert!(!s.quit);
    assert!(
        s.flash
            .as_ref()
            .is_some_and(|f| f.text.contains("ctrl-c again"))
    );
    assert_eq!(ctrl(&mut s, 'c'), vec![Effect::Quit]);
}

#[test]
fn the_read_only_notice_names_where_read_only_came_from() {
    let mut s = state();
    s.read_only = true;
    s.read_only_origin = Some("read_only = true in /home/me/.config/opsdeck/config.toml:4".into());
    select(&mut s, "api");
    assert!(key(&mut s, 's').is_empty());
    let Some(Layer::Notice { text, .. }) = &s.layer else {
        panic!("{:?}", s.layer)
    };
    assert!(
        text.contains(
            "opsdeck is read-only (read_only = true in /home/me/.config/opsdeck/config.toml:4)"
        ),
        "{text}"
    );
    assert!(!text.contains("--read-only"), "{text}");
    // Nothing known: no flag is claimed.
    s.layer = None;
    s.read_only_origin = None;
    assert!(key(&mut s, 's').is_empty());
    let Some(Layer::Notice { text, .. }) = &s.layer else {
        panic!("{:?}", s.layer)
    };
    assert!(!text.contains("--read-only"), "{text}");
}

#[test]
fn a_forced_read_only_says_why_in_the_notice() {
    let mut s = state();
    s.read_only = true;
    s.read_only_reason =
        Some("config.toml:1: read_only: expected true or false, found string".into());
    select(&mut s, "api");
    assert!(key(&mut s, 's').is_empty());
    let Some(Layer::Notice { text, .. }) = &s.layer else {
        panic!("{:?}", s.layer)
    };
    assert!(
        text.contains("a safety setting could not be read: config.toml:1: read_only"),
        "{text}"
    );
}

fn log_at(source: &str, secs: u64, text: &str) -> LogLine {
    LogLine {
        source: source.into(),
        time: t0() + Duration::from_secs(secs),
        level: Level::Info,
        text: text.into(),
    }
}

fn log_texts(s: &State) -> Vec<String> {
    s.logs.lines.iter().map(|l| l.text.clone()).collect()
}

#[test]
fn sources_histories_are_merged_and_a_line_beyond_the_window_is_said() {
    let mut s = state();
    update(&mut s, Msg::Tick(t0() + Duration::from_secs(100)));
    // Pod a's history, then pod b's a moment later: merged, not appended.
    update(
        &mut s,
        Msg::Logs(vec![log_at("a", 10, "a1"), log_at("a", 30, "a2")]),
    );
    update(&mut s, Msg::Tick(t0() + Duration::from_secs(101)));
    update(
        &mut s,
        Msg::Logs(vec![log_at("b", 5, "b1"), log_at("b", 20, "b2")]),
    );
    assert_eq!(log_texts(&s), ["b1", "a1", "b2", "a2"]);
    let (_, title) = opsdeck::panes::logs::title(&s);
    assert!(!title.contains("late"), "{title}");
    // Ten seconds later both batches are final: an old line is late.
    update(&mut s, Msg::Tick(t0() + Duration::from_secs(111)));
    update(&mut s, Msg::Logs(vec![log_at("c", 15, "c-late")]));
    assert_eq!(log_texts(&s), ["b1", "a1", "b2", "a2", "c-late"]);
    let (_, title) = opsdeck::panes::logs::title(&s);
    assert_eq!(title, "follow 1 late>5s");
}

fn lost(source: &str, lost: u32, retry_in: u64, now: u64) -> Msg {
    Msg::StreamState(StreamState {
        source: source.into(),
        lost,
        retry_at: Some(t0() + Duration::from_secs(now + retry_in)),
    })
}

#[test]
fn many_stream_losses_make_one_marker_line_per_source_updated_in_place() {
    let mut s = state();
    update(&mut s, Msg::Tick(t0() + Duration::from_secs(100)));
    update(
        &mut s,
        Msg::Logs(vec![log_at("web-1", 99, "w1"), log_at("api-x", 99, "a0")]),
    );
    // A crash-looping pod: lost again and again, retried later each time.
    let mut retry = 1;
    for n in 1..=14u32 {
        let now = 100 + u64::from(n) * 2;
        update(&mut s, Msg::Tick(t0() + Duration::from_secs(now)));
        update(&mut s, lost("api-x", n, retry, now));
        update(
            &mut s,
            Msg::Logs(vec![log_at("web-1", now, &format!("w{n}"))]),
        );
        retry = (retry * 2).min(8);
    }
    let markers: Vec<&LogLine> = s
        .logs
        .lines
        .iter()
        .filter(|l| l.text.starts_with("— "))
        .collect();
    assert_eq!(markers.len(), 1, "{:?}", log_texts(&s));
    assert_eq!(markers[0].source, "api-x");
    assert_eq!(markers[0].level, Level::Warn);
    assert_eq!(
        markers[0].text,
        "— api-x: stream lost 14× · next retry in 8s —"
    );
    // The marker sits at the latest loss, in time order with the other lines.
    let texts = log_texts(&s);
    assert_eq!(texts.len(), 2 + 14 + 1);
    assert_eq!(
        texts[texts.len() - 2..],
        ["— api-x: stream lost 14× · next retry in 8s —", "w14"]
    );
    // The clock counts down in place.
    update(&mut s, Msg::Tick(t0() + Duration::from_secs(133)));
    assert!(
        log_texts(&s).contains(&"— api-x: stream lost 14× · next retry in 3s —".to_string()),
        "{:?}",
        log_texts(&s)
    );
    update(&mut s, Msg::Tick(t0() + Duration::from_secs(140)));
    assert!(log_texts(&s).contains(&"— api-x: stream lost 14× · retrying —".to_string()));
    // The stream stays up again: the same line says so, nothing is added.
    update(
        &mut s,
        Msg::StreamState(StreamState {
            source: "api-x".into(),
            lost: 14,
            retry_at: None,
        }),
    );
    let texts = log_texts(&s);
    assert_eq!(texts.len(), 2 + 14 + 1);
    assert_eq!(
        texts[texts.len() - 2],
        "— api-x: stream lost 14× · resumed —"
    );
    // Another source's loss gets its own line.
    update(&mut s, lost("web-1", 1, 1, 140));
    let markers = log_texts(&s)
        .into_iter()
        .filter(|t| t.starts_with("— "))
        .count();
    assert_eq!(markers, 2);
}

#[test]
fn moving_a_marker_keeps_a_paused_pane_on_its_line() {
    let mut s = state();
    update(&mut s, Msg::Tick(t0() + Duration::from_secs(10)));
    update(&mut s, lost("api-x", 1, 1, 10));
    update(
        &mut s,
        Msg::Logs(
            (11..20)
                .map(|i| log_at("web-1", i, &format!("w{i}")))
                .collect(),
        ),
    );
    s.logs.scroll(-3);
    let shown = s.logs.current().map(|l| l.text.clone());
    assert_eq!(shown.as_deref(), Some("w16"));
    update(&mut s, Msg::Tick(t0() + Duration::from_secs(21)));
    update(&mut s, lost("api-x", 2, 2, 21));
    assert_eq!(s.logs.current().map(|l| l.text.clone()), shown);
}

#[test]
fn the_shown_log_lines_are_saved_through_a_prompt() {
    let mut s = state();
    key(&mut s, '2');
    update(
        &mut s,
        Msg::Logs(vec![
            log_at("api-1", 1, "GET /health 200"),
            LogLine {
                level: Level::Error,
                ..log_at("api-2", 2, "pool timeout \u{1b}[31mred")
            },
            log_at("api-1", 3, "GET /orders 200"),
        ]),
    );
    key(&mut s, 'L');
    key(&mut s, 'L');
    key(&mut s, 'L');
    key(&mut s, 'L');
    key(&mut s, 'W');
    assert_eq!(prompt_text(&s), "opsdeck-logs-20270115T080000Z.log");
    ctrl(&mut s, 'u');
    special(&mut s, KeyCode::Enter);
    assert_eq!(
        s.layer.as_ref().map(|_| ()),
        Some(()),
        "an empty path stays in the prompt"
    );
    typed(&mut s, "/tmp/incident.log");
    let effects = special(&mut s, KeyCode::Enter);
    assert!(s.layer.is_none());
    assert_eq!(
        effects,
        vec![Effect::SaveLogs {
            path: "/tmp/incident.log".into(),
            text: "2027-01-15T08:00:02.000Z api-2 ERROR pool timeout red\n".into(),
            lines: 1,
        }]
    );
}

#[test]
fn wrap_and_the_full_line_view_are_toggled_from_the_logs_pane() {
    let mut s = state();
    key(&mut s, '2');
    special(&mut s, KeyCode::Enter);
    assert!(s.layer.is_none(), "no line to show yet");
    update(
        &mut s,
        Msg::Logs(vec![log_at("a", 1, "first"), log_at("a", 2, "second")]),
    );
    key(&mut s, 'w');
    assert!(s.logs.wrap);
    key(&mut s, 'k');
    special(&mut s, KeyCode::Enter);
    match &s.layer {
        Some(Layer::LogLine { line, scroll: 0 }) => assert_eq!(line.text, "first"),
        other => panic!("{other:?}"),
    }
    key(&mut s, 'j');
    assert!(matches!(s.layer, Some(Layer::LogLine { scroll: 1, .. })));
    special(&mut s, KeyCode::Esc);
    assert!(s.layer.is_none());
    key(&mut s, 'w');
    assert!(!s.logs.wrap);
}

// ---- command mode, readline prompts, copy, suspend ----

/// Type `:` and a command line, then enter.
fn command(s: &mut State, line: &str) -> Vec<Effect> {
    let mut effects = key(s, ':');
    effects.extend(typed(s, line));
    effects.extend(special(s, KeyCode::Enter));
    effects
}

fn flash_text(s: &State) -> (String, bool) {
    s.flash
        .as_ref()
        .map(|f| (f.text.clone(), f.error))
        .unwrap_or_default()
}

fn visible_kinds(s: &State) -> Vec<WorkloadKind> {
    s.workloads.visible().iter().map(|w| w.id.kind).collect()
}

fn kube_state() -> State {
    let mut s = state();
    s.contexts = vec!["sim".into(), "sim-viewer".into()];
    s.target = Target::Kube {
        context: "sim".into(),
        namespace: Some("shop".into()),
    };
    s
}

#[test]
fn colon_pods_is_a_command_not_previous_logs_sort_and_scale() {
    let mut s = state();
    select(&mut s, "api-6d4f-abcde");
    let sort = s.workloads.sort;
    assert!(key(&mut s, ':').is_empty());
    let Some(Layer::Input(i)) = &s.layer else {
        panic!("{:?}", s.layer)
    };
    assert_eq!(i.text, "", "the command prompt opens empty");
    // p, o and s are text here: no previous logs, no sort, no scale prompt.
    assert!(typed(&mut s, "pods").is_empty());
    assert_eq!(prompt_text(&s), "pods");
    assert_eq!(s.workloads.sort, sort);
    assert!(special(&mut s, KeyCode::Enter).is_empty());
    assert!(s.layer.is_none());
    assert_eq!(s.focus, Pane::WORKLOADS);
    assert_eq!(visible_kinds(&s), [WorkloadKind::Pod]);
    assert_eq!(flash_text(&s), ("Workloads: pods only (1)".into(), false));
    assert_eq!(s.workloads.sort, sort);

    command(&mut s, "deploy");
    assert_eq!(visible_kinds(&s), [WorkloadKind::Deployment]);
    command(&mut s, ":dp");
    assert_eq!(
        visible_kinds(&s),
        [WorkloadKind::Deployment],
        "aliases, and a typed second colon"
    );
    command(&mut s, "ecs");
    assert_eq!(visible_kinds(&s), [WorkloadKind::EcsTask]);
    command(&mut s, "svc");
    assert!(visible_kinds(&s).is_empty());
    assert_eq!(flash_text(&s).0, "Workloads: ecs-services only (0)");
    // esc in the pane shows every kind again, as :workloads does.
    special(&mut s, KeyCode::Esc);
    assert_eq!(visible_kinds(&s).len(), 3);
    command(&mut s, "po");
    command(&mut s, "all");
    assert_eq!(visible_kinds(&s).len(), 3);
}

#[test]
fn unknown_commands_and_bad_arguments_flash_and_do_nothing_else() {
    let mut s = state();
    let before = s.workloads.visible().len();
    assert!(command(&mut s, "pdos").is_empty());
    assert!(s.layer.is_none());
    let (text, error) = flash_text(&s);
    assert!(error);
    assert!(
        text.starts_with("unknown command :pdos (commands: pods deploy svc"),
        "{text}"
    );
    assert_eq!(s.workloads.visible().len(), before);
    assert!(command(&mut s, "pods now").is_empty());
    assert_eq!(flash_text(&s), (":pods takes no argument".into(), true));
    assert_eq!(s.workloads.visible().len(), before);
    s.themes = vec!["default".into(), "mono".into()];
    assert!(command(&mut s, "theme").is_empty());
    assert_eq!(
        flash_text(&s),
        (":theme needs a name (default mono)".into(), true)
    );
    // An empty command line just closes the prompt.
    s.flash = None;
    assert!(command(&mut s, "").is_empty());
    assert!(s.layer.is_none() && s.flash.is_none());
}

#[test]
fn commands_quit_switch_and_theme_through_effects() {
    let mut s = kube_state();
    assert_eq!(
        command(&mut s, "ns kube-system"),
        vec![Effect::Switch {
            context: "sim".into(),
            namespace: Some("kube-system".into())
        }]
    );
    assert_eq!(
        command(&mut s, "ns all"),
        vec![Effect::Switch {
            context: "sim".into(),
            namespace: None
        }]
    );
    assert_eq!(
        command(&mut s, "ctx sim-viewer"),
        vec![Effect::Switch {
            context: "sim-viewer".into(),
            namespace: Some("shop".into())
        }]
    );
    assert!(command(&mut s, "ctx prod").is_empty());
    assert_eq!(
        flash_text(&s),
        (
            "no Kubernetes context \"prod\" (known: sim sim-viewer)".into(),
            true
        )
    );
    // Without a name they open the picker and the prompt the keys open.
    command(&mut s, "ctx");
    assert!(matches!(s.layer, Some(Layer::Picker { .. })));
    special(&mut s, KeyCode::Esc);
    command(&mut s, "ns");
    assert_eq!(prompt_text(&s), "shop");
    special(&mut s, KeyCode::Esc);

    s.themes = vec!["default".into(), "mono".into()];
    assert_eq!(
        command(&mut s, "theme mono"),
        vec![Effect::SetTheme {
            name: "mono".into()
        }]
    );
    assert!(command(&mut s, "theme pink").is_empty());
    assert!(flash_text(&s).0.starts_with("no theme \"pink\""));

    command(&mut s, "help");
    assert!(matches!(s.layer, Some(Layer::Help { .. })));
    special(&mut s, KeyCode::Esc);
    assert_eq!(command(&mut s, "q"), vec![Effect::Quit]);
    assert!(s.quit);
}

#[test]
fn runbook_and_events_commands_show_what_the_session_has() {
    let mut s = state();
    s.runbooks = opsdeck::runbook::shipped()
        .into_iter()
        .map(|(label, text)| opsdeck::runbook::Runbook::parse(label, text).unwrap())
        .collect();
    command(&mut s, "runbook bad-deploy");
    assert_eq!(s.focus, Pane::RUNBOOK);
    let book = &s.runbook.as_ref().expect("a runbook is open").book;
    assert_eq!(book.id, "bad-deploy");
    command(&mut s, "rb nope");
    assert!(
        flash_text(&s)
            .0
            .starts_with("no runbook \"nope\" (runbooks: ")
    );
    assert_eq!(
        s.runbook.as_ref().map(|r| r.book.id.as_str()),
        Some("bad-deploy")
    );

    // No events source: said plainly, nothing else changes.
    key(&mut s, '1');
    command(&mut s, "events");
    let (text, error) = flash_text(&s);
    assert!(
        error && text.starts_with("no Kubernetes events in this session yet"),
        "{text}"
    );
    assert_eq!(s.focus, Pane::WORKLOADS);
    let line = |source: &str| LogLine {
        source: source.into(),
        time: t0(),
        level: Level::Warn,
        text: "Back-off restarting failed container".into(),
    };
    update(&mut s, Msg::Logs(vec![line("api-1"), line("events")]));
    command(&mut s, "ev");
    assert_eq!(s.focus, Pane::LOGS);
    assert_eq!(s.logs.source.as_deref(), Some("events"));
    assert_eq!(s.logs.visible_len(), 1);
}

#[test]
fn tab_completes_commands_and_their_arguments() {
    let mut s = kube_state();
    s.themes = vec!["dark-256".into(), "default".into(), "mono".into()];
    key(&mut s, ':');
    typed(&mut s, "de");
    special(&mut s, KeyCode::Tab);
    assert_eq!(prompt_text(&s), "deploy", "one match: taken whole");
    special(&mut s, KeyCode::Esc);

    key(&mut s, ':');
    typed(&mut s, "t");
    special(&mut s, KeyCode::Tab);
    let Some(Layer::Input(i)) = &s.layer else {
        panic!()
    };
    assert_eq!(i.text, "t");
    assert_eq!(i.completions, ["tasks", "theme"], "several: listed");
    typed(&mut s, "h");
    special(&mut s, KeyCode::Tab);
    assert_eq!(
        prompt_text(&s),
        "theme ",
        "a command taking a name gets its space"
    );
    special(&mut s, KeyCode::Tab);
    let Some(Layer::Input(i)) = &s.layer else {
        panic!()
    };
    assert_eq!(i.completions, ["dark-256", "default", "mono"]);
    typed(&mut s, "d");
    special(&mut s, KeyCode::Tab);
    assert_eq!(prompt_text(&s), "theme d");
    typed(&mut s, "ar");
    special(&mut s, KeyCode::Tab);
    assert_eq!(prompt_text(&s), "theme dark-256");
    special(&mut s, KeyCode::Esc);

    // Namespaces and contexts the session knows.
    key(&mut s, ':');
    typed(&mut s, "ns s");
    special(&mut s, KeyCode::Tab);
    assert_eq!(prompt_text(&s), "ns shop");
    special(&mut s, KeyCode::Esc);
    key(&mut s, ':');
    typed(&mut s, "ctx sim-v");
    special(&mut s, KeyCode::Tab);
    assert_eq!(prompt_text(&s), "ctx sim-viewer");
    special(&mut s, KeyCode::Esc);
    key(&mut s, ':');
    typed(&mut s, "zz");
    special(&mut s, KeyCode::Tab);
    let Some(Layer::Input(i)) = &s.layer else {
        panic!()
    };
    assert_eq!(i.error.as_deref(), Some("nothing completes \"zz\""));
    special(&mut s, KeyCode::Esc);
    // The namespace prompt completes too.
    ctrl(&mut s, 'n');
    typed(&mut s, "a");
    special(&mut s, KeyCode::Tab);
    assert_eq!(prompt_text(&s), "all");
}

#[test]
fn prompts_keep_a_history_per_kind_recalled_with_up_and_down() {
    let mut s = state();
    command(&mut s, "pods");
    command(&mut s, "deploy");
    command(&mut s, "pods");
    // A filter's history is its own.
    key(&mut s, '/');
    typed(&mut s, "api");
    special(&mut s, KeyCode::Enter);
    assert_eq!(
        s.history.entries("command"),
        ["deploy", "pods"],
        "a repeat moves to the end"
    );
    assert_eq!(s.history.entries("workload_filter"), ["api"]);

    key(&mut s, ':');
    typed(&mut s, "ev");
    special(&mut s, KeyCode::Up);
    assert_eq!(prompt_text(&s), "pods");
    ctrl(&mut s, 'p');
    assert_eq!(prompt_text(&s), "deploy");
    special(&mut s, KeyCode::Up);
    assert_eq!(prompt_text(&s), "deploy", "the oldest stays");
    special(&mut s, KeyCode::Down);
    assert_eq!(prompt_text(&s), "pods");
    special(&mut s, KeyCode::Down);
    assert_eq!(prompt_text(&s), "ev", "past the newest: what was typed");
    special(&mut s, KeyCode::Up);
    special(&mut s, KeyCode::Up);
    special(&mut s, KeyCode::Enter);
    assert_eq!(visible_kinds(&s), [WorkloadKind::Deployment]);
}

#[test]
fn history_is_kept_as_json_and_bounded() {
    let mut h = opsdeck::core::History::default();
    h.record("command", "pods");
    h.record("command", "  ");
    h.record("namespace", "shop");
    let back = opsdeck::core::History::from_json(&h.to_json()).unwrap();
    assert_eq!(back, h);
    assert_eq!(back.entries("command"), ["pods"]);
    let many: Vec<String> = (0..150).map(|i| i.to_string()).collect();
    let text = serde_json::json!({ "command": many }).to_string();
    let back = opsdeck::core::History::from_json(&text).unwrap();
    assert_eq!(back.entries("command").len(), opsdeck::core::HISTORY_LEN);
    assert_eq!(back.entries("command")[0], "50", "the oldest go");
    assert!(opsdeck::core::History::from_json("[1]").is_err());
}

#[test]
fn prompts_edit_like_readline_at_the_cursor() {
    let mut s = state();
    key(&mut s, '/');
    typed(&mut s, "hello world");
    ctrl(&mut s, 'a');
    key(&mut s, 'X');
    assert_eq!(prompt_text(&s), "Xhello world");
    ctrl(&mut s, 'e');
    special(&mut s, KeyCode::Left);
    special(&mut s, KeyCode::Left);
    special(&mut s, KeyCode::Backspace);
    assert_eq!(prompt_text(&s), "Xhello wold");
    ctrl(&mut s, 'w');
    assert_eq!(
        prompt_text(&s),
        "Xhello ld",
        "ctrl-w: the word before the cursor"
    );
    assert_eq!(
        s.workloads.filter, "Xhello ld",
        "a filter still applies as edited"
    );
    ctrl(&mut s, 'u');
    assert_eq!(
        prompt_text(&s),
        "ld",
        "ctrl-u: everything before the cursor"
    );
    special(&mut s, KeyCode::End);
    key(&mut s, '!');
    special(&mut s, KeyCode::Home);
    special(&mut s, KeyCode::Right);
    key(&mut s, '-');
    assert_eq!(prompt_text(&s), "l-d!");
    // Characters, not bytes.
    ctrl(&mut s, 'u');
    ctrl(&mut s, 'e');
    ctrl(&mut s, 'u');
    typed(&mut s, "né");
    special(&mut s, KeyCode::Left);
    special(&mut s, KeyCode::Backspace);
    assert_eq!(prompt_text(&s), "é");
    special(&mut s, KeyCode::Right);
    special(&mut s, KeyCode::Right);
    key(&mut s, 'e');
    assert_eq!(prompt_text(&s), "ée");
}

#[test]
fn ctrl_z_suspends_from_anywhere_and_types_nothing() {
    let mut s = state();
    assert_eq!(ctrl(&mut s, 'z'), vec![Effect::Suspend]);
    key(&mut s, ':');
    typed(&mut s, "po");
    assert_eq!(ctrl(&mut s, 'z'), vec![Effect::Suspend]);
    assert_eq!(prompt_text(&s), "po", "the prompt stays as it was");
    special(&mut s, KeyCode::Esc);
    key(&mut s, '?');
    assert_eq!(ctrl(&mut s, 'z'), vec![Effect::Suspend]);
    assert!(matches!(s.layer, Some(Layer::Help { .. })));
}

#[test]
fn y_copies_the_selection_of_the_focused_pane_as_plain_text() {
    let mut s = state();
    select(&mut s, "api-6d4f-abcde");
    assert_eq!(
        key(&mut s, 'y'),
        vec![Effect::Copy {
            text: "api-6d4f-abcde".into()
        }]
    );
    assert_eq!(flash_text(&s), ("copied api-6d4f-abcde".into(), false));

    key(&mut s, '2');
    assert!(key(&mut s, 'y').is_empty());
    assert_eq!(flash_text(&s), ("nothing to copy in Logs".into(), true));
    let line = |text: &str| LogLine {
        source: "api-1".into(),
        time: t0(),
        level: Level::Info,
        text: text.into(),
    };
    update(
        &mut s,
        Msg::Logs(vec![
            line("first"),
            line("GET /health \u{1b}[31m500\u{1b}[0m\u{7} in 3ms"),
        ]),
    );
    assert_eq!(
        key(&mut s, 'y'),
        vec![Effect::Copy {
            text: "GET /health 500� in 3ms".into()
        }],
        "no escapes or controls reach the clipboard"
    );
    // Scrolled up: the line at the bottom of the pane.
    key(&mut s, 'k');
    assert_eq!(
        key(&mut s, 'y'),
        vec![Effect::Copy {
            text: "first".into()
        }]
    );

    with_db(&mut s);
    key(&mut s, '5');
    assert_eq!(
        key(&mut s, 'y'),
        vec![Effect::Copy {
            text: "select 104".into()
        }]
    );
    key(&mut s, '3');
    assert!(key(&mut s, 'y').is_empty());
    assert_eq!(flash_text(&s), ("nothing to copy in Metrics".into(), true));
}

// ---- the Workloads tree ----

fn owned(mut w: Workload, owner: &str) -> Workload {
    w.owner = Some(owner.into());
    w
}

fn tree_state() -> State {
    let mut s = state();
    update(
        &mut s,
        Msg::Workloads(vec![
            row(WorkloadKind::Deployment, "api", 3, 3, Health::Ok),
            owned(row(WorkloadKind::Pod, "api-1", 1, 1, Health::Ok), "api"),
            owned(
                row(WorkloadKind::Pod, "api-2", 0, 1, Health::Critical),
                "api",
            ),
            row(WorkloadKind::Deployment, "web", 2, 2, Health::Ok),
            owned(row(WorkloadKind::Pod, "web-1", 1, 1, Health::Ok), "web"),
            row(WorkloadKind::EcsService, "checkout", 1, 1, Health::Ok),
            owned(
                row(WorkloadKind::EcsTask, "9f3c2a", 1, 1, Health::Ok),
                "checkout",
            ),
            row(WorkloadKind::Pod, "debug-shell", 1, 1, Health::Ok),
        ]),
    );
    s
}

fn names(s: &State) -> Vec<String> {
    s.workloads
        .visible()
        .iter()
        .map(|w| w.id.name.clone())
        .collect()
}

#[test]
fn workloads_are_a_tree_of_owners_and_members() {
    let s = tree_state();
    // The group with the worst member first; members under their owner,
    // worst first; a pod of no listed owner stands alone.
    assert_eq!(
        names(&s),
        [
            "api",
            "api-2",
            "api-1",
            "web",
            "web-1",
            "debug-shell",
            "checkout",
            "9f3c2a"
        ]
    );
}

#[test]
fn a_filter_shows_the_group_of_a_matching_member_and_all_of_a_matching_group() {
    let mut s = tree_state();
    s.workloads.filter = "api-2".into();
    s.workloads.reselect();
    assert_eq!(names(&s), ["api", "api-2"]);
    s.workloads.filter = "checkout".into();
    s.workloads.reselect();
    assert_eq!(names(&s), ["checkout", "9f3c2a"]);
    // `:pods` shows pods alone: no group rows of a hidden kind.
    s.workloads.filter.clear();
    s.workloads.kinds = vec![WorkloadKind::Pod];
    s.workloads.reselect();
    assert_eq!(names(&s), ["api-2", "api-1", "debug-shell", "web-1"]);
}

#[test]
fn a_group_folds_and_the_cursor_follows_its_member_to_it() {
    let mut s = tree_state();
    key(&mut s, '1');
    select(&mut s, "api-1");
    key(&mut s, 'c');
    assert_eq!(
        names(&s),
        ["api", "web", "web-1", "debug-shell", "checkout", "9f3c2a"]
    );
    assert_eq!(
        s.workloads.selected_row().map(|w| w.id.name.as_str()),
        Some("api"),
        "a member folds its group and the cursor lands on it"
    );
    // A refresh keeps it folded and the cursor on the group.
    let rows = s.workloads.rows.clone();
    update(&mut s, Msg::Workloads(rows));
    assert_eq!(
        s.workloads.selected_row().map(|w| w.id.name.as_str()),
        Some("api")
    );
    key(&mut s, 'c');
    assert_eq!(names(&s)[..3], ["api", "api-2", "api-1"]);
    // A row with no members does not fold.
    select(&mut s, "debug-shell");
    key(&mut s, 'c');
    assert!(names(&s).contains(&"debug-shell".to_string()));
}

// ---- marks: one confirmation for several objects ----

#[test]
fn marked_pods_are_deleted_together_with_one_confirmation_listing_each() {
    let mut s = tree_state();
    key(&mut s, '1');
    // A deployment cannot be marked.
    select(&mut s, "api");
    key(&mut s, ' ');
    assert!(s.workloads.marked.is_empty());
    assert!(flash_text(&s).0.contains("only pods and ECS tasks"));
    select(&mut s, "api-1");
    key(&mut s, ' ');
    select(&mut s, "api-2");
    key(&mut s, ' ');
    let (_, title) = opsdeck::panes::workloads::title(&s);
    assert!(title.contains("2 marked"), "{title}");
    // x on any row acts on the marked pods.
    select(&mut s, "web-1");
    let effects = key(&mut s, 'x');
    let [Effect::CheckChange { change, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    let pod = |n: &str| Change::DeletePod {
        target: WorkloadRef::new(WorkloadKind::Pod, "shop", n),
        uid: None,
    };
    assert_eq!(
        change,
        &Change::Batch {
            changes: vec![pod("api-1"), pod("api-2")]
        }
    );
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!()
    };
    assert_eq!(c.headline, "delete 2 pods in shop");
    assert_eq!(c.details, ["api-1", "api-2"]);
    assert_eq!(c.required_name(), Some("shop"));
    answered(&mut s);
    typed(&mut s, "shop");
    let effects = special(&mut s, KeyCode::Enter);
    assert!(
        matches!(effects.as_slice(), [Effect::RunChange { change: Change::Batch { changes }, .. }] if changes.len() == 2),
        "{effects:?}"
    );
}

#[test]
fn a_marked_pod_that_vanishes_is_unmarked_and_esc_clears_marks() {
    let mut s = tree_state();
    key(&mut s, '1');
    select(&mut s, "api-1");
    key(&mut s, ' ');
    select(&mut s, "web-1");
    key(&mut s, ' ');
    let rows: Vec<Workload> = s
        .workloads
        .rows
        .iter()
        .filter(|w| w.id.name != "api-1")
        .cloned()
        .collect();
    update(&mut s, Msg::Workloads(rows));
    assert_eq!(
        s.workloads
            .marked
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["web-1"]
    );
    special(&mut s, KeyCode::Esc);
    assert!(s.workloads.marked.is_empty());
}

#[test]
fn marked_sessions_are_terminated_together_each_pinned() {
    let mut s = state();
    with_db(&mut s);
    key(&mut s, '5');
    key(&mut s, ' ');
    special(&mut s, KeyCode::Down);
    special(&mut s, KeyCode::Down);
    key(&mut s, ' ');
    let effects = key(&mut s, 'x');
    let [
        Effect::CheckChange {
            change: Change::Batch { changes },
            ..
        },
    ] = effects.as_slice()
    else {
        panic!("{effects:?}")
    };
    let pids: Vec<i32> = changes
        .iter()
        .map(|c| match c {
            Change::TerminateSession { session, .. } => session.pid,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(pids, [104, 101]);
    let Some(Layer::Confirm(c)) = &s.layer else {
        panic!()
    };
    assert_eq!(c.headline, "terminate 2 sessions on orders-db");
    assert_eq!(c.required_name(), Some("orders-db"));
    assert!(
        c.details[0].starts_with("pid 104: select 104"),
        "{:?}",
        c.details
    );
}

fn detail_of(text: &str, links: Vec<opsdeck::domain::DetailTarget>) -> opsdeck::domain::Detail {
    use opsdeck::domain::{Detail, DetailRow, DetailSection};
    let mut s = DetailSection::new("Summary");
    for i in 0..60 {
        s.push(DetailRow::field(format!("row {i}"), text));
    }
    s.push(DetailRow::text("the needle is here"));
    Detail {
        sections: vec![s],
        yaml: Some("kind: Pod\nmetadata:\n  name: x\n".into()),
        links,
    }
}

fn describe_id(effects: &[Effect]) -> u64 {
    match effects {
        [Effect::Describe { id, .. }] => *id,
        other => panic!("expected one Describe, got {other:?}"),
    }
}

#[test]
fn d_describes_the_selected_row_and_esc_goes_back_one_level() {
    use opsdeck::domain::DetailTarget;
    let mut s = state();
    select(&mut s, "api");
    let effects = key(&mut s, 'd');
    let dep = WorkloadRef::new(WorkloadKind::Deployment, "shop", "api");
    assert_eq!(
        effects,
        vec![Effect::Describe {
            id: describe_id(&effects),
            target: DetailTarget::Workload(dep.clone()),
        }]
    );
    assert!(s.detail.is_open());
    assert_eq!(s.detail.breadcrumbs(), "deploy shop/api");
    let pod = DetailTarget::Workload(WorkloadRef::new(
        WorkloadKind::Pod,
        "shop",
        "api-6d4f-abcde",
    ));
    let id = describe_id(&effects);
    update(
        &mut s,
        Msg::Described {
            id,
            result: Ok(detail_of("x", vec![pod.clone()])),
        },
    );
    // tab selects the related pod, enter opens it: a second level.
    special(&mut s, KeyCode::Tab);
    let effects = special(&mut s, KeyCode::Enter);
    assert!(matches!(&effects[..], [Effect::Describe { target, .. }] if *target == pod));
    assert_eq!(
        s.detail.breadcrumbs(),
        "deploy shop/api › pod api-6d4f-abcde"
    );
    // y is YAML here, not copy.
    assert!(key(&mut s, 'y').is_empty());
    assert_eq!(
        s.detail.breadcrumbs(),
        "deploy shop/api › pod api-6d4f-abcde › YAML"
    );
    special(&mut s, KeyCode::Esc);
    assert_eq!(
        s.detail.breadcrumbs(),
        "deploy shop/api › pod api-6d4f-abcde"
    );
    special(&mut s, KeyCode::Esc);
    assert_eq!(s.detail.breadcrumbs(), "deploy shop/api");
    special(&mut s, KeyCode::Esc);
    assert!(!s.detail.is_open());
    // Back on the pane: its keys work again.
    assert_eq!(s.focus, Pane::WORKLOADS);
}

#[test]
fn detail_failures_show_and_late_answers_are_ignored() {
    let mut s = state();
    select(&mut s, "api");
    let first = describe_id(&key(&mut s, 'd'));
    // r refetches: the first answer is stale now.
    let second = describe_id(&key(&mut s, 'r'));
    assert_ne!(first, second);
    update(
        &mut s,
        Msg::Described {
            id: first,
            result: Ok(detail_of("old", Vec::new())),
        },
    );
    assert!(s.detail.top().unwrap().detail.is_none());
    update(
        &mut s,
        Msg::Described {
            id: second,
            result: Err("forbidden: deployments.apps \"api\" is forbidden".into()),
        },
    );
    let top = s.detail.top().unwrap();
    assert!(!top.loading);
    let shown = opsdeck::core::detail::lines(top, 78);
    assert!(
        shown[0].text.contains("could not fetch: forbidden"),
        "{shown:?}"
    );
}

#[test]
fn detail_search_jumps_to_matches_and_scrolls() {
    let mut s = state();
    select(&mut s, "api");
    let id = describe_id(&key(&mut s, 'd'));
    update(
        &mut s,
        Msg::Described {
            id,
            result: Ok(detail_of("value", Vec::new())),
        },
    );
    key(&mut s, '/');
    typed(&mut s, "needle");
    special(&mut s, KeyCode::Enter);
    let top = s.detail.top().unwrap();
    assert_eq!(top.current, Some(0));
    let shown = opsdeck::core::detail::lines(top, 78);
    let at = shown
        .iter()
        .position(|l| l.text.contains("needle"))
        .unwrap();
    assert!(
        top.scroll <= at && at < top.scroll + 20,
        "{} {at}",
        top.scroll
    );
    assert!(top.scroll > 0);
    key(&mut s, 'g');
    assert_eq!(s.detail.top().unwrap().scroll, 0);
    key(&mut s, 'n');
    let scroll = s.detail.top().unwrap().scroll;
    assert!(
        scroll > 0 && scroll <= at && at < scroll + 20,
        "{scroll} {at}"
    );
}

#[test]
fn describe_with_nothing_selected_says_so() {
    let mut s = State::new(
        keymap(),
        Target::Sim {
            scenario: "test".into(),
        },
        t0(),
    );
    assert!(key(&mut s, 'd').is_empty());
    assert!(!s.detail.is_open());
    assert!(
        s.flash
            .as_ref()
            .unwrap()
            .text
            .contains("nothing to describe")
    );
}

#[test]
fn stopped_members_come_after_the_live_ones_of_their_group() {
    let mut s = state();
    let mut stopped = owned(
        row(WorkloadKind::EcsTask, "0-stopped", 0, 1, Health::Critical),
        "checkout",
    );
    stopped.status = "STOPPED".into();
    update(
        &mut s,
        Msg::Workloads(vec![
            row(WorkloadKind::EcsService, "checkout", 1, 2, Health::Warn),
            stopped,
            owned(
                row(WorkloadKind::EcsTask, "9-running", 1, 1, Health::Ok),
                "checkout",
            ),
        ]),
    );
    assert_eq!(names(&s), ["checkout", "9-running", "0-stopped"]);
}

#[test]
fn a_pod_recreated_under_the_same_name_is_not_the_one_chosen() {
    let mut s = state();
    let with_uid = |uid: &str| {
        let mut w = row(WorkloadKind::Pod, "db-0", 1, 1, Health::Ok);
        w.uid = Some(uid.into());
        w
    };
    let deployment = row(WorkloadKind::Deployment, "api", 3, 3, Health::Ok);
    update(
        &mut s,
        Msg::Workloads(vec![deployment.clone(), with_uid("uid-1")]),
    );
    key(&mut s, '1');
    select(&mut s, "db-0");
    // The same uid: still the chosen object.
    update(
        &mut s,
        Msg::Workloads(vec![deployment.clone(), with_uid("uid-1")]),
    );
    assert_eq!(
        s.workloads.selected_row().map(|w| w.id.name.as_str()),
        Some("db-0")
    );
    // Deleted and recreated by its StatefulSet: same name, new uid.
    update(
        &mut s,
        Msg::Workloads(vec![deployment.clone(), with_uid("uid-2")]),
    );
    assert!(s.workloads.selected_row().is_none(), "actions are refused");
    let (_, title) = opsdeck::panes::workloads::title(&s);
    assert!(title.starts_with("gone: pod db-0"), "{title}");
    assert!(key(&mut s, 'x').is_empty(), "delete is refused");
    // It stays gone on later refreshes until the user chooses a row.
    update(&mut s, Msg::Workloads(vec![deployment, with_uid("uid-2")]));
    assert!(s.workloads.selected_row().is_none());
    select(&mut s, "db-0");
    assert_eq!(
        s.workloads.selected_row().and_then(|w| w.uid.as_deref()),
        Some("uid-2")
    );
}

#[test]
fn delete_pod_carries_the_uid_of_the_pod_chosen() {
    let mut s = state();
    let mut pod = row(WorkloadKind::Pod, "db-0", 1, 1, Health::Ok);
    pod.uid = Some("uid-7".into());
    update(&mut s, Msg::Workloads(vec![pod]));
    key(&mut s, '1');
    select(&mut s, "db-0");
    let effects = key(&mut s, 'x');
    assert_eq!(
        effects,
        vec![Effect::CheckChange {
            id: 1,
            change: Change::DeletePod {
                target: WorkloadRef::new(WorkloadKind::Pod, "shop", "db-0"),
                uid: Some("uid-7".into()),
            }
        }]
    );
}

#[test]
fn cancel_on_an_idle_session_says_there_is_nothing_to_cancel() {
    let mut s = state();
    with_db(&mut s);
    key(&mut s, '5');
    let i = opsdeck::core::db_rows(&s.metrics.databases)
        .iter()
        .position(|(_, x)| x.pid == 103)
        .expect("idle session listed");
    s.database.select(&s.metrics.databases, i);
    assert!(key(&mut s, 'c').is_empty(), "nothing asked of the server");
    assert!(s.layer.is_none());
    let flash = s.flash.clone().expect("said why");
    assert_eq!(
        flash.text,
        "pid 103 on orders-db is idle: it is running no query, so there is nothing to cancel (terminate the session to end it)"
    );
    // Terminating it is still offered.
    assert!(matches!(
        key(&mut s, 'x').as_slice(),
        [Effect::CheckChange { .. }]
    ));
}
