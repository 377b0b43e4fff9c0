//! Logs are untrusted input: whatever bytes a log line holds, nothing that
//! reaches a screen cell is ESC or another control character, and rendering
//! never panics.

use std::time::{Duration, SystemTime};

use opsdeck::core::{Msg, State, update};
use opsdeck::domain::{Health, Level, LogLine, Workload, WorkloadKind, WorkloadRef};
use opsdeck::keymap::Keymap;
use opsdeck::sanitize;
use opsdeck::theme::Theme;
use proptest::prelude::*;
use ratatui::Terminal;
use ratatui::backend::TestBackend;

fn forbidden(c: char) -> bool {
    c.is_control()
        || matches!(c, '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{200E}' | '\u{200F}' | '\u{061C}')
}

/// Render every pane (grid and zoomed logs); assert no forbidden character
/// is in any cell; return the zoomed screen's text.
fn render_all(
    lines: Vec<LogLine>,
    name: String,
    pretty: bool,
    search: String,
    w: u16,
    h: u16,
) -> String {
    let mut screen = String::new();
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let target = opsdeck::domain::Target::Kube {
        context: name.clone(),
        namespace: None,
    };
    let mut s = State::new(Keymap::shipped("default").unwrap(), target, now);
    update(
        &mut s,
        Msg::Workloads(vec![Workload {
            id: WorkloadRef::new(WorkloadKind::Pod, name.clone(), name.clone()),
            status: name.clone(),
            ready: 0,
            desired: 1,
            restarts: 9,
            oom_killed: true,
            health: Health::Critical,
            reason: Some(name.clone()),
            owner: None,
            revision: None,
            created: now,
            uid: None,
            image: None,
        }]),
    );
    update(&mut s, Msg::Logs(lines));
    update(
        &mut s,
        Msg::FeedFailed {
            feed: opsdeck::core::Feed::Metrics,
            source: "cloudwatch".into(),
            error: name,
        },
    );
    s.logs.json_pretty = pretty;
    s.logs.search = search;
    for zoom in [false, true] {
        s.zoom = zoom;
        s.focus = opsdeck::core::Pane::LOGS;
        let mut term = Terminal::new(TestBackend::new(w, h)).unwrap();
        term.draw(|f| opsdeck::ui::render(f, &s, &Theme::shipped("default").unwrap()))
            .unwrap();
        screen.clear();
        for (i, cell) in term.backend().buffer().content().iter().enumerate() {
            let sym = cell.symbol();
            assert!(
                !sym.chars().any(forbidden),
                "control character on screen: {sym:?}"
            );
            screen.push_str(sym);
            if (i + 1) % w as usize == 0 {
                screen.push('\n');
            }
        }
    }
    screen
}

fn arb_line() -> impl Strategy<Value = LogLine> {
    (
        prop::collection::vec(any::<u8>(), 0..300),
        prop::collection::vec(any::<u8>(), 0..40),
        0..5u8,
    )
        .prop_map(|(text, source, level)| LogLine {
            source: String::from_utf8_lossy(&source).into_owned(),
            time: SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000),
            level: [
                Level::Trace,
                Level::Debug,
                Level::Info,
                Level::Warn,
                Level::Error,
            ][level as usize],
            text: String::from_utf8_lossy(&text).into_owned(),
        })
}

/// Text that looks like what an attacker or a broken app would print:
/// escape sequences, OSC titles and links, C1 controls, bidi overrides, JSON.
fn nasty() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        Just("\x1b[31m".to_string()),
        Just("\x1b]0;PWNED\x07".to_string()),
        Just("\x1b]8;;http://x\x1b\\".to_string()),
        Just("\x1b[2J\x1b[H".to_string()),
        Just("\x1bP+q\x1b\\".to_string()),
        Just("\u{9b}6n".to_string()),
        Just("\u{202e}".to_string()),
        Just("\r\n\t\x08\x7f".to_string()),
        Just("{\"msg\":\"\\u001b[1mhi\",\"level\":\"error\"}".to_string()),
        "[a-z ]{0,8}",
        any::<char>().prop_map(|c| c.to_string()),
    ];
    prop::collection::vec(piece, 0..20).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn sanitised_text_is_clean(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let s = String::from_utf8_lossy(&bytes);
        let out = sanitize::line(&s);
        prop_assert!(!out.chars().any(forbidden), "{out:?}");
        prop_assert!(sanitize::is_clean(&out));
    }

    #[test]
    fn nasty_text_is_clean(s in nasty()) {
        let out = sanitize::line(&s);
        prop_assert!(!out.chars().any(forbidden), "{out:?}");
        let out = sanitize::visible(&s);
        prop_assert!(!out.chars().any(forbidden), "{out:?}");
    }

    /// What configuration problems echo from files is clean too, and a
    /// problem's text is.
    #[test]
    fn visible_text_is_clean(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let s = String::from_utf8_lossy(&bytes);
        let out = sanitize::visible(&s);
        prop_assert!(sanitize::is_clean(&out), "{out:?}");
        let p = opsdeck::problem::Problem::new(s.to_string(), Some(1), Some(s.to_string()), s.to_string());
        let shown = p.to_string();
        prop_assert!(!shown.chars().any(forbidden), "{shown:?}");
    }

    #[test]
    fn arbitrary_log_bytes_never_reach_the_screen(
        lines in prop::collection::vec(arb_line(), 1..30),
        name in nasty(),
        search in nasty(),
        pretty in any::<bool>(),
        w in 20u16..200,
        h in 6u16..60,
    ) {
        render_all(lines, name, pretty, search, w, h);
    }

    #[test]
    fn nasty_log_text_never_reaches_the_screen(texts in prop::collection::vec(nasty(), 1..20), pretty in any::<bool>()) {
        let lines = texts
            .into_iter()
            .map(|text| LogLine {
                source: "api-1".into(),
                time: SystemTime::UNIX_EPOCH,
                level: Level::sniff(&text),
                text,
            })
            .collect();
        let screen = render_all(lines, "api".into(), pretty, "a".into(), 160, 48);
        // Sequences are removed whole: no parameters or payloads left behind.
        for residue in ["[31m", "PWNED", "[2J", "]8;;", "+q"] {
            prop_assert!(!screen.contains(residue), "{residue:?} left on screen:\n{screen}");
        }
    }
}
