//! The registry: every plugin a pipeline may name, by extension point.
//!
//! Built-ins are registered by [`Registry::builtin`] from the one list in
//! `kairos_plugins::builtins()`. Registering a second plugin under a name that
//! an extension point already has is an error, never a silent override.

use std::collections::BTreeMap;

use kairos_model::{ExtensionPoint, PluginSpec};

/// Plugins by extension point and name.
#[derive(Clone, Debug, Default)]
pub struct Registry {
    specs: BTreeMap<(ExtensionPoint, &'static str), PluginSpec>,
}

/// A plugin registered twice.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("plugin `{name}` is already registered at extension point `{point}`")]
pub struct DuplicatePlugin {
    /// The name.
    pub name: String,
    /// The extension point.
    pub point: ExtensionPoint,
}

impl Registry {
    /// An empty registry.
    pub fn new() -> Self {
        Self::default()
    }

    /// A registry holding every built-in plugin.
    pub fn builtin() -> Self {
        let mut r = Registry::new();
        for spec in kairos_plugins::builtins() {
            r.register(spec).expect("built-in plugin names are unique");
        }
        r
    }

    /// Adds a plugin; a name already taken at the same extension point is an error.
    pub fn register(&mut self, spec: PluginSpec) -> Result<(), DuplicatePlugin> {
        let key = (spec.point, spec.name);
        if self.specs.contains_key(&key) {
            return Err(DuplicatePlugin { name: spec.name.to_owned(), point: spec.point });
        }
        self.specs.insert(key, spec);
        Ok(())
    }

    /// The plugin `name` at `point`.
    pub fn get(&self, point: ExtensionPoint, name: &str) -> Option<&PluginSpec> {
        self.specs.iter().find(|((p, n), _)| *p == point && *n == name).map(|(_, s)| s)
    }

    /// Names registered at `point`, sorted.
    pub fn names(&self, point: ExtensionPoint) -> Vec<&'static str> {
        self.specs.keys().filter(|(p, _)| *p == point).map(|(_, n)| *n).collect()
    }

    /// Every spec, by extension point then name.
    pub fn specs(&self) -> impl Iterator<Item = &PluginSpec> {
        self.specs.values()
    }

    /// The extension points where `name` is registered (to say "`fifo` is an
    /// order plugin, not a score plugin").
    pub fn points_of(&self, name: &str) -> Vec<ExtensionPoint> {
        self.specs.keys().filter(|(_, n)| *n == name).map(|(p, _)| *p).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registering_a_name_twice_at_one_point_is_an_error() {
        let mut r = Registry::builtin();
        let fifo = *r.get(ExtensionPoint::Order, "fifo").expect("fifo is built in");
        let err = r.register(fifo).unwrap_err();
        assert_eq!(err.to_string(), "plugin `fifo` is already registered at extension point `order`");
    }

    #[test]
    fn every_builtin_named_by_the_issue_is_registered() {
        let r = Registry::builtin();
        let want = [
            (ExtensionPoint::Order, "fifo"),
            (ExtensionPoint::Order, "priority"),
            (ExtensionPoint::Order, "edf"),
            (ExtensionPoint::Order, "fair-share"),
            (ExtensionPoint::Filter, "fit"),
            (ExtensionPoint::Filter, "node-selector"),
            (ExtensionPoint::Filter, "taints"),
            (ExtensionPoint::Filter, "headroom"),
            (ExtensionPoint::Score, "first-fit"),
            (ExtensionPoint::Score, "best-fit"),
            (ExtensionPoint::Score, "worst-fit"),
            (ExtensionPoint::Score, "spread"),
        ];
        for (point, name) in want {
            assert!(r.get(point, name).is_some(), "{point} plugin `{name}` is registered");
        }
    }
}
