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

// Every event type, documented in README and OpenAPI and checked against kpi-core: the
// names of `EVENT_TYPES`, the fields each type requires and reads (found by leaving each
// field out of an event that carries them all), the KPIs it feeds, and examples that
// validate.

/// The fields every event may carry, described once in README.
const COMMON_FIELDS: [&str; 8] = [
    "id", "type", "at", "count", "channel", "campaign", "source", "agent",
];

/// Fields a type reads outside kpi-core: the worker reads an order's `customer` (its
/// previous orders), and `deal.stage` accepts its stage position under `order`, as before
/// `stage_position` existed.
const READ_BESIDES_KPI_CORE: [(&str, &str); 2] =
    [("order.placed", "customer"), ("deal.stage", "order")];

/// An event as the API checks it: the worker's `id`, then kpi-core's wire shape and rules.
fn check_event(v: &serde_json::Value) -> Result<kpi_core::Event, String> {
    if v["id"].as_str().is_none_or(str::is_empty) {
        return Err("no `id` (the API needs one)".into());
    }
    let raw: kpi_core::RawEvent =
        serde_json::from_value(v.clone()).map_err(|e| format!("wire shape: {e}"))?;
    kpi_core::Event::from_wire(&raw, kpi_core::period::TimeZone::DEFAULT).map_err(|e| e.to_string())
}

/// Every wire field of `RawEvent`, as the API names it: an event with every field present,
/// written out with no `..`, so that a field added to `RawEvent` fails to compile here until
/// it is listed (`RawEvent` writes no member for an absent field).
fn wire_fields() -> BTreeSet<String> {
    use kpi_core::event::OrderField;
    use kpi_core::fact::WireInstant;
    let text = || Some(String::new());
    let at = || Some(WireInstant::Millis(0));
    let every = kpi_core::RawEvent {
        id: text(),
        kind: String::new(),
        at: at(),
        count: Some(0),
        source: text(),
        campaign: text(),
        channel: text(),
        deal: text(),
        stage: text(),
        stage_position: Some(0),
        order: Some(OrderField::Number(0)),
        previous_stage: text(),
        amount: Some(0),
        previous_amount: Some(0),
        currency: text(),
        customer: text(),
        mrr: Some(0),
        previous_mrr: Some(0),
        pages: Some(0),
        user: text(),
        activity: text(),
        agent: text(),
        first_contact_at: at(),
        first_touch_at: at(),
        previous_order_at: at(),
        second_previous_order_at: at(),
        landing: Some(false),
        upsell: Some(false),
        previous_upsell_at: at(),
        purpose: text(),
    };
    match serde_json::to_value(every) {
        Ok(serde_json::Value::Object(m)) => m.keys().cloned().collect(),
        other => panic!("RawEvent is not an object: {other:?}"),
    }
}

/// An event of type `t` carrying every wire field, with values valid together.
fn carrying_every_field(t: &str) -> serde_json::Value {
    serde_json::json!({
        "id": "ev-1", "type": t, "at": "2026-11-23T10:00:00+07:00", "count": 2,
        "channel": "zalo", "campaign": "tet-2027", "source": "facebook", "agent": "lan",
        "deal": "D-1", "stage": "demo", "stage_position": 2, "order": "O-1042",
        "previous_stage": "consult", "amount": 1999, "previous_amount": 1500,
        "currency": "USD", "customer": "C-1", "mrr": 900, "previous_mrr": 500, "pages": 3,
        "user": "lan", "kind": "call", "first_contact_at": "2026-11-23T10:05:00+07:00",
        "first_touch_at": "2026-10-01T09:00:00+07:00",
        "previous_order_at": "2026-10-20T15:00:00+07:00",
        "second_previous_order_at": "2026-09-02T11:00:00+07:00", "landing": true,
        "upsell": true, "previous_upsell_at": "2026-10-20T15:00:00+07:00",
        "purpose": "retention",
    })
}

/// The fields of type `t` beyond [`COMMON_FIELDS`]: (required, read). A field is required
/// when leaving it out is `missing_field`, read when leaving it out changes the event.
fn fields_of_type(t: &str) -> (BTreeSet<String>, BTreeSet<String>) {
    let all = carrying_every_field(t);
    let full = check_event(&all).unwrap_or_else(|e| panic!("{t} with every field: {e}"));
    let (mut required, mut read) = (BTreeSet::new(), BTreeSet::new());
    for f in wire_fields() {
        if COMMON_FIELDS.contains(&f.as_str()) {
            continue;
        }
        let mut v = all.clone();
        v.as_object_mut().map(|m| m.remove(&f));
        match check_event(&v) {
            Ok(e) if e == full => continue,
            Err(e) if e == format!("missing field `{f}`") => {
                required.insert(f.clone());
            }
            _ => {}
        }
        read.insert(f);
    }
    for (ty, f) in READ_BESIDES_KPI_CORE {
        if ty == t {
            read.insert(f.to_string());
        }
    }
    (required, read)
}

