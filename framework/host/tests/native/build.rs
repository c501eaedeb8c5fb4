//! Builds the plugin libraries the tests load, from a clean checkout, with no
//! manual step.
//!
//! 1. The test executable is `<target>/<profile>/deps/native-<hash>`, so the
//!    profile directory and the target directory (which respects
//!    `CARGO_TARGET_DIR`) are found from it.
//! 2. `cargo build -p PACKAGE [--features F]` runs in the same profile and target
//!    directory (`cargo test --no-run` alone does not build cdylibs); the library
//!    lands in the profile directory and is copied to
//!    `<target>/kairos-native-fixtures/` under a name of its own, so that builds
//!    of one package with different features do not overwrite each other.
//! 3. The C example is compiled with `$CC` (default `cc`).
//!
//! Builds run one at a time (one lock), once per library per test process.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

fn profile_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("the test executable has a path");
    exe.parent().and_then(Path::parent).expect("the test executable sits in <target>/<profile>/deps").to_owned()
}

fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..").canonicalize().expect("the repository")
}

/// Where the tests keep their copies of the libraries.
pub fn fixtures_dir() -> PathBuf {
    let d = profile_dir().join("kairos-native-fixtures");
    std::fs::create_dir_all(&d).expect("the fixtures directory");
    d
}

fn dll(stem: &str) -> String {
    format!("{}{stem}.{}", std::env::consts::DLL_PREFIX, std::env::consts::DLL_EXTENSION)
}

static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);

/// Builds `package` (with `features`) and returns a copy of its library that no
/// later build overwrites.
pub fn rust_plugin(package: &str, features: Option<&str>) -> PathBuf {
    rust_plugin_in(package, features, None)
}

/// Builds `package` with cargo profile `profile` (one of the workspace's,
/// such as `fixture-abort`) and returns a copy of its library.
pub fn rust_plugin_with_profile(package: &str, profile: &str) -> PathBuf {
    rust_plugin_in(package, None, Some(profile))
}

fn rust_plugin_in(package: &str, features: Option<&str>, cargo_profile: Option<&str>) -> PathBuf {
    let key = format!(
        "{package}-{}{}",
        features.unwrap_or("default"),
        cargo_profile.map_or(String::new(), |p| format!("-{p}"))
    );
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get_or_insert_with(HashMap::new).get(&key) {
        return p.clone();
    }
    let target = profile_dir().parent().expect("a target directory").to_owned();
    let profile = cargo_profile.map_or_else(profile_dir, |p| target.join(p));
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.args(["build", "--quiet", "-p", package, "--lib", "--manifest-path"])
        .arg(repo_root().join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target);
    match cargo_profile.or_else(|| profile.file_name().and_then(|n| n.to_str())) {
        Some("debug") => {}
        Some("release") => {
            cmd.arg("--release");
        }
        Some(other) => {
            cmd.args(["--profile", other]);
        }
        None => panic!("no profile directory"),
    }
    if let Some(f) = features {
        cmd.args(["--features", f]);
    }
    let out = cmd.output().expect("cargo runs");
    assert!(out.status.success(), "building {package} failed:\n{}", String::from_utf8_lossy(&out.stderr));
    let lib = profile.join(dll(&package.replace('-', "_")));
    let copy = fixtures_dir().join(dll(&key.replace('-', "_")));
    std::fs::copy(&lib, &copy).unwrap_or_else(|e| panic!("copying {}: {e}", lib.display()));
    built.get_or_insert_with(HashMap::new).insert(key, copy.clone());
    copy
}

/// A `-D` define that makes the C example's constructor append a line to
/// `log` each time the library is loaded.
pub fn constructor_log(log: &Path) -> String {
    format!("-DKAIROS_FIXTURE_CONSTRUCTOR_LOG=\"{}\"", log.display())
}

/// Compiles the C example plugin (with `defines`, e.g. `-DKAIROS_FIXTURE_BAD_VERSION`).
pub fn c_plugin(name: &str, defines: &[&str]) -> PathBuf {
    let key = format!("c-{name}");
    let mut built = BUILT.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(p) = built.get_or_insert_with(HashMap::new).get(&key) {
        return p.clone();
    }
    let root = repo_root();
    let out_file = fixtures_dir().join(dll(name));
    let cc = std::env::var_os("CC").unwrap_or_else(|| "cc".into());
    let out = Command::new(cc)
        .args(["-shared", "-fPIC", "-O2", "-Wall", "-Werror"])
        .args(defines)
        .arg("-I")
        .arg(root.join("framework/abi/c"))
        .arg("-o")
        .arg(&out_file)
        .arg(root.join("plugins/c-example/least_loaded.c"))
        .output()
        .expect("a C compiler (cc) runs");
    assert!(out.status.success(), "compiling the C plugin failed:\n{}", String::from_utf8_lossy(&out.stderr));
    built.get_or_insert_with(HashMap::new).insert(key, out_file.clone());
    out_file
}

/// The example third-party plugin.
pub fn vendor() -> PathBuf {
    rust_plugin("vendor-link-budget", None)
}

/// The misbehaving fixture library.
pub fn fixture() -> PathBuf {
    rust_plugin("kairos-fixture-plugin", None)
}
