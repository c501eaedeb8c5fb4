//! What loading a script refuses, found in its syntax tree before it ever runs.
//!
//! | refused | why |
//! |---|---|
//! | a call of `sleep` | it would block the host's scheduling thread; the sandbox has no `sleep` ([`BLOCKING`]) |
//! | `fn filter` returning a string literal | a string used to mean "reject with this code"; a rejection is now explicit ([`BARE_STRING`]) |
//!
//! Each finding is reported at its line and column. The same rules hold at run
//! time for what the tree cannot show (a function pointer named `"sleep"`, a
//! string computed and returned by a filter): the call fails at once with the
//! same words, naming the script and the function.

use rhai::{ASTFlags, ASTNode, Expr, Position, Stmt, StmtBlock, AST};

/// Functions the sandbox does not offer because they would block.
pub const BLOCKING: &[&str] = &["sleep"];

/// What a filter that returns a bare string is told.
pub const BARE_STRING: &str = "a filter's rejection must be explicit";

/// The message for a call of `name`, a blocking function.
pub fn blocking(name: &str) -> String {
    format!("`{name}` is not available: scripts may not block")
}

/// The message for a filter that returns the string `s`.
pub fn bare_string(s: &str) -> String {
    format!(
        "returns the string {s:?}; {BARE_STRING}: reject({s:?}) (waiting may help), reject_forever({s:?}) (it never will) or #{{ reason: {s:?}, permanent: BOOL }}; true lets the node through"
    )
}

/// One problem found, at its position in the script.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Line, from 1.
    pub line: usize,
    /// Column, from 1.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

fn finding(pos: Position, message: String) -> Finding {
    Finding { line: pos.line().unwrap_or(0), column: pos.position().unwrap_or(0), message }
}

/// Everything the rules above find in `ast`, in source order.
pub fn check(ast: &AST) -> Vec<Finding> {
    let mut found = Vec::new();
    ast.walk(&mut |path: &[ASTNode]| {
        let call = match path.last() {
            Some(ASTNode::Expr(Expr::FnCall(f, pos))) => Some((f.name.as_str(), *pos)),
            Some(ASTNode::Stmt(Stmt::FnCall(f, pos))) => Some((f.name.as_str(), *pos)),
            _ => None,
        };
        if let Some((name, pos)) = call {
            if BLOCKING.contains(&name) {
                found.push(finding(pos, blocking(name)));
            }
        }
        true
    });
    // The filter alone, in a tree of its own: its body's statements are the
    // walk's top level.
    let mut module = rhai::Module::new();
    for f in ast.iter_fn_def().filter(|f| f.name == "filter" && f.params.len() == 3) {
        module.set_script_fn(f.clone());
    }
    let filter = AST::new(std::iter::empty(), module);
    // Findings of the last top-level statement so far (its value is returned).
    let mut last: Vec<Finding> = Vec::new();
    filter.walk(&mut |path: &[ASTNode]| {
        match path {
            [ASTNode::Stmt(stmt)] => {
                last.clear();
                tail(stmt, &mut last);
            }
            // `throw` is a `Return` flagged BREAK: it returns nothing.
            [.., ASTNode::Stmt(Stmt::Return(Some(e), flags, _))] if !flags.contains(ASTFlags::BREAK) => {
                string_literal(e, &mut found)
            }
            _ => {}
        }
        true
    });
    found.append(&mut last);
    found.sort_by_key(|f| (f.line, f.column));
    found.dedup();
    found
}

/// The string literals a statement gives as its value (the last statement of a
/// function body is what it returns), through `if`/`else` and blocks.
fn tail(stmt: &Stmt, found: &mut Vec<Finding>) {
    match stmt {
        Stmt::Expr(e) => match &**e {
            Expr::Stmt(b) => tail_block(b, found),
            e => string_literal(e, found),
        },
        Stmt::If(fc, _) => {
            tail_block(&fc.body, found);
            tail_block(&fc.branch, found);
        }
        Stmt::Block(b) => tail_block(b, found),
        _ => {}
    }
}

fn tail_block(block: &StmtBlock, found: &mut Vec<Finding>) {
    if let Some(s) = block.iter().last() {
        tail(s, found);
    }
}

fn string_literal(e: &Expr, found: &mut Vec<Finding>) {
    match e {
        Expr::StringConstant(s, pos) => found.push(finding(*pos, format!("fn filter {}", bare_string(s)))),
        Expr::InterpolatedString(_, pos) => found.push(finding(*pos, format!("fn filter {}", bare_string("…")))),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lint(src: &str) -> Vec<String> {
        let ast = rhai::Engine::new_raw().compile(src).unwrap();
        check(&ast).into_iter().map(|f| format!("{}:{}: {}", f.line, f.column, f.message)).collect()
    }

    #[test]
    fn loading_refuses_blocking_calls_and_bare_string_rejections_where_they_are() {
        let cases: [(&str, &str, &[&str]); 9] = [
            (
                "a sleep in a filter",
                "fn filter(job, node, ctx) {\n  sleep(5);\n  true\n}",
                &["2:3: `sleep` is not available"],
            ),
            (
                "a sleep in a helper",
                "fn wait() { sleep(0.5) }\nfn key(job, ctx) { wait(); 1 }",
                &["1:13: `sleep` is not available"],
            ),
            (
                "a string returned from a filter",
                "fn filter(job, node, ctx) {\n  return \"busy\";\n}",
                &["2:10: fn filter returns the string \"busy\""],
            ),
            (
                "a string as the last value, through if and else",
                "fn filter(job, node, ctx) {\n  if node.running > 0 { \"busy\" } else { true }\n}",
                &["2:25: fn filter returns the string \"busy\""],
            ),
            (
                "\"true\" is a string too",
                "fn filter(job, node, ctx) { \"true\" }",
                &["1:29: fn filter returns the string \"true\""],
            ),
            (
                "explicit rejections are fine",
                "fn filter(job, node, ctx) { if true { return reject(\"busy\"); } reject_forever(\"no\") }",
                &[],
            ),
            ("other entry points may return strings", "fn rebalance(job, node, run, ctx) { \"relocate\" }", &[]),
            (
                "a string that is not returned is fine",
                "fn filter(job, node, ctx) { let s = \"busy\"; s.len() > 0 }",
                &[],
            ),
            (
                "a string thrown is not returned",
                "fn filter(job, node, ctx) { if job.id == \"x\" { throw \"no\" } true }",
                &[],
            ),
        ];
        for (name, src, want) in cases {
            let got = lint(src);
            assert_eq!(got.len(), want.len(), "{name}: {got:?}");
            for (g, w) in got.iter().zip(want) {
                assert!(g.starts_with(w), "{name}: {g}");
            }
        }
    }
}
