//! The macros' compile-time contract: every malformed input is a `compile_error!` at the
//! token at fault (the committed `.stderr` files), and the pass cases compile and run.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
