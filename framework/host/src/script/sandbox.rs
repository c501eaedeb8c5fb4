//! The one constructor of the host's Rhai engine, with the sandbox's limits.
//!
//! Rhai has no file, network or process access of its own, and kairos registers
//! none: a script sees only what it is given (the job, the node, the context) and
//! affects the host only through what it returns. On top of that the engine caps
//! what a script may consume, so that a loop that never ends or a string that
//! grows without bound ends in an error naming the script instead of a hung or
//! exhausted host:
//!
//! | limit | value | why |
//! |---|---|---|
//! | operations per call | [`Limits::max_operations`] (default 200,000) | stops `loop {}` in milliseconds, deterministically |
//! | time per call | [`Limits::time_budget`] (default 50 ms) | a safety net for slow operations the counter does not weigh |
//! | call depth | 32 | runaway recursion |
//! | expression depth | 64 (32 inside functions) | pathological nesting |
//! | string length | 4,096 | unbounded string growth |
//! | array and map size | 4,096 | unbounded collections |
//!
//! `eval` is disabled and `import` does not exist (no module support is built in).
//! `print` and `debug` output is discarded.

use std::cell::Cell;
use std::time::{Duration, Instant};

use rhai::{Dynamic, Engine};

use super::views;

/// Resource limits of one script call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Rhai operations one call may perform.
    pub max_operations: u64,
    /// Wall-clock time one call may take.
    pub time_budget: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_operations: 200_000, time_budget: Duration::from_millis(50) }
    }
}

thread_local! {
    /// When the current script call on this thread started (for the time budget).
    static CALL_STARTED: Cell<Option<Instant>> = const { Cell::new(None) };
}

/// Marks the start of a script call on this thread (for the time budget).
pub(crate) fn start_call() {
    CALL_STARTED.with(|c| c.set(Some(Instant::now())));
}

/// Operations between two looks at the clock: reading it costs far more than an
/// operation, and a few thousand operations take microseconds.
const CLOCK_EVERY: u64 = 4096;

/// The sandboxed engine every script of the host runs in.
pub fn engine(limits: Limits) -> Engine {
    let mut e = Engine::new();
    e.set_max_operations(limits.max_operations);
    e.set_max_call_levels(32);
    e.set_max_expr_depths(64, 32);
    e.set_max_string_size(4096);
    e.set_max_array_size(4096);
    e.set_max_map_size(4096);
    e.disable_symbol("eval");
    e.on_print(|_| {});
    e.on_debug(|_, _, _| {});
    let budget = limits.time_budget;
    e.on_progress(move |ops| {
        if ops % CLOCK_EVERY != 0 {
            return None;
        }
        let started = CALL_STARTED.with(Cell::get)?;
        (started.elapsed() > budget)
            .then(|| Dynamic::from(format!("time budget of {} ms exceeded", budget.as_millis())))
    });
    views::register(&mut e);
    e
}

/// The sandboxed engine, made strict for checking: comparing values of two
/// different types is an error instead of `false` (see
/// [`refuse_mismatched_comparisons`]). `kairos check` and `kairos policy test`
/// run scripts in it; runs use [`engine`], whose operators on built-in types
/// skip the lookup that overloading them needs (Rhai's fast operators: about
/// 15–20% of a script's time on the site example).
pub fn strict_engine(limits: Limits) -> Engine {
    let mut e = engine(limits);
    e.set_fast_operators(false);
    refuse_mismatched_comparisons(&mut e);
    e
}

