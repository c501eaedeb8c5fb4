//! How a plugin is described and built.
//!
//! Every plugin — built-in or, later, loaded — is described by a [`PluginSpec`]:
//! a name, the extension point it serves, a summary, a JSON Schema of its
//! arguments and a `build` function. The host deserializes nothing itself: it
//! hands the entry's `args` (already parsed from YAML) to `build`, which turns
//! them into the plugin's typed config with [`typed_args`] — unknown or
//! ill-typed arguments are errors — and resolves names (resources, label keys)
//! against the cluster through [`BuildContext`].

use serde::de::DeserializeOwned;

use crate::filter::FilterPlugin;
use crate::order::OrderPlugin;
use crate::rebalance::RebalancePlugin;
use crate::resources::ResourceSpace;
use crate::score::ScorePlugin;
use crate::symbol::{Sym, Symbols};

/// The four extension points.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ExtensionPoint {
    /// Which pending job goes next.
    Order,
    /// May this node take this job.
    Filter,
    /// How good is this node.
    Score,
    /// Move work after placement.
    Rebalance,
}

impl ExtensionPoint {
    /// The name used in pipeline files.
    pub fn as_str(self) -> &'static str {
        match self {
            ExtensionPoint::Order => "order",
            ExtensionPoint::Filter => "filter",
            ExtensionPoint::Score => "score",
            ExtensionPoint::Rebalance => "rebalance",
        }
    }
}

impl std::fmt::Display for ExtensionPoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A built plugin, ready to be called.
pub enum Built {
    /// An order plugin.
    Order(Box<dyn OrderPlugin>),
    /// A filter plugin.
    Filter(Box<dyn FilterPlugin>),
    /// A score plugin.
    Score(Box<dyn ScorePlugin>),
    /// A rebalance plugin.
    Rebalance(Box<dyn RebalancePlugin>),
}

impl Built {
    /// The extension point this plugin serves.
    pub fn point(&self) -> ExtensionPoint {
        match self {
            Built::Order(_) => ExtensionPoint::Order,
            Built::Filter(_) => ExtensionPoint::Filter,
            Built::Score(_) => ExtensionPoint::Score,
            Built::Rebalance(_) => ExtensionPoint::Rebalance,
        }
    }
}

/// A plugin call that failed (a script that threw, a library that panicked).
/// The host stops the run and reports it with the plugin's name, or applies the
/// pipeline entry's error policy where the plugin has one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct PluginError(pub String);

/// What every extension-point call returns.
pub type PluginResult = Result<(), PluginError>;

/// Bad plugin arguments, as a message for the pipeline author.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ArgsError(pub String);

/// What a plugin may resolve while it is built.
pub struct BuildContext<'a> {
    resources: &'a ResourceSpace,
    open_resources: Vec<String>,
    /// Interner for label keys, values, group names.
    pub symbols: &'a mut Symbols,
    /// True when no cluster is known (checking a pipeline on its own): any
    /// resource name is accepted.
    pub open: bool,
}

impl<'a> BuildContext<'a> {
    /// A context that resolves names against a cluster's resources.
    pub fn new(resources: &'a ResourceSpace, symbols: &'a mut Symbols) -> Self {
        BuildContext { resources, open_resources: Vec::new(), symbols, open: false }
    }

    /// A context for checking a pipeline without a cluster: any resource name
    /// resolves (to a fresh index).
    pub fn open(resources: &'a ResourceSpace, symbols: &'a mut Symbols) -> Self {
        BuildContext { resources, open_resources: Vec::new(), symbols, open: true }
    }

    /// The cluster's resource dimensions.
    pub fn resources(&self) -> &ResourceSpace {
        self.resources
    }

