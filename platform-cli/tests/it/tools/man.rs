//! The man pages through the real `groff` and `man` (Debian's groff and man-db).

use crate::support::cli::{SUBCOMMANDS, platform};

#[test]
fn the_man_page_renders_with_groff_and_names_every_subcommand() {
    let out = platform().arg("man").output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let page = String::from_utf8_lossy(&out.stdout);
    assert!(page.contains(".TH platform 1"), "{page}");
    // What `man` shows: the roff through the real groff, as plain text.
    let mut groff = std::process::Command::new("groff")
        .args(["-man", "-Tutf8", "-P", "-c", "-w", "all"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("groff runs");
    std::io::Write::write_all(&mut groff.stdin.take().expect("stdin"), &out.stdout).expect("write");
    let shown = groff.wait_with_output().expect("groff finishes");
    assert!(shown.status.success());
    let text = String::from_utf8_lossy(&shown.stdout);
    assert!(
        shown.stderr.is_empty(),
        "groff warns: {}",
        String::from_utf8_lossy(&shown.stderr)
    );
    assert!(text.contains("Render, verify and promote"), "{text}");
    for sub in SUBCOMMANDS {
        assert!(text.contains(&format!("platform-{sub}(1)")), "{sub} missing:\n{text}");
    }
}

/// platform(1) refers to platform-<subcommand>(1): `--out-dir` writes each of those pages, and
/// `man` finds and formats them there.
#[test]
fn every_page_platform_1_refers_to_is_written_and_man_shows_it() {
    let dir = tempfile::tempdir().expect("tempdir");
    let out = platform()
        .args(["man", "--out-dir"])
        .arg(dir.path())
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        format!(
            "wrote {} man pages into {}\n",
            SUBCOMMANDS.len() + 1,
            dir.path().display()
        )
    );
    for page in std::iter::once("platform".to_string()).chain(SUBCOMMANDS.iter().map(|s| format!("platform-{s}"))) {
        let shown = std::process::Command::new("man")
            .arg("-l")
            .arg(dir.path().join(format!("{page}.1")))
            .env("MANPAGER", "cat")
            .env("MANWIDTH", "100")
            .output()
            .expect("man runs");
        assert!(
            shown.status.success(),
            "{page}: {}",
            String::from_utf8_lossy(&shown.stderr)
        );
        let text = String::from_utf8_lossy(&shown.stdout);
        assert!(text.contains(&page), "{page} shows:\n{text}");
    }
}
