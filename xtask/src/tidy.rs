//! Tidy checks: invariants of the layout that ARCHITECTURE.md states in prose, enforced as
//! ordinary tests (`cargo test -p xtask`, so `cargo xtask test` runs them), as rust-analyzer
//! does with its own tidy tests.
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use crate::sh::root;

/// The crates whose top-level modules must not import each other in a circle.
const ACYCLIC: [&str; 3] = ["kpi-core", "edge-worker", "xtask"];

/// The top-level modules of a crate: `src/NAME.rs` and `src/NAME/`, without the crate root.
fn modules(src: &Path) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for e in std::fs::read_dir(src).into_iter().flatten().flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let stem = match name.strip_suffix(".rs") {
            Some(stem) => stem.to_string(),
            None if e.path().is_dir() => name,
            None => continue,
        };
        if !["lib", "main"].contains(&stem.as_str()) {
            out.insert(stem);
        }
    }
    out
}

/// The code of a file as it builds outside tests: comments and `#[cfg(test)]` items (which
/// sit at the end of a module here) left out.
fn non_test_code(text: &str) -> String {
    let code = text.split("#[cfg(test)]").next().unwrap_or("");
    code.lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .collect::<Vec<_>>()
        .join("\n")
}

/// The crate modules named in `code` as `crate::NAME` or inside `use crate::{A, B::…}`.
fn imports(code: &str, known: &BTreeSet<String>) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect()
    };
    for (i, _) in code.match_indices("crate::") {
        let rest = &code[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level names of the group: split at commas outside nested braces.
            let mut depth = 0;
            let mut start = 0;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(ident(group[start..j].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(group[start..j].trim()));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out.retain(|m| known.contains(m));
    out
}

/// Every `.rs` file of a module (a file, or a directory's files), tests files left out.
fn files_of(src: &Path, module: &str) -> Vec<std::path::PathBuf> {
    let file = src.join(format!("{module}.rs"));
    if file.exists() {
        return vec![file];
    }
    let mut out = Vec::new();
    let mut dirs = vec![src.join(module)];
    while let Some(d) = dirs.pop() {
        for e in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let p = e.path();
            if p.is_dir() {
                dirs.push(p);
            } else if p.extension().is_some_and(|x| x == "rs")
                && p.file_name().is_some_and(|n| n != "tests.rs")
            {
                out.push(p);
            }
        }
    }
    out
}

/// The import graph of a crate's top-level modules.
fn graph(src: &Path) -> BTreeMap<String, BTreeSet<String>> {
    let known = modules(src);
    known
        .iter()
        .map(|m| {
            let mut deps = BTreeSet::new();
            for f in files_of(src, m) {
                let text = std::fs::read_to_string(&f).unwrap_or_default();
                deps.extend(imports(&non_test_code(&text), &known));
            }
            deps.remove(m);
            (m.clone(), deps)
        })
        .collect()
}

/// One cycle of `g`, as the path that closes it, if any.
fn cycle(g: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        g: &BTreeMap<String, BTreeSet<String>>,
        m: &str,
        path: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(i) = path.iter().position(|p| p == m) {
            let mut c = path[i..].to_vec();
            c.push(m.to_string());
            return Some(c);
        }
        if done.contains(m) {
            return None;
        }
        path.push(m.to_string());
        for d in g.get(m).into_iter().flatten() {
            if let Some(c) = visit(g, d, path, done) {
                return Some(c);
            }
        }
        path.pop();
        done.insert(m.to_string());
        None
    }
    let mut done = BTreeSet::new();
    g.keys()
        .find_map(|m| visit(g, m, &mut Vec::new(), &mut done))
}

#[test]
fn the_cycle_finder_finds_a_circle_and_reads_use_groups() {
    let known: BTreeSet<String> = ["a", "b", "c"].map(String::from).into();
    let code = "use crate::{a::X, b::{Y, Z}};\nlet q = crate::c::f();\n// crate::d";
    assert_eq!(imports(code, &known), known);
    let g: BTreeMap<String, BTreeSet<String>> = [
        ("a".to_string(), ["b".to_string()].into()),
        ("b".to_string(), ["c".to_string()].into()),
        ("c".to_string(), ["a".to_string()].into()),
    ]
    .into();
    assert_eq!(
        cycle(&g),
        Some(["a", "b", "c", "a"].map(String::from).to_vec())
    );
    let mut g = g;
    g.insert("c".into(), BTreeSet::new());
    assert_eq!(cycle(&g), None);
}

