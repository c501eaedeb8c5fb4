//! The operation budget of a script call: deterministic, whatever the machine
//! and its load.
//!
//! Rhai counts *operations* (a statement, an expression, a function call); the
//! budget is a number of them ([`super::sandbox::Limits::max_operations`]), so
//! a call that runs out of it does so at the same operation on every machine,
//! and a run's decisions never depend on how busy the machine was.
//!
//! An operation is not a unit of time, though: most take nanoseconds, but a few
//! functions of Rhai's library walk a whole array, map or string in one
//! operation, and calling each element's `==` or `to_debug` costs about 150 ns.
//! Those are *charged*: the host registers its own versions of them (same names,
//! same semantics, registered ahead of Rhai's), which charge one operation per
//! element before doing the work, so that a loop calling them runs out of budget
//! as fast as the work it does warrants:
//!
//! | charged, one operation per element | functions |
//! |---|---|
//! | arrays | `contains` (and `in`), `index_of(value)`, `index_of(value, start)`, `==`, `!=`, `dedup()` |
//! | object maps | `==`, `!=`, `mixin`, `+=`, `+`, `fill_with` |
//! | printing | `print`, `debug`, `to_string`, `to_debug` of arrays and maps (and so `${…}` of them) |
//!
//! | charged, one operation per character (or byte) | functions |
//! |---|---|
//! | strings | `pad` (both forms; an empty padding does nothing, where Rhai's would loop for ever), `crop` (all four forms), `split(delimiter)` (string or character) |
//!
//! What remains proportional to a value's size in one operation (copying an
//! array or map on assignment, string functions that walk characters) is bounded
//! by the sandbox's size limits; the README ("Sandbox") gives the worst cases
//! measured and so the time the budget bounds a call to. The wall-clock
//! [`super::watchdog`] is the last resort beyond that, reported apart.
//!
//! Each call: [`begin`] resets the charges, the engine's progress hook
//! ([`progress`]) ends the call when operations plus charges exceed the budget
//! (or the watchdog asks), and [`end`] tells the watchdog the call is over.

use std::cell::Cell;
use std::sync::Arc;
use std::time::Duration;

use rhai::{Array, Dynamic, Engine, EvalAltResult, ImmutableString, Map, NativeCallContext};

use super::watchdog::{self, Slot};

/// Why the host ended a call (the token of Rhai's `ErrorTerminated`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stop {
    /// The call used up its operation budget (the budget, in operations).
    Budget(u64),
    /// The wall-clock watchdog ended it (after this many milliseconds).
    Watchdog(u64),
}

impl std::fmt::Display for Stop {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Stop::Budget(n) => write!(
                f,
                "used up its budget of {} operations (a loop that does not end, or too much work for one call)",
                thousands(*n)
            ),
            Stop::Watchdog(ms) => write!(
                f,
                "ended by the wall-clock watchdog after {ms} ms, although within its operation budget (see the README, \"Sandbox\")"
            ),
        }
    }
}

/// `10000` as `10,000`.
fn thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The host's stop of a call, if `err` is one.
pub fn stop_of(err: &EvalAltResult) -> Option<Stop> {
    match err {
        EvalAltResult::ErrorTerminated(token, _) => token.clone().try_cast::<Stop>(),
        _ => None,
    }
}

/// The state of the call running on this thread.
struct Call {
    /// Operations Rhai has counted so far.
    ops: Cell<u64>,
    /// Operations charged by the host's functions so far.
    charged: Cell<u64>,
    /// The running call's budget.
    max: Cell<u64>,
    /// This thread's slot with the watchdog.
    slot: Arc<Slot>,
}

thread_local! {
    static CALL: Call = Call {
        ops: Cell::new(0),
        charged: Cell::new(0),
        max: Cell::new(u64::MAX),
        slot: watchdog::slot(),
    };
}

/// Starts a call on this thread: no operations charged yet, and the watchdog
/// told (with the default limit until the engine's hook gives its own).
pub(crate) fn begin() {
    CALL.with(|c| {
        c.ops.set(0);
        c.charged.set(0);
        c.slot.begin(super::sandbox::WATCHDOG);
    });
}

