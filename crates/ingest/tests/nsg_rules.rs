//! Bad NSG rules are refused with an error that names the rule (`security rule 'nsg/rule'`),
//! the field, and the place in the file (docs/semantics/dataplane.md 1.1: port, prefix, tag and protocol syntax).

use serde_json::{json, Value};
use vnetlab_ingest::{load_text, Format};
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::Diagnostic;

/// A VNet whose subnet has NSG `nsg1` with one inbound rule `rule1`; `edit` changes the rule's
/// properties.
fn topology(edit: impl FnOnce(&mut Value)) -> String {
    let mut rule = json!({
        "priority": 100, "direction": "Inbound", "access": "Allow", "protocol": "Tcp",
        "sourceAddressPrefix": "*", "sourcePortRange": "*",
        "destinationAddressPrefix": "*", "destinationPortRange": "80"
    });
    edit(&mut rule);
    let doc = json!([
        {"type": "Microsoft.Network/networkSecurityGroups", "name": "nsg1", "location": "westeurope",
         "properties": {"securityRules": [{"name": "rule1", "properties": rule}]}},
        {"type": "Microsoft.Network/virtualNetworks", "name": "vnet1", "location": "westeurope",
         "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
           "subnets": [{"name": "app", "properties": {"addressPrefix": "10.0.1.0/24",
             "networkSecurityGroup": {"id": "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vnetlab/providers/Microsoft.Network/networkSecurityGroups/nsg1"}}}]}}
    ]);
    serde_json::to_string_pretty(&doc).unwrap()
}

fn load(text: &str) -> Result<vnetlab_ingest::Loaded, Vec<Diagnostic>> {
    load_text(text, "x.json", Format::Json, ServiceTags::bundled())
}

/// The 1-based line holding `needle` (the bad value as written), so the location can be checked.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle} not in the text"))
        + 1
}

/// Expects exactly one error: about rule1 of nsg1, at `path`, with `message`, located on the
/// line of `value`.
fn refused(edit: impl FnOnce(&mut Value), path: &str, message: &str, value: &str) -> Diagnostic {
    let text = topology(edit);
    let diags = load(&text).expect_err("the rule must be refused");
    let errors: Vec<&Diagnostic> = diags.iter().filter(|d| d.is_error()).collect();
    let all = || {
        diags
            .iter()
            .map(|d| d.to_string())
            .collect::<Vec<_>>()
            .join("\n")
    };
    assert_eq!(errors.len(), 1, "one error expected, got:\n{}", all());
    let d = errors[0];
    assert_eq!(d.resource, "security rule 'nsg1/rule1'", "{d}");
    assert!(
        d.path.ends_with(path),
        "path {:?} should end with {path:?}",
        d.path
    );
    assert!(
        d.message.contains(message),
        "message {:?} should contain {message:?}",
        d.message
    );
    let loc = d
        .location
        .as_ref()
        .unwrap_or_else(|| panic!("no location: {d}"));
    assert_eq!(
        (loc.file.as_str(), loc.line),
        ("x.json", line_of(&text, value)),
        "{d}"
    );
    assert!(loc.column > 1);
    let shown = d.to_string();
    assert!(
        shown.starts_with(&format!("x.json:{}:", loc.line))
            && shown.contains("security rule 'nsg1/rule1'"),
        "{shown}"
    );
    d.clone()
}

#[test]
fn the_fixture_is_valid() {
    let t = load(&topology(|_| {}))
        .unwrap_or_else(|d| panic!("{d:#?}"))
        .topology;
    assert_eq!((t.nsgs.len(), t.nsgs[0].rules.len()), (1, 1));
    assert_eq!(t.nsgs[0].rules[0].destination_ports[0].to_string(), "80-80");
}

#[test]
fn a_port_range_that_ends_before_it_starts() {
    let d = refused(
        |r| r["destinationPortRange"] = json!("80-70"),
        "properties.securityRules[0].properties.destinationPortRange",
        "port range '80-70' ends before it starts",
        "80-70",
    );
    assert!(d.hint.is_some());
}

#[test]
fn a_port_that_is_not_a_number() {
    refused(
        |r| r["destinationPortRange"] = json!("abc"),
        "properties.destinationPortRange",
        "'abc' is not a port or port range",
        "\"abc\"",
    );
}

#[test]
fn a_port_above_65535() {
    refused(
        |r| r["sourcePortRange"] = json!("65536"),
        "properties.sourcePortRange",
        "'65536' is not a port or port range",
        "65536",
    );
    refused(
        |r| r["destinationPortRange"] = json!("1000-65536"),
        "properties.destinationPortRange",
        "'1000-65536' is not a port or port range",
        "1000-65536",
    );
}

