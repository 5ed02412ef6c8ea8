//! The macros' compile-time contract: every malformed input is a `compile_error!` at the
//! token at fault (the committed `.stderr` files), and the pass cases compile and run.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    // The training step's order, enforced by types: backward only from forward_train's trace.
    t.compile_fail("tests/ui/step/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
