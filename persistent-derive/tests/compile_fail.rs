//! Compile-fail tests (trybuild): each file in `compile_fail/` is an input the derive refuses,
//! with the expected compiler output next to it in a `.stderr` file. The toolchain is pinned
//! in `rust-toolchain.toml` so that these expectations change only on purpose; regenerate
//! them with `TRYBUILD=overwrite cargo test -p persistent-derive --test compile_fail`.

#[test]
fn compile_fail() {
    let cases = trybuild::TestCases::new();
    cases.compile_fail("tests/compile_fail/*.rs");
}
