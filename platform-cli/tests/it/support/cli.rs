//! The `platform` binary as the CLI tests run it, and exact-output comparison.
//! Expected output lives in files beside the fixtures; bless an intended change with
//! `UPDATE_GOLDEN=1 cargo test -p platform-cli --test it` and review the diff.

use std::path::Path;

use assert_cmd::Command;

pub fn platform() -> Command {
    let mut cmd = Command::cargo_bin("platform").expect("binary built");
    cmd.env("NO_COLOR", "1");
    // Support windows are judged on a fixed day, so the expected output does not age.
    cmd.env("PLATFORM_TODAY", "2026-11-30");
    cmd
}

pub fn assert_output(actual: &str, expected_file: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(expected_file);
    if std::env::var_os("UPDATE_GOLDEN").is_some() {
        std::fs::write(&path, actual).expect("write expected output");
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|_| panic!("{expected_file} missing"));
    assert_eq!(actual, expected, "output differs from {expected_file}");
}

/// The subcommands a user sees in `--help`, completions and the man page.
pub const SUBCOMMANDS: [&str; 15] = [
    "init",
    "validate",
    "schema",
    "render",
    "diff",
    "promote",
    "outdated",
    "update",
    "bootstrap",
    "status",
    "secrets",
    "verify",
    "verify-image",
    "completions",
    "man",
];
