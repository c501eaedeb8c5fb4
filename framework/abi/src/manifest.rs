//! The manifest a plugin library carries in a section of its file, so that a
//! host can tell what the library offers — and whether it may be loaded at
//! all — **without loading it** (loading runs the library's initializers).
//!
//! [`export_plugins!`](crate::export_plugins) writes it at compile time into
//! the section [`SECTION`] (`__DATA,__kairos_mf` on macOS, `.kairosm` on
//! Windows), as the exported static `kairos_manifest_v1`. A C library writes
//! it with `KAIROS_MANIFEST(...)` from `kairos_plugin.h`. The host reads the
//! section from the file (with the `object` crate) to:
//!
//! 1. refuse a library built with `panic = "abort"` before running any of its
//!    code (a panic in it would abort the host, see [`crate::sdk`]);
//! 2. find the library that offers a plugin by name in a plugin directory
//!    without opening the others.
//!
//! The root module (`PluginModule::plugins`) stays the authority once a
//! library is loaded; the host checks the two agree. A library without the
//! section (built before it existed) loads as before.
//!
//! # Format (text, one item a line)
//! ```text
//! kairos-manifest 1
//! abi 1.0.0
//! panic unwind
//! plugin score vendor.link-budget
//! plugin order vendor.fair-share
//! ```
//! `abi` is the kairos-abi version (`C 1` for the C ABI); `panic` is `unwind`
//! or `abort` (absent for C); one `plugin POINT NAME` line per plugin. Unknown
//! lines are ignored, so that later versions may add some.

use crate::module::{Point, ABI_VERSION};
use crate::sdk::PluginDef;

/// The section's name in an ELF file (Linux, the BSDs).
pub const SECTION: &str = ".kairos_manifest";
/// The section's name in a Mach-O file (segment `__DATA`).
pub const SECTION_MACHO: &str = "__kairos_mf";
/// The section's name in a PE file (at most 8 bytes).
pub const SECTION_PE: &str = ".kairosm";
/// Every name the section may have, for readers that try them all.
pub const SECTION_NAMES: [&str; 3] = [SECTION, SECTION_MACHO, SECTION_PE];

/// The first line.
pub const MAGIC: &str = "kairos-manifest 1";

/// The longest manifest a host reads, in bytes (a manifest lists names only).
pub const MAX_LEN: usize = 64 * 1024;

/// What a library's embedded manifest says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Embedded {
    /// The ABI the library was built against: a kairos-abi version, or `C 1`.
    pub abi: String,
    /// `Some(true)` when built with `panic = "unwind"`, `Some(false)` with
    /// `panic = "abort"`, `None` when the manifest does not say (C).
    pub unwinds: Option<bool>,
    /// The plugins it offers: point and name.
    pub plugins: Vec<(Point, String)>,
}

impl Embedded {
    /// Whether the library offers plugin `name` at `point`.
    pub fn offers(&self, point: Point, name: &str) -> bool {
        self.plugins.iter().any(|(p, n)| *p == point && n == name)
    }
}

const fn point_name(p: Point) -> &'static str {
    match p {
        Point::Order => "order",
        Point::Filter => "filter",
        Point::Score => "score",
        Point::Rebalance => "rebalance",
    }
}

/// Writes the manifest of `defs` into `out` (as much of it as fits) and
/// returns its whole length: [`len`] and [`bytes`] share this one writer.
const fn emit(defs: &[PluginDef], unwinds: bool, out: &mut [u8]) -> usize {
    let mut at = put(out, 0, MAGIC.as_bytes());
    at = put(out, at, b"\nabi ");
    at = put(out, at, ABI_VERSION.as_bytes());
    at = put(out, at, b"\npanic ");
    at = put(out, at, if unwinds { b"unwind\n" } else { b"abort\n" });
    let mut i = 0;
    while i < defs.len() {
        at = put(out, at, b"plugin ");
        at = put(out, at, point_name(defs[i].point).as_bytes());
        at = put(out, at, b" ");
        at = put(out, at, defs[i].name.as_bytes());
        at = put(out, at, b"\n");
        i += 1;
    }
    at
}

/// Copies `s` to `out[at..]` (what fits) and returns the end.
const fn put(out: &mut [u8], at: usize, s: &[u8]) -> usize {
    let mut k = 0;
    while k < s.len() {
        if at + k < out.len() {
            out[at + k] = s[k];
        }
        k += 1;
    }
    at + s.len()
}

/// The length in bytes of the manifest of `defs` (used by
/// [`export_plugins!`](crate::export_plugins) to size the section).
pub const fn len(defs: &[PluginDef], unwinds: bool) -> usize {
    emit(defs, unwinds, &mut [])
}

/// The manifest of `defs`, `N` = [`len`] bytes (used by
/// [`export_plugins!`](crate::export_plugins)).
pub const fn bytes<const N: usize>(defs: &[PluginDef], unwinds: bool) -> [u8; N] {
    let mut out = [0u8; N];
    let n = emit(defs, unwinds, &mut out);
    assert!(n == N, "N is the manifest's length");
    out
}

