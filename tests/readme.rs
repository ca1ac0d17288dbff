//! The README shows the example's code; this keeps the two identical.

fn anchored<'a>(source: &'a str, name: &str) -> &'a str {
    let start = format!("// ANCHOR: {name}\n");
    let end = format!("// ANCHOR_END: {name}\n");
    let from = source
        .find(&start)
        .unwrap_or_else(|| panic!("no anchor {name}"))
        + start.len();
    let to = source[from..]
        .find(&end)
        .unwrap_or_else(|| panic!("no end of anchor {name}"))
        + from;
    &source[from..to]
}

#[test]
fn readme_shows_the_anonymous_example_verbatim() {
    let readme = include_str!("../README.md");
    let example = include_str!("../examples/anonymous.rs");
    for name in ["config", "app"] {
        let block = format!("```rust\n{}```", anchored(example, name));
        assert!(
            readme.contains(&block),
            "README.md no longer shows the `{name}` part of examples/anonymous.rs; copy it again:\n{block}"
        );
    }
}
