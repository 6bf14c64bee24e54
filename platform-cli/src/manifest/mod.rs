//! `platform.yaml`: parse, check (shape, then meaning), and resolve per environment.
//!
//! The pipeline is: text → `serde_json::Value` (yaml_serde) → shape check against the
//! generated JSON Schema → typed [`Manifest`] → meaning rules → [`ResolvedEnvironment`]s.
//! Every stage reports all of its problems with `FILE:LINE:COL` before anything is written.

pub mod ci;
pub mod diagnostic;
pub mod fit;
pub mod pins;
pub mod resolve;
pub mod rules;
pub mod source;
pub mod structure;

use std::path::{Path, PathBuf};

pub use crate::model::Manifest;
pub use diagnostic::{Diagnostic, Diagnostics};
pub use resolve::{ResolvedEnvironment, resolve};
pub use source::{Source, SpanIndex};

use diagnostic::Code;
use source::Position;

/// A manifest that passed every check, with its source kept for later edits (promotion).
#[derive(Debug, Clone)]
pub struct LoadedManifest {
    pub manifest: Manifest,
    pub source: Source,
    pub spans: SpanIndex,
}

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LoadError {
    #[error("cannot read manifest {path}: {source}")]
    #[diagnostic(
        code(manifest::read),
        help("pass the manifest with -f FILE; it defaults to ./platform.yaml")
    )]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{} problem{} in {file}", .diagnostics.0.len(), if .diagnostics.0.len() == 1 { "" } else { "s" })]
    #[diagnostic(
        code(manifest::invalid),
        help("fix the problems listed above, then run `platform validate` again")
    )]
    Invalid { file: String, diagnostics: Diagnostics },
}

/// Reads and checks the manifest at `path`; diagnostics name the file as given.
pub fn load(path: &Path) -> Result<LoadedManifest, LoadError> {
    load_file(path, |_| true)
}

/// Like [`load`], but a version past its support or outside the supported range
/// ([`Code::Unsupported`]) does not refuse the manifest: `platform outdated` reports it.
pub fn load_for_report(path: &Path) -> Result<LoadedManifest, LoadError> {
    load_file(path, |d| d.code != Code::Unsupported)
}

fn load_file(path: &Path, refuses: impl Fn(&Diagnostic) -> bool) -> Result<LoadedManifest, LoadError> {
    let text = std::fs::read_to_string(path).map_err(|source| LoadError::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let name = path.display().to_string();
    load_checked(&name, &text, refuses).map_err(|diagnostics| LoadError::Invalid {
        file: name,
        diagnostics,
    })
}

/// Checks a manifest held in memory. Never panics, whatever the input.
pub fn load_str(name: &str, text: &str) -> Result<LoadedManifest, Diagnostics> {
    load_checked(name, text, |_| true)
}

/// Checks a manifest, refusing it for the meaning diagnostics `refuses` keeps.
fn load_checked(name: &str, text: &str, refuses: impl Fn(&Diagnostic) -> bool) -> Result<LoadedManifest, Diagnostics> {
    let source = Source::new(name, text);
    let document: serde_json::Value = match yaml_serde::from_str(text) {
        Ok(value) => value,
        Err(e) => return Err(Diagnostics(vec![syntax_error(&source, &e)])),
    };
    let spans = SpanIndex::build(text);
    let shape = structure::check(&document, &source, &spans);
    if !shape.is_empty() {
        return Err(sorted(shape));
    }
    let manifest: Manifest = match serde_json::from_value(document) {
        Ok(m) => m,
        // The schema is generated from the same types, so this is a last line of defence.
        Err(e) => {
            let d = Diagnostic::at(Code::WrongType, &source, Position::START, "").build(
                e.to_string(),
                "a manifest matching `platform schema`",
                "run `platform schema` to see the expected structure",
            );
            return Err(Diagnostics(vec![d]));
        }
    };
    let meaning: Vec<Diagnostic> = rules::check(&manifest, &source, &spans)
        .into_iter()
        .filter(|d| refuses(d))
        .collect();
    if !meaning.is_empty() {
        return Err(sorted(meaning));
    }
    Ok(LoadedManifest {
        manifest,
        source,
        spans,
    })
}

fn sorted(mut diagnostics: Vec<Diagnostic>) -> Diagnostics {
    diagnostics.sort_by(|a, b| (a.position.offset, &a.field).cmp(&(b.position.offset, &b.field)));
    Diagnostics(diagnostics)
}

fn syntax_error(source: &Source, error: &yaml_serde::Error) -> Diagnostic {
    let position = error.location().map_or(Position::START, |l| Position {
        offset: l.index(),
        len: 1,
        line: l.line(),
        column: l.column(),
    });
    let message = error.to_string();
    let message = message.split(" at line ").next().unwrap_or(&message).to_string();
    let hint = if message.contains("duplicate") {
        "remove or rename one of the duplicate keys"
    } else if message.contains("mapping values are not allowed") {
        "a value containing ': ' must be quoted"
    } else {
        "check the indentation and quoting around this position"
    };
    Diagnostic::at(Code::Syntax, source, position, "").build(message, "a YAML document with a mapping at the top", hint)
}