/// Ends the call on this thread (for the watchdog).
pub(crate) fn end() {
    CALL.with(|c| c.slot.end());
}

/// The engine's progress hook: called by Rhai before each operation, with the
/// operations counted so far in this call.
pub(crate) fn progress(ops: u64, max: u64, watchdog: Duration) -> Option<Dynamic> {
    CALL.with(|c| {
        if ops <= 1 {
            c.max.set(max);
            c.slot.set_limit(watchdog);
        }
        c.ops.set(ops);
        if c.slot.aborted() {
            return Some(Dynamic::from(Stop::Watchdog(watchdog.as_millis() as u64)));
        }
        (ops.saturating_add(c.charged.get()) > max).then(|| Dynamic::from(Stop::Budget(max)))
    })
}

/// Charges `n` operations for work done by a host function; an error ends the
/// call when that exceeds the budget (before the work is done).
fn charge(ctx: &NativeCallContext, n: usize) -> Result<(), Box<EvalAltResult>> {
    CALL.with(|c| {
        let charged = c.charged.get().saturating_add(n as u64);
        c.charged.set(charged);
        let max = c.max.get();
        if c.ops.get().saturating_add(charged) > max {
            return Err(EvalAltResult::ErrorTerminated(Dynamic::from(Stop::Budget(max)), ctx.call_position()).into());
        }
        Ok(())
    })
}

type Res<T> = Result<T, Box<EvalAltResult>>;

/// `a == b` as Rhai's array functions compare elements: the `==` operator, and
/// `false` between two types that have none.
fn equal(ctx: &NativeCallContext, a: &mut Dynamic, b: &mut Dynamic) -> Res<bool> {
    match ctx.call_native_fn_raw("==", true, &mut [a, b]) {
        Ok(v) => Ok(v.as_bool().unwrap_or(false)),
        Err(e) => match &*e {
            EvalAltResult::ErrorFunctionNotFound(sig, ..) if sig.starts_with("==") && a.type_id() != b.type_id() => {
                Ok(false)
            }
            _ => Err(e),
        },
    }
}

/// The first index at or after `start` of an element equal to `value`.
fn find(ctx: &NativeCallContext, array: &mut Array, value: &Dynamic, start: usize) -> Res<rhai::INT> {
    charge(ctx, array.len().saturating_sub(start))?;
    for (i, item) in array.iter_mut().enumerate().skip(start) {
        if equal(ctx, item, &mut value.clone())? {
            return Ok(i as rhai::INT);
        }
    }
    Ok(-1)
}

/// Where `index_of(value, start)` starts, as Rhai's reads `start`: from the end
/// when negative, from the beginning below `-len`.
fn offset(len: usize, start: rhai::INT) -> usize {
    if start < 0 {
        len.saturating_sub(start.unsigned_abs() as usize)
    } else {
        (start as u64).min(len as u64) as usize
    }
}

fn arrays_equal(ctx: &NativeCallContext, a: &mut Array, mut b: Array) -> Res<bool> {
    if a.len() != b.len() {
        return Ok(false);
    }
    charge(ctx, a.len())?;
    for (x, y) in a.iter_mut().zip(b.iter_mut()) {
        if !equal(ctx, x, y)? {
            return Ok(false);
        }
    }
    Ok(true)
}

fn maps_equal(ctx: &NativeCallContext, a: &mut Map, mut b: Map) -> Res<bool> {
    if a.len() != b.len() {
        return Ok(false);
    }
    charge(ctx, a.len())?;
    for (k, x) in a.iter_mut() {
        match b.get_mut(k) {
            Some(y) => {
                if !ctx.call_native_fn_raw("==", true, &mut [x, y])?.as_bool().unwrap_or(false) {
                    return Ok(false);
                }
            }
            None => return Ok(false),
        }
    }
    Ok(true)
}

/// How Rhai prints one element of an array or map: its `to_debug`.
fn debug_of(ctx: &NativeCallContext, v: &mut Dynamic) -> ImmutableString {
    match ctx.call_native_fn_raw("to_debug", true, &mut [v]) {
        Ok(r) if r.is_string() => r.into_immutable_string().unwrap_or_default(),
        Ok(r) => r.type_name().into(),
        Err(_) => format!("{v:?}").into(),
    }
}

