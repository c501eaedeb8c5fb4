//! Resource dimensions.
//!
//! A cluster declares its dimensions by name (`cpu`, `memory`, `antenna`, `gpu`,
//! …); every resource vector in kairos — a node's capacity, a job's request —
//! is a slice indexed by the dimension's position in that declaration. Quantities
//! are whole units of the dimension ([`Qty`]); the cluster says what a unit is
//! (a core, a MiB, an antenna).

/// A quantity of one resource dimension, in whole units.
pub type Qty = u64;

/// The declared resource dimensions of a cluster, in declaration order.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ResourceSpace {
    names: Vec<String>,
}

impl ResourceSpace {
    /// Builds a space from dimension names. Duplicates are a caller error and are
    /// checked by the loader, which can name the file position.
    pub fn new(names: impl IntoIterator<Item = impl Into<String>>) -> Self {
        ResourceSpace { names: names.into_iter().map(Into::into).collect() }
    }

    /// Number of dimensions.
    pub fn dims(&self) -> usize {
        self.names.len()
    }

    /// Position of dimension `name`.
    pub fn index(&self, name: &str) -> Option<usize> {
        self.names.iter().position(|n| n == name)
    }

    /// Name of dimension `d`.
    pub fn name(&self, d: usize) -> &str {
        &self.names[d]
    }

    /// All dimension names in order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}
