use vnetlab_ingest::{lab_file, load_text, Format, Loaded};
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::Diagnostic;

fn load(text: &str) -> Result<Loaded, Vec<Diagnostic>> {
    load_text(text, "lab.yaml", Format::Yaml, ServiceTags::bundled())
}

#[test]
fn schema_matches_the_committed_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/lab.schema.json");
    let schema = lab_file::json_schema();
    if std::env::var_os("VNETLAB_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(path, serde_json::to_string_pretty(&schema).unwrap() + "\n").unwrap();
    }
    let committed: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default()).unwrap_or_default();
    assert!(committed == schema, "schema/lab.schema.json is out of date; regenerate it with `VNETLAB_BLESS=1 cargo test -p vnetlab-ingest --test lab_file`");
}
