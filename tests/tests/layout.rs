//! The source tree's shape, checked: no import cycle inside any crate, and no source file past
//! the size a reader can hold in mind (ARCHITECTURE.md, "Layout rules").
//!
//! The import check reads each crate from its roots (`lib.rs`, `main.rs`, `src/bin/*`) by
//! following `mod x;` declarations, collects every `crate::`, `super::` and `self::` path (in
//! `use` lines and inline) plus `use child::…` lines, and resolves each to the module file that
//! defines it, seeing through `pub use` re-exports. Re-exports themselves are the crate's
//! façade, not a dependency of the re-exporting module's code, so they make no edge; nor do the
//! inline `#[cfg(test)] mod tests` blocks at the end of a file (nothing depends on a test
//! module, so it can never close a cycle). Two graphs must be acyclic: file to file, and
//! subsystem to subsystem (a top-level module with everything under it).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::fs;
use std::path::{Path, PathBuf};

/// The workspace's crates, relative to the workspace root.
const CRATES: &[&str] = &["proto", "namenode", "datanode", "client", "tests"];

/// The size past which a file must say why it needs to be one file.
const MAX_LINES: usize = 500;

/// Files allowed past [`MAX_LINES`], each with the one concept that needs the room.
const LONG_FILES: &[(&str, &str)] = &[];

type ModPath = Vec<String>;

struct Module {
    /// Paths this module's code refers to, already made absolute (from the crate root).
    refs: Vec<ModPath>,
    /// `pub use` re-exports: the name they give → the absolute path they point at.
    reexports: HashMap<String, ModPath>,
}

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// Every crate root of a package: the library, the binary and each `src/bin` target.
fn crate_roots(pkg: &Path) -> Vec<PathBuf> {
    let src = pkg.join("src");
    let mut roots: Vec<PathBuf> = ["lib.rs", "main.rs"].iter().map(|f| src.join(f)).filter(|p| p.exists()).collect();
    if let Ok(entries) = fs::read_dir(src.join("bin")) {
        for e in entries.flatten() {
            let p = e.path();
            if p.extension().is_some_and(|x| x == "rs") {
                roots.push(p);
            } else if p.join("main.rs").exists() {
                roots.push(p.join("main.rs"));
            }
        }
    }
    roots.sort();
    roots
}

/// The text of a file without comments, string literals and the trailing inline test module.
fn code_of(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut lines = text.lines().peekable();
    while let Some(line) = lines.next() {
        let t = line.trim_start();
        if t.starts_with("#[cfg(test)]") && lines.peek().is_some_and(|n| n.trim_start().starts_with("mod tests {")) {
            break;
        }
        if t.starts_with("//") {
            continue;
        }
        out.push_str(strip_strings(line).as_str());
        out.push('\n');
    }
    out
}

/// A line with its string literals emptied and its trailing `//` comment dropped (good enough
/// for this tree: no raw strings hold paths).
fn strip_strings(line: &str) -> String {
    let mut out = String::new();
    let mut in_str = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        if in_str {
            match c {
                '\\' => {
                    chars.next();
                }
                '"' => {
                    in_str = false;
                    out.push('"');
                }
                _ => {}
            }
        } else if c == '"' {
            in_str = true;
            out.push('"');
        } else if c == '/' && chars.peek() == Some(&'/') {
            break;
        } else {
            out.push(c);
        }
    }
    out
}

/// Expands a `use` tree (`a::{b, c::{d, e as f}}`) into its paths, each with the name it binds.
fn expand_use(tree: &str) -> Vec<(ModPath, String)> {
    fn split_top(s: &str) -> Vec<&str> {
        let (mut depth, mut start, mut parts) = (0, 0, Vec::new());
        for (i, c) in s.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => depth -= 1,
                ',' if depth == 0 => {
                    parts.push(&s[start..i]);
                    start = i + 1;
                }
                _ => {}
            }
        }
        parts.push(&s[start..]);
        parts
    }
    fn walk(prefix: &[String], tree: &str, out: &mut Vec<(ModPath, String)>) {
        let tree = tree.trim();
        if tree.is_empty() {
            return;
        }
        if let Some(open) = tree.find('{') {
            let head = tree[..open].trim_end_matches("::").trim();
            let mut p = prefix.to_vec();
            p.extend(head.split("::").filter(|s| !s.is_empty()).map(str::to_string));
            let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
            for part in split_top(inner) {
                walk(&p, part, out);
            }
            return;
        }
        let (path, alias) = match tree.split_once(" as ") {
            Some((p, a)) => (p.trim(), Some(a.trim().to_string())),
            None => (tree, None),
        };
        let mut p = prefix.to_vec();
        p.extend(path.split("::").map(|s| s.trim().to_string()).filter(|s| !s.is_empty()));
        if p.last().is_some_and(|l| l == "self") {
            p.pop();
        }
        let name = alias.unwrap_or_else(|| p.last().cloned().unwrap_or_default());
        out.push((p, name));
    }
    let mut out = Vec::new();
    walk(&[], tree, &mut out);
    out
}

