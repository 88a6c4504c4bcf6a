//! Ingest: reads a topology file (REST/`az` export JSON, an ARM template with its parameters,
//! or the vnetlab YAML lab file), builds the model, validates it, and reports every problem
//! with its place.

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
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
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

/// How an ARM template is deployed: its parameters (each a parameters file, or `name=value`,
/// as `az deployment group create --parameters` takes them) and the deployment's context.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub parameters: Vec<String>,
    pub subscription: Option<String>,
    pub resource_group: Option<String>,
    pub location: Option<String>,
}

/// Reads and validates a file. On failure, returns every diagnostic (errors and warnings).
pub fn load_path(path: &Path, tags: &ServiceTags) -> Result<Loaded, Vec<Diagnostic>> {
    load_path_with(path, tags, &Options::default())
}

/// Reads and validates a file, deploying a template with the given options.
pub fn load_path_with(
    path: &Path,
    tags: &ServiceTags,
    options: &Options,
) -> Result<Loaded, Vec<Diagnostic>> {
    let file = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| {
        vec![
            Diagnostic::file_error("", format!("cannot read {file}: {e}"))
                .with_hint("check the path and that the file is readable"),
        ]
    })?;
    let text = String::from_utf8(bytes).map_err(|e| {
        let offset = e.utf8_error().valid_up_to();
        let text = String::from_utf8_lossy(e.as_bytes());
        let (line, column) = locate::line_col(&text, offset);
        vec![Diagnostic {
            location: Some(Location {
                file: file.clone(),
                line,
                column,
            }),
            ..Diagnostic::file_error(
                "",
                format!("{file} is not UTF-8 text (invalid byte at offset {offset})"),
            )
            .with_hint("vnetlab reads JSON exports, ARM templates and YAML lab files")
        }]
    })?;
    let input = Input {
        text: &text,
        file: &file,
        options,
        base_dir: path.parent(),
    };
    input.load(Format::detect(path, &text), tags)
}

pub fn load_text(
    text: &str,
    file: &str,
    format: Format,
    tags: &ServiceTags,
) -> Result<Loaded, Vec<Diagnostic>> {
    Input {
        text,
        file,
        options: &Options::default(),
        base_dir: None,
    }
    .load(format, tags)
}

/// A file's text, and how to deploy it if it is a template.
struct Input<'a> {
    text: &'a str,
    file: &'a str,
    options: &'a Options,
    /// Where linked templates (`relativePath`) are read from.
    base_dir: Option<&'a Path>,
}

/// An ARM template rather than an export of resources: its schema says so, or it has
/// resources beside parameters, variables or a content version.
fn is_template(doc: &Json) -> bool {
    let schema = doc
        .member("$schema")
        .and_then(Json::as_str)
        .unwrap_or_default()
        .to_ascii_lowercase();
    schema.contains("deploymenttemplate")
        || (doc.member("resources").is_some()
            && ["parameters", "variables", "contentVersion"]
                .iter()
                .any(|k| doc.member(k).is_some()))
}