/// Makes comparing values of two different types an error.
///
/// Rhai answers `false` to `1 == "1"` (and to `<`, `>`…) between types it has
/// no operator for, so a rule comparing a label (a string) with a number
/// silently never matches. Here each such comparison throws instead, naming
/// the two types, so that `kairos check` (on its sample job and node) and
/// `kairos policy test` (on every case) find it where the script reaches it. Integers and
/// floats still compare with each other, and anything may be compared with `()`
/// (the value of a missing property or map key).
fn refuse_mismatched_comparisons(e: &mut Engine) {
    fn kind(v: &Dynamic) -> &'static str {
        if v.is_int() {
            "an integer"
        } else if v.is_float() {
            "a float"
        } else if v.is_bool() {
            "a bool"
        } else if v.is_string() {
            "a string"
        } else if v.is_array() {
            "an array"
        } else {
            "a map"
        }
    }

    use rhai::{Array, ImmutableString, Map, FLOAT, INT};

    macro_rules! refuse {
        ($a:ty, $b:ty) => {
            for op in ["==", "!=", "<", ">", "<=", ">="] {
                e.register_fn(op, move |x: $a, y: $b| -> Result<bool, Box<rhai::EvalAltResult>> {
                    let (tx, ty) = (kind(&Dynamic::from(x)), kind(&Dynamic::from(y)));
                    Err(format!(
                        "`{op}` compares {tx} with {ty}, which is never true; convert one side first (to_string, parse_int, parse_float)"
                    )
                    .into())
                });
            }
        };
    }
    macro_rules! refuse_all {
        ($a:ty; $($b:ty),*) => { $( refuse!($a, $b); refuse!($b, $a); )* };
    }
    refuse_all!(INT; bool, ImmutableString, Array, Map);
    refuse_all!(FLOAT; bool, ImmutableString, Array, Map);
    refuse_all!(bool; ImmutableString, Array, Map);
    refuse_all!(ImmutableString; Array, Map);
    refuse_all!(Array; Map);
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> String {
        let e = strict_engine(Limits::default());
        match e.eval::<Dynamic>(src) {
            Ok(v) => format!("ok {v}"),
            Err(err) => err.to_string(),
        }
    }

    #[test]
    fn the_sandbox_stops_what_would_hang_or_exhaust_the_host() {
        let cases = [
            ("an endless loop runs out of operations", "loop {}", "Too many operations"),
            ("unbounded recursion runs out of call depth", "fn f(x) { f(x + 1) } f(0)", "Stack overflow"),
            ("a string cannot grow without bound", "let s = \"x\"; loop { s += s; }", "Length of string too large"),
            ("an array cannot grow without bound", "let a = []; loop { a.push(1); }", "Size of array"),
            ("eval is not available", "eval(\"1\")", "eval"),
            ("there are no modules to import", "import \"fs\" as fs;", "import"),
        ];
        for (name, src, want) in cases {
            let got = run(src);
            assert!(got.contains(want), "{name}: got {got}");
        }
    }

    #[test]
    fn the_strict_engine_makes_comparing_values_of_different_types_an_error() {
        let cases = [
            ("a number with a string", "1 == \"1\"", "`==` compares an integer with a string, which is never true"),
            ("a string with a number", "\"3\" < 4", "`<` compares a string with an integer"),
            ("a bool with a number", "true != 0", "`!=` compares a bool with an integer"),
            ("a map with an array", "#{} == []", "`==` compares a map with an array"),
            ("numbers of both kinds still compare", "1 == 1.0", "ok true"),
            ("anything compares with ()", "let m = #{}; m.station == ()", "ok true"),
            ("a string with a missing value is false, not an error", "\"x\" == ()", "ok false"),
            ("strings compare", "\"S\" < \"X\"", "ok true"),
        ];
        for (name, src, want) in cases {
            let got = run(src);
            assert!(got.contains(want), "{name}: got {got}");
        }
        let fast = engine(Limits::default());
        assert!(!fast.eval::<bool>("1 == \"1\"").unwrap(), "a run's engine keeps Rhai's answer: false");
    }

    #[test]
    fn the_time_budget_stops_a_call_that_runs_too_long() {
        let mut e = engine(Limits { max_operations: 0, time_budget: Duration::from_millis(20) });
        e.set_max_operations(0);
        start_call();
        let err = e.eval::<Dynamic>("loop {}").unwrap_err();
        let msg = super::super::describe(std::path::Path::new("t.rhai"), "main", &err);
        assert!(msg.contains("time budget of 20 ms exceeded"), "{msg}");
    }
}
