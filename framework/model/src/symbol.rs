//! Interned strings.
//!
//! Regions, zones, tenants, label keys and values are compared on the hot path
//! (node selectors, taints, fair-share groups). Interning them once at load time
//! turns every such comparison into a `u32` compare.

use std::collections::HashMap;

/// An interned string: an index into a [`Symbols`] table.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Sym(pub u32);

/// The interner. Symbol `0` is always the empty string.
#[derive(Clone, Debug)]
pub struct Symbols {
    names: Vec<String>,
    index: HashMap<String, Sym>,
}

impl Default for Symbols {
    fn default() -> Self {
        let mut s = Symbols { names: Vec::new(), index: HashMap::new() };
        s.intern("");
        s
    }
}

impl Symbols {
    /// The symbol of the empty string.
    pub const EMPTY: Sym = Sym(0);

    /// Returns the symbol for `name`, adding it if it is new.
    pub fn intern(&mut self, name: &str) -> Sym {
        if let Some(&s) = self.index.get(name) {
            return s;
        }
        let s = Sym(self.names.len() as u32);
        self.names.push(name.to_owned());
        self.index.insert(name.to_owned(), s);
        s
    }

    /// Returns the symbol for `name` if it was interned.
    pub fn get(&self, name: &str) -> Option<Sym> {
        self.index.get(name).copied()
    }

    /// The string behind `sym`.
    pub fn name(&self, sym: Sym) -> &str {
        &self.names[sym.0 as usize]
    }

    /// Number of symbols, including the empty string.
    pub fn len(&self) -> usize {
        self.names.len()
    }

    /// Always false: the empty string is always present.
    pub fn is_empty(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interning_the_same_string_twice_gives_the_same_symbol() {
        let mut s = Symbols::default();
        let a = s.intern("europe-arctic");
        let b = s.intern("americas");
        assert_eq!(s.intern("europe-arctic"), a);
        assert_ne!(a, b);
        assert_eq!(s.name(b), "americas");
        assert_eq!(s.get(""), Some(Symbols::EMPTY));
        assert_eq!(s.get("nowhere"), None);
    }
}
