//! The shape of the source, checked: no import cycles between files, the core
//! reaches no backend or simulator, and files stay small.
//!
//! A file depends on another when it names an item of it: a `use crate::…`,
//! `use super::…`, `use self::…` or `use child::…` line, or a `crate::…` /
//! `super::…` path in code. A path is followed through `pub use`
//! re-exports of a `mod.rs` to the file that defines the item, so a facade
//! `mod.rs` that only re-exports does not itself depend on its children.
//! Test modules at the end of a file (`#[cfg(test)] mod tests`) are ignored:
//! they may use anything.

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::path::{Path, PathBuf};

/// A module path: `["core", "update"]`; the crate root is `[]`.
type ModPath = Vec<String>;

struct SourceFile {
    path: PathBuf,
    module: ModPath,
    /// `mod.rs` or `lib.rs`: its children are `module + [name]`.
    is_dir_module: bool,
    code: String,
}

fn source_files() -> Vec<SourceFile> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).expect("read src dir") {
            let path = entry.expect("dir entry").path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().and_then(|e| e.to_str()) != Some("rs") {
                continue;
            }
            let rel = path.strip_prefix(&root).expect("under src");
            let mut module: ModPath = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            // main.rs is the binary crate: it reaches the library as `opsdeck::`.
            if module == ["main"] {
                continue;
            }
            let last = module.last().cloned().unwrap_or_default();
            let is_dir_module = last == "mod" || last == "lib";
            if is_dir_module {
                module.pop();
            }
            let text = fs::read_to_string(&path).expect("read source");
            out.push(SourceFile {
                path: rel.to_path_buf(),
                module,
                is_dir_module,
                code: strip(&text),
            });
        }
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The code of a file without comments, string literals and its trailing
/// test module.
fn strip(text: &str) -> String {
    let mut lines: Vec<&str> = Vec::new();
    let all: Vec<&str> = text.lines().collect();
    let mut i = 0;
    while i < all.len() {
        let t = all[i].trim();
        if t == "#[cfg(test)]"
            && all[i + 1..]
                .iter()
                .find(|l| !l.trim().is_empty())
                .is_some_and(|l| l.trim_start().starts_with("mod "))
        {
            break;
        }
        lines.push(all[i]);
        i += 1;
    }
    let src = lines.join("\n");
    let mut out = String::with_capacity(src.len());
    let b = src.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'/' && b.get(i + 1) == Some(&b'/') {
            while i < b.len() && b[i] != b'\n' {
                i += 1;
            }
        } else if b[i] == b'/' && b.get(i + 1) == Some(&b'*') {
            i += 2;
            while i + 1 < b.len() && !(b[i] == b'*' && b[i + 1] == b'/') {
                i += 1;
            }
            i += 2;
        } else if b[i] == b'r' && (b.get(i + 1) == Some(&b'#') || b.get(i + 1) == Some(&b'"')) {
            // Raw string r#"…"#: skip to the matching close.
            let mut j = i + 1;
            let mut hashes = 0;
            while b.get(j) == Some(&b'#') {
                hashes += 1;
                j += 1;
            }
            if b.get(j) != Some(&b'"') {
                out.push(b[i] as char);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                if j >= b.len() {
                    break;
                }
                if b[j] == b'"'
                    && b[j + 1..]
                        .iter()
                        .take(hashes)
                        .filter(|&&c| c == b'#')
                        .count()
                        == hashes
                {
                    j += 1 + hashes;
                    break;
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if b[i] == b'"' {
            i += 1;
            while i < b.len() && b[i] != b'"' {
                if b[i] == b'\\' {
                    i += 1;
                }
                i += 1;
            }
            i += 1;
            out.push_str("\"\"");
        } else if b[i] == b'\'' && i + 2 < b.len() && (b[i + 2] == b'\'' || b[i + 1] == b'\\') {
            // A char literal ('"', '\'', '\n'); lifetimes have no closing quote.
            let mut j = i + 1;
            if b[j] == b'\\' {
                j += 1;
            }
            while j < b.len() && b[j] != b'\'' {
                j += 1;
            }
            out.push_str("' '");
            i = j + 1;
        } else {
            let ch = src[i..].chars().next().unwrap_or(' ');
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Expand a use tree starting at `s` (just after `prefix::`): `a::b`,
/// `{a, b::{c, d}}`, `a::{self, b}`. Returns the paths and the rest.
fn use_tree(s: &str) -> (Vec<Vec<String>>, &str) {
    let s = s.trim_start();
    if let Some(rest) = s.strip_prefix('{') {
        let mut paths = Vec::new();
        let mut rest = rest;
        loop {
            rest = rest.trim_start();
            if let Some(r) = rest.strip_prefix('}') {
                return (paths, r);
            }
            if let Some(r) = rest.strip_prefix(',') {
                rest = r;
                continue;
            }
            let (p, r) = use_tree(rest);
            if r.len() == rest.len() {
                // Not a path (a stray token): give up on this group.
                return (paths, "");
            }
            paths.extend(p);
            rest = r;
        }
    }
    let end = s.find(|c: char| !is_ident(c)).unwrap_or(s.len());
    if end == 0 {
        return (Vec::new(), s);
    }
    let head = s[..end].to_string();
    let rest = &s[end..];
    if let Some(r) = rest.strip_prefix("::") {
        let (tails, r) = use_tree(r);
        let paths = if tails.is_empty() {
            vec![vec![head]]
        } else {
            tails
                .into_iter()
                .map(|t| {
                    let mut p = vec![head.clone()];
                    p.extend(t.into_iter().filter(|x| x != "self"));
                    p
                })
                .collect()
        };
        return (paths, r);
    }
    // `as alias` is irrelevant to the dependency.
    let trimmed = rest.trim_start();
    let rest = match trimmed.strip_prefix("as ") {
        Some(r) => {
            let r = r.trim_start();
            &r[r.find(|c: char| !is_ident(c)).unwrap_or(r.len())..]
        }
        None => rest,
    };
    (vec![vec![head]], rest)
}

/// A path relative to `file`, as written after `crate::`, `super::`,
/// `self::` or a child module's name, made absolute.
fn absolute(file: &SourceFile, first: &str, tail: Vec<String>) -> Option<ModPath> {
    let here: ModPath = file.module.clone();
    // The module whose scope `use` names resolve in.
    let base = match first {
        "crate" => Vec::new(),
        "self" => here,
        "super" => {
            let mut m = here;
            m.pop()?;
            m
        }
        child => {
            let mut m = here;
            m.push(child.to_string());
            m
        }
    };
    let mut p = base;
    let mut tail = tail.into_iter().peekable();
    // `super::super::x`
    while tail.peek().map(String::as_str) == Some("super") {
        tail.next();
        p.pop()?;
    }
    p.extend(tail);
    Some(p)
}

/// Every `(path, is_pub_use)` a file names.
fn paths_named(file: &SourceFile, children: &BTreeSet<String>) -> Vec<(ModPath, bool)> {
    let code = &file.code;
    let mut out = Vec::new();
    let mut i = 0;
    let bytes = code.as_bytes();
    while i < code.len() {
        let at = &code[i..];
        let boundary = i == 0 || !is_ident(bytes[i - 1] as char) && bytes[i - 1] != b':';
        if !boundary {
            i += at.chars().next().map_or(1, char::len_utf8);
            continue;
        }
        // `use` statements, with their trees.
        let (is_use, is_pub) = if at.starts_with("use ") {
            (
                true,
                code[..i].trim_end().ends_with("pub") || code[..i].trim_end().ends_with(')'),
            )
        } else {
            (false, false)
        };
        if is_use {
            let rest = &at[4..];
            let first_end = rest.find(|c: char| !is_ident(c)).unwrap_or(rest.len());
            let first = &rest[..first_end];
            let after = &rest[first_end..];
            let known = matches!(first, "crate" | "super" | "self") || children.contains(first);
            if known {
                if let Some(tree) = after.strip_prefix("::") {
                    let (tails, _) = use_tree(tree);
                    for t in tails {
                        if let Some(p) = absolute(file, first, t) {
                            out.push((p, is_pub));
                        }
                    }
                }
            }
            let stmt_end = at.find(';').unwrap_or(at.len());
            i += stmt_end.max(1);
            continue;
        }
        // In a directory module, a child's items can be named bare: `logs::render`.
        let ident_end = at.find(|ch: char| !is_ident(ch)).unwrap_or(at.len());
        let child = Some(&at[..ident_end]).filter(|c| {
            file.is_dir_module && at[ident_end..].starts_with("::") && children.contains(*c)
        });
        if let Some(p) = child.and_then(|c| absolute(file, c, path_tail(&at[c.len() + 2..]))) {
            out.push((p, false));
        }
        for prefix in ["crate::", "super::"] {
            if let Some(rest) = at.strip_prefix(prefix) {
                if let Some(p) = absolute(file, prefix.trim_end_matches(':'), path_tail(rest)) {
                    out.push((p, false));
                }
            }
        }
        i += at.chars().next().map_or(1, char::len_utf8);
    }
    out
}

/// The segments of a path in code: `a::b::c` up to the first other character.
fn path_tail(rest: &str) -> Vec<String> {
    let end = rest
        .find(|c: char| !(is_ident(c) || c == ':'))
        .unwrap_or(rest.len());
    rest[..end]
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

struct Graph {
    files: Vec<SourceFile>,
    /// file index -> files it depends on.
    edges: Vec<BTreeSet<usize>>,
}

fn graph() -> Graph {
    let files = source_files();
    let by_module: BTreeMap<ModPath, usize> = files
        .iter()
        .enumerate()
        .map(|(i, f)| (f.module.clone(), i))
        .collect();
    // Children declared by each directory module.
    let children: Vec<BTreeSet<String>> = files
        .iter()
        .map(|f| {
            files
                .iter()
                .filter(|g| g.module.len() == f.module.len() + 1 && g.module.starts_with(&f.module))
                .filter(|_| f.is_dir_module)
                .filter_map(|g| g.module.last().cloned())
                .collect()
        })
        .collect();
    let named: Vec<Vec<(ModPath, bool)>> = files
        .iter()
        .enumerate()
        .map(|(i, f)| paths_named(f, &children[i]))
        .collect();
    // Re-exports of directory modules: (module, item) -> absolute path.
    let mut reexports: BTreeMap<(ModPath, String), ModPath> = BTreeMap::new();
    for (i, f) in files.iter().enumerate() {
        if !f.is_dir_module {
            continue;
        }
        for (p, is_pub) in &named[i] {
            if *is_pub && let Some(item) = p.last() {
                reexports.insert((f.module.clone(), item.clone()), p.clone());
            }
        }
    }
    // The file defining what `path` names: the longest module prefix, then
    // through re-exports of that module.
    // The file defining what `path` names, and whether the path names a
    // whole module rather than an item of it.
    let resolve = |path: &ModPath| -> Option<(usize, bool)> {
        let mut path = path.clone();
        for _ in 0..16 {
            let n = (0..=path.len())
                .rev()
                .find(|&n| by_module.contains_key(&path[..n]))?;
            let module = path[..n].to_vec();
            let idx = by_module[&module];
            match path.get(n) {
                Some(item) if files[idx].is_dir_module => {
                    match reexports.get(&(module.clone(), item.clone())) {
                        Some(target) => {
                            let mut next = target.clone();
                            next.extend(path[n + 1..].iter().cloned());
                            path = next;
                        }
                        None => return Some((idx, false)),
                    }
                }
                None => return Some((idx, true)),
                _ => return Some((idx, false)),
            }
        }
        None
    };
    // Everything a directory module re-exports (for a file that imports the
    // module itself and names its items through it: `use super::logs;`).
    let mut facade: BTreeMap<usize, Vec<usize>> = BTreeMap::new();
    for ((module, _), target) in &reexports {
        if let (Some(&m), Some((t, _))) = (by_module.get(module), resolve(target)) {
            facade.entry(m).or_default().push(t);
        }
    }
    let mut edges = vec![BTreeSet::new(); files.len()];
    for (i, f) in files.iter().enumerate() {
        for (p, is_pub) in &named[i] {
            if *is_pub && f.is_dir_module {
                continue;
            }
            let Some((j, whole)) = resolve(p) else {
                continue;
            };
            let mut targets = vec![j];
            if whole && files[j].is_dir_module {
                targets.extend(facade.get(&j).into_iter().flatten().copied());
            }
            for t in targets {
                // A file's own items, and the crate root's module list.
                if t != i && !files[t].module.is_empty() {
                    edges[i].insert(t);
                }
            }
        }
    }
    Graph { files, edges }
}

/// Strongly connected components of more than one file (Tarjan).
fn cycles(g: &Graph) -> Vec<Vec<usize>> {
    struct T<'a> {
        g: &'a Graph,
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(t: &mut T, v: usize) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on[v] = true;
        for &w in &t.g.edges[v] {
            match t.index[w] {
                None => {
                    visit(t, w);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(iw) if t.on[w] => t.low[v] = t.low[v].min(iw),
                _ => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut comp = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on[w] = false;
                comp.push(w);
                if w == v {
                    break;
                }
            }
            if comp.len() > 1 {
                comp.sort();
                t.out.push(comp);
            }
        }
    }
    let n = g.files.len();
    let mut t = T {
        g,
        index: vec![None; n],
        low: vec![0; n],
        on: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(&mut t, v);
        }
    }
    t.out
}

fn name(g: &Graph, i: usize) -> String {
    g.files[i].path.display().to_string()
}

#[test]
fn no_import_cycles_between_files() {
    let g = graph();
    let found = cycles(&g);
    let report: Vec<String> = found
        .iter()
        .map(|comp| {
            let inside: BTreeSet<usize> = comp.iter().copied().collect();
            comp.iter()
                .map(|&i| {
                    let to: Vec<String> = g.edges[i]
                        .iter()
                        .filter(|j| inside.contains(j))
                        .map(|&j| name(&g, j))
                        .collect();
                    format!("  {} -> {}", name(&g, i), to.join(", "))
                })
                .collect::<Vec<_>>()
                .join("\n")
        })
        .collect();
    assert!(
        found.is_empty(),
        "{} import cycle(s):\n{}",
        found.len(),
        report.join("\n\n")
    );
}

/// The layers a module may not reach, by top-level module.
const FORBIDDEN: &[(&str, &[&str])] = &[
    (
        "core",
        &[
            "app", "ui", "kube", "aws", "pg", "sim", "demo", "session", "config",
        ],
    ),
    (
        "panes",
        &["app", "kube", "aws", "pg", "sim", "demo", "session"],
    ),
    (
        "runbook",
        &[
            "app", "ui", "core", "panes", "kube", "aws", "pg", "sim", "demo", "session",
        ],
    ),
    (
        "domain",
        &[
            "app", "ui", "core", "panes", "kube", "aws", "pg", "sim", "demo", "session", "runbook",
        ],
    ),
    (
        "ui",
        &["app", "kube", "aws", "pg", "sim", "demo", "session"],
    ),
    (
        "kube",
        &["app", "ui", "core", "panes", "aws", "pg", "sim", "demo"],
    ),
    (
        "aws",
        &["app", "ui", "core", "panes", "kube", "pg", "sim", "demo"],
    ),
    (
        "pg",
        &["app", "ui", "core", "panes", "kube", "aws", "sim", "demo"],
    ),
];

#[test]
fn layers_point_down() {
    let g = graph();
    let mut bad = Vec::new();
    for (i, f) in g.files.iter().enumerate() {
        let Some(top) = f.module.first() else {
            continue;
        };
        let Some((_, banned)) = FORBIDDEN.iter().find(|(m, _)| m == top) else {
            continue;
        };
        for &j in &g.edges[i] {
            if let Some(to) = g.files[j].module.first() {
                if banned.contains(&to.as_str()) {
                    bad.push(format!("{} -> {}", name(&g, i), name(&g, j)));
                }
            }
        }
    }
    assert!(
        bad.is_empty(),
        "imports against the layering:\n{}",
        bad.join("\n")
    );
}

/// Nothing outside the simulator reaches it but the demo and the commands
/// (`opsdeck sim serve`, the scenario names `check-config` checks runbooks
/// against).
#[test]
fn only_the_demo_reaches_the_simulator() {
    let g = graph();
    let mut bad = Vec::new();
    for (i, f) in g.files.iter().enumerate() {
        if matches!(
            f.module.first().map(String::as_str),
            Some("sim" | "demo" | "commands")
        ) {
            continue;
        }
        for &j in &g.edges[i] {
            if g.files[j].module.first().map(String::as_str) == Some("sim") {
                bad.push(format!("{} -> {}", name(&g, i), name(&g, j)));
            }
        }
    }
    assert!(
        bad.is_empty(),
        "the simulator reached from:\n{}",
        bad.join("\n")
    );
}

/// Lines before a file's test module.
const MAX_LINES: usize = 500;

#[test]
fn files_stay_small() {
    let g = graph();
    let big: Vec<String> = g
        .files
        .iter()
        .filter_map(|f| {
            let n = f.code.lines().count();
            (n > MAX_LINES).then(|| format!("{}: {n} lines", f.path.display()))
        })
        .collect();
    assert!(
        big.is_empty(),
        "files over {MAX_LINES} lines (tests excluded); split them along their seams:\n{}",
        big.join("\n")
    );
}

#[test]
fn the_checker_sees_a_cycle() {
    // The parser on two tiny files that use each other.
    let a = SourceFile {
        path: "a.rs".into(),
        module: vec!["a".into()],
        is_dir_module: false,
        code: strip("use crate::b::B;\n// use crate::c::C;\nfn f() { let _ = \"crate::d\"; }\n"),
    };
    let named = paths_named(&a, &BTreeSet::new());
    assert_eq!(named, vec![(vec!["b".to_string(), "B".to_string()], false)]);
    let m = SourceFile {
        path: "m/mod.rs".into(),
        module: vec!["m".into()],
        is_dir_module: true,
        code: strip(
            "mod x;\npub use x::{X, y::{Y, Z as W}};\nuse super::{a, b::C};\nfn f() { x::go(); }\n",
        ),
    };
    let children: BTreeSet<String> = ["x".to_string()].into_iter().collect();
    let named = paths_named(&m, &children);
    let s = |v: &[&str]| v.iter().map(|x| x.to_string()).collect::<Vec<_>>();
    assert_eq!(
        named,
        vec![
            (s(&["m", "x", "X"]), true),
            (s(&["m", "x", "y", "Y"]), true),
            (s(&["m", "x", "y", "Z"]), true),
            (s(&["a"]), false),
            (s(&["b", "C"]), false),
            (s(&["m", "x", "go"]), false),
        ]
    );
}