/// Reads a manifest (the section's bytes; trailing NULs are ignored).
///
/// ```
/// use kairos_abi::manifest::parse;
/// use kairos_abi::Point;
/// let m = parse(b"kairos-manifest 1\nabi 1.0.0\npanic abort\nplugin score vendor.x\n").unwrap();
/// assert_eq!((m.abi.as_str(), m.unwinds), ("1.0.0", Some(false)));
/// assert!(m.offers(Point::Score, "vendor.x"));
/// ```
pub fn parse(bytes: &[u8]) -> Result<Embedded, String> {
    if bytes.len() > MAX_LEN {
        return Err(format!("it is {} bytes long; at most {MAX_LEN} are allowed", bytes.len()));
    }
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let text = std::str::from_utf8(&bytes[..end]).map_err(|e| format!("it is not UTF-8 text ({e})"))?;
    let mut lines = text.lines();
    if lines.next() != Some(MAGIC) {
        return Err(format!("it does not start with `{MAGIC}`"));
    }
    let mut m = Embedded { abi: String::new(), unwinds: None, plugins: Vec::new() };
    for (n, line) in lines.enumerate() {
        let at = n + 2;
        match line.split_once(' ') {
            Some(("abi", v)) => m.abi = v.to_owned(),
            Some(("panic", "unwind")) => m.unwinds = Some(true),
            Some(("panic", "abort")) => m.unwinds = Some(false),
            Some(("panic", other)) => return Err(format!("line {at}: panic `{other}`; expected unwind or abort")),
            Some(("plugin", rest)) => {
                let (point, name) =
                    rest.split_once(' ').ok_or_else(|| format!("line {at}: expected `plugin POINT NAME`"))?;
                let point = match point {
                    "order" => Point::Order,
                    "filter" => Point::Filter,
                    "score" => Point::Score,
                    "rebalance" => Point::Rebalance,
                    other => {
                        return Err(format!("line {at}: point `{other}`; expected order, filter, score or rebalance"))
                    }
                };
                m.plugins.push((point, name.to_owned()));
            }
            _ => {} // a later version's line
        }
    }
    if m.abi.is_empty() {
        return Err("it has no `abi` line".into());
    }
    Ok(m)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sdk::{BuildArgs, Plugin};

    fn no_build(_: &BuildArgs<'_>) -> Result<Plugin, String> {
        Err("not built in this test".into())
    }

    const DEFS: &[PluginDef] = &[
        PluginDef { name: "vendor.a", point: Point::Score, summary: "", args_schema: "{}", build: no_build },
        PluginDef { name: "vendor.b", point: Point::Order, summary: "", args_schema: "{}", build: no_build },
    ];

    #[test]
    fn the_manifest_written_at_compile_time_reads_back() {
        const N: usize = len(DEFS, true);
        const BYTES: [u8; N] = bytes::<N>(DEFS, true);
        let text = std::str::from_utf8(&BYTES).unwrap();
        assert_eq!(
            text,
            format!(
                "kairos-manifest 1\nabi {ABI_VERSION}\npanic unwind\nplugin score vendor.a\nplugin order vendor.b\n"
            )
        );
        let m = parse(&BYTES).unwrap();
        assert_eq!(m.unwinds, Some(true));
        assert_eq!(m.plugins, [(Point::Score, "vendor.a".to_owned()), (Point::Order, "vendor.b".to_owned())]);
        const ABORT: usize = len(DEFS, false);
        assert!(parse(&bytes::<ABORT>(DEFS, false)).unwrap().unwinds == Some(false));
    }

    #[test]
    fn malformed_manifests_say_what_is_wrong() {
        let cases: [(&str, &[u8], &str); 5] = [
            ("another format", b"hello\n", "it does not start with `kairos-manifest 1`"),
            ("no abi", b"kairos-manifest 1\nplugin score x\n", "it has no `abi` line"),
            ("a bad point", b"kairos-manifest 1\nabi 1.0.0\nplugin sort x\n", "line 3: point `sort`; expected"),
            (
                "a plugin without a name",
                b"kairos-manifest 1\nabi 1.0.0\nplugin score\n",
                "line 3: expected `plugin POINT NAME`",
            ),
            ("not text", b"kairos-manifest 1\nabi \xff\n", "it is not UTF-8 text"),
        ];
        for (name, bytes, want) in cases {
            let err = parse(bytes).unwrap_err();
            assert!(err.starts_with(want), "{name}: {err}");
        }
        let c = parse(b"kairos-manifest 1\nabi C 1\nlater-line x\nplugin filter vendor.c\n\0\0").unwrap();
        assert_eq!(
            (c.abi.as_str(), c.unwinds, c.plugins.len()),
            ("C 1", None, 1),
            "C: no panic line; NULs and unknown lines ignored"
        );
    }
}
