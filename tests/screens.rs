//! Screen tests: the real render functions drawn into a TestBackend at 80x24
//! and 160x48 from deterministic simulator states, compared with insta
//! snapshots, plus cell-style assertions against theme slots (text snapshots
//! do not show colour).

use std::time::{Duration, SystemTime};

use crossterm::event::{KeyCode, KeyModifiers};
use opsdeck::core::{Msg, State, update};
use opsdeck::keymap::{KeyChord, Keymap};
use opsdeck::runbook;
use opsdeck::sim::{Scenario, World};
use opsdeck::theme::{Slot, Theme};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Style};

fn t0() -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

/// The console as it looks 12 minutes into a scenario (seed 42).
fn state_for(scenario: Scenario) -> State {
    let mut world = World::new(scenario, 42, t0());
    world.step(Duration::from_secs(12 * 60));
    let book = runbook::for_scenario(scenario.name()).unwrap().unwrap();
    let keymap = Keymap::shipped("default").unwrap();
    let mut s = State::new(keymap, sim_target(scenario.name()), world.now()).with_runbook(book);
    update(&mut s, Msg::Workloads(world.workloads()));
    update(&mut s, Msg::Metrics(world.metrics()));
    update(&mut s, Msg::Databases(world.databases()));
    update(&mut s, Msg::Logs(world.logs_since(0).0));
    update(&mut s, Msg::Tick(world.now()));
    s
}

fn draw(state: &State, theme: &Theme, w: u16, h: u16) -> Buffer {
    let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
    term.draw(|f| opsdeck::ui::render(f, state, theme)).unwrap();
    term.backend().buffer().clone()
}

