//! Shell completions, as real bash completes with the script `platform completions bash` prints.

use std::path::Path;

use crate::support::cli::{SUBCOMMANDS, assert_output, platform};

/// What real bash completes for the words of `line` (the last one being completed), with the
/// script `platform completions bash` prints loaded, in `dir`, asking the built binary.
fn bash_completes(dir: &Path, words: &[&str]) -> Vec<String> {
    let out = platform().args(["completions", "bash"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let script = dir.join("platform.bash");
    std::fs::write(&script, &out.stdout).expect("write");
    let quoted: Vec<String> = words.iter().map(|w| format!("'{w}'")).collect();
    let current = words.last().copied().unwrap_or_default();
    let previous = words.len().checked_sub(2).map_or("", |i| words[i]);
    let probe = format!(
        "source {}; COMP_WORDS=({}); COMP_CWORD={}; COMP_TYPE=9; _clap_complete_platform platform '{current}' '{previous}'; printf '%s\\n' \"${{COMPREPLY[@]}}\"",
        script.display(),
        quoted.join(" "),
        words.len() - 1,
    );
    let bin_dir = Path::new(env!("CARGO_BIN_EXE_platform")).parent().expect("bin dir");
    let path = format!("{}:{}", bin_dir.display(), std::env::var("PATH").unwrap_or_default());
    let completed = std::process::Command::new("bash")
        .args(["--norc", "-c", &probe])
        .current_dir(dir)
        .env("PATH", path)
        .output()
        .expect("bash runs");
    assert!(
        completed.status.success(),
        "{}",
        String::from_utf8_lossy(&completed.stderr)
    );
    String::from_utf8_lossy(&completed.stdout)
        .lines()
        .map(|w| w.trim_end().to_string())
        .filter(|w| !w.is_empty())
        .collect()
}

#[test]
fn bash_completes_every_subcommand_with_the_script_it_prints() {
    let dir = tempfile::tempdir().expect("tempdir");
    let words = bash_completes(dir.path(), &["platform", ""]);
    for sub in SUBCOMMANDS {
        assert!(
            words.iter().any(|w| w == sub),
            "`platform <TAB>` lacks {sub}:\n{words:?}"
        );
    }
    assert_eq!(
        bash_completes(dir.path(), &["platform", "ver"]),
        ["verify", "verify-image"]
    );
}

#[test]
fn bash_completes_environment_names_from_the_manifest_in_the_folder() {
    let dir = tempfile::tempdir().expect("tempdir");
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples/eks-three-envs.yaml");
    std::fs::copy(example, dir.path().join("platform.yaml")).expect("copy");
    assert_eq!(
        bash_completes(dir.path(), &["platform", "status", "--env", ""]),
        ["dev", "staging", "prod"]
    );
    assert_eq!(
        bash_completes(dir.path(), &["platform", "render", "--env", "st"]),
        ["staging"]
    );
    assert_eq!(
        bash_completes(dir.path(), &["platform", "promote", "--from", "dev", "--to", "p"]),
        ["prod"]
    );
    // No manifest here: nothing to offer, and no error on the terminal.
    let empty = tempfile::tempdir().expect("tempdir");
    assert!(bash_completes(empty.path(), &["platform", "verify", "--env", ""]).is_empty());
}

#[test]
fn an_unknown_shell_is_refused_with_the_ones_there_are() {
    let out = platform().args(["completions", "tcsh"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert_output(
        &String::from_utf8_lossy(&out.stderr),
        "tests/fixtures/cli/completions-unknown-shell.stderr",
    );
}
