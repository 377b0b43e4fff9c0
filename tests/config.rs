//! Themes, keymaps and config.toml: one fixture per mistake with its exact
//! message, the shipped files, and user overrides.

use std::collections::HashSet;
use std::ffi::OsStr;
use std::path::PathBuf;

use crossterm::event::{KeyCode, KeyModifiers};
use opsdeck::action::{Action, Mode};
use opsdeck::config::{self, Choice, LoadOptions, choose_theme, no_color_set, parse_config};
use opsdeck::keymap::{self, KeyChord, Keymap, KeymapLibrary, Resolved, parse_keymap, parse_seq};
use opsdeck::problem::Problem;
use opsdeck::theme::{self, Slot, Theme, ThemeLibrary, parse_theme};
use ratatui::style::{Color, Modifier};

const FIXTURES: &str = "tests/fixtures/config";

fn fixture(name: &str) -> (String, String) {
    let path = format!("{FIXTURES}/{name}");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    (path, text)
}

fn strings(problems: &[Problem]) -> Vec<String> {
    problems.iter().map(|p| p.to_string()).collect()
}

fn keymap_problems(name: &str) -> Vec<String> {
    let (path, text) = fixture(name);
    strings(&parse_keymap(&text, &path).problems)
}

fn theme_problems(name: &str) -> Vec<String> {
    let (path, text) = fixture(name);
    strings(&parse_theme(&text, &path).problems)
}

fn config_problems(name: &str) -> Vec<String> {
    let (path, text) = fixture(name);
    strings(&parse_config(&text, &path).problems)
}

fn opts_in(dir: &str) -> LoadOptions {
    LoadOptions {
        config_dir: Some(PathBuf::from(format!("{FIXTURES}/{dir}"))),
        no_color: Some(false),
        ..LoadOptions::default()
    }
}

fn key(text: &str) -> Vec<KeyChord> {
    parse_seq(text).unwrap()
}

// ---- one fixture per mistake ----

#[test]
fn keymap_unknown_action() {
    assert_eq!(
        keymap_problems("keymap_unknown_action.toml"),
        [
            r#"tests/fixtures/config/keymap_unknown_action.toml:4: logs.ctrl-x: unknown action "scrol_down""#
        ]
    );
}

#[test]
fn keymap_bad_key() {
    assert_eq!(
        keymap_problems("keymap_bad_key.toml"),
        [
            r#"tests/fixtures/config/keymap_bad_key.toml:3: global.ctrl-: bad key "ctrl-": no key after "ctrl-""#
        ]
    );
}

#[test]
fn keymap_conflict_after_normalisation() {
    assert_eq!(
        keymap_problems("keymap_conflict.toml"),
        [
            r#"tests/fixtures/config/keymap_conflict.toml:9: logs.Ctrl-D: key conflict: "ctrl-d" is bound twice in [logs] (lines 4 and 9)"#
        ]
    );
    // The later binding is kept, once.
    let (path, text) = fixture("keymap_conflict.toml");
    let mut km = Keymap::default();
    km.apply(&parse_keymap(&text, &path));
    assert_eq!(
        km.resolve(Mode::Logs, &key("ctrl-d")),
        Resolved::Actions(vec![Action::PageDown])
    );
    assert_eq!(
        km.keys_for(Mode::Logs, Action::HalfPageDown),
        Vec::<String>::new()
    );
}

#[test]
fn keymap_prefix_conflict() {
    assert_eq!(
        keymap_problems("keymap_prefix_conflict.toml"),
        [
            r#"tests/fixtures/config/keymap_prefix_conflict.toml:5: logs.g g: prefix conflict: "g" (line 3) is the start of "g g" (line 5) in [logs]"#
        ]
    );
}

#[test]
fn keymap_unknown_mode() {
    let modes: Vec<&str> = Mode::ALL.iter().map(|m| m.name()).collect();
    assert_eq!(
        keymap_problems("keymap_unknown_mode.toml"),
        [format!(
            r#"tests/fixtures/config/keymap_unknown_mode.toml:5: normal: unknown mode "normal", expected one of {}"#,
            modes.join(", ")
        )]
    );
    assert!(modes.starts_with(&["global", "workloads", "logs"]));
}

#[test]
fn keymap_wrong_type() {
    assert_eq!(
        keymap_problems("keymap_wrong_type.toml"),
        [
            "tests/fixtures/config/keymap_wrong_type.toml:3: workloads.s: expected an action name or a list of action names, found integer"
        ]
    );
}

