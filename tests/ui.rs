//! Compile tests for `next_auth!`: `pass/` must compile, `fail/` must fail with the `.stderr`
//! next to each case. The `.stderr` files are pinned to the toolchain in use (rustc 1.95);
//! regenerate them with `TRYBUILD=overwrite cargo test -p auth-suite --test ui`.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
