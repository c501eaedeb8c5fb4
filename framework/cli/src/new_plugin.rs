//! `kairos plugins new NAME [DIR]`: writes a native plugin crate that builds,
//! tests and loads, from the templates in `framework/cli/templates/native-plugin/`.
//!
//! 1. NAME is the crate's name; the plugin is `vendor.NAME` unless `--plugin`
//!    says otherwise; DIR (default `./NAME`) must not exist or be empty.
//! 2. The crate depends on kairos-abi by path: `--abi-path`, or else the
//!    kairos-abi this binary was built from, if it is still there. A user
//!    outside the kairos repository passes `--abi-path` (the `framework/abi`
//!    directory of a checkout, or the checkout itself).
//! 3. It writes `Cargo.toml` (a workspace of its own, `panic = "unwind"`),
//!    `src/lib.rs` (a plugin of the chosen point, with tests that use
//!    `kairos_abi::testing`), `README.md`, `pipeline.yaml` and `.gitignore`.

use std::path::{Path, PathBuf};

use kairos_host::Error;

/// The extension point of the plugin to write.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Point {
    /// Nodes running fewer jobs score higher.
    Score,
    /// Keeps some spare capacity free on every node.
    Filter,
    /// Shorter jobs first.
    Order,
    /// Evicts the jobs of draining nodes.
    Rebalance,
}

impl Point {
    fn as_str(self) -> &'static str {
        match self {
            Point::Score => "score",
            Point::Filter => "filter",
            Point::Order => "order",
            Point::Rebalance => "rebalance",
        }
    }

    fn source(self) -> &'static str {
        match self {
            Point::Score => include_str!("../templates/native-plugin/score.rs.tmpl"),
            Point::Filter => include_str!("../templates/native-plugin/filter.rs.tmpl"),
            Point::Order => include_str!("../templates/native-plugin/order.rs.tmpl"),
            Point::Rebalance => include_str!("../templates/native-plugin/rebalance.rs.tmpl"),
        }
    }
}

/// What to write.
pub struct Options {
    /// The crate's name.
    pub name: String,
    /// Where (default `./NAME`).
    pub dir: Option<PathBuf>,
    /// The plugin's extension point.
    pub point: Point,
    /// The plugin's name (default `vendor.NAME`).
    pub plugin: Option<String>,
    /// kairos-abi's directory, or a kairos checkout's.
    pub abi_path: Option<PathBuf>,
}

/// The kairos-abi this binary was built from.
const BUILT_WITH_ABI: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../abi");

/// Writes the crate; returns what to tell the user.
pub fn run(o: &Options) -> Result<String, Error> {
    let usage = |m: String| Error::Usage(m);
    let name = o.name.as_str();
    if !crate_name(name) {
        return Err(usage(format!(
            "`{name}` cannot be a crate's name: use lower-case letters, digits, `-` and `_`, starting with a letter (at most 64)"
        )));
    }
    let plugin = o.plugin.clone().unwrap_or_else(|| format!("vendor.{name}"));
    if !plugin_name(&plugin) {
        return Err(usage(format!(
            "`{plugin}` cannot be a plugin's name: use letters, digits, `.`, `-` and `_` (at most 128), e.g. `vendor.{name}`"
        )));
    }
    let dir = o.dir.clone().unwrap_or_else(|| PathBuf::from(name));
    if dir.exists() && (!dir.is_dir() || std::fs::read_dir(&dir).map_or(true, |mut d| d.next().is_some())) {
        return Err(usage(format!(
            "{} already exists and is not an empty directory: choose another DIR",
            dir.display()
        )));
    }
    let abi = abi_dir(o.abi_path.as_deref())?;
    let library =
        format!("{}{}.{}", std::env::consts::DLL_PREFIX, name.replace('-', "_"), std::env::consts::DLL_EXTENSION);
    let fill = |template: &str| {
        template
            .replace("{{crate}}", name)
            .replace("{{plugin}}", &plugin)
            .replace("{{point}}", o.point.as_str())
            .replace("{{library}}", &library)
            .replace("{{Type}}", &type_name(name))
            .replace("{{abi_path}}", &abi.display().to_string().replace('\\', "/"))
    };
    let files = [
        ("Cargo.toml", fill(include_str!("../templates/native-plugin/Cargo.toml.tmpl"))),
        ("src/lib.rs", fill(o.point.source())),
        ("README.md", fill(include_str!("../templates/native-plugin/README.md.tmpl"))),
        ("pipeline.yaml", pipeline(o.point, &plugin, &library)),
        (".gitignore", include_str!("../templates/native-plugin/gitignore.tmpl").to_owned()),
    ];
    for (file, text) in &files {
        let path = dir.join(file);
        let write = |path: &Path| {
            std::fs::create_dir_all(path.parent().expect("a file in the crate"))?;
            std::fs::write(path, text)
        };
        write(&path).map_err(|source| Error::Write { path: path.clone(), source })?;
    }
    let d = dir.display();
    Ok(format!(
        "wrote {d}: {}\n  {} plugin `{plugin}`, against kairos-abi at {}\nnext:\n  cd {d}\n  cargo test\n  cargo build --release\n  kairos plugins list target/release/{library}\n",
        files.iter().map(|(f, _)| *f).collect::<Vec<_>>().join(", "),
        o.point.as_str(),
        abi.display(),
    ))
}

