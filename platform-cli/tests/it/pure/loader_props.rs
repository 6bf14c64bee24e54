//! Property tests: no input makes the loader panic, and it always answers with either a
//! manifest or at least one diagnostic that points inside the file.

use platform_cli::manifest;
use proptest::prelude::*;

const VALID: &str = include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../platform.yaml"));

fn check(text: &str) {
    match manifest::load_str("fuzz.yaml", text) {
        Ok(_) => {}
        Err(d) => {
            assert!(!d.0.is_empty(), "an error without a diagnostic");
            for diag in &d.0 {
                assert!(
                    diag.position.offset <= text.len(),
                    "{} points past the end",
                    diag.headline()
                );
                assert!(diag.position.line >= 1);
                // Rendering the report (snippet included) must not panic either.
                let _ = manifest::Diagnostics(vec![diag.clone()]).render(false);
            }
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]

    #[test]
    fn arbitrary_text_never_panics(text in "\\PC{0,400}") {
        check(&text);
    }

    #[test]
    fn yaml_like_text_never_panics(text in "([a-zA-Z]{1,8}: (\\[|\\{|\"|'|[0-9.]{1,5}|-|[a-z]{1,6})?\n {0,4}){0,30}") {
        check(&text);
    }

    #[test]
    fn mutated_manifests_never_panic(cut in 0usize..VALID.len(), len in 0usize..40, insert in "\\PC{0,12}") {
        let mut text = VALID.to_string();
        let start = (0..=cut).rev().find(|i| text.is_char_boundary(*i)).unwrap_or(0);
        let end = (start + len).min(text.len());
        let end = (end..=text.len()).find(|i| text.is_char_boundary(*i)).unwrap_or(text.len());
        text.replace_range(start..end, &insert);
        check(&text);
    }
}