#[test]
fn a_bad_entry_of_a_port_list_is_named_by_index() {
    refused(
        |r| {
            r.as_object_mut().unwrap().remove("destinationPortRange");
            r["destinationPortRanges"] = json!(["443", "8080-8000"]);
        },
        "properties.destinationPortRanges[1]",
        "ends before it starts",
        "8080-8000",
    );
}

#[test]
fn a_prefix_with_three_octets() {
    refused(
        |r| r["sourceAddressPrefix"] = json!("10.0.0/24"),
        "properties.sourceAddressPrefix",
        "'10.0.0/24' is not an IPv4 prefix",
        "10.0.0/24",
    );
}

#[test]
fn a_prefix_with_host_bits() {
    let d = refused(
        |r| r["destinationAddressPrefix"] = json!("10.0.0.4/24"),
        "properties.destinationAddressPrefix",
        "'10.0.0.4/24' has host bits set",
        "10.0.0.4/24",
    );
    assert!(
        d.hint
            .as_deref()
            .unwrap_or_default()
            .contains("10.0.0.0/24"),
        "{d}"
    );
}

#[test]
fn a_bad_entry_of_a_prefix_list_is_named_by_index() {
    refused(
        |r| {
            r.as_object_mut().unwrap().remove("sourceAddressPrefix");
            r["sourceAddressPrefixes"] = json!(["192.168.0.0/16", "10.0.0.4/24"]);
        },
        "properties.sourceAddressPrefixes[1]",
        "has host bits set",
        "10.0.0.4/24",
    );
}

#[test]
fn an_unknown_service_tag() {
    let d = refused(
        |r| r["sourceAddressPrefix"] = json!("Intenet"),
        "properties.sourceAddressPrefix",
        "'Intenet' is not a known service tag",
        "Intenet",
    );
    assert!(d.hint.is_some());
    // A regional tag of the snapshot is known; an unknown region is not.
    assert!(load(&topology(
        |r| r["destinationAddressPrefix"] = json!("Storage.WestEurope")
    ))
    .is_ok());
    refused(
        |r| r["destinationAddressPrefix"] = json!("Storage.Atlantis"),
        "properties.destinationAddressPrefix",
        "'Storage.Atlantis' is not a known service tag",
        "Storage.Atlantis",
    );
}

#[test]
fn an_unknown_protocol() {
    let d = refused(
        |r| r["protocol"] = json!("Gre"),
        "properties.protocol",
        "unknown protocol 'Gre'",
        "Gre",
    );
    assert!(
        d.hint
            .as_deref()
            .unwrap_or_default()
            .contains("Tcp, Udp, Icmp, Esp, Ah or *"),
        "{d}"
    );
}

#[test]
fn every_bad_field_of_a_rule_is_reported_in_one_run() {
    let text = topology(|r| {
        r["protocol"] = json!("Gre");
        r["sourceAddressPrefix"] = json!("10.0.0/24");
        r["destinationPortRange"] = json!("80-70");
    });
    let diags = load(&text).expect_err("refused");
    for path in [
        "properties.protocol",
        "properties.sourceAddressPrefix",
        "properties.destinationPortRange",
    ] {
        assert!(
            diags.iter().any(|d| d.is_error()
                && d.resource == "security rule 'nsg1/rule1'"
                && d.path.ends_with(path)
                && d.location.is_some()),
            "no located error at {path}:\n{}",
            diags
                .iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        );
    }
}

#[test]
fn lab_file_rules_point_at_the_yaml() {
    let text = "\
vnets:
  vnet1:
    address_space: [10.0.0.0/16]
    subnets:
      app: { prefix: 10.0.1.0/24, nsg: nsg1 }
nsgs:
  nsg1:
    rules:
      - { name: rule1, priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: 80-70 }
";
    let diags =
        load_text(text, "lab.yaml", Format::Yaml, ServiceTags::bundled()).expect_err("refused");
    let d = diags.iter().find(|d| d.is_error()).expect("an error");
    assert_eq!(d.resource, "security rule 'nsg1/rule1'");
    assert!(d.message.contains("ends before it starts"), "{d}");
    assert_eq!(
        d.display_path.as_deref(),
        Some("nsgs.nsg1.rules[0].destination_ports")
    );
    let loc = d.location.as_ref().expect("located");
    assert_eq!((loc.file.as_str(), loc.line), ("lab.yaml", 9));
}
