//! Errors and warnings about the input, each naming the resource and property it concerns.
//! Ingest turns the JSON path into file:line:col when the input format records positions.

use std::fmt;
use std::sync::Arc;

/// Where a resource came from in the input: its kind and name for people, and the JSON path of
/// the object that declared it (`resources[3]`, `[0].properties.subnets[1]`).
/// The name and path are shared with the ingest records they come from.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Origin {
    pub kind: &'static str,
    pub name: Arc<str>,
    pub path: Arc<str>,
}

/// Where a resource was written is not what it is: hashing a resource (to see whether it
/// changed between two versions) leaves its origin out.
impl std::hash::Hash for Origin {
    fn hash<H: std::hash::Hasher>(&self, _: &mut H) {}
}

impl Origin {
    pub fn new(kind: &'static str, name: impl Into<Arc<str>>, path: impl Into<Arc<str>>) -> Self {
        Origin {
            kind,
            name: name.into(),
            path: path.into(),
        }
    }

    /// The JSON path of one property of this resource.
    pub fn property(&self, property: &str) -> String {
        join_path(&self.path, property)
    }
}

pub fn join_path(base: &str, property: &str) -> String {
    match (base.is_empty(), property.is_empty()) {
        (true, _) => property.to_string(),
        (_, true) => base.to_string(),
        _ if property.starts_with('[') => format!("{base}{property}"),
        _ => format!("{base}.{property}"),
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    Warning,
    Error,
}

/// A position in an input file, 1-based.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub file: String,
    pub line: usize,
    pub column: usize,
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}:{}", self.file, self.line, self.column)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub severity: Severity,
    /// `virtualNetworks 'hub'`, `subnet 'hub/app'`.
    pub resource: String,
    /// JSON path of the offending property in the input.
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
    /// Filled in by ingest when the format records positions.
    pub location: Option<Location>,
    /// The path as the user wrote it, when that differs from the REST path (the YAML lab file).
    pub display_path: Option<String>,
}

impl Diagnostic {
    pub fn error(origin: &Origin, property: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            resource: format!("{} '{}'", origin.kind, origin.name),
            path: origin.property(property),
            message: message.into(),
            hint: None,
            location: None,
            display_path: None,
        }
    }

    pub fn warning(origin: &Origin, property: &str, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Warning,
            ..Diagnostic::error(origin, property, message)
        }
    }

    /// An error about the file as a whole (syntax, top-level shape).
    pub fn file_error(path: impl Into<String>, message: impl Into<String>) -> Self {
        Diagnostic {
            severity: Severity::Error,
            resource: String::new(),
            path: path.into(),
            message: message.into(),
            hint: None,
            location: None,
            display_path: None,
        }
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(loc) = &self.location {
            write!(f, "{loc}: ")?;
        }
        f.write_str(match self.severity {
            Severity::Error => "error: ",
            Severity::Warning => "warning: ",
        })?;
        let path = self.display_path.as_deref().unwrap_or(&self.path);
        match (self.resource.is_empty(), path.is_empty()) {
            (false, false) => write!(f, "{} ({path}): ", self.resource)?,
            (false, true) => write!(f, "{}: ", self.resource)?,
            (true, false) => write!(f, "at {path}: ")?,
            (true, true) => {}
        }
        f.write_str(&self.message)?;
        if let Some(hint) = &self.hint {
            write!(f, "\n  hint: {hint}")?;
        }
        Ok(())
    }
}
