//! Logs are untrusted input: whatever bytes a log line holds, what opsdeck
//! hands to the terminal carries no escape sequence, control character or
//! bidi override, and rendering never panics.
//!
//! Checked where it matters: the sanitiser's output, the spans the Logs
//! pane builds from a line (before ratatui sees them: its buffer drops
//! control characters by itself, so screen cells alone cannot show a
//! sanitiser regression, only the parameters it leaves behind), and the
//! bytes the real binary writes to a pseudo-terminal while it shows hostile
//! CloudWatch log events (moto_server; needs `./scripts/moto-venv`).

#[path = "support/moto.rs"]
mod moto;
#[path = "support/pty.rs"]
mod pty;

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
/// is in any cell (a backstop: ratatui drops controls from cells itself);
/// return the zoomed screen's text.
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

/// What a sequence of [`nasty`] leaves behind when it is not removed whole
/// (ratatui drops the ESC, the rest would show).
const RESIDUES: [&str; 5] = ["[31m", "PWNED", "[2J", "]8;;", "+q"];

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
        // Sequences are removed whole: no parameters or payloads left behind.
        for residue in RESIDUES {
            prop_assert!(!out.contains(residue), "{residue:?} left in {out:?}");
        }
        let out = sanitize::visible(&s);
        prop_assert!(!out.chars().any(forbidden), "{out:?}");
    }

    /// The spans of the Logs pane, in every display mode, before ratatui:
    /// no control character, no bidi override, no sequence's residue.
    #[test]
    fn log_rows_are_built_from_sanitised_text(
        lines in prop::collection::vec(arb_line(), 0..10),
        texts in prop::collection::vec(nasty(), 1..10),
        sources in prop::collection::vec(nasty(), 1..4),
        search in nasty(),
        pretty in any::<bool>(),
        wrap in any::<bool>(),
        timestamps in any::<bool>(),
        width in 10usize..200,
    ) {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
        let target = opsdeck::domain::Target::Kube {
            context: "c".into(),
            namespace: None,
        };
        let mut s = State::new(Keymap::shipped("default").unwrap(), target, now);
        s.logs.json_pretty = pretty;
        s.logs.wrap = wrap;
        s.logs.timestamps = timestamps;
        s.logs.search = search;
        let theme = Theme::shipped("default").unwrap();
        let nasty_lines = texts.iter().enumerate().map(|(i, text)| LogLine {
            source: sources[i % sources.len()].clone(),
            time: now,
            level: Level::sniff(text),
            text: text.clone(),
        });
        for (i, line) in nasty_lines.enumerate() {
            let rows = opsdeck::panes::logs::display_rows(&line, &s, &theme, width);
            prop_assert!(!rows.is_empty());
            let shown: String = rows
                .iter()
                .flat_map(|r| r.spans.iter().map(|sp| sp.content.to_string()))
                .collect();
            prop_assert!(!shown.chars().any(forbidden), "line {i}: {shown:?}");
            for residue in RESIDUES {
                prop_assert!(!shown.contains(residue), "{residue:?} left in {shown:?}");
            }
        }
        for line in &lines {
            for row in opsdeck::panes::logs::display_rows(line, &s, &theme, width) {
                for span in &row.spans {
                    prop_assert!(!span.content.chars().any(forbidden), "{:?}", span.content);
                }
            }
        }
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
        for residue in RESIDUES {
            prop_assert!(!screen.contains(residue), "{residue:?} left on screen:\n{screen}");
        }
    }
}

/// Log events whose text carries a window-title OSC, a hyperlink, a screen
/// clear, a bell, a C1 CSI and a bidi override: `opsdeck aws` tails them into
/// the Logs pane. The bytes written to the terminal hold none of those
/// sequences nor their payloads, and the text around them shows.
#[test]
fn hostile_log_events_never_reach_the_terminal() {
    use aws_sdk_cloudwatchlogs::types::InputLogEvent;

    let moto = moto::Moto::start();
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let events = [
        "title\u{1b}]0;PWNED\u{7}one",
        "link\u{1b}]8;;http://evil.example/\u{1b}\\two\u{1b}]8;;\u{1b}\\",
        "clear\u{1b}[2J\u{1b}[Hthree",
        "bell\u{7}four",
        "csi\u{9b}31mfive",
        "bidi \u{202e}six",
    ];
    rt.block_on(async {
        let logs = aws_sdk_cloudwatchlogs::Client::new(&moto.sdk_config().await);
        logs.create_log_group()
            .log_group_name("/app/hostile")
            .send()
            .await
            .expect("create log group");
        logs.create_log_stream()
            .log_group_name("/app/hostile")
            .log_stream_name("web/1")
            .send()
            .await
            .expect("create log stream");
        let now_ms = SystemTime::now()
            .duration_since(SystemTime::UNIX_EPOCH)
            .expect("clock")
            .as_millis() as i64;
        let mut put = logs
            .put_log_events()
            .log_group_name("/app/hostile")
            .log_stream_name("web/1");
        for (i, text) in events.iter().enumerate() {
            put = put.log_events(
                InputLogEvent::builder()
                    .timestamp(now_ms - 30_000 + i as i64 * 100)
                    .message(*text)
                    .build()
                    .expect("event"),
            );
        }
        put.send().await.expect("put log events");
    });
    let url = moto.url();
    let mut s = pty::Session::start_with_env(
        &[
            "aws",
            "--region",
            "us-east-1",
            "--log-group",
            "/app/hostile",
        ],
        &[
            ("AWS_ENDPOINT_URL", url.as_str()),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test"),
            ("AWS_CONFIG_FILE", "/nonexistent/aws/config"),
            (
                "AWS_SHARED_CREDENTIALS_FILE",
                "/nonexistent/aws/credentials",
            ),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    let t = Duration::from_secs(40);
    // Zoom the Logs pane so whole lines show; the text around every
    // sequence arrives, joined where the sequence was.
    s.wait_for("titleone", t);
    s.send("2z");
    for shown in [
        "titleone",
        "linktwo",
        "clearthree",
        "four",
        "csifive",
        "six",
    ] {
        s.wait_for(shown, t);
    }
    let raw = s.raw();
    let find = |needle: &[u8]| raw.windows(needle.len()).position(|w| w == needle);
    // The bell and the override became the visible placeholder (which the
    // emulator's screen text leaves out, so it is looked for in the bytes).
    for placeholder in ["\u{fffd}four", "\u{fffd}six"] {
        assert!(
            find(placeholder.as_bytes()).is_some(),
            "{placeholder:?} not written"
        );
    }
    for (what, needle) in [
        ("an OSC", &b"\x1b]"[..]),
        ("a bell", b"\x07"),
        ("a screen clear", b"\x1b[2J"),
        ("a C1 CSI", "\u{9b}".as_bytes()),
        ("a bidi override", "\u{202e}".as_bytes()),
        ("the title's payload", b"PWNED"),
        ("the link's target", b"evil.example"),
    ] {
        assert!(
            find(needle).is_none(),
            "{what} reached the terminal: {:?}",
            String::from_utf8_lossy(&raw[find(needle).unwrap_or(0).saturating_sub(80)..])
                .chars()
                .take(200)
                .collect::<String>()
        );
    }
    s.send("q");
    assert!(s.wait_exit(t).success());
}
