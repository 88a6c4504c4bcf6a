//! Bad input gets a clear error that names the place, never a panic: truncated files, garbage
//! bytes, JSON of the wrong shape, and random mutations of a valid export.

use proptest::prelude::*;
use vnetlab_ingest::{load_path, load_text, Format};
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::Diagnostic;

const VALID: &str = r#"[
  {"type": "Microsoft.Network/virtualNetworks", "name": "hub", "location": "westeurope",
   "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
     "subnets": [{"name": "app", "properties": {"addressPrefix": "10.0.1.0/24"}}]}},
  {"type": "Microsoft.Network/networkInterfaces", "name": "nic1",
   "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {
     "subnet": {"id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vnetlab/providers/Microsoft.Network/virtualNetworks/hub/subnets/app"}}}]}}
]"#;

fn json(text: &str) -> Result<vnetlab_ingest::Loaded, Vec<Diagnostic>> {
    load_text(text, "in.json", Format::Json, ServiceTags::bundled())
}

fn first_error(text: &str) -> Diagnostic {
    json(text)
        .expect_err("must be refused")
        .into_iter()
        .find(Diagnostic::is_error)
        .expect("an error")
}

#[test]
fn the_fixture_is_valid() {
    assert_eq!(
        json(VALID).unwrap().topology.nics[0].ip_configurations[0]
            .private_ip
            .to_string(),
        "10.0.1.4"
    );
}

#[test]
fn truncated_files_name_the_end() {
    for cut in [1, 10, 100, 300, VALID.len() - 2] {
        let d = first_error(&VALID[..cut]);
        assert!(
            d.message.contains("ends before the JSON is complete"),
            "cut {cut}: {d}"
        );
        let loc = d.location.expect("syntax errors have a location");
        assert_eq!(loc.file, "in.json");
        assert!(loc.line >= 1 && loc.column >= 1);
        assert!(d.hint.is_some());
    }
}

#[test]
fn syntax_errors_give_line_and_column() {
    let d = first_error("[\n  {\"type\": \"x\",, }\n]");
    let loc = d.location.unwrap();
    assert_eq!((loc.line, loc.column), (2, 16)); // the second comma
    assert!(d.message.contains("not valid JSON"));
}

#[test]
fn garbage_bytes_are_not_text() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().to_path_buf();
    let file = dir.join("garbage.json");
    std::fs::write(&file, b"[{\"type\": \"\xff\xfe\x00garbage").unwrap();
    let diags = load_path(&file, ServiceTags::bundled()).unwrap_err();
    assert!(
        diags[0]
            .message
            .contains("is not UTF-8 text (invalid byte at offset 11)"),
        "{}",
        diags[0]
    );
    assert_eq!(diags[0].location.as_ref().unwrap().column, 12);
}

#[test]
fn a_missing_file_is_a_clear_error() {
    let diags = load_path(
        std::path::Path::new("/nonexistent/topology.json"),
        ServiceTags::bundled(),
    )
    .unwrap_err();
    assert!(diags[0]
        .message
        .contains("cannot read /nonexistent/topology.json"));
}

#[test]
fn wrong_shapes_name_the_place() {
    let cases: [(&str, &str, &str); 9] = [
        ("42", "expected Azure resources", ""),
        ("{\"foo\": 1}", "expected Azure resources", ""),
        ("[1, 2]", "expected a resource object", "[0]"),
        ("[{\"name\": \"x\"}]", "has no \"type\"", "[0]"),
        ("[{\"type\": \"Microsoft.Network/virtualNetworks\"}]", "has no \"name\"", "[0]"),
        ("[{\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\", \"properties\": {\"subnets\": \"x\"}}]", "expected an array", "[0].properties.subnets"),
        ("[{\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\", \"properties\": {\"addressSpace\": {\"addressPrefixes\": \"10.0.0.0/16\"}}}]", "expected an array, found a string", "[0].properties.addressSpace.addressPrefixes"),
        ("[{\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\", \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.0.0.0/16\"]}, \"subnets\": [{\"name\": \"s\", \"properties\": {\"addressPrefix\": 5}}]}}]", "expected a string, found a number", "[0].properties.subnets[0].properties.addressPrefix"),
        ("[{\"type\": \"Microsoft.Network/virtualNetworks\", \"name\": \"v\", \"properties\": {\"addressSpace\": {\"addressPrefixes\": [\"10.0.0.300/16\"]}}}]", "is not an IPv4 prefix", "[0].properties.addressSpace.addressPrefixes[0]"),
    ];
    for (text, message, path) in cases {
        let d = first_error(text);
        assert!(d.message.contains(message), "{text}: {d}");
        assert_eq!(d.path, path, "{text}");
        assert!(d.location.is_some(), "{text}: {d}");
    }
}

#[test]
fn host_bits_get_the_corrected_prefix_as_hint() {
    let d = first_error(&VALID.replace("10.0.1.0/24", "10.0.1.7/24"));
    assert!(d.message.contains("host bits"));
    assert_eq!(
        d.hint.as_deref(),
        Some("Azure rejects it; did you mean 10.0.1.0/24?")
    );
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    // Any truncation or byte substitution of a valid export ends in Ok or Err, never a panic,
    // and every error of a JSON file carries a location.
    #[test]
    fn mutations_never_panic(cut in 0usize..VALID.len(), at in 0usize..VALID.len(), byte in any::<u8>()) {
        let mut bytes = VALID.as_bytes()[..cut.max(1)].to_vec();
        let at = at.min(bytes.len() - 1);
        bytes[at] = byte;
        let text = String::from_utf8_lossy(&bytes);
        if let Err(diags) = json(&text) {
            prop_assert!(diags.iter().all(|d| !d.is_error() || d.location.is_some()));
        }
    }

    #[test]
    fn random_text_never_panics(text in "\\PC{0,200}") {
        let _ = json(&text);
        let _ = load_text(&text, "in.yaml", Format::Yaml, ServiceTags::bundled());
    }
}