fn text(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in 0..area.height {
        let mut line = String::new();
        for x in 0..area.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Where `needle` starts on screen.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    find_below(buf, needle, 0)
}

/// Where `needle` first starts on a row at or below `min_y`.
fn find_below(buf: &Buffer, needle: &str, min_y: u16) -> Option<(u16, u16)> {
    let area = buf.area;
    for y in min_y..area.height {
        let row: Vec<String> = (0..area.width)
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        let line: String = row.concat();
        if let Some(byte) = line.find(needle) {
            // Map the byte offset back to a column (cells may hold multi-byte symbols).
            let mut acc = 0;
            for (x, sym) in row.iter().enumerate() {
                if acc == byte {
                    return Some((x as u16, y));
                }
                acc += sym.len();
            }
        }
    }
    None
}

/// No colour and the terminal's default colour are the same thing on screen.
fn colour(c: Option<Color>) -> Color {
    c.unwrap_or(Color::Reset)
}

fn key(s: &mut State, c: char) {
    update(
        s,
        Msg::Key(KeyChord::new(KeyCode::Char(c), KeyModifiers::NONE)),
    );
}

#[test]
fn db_connections_80x24() {
    let s = state_for(Scenario::DbConnections);
    insta::assert_snapshot!(text(&draw(&s, &Theme::shipped("default").unwrap(), 80, 24)));
}

#[test]
fn db_connections_160x48() {
    let s = state_for(Scenario::DbConnections);
    insta::assert_snapshot!(text(&draw(
        &s,
        &Theme::shipped("default").unwrap(),
        160,
        48
    )));
}

#[test]
fn oom_crashloop_80x24() {
    let s = state_for(Scenario::OomCrashloop);
    insta::assert_snapshot!(text(&draw(&s, &Theme::shipped("default").unwrap(), 80, 24)));
}

#[test]
fn help_overlay_80x24() {
    let mut s = state_for(Scenario::BadDeploy);
    key(&mut s, '?');
    insta::assert_snapshot!(text(&draw(&s, &Theme::shipped("default").unwrap(), 80, 24)));
}

/// Open the runbook's terminate action (db-connections, step 4); returns its check id.
fn open_terminate(s: &mut State) -> u64 {
    key(s, '4');
    for _ in 0..3 {
        key(s, ']');
    }
    let effects = update(
        s,
        Msg::Key(KeyChord::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let [opsdeck::core::Effect::CheckChange { id, .. }] = effects.as_slice() else {
        panic!("the confirmation asks the backend first: {effects:?}")
    };
    *id
}

/// The text inside the confirmation dialog's box (its rows between the
/// borders), without what the panes around it show.
fn dialog_text(buf: &Buffer) -> String {
    let (x, y) = find(buf, "┌ Confirm").expect("a confirmation dialog");
    let right = (x + 1..buf.area.width)
        .find(|&c| buf[(c, y)].symbol() == "┐")
        .expect("the dialog's top right corner");
    let mut out = String::new();
    for row in y + 1..buf.area.height {
        if buf[(x, row)].symbol() == "└" {
            return out;
        }
        let line: String = (x + 1..right).map(|c| buf[(c, row)].symbol()).collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    panic!("the dialog has no bottom border:\n{}", text(buf))
}

/// What a dialog the action cannot be run from must not offer.
fn assert_nothing_to_run(dialog: &str) {
    for offer in ["to confirm", "enter run", "Yes (", "No ("] {
        assert!(!dialog.contains(offer), "{offer:?} offered:\n{dialog}");
    }
    assert!(dialog.contains("this action cannot be run"), "{dialog}");
}

#[test]
fn terminate_confirmation_80x24_and_160x48() {
    let theme = Theme::shipped("default").unwrap();
    // Allowed: the name must be typed.
    let mut s = state_for(Scenario::DbConnections);
    let id = open_terminate(&mut s);
    update(
        &mut s,
        Msg::ChangeChecked {
            id,
            allowed: Ok(()),
            preview: Ok(None),
        },
    );
    let buf = draw(&s, &theme, 80, 24);
    let dialog = dialog_text(&buf);
    assert!(dialog.contains("Type orders-db to confirm"), "{dialog}");
    assert!(dialog.contains("enter run · esc cancel"), "{dialog}");
    insta::assert_snapshot!("confirm_80x24", text(&buf));

    // Refused the way the PostgreSQL backend refuses it: the role may not
    // signal one of these very sessions. (A new dialog: a backend answers
    // a check once.)
    let mut s = state_for(Scenario::DbConnections);
    let id = open_terminate(&mut s);
    let Some(opsdeck::core::Layer::Confirm(c)) = &s.layer else {
        panic!("the confirmation is open")
    };
    let opsdeck::domain::Change::TerminateQueries {
        database, sessions, ..
    } = &c.change
    else {
        panic!("a terminate: {:?}", c.change)
    };
    let why = format!(
        "role app on {database} may not signal these sessions (pid {} belongs to role \
         orders_app): it needs to be a superuser or a member of pg_signal_backend and \
         pg_read_all_stats (on RDS/Aurora: rds_superuser has both); only superusers may \
         signal a superuser's session",
        sessions[0].pid
    );
    update(
        &mut s,
        Msg::ChangeChecked {
            id,
            allowed: Err(why),
            preview: Ok(None),
        },
    );
    let buf = draw(&s, &theme, 160, 48);
    let dialog = dialog_text(&buf);
    assert!(
        dialog.contains("not allowed: role app on orders-db may not signal these sessions"),
        "{dialog}"
    );
    assert_nothing_to_run(&dialog);
    insta::assert_snapshot!("confirm_160x48", text(&buf));
}

/// Whatever the action and however it is refused (RBAC or the dry run),
/// its dialog offers no way to run it: no name to type, no Yes, no
/// "enter run"; y says why, and enter runs nothing.
#[test]
fn a_refused_confirmation_offers_no_way_to_run_it() {
    use opsdeck::domain::{PreviewError, WorkloadKind};
    let theme = Theme::shipped("default").unwrap();
    type Open = fn(&mut State) -> u64;
    let terminate: Open = open_terminate;
    let delete_pod: Open = |s| {
        key(s, '1');
        let i = s
            .workloads
            .visible()
            .iter()
            .position(|w| w.id.kind == WorkloadKind::Pod)
            .expect("a pod row");
        s.workloads.select(i);
        let effects = update(
            s,
            Msg::Key(KeyChord::new(KeyCode::Char('x'), KeyModifiers::NONE)),
        );
        let [opsdeck::core::Effect::CheckChange { id, .. }] = effects.as_slice() else {
            panic!("delete asks the backend first: {effects:?}")
        };
        *id
    };
    let scale: Open = |s| {
        key(s, '1');
        let i = s
            .workloads
            .visible()
            .iter()
            .position(|w| w.id.kind == WorkloadKind::Deployment)
            .expect("a deployment row");
        s.workloads.select(i);
        key(s, 's');
        key(s, '5');
        let effects = update(
            s,
            Msg::Key(KeyChord::new(KeyCode::Enter, KeyModifiers::NONE)),
        );
        let [opsdeck::core::Effect::CheckChange { id, .. }] = effects.as_slice() else {
            panic!("scale asks the backend first: {effects:?}")
        };
        *id
    };
    for (what, open) in [
        ("terminate", terminate),
        ("delete pod", delete_pod),
        ("scale", scale),
    ] {
        for denied in [true, false] {
            let mut s = state_for(Scenario::DbConnections);
            let id = open(&mut s);
            let (allowed, preview) = if denied {
                (Err("the role may not".to_string()), Ok(None))
            } else {
                (
                    Ok(()),
                    Err(PreviewError::Refused("the server refused it".into())),
                )
            };
            update(
                &mut s,
                Msg::ChangeChecked {
                    id,
                    allowed,
                    preview,
                },
            );
            for (w, h) in [(80, 24), (160, 48)] {
                assert_nothing_to_run(&dialog_text(&draw(&s, &theme, w, h)));
            }
            // Trying anyway: y says why not.
            key(&mut s, 'y');
            for (w, h) in [(80, 24), (160, 48)] {
                let dialog = dialog_text(&draw(&s, &theme, w, h));
                assert_nothing_to_run(&dialog);
                assert!(
                    dialog.contains("cannot be run: "),
                    "{what}: y says why:\n{dialog}"
                );
            }
            // Enter runs nothing; it closes the dialog.
            let effects = update(
                &mut s,
                Msg::Key(KeyChord::new(KeyCode::Enter, KeyModifiers::NONE)),
            );
            assert!(effects.is_empty(), "{what}: enter ran {effects:?}");
            assert!(s.layer.is_none(), "{what}: enter closes it");
        }
    }
}

#[test]
fn zoomed_logs_with_search_160x48() {
    let mut s = state_for(Scenario::DbConnections);
    key(&mut s, '2');
    key(&mut s, 'z');
    key(&mut s, '/');
    for c in "reserved".chars() {
        key(&mut s, c);
    }
    update(
        &mut s,
        Msg::Key(KeyChord::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let theme = Theme::shipped("default").unwrap();
    let buf = draw(&s, &theme, 160, 48);
    insta::assert_snapshot!(text(&buf));
    // Below the header and the pane title, which shows the search text too.
    let (x, y) = find_below(&buf, "reserved", 2).expect("a match on screen");
    assert_eq!(
        buf[(x, y)].style().bg,
        theme.style(Slot::SearchMatch).bg,
        "matches use the search.match slot"
    );
    assert_eq!(buf[(x, y)].style().fg, theme.style(Slot::SearchMatch).fg);
}

#[test]
fn read_only_and_problems_are_visible() {
    let mut s = state_for(Scenario::EcsUnhealthy);
    s.read_only = true;
    s.problems = vec![opsdeck::problem::Problem::new(
        "/home/u/.config/opsdeck/keymaps/default.toml",
        Some(4),
        Some("logs.ctrl-x".into()),
        "unknown action \"scrol_down\"",
    )];
    let theme = Theme::shipped("default").unwrap();
    let buf = draw(&s, &theme, 80, 24);
    let screen = text(&buf);
    assert!(
        screen.lines().next().unwrap().contains("READ-ONLY"),
        "{screen}"
    );
    // The count and the key that lists them in full, then the newest.
    assert!(
        screen.lines().last().unwrap_or("").starts_with(
            " 1 problem !  /home/u/.config/opsdeck/keymaps/default.toml:4: logs.ctrl-x"
        ),
        "{screen}"
    );
    let (x, y) = find(&buf, "READ-ONLY").unwrap();
    assert_eq!(buf[(x, y)].style().fg, theme.style(Slot::StatusReadonly).fg);
    assert_eq!(buf[(x, y)].style().bg, theme.style(Slot::StatusReadonly).bg);
}

/// A read-only forced by a bad safety setting says why, in full, wrapped.
#[test]
fn forced_read_only_shows_its_whole_reason() {
    let mut s = state_for(Scenario::DbConnections);
    let reason =
        "/home/u/.config/opsdeck/config.toml:3: read_only: expected true or false, found string";
    s.read_only = true;
    s.read_only_reason = Some(reason.into());
    let theme = Theme::shipped("default").unwrap();
    for (w, h) in [(80, 24), (200, 60)] {
        let buf = draw(&s, &theme, w, h);
        let screen = text(&buf);
        let joined: String = screen.lines().skip(1).take(3).collect();
        assert!(
            joined.contains(&format!("safety setting could not be read: {reason}")),
            "{w}x{h}:\n{screen}"
        );
        let (x, y) = find(&buf, "READ-ONLY because").unwrap();
        assert_eq!(y, 1, "just under the header");
        assert_eq!(buf[(x, y)].style().bg, theme.style(Slot::StatusReadonly).bg);
        assert!(screen.contains("1 Workloads"), "the panes are still drawn");
    }
}

/// Styles come from theme slots: critical rows, focused borders, thresholds.
#[test]
fn cells_use_theme_slots() {
    for name in ["default", "dark-256", "high-contrast", "mono"] {
        let theme = Theme::shipped(name).unwrap();
        let s = state_for(Scenario::OomCrashloop);
        let buf = draw(&s, &theme, 160, 48);
        let crit = theme.style(Slot::HealthCritical);
        let (x, y) = find(&buf, "CrashLoopBackOff").expect("crash-looping pod on screen");
        let cell = buf[(x, y)].style();
        assert_eq!(
            (colour(cell.fg), cell.add_modifier),
            (colour(crit.fg), crit.add_modifier),
            "{name}: CrashLoopBackOff uses health.critical"
        );
        let (x, y) = find(&buf, "1 Workloads").expect("workloads title");
        let focused = theme.style(Slot::TitleFocused);
        assert_eq!(
            colour(buf[(x, y)].style().fg),
            colour(focused.fg),
            "{name}: focused title"
        );
        assert_eq!(
            buf[(x, y)].style().add_modifier,
            focused.add_modifier,
            "{name}: focused title"
        );
        let border = theme.style(Slot::BorderFocused);
        assert_eq!(
            colour(buf[(0, 1)].style().fg),
            colour(border.fg),
            "{name}: focused border"
        );
        let (x, y) = find(&buf, "INCIDENT").unwrap();
        assert_eq!(
            colour(buf[(x, y)].style().fg),
            colour(crit.fg),
            "{name}: incident badge"
        );
    }
}

/// mono puts no colour on screen at all.
#[test]
fn mono_has_no_colour() {
    let s = state_for(Scenario::BadDeploy);
    let buf = draw(&s, &Theme::shipped("mono").unwrap(), 160, 48);
    for cell in buf.content() {
        let st: Style = cell.style();
        assert!(
            matches!(st.fg, None | Some(Color::Reset)),
            "fg {:?} at {:?}",
            st.fg,
            cell.symbol()
        );
        assert!(matches!(st.bg, None | Some(Color::Reset)), "bg {:?}", st.bg);
    }
}

/// Resolving the incident flips the header badge.
#[test]
fn resolution_shows_in_the_header() {
    let mut world = World::new(Scenario::BadDeploy, 42, t0());
    world.step(Duration::from_secs(12 * 60));
    let book = runbook::for_scenario("bad-deploy").unwrap().unwrap();
    let view_req = {
        let w = world.workloads();
        let m = world.metrics();
        let d = world.databases();
        let view = runbook::EstateView {
            workloads: &w,
            metrics: &m,
            databases: &d,
        };
        book.actions().next().unwrap().to_change(&view).unwrap()
    };
    world.apply(&view_req).unwrap();
    world.step(Duration::from_secs(180));
    let keymap = Keymap::shipped("default").unwrap();
    let mut s = State::new(keymap, sim_target("bad-deploy"), world.now()).with_runbook(book);
    update(&mut s, Msg::Workloads(world.workloads()));
    update(&mut s, Msg::Metrics(world.metrics()));
    let theme = Theme::shipped("default").unwrap();
    let header = |s: &State| {
        text(&draw(s, &theme, 80, 24))
            .lines()
            .next()
            .unwrap_or_default()
            .to_string()
    };
    // Everything passes, but RESOLVED waits for the runbook's hold period.
    assert!(header(&s).contains("HOLDING 30s"), "{}", header(&s));
    let now = world.now();
    update(&mut s, Msg::Tick(now + Duration::from_secs(12)));
    assert!(header(&s).contains("HOLDING 18s"), "{}", header(&s));
    // A relapse breaks the hold; it starts again from the full period.
    let mut relapse = world.metrics();
    for m in relapse.iter_mut().filter(|m| m.key == "api.5xx_rate") {
        if let Some(p) = m.points.last_mut() {
            p.value = 9.0;
        }
    }
    update(&mut s, Msg::Metrics(relapse));
    assert!(header(&s).contains("INCIDENT"), "{}", header(&s));
    update(&mut s, Msg::Metrics(world.metrics()));
    assert!(header(&s).contains("HOLDING 30s"), "{}", header(&s));
    update(&mut s, Msg::Tick(now + Duration::from_secs(41)));
    assert!(header(&s).contains("HOLDING 1s"), "{}", header(&s));
    update(&mut s, Msg::Tick(now + Duration::from_secs(42)));
    assert!(header(&s).contains("RESOLVED"), "{}", header(&s));
}

#[test]
fn database_pane_in_the_shared_quadrant_80x24() {
    let mut s = state_for(Scenario::DbConnections);
    key(&mut s, '5');
    let theme = Theme::shipped("default").unwrap();
    let buf = draw(&s, &theme, 80, 24);
    let screen = text(&buf);
    assert!(screen.contains("5 Database"), "{screen}");
    assert!(
        !screen.contains("3 Metrics"),
        "Metrics gives the quadrant up: {screen}"
    );
    insta::assert_snapshot!(screen);
    // 97 of 100 connections is past the 90% critical threshold.
    let (x, y) = find(&buf, "97/100 connections (97%)").expect("connection count");
    assert_eq!(buf[(x, y)].style().fg, theme.style(Slot::HealthCritical).fg);
}

#[test]
fn logs_insights_results_80x24() {
    use opsdeck::domain::{QueryResults, QueryStatus};
    let mut s = state_for(Scenario::EcsUnhealthy);
    update(&mut s, Msg::QueryGroups(vec!["/ecs/checkout".into()]));
    update(
        &mut s,
        Msg::LogLag {
            source: "cloudwatch".into(),
            lag: Some(Duration::from_secs(75)),
        },
    );
    key(&mut s, '2');
    key(&mut s, 'I');
    update(
        &mut s,
        Msg::Key(KeyChord::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    update(
        &mut s,
        Msg::Query {
            generation: 1,
            update: Ok(QueryResults {
                status: QueryStatus::Complete,
                columns: vec!["operation".into(), "errors".into()],
                rows: vec![
                    vec!["PlaceOrder".into(), "41".into()],
                    // Log content is untrusted: escapes must not reach the terminal.
                    vec!["Get\u{1b}[2JCart".into(), "7".into()],
                ],
                records_matched: 48.0,
                records_scanned: 12_000.0,
                bytes_scanned: 3.0 * 1024.0 * 1024.0,
            }),
        },
    );
    let theme = Theme::shipped("default").unwrap();
    let buf = draw(&s, &theme, 80, 24);
    let screen = text(&buf);
    insta::assert_snapshot!(screen);
    assert!(screen.contains("PlaceOrder"));
    // The escape sequence is removed whole by the sanitiser: ratatui would
    // drop the ESC by itself, but "[2J" would be left between the halves.
    assert!(screen.contains("GetCart "), "{screen}");
    assert!(!screen.contains("[2J"), "{screen}");
    assert!(screen.contains("complete"));

    // Closed: the Logs pane title says how far behind the stream is.
    update(
        &mut s,
        Msg::Key(KeyChord::new(KeyCode::Esc, KeyModifiers::NONE)),
    );
    let screen = text(&draw(&s, &theme, 80, 24));
    assert!(screen.contains("Logs follow behind 75s"), "{screen}");
}

fn sim_target(scenario: &str) -> opsdeck::domain::Target {
    opsdeck::domain::Target::Sim {
        scenario: scenario.to_string(),
    }
}

#[test]
fn rollback_confirmation_shows_both_ends_in_full_at_80x24() {
    use opsdeck::domain::{Change, Preview, RollbackPlan, WorkloadKind, WorkloadRef};
    let mut s = state_for(Scenario::BadDeploy);
    key(&mut s, '1');
    let api = WorkloadRef::new(WorkloadKind::Deployment, "shop", "api");
    let row = s
        .workloads
        .visible()
        .iter()
        .position(|w| w.id == api)
        .expect("deployment api");
    s.workloads.select(row);
    let effects = update(
        &mut s,
        Msg::Key(KeyChord::new(KeyCode::Char('u'), KeyModifiers::NONE)),
    );
    let [opsdeck::core::Effect::CheckChange { id, .. }] = effects.as_slice() else {
        panic!("the rollback asks the backend first: {effects:?}")
    };
    let from = "registry.example.com/platform/shop/api@sha256:9f86d081884c7d659a2feaa0c55ad015";
    let to = "registry.example.com/platform/shop/api@sha256:3a7bd3e2360a3d29eea436fcfb7e44c7";
    update(
        &mut s,
        Msg::ChangeChecked {
            id: *id,
            allowed: Ok(()),
            preview: Ok(Some(Preview {
                summary: "server dry run: deployment shop/api rollback to revision 4 accepted"
                    .into(),
                resolved: Some(Change::RolloutUndo {
                    target: api,
                    to_revision: Some(4),
                    plan: Some(RollbackPlan {
                        from_revision: 5,
                        from: from.into(),
                        to: to.into(),
                    }),
                }),
            })),
        },
    );
    let theme = Theme::shipped("default").unwrap();
    let buf = draw(&s, &theme, 80, 24);
    let screen = text(&buf);
    // The dialog's inside, line by line.
    let (x, y) = find(&buf, "┌ Confirm destructive action").expect("the dialog");
    let inside: Vec<String> = (y + 1..buf.area.height)
        .take_while(|&row| buf[(x, row)].symbol() != "└")
        .map(|row| {
            (x + 1..x + 75)
                .map(|col| buf[(col, row)].symbol())
                .collect::<String>()
                .trim_end()
                .to_string()
        })
        .collect();
    // Nothing is cut: both revisions and both images are there in full.
    let flat = inside.join(" ");
    assert!(flat.contains("revision 5"), "{screen}");
    assert!(flat.contains("revision 4"), "{screen}");
    // Long words wrap inside the word: joined back, they are whole.
    let joined: String = inside.concat();
    assert!(joined.contains(from), "{screen}");
    assert!(joined.contains(to), "{screen}");
    assert!(!flat.contains('…'), "{screen}");
    assert!(screen.contains("Type api to confirm"), "{screen}");
    insta::assert_snapshot!("rollback_confirm_80x24", screen);
}

// ---- the Logs pane: wrap, the full line, Home ----

fn logs_state(lines: Vec<opsdeck::domain::LogLine>) -> State {
    let keymap = Keymap::shipped("default").unwrap();
    let mut s = State::new(keymap, sim_target("test"), t0());
    update(&mut s, Msg::Logs(lines));
    key(&mut s, '2');
    key(&mut s, 'z');
    s
}

fn log_line(source: &str, secs: u64, text: &str) -> opsdeck::domain::LogLine {
    opsdeck::domain::LogLine {
        source: source.into(),
        time: t0() + Duration::from_secs(secs),
        level: opsdeck::domain::Level::Info,
        text: text.into(),
    }
}

const LONG: &str = "GET /api/v1/orders/4711?expand=items,customer,payments status=200 \
duration_ms=1234 user_agent=Mozilla/5.0 trace=abcdef0123456789 END";

#[test]
fn long_log_lines_wrap_under_their_text_at_80_columns() {
    let mut s = logs_state(vec![
        log_line("api-1", 1, LONG),
        log_line("api-2", 2, "short"),
    ]);
    let before = text(&draw(&s, &Theme::default(), 80, 24));
    assert!(!before.contains("END"), "cut at the edge:\n{before}");
    key(&mut s, 'w');
    let after = text(&draw(&s, &Theme::default(), 80, 24));
    let rows: Vec<&str> = after.lines().collect();
    let first = rows
        .iter()
        .position(|r| r.contains("GET /api/v1"))
        .expect("the long line is shown");
    // Timestamp (9) and source column (15) come first; the rest wraps under the text.
    assert!(
        rows[first].starts_with("│08:00:01 api-1          GET /api/v1/orders/4711"),
        "{after}"
    );
    assert!(
        rows[first + 1].starts_with("│                        "),
        "{after}"
    );
    assert!(rows[first + 2].contains("END"), "{after}");
    assert!(
        rows[first + 3].contains("08:00:02 api-2          short"),
        "{after}"
    );
    assert!(
        rows[1].contains("Logs follow wrap"),
        "the title says so: {}",
        rows[1]
    );
}

#[test]
fn enter_shows_the_whole_line_with_its_json_pretty_printed() {
    let json = r#"{"level":"error","msg":"payment failed","order":4711,"detail":"card declined by issuer after 3 retries; customer notified by email"}"#;
    let mut s = logs_state(vec![log_line("api-1", 1, json)]);
    s.logs.order = opsdeck::domain::LogOrder::default();
    let chord = KeyChord::new(KeyCode::Enter, KeyModifiers::NONE);
    update(&mut s, Msg::Key(chord));
    let screen = text(&draw(&s, &Theme::default(), 80, 24));
    assert!(
        screen.contains("api-1 · 2027-01-15T08:00:01.000Z · INFO"),
        "{screen}"
    );
    assert!(
        screen.contains(
            r#""detail": "card declined by issuer after 3 retries; customer notified by"#
        ),
        "{screen}"
    );
    assert!(screen.contains("││email\","), "wrapped, not cut:\n{screen}");
    assert!(screen.contains(r#""order": 4711"#), "{screen}");
    let chord = KeyChord::new(KeyCode::Esc, KeyModifiers::NONE);
    update(&mut s, Msg::Key(chord));
    assert!(s.layer.is_none());
}

#[test]
fn home_shows_a_full_page_from_the_first_line() {
    let lines = (0..100)
        .map(|i| log_line("api-1", i, &format!("line {i}")))
        .collect();
    let mut s = logs_state(lines);
    update(
        &mut s,
        Msg::Key(KeyChord::new(KeyCode::Home, KeyModifiers::NONE)),
    );
    let screen = text(&draw(&s, &Theme::default(), 80, 24));
    let shown: Vec<&str> = screen
        .lines()
        .filter_map(|r| r.split("api-1          ").nth(1))
        .map(|t| t.trim_end_matches('│').trim_end())
        .collect();
    let want: Vec<String> = (0..shown.len()).map(|i| format!("line {i}")).collect();
    assert_eq!(shown, want);
    // The zoomed pane at 80x24 has 20 rows inside its border.
    assert_eq!(shown.len(), 20, "{screen}");
    // Wrapped, the first page still starts at the first line and is full.
    let mut s = logs_state(vec![log_line("api-1", 0, LONG), log_line("api-1", 1, LONG)]);
    key(&mut s, 'w');
    for i in 2..30 {
        update(&mut s, Msg::Logs(vec![log_line("api-1", i, LONG)]));
    }
    key(&mut s, 'g');
    let screen = text(&draw(&s, &Theme::default(), 80, 24));
    let rows: Vec<&str> = screen.lines().collect();
    // Six lines of three rows each: as many whole lines as fit in 20 rows.
    assert!(rows[2].contains("08:00:00 api-1"), "{screen}");
    assert!(rows[17].contains("08:00:05 api-1"), "{screen}");
    assert!(rows[19].contains("END"), "{screen}");
}

/// The `:` command line takes the status row at the bottom, the Tab
/// candidates show above it, and the cursor is drawn on its character.
#[test]
fn command_prompt_at_the_bottom_80x24() {
    let theme = Theme::shipped("default").unwrap();
    let mut s = state_for(Scenario::OomCrashloop);
    key(&mut s, ':');
    key(&mut s, 't');
    update(
        &mut s,
        Msg::Key(KeyChord::new(KeyCode::Tab, KeyModifiers::NONE)),
    );
    let buf = draw(&s, &theme, 80, 24);
    insta::assert_snapshot!(text(&buf));
    assert_eq!(
        find(&buf, ":t█"),
        Some((0, 23)),
        "the command line is the last row"
    );
    assert_eq!(
        find(&buf, " tasks  theme"),
        Some((0, 22)),
        "candidates above it"
    );
    let hint = &buf[(1, 22)];
    assert_eq!(hint.fg, colour(theme.style(Slot::Hint).fg));

    // Moved left, the cursor is on the `t`, reversed.
    update(
        &mut s,
        Msg::Key(KeyChord::new(KeyCode::Left, KeyModifiers::NONE)),
    );
    let buf = draw(&s, &theme, 80, 24);
    let cell = &buf[(1, 23)];
    assert_eq!(cell.symbol(), "t");
    assert!(
        cell.modifier.contains(ratatui::style::Modifier::REVERSED),
        "{cell:?}"
    );
    assert_eq!(buf[(2, 23)].symbol(), " ", "no block at the end now");
}

/// The help lists the new keys and every command with its argument.
#[test]
fn help_lists_the_commands_and_prompt_keys() {
    let mut s = state_for(Scenario::BadDeploy);
    key(&mut s, '?');
    let buf = draw(&s, &Theme::shipped("default").unwrap(), 100, 140);
    let screen = text(&buf);
    for needle in [
        "commands (after :, tab completes)",
        ":pods",
        ":ctx [NAME]",
        ":theme NAME",
        ":q ",
        "Copy the selected object's name",
        "Recall the previous entry of this prompt's history",
    ] {
        assert!(screen.contains(needle), "{needle} missing:\n{screen}");
    }
}

/// An action run from a runbook step marks the step with its result.
#[test]
fn runbook_action_gets_a_done_mark_with_its_result() {
    use opsdeck::core::{Effect, Layer};
    use opsdeck::domain::ChangeOutcome;
    let mut s = state_for(Scenario::BadDeploy);
    key(&mut s, '4');
    key(&mut s, ']');
    let effects = update(
        &mut s,
        Msg::Key(KeyChord::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let [Effect::CheckChange { id, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    update(
        &mut s,
        Msg::ChangeChecked {
            id: *id,
            allowed: Ok(()),
            preview: Ok(None),
        },
    );
    for c in "api".chars() {
        key(&mut s, c);
    }
    let effects = update(
        &mut s,
        Msg::Key(KeyChord::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let [Effect::RunChange { id, .. }] = effects.as_slice() else {
        panic!("{effects:?}")
    };
    update(
        &mut s,
        Msg::ChangeFinished {
            id: *id,
            result: Ok(ChangeOutcome {
                summary: "rolled back deployment shop/api to revision 2".into(),
                details: Vec::new(),
            }),
        },
    );
    assert!(s.layer.is_none() || !matches!(s.layer, Some(Layer::Confirm(_))));
    let later = s.now + Duration::from_secs(65);
    update(&mut s, Msg::Tick(later));
    let screen = text(&draw(&s, &Theme::shipped("default").unwrap(), 160, 48));
    assert!(
        screen.contains("✓ done 65s ago: rolled back deployment shop/api to revision 2"),
        "{screen}"
    );
    assert!(
        screen.contains("✓ 2. Roll back to the previous revision"),
        "{screen}"
    );
}

/// READY is as wide as its widest value: 20000/20000 is never cut, and a
/// folded group says how many members it holds.
#[test]
fn workloads_ready_column_fits_large_counts_and_folded_groups_count_members() {
    use opsdeck::domain::{Health, Workload, WorkloadKind, WorkloadRef};
    let keymap = Keymap::shipped("default").unwrap();
    let mut s = State::new(keymap, sim_target("test"), t0());
    let mut rows = vec![Workload {
        id: WorkloadRef::new(WorkloadKind::Deployment, "shop", "api"),
        status: "Available".into(),
        ready: 20000,
        desired: 20000,
        restarts: 0,
        oom_killed: false,
        health: Health::Ok,
        reason: None,
        owner: None,
        revision: Some(7),
        created: t0(),
        uid: None,
        image: Some("registry.example.com/shop/api:1.9.0".into()),
    }];
    for i in 0..3 {
        let mut pod = rows[0].clone();
        pod.id = WorkloadRef::new(WorkloadKind::Pod, "shop", format!("api-{i}"));
        pod.ready = 1;
        pod.desired = 1;
        pod.owner = Some("api".into());
        rows.push(pod);
    }
    update(&mut s, Msg::Workloads(rows));
    key(&mut s, '1');
    let theme = Theme::shipped("default").unwrap();
    let screen = text(&draw(&s, &theme, 80, 24));
    assert!(screen.contains("20000/20000"), "{screen}");
    assert!(screen.contains("└ pod"), "{screen}");
    key(&mut s, 'c');
    let screen = text(&draw(&s, &theme, 160, 48));
    assert!(screen.contains("▸ shop/api (+3)"), "{screen}");
    assert!(!screen.contains("└ pod"), "{screen}");
    // Wide enough, the revision and last reason columns show.
    let wide = text(&draw(&s, &theme, 200, 60));
    assert!(
        wide.contains("REV") && wide.contains("LAST REASON"),
        "{wide}"
    );
    // Zoomed, the images too.
    assert!(!wide.contains("IMAGE"), "{wide}");
    key(&mut s, 'z');
    let zoomed = text(&draw(&s, &theme, 200, 60));
    assert!(zoomed.contains("IMAGE"), "{zoomed}");
    assert!(
        zoomed.contains("registry.example.com/shop/api:1.9.0"),
        "{zoomed}"
    );
}

// ---- Detail views -------------------------------------------------------

fn kube_fixture<T: serde::de::DeserializeOwned>(name: &str) -> T {
    let path = format!("{}/tests/fixtures/kube/{name}", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn fixture_now() -> SystemTime {
    humantime::parse_rfc3339("2026-11-23T10:00:00Z").unwrap()
}

fn events_for(kind: &str, name: &str) -> Vec<k8s_openapi::api::core::v1::Event> {
    serde_json::from_value(serde_json::json!([
        {"metadata": {"name": format!("{name}.1"), "namespace": "shop"},
         "involvedObject": {"kind": kind, "name": name, "namespace": "shop"},
         "type": "Normal", "reason": "Pulled", "count": 1,
         "message": "Container image \"registry.example.com/shop/worker:2.4.1\" already present on machine",
         "lastTimestamp": "2026-11-23T09:51:00Z"},
        {"metadata": {"name": format!("{name}.2"), "namespace": "shop"},
         "involvedObject": {"kind": kind, "name": name, "namespace": "shop"},
         "type": "Warning", "reason": "BackOff", "count": 14,
         "message": "Back-off restarting failed container worker in pod \u{1b}[31mworker\u{1b}[0m",
         "lastTimestamp": "2026-11-23T09:58:00Z"}
    ]))
    .unwrap()
}

/// A state at `w`x`h` with `target`'s detail view open showing `detail`.
fn with_detail(
    mut s: State,
    w: u16,
    h: u16,
    target: opsdeck::domain::DetailTarget,
    detail: Result<opsdeck::domain::Detail, String>,
) -> State {
    update(&mut s, Msg::Resize(w, h));
    let effects = opsdeck::core::detail::open(&mut s, target);
    let [opsdeck::core::Effect::Describe { id, .. }] = effects[..] else {
        panic!("{effects:?}")
    };
    update(&mut s, Msg::Described { id, result: detail });
    s
}

fn pod_state(w: u16, h: u16) -> State {
    use k8s_openapi::api::core::v1::Pod;
    use opsdeck::domain::{DetailTarget, WorkloadKind, WorkloadRef};
    let pod: Pod = kube_fixture("pod_crashloop_oom.json");
    let rss: k8s_openapi::List<k8s_openapi::api::apps::v1::ReplicaSet> =
        kube_fixture("replicasets_api.json");
    let detail = opsdeck::kube::convert::detail::pod_detail(
        &pod,
        &rss.items,
        &events_for("Pod", "worker-5b6c7d8e9f-k4m2p"),
        fixture_now(),
    );
    with_detail(
        state_for(Scenario::OomCrashloop),
        w,
        h,
        DetailTarget::Workload(WorkloadRef::new(
            WorkloadKind::Pod,
            "shop",
            "worker-5b6c7d8e9f-k4m2p",
        )),
        Ok(detail),
    )
}

fn deployment_state(w: u16, h: u16) -> State {
    use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
    use opsdeck::domain::{DetailTarget, WorkloadKind, WorkloadRef};
    let d: Deployment = kube_fixture("deployment_rolling.json");
    let rss: k8s_openapi::List<ReplicaSet> = kube_fixture("replicasets_api.json");
    let detail = opsdeck::kube::convert::detail::deployment_detail(
        &d,
        &rss.items,
        &[],
        &events_for("Deployment", "api"),
        fixture_now(),
    );
    with_detail(
        state_for(Scenario::BadDeploy),
        w,
        h,
        DetailTarget::Workload(WorkloadRef::new(WorkloadKind::Deployment, "shop", "api")),
        Ok(detail),
    )
}

#[test]
fn pod_detail_80x24_and_160x48() {
    let theme = Theme::shipped("default").unwrap();
    let small = text(&draw(&pod_state(80, 24), &theme, 80, 24));
    assert!(small.contains("pod worker-5b6c7d8e9f-k4m2p"), "{small}");
    assert!(small.contains("Container worker"), "{small}");
    insta::assert_snapshot!("pod_detail_80x24", small);
    let s = pod_state(160, 48);
    let buf = draw(&s, &theme, 160, 48);
    let large = text(&buf);
    for want in [
        "OOMKilled, exit code 137",
        "Deployment worker",
        "BackOff ×14",
        "Conditions",
    ] {
        assert!(large.contains(want), "{want}: {large}");
    }
    // The event's escape sequence is gone, not drawn.
    assert!(!large.contains('\u{1b}'));
    insta::assert_snapshot!("pod_detail_160x48", large);
    let (x, y) = find(&buf, "Warning BackOff").expect("warning event");
    assert_eq!(buf[(x, y)].style().fg, theme.style(Slot::HealthWarn).fg);
}

#[test]
fn deployment_detail_80x24_and_160x48() {
    let theme = Theme::shipped("default").unwrap();
    let small = text(&draw(&deployment_state(80, 24), &theme, 80, 24));
    assert!(small.contains("deploy shop/api"), "{small}");
    assert!(small.contains("rev 2 (current)"), "{small}");
    insta::assert_snapshot!("deployment_detail_80x24", small);
    let large = text(&draw(&deployment_state(160, 48), &theme, 160, 48));
    assert!(large.contains("rev 1"), "{large}");
    assert!(large.contains("api-7c9d8f6b5"), "{large}");
    insta::assert_snapshot!("deployment_detail_160x48", large);
}

#[test]
fn yaml_view_with_search_80x24() {
    let theme = Theme::shipped("default").unwrap();
    let mut s = pod_state(80, 24);
    key(&mut s, 'y');
    for c in "/restartCount".chars() {
        key(&mut s, c);
    }
    update(
        &mut s,
        Msg::Key(KeyChord::new(KeyCode::Enter, KeyModifiers::NONE)),
    );
    let buf = draw(&s, &theme, 80, 24);
    let screen = text(&buf);
    assert!(screen.contains("› YAML"), "{screen}");
    assert!(!screen.contains("managedFields"), "{screen}");
    assert!(screen.contains("restartCount"), "{screen}");
    assert!(screen.contains("(1 of 1)"), "{screen}");
    insta::assert_snapshot!("yaml_view_80x24", screen);
    let (x, y) = find(&buf, "restartCount").unwrap();
    assert_eq!(buf[(x, y)].style().bg, theme.style(Slot::SearchMatch).bg);
}

#[test]
fn a_failed_describe_shows_its_error_80x24() {
    use opsdeck::domain::{DetailTarget, WorkloadKind, WorkloadRef};
    let s = with_detail(
        state_for(Scenario::BadDeploy),
        80,
        24,
        DetailTarget::Workload(WorkloadRef::new(WorkloadKind::Deployment, "shop", "api")),
        Err("unreachable: get deployment shop/api: connection refused".into()),
    );
    let screen = text(&draw(&s, &Theme::shipped("default").unwrap(), 80, 24));
    assert!(
        screen.contains("could not fetch: unreachable: get deployment shop/api"),
        "{screen}"
    );
}

fn session_state(w: u16, h: u16) -> State {
    let mut s = state_for(Scenario::DbConnections);
    update(&mut s, Msg::Resize(w, h));
    key(&mut s, '5');
    // The longest-running session: the pane sorts by running time.
    key(&mut s, 'd');
    s
}

#[test]
fn database_session_detail_80x24_and_160x48() {
    let theme = Theme::shipped("default").unwrap();
    let s = session_state(80, 24);
    assert!(s.detail.is_open());
    let small = text(&draw(&s, &theme, 80, 24));
    assert!(small.contains("session orders-db/"), "{small}");
    assert!(small.contains("Query"), "{small}");
    insta::assert_snapshot!("session_detail_80x24", small);
    let large = text(&draw(&session_state(160, 48), &theme, 160, 48));
    assert!(large.contains("Blocking chain"), "{large}");
    insta::assert_snapshot!("session_detail_160x48", large);
}

#[test]
fn alarm_rows_show_their_state_word_not_a_number() {
    use opsdeck::domain::{MetricSeries, Point};
    let mut s = state_for(Scenario::BadDeploy);
    let alarm = |name: &str, level: f64| MetricSeries {
        key: format!("alarm.{name}"),
        name: format!("alarm {name}"),
        unit: "state".into(),
        points: vec![Point {
            time: s.now,
            value: level,
        }],
        warning: Some(1.0),
        critical: Some(2.0),
        lower_is_worse: false,
    };
    let series = vec![
        alarm("checkout-5xx-high", 2.0),
        alarm("queue-depth", 1.0),
        alarm("p99", 0.0),
    ];
    update(&mut s, Msg::Metrics(series));
    let theme = Theme::shipped("default").unwrap();
    for (w, h) in [(80, 24), (160, 48)] {
        update(&mut s, Msg::Resize(w, h));
        let buf = draw(&s, &theme, w, h);
        let screen = text(&buf);
        assert!(!screen.contains("2 state"), "{screen}");
        let (x, y) = find(&buf, "ALARM").expect("ALARM");
        assert_eq!(buf[(x, y)].style().fg, theme.style(Slot::HealthCritical).fg);
        assert!(find(&buf, "INSUFFICIENT_DATA").is_some(), "{screen}");
        let ok = find_below(&buf, "alarm p99", 0).expect("ok row");
        let row: String = (ok.0..w).map(|x| buf[(x, ok.1)].symbol()).collect();
        let cell = row.split('│').next().unwrap_or_default();
        assert!(cell.trim_end().ends_with(" OK"), "{row}");
    }
}

/// ECS service and task detail from the simulated cluster (ecs-unhealthy,
/// 12 minutes in): deployments with counts and rollout state, target health
/// per target with its reason, the task definition, the events; a task's
/// status, health and stop reason.
#[test]
fn ecs_service_and_task_detail_80x24_and_160x48() {
    use opsdeck::domain::{DetailTarget, WorkloadKind, WorkloadRef};
    let mut world = World::new(Scenario::EcsUnhealthy, 42, t0());
    world.step(Duration::from_secs(12 * 60));
    let svc = DetailTarget::Workload(WorkloadRef::new(
        WorkloadKind::EcsService,
        "prod",
        "checkout",
    ));
    let detail = world.describe_ecs(&svc).expect("the service");
    let text_of = |d: &opsdeck::domain::Detail| d.plain_lines().join("\n");
    let all = text_of(&detail);
    for needle in [
        "task definition",
        "checkout:",
        "PRIMARY",
        "Target health (checkout-tg)",
        "autoscaling",
        "Events (newest first)",
    ] {
        assert!(all.contains(needle), "{needle} missing:\n{all}");
    }
    assert!(
        all.contains("Target.ResponseCodeMismatch") || all.contains("no targets registered"),
        "target health says why:\n{all}"
    );
    assert!(
        all.contains("Stopped tasks (newest first)") && all.contains("health checks"),
        "stopped tasks say why they stopped:\n{all}"
    );
    let small = with_detail(
        state_for(Scenario::EcsUnhealthy),
        80,
        24,
        svc.clone(),
        Ok(detail.clone()),
    );
    let theme = Theme::shipped("default").unwrap();
    let screen = text(&draw(&small, &theme, 80, 24));
    assert!(screen.contains("svc prod/checkout"), "{screen}");
    insta::assert_snapshot!("ecs_service_detail_80x24", screen);
    let big = with_detail(
        state_for(Scenario::EcsUnhealthy),
        160,
        48,
        svc,
        Ok(detail.clone()),
    );
    insta::assert_snapshot!(
        "ecs_service_detail_160x48",
        text(&draw(&big, &theme, 160, 48))
    );

    // A task of the service, from its links.
    let Some(task) = detail
        .links
        .iter()
        .find(|l| matches!(l, DetailTarget::Workload(w) if w.kind == WorkloadKind::EcsTask))
        .cloned()
    else {
        panic!("the service links its tasks")
    };
    let task_detail = world.describe_ecs(&task).expect("the task");
    let all = text_of(&task_detail);
    for needle in [
        "last status",
        "desired status",
        "health",
        "task definition",
        "arn",
    ] {
        assert!(all.contains(needle), "{needle} missing:\n{all}");
    }
    let small = with_detail(
        state_for(Scenario::EcsUnhealthy),
        80,
        24,
        task,
        Ok(task_detail),
    );
    insta::assert_snapshot!("ecs_task_detail_80x24", text(&draw(&small, &theme, 80, 24)));
}

/// An `opsdeck aws` session without credentials: the panes say what is
/// wrong and what to do, in full, not "waiting for workloads…".
#[test]
fn missing_aws_credentials_are_explained_inside_the_panes_80x24() {
    let keymap = Keymap::shipped("default").unwrap();
    let target = opsdeck::domain::Target::Aws {
        profile: "prod".into(),
        region: "eu-west-1".into(),
    };
    let mut s = State::new(keymap, target, t0());
    let error = "forbidden: list clusters: no AWS credentials found: run `aws sso login \
                 --profile prod` (or `aws configure`), or set AWS_PROFILE to a profile with \
                 credentials, or set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (cause: \
                 dispatch failure: other: no providers in chain provided credentials)";
    for feed in [opsdeck::core::Feed::Workloads, opsdeck::core::Feed::Metrics] {
        update(
            &mut s,
            Msg::FeedFailed {
                feed,
                source: "ecs".into(),
                error: error.into(),
            },
        );
    }
    let theme = Theme::shipped("default").unwrap();
    let buf = draw(&s, &theme, 80, 24);
    let screen = text(&buf);
    assert!(!screen.contains("waiting for workloads"), "{screen}");
    // The whole message, wrapped: its end is on screen too.
    assert!(screen.contains("provided credentials)"), "{screen}");
    let (x, y) = find(&buf, "cannot load ecs: forbidden").unwrap();
    assert_eq!(buf[(x, y)].fg, colour(theme.style(Slot::Danger).fg));
    insta::assert_snapshot!(screen);
}

/// A CloudWatch alarm's detail (as `opsdeck aws` builds it from
/// DescribeAlarms and DescribeAlarmHistory) at 80x24 and 160x48; and an ECS
/// task's at 160x48.
#[test]
fn alarm_and_task_detail_80x24_and_160x48() {
    use aws_sdk_cloudwatch::primitives::DateTime;
    use aws_sdk_cloudwatch::types::{
        AlarmHistoryItem, ComparisonOperator, MetricAlarm, StateValue, Statistic,
    };
    use opsdeck::domain::{DetailTarget, WorkloadKind, WorkloadRef};
    let alarm = MetricAlarm::builder()
        .alarm_name("checkout-5xx-high")
        .state_value(StateValue::Alarm)
        .state_reason("Threshold Crossed: 3 out of the last 3 datapoints [12.5, 9.1, 7.7] were greater than or equal to the threshold (5.0)")
        .state_updated_timestamp(DateTime::from_secs(1_800_000_000))
        .namespace("AWS/ApplicationELB")
        .metric_name("HTTPCode_Target_5XX_Count")
        .statistic(Statistic::Sum)
        .threshold(5.0)
        .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
        .evaluation_periods(3)
        .period(60)
        .build();
    let history = vec![
        AlarmHistoryItem::builder()
            .timestamp(DateTime::from_secs(1_800_000_000))
            .history_summary("Alarm updated from OK to ALARM")
            .build(),
    ];
    let detail = opsdeck::aws::describe::alarm_detail(&alarm, Ok(history));
    let target = DetailTarget::Alarm {
        name: "checkout-5xx-high".into(),
    };
    let theme = Theme::shipped("default").unwrap();
    for (w, h) in [(80, 24), (160, 48)] {
        let s = with_detail(
            state_for(Scenario::EcsUnhealthy),
            w,
            h,
            target.clone(),
            Ok(detail.clone()),
        );
        let screen = text(&draw(&s, &theme, w, h));
        for needle in [
            "alarm checkout-5xx-high",
            "ALARM",
            "Threshold Crossed",
            "from OK to ALARM",
        ] {
            assert!(
                screen.contains(needle),
                "{needle} missing at {w}x{h}:\n{screen}"
            );
        }
        insta::assert_snapshot!(format!("alarm_detail_{w}x{h}"), screen);
    }
    let mut world = World::new(Scenario::EcsUnhealthy, 42, t0());
    world.step(Duration::from_secs(12 * 60));
    let svc = DetailTarget::Workload(WorkloadRef::new(
        WorkloadKind::EcsService,
        "prod",
        "checkout",
    ));
    let task = world.describe_ecs(&svc).unwrap().links[0].clone();
    let task_detail = world.describe_ecs(&task).unwrap();
    let s = with_detail(
        state_for(Scenario::EcsUnhealthy),
        160,
        48,
        task,
        Ok(task_detail),
    );
    let screen = text(&draw(&s, &theme, 160, 48));
    assert!(screen.contains("stopped reason"), "{screen}");
    insta::assert_snapshot!("ecs_task_detail_160x48", screen);
}

/// Sessions the backend could not read are counted where the pane's
/// numbers are (they still hold connections), not silently dropped.
#[test]
fn unreadable_database_rows_are_counted_in_the_pane() {
    let mut s = state_for(Scenario::DbConnections);
    let mut dbs = s.metrics.databases.clone();
    assert_eq!(dbs.len(), 1);
    let listed = dbs[0].sessions.len();
    dbs[0].unreadable = 2;
    update(&mut s, Msg::Databases(dbs));
    key(&mut s, '5');
    let theme = Theme::shipped("default").unwrap();
    let buf = draw(&s, &theme, 80, 24);
    let screen = text(&buf);
    assert!(
        screen.contains("5 Database 97 sessions · 2 rows u"),
        "{screen}"
    );
    let (x, y) = find(&buf, "2 rows unreadable · active 67").expect("the count under the database");
    assert!(y > find(&buf, "orders-db").unwrap().1, "{screen}");
    assert_eq!(buf[(x, y)].style().fg, theme.style(Slot::HealthWarn).fg);
    assert_ne!(
        theme.style(Slot::HealthWarn).fg,
        theme.style(Slot::Hint).fg,
        "the count would not stand out"
    );
    // The two still hold connections.
    assert!(
        screen.contains(&format!("{}/100 connections", listed + 2)),
        "{screen}"
    );
}

/// A database that shares its server with others lists only its own
/// sessions, but its gauge counts every connection against max_connections
/// and says how many belong to the other databases.
#[test]
fn connections_to_other_databases_count_against_max_connections() {
    let mut s = state_for(Scenario::DbConnections);
    let mut dbs = s.metrics.databases.clone();
    let listed = dbs[0].sessions.len();
    assert_eq!(listed, 97);
    dbs[0].other_databases = 2;
    update(&mut s, Msg::Databases(dbs));
    key(&mut s, '5');
    let theme = Theme::shipped("default").unwrap();
    let buf = draw(&s, &theme, 160, 48);
    let screen = text(&buf);
    let (x, y) = find(&buf, "99/100 connections (99%, 2 on other databases)").expect(&screen);
    assert_eq!(buf[(x, y)].style().fg, theme.style(Slot::HealthCritical).fg);
    assert!(screen.contains("97 sessions"), "{screen}");
}

/// The Metrics pane before any answer waits; once a Kubernetes cluster has
/// answered with no series (no metrics-server), it says so, in full.
#[test]
fn an_empty_metrics_answer_is_explained_not_waited_for() {
    let target = opsdeck::domain::Target::Kube {
        context: "prod".into(),
        namespace: Some("shop".into()),
    };
    let mut s = State::new(Keymap::shipped("default").unwrap(), target, t0());
    let theme = Theme::shipped("default").unwrap();
    let screen = text(&draw(&s, &theme, 80, 24));
    assert!(screen.contains("waiting for metrics…"), "{screen}");
    update(&mut s, Msg::Metrics(Vec::new()));
    let screen = text(&draw(&s, &theme, 80, 24));
    assert!(!screen.contains("waiting for metrics"), "{screen}");
    let pane: String = screen
        .lines()
        .filter_map(|l| l.split("││").nth(1))
        .map(|l| l.trim_end_matches('│'))
        .collect::<Vec<_>>()
        .join(" ");
    let pane = pane.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        pane.contains("no pod metrics: the cluster serves no metrics.k8s.io (is metrics-server installed?), or no pod here reports any"),
        "{screen}"
    );
}