/// The KPIs an event of type `t` can feed: those reading a family its events add to (the
/// event with every field, with each left out, and `examples`).
fn kpis_fed(t: &str, examples: &[&serde_json::Value]) -> BTreeSet<&'static str> {
    let all = carrying_every_field(t);
    let mut events: Vec<serde_json::Value> = examples.iter().map(|v| (*v).clone()).collect();
    events.push(all.clone());
    for f in wire_fields() {
        let mut v = all.clone();
        v.as_object_mut().map(|m| m.remove(&f));
        events.push(v);
    }
    for purpose in ["acquisition", "support"] {
        let mut v = all.clone();
        v["purpose"] = purpose.into();
        events.push(v);
    }
    let families: BTreeSet<kpi_core::Family> = events
        .iter()
        .filter_map(|v| check_event(v).ok())
        .flat_map(|e| e.contributions().into_iter().map(|(k, _)| k.family))
        .collect();
    kpi_core::kpi::catalog()
        .filter(|k| kpi_core::kpi::families(k).any(|f| families.contains(&f)))
        .map(|k| k.id)
        .collect()
}

/// True when `text` names `word` on its own (not inside a longer name).
fn names(text: &str, word: &str) -> bool {
    let part = |c: char| c.is_alphanumeric() || c == '_' || c == '.';
    text.match_indices(word).any(|(i, _)| {
        !text[..i].chars().next_back().is_some_and(part)
            && !text[i + word.len()..]
                .trim_end_matches('.')
                .chars()
                .next()
                .is_some_and(part)
    })
}

/// The code spans of a line of Markdown.
fn code_spans(s: &str) -> Vec<&str> {
    s.split('`').skip(1).step_by(2).collect()
}

/// README's "Every event type" subsection.
fn readme_event_section() -> String {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap_or_default();
    let sends = readme
        .split("\n## Send tickets and CRM events\n")
        .nth(1)
        .and_then(|s| s.split("\n## ").next())
        .unwrap_or_default();
    sends
        .split("\n### Every event type\n")
        .nth(1)
        .and_then(|s| s.split("\n### ").next())
        .unwrap_or_default()
        .to_string()
}

/// The rows of the subsection's table: (type, required, optional, feeds, example).
fn readme_event_rows(section: &str) -> Vec<[String; 5]> {
    section
        .lines()
        .filter(|l| l.starts_with("| `"))
        .map(|l| {
            let cells: Vec<String> = l
                .trim()
                .trim_matches('|')
                .split(" | ")
                .map(|c| c.trim().to_string())
                .collect();
            cells
                .try_into()
                .unwrap_or_else(|c| panic!("README event row without 5 cells: {c:?}"))
        })
        .collect()
}

#[test]
fn every_event_type_is_documented_in_readme_with_its_fields_kpis_and_a_valid_example() {
    let section = readme_event_section();
    assert!(
        !section.is_empty(),
        "README has no \"### Every event type\" under \"## Send tickets and CRM events\""
    );
    for f in COMMON_FIELDS {
        assert!(
            section.contains(&format!("`{f}`")),
            "README: common field `{f}` not described"
        );
    }
    let rows = readme_event_rows(&section);
    let types: Vec<&str> = rows.iter().map(|r| code_spans(&r[0])[0]).collect();
    assert_eq!(
        types,
        kpi_core::event::EVENT_TYPES,
        "README's event table: every type of kpi-core's EVENT_TYPES, once, in its order"
    );
    let wire = wire_fields();
    let mut problems = Vec::new();
    for [ty, required, optional, feeds, example] in &rows {
        let t = code_spans(ty)[0];
        let fields = |cell: &str| -> BTreeSet<String> {
            code_spans(cell)
                .into_iter()
                .filter(|s| wire.contains(*s))
                .map(String::from)
                .collect()
        };
        let (want_required, want_read) = fields_of_type(t);
        let (req, opt) = (fields(required), fields(optional));
        if req != want_required {
            problems.push(format!(
                "{t}: required {req:?}, kpi-core requires {want_required:?}"
            ));
        }
        let said: BTreeSet<String> = req
            .union(&opt)
            .filter(|f| !COMMON_FIELDS.contains(&f.as_str()))
            .cloned()
            .collect();
        if said != want_read {
            problems.push(format!(
                "{t}: fields {said:?}, kpi-core reads {want_read:?}"
            ));
        }
        let ex = code_spans(example).into_iter().find(|s| s.starts_with('{'));
        let ex: serde_json::Value = match ex.map(serde_json::from_str) {
            Some(Ok(v)) => v,
            other => {
                problems.push(format!("{t}: example is not JSON: {other:?}"));
                continue;
            }
        };
        problems.extend(example_problems(t, &ex, &want_read));
        let fed = kpis_fed(t, &[&ex]);
        for k in code_spans(feeds) {
            if kpi_core::kpi::find(k).is_err() {
                problems.push(format!("{t}: feeds `{k}`, not a catalog KPI"));
            } else if !fed.contains(k) {
                problems.push(format!("{t}: feeds `{k}`, which reads nothing it adds to"));
            }
        }
        for k in kpi_core::kpi::catalog() {
            if names(k.needs.inputs, t) && !code_spans(feeds).contains(&k.id) {
                problems.push(format!(
                    "{t}: the catalog says `{}` needs it; not in feeds",
                    k.id
                ));
            }
        }
    }
    assert!(
        problems.is_empty(),
        "README's event table:\n{}",
        problems.join("\n")
    );
}

