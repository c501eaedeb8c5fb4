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
//! | operations per call | [`Limits::max_operations`] (default [`MAX_OPERATIONS`]) | stops `loop {}` deterministically; whole-collection functions are charged per element ([`super::budget`]) |
//! | call depth | 32 | runaway recursion |
//! | expression depth | 64 (32 inside functions) | pathological nesting |
//! | string length | [`MAX_STRING`] bytes | unbounded string growth |
//! | array size | [`MAX_ARRAY`] elements | unbounded collections |
//! | object map size | [`MAX_MAP`] entries | unbounded collections |
//! | wall-clock watchdog | [`Limits::watchdog`] (default 2 s) | the last resort, on a thread of its own ([`super::watchdog`]) |
//!
//! Sizes count what one value holds, nested values included (an array of
//! strings holds at most [`MAX_STRING`] bytes of strings in all), and apply to
//! what a script reads too: an entry's `args` must fit them.
//!
//! The budget is counted in operations, never in time, so a call ends at the
//! same operation on every machine: the same scenario gives the same decisions
//! on an idle and on a busy machine. The limits are chosen so that the budget
//! bounds a call's time: the slowest call found (README, "Sandbox", and the
//! `script_limits` benchmark) takes 55–250 ms in a debug build on a loaded
//! two-core machine, and most take a few milliseconds.
//!
//! Nothing in the sandbox blocks or reads a clock: `eval` is disabled, `import`
//! does not exist (no module support is built in), Rhai's time functions are
//! not built in, and `sleep` is refused when a script loads (with its position,
//! [`super::lint`]) and fails at once if reached another way. `print` and
//! `debug` write to the calling script's log ([`super::log`]).

use std::time::Duration;

use rhai::{Dynamic, Engine};

use super::{budget, lint, log, verdict, views};

/// Operations one call may perform by default.
///
/// The heaviest call of the policies shipped with kairos takes 159 operations
/// (`drain-node` with its args), so the budget leaves sixty times that; a call
/// that uses all of it takes well under a millisecond unless it works on large
/// values, and the size limits bound that (see the module docs).
pub const MAX_OPERATIONS: u64 = 10_000;

/// Bytes of string one value may hold.
pub const MAX_STRING: usize = 1024;

/// Elements one array (with the arrays nested in it) may hold.
pub const MAX_ARRAY: usize = 512;

/// Entries one object map (with the maps nested in it) may hold.
pub const MAX_MAP: usize = 128;

/// Wall time after which the watchdog ends a call by default: eight times the
/// slowest call the `script_limits` benchmark could write within the limits
/// (250 ms, on a loaded machine), so that it never ends a call the budget would
/// have let finish, even on a busy or slow machine.
pub const WATCHDOG: Duration = Duration::from_secs(2);

/// Resource limits of one script call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Operations one call may perform (charges included).
    pub max_operations: u64,
    /// Wall time after which the watchdog ends a call: the last resort.
    pub watchdog: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { max_operations: MAX_OPERATIONS, watchdog: WATCHDOG }
    }
}

/// Marks the start of a script call on this thread (the budget starts afresh).
pub(crate) fn start_call() {
    budget::begin();
}

/// Marks the end of the script call on this thread (for the watchdog).
pub(crate) fn end_call() {
    budget::end();
}

/// Evaluates `src` in `engine` as one script call (its budget afresh, watched
/// by the watchdog): for tests and benchmarks of the sandbox itself.
pub fn eval(engine: &Engine, src: &str) -> Result<Dynamic, Box<rhai::EvalAltResult>> {
    start_call();
    let r = engine.eval::<Dynamic>(src);
    end_call();
    r
}