    /// Index of resource `name`, or an error listing the declared ones.
    pub fn resource(&mut self, name: &str) -> Result<usize, ArgsError> {
        if let Some(i) = self.resources.index(name) {
            return Ok(i);
        }
        if self.open {
            let i = match self.open_resources.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    self.open_resources.push(name.to_owned());
                    self.open_resources.len() - 1
                }
            };
            return Ok(self.resources.dims() + i);
        }
        Err(ArgsError(format!(
            "unknown resource `{name}`; the cluster declares: {}",
            self.resources.names().join(", ")
        )))
    }

    /// The resource names resolved that the cluster does not declare (only an
    /// open context accepts them), in the order first asked for.
    pub fn open_resources(&self) -> &[String] {
        &self.open_resources
    }

    /// Interns `name`.
    pub fn sym(&mut self, name: &str) -> Sym {
        self.symbols.intern(name)
    }
}

/// Describes one plugin: what the registry stores.
#[derive(Clone, Copy)]
pub struct PluginSpec {
    /// Name used in pipeline files. Third-party names carry a `vendor.` prefix.
    pub name: &'static str,
    /// The extension point it serves.
    pub point: ExtensionPoint,
    /// One line for `kairos plugins` and the schema.
    pub summary: &'static str,
    /// JSON Schema of the plugin's `args`.
    pub args_schema: fn() -> serde_json::Value,
    /// Builds the plugin from its `args` (JSON `null` when absent).
    pub build: fn(&serde_json::Value, &mut BuildContext<'_>) -> Result<Built, ArgsError>,
}

impl std::fmt::Debug for PluginSpec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PluginSpec").field("name", &self.name).field("point", &self.point).finish()
    }
}

/// Deserializes a plugin's typed config from its `args`; absent args (`null`)
/// give the config's defaults. Unknown fields are errors when the config says
/// `#[serde(deny_unknown_fields)]`, as every built-in's does.
pub fn typed_args<C: DeserializeOwned + Default>(args: &serde_json::Value) -> Result<C, ArgsError> {
    if args.is_null() {
        return Ok(C::default());
    }
    serde_path_to_error::deserialize(args.clone()).map_err(|e| {
        let mut path = e.path().to_string();
        let message = plain_types(&e.inner().to_string());
        // An unknown field's error already names it: the path names its parent.
        if let Some((parent, last)) = path.rsplit_once('.').or(Some((".", path.as_str()))) {
            if message.starts_with(&format!("unknown field `{last}`")) {
                path = if parent.is_empty() { ".".to_owned() } else { parent.to_owned() };
            }
        }
        ArgsError(if path == "." { message } else { format!("`{path}`: {message}") })
    })
}

/// What a user of a YAML file calls a value of serde's type `rust` (`u64`:
/// "a whole number ≥ 0"), for the types plugin args and kairos files use.
pub fn plain_type(rust: &str) -> Option<&'static str> {
    Some(match rust {
        "f64" | "f32" | "floating point" => "a number",
        "u8" | "u16" | "u32" | "u64" | "u128" | "usize" => "a whole number ≥ 0",
        "i8" | "i16" | "i32" | "i64" | "i128" | "isize" => "a whole number",
        "bool" | "boolean" | "a boolean" => "true or false",
        "a string" | "a borrowed string" => "text",
        _ => return None,
    })
}

/// serde's Rust type names in a message (`expected f64`), said as a user of a
/// YAML file would (`expected a number`).
fn plain_types(message: &str) -> String {
    let Some(i) = message.find("expected ") else { return message.to_owned() };
    let rest = &message[i + "expected ".len()..];
    // The type runs to the end of the message or to a comma.
    let ty = rest.split(',').next().unwrap_or(rest);
    match plain_type(ty) {
        Some(plain) => format!("{}expected {plain}{}", &message[..i], &rest[ty.len()..]),
        None => message.to_owned(),
    }
}

/// The JSON Schema of a config type, for [`PluginSpec::args_schema`].
pub fn schema_of<C: schemars::JsonSchema>() -> serde_json::Value {
    serde_json::to_value(schemars::schema_for!(C)).unwrap_or_default()
}