/// What is wrong with an example of type `t`: it must validate as the API does, be of its
/// type, and carry only fields its type reads (besides the common ones and `currency`).
fn example_problems(t: &str, ex: &serde_json::Value, read: &BTreeSet<String>) -> Vec<String> {
    let mut out = Vec::new();
    if ex["type"] != t {
        out.push(format!("{t}: example of type {}", ex["type"]));
    }
    if let Err(e) = check_event(ex) {
        out.push(format!("{t}: example {ex} is rejected: {e}"));
    }
    for f in ex.as_object().into_iter().flat_map(|m| m.keys()) {
        if !COMMON_FIELDS.contains(&f.as_str()) && f != "currency" && !read.contains(f) {
            out.push(format!(
                "{t}: example carries `{f}`, which its type does not read"
            ));
        }
    }
    out
}

#[test]
fn the_openapi_event_schema_describes_every_field_with_an_example_of_every_type() {
    let path = root().join("edge-worker/api/openapi.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).unwrap_or_default())
            .expect("openapi.json parses");
    let event = &doc["components"]["schemas"]["Event"];
    let props = event["properties"]
        .as_object()
        .expect("Event has properties");
    let have: BTreeSet<String> = props.keys().cloned().collect();
    assert_eq!(
        have,
        wire_fields(),
        "Event's properties are RawEvent's wire fields"
    );
    for (name, p) in props {
        assert!(
            p["description"].as_str().is_some_and(|d| !d.is_empty()),
            "Event.{name} has no description"
        );
    }
    let names: Vec<&str> = props["type"]["enum"]
        .as_array()
        .expect("Event.type has an enum")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(names, kpi_core::event::EVENT_TYPES, "Event.type's enum");
    let channels: Vec<&str> = props["channel"]["enum"]
        .as_array()
        .expect("Event.channel has an enum")
        .iter()
        .filter_map(|v| v.as_str())
        .collect();
    assert_eq!(channels, kpi_core::Channel::ALL.map(|c| c.as_str()));
    let examples = event["examples"].as_array().expect("Event has examples");
    let mut problems = Vec::new();
    for t in kpi_core::event::EVENT_TYPES {
        let of_t: Vec<&serde_json::Value> = examples.iter().filter(|e| e["type"] == t).collect();
        if of_t.is_empty() {
            problems.push(format!("{t}: no example"));
        }
        let (_, read) = fields_of_type(t);
        for ex in of_t {
            problems.extend(example_problems(t, ex, &read));
        }
    }
    // README's examples are among them, so the two documents show the same events.
    for row in readme_event_rows(&readme_event_section()) {
        let ex = code_spans(&row[4]).into_iter().find(|s| s.starts_with('{'));
        let ex: Option<serde_json::Value> = ex.and_then(|s| serde_json::from_str(s).ok());
        if !ex.as_ref().is_some_and(|ex| examples.contains(ex)) {
            problems.push(format!(
                "README's example {ex:?} is not in Event's examples"
            ));
        }
    }
    for ex in examples {
        if !ex["type"]
            .as_str()
            .is_some_and(|t| kpi_core::event::EVENT_TYPES.contains(&t))
        {
            problems.push(format!("example of no known type: {ex}"));
        }
    }
    assert!(
        problems.is_empty(),
        "OpenAPI Event examples:\n{}",
        problems.join("\n")
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
