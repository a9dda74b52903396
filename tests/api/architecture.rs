//! The rules of docs/ARCHITECTURE.md, read off the source: which modules name which. Adapters
//! (`web/`, `cli/`) never name `store::`; `lti/` never names axum or sea-orm; and no import cycle
//! between modules comes back, at the top level (`admin` ↔ `grades`) or inside one
//! (`learning::participant` ↔ `learning::records`).
use std::{
    collections::{BTreeMap, BTreeSet},
    path::{Path, PathBuf},
};

fn source_files(dir: &Path, found: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            source_files(&path, found);
        } else if path.extension().is_some_and(|e| e == "rs") {
            found.push(path);
        }
    }
}

/// The module a file is (`src/web/admin/mod.rs` → `web::admin`); `None` for the crate roots.
fn module_of(src: &Path, file: &Path) -> Option<Vec<String>> {
    let relative = file.strip_prefix(src).ok()?.with_extension("");
    let mut segments: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if segments.last().is_some_and(|s| s == "mod") {
        segments.pop();
    }
    (segments != ["lib"] && segments != ["main"]).then_some(segments)
}

/// The code of a file without its tests and line comments (a `//` after `:` is a URL in a string).
fn code_of(text: &str) -> String {
    let text = text.split("#[cfg(test)]").next().unwrap_or_default();
    text.lines()
        .map(|line| {
            let mut cut = line.len();
            for (at, _) in line.match_indices("//") {
                if at == 0 || line.as_bytes()[at - 1].is_ascii_whitespace() {
                    cut = at;
                    break;
                }
            }
            &line[..cut]
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn identifier(text: &str) -> &str {
    let end = text
        .find(|c: char| !(c.is_alphanumeric() || c == '_'))
        .unwrap_or(text.len());
    &text[..end]
}

/// The paths (first two segments at most) named inside a use tree's braces.
fn tree_paths(inner: &str, prefix: &[String], out: &mut Vec<Vec<String>>) {
    let mut depth = 0;
    let mut item = String::new();
    let mut items = Vec::new();
    for c in inner.chars() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                items.push(std::mem::take(&mut item));
                continue;
            }
            _ => {}
        }
        item.push(c);
    }
    items.push(item);
    for item in items {
        let item = item.trim();
        let first = identifier(item);
        if first.is_empty() || first == "self" {
            continue;
        }
        let mut path = prefix.to_vec();
        path.push(first.to_owned());
        let rest = item[first.len()..].trim_start();
        if let Some(rest) = rest.strip_prefix("::") {
            if let Some(nested) = rest.trim_start().strip_prefix('{') {
                if path.len() < 2 {
                    tree_paths(nested.trim_end().trim_end_matches('}'), &path, out);
                    continue;
                }
            } else if path.len() < 2 {
                let second = identifier(rest);
                if !second.is_empty() {
                    path.push(second.to_owned());
                }
            }
        }
        out.push(path);
    }
}

/// Every `crate::…` and `super::…` path a file names: (`true` for `super`, segments).
fn named_paths(code: &str) -> Vec<(bool, Vec<String>)> {
    let mut found = Vec::new();
    for base in ["crate::", "super::"] {
        for (at, _) in code.match_indices(base) {
            let before = code[..at].chars().next_back();
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
                continue;
            }
            let rest = &code[at + base.len()..];
            let mut paths = Vec::new();
            if let Some(inner) = rest.strip_prefix('{') {
                let mut depth = 1;
                let end = inner
                    .char_indices()
                    .find(|&(_, c)| {
                        match c {
                            '{' => depth += 1,
                            '}' => depth -= 1,
                            _ => {}
                        }
                        depth == 0
                    })
                    .map_or(inner.len(), |(i, _)| i);
                tree_paths(&inner[..end], &[], &mut paths);
            } else {
                let first = identifier(rest);
                if !first.is_empty() {
                    let mut path = vec![first.to_owned()];
                    if let Some(after) = rest[first.len()..].strip_prefix("::") {
                        let second = identifier(after);
                        if !second.is_empty() {
                            path.push(second.to_owned());
                        }
                    }
                    paths.push(path);
                }
            }
            found.extend(paths.into_iter().map(|p| (base == "super::", p)));
        }
    }
    found
}

