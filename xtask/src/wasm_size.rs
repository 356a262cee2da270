//! Where a wasm module's bytes go: function bodies grouped by the crate their names start
//! with (read from the `name` section, which worker-build keeps until `build::worker` strips
//! it), the data segments, and the rest. Written beside the worker at every build
//! (`edge-worker/build/size-by-crate.txt`) and reported by `cargo xtask bench` (issue 11: cut
//! what does not earn its bytes).
use std::collections::BTreeMap;

/// The breakdown of one module.
#[derive(Debug, Default, PartialEq)]
pub struct Breakdown {
    /// The whole file.
    pub total: usize,
    /// Function bodies (code section entries), by crate, largest first.
    pub code_by_crate: Vec<(String, usize)>,
    /// The largest function bodies: (name, bytes).
    pub largest: Vec<(String, usize)>,
    /// Data segments (string constants, tables of labels…).
    pub data: usize,
    /// Custom sections (the names, producers…), which the deployed worker does not carry.
    pub custom: usize,
}

struct Reader<'a> {
    b: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn byte(&mut self) -> Result<u8, String> {
        let v = *self.b.get(self.at).ok_or("wasm: unexpected end")?;
        self.at += 1;
        Ok(v)
    }

    fn leb(&mut self) -> Result<u64, String> {
        let (mut v, mut shift) = (0u64, 0);
        loop {
            let b = self.byte()?;
            v |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return Ok(v);
            }
            shift += 7;
            if shift > 63 {
                return Err("wasm: LEB128 too long".into());
            }
        }
    }

    fn bytes(&mut self, n: usize) -> Result<&'a [u8], String> {
        let end = self.at.checked_add(n).filter(|e| *e <= self.b.len());
        let s = &self.b[self.at..end.ok_or("wasm: section past the end")?];
        self.at += n;
        Ok(s)
    }

    fn name(&mut self) -> Result<String, String> {
        let n = self.leb()? as usize;
        Ok(String::from_utf8_lossy(self.bytes(n)?).into_owned())
    }

    fn limits(&mut self) -> Result<(), String> {
        let flags = self.byte()?;
        self.leb()?;
        if flags & 1 != 0 {
            self.leb()?;
        }
        Ok(())
    }
}

/// The crate a demangled function name belongs to: `kpi_core::…`, `<serde_json::… as …>::…`
/// (the implementing type's crate), `core[hash]::…` → `core`; names without a path (runtime,
/// wasm-bindgen shims) are "(unnamed paths)".
pub fn crate_of(name: &str) -> String {
    let s = name.trim_start_matches(['<', '&', '*', '(', ' ']);
    let s = s.strip_prefix("mut ").unwrap_or(s);
    let s = s.strip_prefix("dyn ").unwrap_or(s);
    match s.find("::") {
        Some(i) if !s[..i].contains([' ', '<']) => {
            let head = &s[..i];
            head.split('[').next().unwrap_or(head).to_string()
        }
        _ => "(unnamed paths)".to_string(),
    }
}

/// Reads the module's sections.
pub fn breakdown(wasm: &[u8]) -> Result<Breakdown, String> {
    if wasm.get(..4) != Some(b"\0asm") {
        return Err("not a wasm module".into());
    }
    let mut r = Reader { b: wasm, at: 8 };
    let mut imported_funcs = 0usize;
    let mut bodies: Vec<usize> = Vec::new();
    let mut names: BTreeMap<usize, String> = BTreeMap::new();
    let mut data = 0usize;
    let mut custom = 0usize;
    while r.at < wasm.len() {
        let id = r.byte()?;
        let size = r.leb()? as usize;
        let payload = r.bytes(size)?;
        let mut s = Reader { b: payload, at: 0 };
        match id {
            2 => {
                for _ in 0..s.leb()? {
                    s.name()?;
                    s.name()?;
                    match s.byte()? {
                        0 => {
                            s.leb()?;
                            imported_funcs += 1;
                        }
                        1 => {
                            s.byte()?;
                            s.limits()?;
                        }
                        2 => s.limits()?,
                        3 => {
                            s.byte()?;
                            s.byte()?;
                        }
                        4 => {
                            s.byte()?;
                            s.leb()?;
                        }
                        k => return Err(format!("wasm: unknown import kind {k}")),
                    }
                }
            }
            10 => {
                for _ in 0..s.leb()? {
                    let start = s.at;
                    let n = s.leb()? as usize;
                    s.bytes(n)?;
                    bodies.push(s.at - start);
                }
            }
            11 => data += size,
            0 => {
                custom += size;
                if s.name()? == "name" {
                    while s.at < payload.len() {
                        let sub = s.byte()?;
                        let len = s.leb()? as usize;
                        let body = s.bytes(len)?;
                        if sub == 1 {
                            let mut f = Reader { b: body, at: 0 };
                            for _ in 0..f.leb()? {
                                let index = f.leb()? as usize;
                                names.insert(index, f.name()?);
                            }
                        }
                    }
                }
            }
            _ => {}
        }
    }
    let mut by_crate: BTreeMap<String, usize> = BTreeMap::new();
    let mut largest = Vec::new();
    for (i, size) in bodies.iter().enumerate() {
        let name = names
            .get(&(imported_funcs + i))
            .cloned()
            .unwrap_or_else(|| format!("#{}", imported_funcs + i));
        *by_crate.entry(crate_of(&name)).or_default() += size;
        largest.push((name, *size));
    }
    let mut code_by_crate: Vec<(String, usize)> = by_crate.into_iter().collect();
    code_by_crate.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    largest.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    largest.truncate(12);
    Ok(Breakdown {
        total: wasm.len(),
        code_by_crate,
        largest,
        data,
        custom,
    })
}

