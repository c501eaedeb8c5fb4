//! The C ABI of native plugins (`framework/abi/c/kairos_plugin.h`): filter
//! and score over a batch of nodes, for plugins written in C, C++, Zig or Go.
//! The library is the one the loader already opened ([`super::load`]), which
//! found no kairos-abi root module in it: it is never opened twice.
//!
//! The refusal rules are those of the Rust ABI: the version symbol must exist
//! and return [`C_ABI_VERSION`], every function of the header must be exported,
//! the manifest must list the plugin at its point, and `kairos_plugin_new`
//! may refuse the args. There is no layout check in C: the version is the
//! contract, and a change of any struct of the header bumps it.

use std::ffi::{c_char, c_void, CStr, CString};
use std::path::Path;

use kairos_abi::abi_stable::library::RawLibrary;

use kairos_model::{
    Built, Candidates, Context, ExtensionPoint, FilterPlugin, Job, NodeId, PluginResult, Reason, ScorePlugin,
};

use super::adapter::{check_scores, Shared};
use super::load::{LoadError, NativeInfo};
use super::validate;
use super::views::NodeStatic;

/// The C ABI version this host speaks (`KAIROS_C_ABI_VERSION`).
pub const C_ABI_VERSION: u32 = 1;

/// The longest summary read from a C library's plugin list, in bytes.
const MAX_SUMMARY: usize = 4096;

/// The longest args schema read from a C library's plugin list, in bytes.
const MAX_SCHEMA: usize = 64 * 1024;

/// The symbol that marks a C kairos plugin.
pub const VERSION_SYMBOL: &str = "kairos_c_abi_version\0";

const KAIROS_FILTER: i32 = 1;
const KAIROS_SCORE: i32 = 2;

#[repr(C)]
struct CInfo {
    name: *const c_char,
    point: i32,
    summary: *const c_char,
    args_schema: *const c_char,
}

/// `kairos_job`.
#[repr(C)]
struct CJob {
    index: u32,
    priority: i32,
    release: i64,
    estimate: i64,
    deadline: i64,
    has_deadline: bool,
    hard_deadline: bool,
    dims: u32,
    request: *const u64,
}

/// `kairos_nodes`.
#[repr(C)]
struct CNodes {
    now: i64,
    count: u32,
    dims: u32,
    names: *const *const c_char,
    capacity: *const u64,
    allocatable: *const u64,
    used: *const u64,
    running: *const u32,
    up: *const bool,
}

type VersionFn = unsafe extern "C" fn() -> u32;
type PluginsFn = unsafe extern "C" fn(*mut usize) -> *const CInfo;
type NewFn = unsafe extern "C" fn(*const c_char, *const c_char, *mut c_char, usize) -> *mut c_void;
type FilterFn =
    unsafe extern "C" fn(*mut c_void, *const CJob, *const CNodes, *const u32, usize, *mut *const c_char) -> i32;
type ScoreFn = unsafe extern "C" fn(*mut c_void, *const CJob, *const CNodes, *const u32, usize, *mut f64) -> i32;

/// A loaded C plugin library (leaked: never unloaded).
pub(crate) struct CLibrary {
    plugins: Vec<NativeInfo>,
    new: NewFn,
    filter: FilterFn,
    score: ScoreFn,
}

/// A C string from the library as text (empty for NULL).
///
/// # Safety
/// `p` is NULL or a NUL-terminated string that outlives the call.
unsafe fn text(p: *const c_char) -> String {
    if p.is_null() {
        String::new()
    } else {
        // SAFETY: per the function's contract.
        unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned()
    }
}

/// The bytes of the NUL-terminated string at `p`, if it ends within `max` bytes.
///
/// # Safety
/// `p` points to a NUL-terminated string, or to at least `max + 1` readable
/// bytes: no byte past the first NUL or past `max + 1` bytes is read.
unsafe fn bounded<'a>(p: *const c_char, max: usize) -> Result<&'a [u8], ()> {
    for i in 0..=max {
        // SAFETY: bytes up to the first NUL are readable, per the contract.
        if unsafe { *p.add(i) } == 0 {
            // SAFETY: the `i` bytes before the NUL were just read.
            return Ok(unsafe { std::slice::from_raw_parts(p.cast::<u8>(), i) });
        }
    }
    Err(())
}