struct Source {
    module: Vec<String>,
    code: String,
}

fn sources() -> Vec<Source> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    source_files(&src, &mut files);
    files
        .into_iter()
        .filter_map(|file| {
            let module = module_of(&src, &file)?;
            let code = code_of(&std::fs::read_to_string(&file).unwrap());
            Some(Source { module, code })
        })
        .collect()
}

/// Strongly connected components of two or more modules (Tarjan).
fn cycles(edges: &BTreeMap<String, BTreeSet<String>>) -> BTreeSet<Vec<String>> {
    struct Walk<'a> {
        edges: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<String, usize>,
        low: BTreeMap<String, usize>,
        stack: Vec<String>,
        found: BTreeSet<Vec<String>>,
    }
    fn visit(walk: &mut Walk, node: &str) {
        let at = walk.index.len();
        walk.index.insert(node.to_owned(), at);
        walk.low.insert(node.to_owned(), at);
        walk.stack.push(node.to_owned());
        let next: Vec<String> = walk
            .edges
            .get(node)
            .map(|n| n.iter().cloned().collect())
            .unwrap_or_default();
        for target in next {
            if !walk.index.contains_key(&target) {
                visit(walk, &target);
                let low = walk.low[node].min(walk.low[&target]);
                walk.low.insert(node.to_owned(), low);
            } else if walk.stack.contains(&target) {
                let low = walk.low[node].min(walk.index[&target]);
                walk.low.insert(node.to_owned(), low);
            }
        }
        if walk.low[node] == walk.index[node] {
            let mut component = Vec::new();
            while let Some(top) = walk.stack.pop() {
                let done = top == node;
                component.push(top);
                if done {
                    break;
                }
            }
            if component.len() > 1 {
                component.sort();
                walk.found.insert(component);
            }
        }
    }
    let mut walk = Walk {
        edges,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        found: BTreeSet::new(),
    };
    let nodes: BTreeSet<String> = edges
        .iter()
        .flat_map(|(from, to)| std::iter::once(from.clone()).chain(to.iter().cloned()))
        .collect();
    for node in nodes {
        if !walk.index.contains_key(&node) {
            visit(&mut walk, &node);
        }
    }
    walk.found
}

#[test]
fn no_import_cycle_comes_back() {
    let sources = sources();
    let modules: BTreeSet<Vec<String>> = sources.iter().map(|s| s.module.clone()).collect();
    let mut found = BTreeSet::new();
    for depth in [1, 2] {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for source in &sources {
            let here = &source.module;
            for (is_super, path) in named_paths(&source.code) {
                let mut full = if is_super {
                    here[..here.len().saturating_sub(1)].to_vec()
                } else {
                    Vec::new()
                };
                full.extend(path);
                // The longest prefix that is a module of this crate.
                let Some(target) = (1..=full.len())
                    .rev()
                    .map(|k| full[..k].to_vec())
                    .find(|prefix| modules.contains(prefix))
                else {
                    continue;
                };
                if depth == 2 && (here.len() < 2 || target.len() < 2 || here[0] != target[0]) {
                    continue;
                }
                let from = here[..here.len().min(depth)].join("::");
                let to = target[..target.len().min(depth)].join("::");
                if from != to {
                    edges.entry(from).or_default().insert(to);
                }
            }
        }
        found.extend(cycles(&edges));
    }
    assert!(found.is_empty(), "import cycles: {found:?}");
}

