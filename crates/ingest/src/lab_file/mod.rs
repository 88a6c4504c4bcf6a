//! The vnetlab YAML lab file. (being written)
use crate::locate::RecordedLocator;
use vnetlab_model::Diagnostic;

pub fn to_document(_text: &str, _file: &str) -> Result<(serde_json::Value, RecordedLocator), Vec<Diagnostic>> {
    Err(vec![Diagnostic::file_error("", "YAML lab files are not supported yet")])
}
