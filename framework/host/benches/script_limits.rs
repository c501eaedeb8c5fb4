//! How long the slowest script calls the sandbox allows take.
//!
//! The operation budget is deterministic; what it bounds in time depends on
//! what one operation can cost. Each case below is a script written to be as
//! slow as possible within the default limits (`kairos_host::script::sandbox`):
//! it builds the largest value the size limits allow, then loops over the
//! operation that costs the most per operation on it, until the budget ends the
//! call. The table gives the slowest of [`ROUNDS`] calls of each, and how the
//! call ended (every one must end by the budget or a size limit, never by the
//! watchdog). The README's "Sandbox" section quotes the worst case.
//!
//! A custom harness (not criterion): the quantity is the maximum, not a mean.

use std::time::Instant;

use kairos_host::script::sandbox::{self, Limits, MAX_ARRAY, MAX_MAP, MAX_STRING};

/// Calls of each case; the slowest is reported.
const ROUNDS: usize = 5;

fn main() {
    let e = sandbox::engine(Limits::default());
    let (a, m, s) = (MAX_ARRAY - 1, MAX_MAP - 1, MAX_STRING);
    let bigs = format!("let s = \"\"; s.pad({s}, 'x');");
    let biga = format!("let a = []; a.pad({a}, 1);");
    let bigm = format!("let m = #{{}}; for i in 0..{m} {{ m[`k${{i}}`] = i; }}");
    let cases: Vec<(&str, String)> = vec![
        ("loop {}", "loop {}".into()),
        ("string concatenation", format!("{bigs} let t = s; loop {{ t = s + \"\"; t = \"\"; }}")),
        ("string replace", format!("{bigs} loop {{ let t = s.replace(\"x\", \"y\"); }}")),
        ("string index_of, missing", format!("{bigs} loop {{ let t = s.index_of(\"y\"); }}")),
        ("string crop", format!("{bigs} loop {{ let t = s; t.crop(1); }}")),
        ("string pad", format!("loop {{ let s = \"\"; s.pad({s}, 'x'); }}")),
        ("string sub_string", format!("{bigs} loop {{ let x = s.sub_string(1, {}); }}", s - 2)),
        ("string split", format!("let s = \"\"; s.pad({}, ','); loop {{ let c = s.split(\",\"); }}", a.min(s) - 1)),
        ("string to_upper", format!("{bigs} loop {{ let x = s.to_upper(); }}")),
        ("array copy on assignment", format!("{biga} loop {{ let b = a; }}")),
        (
            "array sort",
            format!(
                "let a = []; for i in 0..{a} {{ a.push(({a} - i) * 7 % {a}); }} let b = a; loop {{ a = b; a.sort(); }}"
            ),
        ),
        ("array contains (charged)", format!("{biga} loop {{ let t = a.contains(2); }}")),
        ("array == (charged)", format!("{biga} let b = a; loop {{ let t = a == b; }}")),
        ("array dedup (charged)", format!("{biga} loop {{ a.dedup(); a.pad({a}, 1); }}")),
        ("array concatenation", format!("let a = []; a.pad({}, 1); loop {{ let b = a + a; }}", a / 2)),
        ("array printed (charged)", format!("let a = []; a.pad({}, 1); loop {{ let x = a.to_string(); }}", s / 3)),
        ("map copy on assignment", format!("{bigm} loop {{ let n = m; }}")),
        ("map keys", format!("{bigm} loop {{ let k = m.keys(); }}")),
        ("map values", format!("{bigm} loop {{ let k = m.values(); }}")),
        ("map merge (charged)", format!("{bigm} loop {{ let n = #{{}}; n += m; }}")),
        ("map == (charged)", format!("{bigm} let n = m; loop {{ let x = m == n; }}")),
        ("map to_json", format!("{bigm} loop {{ let x = m.to_json(); }}")),
        (
            "map of arrays, copied",
            format!(
                "let a = []; a.pad({}, 1); let m = #{{}}; for i in 0..{} {{ m[`k${{i}}`] = a; }} loop {{ let n = m; }}",
                a / m.min(a),
                m.min(a) - 1
            ),
        ),
        ("arrays passed to functions", format!("fn f(x) {{ x.len() }} {biga} loop {{ f(a); }}")),
    ];
    println!("{:<30} {:>10}  ended by", "case", "slowest");
    let mut worst = (0.0, "");
    for (name, src) in &cases {
        let mut slowest = 0.0f64;
        let mut ended = String::new();
        for _ in 0..ROUNDS {
            let t = Instant::now();
            let r = sandbox::eval(&e, src);
            slowest = slowest.max(t.elapsed().as_secs_f64() * 1e3);
            ended = match r {
                Ok(v) => format!("returned {v}"),
                Err(err) => kairos_host::script::describe(std::path::Path::new("case"), "main", &err),
            };
        }
        if slowest > worst.0 {
            worst = (slowest, name);
        }
        println!("{name:<30} {slowest:>7.1} ms  {}", ended.chars().take(90).collect::<String>());
    }
    println!(
        "\nslowest call: {:.1} ms ({}); the watchdog waits {} ms",
        worst.0,
        worst.1,
        sandbox::WATCHDOG.as_millis()
    );
}