impl Input<'_> {
    fn load(&self, format: Format, tags: &ServiceTags) -> Result<Loaded, Vec<Diagnostic>> {
        let (text, file) = (self.text, self.file);
        match format {
            Format::Json => {
                let strict = serde_json::from_str::<Json>(text);
                if let Ok(doc) = &strict {
                    if !is_template(doc) {
                        return from_document(doc, tags, || JsonLocator::new(file, text));
                    }
                }
                // A template, or JSON with comments or multi-line strings (JSONC).
                let value = match (vnetlab_arm::template::parse_jsonc(text), strict) {
                    (Ok(v), _) => v,
                    (Err(_), Err(e)) => return Err(vec![json_error(&e, file)]),
                    (Err(e), Ok(_)) => return Err(vec![Diagnostic::file_error("", e.to_string())]),
                };
                let doc = Json::from_value(value.clone());
                if !is_template(&doc) {
                    return from_document(&doc, tags, || JsonLocator::new(file, text));
                }
                let deployed = self
                    .deploy(&value)
                    .map_err(|d| located(d, &JsonLocator::new(file, text)))?;
                let warnings = located(
                    deployed
                        .warnings
                        .into_iter()
                        .map(|(path, message)| Diagnostic {
                            severity: vnetlab_model::diagnostic::Severity::Warning,
                            ..Diagnostic::file_error(path, message)
                        })
                        .collect(),
                    &JsonLocator::new(file, text),
                );
                let locator = || TemplateLocator {
                    file: JsonLocator::new(file, text),
                    paths: deployed.paths.clone(),
                };
                match from_document(
                    &Json::from_value(serde_json::json!({ "resources": deployed.resources })),
                    tags,
                    locator,
                ) {
                    Ok(mut loaded) => {
                        // A template is small: its warnings get their places too.
                        loaded.warnings = located(std::mem::take(&mut loaded.warnings), &locator());
                        loaded.warnings.splice(0..0, warnings);
                        Ok(loaded)
                    }
                    Err(mut diags) => {
                        diags.splice(0..0, warnings);
                        Err(diags)
                    }
                }
            }
            Format::Yaml => {
                let (doc, locator) = lab_file::to_document(text, file)?;
                from_document(&Json::from_value(doc), tags, || locator)
            }
        }
    }

    /// Deploys the template: its parameters from the options, checked, then its resources.
    fn deploy(
        &self,
        template: &serde_json::Value,
    ) -> Result<vnetlab_arm::template::Deployed, Vec<Diagnostic>> {
        use vnetlab_arm::template::{
            deploy, parameter_pair, parameters_file, parse_jsonc, Settings,
        };
        let mut given = serde_json::Map::new();
        for p in &self.options.parameters {
            // A parameters file (relative to the working directory, as az reads it), or a pair.
            let file = Path::new(p.trim_start_matches('@'));
            if file.is_file() {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    vec![Diagnostic::file_error(
                        "",
                        format!("cannot read the parameters file {}: {e}", file.display()),
                    )]
                })?;
                let values = parse_jsonc(&text).and_then(|v| parameters_file(&v)).map_err(|e| vec![Diagnostic::file_error("", format!("{}: {e}", file.display())).with_hint("a parameters file looks like {\"parameters\": {\"name\": {\"value\": ...}}}")])?;
                given.extend(values);
            } else {
                let (name, value) = parameter_pair(p).map_err(|e| {
                    vec![Diagnostic::file_error("", e.to_string())
                        .with_hint("give a parameters file that exists, or name=value")]
                })?;
                given.insert(name, value);
            }
        }
        let defaults = Settings::default();
        let stem = Path::new(self.file)
            .file_stem()
            .map(|s| s.to_string_lossy().to_string())
            .unwrap_or(defaults.deployment_name.clone());
        let settings = Settings {
            subscription_id: self
                .options
                .subscription
                .clone()
                .unwrap_or(defaults.subscription_id),
            resource_group: self
                .options
                .resource_group
                .clone()
                .unwrap_or(defaults.resource_group),
            location: self.options.location.clone().unwrap_or(defaults.location),
            deployment_name: stem,
        };
        deploy(
            template,
            given,
            settings,
            self.base_dir,
            &rest::document::MODELLED,
        )
        .map_err(|errors| {
            errors
                .into_iter()
                .map(|e| {
                    let d = Diagnostic::file_error(e.path, e.message);
                    match e.hint {
                        Some(h) => d.with_hint(h),
                        None => d,
                    }
                })
                .collect()
        })
    }
}

/// Locates a deployed resource's diagnostics in the template: `resources[N]` of the deployed
/// list is the declaration it came from (a copy loop's copies share theirs).
struct TemplateLocator<'a> {
    file: JsonLocator<'a>,
    paths: Vec<String>,
}

impl Locator for TemplateLocator<'_> {
    fn locate(&self, path: &str) -> Option<(Location, Option<String>)> {
        let rest = path.strip_prefix("resources[")?;
        let (index, tail) = rest.split_once(']')?;
        let declared = format!("{}{tail}", self.paths.get(index.parse::<usize>().ok()?)?);
        let (location, _) = self.file.locate(&declared)?;
        Some((location, Some(declared)))
    }
}

fn json_error(e: &serde_json::Error, file: &str) -> Diagnostic {
    let what = match e.classify() {
        serde_json::error::Category::Eof => "the file ends before the JSON is complete",
        _ => "the file is not valid JSON",
    };
    Diagnostic {
        location: Some(Location { file: file.to_string(), line: e.line().max(1), column: e.column().max(1) }),
        ..Diagnostic::file_error("", format!("{what}: {e}")).with_hint("vnetlab reads JSON exports (az ... list/show), ARM templates, and YAML lab files (.yaml)")
    }
}

/// Gives diagnostics their line and column.
fn located<L: Locator>(mut diags: Vec<Diagnostic>, locator: &L) -> Vec<Diagnostic> {
    for d in &mut diags {
        if let Some((loc, display)) = locator.locate(&d.path) {
            d.location = Some(loc);
            d.display_path = display;
        }
    }
    diags
}

/// Builds and validates a document of REST resources; positions are looked up only on failure.
fn from_document<L: Locator>(
    doc: &Json,
    tags: &ServiceTags,
    locator: impl FnOnce() -> L,
) -> Result<Loaded, Vec<Diagnostic>> {
    let diags = match rest::document::flatten(doc) {
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
    Err(located(diags, &locator()))
}
