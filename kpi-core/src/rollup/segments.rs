//! Segment names interned as small integers, so that a counter is addressed without a string:
//! each distinct name (a channel, an agent, a campaign…) is stored once and cells carry its
//! index. Id 0 is the empty name, the segment of `Dim::All`.
use alloc::string::String;
use alloc::vec::Vec;

/// An interned segment name: an index into a [`Segments`] table.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct SegId(pub u32);

impl SegId {
    /// The empty name: the segment of `Dim::All`.
    pub const NONE: SegId = SegId(0);
}

/// A table of segment names with a hash index (open addressing): interning is a hash and one
/// or two comparisons, however many names a tenant has.
#[derive(Debug, Clone)]
pub struct Segments {
    names: Vec<String>,
    /// Slots of `names` indexes + 1 (0 = empty); its length is a power of two.
    index: Vec<u32>,
}

impl Default for Segments {
    fn default() -> Self {
        let mut s = Segments {
            names: Vec::new(),
            index: alloc::vec![0; 16],
        };
        s.intern("");
        s
    }
}

fn hash(s: &str) -> u64 {
    // FNV-1a: short names, no DoS exposure (a tenant only slows its own reads).
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in s.bytes() {
        h ^= b as u64;
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

impl Segments {
    /// A table holding only the empty name.
    pub fn new() -> Self {
        Segments::default()
    }

    /// The id of `name`, adding it when new.
    pub fn intern(&mut self, name: &str) -> SegId {
        if let Some(id) = self.find(name) {
            return id;
        }
        if (self.names.len() + 1) * 4 > self.index.len() * 3 {
            self.grow();
        }
        let id = self.names.len() as u32;
        self.names.push(String::from(name));
        self.place(name, id);
        SegId(id)
    }

    /// The id of `name`, if interned.
    pub fn find(&self, name: &str) -> Option<SegId> {
        let mask = self.index.len() - 1;
        let mut i = hash(name) as usize & mask;
        loop {
            let slot = self.index[i];
            if slot == 0 {
                return None;
            }
            if self.names[slot as usize - 1] == name {
                return Some(SegId(slot - 1));
            }
            i = (i + 1) & mask;
        }
    }

    /// The name of an id (`""` for an id this table never gave).
    pub fn name(&self, id: SegId) -> &str {
        self.names.get(id.0 as usize).map_or("", String::as_str)
    }

    /// Number of names, the empty one included.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// True when only the empty name is held.
    pub fn is_empty(&self) -> bool {
        self.names.len() <= 1
    }

    fn place(&mut self, name: &str, id: u32) {
        let mask = self.index.len() - 1;
        let mut i = hash(name) as usize & mask;
        while self.index[i] != 0 {
            i = (i + 1) & mask;
        }
        self.index[i] = id + 1;
    }

    fn grow(&mut self) {
        self.index = alloc::vec![0; self.index.len() * 2];
        let names = core::mem::take(&mut self.names);
        for (id, n) in names.iter().enumerate() {
            self.place(n, id as u32);
        }
        self.names = names;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_is_stable_and_grows() {
        let mut s = Segments::new();
        assert_eq!(s.find(""), Some(SegId::NONE));
        let names: Vec<String> = (0..1000).map(|i| alloc::format!("agent-{i}")).collect();
        let ids: Vec<SegId> = names.iter().map(|n| s.intern(n)).collect();
        for (n, id) in names.iter().zip(&ids) {
            assert_eq!(s.intern(n), *id);
            assert_eq!(s.name(*id), n);
        }
        assert_eq!(s.len(), 1001);
        assert_eq!(s.find("nobody"), None);
        assert_eq!(s.name(SegId(5000)), "");
    }
}