/// Reads the library `lib` (opened from `path`) as a C plugin: `Ok(None)`
/// when it has no version symbol (not a C kairos plugin).
pub(crate) fn open(lib: &'static RawLibrary, path: &Path) -> Result<Option<CLibrary>, LoadError> {
    let p = || path.to_owned();
    // SAFETY: the symbol's type is the header's `uint32_t kairos_c_abi_version(void)`.
    let Ok(version) = (unsafe { lib.get::<VersionFn>(VERSION_SYMBOL.as_bytes()) }) else { return Ok(None) };
    // SAFETY: as above; the function takes nothing and returns a number.
    let v = unsafe { (*version)() };
    if v != C_ABI_VERSION {
        return Err(LoadError::Version {
            interface: "kairos_plugin.h",
            path: p(),
            found: format!("C {v}"),
            expected: format!("C {C_ABI_VERSION}"),
        });
    }
    macro_rules! sym {
        ($name:literal, $ty:ty) => {
            // SAFETY: the type is the header's declaration of this function.
            match unsafe { lib.get::<$ty>(concat!($name, "\0").as_bytes()) } {
                Ok(f) => *f,
                Err(_) => {
                    return Err(LoadError::Other {
                        path: p(),
                        detail: format!("it declares C ABI {v} but does not export `{}`", $name),
                    })
                }
            }
        };
    }
    let plugins_fn: PluginsFn = sym!("kairos_plugins", PluginsFn);
    let new: NewFn = sym!("kairos_plugin_new", NewFn);
    let filter: FilterFn = sym!("kairos_filter", FilterFn);
    let score: ScoreFn = sym!("kairos_score", ScoreFn);
    let mut count = 0usize;
    // SAFETY: per the header, returns `count` entries valid for the library's life.
    let infos = unsafe { plugins_fn(&mut count) };
    let count = if infos.is_null() { 0 } else { count };
    if count > validate::MAX_PLUGINS {
        return Err(LoadError::Other {
            path: p(),
            detail: format!(
                "kairos_plugins() says it offers {count} plugins; at most {} are allowed",
                validate::MAX_PLUGINS
            ),
        });
    }
    let mut plugins = Vec::new();
    for i in 0..count {
        // SAFETY: `i < count` entries, per the header.
        let info = unsafe { &*infos.add(i) };
        let point = match info.point {
            KAIROS_FILTER => ExtensionPoint::Filter,
            KAIROS_SCORE => ExtensionPoint::Score,
            other => {
                return Err(LoadError::Other {
                    path: p(),
                    detail: format!("its plugin #{i} has point {other}; the C ABI has filter (1) and score (2)"),
                })
            }
        };
        let field = |ptr: *const c_char, what: &str, max: usize| {
            // SAFETY: the strings are NUL-terminated and static, per the header;
            // at most `max + 1` bytes are read.
            let bytes = if ptr.is_null() { Ok(&[][..]) } else { unsafe { bounded(ptr, max) } };
            bytes.map(|b| String::from_utf8_lossy(b).into_owned()).map_err(|()| LoadError::Other {
                path: p(),
                detail: format!("its plugin #{i} has a {what} longer than {max} bytes (or one not NUL-terminated)"),
            })
        };
        let name = field(info.name, "name", validate::MAX_NAME)?;
        let summary = field(info.summary, "summary", MAX_SUMMARY)?;
        let args_schema = field(info.args_schema, "args schema", MAX_SCHEMA)?;
        plugins.push(NativeInfo { name, point, summary, args_schema });
    }
    Ok(Some(CLibrary { plugins, new, filter, score }))
}

impl CLibrary {
    pub(crate) fn plugins(&self) -> &[NativeInfo] {
        &self.plugins
    }

    pub(crate) fn build(&self, point: ExtensionPoint, name: &str, args: &str, s: Shared) -> Result<Built, String> {
        let cname = CString::new(name).map_err(|_| "a plugin name cannot contain NUL".to_owned())?;
        let cargs = CString::new(args).map_err(|_| "args cannot contain NUL".to_owned())?;
        let mut error = vec![0 as c_char; 512];
        // SAFETY: both strings are NUL-terminated; `error` has `error.len()` bytes.
        let handle = unsafe { (self.new)(cname.as_ptr(), cargs.as_ptr(), error.as_mut_ptr(), error.len()) };
        if handle.is_null() {
            *error.last_mut().expect("a non-empty buffer") = 0;
            // SAFETY: the buffer is NUL-terminated (its last byte was just set).
            let msg = unsafe { text(error.as_ptr()) };
            return Err(if msg.is_empty() { "the plugin refused its args".into() } else { msg });
        }
        let plugin = CPlugin { s, handle, filter: self.filter, score: self.score };
        Ok(match point {
            ExtensionPoint::Filter => Built::Filter(Box::new(plugin)),
            _ => Built::Score(Box::new(plugin)),
        })
    }
}

/// One C plugin instance, behind the host's filter or score trait.
struct CPlugin {
    s: Shared,
    handle: *mut c_void,
    filter: FilterFn,
    score: ScoreFn,
}