#[test]
fn theme_unknown_slot() {
    assert_eq!(
        theme_problems("theme_unknown_slot.toml"),
        [r#"tests/fixtures/config/theme_unknown_slot.toml:5: helth.ok: unknown slot "helth.ok""#]
    );
}

#[test]
fn theme_bad_colour() {
    assert_eq!(
        theme_problems("theme_bad_colour.toml"),
        [
            r#"tests/fixtures/config/theme_bad_colour.toml:4: health.ok: bad colour "gren": expected a name (red, bright-blue), a number 0-255 or #rrggbb"#
        ]
    );
}

#[test]
fn theme_bad_modifier_keeps_the_rest_of_the_style() {
    assert_eq!(
        theme_problems("theme_bad_modifier.toml"),
        [
            r#"tests/fixtures/config/theme_bad_modifier.toml:3: selection.modifiers: bad modifier "blink": expected one of bold, dim, italic, underlined, reversed, crossed_out, slow_blink"#
        ]
    );
    let (path, text) = fixture("theme_bad_modifier.toml");
    let sel = parse_theme(&text, &path).entries["selection"];
    assert_eq!((sel.fg, sel.bg), (Some(Color::Black), Some(Color::Cyan)));
    assert_eq!(sel.add_modifier, Modifier::BOLD);
}

#[test]
fn theme_wrong_type() {
    assert_eq!(
        theme_problems("theme_wrong_type.toml"),
        [
            "tests/fixtures/config/theme_wrong_type.toml:3: border: expected a colour or a style table { fg, bg, modifiers }, found integer"
        ]
    );
}

#[test]
fn theme_inheritance_cycle() {
    let loaded = config::load(&LoadOptions {
        theme: Some("cycle_a".into()),
        ..opts_in("theme_cycle")
    });
    assert_eq!(
        strings(&loaded.problems),
        [
            "tests/fixtures/config/theme_cycle/themes/cycle_b.toml:2: inherits: inheritance cycle: cycle_a -> cycle_b -> cycle_a"
        ]
    );
    // Falls back sensibly: its own slot, then the shipped default.
    assert_eq!(loaded.theme.name, "cycle_a");
    assert_eq!(loaded.theme.style(Slot::Border).fg, Some(Color::Red));
    assert_eq!(loaded.theme.style(Slot::HealthOk).fg, Some(Color::Green));
}

#[test]
fn theme_unknown_inherits() {
    let lib = ThemeLibrary::new(Some(&PathBuf::from(format!(
        "{FIXTURES}/theme_unknown_inherits/themes"
    ))));
    let (theme, problems) = lib.resolve("orphan").unwrap();
    assert_eq!(
        strings(&problems),
        [
            r#"tests/fixtures/config/theme_unknown_inherits/themes/orphan.toml:1: inherits: unknown theme "solarised" (available: dark-256, default, high-contrast, mono, orphan)"#
        ]
    );
    assert_eq!(theme.styles, Theme::default().styles);
}

#[test]
fn config_unknown_field() {
    assert_eq!(
        config_problems("config_unknown_field.toml"),
        [
            r#"tests/fixtures/config/config_unknown_field.toml:2: colour: unknown field "colour", expected one of theme, keymap, read_only, audit_log, databases, aws"#
        ]
    );
}

#[test]
fn config_wrong_type_keeps_other_fields() {
    assert_eq!(
        config_problems("config_wrong_type.toml"),
        [
            "tests/fixtures/config/config_wrong_type.toml:2: read_only: expected true or false, found string"
        ]
    );
    let (path, text) = fixture("config_wrong_type.toml");
    assert_eq!(
        parse_config(&text, &path).config.theme.as_deref(),
        Some("default")
    );
}

#[test]
fn toml_syntax_error_has_its_line_in_every_kind_of_file() {
    let expected = "tests/fixtures/config/toml_syntax.toml:3: TOML syntax error: invalid basic string, expected `\"`";
    assert_eq!(keymap_problems("toml_syntax.toml"), [expected]);
    assert_eq!(theme_problems("toml_syntax.toml"), [expected]);
    assert_eq!(config_problems("toml_syntax.toml"), [expected]);
}

#[test]
fn unknown_theme_and_keymap_names_fall_back_to_default() {
    let loaded = config::load(&opts_in("unknown_names"));
    assert_eq!(
        strings(&loaded.problems),
        [
            r#"tests/fixtures/config/unknown_names/config.toml:2: theme: unknown theme "solarised"; using "default" (available: dark-256, default, high-contrast, mono)"#,
            r#"tests/fixtures/config/unknown_names/config.toml:3: keymap: unknown keymap "emacs"; using "default" (available: default, vim)"#,
        ]
    );
    assert_eq!(loaded.theme, Theme::default());
    assert_eq!(
        loaded.keymap.modes,
        Keymap::shipped("default").unwrap().modes
    );

    let loaded = config::load(&LoadOptions {
        theme: Some("nope".into()),
        ..opts_in("unknown_names")
    });
    assert_eq!(
        loaded.problems[0].to_string(),
        r#"command line: --theme: unknown theme "nope"; using "default" (available: dark-256, default, high-contrast, mono)"#
    );
}

// ---- shipped files ----

#[test]
fn shipped_themes_parse_cleanly_and_resolve_every_slot() {
    let lib = ThemeLibrary::new(None);
    assert_eq!(
        lib.names(),
        ["dark-256", "default", "high-contrast", "mono"]
    );
    for (name, text) in theme::SHIPPED {
        let file = parse_theme(text, &theme::shipped_file(name));
        assert_eq!(strings(&file.problems), Vec::<String>::new(), "{name}");
        let (t, problems) = lib.resolve(name).unwrap();
        assert!(problems.is_empty(), "{name}: {problems:?}");
        for slot in Slot::ALL {
            assert!(t.styles.contains_key(slot), "{name}: {}", slot.name());
        }
        assert_eq!(t.styles.len(), Slot::ALL.len());
    }
}

#[test]
fn shipped_themes_keep_important_slots_apart() {
    let pairs = [
        (Slot::Selection, Slot::Base),
        (Slot::BorderFocused, Slot::Border),
        (Slot::HealthOk, Slot::HealthWarn),
        (Slot::HealthWarn, Slot::HealthCritical),
        (Slot::HealthOk, Slot::HealthCritical),
        (Slot::LogInfo, Slot::LogWarn),
        (Slot::LogWarn, Slot::LogError),
        (Slot::SearchMatch, Slot::Base),
        (Slot::SearchMatch, Slot::Selection),
        (Slot::Danger, Slot::Base),
        (Slot::StatusReadonly, Slot::StatusBar),
        (Slot::SparkLine, Slot::SparkCritical),
        (Slot::RunbookDone, Slot::RunbookFailing),
    ];
    for (name, _) in theme::SHIPPED {
        let t = Theme::shipped(name).unwrap();
        for (a, b) in pairs {
            assert_ne!(
                t.style(a),
                t.style(b),
                "{name}: {} vs {}",
                a.name(),
                b.name()
            );
        }
    }
}

#[test]
fn mono_uses_no_colour() {
    let t = Theme::mono();
    assert_eq!(t.name, "mono");
    for (slot, style) in &t.styles {
        for c in [style.fg, style.bg] {
            assert!(
                matches!(c, None | Some(Color::Reset)),
                "{}: {c:?}",
                slot.name()
            );
        }
    }
    assert!(
        t.style(Slot::Selection)
            .add_modifier
            .contains(Modifier::REVERSED)
    );
    assert!(
        t.style(Slot::HealthCritical)
            .add_modifier
            .contains(Modifier::BOLD)
    );
}

#[test]
fn default_theme_uses_only_the_16_ansi_colours_and_no_background_on_base() {
    use Color::*;
    let ansi = [
        Black,
        Red,
        Green,
        Yellow,
        Blue,
        Magenta,
        Cyan,
        Gray,
        DarkGray,
        LightRed,
        LightGreen,
        LightYellow,
        LightBlue,
        LightMagenta,
        LightCyan,
        White,
    ];
    let t = Theme::default();
    assert_eq!(t.name, "default");
    for (slot, style) in &t.styles {
        for c in [style.fg, style.bg].into_iter().flatten() {
            assert!(ansi.contains(&c), "{}: {c:?}", slot.name());
        }
    }
    assert_eq!(t.style(Slot::Base).bg, None);
}

#[test]
fn dark_256_uses_indexed_colours_and_inherits_default() {
    let t = Theme::shipped("dark-256").unwrap();
    assert_eq!(t.style(Slot::HealthOk).fg, Some(Color::Indexed(71)));
    let file = parse_theme(theme::SHIPPED[1].1, "x");
    assert_eq!(file.inherits.map(|(n, _)| n).as_deref(), Some("default"));
}

#[test]
fn shipped_keymaps_parse_cleanly_without_conflicts() {
    for (name, text) in keymap::SHIPPED {
        let file = parse_keymap(text, &keymap::shipped_file(name));
        assert_eq!(strings(&file.problems), Vec::<String>::new(), "{name}");
        let km = Keymap::shipped(name).unwrap();
        for mode in Mode::ALL {
            let seqs: Vec<Vec<KeyChord>> = km
                .modes
                .get(&mode)
                .map(|t| t.keys().cloned().collect())
                .unwrap_or_default();
            for a in &seqs {
                for b in &seqs {
                    assert!(
                        a == b || !b.starts_with(a),
                        "{name} [{}]: {a:?} / {b:?}",
                        mode.name()
                    );
                }
            }
            // Nothing was dropped by a conflict: every line of the file is a binding.
            let written = file.bindings.iter().filter(|b| b.mode == mode).count();
            assert_eq!(seqs.len(), written, "{name} [{}]", mode.name());
        }
    }
}

#[test]
fn every_action_is_bound_in_default_and_vim() {
    for name in ["default", "vim"] {
        let km = Keymap::shipped(name).unwrap();
        // The digits focus the panes in the registry's order, whatever the keymap.
        let bound: HashSet<Action> = km
            .modes
            .values()
            .flat_map(|t| t.values().flatten().copied())
            .chain(opsdeck::panes::REGISTRY.iter().map(|s| s.focus))
            .collect();
        let missing: Vec<&str> = Action::ALL
            .iter()
            .filter(|a| !bound.contains(a))
            .map(|a| a.name())
            .collect();
        assert!(missing.is_empty(), "{name}: unbound {missing:?}");
    }
}

#[test]
fn default_keymap_has_the_expected_keys() {
    let km = Keymap::shipped("default").unwrap();
    let r = |mode, k: &str| km.resolve(mode, &key(k));
    assert_eq!(r(Mode::Global, "q"), Resolved::Actions(vec![Action::Quit]));
    assert_eq!(
        r(Mode::Global, "shift-tab"),
        Resolved::Actions(vec![Action::FocusPrev])
    );
    assert_eq!(
        r(Mode::Workloads, "O"),
        Resolved::Actions(vec![Action::ReverseSort])
    );
    assert_eq!(
        r(Mode::Workloads, "o"),
        Resolved::Actions(vec![Action::CycleSort])
    );
    assert_eq!(
        r(Mode::Logs, "ctrl-d"),
        Resolved::Actions(vec![Action::HalfPageDown])
    );
    assert_eq!(
        r(Mode::Confirm, "y"),
        Resolved::Actions(vec![Action::ConfirmYes])
    );
    assert_eq!(r(Mode::Confirm, "x"), Resolved::Unbound);
    assert_eq!(
        km.keys_for(Mode::Workloads, Action::DeletePod),
        ["x", "ctrl-k"]
    );
}

#[test]
fn vim_keymap_has_g_g() {
    let km = Keymap::shipped("vim").unwrap();
    assert_eq!(km.resolve(Mode::Global, &key("g")), Resolved::Pending);
    assert_eq!(
        km.resolve(Mode::Global, &key("g g")),
        Resolved::Actions(vec![Action::Top])
    );
    assert_eq!(
        km.resolve(Mode::Global, &key("G")),
        Resolved::Actions(vec![Action::Bottom])
    );
}

// ---- user files ----

#[test]
fn user_config_dir_selects_theme_and_merges_keymap() {
    let loaded = config::load(&opts_in("user"));
    assert_eq!(strings(&loaded.problems), Vec::<String>::new());
    assert_eq!(loaded.config.read_only, Some(true));
    assert_eq!(loaded.config.theme.as_deref(), Some("mine"));

    // mine.toml has no inherits: it sets one slot on top of default.
    assert_eq!(loaded.theme.name, "mine");
    assert_eq!(
        loaded.theme.style(Slot::HealthOk).fg,
        Some(Color::LightGreen)
    );
    let default = Theme::default();
    for &slot in Slot::ALL.iter().filter(|s| **s != Slot::HealthOk) {
        assert_eq!(
            loaded.theme.style(slot),
            default.style(slot),
            "{}",
            slot.name()
        );
    }

    // The user's default.toml keymap: two keys unbound, two added, rest shipped.
    let km = &loaded.keymap;
    let shipped = Keymap::shipped("default").unwrap();
    assert_eq!(km.resolve(Mode::Global, &key("ctrl-r")), Resolved::Unbound);
    assert_eq!(
        km.resolve(Mode::Global, &key("f5")),
        Resolved::Actions(vec![Action::Refresh])
    );
    assert_eq!(km.resolve(Mode::Logs, &key("f")), Resolved::Unbound);
    assert_eq!(
        km.resolve(Mode::Logs, &key("F")),
        Resolved::Actions(vec![Action::ToggleFollow])
    );
    // In global and logs one key was removed and one added.
    for mode in Mode::ALL {
        assert_eq!(
            km.bindings(mode).len(),
            shipped.bindings(mode).len(),
            "{}",
            mode.name()
        );
    }
    assert_eq!(
        km.resolve(Mode::Global, &key("q")),
        Resolved::Actions(vec![Action::Quit])
    );
}

#[test]
fn cli_flags_beat_config_and_user_theme_overrides_shipped_per_slot() {
    let loaded = config::load(&LoadOptions {
        theme: Some("dark-256".into()),
        keymap: Some("vim".into()),
        read_only: Some(false),
        ..opts_in("user")
    });
    assert!(loaded.problems.is_empty(), "{:?}", loaded.problems);
    assert_eq!(loaded.config.read_only, Some(false));
    assert_eq!(loaded.config.theme.as_deref(), Some("dark-256"));
    assert_eq!(loaded.keymap.name, "vim");
    // The user's dark-256.toml changes log.error only.
    let shipped = Theme::shipped("dark-256").unwrap();
    assert_eq!(
        loaded.theme.style(Slot::LogError).fg,
        Some(Color::Indexed(201))
    );
    assert_ne!(
        shipped.style(Slot::LogError),
        loaded.theme.style(Slot::LogError)
    );
    for &slot in Slot::ALL.iter().filter(|s| **s != Slot::LogError) {
        assert_eq!(
            loaded.theme.style(slot),
            shipped.style(slot),
            "{}",
            slot.name()
        );
    }
}

#[test]
fn user_keymap_with_a_new_name_merges_onto_default() {
    let mut lib = KeymapLibrary::new(None);
    lib.add_user(
        "mine",
        "[logs]\nx = [\"toggle_json\", \"toggle_timestamps\"]\n",
        "mine.toml",
    );
    let (km, problems) = lib.resolve("mine").unwrap();
    assert!(problems.is_empty());
    assert_eq!(
        km.resolve(Mode::Logs, &key("x")),
        Resolved::Actions(vec![Action::ToggleJson, Action::ToggleTimestamps])
    );
    assert_eq!(
        km.resolve(Mode::Global, &key("q")),
        Resolved::Actions(vec![Action::Quit])
    );
    assert!(lib.resolve("unknown").is_none());
}

#[test]
fn user_theme_named_like_a_shipped_one_may_inherit_itself() {
    let mut lib = ThemeLibrary::new(None);
    lib.add_user(
        "mono",
        "inherits = \"mono\"\nselection = { modifiers = [\"underlined\"] }\n",
        "mono.toml",
    );
    let (t, problems) = lib.resolve("mono").unwrap();
    assert!(problems.is_empty(), "{problems:?}");
    assert_eq!(t.style(Slot::Selection).add_modifier, Modifier::UNDERLINED);
    assert!(
        t.style(Slot::HealthCritical)
            .add_modifier
            .contains(Modifier::BOLD)
    );
}

#[test]
fn user_default_theme_reaches_themes_that_inherit_default() {
    let mut lib = ThemeLibrary::new(None);
    lib.add_user("default", "\"spark.line\" = \"magenta\"\n", "default.toml");
    lib.add_user("x", "border = \"red\"\n", "x.toml");
    let (d, _) = lib.resolve("default").unwrap();
    assert_eq!(d.style(Slot::SparkLine).fg, Some(Color::Magenta));
    assert_eq!(
        d.style(Slot::HealthOk).fg,
        Some(Color::Green),
        "the rest is shipped default"
    );
    // x has no inherits: it inherits "default", which is now the user's.
    let (x, _) = lib.resolve("x").unwrap();
    assert_eq!(x.style(Slot::SparkLine).fg, Some(Color::Magenta));
    assert_eq!(x.style(Slot::Border).fg, Some(Color::Red));
    // mono inherits nothing, so no colour leaks in.
    let (mono, _) = lib.resolve("mono").unwrap();
    assert_eq!(mono, Theme::mono());
}

#[test]
fn check_reports_unselected_user_files_too() {
    let problems = strings(&config::check(&opts_in("user")));
    assert_eq!(
        problems,
        [r#"tests/fixtures/config/user/keymaps/broken.toml:3: logs.x: unknown action "explode""#]
    );
    let extra = config::check_with(&opts_in("user"), |loaded| {
        vec![Problem::new(
            format!(
                "{}/runbooks/r.toml",
                loaded.config_dir.as_deref().unwrap().display()
            ),
            Some(1),
            None,
            "x",
        )]
    });
    assert_eq!(extra.len(), 2);
    assert_eq!(
        extra[1].to_string(),
        "tests/fixtures/config/user/runbooks/r.toml:1: x"
    );
}

// ---- NO_COLOR ----

#[test]
fn no_color_selects_mono_only_when_nothing_else_chose() {
    assert_eq!(choose_theme(None, None, false), Choice::Default);
    assert_eq!(choose_theme(None, None, true), Choice::NoColor);
    assert_eq!(choose_theme(None, None, true).name(), "mono");
    assert_eq!(
        choose_theme(None, Some("dark-256"), true).name(),
        "dark-256"
    );
    assert_eq!(
        choose_theme(Some("high-contrast"), Some("dark-256"), true).name(),
        "high-contrast"
    );
    assert!(no_color_set(Some(OsStr::new("1"))));
    assert!(!no_color_set(Some(OsStr::new(""))));

    let empty = tempfile::tempdir().unwrap();
    let opts = LoadOptions {
        config_dir: Some(empty.path().to_path_buf()),
        no_color: Some(true),
        ..LoadOptions::default()
    };
    let loaded = config::load(&opts);
    assert!(loaded.problems.is_empty());
    assert_eq!(loaded.theme, Theme::mono());
    // Nothing is written on first run.
    assert_eq!(std::fs::read_dir(empty.path()).unwrap().count(), 0);
}

#[test]
fn key_chord_parse_and_display_round_trip() {
    for text in [
        "q",
        "G",
        "?",
        "/",
        "1",
        "space",
        "enter",
        "esc",
        "tab",
        "backtab",
        "ctrl-d",
        "alt-x",
        "ctrl-alt-G",
        "shift-up",
        "f1",
        "f12",
        "pgup",
        "pgdown",
        "home",
        "end",
        "delete",
        "backspace",
    ] {
        let chord = KeyChord::parse(text).unwrap();
        let shown = chord.to_string();
        let expected = if text == "ctrl-alt-G" {
            "ctrl-alt-g"
        } else {
            text
        };
        assert_eq!(shown, expected);
        assert_eq!(KeyChord::parse(&shown), Ok(chord));
    }
    assert_eq!(KeyChord::parse("shift-tab").unwrap().to_string(), "backtab");
    assert_eq!(
        KeyChord::parse("Shift-G"),
        Ok(KeyChord::new(KeyCode::Char('G'), KeyModifiers::NONE))
    );
}

#[test]
fn databases_in_config_toml() {
    let text = "[databases]\nreports = \"host=r dbname=reports\"\norders-db = { url = \"postgres://app:secret@db:5432/orders\" }\nbad = 3\nempty = { }\ntypo = { ulr = \"x\" }\n";
    let f = opsdeck::config::parse_config(text, "config.toml");
    assert_eq!(
        f.config.databases.get("reports").map(|d| d.url.as_str()),
        Some("host=r dbname=reports")
    );
    assert_eq!(
        f.config.databases.get("orders-db").map(|d| d.url.as_str()),
        Some("postgres://app:secret@db:5432/orders")
    );
    assert_eq!(f.config.databases.len(), 2);
    // Where each connection string is written, for problems found later.
    let places: Vec<String> = f
        .config
        .databases
        .values()
        .map(|d| d.place.problem("x").to_string())
        .collect();
    assert_eq!(
        places,
        [
            "config.toml:3: databases.orders-db.url: x",
            "config.toml:2: databases.reports: x"
        ]
    );
    let problems: Vec<String> = f.problems.iter().map(|p| p.to_string()).collect();
    assert_eq!(
        problems,
        vec![
            "config.toml:4: databases.bad: expected a connection string or a table with url, found integer",
            "config.toml:5: databases.empty: missing url (a postgres:// URL or key=value connection string)",
            "config.toml:6: databases.typo.ulr: unknown field \"ulr\", expected url",
            "config.toml:6: databases.typo: missing url (a postgres:// URL or key=value connection string)",
        ]
    );
}

/// The `[aws]` example of the README parses with no problem.
#[test]
fn the_readme_aws_example_parses() {
    let readme = include_str!("../README.md");
    let start = readme
        .find("    [aws]\n")
        .expect("README has an [aws] example");
    let end = start
        + readme[start..]
            .find("\n\n**Why")
            .expect("the example ends before the protocol note");
    let text: String = readme[start..end]
        .lines()
        .map(|l| l.strip_prefix("    ").unwrap_or(l))
        .collect::<Vec<_>>()
        .join("\n");
    let parsed = parse_config(&text, "README.md");
    assert!(
        parsed.problems.is_empty(),
        "{:?}",
        strings(&parsed.problems)
    );
    let aws = &parsed.config.aws;
    assert_eq!(aws.profile.as_deref(), Some("prod"));
    assert_eq!(aws.clusters, vec!["prod"]);
    assert_eq!(aws.log_groups, vec!["/ecs/checkout"]);
    assert_eq!(aws.alarm_prefix.as_deref(), Some("checkout-"));
    // ecs_service 2 + alb 2 + rds 3 + one spelled out.
    assert_eq!(aws.metrics.len(), 8);
    assert_eq!(aws.metrics[7].key, "api.latency_p99");
}

#[test]
fn aws_mistakes_name_the_line_and_key() {
    let text = "theme = \"default\"\n[aws]\nclusters = \"prod\"\nregoin = \"eu-west-1\"\nlog_groups = [\"/ecs/a\", 3]\n";
    let parsed = parse_config(text, "config.toml");
    let got = strings(&parsed.problems);
    assert!(
        got.iter()
            .any(|p| p.starts_with("config.toml:3: aws.clusters: expected an array of strings")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|p| p.starts_with("config.toml:4: aws.regoin: unknown field \"regoin\"")),
        "{got:?}"
    );
    assert!(
        got.iter()
            .any(|p| p.starts_with("config.toml:5: aws.log_groups: expected a non-empty string")),
        "{got:?}"
    );
    // What was right is kept.
    assert_eq!(parsed.config.aws.log_groups, vec!["/ecs/a"]);
    assert_eq!(parsed.config.theme.as_deref(), Some("default"));
}

/// A safety setting that cannot be read makes the session read-only, with
/// the problem as the reason (fail-closed).
#[test]
fn bad_safety_settings_fail_closed() {
    let parse = |text: &str| opsdeck::config::parse_config(text, "config.toml");
    let f = parse("read_only = \"yes\"\n");
    assert_eq!(f.config.read_only, Some(true));
    assert_eq!(
        f.config.read_only_reason.as_deref(),
        Some("config.toml:1: read_only: expected true or false, found string")
    );
    let f = parse("audit_log = 3\nread_only = false\n");
    assert_eq!(
        f.config.read_only,
        Some(true),
        "read_only = false does not undo it"
    );
    assert!(
        f.config
            .read_only_reason
            .unwrap()
            .contains("audit_log: expected a string")
    );
    let f = parse("theme = \"mono\"\nread_only = [\n");
    assert_eq!(
        f.config.read_only,
        Some(true),
        "a syntax error hides read_only"
    );
    let f = parse("theme = 3\nread_only = false\n");
    assert_eq!(
        f.config.read_only,
        Some(false),
        "other settings do not force it"
    );
    assert_eq!(f.config.read_only_reason, None);

    // Through loading, from a config directory.
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("config.toml"), "read_only = \"yes\"\n").unwrap();
    let loaded = opsdeck::config::load(&LoadOptions {
        config_dir: Some(dir.path().to_path_buf()),
        no_color: Some(false),
        ..LoadOptions::default()
    });
    assert_eq!(loaded.config.read_only, Some(true));
    assert!(loaded.config.read_only_reason.is_some());
}

// ---- message fixes ----

#[test]
fn theme_unknown_field_of_a_slot_style() {
    assert_eq!(
        theme_problems("theme_unknown_style_field.toml"),
        [
            r#"tests/fixtures/config/theme_unknown_style_field.toml:2: selection.bgg: unknown field "bgg" in the style of "selection", expected one of fg, bg, modifiers"#,
            r#"tests/fixtures/config/theme_unknown_style_field.toml:5: danger.fgg: unknown field "fgg" in the style of "danger", expected one of fg, bg, modifiers"#,
            // A group's members are slots: a mistyped one is an unknown slot.
            r#"tests/fixtures/config/theme_unknown_style_field.toml:8: health.okk: unknown slot "health.okk""#,
        ]
    );
    // The known fields of that style are kept.
    let (path, text) = fixture("theme_unknown_style_field.toml");
    let f = parse_theme(&text, &path);
    assert_eq!(f.entries["selection"].fg, Some(Color::Black));
    assert_eq!(f.entries["selection"].bg, None);
}

#[test]
fn keymap_repeated_modifier_is_refused() {
    assert_eq!(
        keymap_problems("keymap_repeated_modifier.toml"),
        [
            r#"tests/fixtures/config/keymap_repeated_modifier.toml:2: global.ctrl-ctrl-x: bad key "ctrl-ctrl-x": "ctrl-" is given twice"#,
            r#"tests/fixtures/config/keymap_repeated_modifier.toml:3: global.alt-shift-Alt-y: bad key "alt-shift-Alt-y": "Alt-" is given twice"#,
        ]
    );
    assert!(KeyChord::parse("ctrl-alt-d").is_ok());
    assert_eq!(
        KeyChord::parse("shift-shift-tab"),
        Err("\"shift-\" is given twice".to_string())
    );
}

#[test]
fn keymap_without_help_or_quit_is_refused_for_the_default() {
    let dir = format!("{FIXTURES}/keymap_no_help/keymaps");
    let no_help = format!(
        r#"{dir}/default.toml:2: global: keymap "default" leaves no key for help in [global]; it is not used, the default keymap is"#
    );
    let lockin = format!(
        r#"{dir}/lockin.toml:2: global: keymap "lockin" leaves no key for quit or help in [global]; it is not used, the default keymap is"#
    );
    let shipped = Keymap::shipped("default").unwrap();

    // The user's default.toml quits on every help key: the shipped default is used.
    let loaded = config::load(&opts_in("keymap_no_help"));
    assert_eq!(strings(&loaded.problems), std::slice::from_ref(&no_help));
    assert_eq!(loaded.keymap.modes, shipped.modes);
    assert_eq!(
        loaded.keymap.resolve(Mode::Global, &key("?")),
        Resolved::Actions(vec![Action::Help])
    );

    // A chosen keymap with neither: refused too (and the user's default is
    // no better, so the shipped one it is).
    let loaded = config::load(&LoadOptions {
        keymap: Some("lockin".into()),
        ..opts_in("keymap_no_help")
    });
    assert_eq!(strings(&loaded.problems), std::slice::from_ref(&lockin));
    assert_eq!(loaded.keymap.modes, shipped.modes);

    // check-config names both files.
    assert_eq!(
        strings(&config::check(&opts_in("keymap_no_help"))),
        [no_help, lockin]
    );
    // The shipped keymaps have both.
    for (name, _) in keymap::SHIPPED {
        let none = opsdeck::problem::Place::default();
        assert_eq!(
            Keymap::shipped(name).unwrap().missing_essentials(&none),
            None
        );
    }
}

#[test]
fn runbook_integer_out_of_range_says_so() {
    let (path, text) = fixture("runbook_integer_out_of_range.toml");
    let problems = opsdeck::runbook::Runbook::parse(&path, &text).unwrap_err();
    assert_eq!(
        strings(&problems),
        [
            "tests/fixtures/config/runbook_integer_out_of_range.toml:11: steps[0].actions[0].replicas: the number 99999999999999999999 is out of range (an integer from -9223372036854775808 to 9223372036854775807)"
        ]
    );
}

// ---- theme inheritance ----

#[test]
fn a_theme_inheriting_itself_is_a_cycle() {
    let loaded = config::load(&LoadOptions {
        theme: Some("selfie".into()),
        ..opts_in("theme_self")
    });
    assert_eq!(
        strings(&loaded.problems),
        [
            "tests/fixtures/config/theme_self/themes/selfie.toml:1: inherits: inheritance cycle: selfie -> selfie"
        ]
    );
    assert_eq!(loaded.theme.style(Slot::Border).fg, Some(Color::Red));
    assert_eq!(loaded.theme.style(Slot::HealthOk).fg, Some(Color::Green));
}

#[test]
fn an_inheritance_chain_is_cut_after_32_themes() {
    assert_eq!(theme::MAX_INHERITS, 32);
    let dir = tempfile::tempdir().unwrap();
    // t0 <- t1 <- ... <- t39; t0 alone sets `danger`.
    for i in 0..40 {
        let text = match i {
            0 => "danger = \"magenta\"\n".to_string(),
            _ => format!("inherits = \"t{}\"\n\"spark.line\" = \"{}\"\n", i - 1, i),
        };
        std::fs::write(dir.path().join(format!("t{i}.toml")), text).unwrap();
    }
    let lib = ThemeLibrary::new(Some(dir.path()));
    let (theme, problems) = lib.resolve("t39").unwrap();
    assert_eq!(
        strings(&problems),
        [format!(
            r#"{}/t8.toml:1: inherits: inheritance chain longer than 32 themes (from "t39"); "t7" and what it inherits are left out"#,
            dir.path().display()
        )]
    );
    // The 32 nearest files apply, then the shipped default; t0 is cut off.
    assert_eq!(theme.style(Slot::SparkLine).fg, Some(Color::Indexed(39)));
    assert_eq!(
        theme.style(Slot::Danger),
        Theme::default().style(Slot::Danger)
    );
    // A chain of 32 is fine.
    let (_, problems) = lib.resolve("t31").unwrap();
    assert_eq!(strings(&problems), Vec::<String>::new());
}

// ---- many keys ----

#[test]
fn one_binding_conflicting_with_several_reports_each_in_file_order() {
    let text =
        "[logs]\n\"g g\" = \"top\"\nx = \"refresh\"\n\"g e\" = \"bottom\"\ng = \"toggle_follow\"\n";
    let file = parse_keymap(text, "k.toml");
    assert_eq!(
        strings(&file.problems),
        [
            r#"k.toml:5: logs.g: prefix conflict: "g" (line 5) is the start of "g g" (line 2) in [logs]"#,
            r#"k.toml:5: logs.g: prefix conflict: "g" (line 5) is the start of "g e" (line 4) in [logs]"#,
        ]
    );
    let kept: Vec<&str> = file.bindings.iter().map(|b| b.key.as_str()).collect();
    assert_eq!(kept, ["x", "g"]);
    // Applied onto a table, a user binding drops every conflicting one.
    let mut km = Keymap::default();
    km.apply(&parse_keymap(
        "[logs]\n\"g g\" = \"top\"\n\"g e\" = \"bottom\"\n\"g e f\" = \"refresh\"\n",
        "a",
    ));
    km.apply(&parse_keymap("[logs]\n\"g e\" = \"toggle_follow\"\n", "b"));
    let mut left: Vec<String> = km
        .bindings(Mode::Logs)
        .into_iter()
        .map(|(k, _)| k)
        .collect();
    left.sort();
    assert_eq!(left, ["g e", "g g"]);
    km.apply(&parse_keymap("[logs]\ng = \"refresh\"\n", "c"));
    assert_eq!(km.bindings(Mode::Logs).len(), 1);
}

#[test]
fn lines_are_right_far_into_a_large_file() {
    let chars: Vec<char> = ('a'..='z').chain('0'..='9').collect();
    let mut text = String::from("[logs]\n");
    let mut n = 0;
    for a in &chars {
        for b in &chars {
            text.push_str(&format!("\"{a} {b}\" = \"top\"\n# a comment\n"));
            n += 1;
        }
    }
    text.push_str("f5 = \"explode\"\n\"Ctrl-D\" = \"top\"\n\"ctrl-d\" = \"bottom\"\n");
    let file = parse_keymap(&text, "k.toml");
    let last = 1 + 2 * n;
    assert_eq!(
        strings(&file.problems),
        [
            format!(r#"k.toml:{}: logs.f5: unknown action "explode""#, last + 1),
            format!(
                r#"k.toml:{}: logs.ctrl-d: key conflict: "ctrl-d" is bound twice in [logs] (lines {} and {})"#,
                last + 3,
                last + 2,
                last + 3
            ),
        ]
    );
    assert_eq!(file.bindings.len(), n + 1);
}

/// The read-only notice and refusals name what made the session read-only.
#[test]
fn read_only_names_where_it_came_from() {
    let parse = |text: &str| parse_config(text, "config.toml").config;
    let c = parse("theme = \"mono\"\nread_only = true\n");
    assert_eq!(
        c.read_only_origin(false).as_deref(),
        Some("read_only = true in config.toml:2")
    );
    assert_eq!(
        c.read_only_origin(true).as_deref(),
        Some("started with --read-only")
    );
    let c = parse("read_only = false\n");
    assert_eq!(c.read_only_origin(false), None);
    assert_eq!(
        c.read_only_origin(true).as_deref(),
        Some("started with --read-only")
    );
    let c = parse("read_only = \"yes\"\n");
    assert_eq!(
        c.read_only_origin(false).as_deref(),
        Some(
            "a safety setting could not be read: config.toml:1: read_only: expected true or false, found string"
        )
    );
    // Through loading: the config file's path and line.
    let loaded = config::load(&opts_in("user"));
    assert_eq!(
        loaded.config.read_only_origin(false).as_deref(),
        Some("read_only = true in tests/fixtures/config/user/config.toml:2")
    );
}

#[test]
fn an_integer_too_large_for_its_field_is_out_of_range() {
    let text = "[aws]\n[[aws.metrics]]\nkey = \"a.b\"\nnamespace = \"AWS/ECS\"\nmetric = \"CPUUtilization\"\nperiod_secs = 99999999999999999999\n";
    assert_eq!(
        strings(&parse_config(text, "config.toml").problems),
        [
            "config.toml:6: aws.metrics[0].period_secs: the number 99999999999999999999 is out of range (an integer from 0 to 4294967295)"
        ]
    );
}
