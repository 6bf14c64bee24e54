//! Manifest diagnostics: `FILE:LINE:COL`, the field, what was expected, and a hint.

use std::fmt;

use miette::{GraphicalReportHandler, GraphicalTheme, LabeledSpan, SourceSpan};

use super::source::{Position, Source};

/// What a diagnostic is about; the code names it in the output (`manifest::unknown-field`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Code {
    Syntax,
    UnknownField,
    MissingField,
    WrongType,
    InvalidValue,
    /// A version past its support window or outside what the platform is written for:
    /// `platform outdated` reports these instead of refusing the manifest.
    Unsupported,
}

impl Code {
    fn as_str(self) -> &'static str {
        match self {
            Code::Syntax => "manifest::syntax",
            Code::UnknownField => "manifest::unknown-field",
            Code::MissingField => "manifest::missing-field",
            Code::WrongType => "manifest::wrong-type",
            Code::InvalidValue => "manifest::invalid-value",
            Code::Unsupported => "manifest::unsupported",
        }
    }
}

/// One problem in a manifest.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub code: Code,
    pub file: String,
    pub position: Position,
    /// The field in dotted form, e.g. `environments[1].cluster.region`.
    pub field: String,
    pub message: String,
    pub expected: String,
    pub hint: String,
    source: Source,
}

impl Diagnostic {
    /// Starts a diagnostic about the field at `pointer`, shown at `position`.
    pub fn at(code: Code, source: &Source, position: Position, pointer: &str) -> DiagnosticBuilder {
        DiagnosticBuilder {
            code,
            source: source.clone(),
            position,
            field: field_path(pointer),
        }
    }

    /// The one-line form: `FILE:LINE:COL: FIELD: MESSAGE`.
    pub fn headline(&self) -> String {
        format!(
            "{}:{}:{}: {}: {}",
            self.file, self.position.line, self.position.column, self.field, self.message
        )
    }
}

#[derive(Debug)]
pub struct DiagnosticBuilder {
    code: Code,
    source: Source,
    position: Position,
    field: String,
}

impl DiagnosticBuilder {
    pub fn build(self, message: impl Into<String>, expected: impl Into<String>, hint: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code: self.code,
            file: self.source.name.clone(),
            position: self.position,
            field: self.field,
            message: message.into(),
            expected: expected.into(),
            hint: hint.into(),
            source: self.source,
        }
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.headline())
    }
}

impl std::error::Error for Diagnostic {}

impl miette::Diagnostic for Diagnostic {
    fn code<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(self.code.as_str()))
    }

    fn help<'a>(&'a self) -> Option<Box<dyn fmt::Display + 'a>> {
        Some(Box::new(format!("expected {}\n{}", self.expected, self.hint)))
    }

    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        Some(self)
    }

    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let span = SourceSpan::new(self.position.offset.into(), self.position.len.max(1));
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(short_label(self.code).to_string()),
            span,
        ))))
    }
}

impl miette::SourceCode for Diagnostic {
    fn read_span<'a>(
        &'a self,
        span: &SourceSpan,
        before: usize,
        after: usize,
    ) -> Result<Box<dyn miette::SpanContents<'a> + 'a>, miette::MietteError> {
        let contents = miette::SourceCode::read_span(self.source.text.as_str(), span, before, after)?;
        // The text alone has no name; wrap it so the snippet header shows FILE:LINE:COL.
        Ok(Box::new(miette::MietteSpanContents::new_named(
            self.source.name.clone(),
            contents.data(),
            *contents.span(),
            contents.line(),
            contents.column(),
            contents.line_count(),
        )))
    }
}

fn short_label(code: Code) -> &'static str {
    match code {
        Code::Syntax => "not valid YAML here",
        Code::UnknownField => "unknown field",
        Code::MissingField => "missing a field",
        Code::WrongType => "wrong type",
        Code::InvalidValue => "invalid value",
        Code::Unsupported => "unsupported version",
    }
}

/// `/environments/1/cluster/region` → `environments[1].cluster.region`.
pub fn field_path(pointer: &str) -> String {
    let mut out = String::new();
    for segment in pointer.split('/').skip(1) {
        let segment = segment.replace("~1", "/").replace("~0", "~");
        if !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit()) {
            out.push_str(&format!("[{segment}]"));
        } else {
            if !out.is_empty() {
                out.push('.');
            }
            out.push_str(&segment);
        }
    }
    if out.is_empty() { "(document)".into() } else { out }
}

/// Every problem found in one manifest, in source order.
#[derive(Debug, Clone)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl Diagnostics {
    /// Renders every diagnostic with its source snippet; no colours unless asked, so output
    /// is stable in CI logs and tests.
    pub fn render(&self, color: bool) -> String {
        let theme = if color {
            GraphicalTheme::unicode()
        } else {
            GraphicalTheme::unicode_nocolor()
        };
        let handler = GraphicalReportHandler::new_themed(theme).with_width(100);
        let mut out = String::new();
        for diagnostic in &self.0 {
            // Writing into a String cannot fail.
            let _ = handler.render_report(&mut out, diagnostic);
        }
        out.push_str(&format!(
            "{} error{} in {}\n",
            self.0.len(),
            if self.0.len() == 1 { "" } else { "s" },
            self.0.first().map_or("the manifest", |d| d.file.as_str()),
        ));
        out
    }
}

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for d in &self.0 {
            writeln!(f, "{}", d.headline())?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_read_as_field_paths() {
        assert_eq!(
            field_path("/environments/1/cluster/region"),
            "environments[1].cluster.region"
        );
        assert_eq!(field_path(""), "(document)");
        assert_eq!(field_path("/a~1b"), "a/b");
    }
}
