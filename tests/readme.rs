//! The README shows the examples' code; this keeps them identical.

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
fn readme_shows_the_examples_verbatim() {
    let readme = include_str!("../README.md");
    let examples = [
        (
            "examples/guest_checkout.rs",
            include_str!("../examples/guest_checkout.rs"),
            &["config", "hook", "builder"][..],
        ),
        (
            "examples/anonymous.rs",
            include_str!("../examples/anonymous.rs"),
            &["config", "app"][..],
        ),
        (
            "examples/minimal.rs",
            include_str!("../examples/minimal.rs"),
            &["minimal"][..],
        ),
        (
            "examples/nextjs_backend.rs",
            include_str!("../examples/nextjs_backend.rs"),
            &["api"][..],
        ),
        (
            "examples/passkeys.rs",
            include_str!("../examples/passkeys.rs"),
            &["config"][..],
        ),
        (
            "examples/third_party_token.rs",
            include_str!("../examples/third_party_token.rs"),
            &["config"][..],
        ),
    ];
    for (path, source, anchors) in examples {
        for name in anchors {
            let block = format!("```rust\n{}```", anchored(source, name));
            assert!(
                readme.contains(&block),
                "README.md no longer shows the `{name}` part of {path}; copy it again:\n{block}"
            );
        }
    }
}

#[test]
fn readme_runs_the_guest_checkout_example_first() {
    let readme = include_str!("../README.md");
    let first_command = readme
        .lines()
        .find(|line| line.starts_with("cargo run"))
        .expect("the README has set-up commands");
    assert!(
        readme.contains("\ncargo test --workspace "),
        "the README's test command"
    );
    assert!(
        first_command.starts_with("cargo run --example guest_checkout"),
        "{first_command}"
    );
}