// SAFETY: the header requires plugins to be callable from several threads at
// once; the handle is only passed back to the library.
unsafe impl Send for CPlugin {}
// SAFETY: as above.
unsafe impl Sync for CPlugin {}

fn c_job(job: &Job) -> CJob {
    CJob {
        index: job.idx,
        priority: job.priority,
        release: job.release,
        estimate: job.estimate,
        deadline: job.deadline.unwrap_or(0),
        has_deadline: job.deadline.is_some(),
        hard_deadline: job.hard_deadline,
        dims: job.request.len() as u32,
        request: job.request.as_ptr(),
    }
}

fn c_nodes(st: &NodeStatic, cx: &Context<'_>) -> CNodes {
    let t = cx.nodes;
    let (_, ptrs) = st.c_names.get_or_init(|| {
        let owned: Vec<CString> =
            t.names.iter().map(|n| CString::new(n.replace('\0', "")).expect("NULs removed")).collect();
        let ptrs = owned.iter().map(|c| c.as_ptr()).collect();
        (owned, ptrs)
    });
    CNodes {
        now: cx.now,
        count: t.len() as u32,
        dims: t.dims() as u32,
        names: ptrs.as_ptr(),
        capacity: t.capacity_flat().as_ptr(),
        allocatable: t.allocatable_flat().as_ptr(),
        used: t.used_flat().as_ptr(),
        running: t.running_flat().as_ptr(),
        up: t.up_flat().as_ptr(),
    }
}

impl FilterPlugin for CPlugin {
    fn filter(&self, job: &Job, cx: &Context<'_>, candidates: &mut Candidates<'_>) -> PluginResult {
        if self.s.skip("kairos_filter", cx.now, Some(job)) {
            if self.s.on_error == crate::script::OnError::RejectNode {
                candidates.retain(|_| Some(Reason::transient("plugin-error")));
            }
            return Ok(());
        }
        let st = self.s.nodes.get(cx);
        let (j, nodes) = (c_job(job), c_nodes(&st, cx));
        let mut reject: Vec<*const c_char> = vec![std::ptr::null(); candidates.len()];
        self.s.called();
        let ids = candidates.ids();
        // SAFETY: every pointer is valid for the call and `reject` has one entry per id.
        let rc = unsafe { (self.filter)(self.handle, &j, &nodes, ids.as_ptr(), ids.len(), reject.as_mut_ptr()) };
        if rc != 0 {
            self.s.failed(&format!("kairos_filter returned {rc}"))?;
            if self.s.on_error == crate::script::OnError::RejectNode {
                candidates.retain(|_| Some(Reason::transient("plugin-error")));
            }
            return Ok(());
        }
        // A code the host refuses is the plugin's error on that node, as for a
        // Rust plugin's verdict (see `validate`).
        let on_bad = match self.s.on_error {
            crate::script::OnError::SkipPlugin => None,
            _ => Some(Reason::transient("plugin-error")),
        };
        let mut first_bad = None;
        let mut i = 0;
        candidates.retain(|n| {
            let r = reject[i];
            i += 1;
            if r.is_null() {
                return None;
            }
            // SAFETY: a non-NULL entry is a NUL-terminated code, per the header;
            // at most MAX_CODE + 1 bytes of it are read.
            let code = unsafe { bounded(r, validate::MAX_CODE) }
                .map_err(|()| format!("a reason code longer than {} bytes", validate::MAX_CODE))
                .and_then(validate::code);
            match code {
                Ok(code) => Some(Reason::transient(code)),
                Err(e) => {
                    first_bad.get_or_insert_with(|| {
                        format!("its rejection of node `{}` has {e}", cx.nodes.names[n as usize])
                    });
                    on_bad
                }
            }
        });
        match first_bad {
            Some(e) => self.s.failed(&e),
            None => Ok(()),
        }
    }
}

impl ScorePlugin for CPlugin {
    fn score(&self, job: &Job, cx: &Context<'_>, ids: &[NodeId], scores: &mut [f64]) -> PluginResult {
        if self.s.skip("kairos_score", cx.now, Some(job)) {
            scores.fill(0.0);
            return Ok(());
        }
        let st = self.s.nodes.get(cx);
        let (j, nodes) = (c_job(job), c_nodes(&st, cx));
        self.s.called();
        // SAFETY: every pointer is valid for the call and `scores` has one entry per id.
        let rc = unsafe { (self.score)(self.handle, &j, &nodes, ids.as_ptr(), ids.len(), scores.as_mut_ptr()) };
        if rc != 0 {
            scores.fill(0.0);
            return self.s.failed(&format!("kairos_score returned {rc}"));
        }
        check_scores(&self.s, cx, ids, scores)
    }
}
