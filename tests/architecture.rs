//! The module order in docs/ARCHITECTURE.md is the code's: every module of the library uses
//! only modules listed above it (or itself). A `crate::` path (or a `super::` one, resolved)
//! pointing down the list, a source file no row covers, or a row naming no source file fails
//! here, so the table cannot drift from the code again.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The rows of the "## Modules" table, in order: the first backticked name of each.
fn table_rows(architecture: &str) -> Vec<String> {
    let section = architecture
        .split("\n## ")
        .find(|s| s.starts_with("Modules"))
        .expect("docs/ARCHITECTURE.md has a \"## Modules\" section");
    section
        .lines()
        .filter_map(|l| l.strip_prefix("| `"))
        .filter_map(|l| l.split('`').next())
        .filter(|m| !m.ends_with(".rs") && !m.starts_with("cli"))
        .map(str::to_string)
        .collect()
}

/// Every library source file with its module path (`a`, `a::b`), the two executables' roots
/// (main.rs, front.rs) and the CLI left out.
fn library_files(dir: &Path, prefix: &[String], out: &mut Vec<(PathBuf, Vec<String>)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = entry.file_name().to_string_lossy().to_string();
        let path = entry.path();
        if prefix.is_empty() && matches!(name.as_str(), "main.rs" | "front.rs" | "lib.rs" | "cli") {
            continue;
        }
        if path.is_dir() {
            let mut inner = prefix.to_vec();
            inner.push(name);
            library_files(&path, &inner, out);
        } else if let Some(stem) = name.strip_suffix(".rs") {
            let mut module = prefix.to_vec();
            if stem != "mod" {
                module.push(stem.to_string());
            }
            out.push((path, module));
        }
    }
}

/// The row a module path belongs to: the longest row that is a prefix of it.
fn row_of(rows: &[Vec<String>], module: &[String]) -> Option<usize> {
    rows.iter()
        .enumerate()
        .filter(|(_, r)| module.starts_with(r))
        .max_by_key(|(_, r)| r.len())
        .map(|(i, _)| i)
}

/// The paths a piece of `use` syntax names, braces expanded: `a::{b, c::d}` → a::b, a::c::d.
fn expand(text: &str, base: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let bytes = text.as_bytes();
    let mut path = base;
    let mut i = 0;
    loop {
        let start = i;
        while i < bytes.len() && (bytes[i].is_ascii_alphanumeric() || bytes[i] == b'_') {
            i += 1;
        }
        if i > start {
            path.push(text[start..i].to_string());
        }
        if text[i..].starts_with("::") {
            i += 2;
            if text[i..].starts_with('{') {
                i += 1;
                loop {
                    while text[i..].starts_with([' ', '\n', '\t', '\r']) {
                        i += 1;
                    }
                    if text[i..].starts_with('}') {
                        return i + 1;
                    }
                    i += expand(&text[i..], path.clone(), out);
                    while text[i..].starts_with([' ', '\n', '\t', '\r', ',']) {
                        i += 1;
                    }
                    if i >= text.len() {
                        return i;
                    }
                }
            }
            continue;
        }
        out.push(path);
        return i.max(1);
    }
}

/// What a file's code refers to in the crate, as module paths, with the line it is on.
fn references(source: &str, module: &[String]) -> Vec<(usize, Vec<String>)> {
    let code: String = source
        .lines()
        .map(|l| match l.find("//") {
            Some(at) if !l[..at].contains('"') => &l[..at],
            _ => l,
        })
        .collect::<Vec<_>>()
        .join("\n");
    // `super` in module a::b (file a/b.rs or a/b/mod.rs) is a.
    let parent: Vec<String> = module[..module.len().saturating_sub(1)].to_vec();
    let mut found = Vec::new();
    for (keyword, base) in [("crate::", Vec::new()), ("super::", parent)] {
        let mut from = 0;
        while let Some(at) = code[from..].find(keyword) {
            let start = from + at;
            from = start + keyword.len();
            let before = code[..start].chars().last();
            if before.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let line = code[..start].matches('\n').count() + 1;
            let mut paths = Vec::new();
            expand(&code[from..], base.clone(), &mut paths);
            found.extend(paths.into_iter().map(|p| (line, p)));
        }
    }
    found
}

#[test]
fn every_module_uses_only_modules_above_it_in_the_architecture_table() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let doc = std::fs::read_to_string(repo.join("docs/ARCHITECTURE.md")).unwrap();
    let names = table_rows(&doc);
    let rows: Vec<Vec<String>> = names
        .iter()
        .map(|n| n.split("::").map(str::to_string).collect())
        .collect();
    assert!(rows.len() >= 20, "the table lists the modules: {names:?}");
    let mut files = Vec::new();
    library_files(&repo.join("src"), &[], &mut files);

    let mut problems = Vec::new();
    let mut covered: BTreeMap<usize, usize> = BTreeMap::new();
    for (path, module) in &files {
        let shown = path.strip_prefix(repo).unwrap().display().to_string();
        let Some(row) = row_of(&rows, module) else {
            problems.push(format!("{shown}: module {} has no row", module.join("::")));
            continue;
        };
        *covered.entry(row).or_default() += 1;
        let source = std::fs::read_to_string(path).unwrap();
        for (line, target) in references(&source, module) {
            if let Some(used) = row_of(&rows, &target)
                && used > row
            {
                problems.push(format!(
                    "{shown}:{line}: {} (row {}) uses {} (row {}, below it)",
                    names[row],
                    row + 1,
                    target.join("::"),
                    used + 1
                ));
            }
        }
    }
    for (i, name) in names.iter().enumerate() {
        if !covered.contains_key(&i) {
            problems.push(format!("row {} `{name}` names no source file", i + 1));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn use_trees_expand_to_every_path_they_name() {
    let mut out = Vec::new();
    expand(
        "outbound::{send::Transport, Draft}, x",
        Vec::new(),
        &mut out,
    );
    let got: Vec<String> = out.iter().map(|p| p.join("::")).collect();
    assert_eq!(got, ["outbound::send::Transport", "outbound::Draft"]);
    let refs = references(
        "use super::send::X;\nlet a = crate::store::Store::open(); // crate::api\n",
        &["outbound".into(), "dunning".into()],
    );
    let got: Vec<(usize, String)> = refs.iter().map(|(l, p)| (*l, p.join("::"))).collect();
    assert_eq!(
        got,
        [
            (2, "store::Store::open".to_string()),
            (1, "outbound::send::X".to_string())
        ]
    );
}
