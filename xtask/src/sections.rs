//! `docs/BENCHMARKS.md` is written by two commands: `bench` writes the document and keeps
//! the chaos section and the hand-written findings; `chaos` replaces only its own section.
//! This module owns the markers and how a marked section is found, so that neither command
//! imports the other.

/// Where `cargo xtask chaos` writes its section.
pub const CHAOS_BEGIN: &str = "<!-- chaos:begin -->";
/// The end of the chaos section.
pub const CHAOS_END: &str = "<!-- chaos:end -->";
/// Where the hand-written findings on a run begin.
pub const FINDINGS_BEGIN: &str = "<!-- findings:begin -->";
/// The end of the findings.
pub const FINDINGS_END: &str = "<!-- findings:end -->";

/// The part of `doc` from `begin` to `end`, markers included.
pub fn marked(doc: &str, begin: &str, end: &str) -> Option<String> {
    let a = doc.find(begin)?;
    let b = doc[a..].find(end)? + a + end.len();
    Some(doc[a..b].to_string())
}

/// The chaos section of a BENCHMARKS.md, markers included.
pub fn chaos(doc: &str) -> Option<String> {
    marked(doc, CHAOS_BEGIN, CHAOS_END)
}

/// The sections `bench` keeps when it rewrites the document: chaos, then findings.
pub fn kept_by_bench(doc: &str) -> Vec<String> {
    [chaos(doc), marked(doc, FINDINGS_BEGIN, FINDINGS_END)]
        .into_iter()
        .flatten()
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_keeps_the_chaos_section_and_the_findings_markers_included() {
        let doc = format!(
            "# Benchmarks\n{FINDINGS_BEGIN}\nmine\n{FINDINGS_END}\n{CHAOS_BEGIN}\n| a |\n{CHAOS_END}\n"
        );
        assert_eq!(
            kept_by_bench(&doc),
            [
                format!("{CHAOS_BEGIN}\n| a |\n{CHAOS_END}"),
                format!("{FINDINGS_BEGIN}\nmine\n{FINDINGS_END}")
            ]
        );
        assert_eq!(marked("no markers", CHAOS_BEGIN, CHAOS_END), None);
        assert_eq!(chaos(&format!("{CHAOS_BEGIN} unterminated")), None);
    }
}