/// kairos-abi's directory: `given` (the crate's, or a kairos checkout's), or
/// the one this binary was built from.
fn abi_dir(given: Option<&Path>) -> Result<PathBuf, Error> {
    let is_abi = |d: &Path| {
        std::fs::read_to_string(d.join("Cargo.toml"))
            .is_ok_and(|t| t.lines().any(|l| l.replace(' ', "") == "name=\"kairos-abi\""))
    };
    let found = match given {
        Some(d) if is_abi(d) => d.to_owned(),
        Some(d) if is_abi(&d.join("framework/abi")) => d.join("framework/abi"),
        Some(d) => {
            return Err(Error::Usage(format!(
                "--abi-path {}: neither kairos-abi's directory nor a kairos checkout (with framework/abi)",
                d.display()
            )))
        }
        None if is_abi(Path::new(BUILT_WITH_ABI)) => PathBuf::from(BUILT_WITH_ABI),
        None => {
            return Err(Error::Usage(format!(
                "this kairos was built from {}, which holds no kairos-abi any more: pass --abi-path DIR, the \
                 framework/abi directory of a kairos checkout",
                Path::new(BUILT_WITH_ABI)
                    .parent()
                    .and_then(Path::parent)
                    .unwrap_or(Path::new(BUILT_WITH_ABI))
                    .display()
            )))
        }
    };
    Ok(found.canonicalize().unwrap_or(found))
}

/// The example pipeline: the showcase's shape, with the plugin at its point,
/// named by its library path relative to the crate.
fn pipeline(point: Point, plugin: &str, library: &str) -> String {
    let native = format!("  - native: {{ library: target/release/{library}, plugin: {plugin} }}\n");
    let mut text = format!(
        "# An example pipeline with {plugin}. Build the library first (cargo build\n\
         # --release); its path is relative to this file.\n\
         # kairos run SCENARIO --pipeline pipeline.yaml\n\
         name: with {plugin}\n"
    );
    let sections = [
        (Point::Order, "order:\n  - plugin: priority\n"),
        (Point::Filter, "filter:\n  - plugin: node-selector\n  - plugin: fit\n"),
        (Point::Score, "score:\n  - plugin: best-fit\n"),
        (Point::Rebalance, ""),
    ];
    for (p, builtin) in sections {
        match (p == point, builtin.is_empty()) {
            (true, true) => text.push_str(&format!("{}:\n{native}", p.as_str())),
            (true, false) => text.push_str(&format!("{builtin}{native}")),
            (false, _) => text.push_str(builtin),
        }
    }
    text
}

/// A crate name: `[a-z][a-z0-9_-]*`, at most 64 bytes.
fn crate_name(name: &str) -> bool {
    name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_lowercase())
        && name.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
}

/// A plugin name the templates can quote as is.
fn plugin_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 128
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-' || c == '_')
}

/// `my-score` → `MyScore`.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|w| !w.is_empty())
        .map(|w| {
            let mut c = w.chars();
            c.next().map(|f| f.to_ascii_uppercase().to_string() + c.as_str()).unwrap_or_default()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_crate_plugin_and_type_names_or_are_refused() {
        let cases = [
            ("a kebab-case name", "my-score", true, "MyScore"),
            ("digits after the first letter", "quiet2", true, "Quiet2"),
            ("underscores", "link_budget", true, "LinkBudget"),
            ("an upper-case letter", "MyScore", false, ""),
            ("a leading digit", "2quiet", false, ""),
            ("a dot", "vendor.quiet", false, ""),
            ("a path", "../x", false, ""),
        ];
        for (case, name, ok, ty) in cases {
            assert_eq!(crate_name(name), ok, "{case}");
            if ok {
                assert_eq!(type_name(name), ty, "{case}");
            }
        }
        assert!(plugin_name("vendor.my-score") && !plugin_name("vendor.\"x") && !plugin_name(""));
    }

    #[test]
    fn the_example_pipeline_names_the_plugin_at_its_point() {
        let score = pipeline(Point::Score, "vendor.q", "libq.so");
        assert!(
            score.ends_with(
                "score:\n  - plugin: best-fit\n  - native: { library: target/release/libq.so, plugin: vendor.q }\n"
            ),
            "{score}"
        );
        let rebalance = pipeline(Point::Rebalance, "vendor.q", "libq.so");
        assert!(
            rebalance.ends_with("rebalance:\n  - native: { library: target/release/libq.so, plugin: vendor.q }\n"),
            "{rebalance}"
        );
        let order = pipeline(Point::Order, "vendor.q", "libq.so");
        assert!(order.contains("order:\n  - plugin: priority\n  - native:"), "{order}");
    }
}
