//! The module graph has no cycles: no top-level module of `src/` (a folder
//! or a file directly under it) uses one that uses it back, and inside
//! `app/` no module that `update` calls calls back into `update`.
//!
//! Read from the source text: every `crate::a::…` path (in `use` lines
//! and in code, braces expanded) names the top-level module `a`; comments
//! are left out. A cycle is reported with the files and lines that make it.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Every `.rs` file under `dir`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("{}: {e}", d.display())) {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// The line without its comment: `//` outside a string literal.
fn code(line: &str) -> &str {
    let mut in_string = false;
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'\\' if in_string => i += 1,
            b'"' => in_string = !in_string,
            b'/' if !in_string && bytes.get(i + 1) == Some(&b'/') => return &line[..i],
            _ => {}
        }
        i += 1;
    }
    line
}

fn ident(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The first path segment after each `prefix` in `text`, braces
/// expanded one level deep: `crate::{app::Msg, domain::Side}` names `app`
/// and `domain`.
fn named_after(text: &str, prefix: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(prefix) {
        // `cutover::crate_x` is no use of `crate::`.
        let before = rest[..at].chars().last();
        rest = &rest[at + prefix.len()..];
        if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = 0;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.push(ident(group[start..i].trim()).to_string());
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.push(ident(group[start..i].trim()).to_string());
                        start = i + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.push(ident(rest).to_string());
        }
    }
    out.retain(|m| !m.is_empty() && m != "self");
    out
}

/// The top-level module a file of `src/` belongs to: its folder or its
/// file stem.
fn top_level(src: &Path, file: &Path) -> String {
    let rel = file.strip_prefix(src).expect("a file under src");
    let first = rel.components().next().expect("a path").as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_string()
}

/// Each use, as (from, to) → where: the file and line of the first.
type Uses = BTreeMap<(String, String), String>;

fn crate_uses(src: &Path) -> Uses {
    let mut uses = Uses::new();
    for file in files(src) {
        let from = top_level(src, &file);
        // The binary's root is a crate of its own; a `tests.rs` is a
        // module's unit tests, declared under `#[cfg(test)]`.
        if from == "main" || from == "lib" || file.file_stem().is_some_and(|s| s == "tests") {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        // A `use` over several lines is joined, so its braces are whole.
        let mut statement = String::new();
        let mut first_line = 0;
        for (n, line) in text.lines().enumerate() {
            // A file's unit tests may use whatever a test needs.
            if line.starts_with("#[cfg(test)]") {
                break;
            }
            let line = code(line);
            if statement.is_empty() {
                first_line = n + 1;
            }
            statement.push_str(line);
            statement.push(' ');
            let open = statement.matches('{').count() > statement.matches('}').count();
            if statement.trim_start().starts_with("use ") && open {
                continue;
            }
            for to in named_after(&statement, "crate::") {
                if to != from {
                    let at = format!(
                        "{}:{first_line}",
                        file.strip_prefix(src.parent().expect("the project")).expect("").display()
                    );
                    uses.entry((from.clone(), to)).or_insert(at);
                }
            }
            statement.clear();
        }
    }
    uses
}

/// The strongly connected components of more than one module.
fn cycles(uses: &Uses) -> Vec<Vec<String>> {
    let nodes: BTreeSet<&String> = uses.keys().flat_map(|(a, b)| [a, b]).collect();
    let reach = |from: &String| -> BTreeSet<String> {
        let mut seen = BTreeSet::new();
        let mut stack = vec![from.clone()];
        while let Some(n) = stack.pop() {
            for ((a, b), _) in uses.range((n.clone(), String::new())..) {
                if *a != n {
                    break;
                }
                if seen.insert(b.clone()) {
                    stack.push(b.clone());
                }
            }
        }
        seen
    };
    let reached: BTreeMap<&String, BTreeSet<String>> = nodes.iter().map(|n| (*n, reach(n))).collect();
    let mut out: Vec<Vec<String>> = Vec::new();
    for n in &nodes {
        let mut scc: Vec<String> = nodes
            .iter()
            .filter(|m| reached[*n].contains(**m) && reached[*m].contains(*n))
            .map(|m| (*m).clone())
            .collect();
        scc.sort();
        if scc.len() > 1 && !out.contains(&scc) {
            out.push(scc);
        }
    }
    out
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn no_top_level_module_uses_one_that_uses_it_back() {
    let uses = crate_uses(&src());
    let found = cycles(&uses);
    let explain: Vec<String> = found
        .iter()
        .map(|scc| {
            let edges: Vec<String> = uses
                .iter()
                .filter(|((a, b), _)| scc.contains(a) && scc.contains(b))
                .map(|((a, b), at)| format!("  {a} -> {b} ({at})"))
                .collect();
            format!("{}:\n{}", scc.join(", "), edges.join("\n"))
        })
        .collect();
    assert!(found.is_empty(), "module cycles:\n{}", explain.join("\n"));
}

#[test]
fn what_update_calls_in_app_does_not_call_back_into_it() {
    let app = src().join("app");
    let mut offenders = Vec::new();
    for file in files(&app) {
        let name = file.file_stem().expect("a file name").to_string_lossy().into_owned();
        if name == "update" || name == "mod" {
            continue;
        }
        let text = std::fs::read_to_string(&file).expect("a readable source file");
        for (n, line) in text.lines().enumerate() {
            let line = code(line);
            let back = ["super::update", "crate::app::update", "super::navigate", "crate::app::navigate"]
                .iter()
                .any(|p| line.contains(p));
            if back {
                offenders.push(format!("src/app/{name}.rs:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(offenders.is_empty(), "app modules calling back into update:\n{}", offenders.join("\n"));
}

#[test]
fn the_reader_of_the_graph_sees_what_it_should() {
    // The scan itself: grouped imports, paths in code, comments left out.
    assert_eq!(named_after("use crate::{app::{Msg, App}, domain::Side};", "crate::"), ["app", "domain"]);
    assert_eq!(named_after("let x = crate::ui::render(a);", "crate::"), ["ui"]);
    assert_eq!(named_after("use cutover::crate_x;", "crate::"), Vec::<String>::new());
    assert_eq!(code("let a = \"https://x\"; // crate::ui"), "let a = \"https://x\"; ");
    let uses: Uses = [(("a", "b"), ""), (("b", "c"), ""), (("c", "a"), ""), (("c", "d"), "")]
        .into_iter()
        .map(|((a, b), at)| ((a.to_string(), b.to_string()), at.to_string()))
        .collect();
    assert_eq!(cycles(&uses), vec![vec!["a".to_string(), "b".to_string(), "c".to_string()]]);
}