#[test]
fn adapters_name_no_store_and_the_protocol_names_no_framework() {
    for source in sources() {
        let module = source.module.join("::");
        let adapter = matches!(source.module[0].as_str(), "web" | "cli");
        if adapter {
            let store_paths = named_paths(&source.code)
                .into_iter()
                .filter(|(is_super, path)| !is_super && path[0] == "store")
                .count();
            assert_eq!(store_paths, 0, "{module} names store::");
        }
        if source.module[0] == "lti" {
            for framework in ["axum::", "sea_orm::", "use axum", "use sea_orm"] {
                assert!(
                    !source.code.contains(framework),
                    "{module} names {framework}"
                );
            }
        }
    }
}

/// The longest a request handler in `web/` may be, in lines of its body: it extracts, calls a
/// use case and renders; the page's data comes from the domain and its words from a view function.
const HANDLER_LINES: usize = 30;

/// Every `pub async fn` of `code` (the handlers and what the router calls) with its body's length.
fn async_fn_lengths(code: &str) -> Vec<(String, usize)> {
    let lines: Vec<&str> = code.lines().collect();
    let mut found = Vec::new();
    for (at, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        let Some(rest) = trimmed.strip_prefix("pub async fn ") else {
            continue;
        };
        let indent = line.len() - trimmed.len();
        let name = identifier(rest).to_owned();
        let Some(open) = (at..lines.len()).find(|&i| lines[i].trim_end().ends_with('{')) else {
            continue;
        };
        let close = (open + 1..lines.len())
            .find(|&i| {
                let l = lines[i];
                l.len() - l.trim_start().len() == indent && l.trim_start().starts_with('}')
            })
            .unwrap_or(lines.len());
        found.push((name, close - open - 1));
    }
    found
}

#[test]
fn web_handlers_stay_short() {
    let mut long = Vec::new();
    for source in sources() {
        if source.module[0] != "web" {
            continue;
        }
        for (name, length) in async_fn_lengths(&source.code) {
            if length > HANDLER_LINES {
                long.push(format!(
                    "{}::{name}: {length} lines",
                    source.module.join("::")
                ));
            }
        }
    }
    assert!(
        long.is_empty(),
        "handlers over {HANDLER_LINES} lines: {long:?}"
    );
    // The measure itself, on a known case.
    let code = "pub async fn a(\n    x: u8,\n) -> u8 {\n    let y = x;\n    y\n}\n";
    assert_eq!(async_fn_lengths(code), vec![("a".to_owned(), 2)]);
}

#[test]
fn the_cycle_finder_sees_a_cycle_through_a_use_tree() {
    // The checks above are only as good as the path reading; this proves it on a known case.
    let code = code_of(
        "use crate::{\n    admin::{self, access::Principal},\n    store::{self, x}, // crate::web\n};\nfn f() { super::pages::landing(); let u = \"https://crate::fake\"; }",
    );
    let paths = named_paths(&code);
    assert!(
        paths.contains(&(false, vec!["admin".into(), "access".into()])),
        "{paths:?}"
    );
    assert!(
        paths.contains(&(false, vec!["store".into(), "x".into()])),
        "{paths:?}"
    );
    assert!(
        paths.contains(&(true, vec!["pages".into(), "landing".into()])),
        "{paths:?}"
    );
    assert!(
        !paths.iter().any(|(_, p)| p[0] == "web"),
        "a comment was read: {paths:?}"
    );
    let mut edges = BTreeMap::new();
    edges.insert("a".to_owned(), BTreeSet::from(["b".to_owned()]));
    edges.insert("b".to_owned(), BTreeSet::from(["c".to_owned()]));
    edges.insert("c".to_owned(), BTreeSet::from(["a".to_owned()]));
    edges.insert("d".to_owned(), BTreeSet::from(["a".to_owned()]));
    assert_eq!(
        cycles(&edges),
        BTreeSet::from([vec!["a".to_owned(), "b".to_owned(), "c".to_owned()]])
    );
}
