//! Reading the manifest a library carries in its file
//! ([`kairos_abi::manifest`]), **without loading the library**: loading runs
//! its initializers (a C library's constructors, a Rust library's static
//! constructors), which the host must not do for a library it was not asked
//! for, nor for one it is going to refuse.
//!
//! The file is read as an object file (ELF, Mach-O or PE, with the `object`
//! crate) through a read cache, so that only its headers and the manifest's
//! section are read, not the whole library.

use std::fs::File;
use std::path::Path;

use kairos_abi::manifest::{self, Embedded, SECTION_NAMES};
use object::read::ReadCache;
use object::{Object, ObjectSection};

/// What reading a file's manifest found.
#[derive(Debug)]
pub enum Found {
    /// The manifest.
    Manifest(Embedded),
    /// An object file without one: a library built before manifests existed,
    /// or one that is not a kairos plugin.
    None,
    /// Not an object file (or unreadable): the loader will say why.
    NotObject,
}

/// Reads the manifest embedded in the library file at `path`. `Err` when the
/// file has the section but it is not a manifest.
pub fn read(path: &Path) -> Result<Found, String> {
    let Ok(file) = File::open(path) else { return Ok(Found::NotObject) };
    let cache = ReadCache::new(file);
    let Ok(object) = object::File::parse(&cache) else { return Ok(Found::NotObject) };
    let Some(section) = SECTION_NAMES.iter().find_map(|n| object.section_by_name(n)) else { return Ok(Found::None) };
    if section.size() > manifest::MAX_LEN as u64 {
        return Err(format!(
            "its embedded manifest is {} bytes long; at most {} are allowed",
            section.size(),
            manifest::MAX_LEN
        ));
    }
    let data = section.data().map_err(|e| format!("its embedded manifest cannot be read ({e})"))?;
    manifest::parse(data).map(Found::Manifest).map_err(|e| format!("its embedded manifest is malformed: {e}"))
}