fn format_array(ctx: NativeCallContext, array: &mut Array) -> Res<ImmutableString> {
    charge(&ctx, array.len())?;
    let parts: Vec<ImmutableString> = array.iter_mut().map(|x| debug_of(&ctx, x)).collect();
    Ok(format!("[{}]", parts.join(", ")).into())
}

fn format_map(ctx: NativeCallContext, map: &mut Map) -> Res<ImmutableString> {
    charge(&ctx, map.len())?;
    let parts: Vec<String> = map.iter_mut().map(|(k, v)| format!("{k:?}: {}", debug_of(&ctx, v))).collect();
    Ok(format!("#{{{}}}", parts.join(", ")).into())
}

fn too_long() -> Box<EvalAltResult> {
    EvalAltResult::ErrorDataTooLarge("Length of string".into(), rhai::Position::NONE).into()
}

/// `s.pad(len, with)`: appends `with`, over and over, until `s` has `len`
/// characters (as Rhai's, except that an empty `with` does nothing instead of
/// looping for ever).
fn pad(ctx: &NativeCallContext, s: &mut ImmutableString, len: rhai::INT, with: &str) -> Res<()> {
    if len <= 0 || with.is_empty() {
        return Ok(());
    }
    let max = ctx.engine().max_string_size();
    let len = usize::try_from(len).ok().filter(|&l| max == 0 || l <= max).ok_or_else(too_long)?;
    let have = s.chars().count();
    if len <= have {
        return Ok(());
    }
    charge(ctx, len - have)?;
    let p = s.make_mut();
    p.extend(with.chars().cycle().take(len - have));
    if max > 0 && p.len() > max {
        return Err(too_long());
    }
    Ok(())
}

/// `s.crop(start, len)`: keeps `len` characters from `start` (from the end when
/// negative), as Rhai's.
fn crop(ctx: &NativeCallContext, s: &mut ImmutableString, start: rhai::INT, len: rhai::INT) -> Res<()> {
    if s.is_empty() {
        return Ok(());
    }
    let chars: Vec<char> = s.chars().collect();
    charge(ctx, chars.len())?;
    if len <= 0 {
        s.make_mut().clear();
        return Ok(());
    }
    let offset = if start < 0 {
        chars.len().saturating_sub(usize::try_from(start.unsigned_abs()).unwrap_or(usize::MAX))
    } else {
        match usize::try_from(start) {
            Ok(start) if start < chars.len() => start,
            _ => {
                s.make_mut().clear();
                return Ok(());
            }
        }
    };
    let len = usize::try_from(len).unwrap_or(usize::MAX).min(chars.len() - offset);
    let p = s.make_mut();
    p.clear();
    p.extend(&chars[offset..offset + len]);
    Ok(())
}

/// `s.split(delimiter)`, as Rhai's, charged by the length of `s`.
fn split(ctx: &NativeCallContext, s: &mut ImmutableString, pieces: impl FnOnce(&str) -> Array) -> Res<Array> {
    charge(ctx, s.len())?;
    Ok(pieces(s.as_str()))
}

