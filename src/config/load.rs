//! Loading everything start-up needs (config, theme, keymap), and checking
//! every user file for `check-config`.

use crate::keymap::{Keymap, KeymapLibrary};
use crate::problem::{Place, Problem, dedup, some_names};
use crate::theme::{Theme, ThemeLibrary};

use super::{
    COMMAND_LINE, Choice, ConfigFile, LoadOptions, Loaded, Paths, choose_theme, parse_config,
};

/// Load config, theme and keymap. Never fails: mistakes become problems and
/// the shipped defaults fill in.
pub fn load(opts: &LoadOptions) -> Loaded {
    load_inner(opts).0
}

/// Everything [`load`] reports, plus every theme and keymap file in the user's
/// config directory (even unselected ones). Duplicates are removed.
pub fn check(opts: &LoadOptions) -> Vec<Problem> {
    check_with(opts, |_| Vec::new())
}

/// [`check`] with more checks run on what was loaded (runbooks of the
/// config directory, databases): `extra` gets it and returns its problems.
pub fn check_with(opts: &LoadOptions, extra: impl FnOnce(&Loaded) -> Vec<Problem>) -> Vec<Problem> {
    let (loaded, themes, keymaps) = load_inner(opts);
    let mut problems = loaded.problems.clone();
    problems.extend(themes.user_problems());
    for name in keymaps.user_names() {
        if let Some((k, p)) = keymaps.resolve(&name) {
            problems.extend(p);
            problems.extend(k.missing_essentials(&keymaps.global_of(&name)));
        }
    }
    problems.extend(extra(&loaded));
    dedup(problems)
}

fn load_inner(opts: &LoadOptions) -> (Loaded, ThemeLibrary, KeymapLibrary) {
    let mut problems = Vec::new();
    let config_dir = match (&opts.config_dir, Paths::resolve(opts.config_dir.as_deref())) {
        (Some(d), _) => Some(d.clone()),
        (None, Ok(p)) => Some(p.config_dir),
        (None, Err(e)) => {
            problems.push(Problem::new("environment", None, None, e));
            None
        }
    };

    let mut file = ConfigFile::default();
    let mut config_name = String::new();
    if let Some(dir) = &config_dir {
        let path = dir.join("config.toml");
        config_name = path.display().to_string();
        match crate::user_file::read_text(&path, &config_name) {
            Ok(Some(text)) => file = parse_config(&text, &config_name),
            Ok(None) => {}
            Err(p) => {
                // It may hold read_only or audit_log: fail closed.
                file.config.force_read_only(&p);
                problems.push(p);
            }
        }
    }
    problems.append(&mut file.problems);

    let mut config = file.config.clone();
    if opts.theme.is_some() {
        config.theme.clone_from(&opts.theme);
    }
    if opts.keymap.is_some() {
        config.keymap.clone_from(&opts.keymap);
    }
    if opts.read_only.is_some() {
        config.read_only = opts.read_only;
        config.read_only_at = (opts.read_only == Some(true)).then(|| Place {
            file: COMMAND_LINE.to_string(),
            line: None,
            key: Some("--read-only".into()),
        });
    }
    if opts.audit_log.is_some() {
        config.audit_log.clone_from(&opts.audit_log);
    }

    let themes = ThemeLibrary::new(config_dir.as_deref().map(|d| d.join("themes")).as_deref());
    problems.extend(themes.problems().iter().cloned());
    let mut choice = choose_theme(
        opts.theme.as_deref(),
        file.config.theme.as_deref(),
        opts.no_color(),
    );
    if let Choice::ConfigFile(_, line) = &mut choice {
        *line = file.lines.get("theme").copied();
    }
    let theme = match themes.resolve(choice.name()) {
        Some((t, p)) => {
            problems.extend(p);
            t
        }
        None => {
            problems.push(unknown_name(
                &choice,
                &config_name,
                "theme",
                &themes.names(),
            ));
            let (t, p) = themes
                .resolve("default")
                .unwrap_or_else(|| (Theme::default(), Vec::new()));
            problems.extend(p);
            t
        }
    };

    let keymaps = KeymapLibrary::new(config_dir.as_deref().map(|d| d.join("keymaps")).as_deref());
    problems.extend(keymaps.problems().iter().cloned());
    let keymap_choice = match (&opts.keymap, &file.config.keymap) {
        (Some(f), _) => Choice::Flag(f.clone()),
        (None, Some(c)) => Choice::ConfigFile(c.clone(), file.lines.get("keymap").copied()),
        (None, None) => Choice::Default,
    };
    let keymap = match keymaps.resolve(keymap_choice.name()) {
        Some((k, p)) => {
            problems.extend(p);
            k
        }
        None => {
            problems.push(unknown_name(
                &keymap_choice,
                &config_name,
                "keymap",
                &keymaps.names(),
            ));
            let (k, p) = keymaps
                .resolve("default")
                .unwrap_or_else(|| (Keymap::default(), Vec::new()));
            problems.extend(p);
            k
        }
    };
    let keymap = usable(keymap, &keymaps, &mut problems);

    let loaded = Loaded {
        config,
        config_dir,
        theme,
        keymap,
        problems: dedup(problems),
    };
    (loaded, themes, keymaps)
}

fn unknown_name(choice: &Choice, config_file: &str, what: &str, known: &[String]) -> Problem {
    let message = format!(
        "unknown {what} \"{}\"; using \"default\" (available: {})",
        choice.name(),
        some_names(known)
    );
    match choice {
        Choice::ConfigFile(_, line) => {
            Problem::new(config_file, *line, Some(what.to_string()), message)
        }
        _ => Problem::new(COMMAND_LINE, None, Some(format!("--{what}")), message),
    }
}

/// A keymap that leaves no key for quit or help in `[global]` is not used
/// (it could leave the user unable to leave or to find out why): the
/// default keymap is, the user's `default.toml` if that one is usable, else
/// the shipped one. Like an unknown keymap name, it is a problem.
fn usable(keymap: Keymap, keymaps: &KeymapLibrary, problems: &mut Vec<Problem>) -> Keymap {
    let Some(p) = keymap.missing_essentials(&keymaps.global_of(&keymap.name)) else {
        return keymap;
    };
    problems.push(p);
    if keymap.name != "default" {
        if let Some((k, p)) = keymaps.resolve("default") {
            if k.missing_essentials(&Place::default()).is_none() {
                problems.extend(p);
                return k;
            }
        }
    }
    Keymap::shipped("default").unwrap_or_default()
}
