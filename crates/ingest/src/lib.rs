//! Ingest: reads a topology file (REST/`az` export JSON, a literal ARM template, or the vnetlab
//! YAML lab file), builds the model, validates it, and reports every problem with its place.

pub mod intents;
pub mod json;
pub mod lab_file;
pub mod locate;
pub mod rest;
pub mod value;

use json::Json;
use locate::{JsonLocator, Locator};
use std::path::Path;
use vnetlab_model::diagnostic::Location;
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::{Diagnostic, Topology};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Json,
    Yaml,
}

impl Format {
    /// By extension; otherwise by the first non-blank character.
    pub fn detect(path: &Path, text: &str) -> Format {
        match path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() {
            Some("yaml" | "yml") => Format::Yaml,
            Some("json" | "jsonc") => Format::Json,
            _ if text.trim_start().starts_with(['{', '[']) => Format::Json,
            _ => Format::Yaml,
        }
    }
}

/// A topology that passed validation, with the warnings found on the way.
#[derive(Debug)]
pub struct Loaded {
    pub topology: Topology,
    pub warnings: Vec<Diagnostic>,
}

/// Reads and validates a file. On failure, returns every diagnostic (errors and warnings).
pub fn load_path(path: &Path, tags: &ServiceTags) -> Result<Loaded, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        vec![Diagnostic::file_error("", format!("cannot read {file}: {e}")).with_hint("check the path and that the file is readable")]
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes());
        let (line, column) = locate::line_col(&text, offset);
        vec![Diagnostic {
            location: Some(Location { file: file.clone(), line, column }),
            ..Diagnostic::file_error("", format!("{file} is not UTF-8 text (invalid byte at offset {offset})"))
                .with_hint("vnetlab reads JSON exports, ARM templates and YAML lab files")
        }]
    })?;
    load_text(&text, &file, Format::detect(path, &text), tags)
}

pub fn load_text(text: &str, file: &str, format: Format, tags: &ServiceTags) -> Result<Loaded, Vec<Diagnostic>> {
    match format {
        Format::Json => {
            let doc: Json = serde_json::from_str(text).map_err(|e| {
                let what = match e.classify() {
                    serde_json::error::Category::Eof => "the file ends before the JSON is complete",
                    _ => "the file is not valid JSON",
                };
                vec![Diagnostic {
                    location: Some(Location { file: file.to_string(), line: e.line().max(1), column: e.column().max(1) }),
                    ..Diagnostic::file_error("", format!("{what}: {e}"))
                        .with_hint("vnetlab reads JSON exports (az ... list/show), ARM templates, and YAML lab files (.yaml)")
                }]
            })?;
            let locator = || JsonLocator::new(file, text);
            from_document(&doc, tags, locator)
        }
        Format::Yaml => {
            let (doc, locator) = lab_file::to_document(text, file)?;
            from_document(&Json::from_value(doc), tags, || locator)
        }
    }
}

/// Builds and validates a document of REST resources; positions are looked up only on failure.
fn from_document<L: Locator>(doc: &Json, tags: &ServiceTags, locator: impl FnOnce() -> L) -> Result<Loaded, Vec<Diagnostic>> {
    let mut diags = match rest::document::flatten(doc) {
        Ok(raws) => {
            let (topology, mut diags) = rest::build(&raws);
            if !diags.iter().any(Diagnostic::is_error) {
                diags.extend(vnetlab_model::validate::validate(&topology, tags));
            }
            if !diags.iter().any(Diagnostic::is_error) {
                let mut warnings = topology.ignored.clone();
                warnings.extend(diags);
                return Ok(Loaded { topology, warnings });
            }
            diags.extend(topology.ignored);
            diags
        }
        Err(d) => vec![d],
    };
    let locator = locator();
    for d in &mut diags {
        if let Some((loc, display)) = locator.locate(&d.path) {
            d.location = Some(loc);
            d.display_path = display;
        }
    }
    Err(diags)
}