/// Registers the charged versions of Rhai's whole-collection functions (see the
/// module docs); they take precedence over Rhai's own.
pub(crate) fn register_charged(e: &mut Engine) {
    e.register_fn("contains", |ctx: NativeCallContext, a: &mut Array, v: Dynamic| -> Res<bool> {
        Ok(find(&ctx, a, &v, 0)? >= 0)
    });
    e.register_fn("index_of", |ctx: NativeCallContext, a: &mut Array, v: Dynamic| find(&ctx, a, &v, 0));
    e.register_fn("index_of", |ctx: NativeCallContext, a: &mut Array, v: Dynamic, start: rhai::INT| {
        let from = offset(a.len(), start);
        find(&ctx, a, &v, from)
    });
    e.register_fn("==", |ctx: NativeCallContext, a: &mut Array, b: Array| arrays_equal(&ctx, a, b));
    e.register_fn("!=", |ctx: NativeCallContext, a: &mut Array, b: Array| arrays_equal(&ctx, a, b).map(|x| !x));
    e.register_fn("dedup", |ctx: NativeCallContext, a: &mut Array| -> Res<()> {
        charge(&ctx, a.len())?;
        // As Rhai's: a comparison that fails counts as `false`.
        a.dedup_by(|x, y| equal(&ctx, &mut y.clone(), &mut x.clone()).unwrap_or(false));
        Ok(())
    });
    e.register_fn("==", |ctx: NativeCallContext, a: &mut Map, b: Map| maps_equal(&ctx, a, b));
    e.register_fn("!=", |ctx: NativeCallContext, a: &mut Map, b: Map| maps_equal(&ctx, a, b).map(|x| !x));
    for name in ["mixin", "+="] {
        e.register_fn(name, |ctx: NativeCallContext, a: &mut Map, b: Map| -> Res<()> {
            charge(&ctx, b.len())?;
            a.extend(b);
            Ok(())
        });
    }
    e.register_fn("+", |ctx: NativeCallContext, a: Map, b: Map| -> Res<Map> {
        charge(&ctx, a.len() + b.len())?;
        let mut a = a;
        a.extend(b);
        Ok(a)
    });
    e.register_fn("fill_with", |ctx: NativeCallContext, a: &mut Map, b: Map| -> Res<()> {
        charge(&ctx, b.len())?;
        for (k, v) in b {
            a.entry(k).or_insert(v);
        }
        Ok(())
    });
    e.register_fn("pad", |ctx: NativeCallContext, s: &mut ImmutableString, len: rhai::INT, c: char| {
        pad(&ctx, s, len, c.encode_utf8(&mut [0; 4]))
    });
    e.register_fn("pad", |ctx: NativeCallContext, s: &mut ImmutableString, len: rhai::INT, with: &str| {
        pad(&ctx, s, len, with)
    });
    e.register_fn("crop", |ctx: NativeCallContext, s: &mut ImmutableString, start: rhai::INT, len: rhai::INT| {
        crop(&ctx, s, start, len)
    });
    e.register_fn("crop", |ctx: NativeCallContext, s: &mut ImmutableString, start: rhai::INT| {
        crop(&ctx, s, start, rhai::INT::MAX)
    });
    e.register_fn("crop", |ctx: NativeCallContext, s: &mut ImmutableString, r: std::ops::Range<rhai::INT>| {
        let start = r.start.max(0);
        crop(&ctx, s, start, r.end.max(start) - start)
    });
    e.register_fn("crop", |ctx: NativeCallContext, s: &mut ImmutableString, r: std::ops::RangeInclusive<rhai::INT>| {
        let start = (*r.start()).max(0);
        let end = (*r.end()).max(start).min(rhai::INT::MAX - 1);
        crop(&ctx, s, start, end - start + 1)
    });
    e.register_fn("split", |ctx: NativeCallContext, s: &mut ImmutableString, d: &str| {
        split(&ctx, s, |t| {
            if t.is_empty() || (!d.is_empty() && !t.contains(d)) {
                vec![Dynamic::from(ImmutableString::from(t))]
            } else {
                t.split(d).map(|p| Dynamic::from(ImmutableString::from(p))).collect()
            }
        })
    });
    e.register_fn("split", |ctx: NativeCallContext, s: &mut ImmutableString, d: char| {
        split(&ctx, s, |t| t.split(d).map(|p| Dynamic::from(ImmutableString::from(p))).collect())
    });
    for name in ["print", "debug", "to_string", "to_debug"] {
        e.register_fn(name, format_array);
        e.register_fn(name, format_map);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_of_reads_its_start_as_rhai_does() {
        let cases = [
            ("a start inside the array", 5, 2, 2),
            ("a negative start counts from the end", 5, -1, 4),
            ("a start before the beginning is the beginning", 5, -9, 0),
            ("a start past the end finds nothing", 5, 7, 5),
        ];
        for (name, len, start, want) in cases {
            assert_eq!(offset(len, start), want, "{name}");
        }
    }

    #[test]
    fn thousands_are_separated() {
        assert_eq!(thousands(10_000), "10,000");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_234_567), "1,234,567");
    }
}