/// One line of text: code by crate, data, the largest functions (KB, raw bytes).
pub fn summary(b: &Breakdown) -> String {
    let kb = |n: usize| format!("{:.1} KB", n as f64 / 1024.0);
    let code: usize = b.code_by_crate.iter().map(|(_, n)| n).sum();
    let crates: Vec<String> = b
        .code_by_crate
        .iter()
        .take(14)
        .map(|(c, n)| format!("{c} {}", kb(*n)))
        .collect();
    let largest: Vec<String> = b
        .largest
        .iter()
        .map(|(f, n)| {
            // Hashes and long generic paths say little in a table.
            let short = f.rsplit_once("::h").map_or(f.as_str(), |(head, _)| head);
            let short: String = short.chars().take(70).collect();
            format!("{short} {}", kb(*n))
        })
        .collect();
    format!(
        "raw, before gzip: code {} ({}), data segments {}, other sections {}, custom \
         sections (names; stripped before deploy) {}. Largest functions: {}",
        kb(code),
        crates.join(", "),
        kb(b.data),
        kb(b.total.saturating_sub(code + b.data + b.custom)),
        kb(b.custom),
        largest.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crates_come_from_the_first_path_segment() {
        assert_eq!(
            crate_of("kpi_core::rollup::cells::Acc::finish::h1"),
            "kpi_core"
        );
        assert_eq!(
            crate_of("<serde_json::de::Deserializer<R> as core::fmt::Debug>::fmt::h2"),
            "serde_json"
        );
        assert_eq!(crate_of("core[c5930c85a12de822]::fmt::write"), "core");
        assert_eq!(
            crate_of("<&mut T as core::fmt::Display>::fmt"),
            "(unnamed paths)"
        );
        assert_eq!(crate_of("__wbindgen_malloc"), "(unnamed paths)");
    }

    #[test]
    fn a_hand_built_module_is_read_back() {
        // Header; import section: one function import; code section: two bodies (3 and 5
        // bytes); data section of 4 bytes; a name section naming both functions.
        let mut m = b"\0asm\x01\0\0\0".to_vec();
        let import = [1, 1, b'm', 1, b'f', 0, 0];
        m.extend([2, import.len() as u8]);
        m.extend(import);
        let code = [2, 2, 0, 0x0b, 4, 0, 0x41, 0, 0x1a];
        m.extend([10, code.len() as u8]);
        m.extend(code);
        m.extend([11, 4, 0, 0, 0, 0]);
        let mut names = vec![1];
        let map = [2, 1, 3, b'a', b':', b':', 2, 3, b'b', b':', b':'];
        names.push(map.len() as u8);
        names.extend(map);
        let mut custom = vec![4, b'n', b'a', b'm', b'e'];
        custom.extend(names);
        m.extend([0, custom.len() as u8]);
        m.extend(&custom);
        let b = breakdown(&m).unwrap();
        assert_eq!(b.total, m.len());
        assert_eq!(b.data, 4);
        assert_eq!(b.custom, custom.len());
        assert_eq!(
            b.code_by_crate,
            vec![("b".to_string(), 5), ("a".to_string(), 3)]
        );
        assert!(summary(&b).contains("code 0.0 KB"));
    }
}
