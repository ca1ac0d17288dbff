#!/usr/bin/env python3
"""Fails when the workspace's rust-version is below the highest rust-version in its dependency
tree (from `cargo metadata`): a promise the dependencies do not keep."""
import json
import subprocess
import sys

meta = json.loads(
    subprocess.run(
        ["cargo", "metadata", "--format-version", "1", "--locked"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
)
members = set(meta["workspace_members"])


def version(text):
    parts = [int(part) for part in text.split(".")]
    return tuple(parts + [0] * (3 - len(parts)))


ours = {p["name"]: p.get("rust_version") for p in meta["packages"] if p["id"] in members}
deps = [
    (version(p["rust_version"]), p["name"])
    for p in meta["packages"]
    if p["id"] not in members and p.get("rust_version")
]
needed, by = max(deps)
failed = False
for name, declared in sorted(ours.items()):
    if declared is None or version(declared) < needed:
        print(f"{name}: rust-version {declared} is below {'.'.join(map(str, needed))}, which {by} needs")
        failed = True
print(f"highest rust-version in the dependency tree: {'.'.join(map(str, needed))} ({by})")
sys.exit(1 if failed else 0)