/// Makes a path written in module `here` absolute, or `None` if it leaves the crate.
fn absolute(here: &ModPath, path: &[String], children: &BTreeSet<String>) -> Option<ModPath> {
    let first = path.first()?;
    match first.as_str() {
        "crate" => Some(path[1..].to_vec()),
        "self" => Some(here.iter().cloned().chain(path[1..].iter().cloned()).collect()),
        "super" => {
            let mut base = here.clone();
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
            base.extend(rest.iter().cloned());
            Some(base)
        }
        name if children.contains(name) => Some(here.iter().cloned().chain(path.iter().cloned()).collect()),
        _ => None,
    }
}

/// Reads one crate: its modules by path, following `mod x;` from the root.
fn read_crate(root: &Path) -> BTreeMap<ModPath, Module> {
    let mut modules = BTreeMap::new();
    let mut todo = vec![(Vec::<String>::new(), root.to_path_buf())];
    while let Some((path, file)) = todo.pop() {
        let text = fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        let code = code_of(&text);
        // Where this module's children live: beside a root or mod.rs, else in a folder named
        // after the file.
        let name = file.file_stem().unwrap().to_str().unwrap();
        let dir = if path.is_empty() || name == "mod" {
            file.parent().unwrap().to_path_buf()
        } else {
            file.parent().unwrap().join(name)
        };
        let mut children = BTreeSet::new();
        for line in code.lines() {
            let t = line.trim();
            let t = t.strip_prefix("pub(crate) ").or_else(|| t.strip_prefix("pub ")).unwrap_or(t);
            if let Some(m) = t.strip_prefix("mod ").and_then(|r| r.strip_suffix(';')) {
                let m = m.trim().to_string();
                let f = [dir.join(format!("{m}.rs")), dir.join(&m).join("mod.rs")]
                    .into_iter()
                    .find(|f| f.exists())
                    .unwrap_or_else(|| panic!("{}: mod {m} has no file", file.display()));
                let mut child = path.clone();
                child.push(m.clone());
                children.insert(m);
                todo.push((child, f));
            }
        }
        let mut refs = Vec::new();
        let mut reexports = HashMap::new();
        // `use` statements, possibly spread over lines.
        let flat = code.replace('\n', " ");
        for stmt in flat.split(';') {
            let s = stmt.trim();
            let Some(pos) = s.find("use ").filter(|&p| p == 0 || s[..p].ends_with(' ')) else { continue };
            let vis = s[..pos].trim();
            if !(vis.is_empty() || vis.starts_with("pub") || vis.ends_with('}') || vis.ends_with(']')) {
                continue;
            }
            let is_pub = vis.split_whitespace().last().is_some_and(|v| v.starts_with("pub"));
            for (p, bound) in expand_use(&s[pos + 4..]) {
                let Some(abs) = absolute(&path, &p, &children) else { continue };
                if is_pub {
                    reexports.insert(bound, abs);
                } else {
                    refs.push(abs);
                }
            }
        }
        // Inline paths: `crate::x::y`, `super::x`, `self::x`.
        let is_path_char = |c: char| c.is_alphanumeric() || c == '_' || c == ':';
        for kw in ["crate::", "super::", "self::"] {
            for (i, _) in code.match_indices(kw) {
                if code[..i].ends_with(is_path_char) {
                    continue; // inside a longer path or name
                }
                let end = code[i..].find(|c: char| !is_path_char(c)).map_or(code.len(), |e| i + e);
                let segs: Vec<String> =
                    code[i..end].split("::").filter(|s| !s.is_empty()).map(str::to_string).collect();
                if let Some(abs) = absolute(&path, &segs, &children) {
                    refs.push(abs);
                }
            }
        }
        modules.insert(path, Module { refs, reexports });
    }
    modules
}

/// The module a path names (following re-exports), if it is one of this crate's.
fn target(modules: &BTreeMap<ModPath, Module>, path: &[String]) -> Option<ModPath> {
    let mut path = path.to_vec();
    for _ in 0..8 {
        let n = (0..=path.len()).rev().find(|&n| modules.contains_key(&path[..n]))?;
        let m = &modules[&path[..n]];
        match path.get(n).and_then(|name| m.reexports.get(name)) {
            Some(to) if to.as_slice() != path.as_slice() => {
                let mut next = to.clone();
                next.extend(path[n + 1..].iter().cloned());
                path = next;
            }
            _ => return Some(path[..n].to_vec()),
        }
    }
    None
}