/// The sandboxed engine every script of the host runs in.
pub fn engine(limits: Limits) -> Engine {
    let mut e = Engine::new();
    // Counted by the progress hook, with the charges (see `budget`).
    e.set_max_operations(0);
    e.set_max_call_levels(32);
    e.set_max_expr_depths(64, 32);
    e.set_max_string_size(MAX_STRING);
    e.set_max_array_size(MAX_ARRAY);
    e.set_max_map_size(MAX_MAP);
    e.disable_symbol("eval");
    e.on_print(|s| log::print(s, None));
    e.on_debug(|s, _, pos| log::print(s, Some(pos)));
    let (max, watchdog) = (limits.max_operations, limits.watchdog);
    e.on_progress(move |ops| budget::progress(ops, max, watchdog));
    // Registered functions take precedence over Rhai's library.
    for &name in lint::BLOCKING {
        e.register_fn(name, move |_: rhai::INT| -> Result<(), Box<rhai::EvalAltResult>> {
            Err(lint::blocking(name).into())
        });
        e.register_fn(name, move |_: rhai::FLOAT| -> Result<(), Box<rhai::EvalAltResult>> {
            Err(lint::blocking(name).into())
        });
    }
    budget::register_charged(&mut e);
    verdict::register(&mut e);
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
        start_call();
        let r = e.eval::<Dynamic>(src);
        end_call();
        match r {
            Ok(v) => format!("ok {v}"),
            Err(err) => super::super::describe(std::path::Path::new("t.rhai"), "main", &err),
        }
    }

    #[test]
    fn the_sandbox_stops_what_would_hang_or_exhaust_the_host() {
        let cases = [
            ("an endless loop runs out of operations", "loop {}", "used up its budget of 10,000 operations"),
            ("sleep is not there to block", "sleep(5)", "`sleep` is not available: scripts may not block"),
            ("nor through a function pointer", "call(Fn(\"sl\" + \"eep\"), 0.5)", "`sleep` is not available"),
            (
                "a loop over whole arrays is charged per element",
                "let a = []; a.pad(500, 1); loop { a.contains(2); }",
                "used up its budget of 10,000 operations",
            ),
            ("so is comparing arrays", "let a = []; a.pad(500, 1); let b = a; loop { a == b; }", "used up its budget"),
            ("and printing them", "let a = []; a.pad(300, 1); loop { let s = `${a}`; }", "used up its budget"),
            (
                "and merging maps",
                "let m = #{}; for i in 0..100 { m[`k${i}`] = i; } loop { let n = #{}; n += m; }",
                "used up its budget",
            ),
            ("an empty padding does not loop for ever", "let s = \"a\"; s.pad(5, \"\"); s.len()", "ok 1"),
            ("a budget error cannot be caught", "try { loop {} } catch (e) { 1 }", "used up its budget"),
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
    fn the_charged_functions_answer_as_rhais_own_do() {
        let ours = engine(Limits::default());
        let rhai = Engine::new();
        let cases = [
            "[1, 2, 3].contains(2)",
            "[1, 2, 3].contains(2.0)",
            "2 in [1, \"2\", 3]",
            "[\"a\", 'b'].contains('b')",
            "[[1], [2]].contains([2])",
            "[1, 2, 3, 2].index_of(2)",
            "[1, 2, 3, 2].index_of(2, 2)",
            "[1, 2, 3, 2].index_of(2, -1)",
            "[1, 2, 3, 2].index_of(2, -9)",
            "[1, 2, 3, 2].index_of(2, 9)",
            "[1, 2, 3, 2].index_of(7)",
            "[1, [2], #{a: 3}] == [1, [2], #{a: 3}]",
            "[1, 2] != [1, 2.5]",
            "[1, 2] == [1]",
            "let a = [1, 1, 2, 2, 2, 1, 3, 3]; a.dedup(); a",
            "#{a: 1, b: [2]} == #{b: [2], a: 1}",
            "#{a: 1} != #{a: 2}",
            "let m = #{a: 1}; m.mixin(#{b: 2, a: 3}); m",
            "let m = #{a: 1}; m += #{b: 2}; m",
            "#{a: 1} + #{a: 2, c: 3}",
            "let m = #{a: 1}; m.fill_with(#{a: 2, c: 3}); m",
            "[1, \"x\", 'c', 2.5, (), true, [1], #{k: \"v\"}].to_string()",
            "`${[1, 2]} and ${#{a: [1]}}`",
            "#{a: 1, \"b c\": \"d\"}.to_debug()",
            "let s = \"ab\"; s.pad(5, 'x'); s",
            "let s = \"ab\"; s.pad(6, \"xyz\"); s",
            "let s = \"abcdef\"; s.pad(3, 'x'); s",
            "let s = \"hello world\"; s.crop(2, 3); s",
            "let s = \"hello world\"; s.crop(-5); s",
            "let s = \"hello world\"; s.crop(-50, 2); s",
            "let s = \"hello world\"; s.crop(20); s",
            "let s = \"hello world\"; s.crop(3, 0); s",
            "let s = \"héllo wörld\"; s.crop(1..4); s",
            "let s = \"héllo wörld\"; s.crop(1..=4); s",
            "\"a,b,,c\".split(\",\")",
            "\"abc\".split(\",\")",
            "\"\".split(\",\")",
            "\"abc\".split(\"\")",
            "\"a b\".split(' ')",
        ];
        for src in cases {
            start_call();
            let got = ours.eval::<Dynamic>(src).map(|v| format!("{v:?}")).map_err(|e| e.to_string());
            end_call();
            let want = rhai.eval::<Dynamic>(src).map(|v| format!("{v:?}")).map_err(|e| e.to_string());
            assert_eq!(got, want, "{src}");
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
    fn a_call_passes_or_fails_the_same_on_an_idle_and_a_busy_machine() {
        // An array-building loop `n` times: find the largest `n` the budget
        // allows, then run it and one more, again and again, while other threads
        // keep the machine's cores busy. A budget in time would let the same call
        // pass on an idle machine and fail on a busy one; in operations it cannot.
        let e = engine(Limits::default());
        let src = |n: u32| {
            format!("let a = []; let i = 0; while i < {n} {{ a.push(i % 7); if a.len() > 100 {{ a = []; }} i += 1; }}")
        };
        let (mut lo, mut hi) = (1u32, 10_000u32);
        while lo + 1 < hi {
            let mid = (lo + hi) / 2;
            if eval(&e, &src(mid)).is_ok() {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        assert!(
            eval(&e, &src(lo)).is_ok() && eval(&e, &src(lo + 1)).is_err(),
            "the budget ends between {lo} and {}",
            lo + 1
        );
        let stop = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            for _ in 0..3 {
                s.spawn(|| {
                    let mut x = 0u64;
                    while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                        x = std::hint::black_box(x.wrapping_mul(31).wrapping_add(7));
                    }
                });
            }
            for round in 0..50 {
                assert!(eval(&e, &src(lo)).is_ok(), "round {round}: {lo} iterations passed on an idle machine");
                let err = eval(&e, &src(lo + 1)).unwrap_err();
                assert_eq!(budget::stop_of(&err), Some(budget::Stop::Budget(MAX_OPERATIONS)), "round {round}");
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
        });
    }

    #[test]
    fn the_watchdog_ends_a_call_the_budget_does_not() {
        // No operation budget to speak of: only the watchdog can end `loop {}`,
        // and it does, however long the machine takes to get there.
        let e = engine(Limits { max_operations: u64::MAX, watchdog: Duration::from_millis(20) });
        start_call();
        let err = e.eval::<Dynamic>("loop {}").unwrap_err();
        end_call();
        assert_eq!(budget::stop_of(&err), Some(budget::Stop::Watchdog(20)));
        let msg = super::super::describe(std::path::Path::new("t.rhai"), "main", &err);
        assert!(msg.contains("ended by the wall-clock watchdog after 20 ms"), "{msg}");
    }
}