#[test]
fn no_crate_has_an_import_circle_between_its_modules() {
    for krate in ACYCLIC {
        let g = graph(&root().join(krate).join("src"));
        assert!(g.len() > 3, "{krate}: modules not found");
        if let Some(c) = cycle(&g) {
            panic!("{krate}: import circle {}", c.join(" → "));
        }
    }
}

/// The modules under `dirs` (relative to `crate_dir`) that the code map section of
/// `crate_dir` in ARCHITECTURE.md does not name (as `name` or `name/`).
fn unmapped(crate_dir: &str, dirs: &[&str]) -> Vec<String> {
    let doc = std::fs::read_to_string(root().join("ARCHITECTURE.md")).unwrap_or_default();
    let section = doc
        .split(&format!("### `{crate_dir}`"))
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .unwrap_or_default();
    dirs.iter()
        .flat_map(|d| modules(&root().join(crate_dir).join(d)))
        .filter(|m| !section.contains(&format!("`{m}`")) && !section.contains(&format!("`{m}/`")))
        .collect()
}

#[test]
fn every_kpi_core_module_is_in_the_architecture_code_map() {
    let missing = unmapped("kpi-core", &["src"]);
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's kpi-core code map does not name: {missing:?}"
    );
}

#[test]
fn every_edge_worker_module_route_file_and_table_is_in_the_architecture_code_map() {
    let missing = unmapped("edge-worker", &["src", "src/routes", "src/db"]);
    assert!(
        missing.is_empty(),
        "ARCHITECTURE.md's edge-worker code map does not name: {missing:?}"
    );
}

const NEEDS_BEGIN: &str =
    "<!-- needs:begin (generated from kpi-core's catalog by xtask's tidy test) -->";
const NEEDS_END: &str = "<!-- needs:end -->";

/// README's table of what each KPI needs, from the catalog.
fn needs_table() -> String {
    let mut s = String::from("| KPI | id | needs | without it |\n|---|---|---|---|\n");
    for k in kpi_core::kpi::catalog() {
        s.push_str(&format!(
            "| {} | `{}` | {} | {} |\n",
            k.label_en, k.id, k.needs.inputs, k.needs.when_missing
        ));
    }
    s
}

/// README's table of each KPI's default target, the period it is meant for and the rule
/// that maps a target to periods of other lengths, from the catalog.
fn targets_table() -> String {
    let mut s = String::from(
        "| KPI | id | default target (min – goal) | per | rule for other lengths |\n|---|---|---|---|---|\n",
    );
    for k in kpi_core::kpi::catalog() {
        let (bounds, per) = match k.default_target {
            Some(t) => (
                format!("{} – {}", t.min, t.goal),
                t.period.map_or("any period", |p| p.as_str()),
            ),
            None => ("—".to_string(), "—"),
        };
        s.push_str(&format!(
            "| {} | `{}` | {bounds} | {per} | `{}`: {} |\n",
            k.label_en,
            k.id,
            k.target_scaling.as_str(),
            k.target_scaling.rule()
        ));
    }
    s
}

const TARGETS_BEGIN: &str =
    "<!-- targets:begin (generated from kpi-core's catalog by xtask's tidy test) -->";
const TARGETS_END: &str = "<!-- targets:end -->";

/// Checks README's section between `begin` and `end` against `table`;
/// `KPI_TIDY_FIX=1 cargo test -p xtask readme` rewrites it from the catalog.
fn check_readme_section(begin: &str, end: &str, table: String, what: &str) {
    let path = root().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap_or_default();
    let want = format!("{begin}\n{table}{end}");
    let have = crate::sections::marked(&readme, begin, end);
    if have.as_deref() == Some(want.as_str()) {
        return;
    }
    if std::env::var_os("KPI_TIDY_FIX").is_some() {
        if let Some(old) = have {
            std::fs::write(&path, readme.replace(&old, &want)).unwrap();
            return;
        }
    }
    panic!(
        "README's {what} differs from kpi-core's catalog; \
         run KPI_TIDY_FIX=1 cargo test -p xtask readme. Expected:\n{want}"
    );
}

#[test]
fn readme_says_what_each_kpi_needs_as_the_catalog_does() {
    check_readme_section(
        NEEDS_BEGIN,
        NEEDS_END,
        needs_table(),
        "\"What each KPI needs from your CRM\"",
    );
}

#[test]
fn readme_states_each_kpis_target_rule_as_the_catalog_does() {
    check_readme_section(
        TARGETS_BEGIN,
        TARGETS_END,
        targets_table(),
        "table of targets and their periods",
    );
}