/// Every cycle in a graph, as strongly connected components of more than one node (Tarjan).
fn cycles<N: Ord + Clone>(graph: &BTreeMap<N, BTreeSet<N>>) -> Vec<Vec<N>> {
    struct T<'a, N> {
        graph: &'a BTreeMap<N, BTreeSet<N>>,
        index: BTreeMap<N, usize>,
        low: BTreeMap<N, usize>,
        stack: Vec<N>,
        on: BTreeSet<N>,
        out: Vec<Vec<N>>,
    }
    impl<N: Ord + Clone> T<'_, N> {
        fn visit(&mut self, v: &N) {
            let i = self.index.len();
            self.index.insert(v.clone(), i);
            self.low.insert(v.clone(), i);
            self.stack.push(v.clone());
            self.on.insert(v.clone());
            for w in self.graph.get(v).into_iter().flatten() {
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let l = self.low[v].min(self.low[w]);
                    self.low.insert(v.clone(), l);
                } else if self.on.contains(w) {
                    let l = self.low[v].min(self.index[w]);
                    self.low.insert(v.clone(), l);
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on.remove(&w);
                    let done = &w == v;
                    comp.push(w);
                    if done {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.out.push(comp);
                }
            }
        }
    }
    let mut t =
        T { graph, index: BTreeMap::new(), low: BTreeMap::new(), stack: vec![], on: BTreeSet::new(), out: vec![] };
    for v in graph.keys() {
        if !t.index.contains_key(v) {
            t.visit(v);
        }
    }
    t.out
}

fn show(p: &ModPath) -> String {
    if p.is_empty() { "crate".into() } else { p.join("::") }
}

#[test]
fn no_crate_has_an_import_cycle_between_files_or_subsystems() {
    let root = workspace_root();
    let mut problems = Vec::new();
    for pkg in CRATES {
        for crate_root in crate_roots(&root.join(pkg)) {
            let modules = read_crate(&crate_root);
            let mut files: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
            let mut subsystems: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
            for (from, m) in &modules {
                let edges = files.entry(from.clone()).or_default();
                for r in &m.refs {
                    let Some(to) = target(&modules, r) else { continue };
                    if &to == from {
                        continue;
                    }
                    edges.insert(to.clone());
                    // Subsystems: the root's own code is the crate's entry point, above them all.
                    if let (Some(a), Some(b)) = (from.first(), to.first())
                        && a != b
                    {
                        subsystems.entry(vec![a.clone()]).or_default().insert(vec![b.clone()]);
                    }
                }
            }
            let name = crate_root.strip_prefix(&root).unwrap().display().to_string();
            for (kind, graph) in [("files", &files), ("subsystems", &subsystems)] {
                for c in cycles(graph) {
                    let detail: Vec<String> = c
                        .iter()
                        .map(|n| {
                            let deps: Vec<String> = graph[n].iter().filter(|d| c.contains(d)).map(show).collect();
                            format!("{} -> {}", show(n), deps.join(", "))
                        })
                        .collect();
                    problems.push(format!("{name}: cycle between {kind}: {}", detail.join("; ")));
                }
            }
            assert!(modules.len() > 1 || !crate_root.ends_with("lib.rs") || *pkg == "tests", "{name}: read no modules");
        }
    }
    assert!(problems.is_empty(), "import cycles:\n{}", problems.join("\n"));
}

#[test]
fn no_source_file_is_longer_than_the_limit_unless_it_says_why() {
    let root = workspace_root();
    let mut long = Vec::new();
    let mut stack: Vec<PathBuf> = CRATES.iter().map(|c| root.join(c)).collect();
    stack.push(root.join("deploy"));
    while let Some(dir) = stack.pop() {
        for e in fs::read_dir(&dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                if !p.ends_with("target") {
                    stack.push(p);
                }
            } else if p.extension().is_some_and(|x| x == "rs" || x == "sh") {
                let lines = fs::read_to_string(&p).unwrap().lines().count();
                let rel = p.strip_prefix(&root).unwrap().display().to_string();
                if lines > MAX_LINES && !LONG_FILES.iter().any(|(f, _)| *f == rel) {
                    long.push(format!("{rel}: {lines} lines"));
                }
            }
        }
    }
    long.sort();
    assert!(long.is_empty(), "files over {MAX_LINES} lines without a reason in LONG_FILES:\n{}", long.join("\n"));
}

#[test]
fn every_file_architecture_md_names_exists() {
    // Each `## `crate/` …` section names files relative to that folder, its src/, the last
    // subfolder it named (a name ending in `/`), or the workspace root.
    let root = workspace_root();
    let text = fs::read_to_string(root.join("ARCHITECTURE.md")).unwrap();
    let (mut folder, mut sub, mut named, mut missing) = (None::<PathBuf>, None::<PathBuf>, 0, Vec::new());
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("## `") {
            folder = rest.split('`').next().map(|f| root.join(f));
            sub = None;
            continue;
        }
        let Some(dir) = &folder else { continue };
        for (i, token) in line.split('`').enumerate() {
            if i % 2 == 0 || token.contains([' ', '*']) {
                continue;
            }
            if token.ends_with('/') && dir.join(token).is_dir() {
                sub = Some(dir.join(token));
            }
            if !(token.ends_with(".rs") || token.ends_with(".sh") || token.ends_with(".yml")) {
                continue;
            }
            named += 1;
            let bases = [Some(dir.clone()), Some(dir.join("src")), sub.clone(), Some(root.clone())];
            if !bases.iter().flatten().any(|b| b.join(token).exists()) {
                missing.push(format!("{}: {token}", dir.strip_prefix(&root).unwrap().display()));
            }
        }
    }
    assert!(named > 50, "read only {named} file names from ARCHITECTURE.md");
    assert!(missing.is_empty(), "ARCHITECTURE.md names files that do not exist:\n{}", missing.join("\n"));
}
