//! README.md's code stays true: its quick start is `examples/quickstart.rs`,
//! which cargo compiles, shown as it is.

#[test]
fn the_readme_quick_start_is_the_quickstart_example() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/quickstart.rs");
    let code = example
        .find("use fixengine::")
        .map(|at| &example[at..])
        .expect("the example starts its code with `use fixengine::`");
    assert!(
        readme.contains(code),
        "README.md's quick start differs from examples/quickstart.rs: copy the example's code, \
         from `use fixengine::` to the end, into README.md"
    );
}
