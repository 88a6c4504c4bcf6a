//! The REST shapes vnetlab reads (Foundation issue, input 1): a JSON array, `{"value": [...]}`
//! from a list call, a single resource from a show call, and an ARM template with literal IDs,
//! with children inline or as separate and nested resources. All give the same model.

use serde_json::{json, Value};
use vnetlab_ingest::{load_text, Format, Loaded};
use vnetlab_model::service_tags::ServiceTags;

const RG: &str = "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/Lab-RG/providers/Microsoft.Network";

fn load(doc: &Value) -> Loaded {
    load_text(
        &doc.to_string(),
        "in.json",
        Format::Json,
        ServiceTags::bundled(),
    )
    .unwrap_or_else(|d| {
        panic!(
            "{}",
            d.iter()
                .map(|d| d.to_string())
                .collect::<Vec<_>>()
                .join("\n")
        )
    })
}

fn vnet_inline() -> Value {
    json!({"id": format!("{RG}/virtualNetworks/hub"), "name": "hub", "type": "Microsoft.Network/virtualNetworks", "location": "westeurope",
        "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"id": format!("{RG}/virtualNetworks/hub/subnets/app"), "name": "app", "properties": {"addressPrefix": "10.0.1.0/24",
                "routeTable": {"id": format!("{RG}/routeTables/rt1")}}}]}})
}

fn route_table() -> Value {
    json!({"id": format!("{RG}/routeTables/rt1"), "name": "rt1", "type": "Microsoft.Network/routeTables", "location": "westeurope",
        "properties": {"routes": [{"name": "r1", "properties": {"addressPrefix": "0.0.0.0/0", "nextHopType": "None"}}]}})
}

fn summary(l: &Loaded) -> (usize, usize, usize, String, String) {
    let t = &l.topology;
    let rt = t.subnets[0]
        .route_table
        .map(|r| t.route_table(r).routes.len())
        .unwrap_or(0);
    (
        t.vnets.len(),
        t.subnets.len(),
        rt,
        t.subnets[0].id.to_string(),
        t.vnets[0].location.clone(),
    )
}

#[test]
fn array_value_list_and_template_agree() {
    let array = load(&json!([route_table(), vnet_inline()]));
    let list = load(&json!({"value": [route_table(), vnet_inline()]}));
    let template = load(
        &json!({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
        "resources": [route_table(), vnet_inline()]}),
    );
    let expected = (
        1,
        1,
        1,
        format!("{RG}/virtualNetworks/hub/subnets/app"),
        "westeurope".to_string(),
    );
    assert_eq!(summary(&array), expected);
    assert_eq!(summary(&list), expected);
    assert_eq!(summary(&template), expected);
}

#[test]
fn a_single_show_resource() {
    let l = load(
        &json!({"id": format!("{RG}/virtualNetworks/solo"), "name": "solo", "type": "Microsoft.Network/virtualNetworks",
        "properties": {"addressSpace": {"addressPrefixes": ["10.7.0.0/16"]}, "subnets": [{"name": "a", "properties": {"addressPrefix": "10.7.0.0/24"}}]}}),
    );
    assert_eq!(l.topology.vnets[0].name, "solo");
    // A subnet without id gets its parent's id plus /subnets/name.
    assert_eq!(
        l.topology.subnets[0].id.to_string(),
        format!("{RG}/virtualNetworks/solo/subnets/a")
    );
}

#[test]
fn separate_and_nested_child_resources() {
    let separate = load(&json!([
        route_table(),
        {"id": format!("{RG}/virtualNetworks/hub"), "name": "hub", "type": "Microsoft.Network/virtualNetworks", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}},
        {"id": format!("{RG}/virtualNetworks/hub/subnets/app"), "name": "hub/app", "type": "Microsoft.Network/virtualNetworks/subnets",
         "properties": {"addressPrefix": "10.0.1.0/24", "routeTable": {"id": format!("{RG}/routeTables/rt1")}}},
        {"id": format!("{RG}/routeTables/rt1/routes/r2"), "name": "rt1/r2", "type": "Microsoft.Network/routeTables/routes",
         "properties": {"addressPrefix": "10.9.0.0/16", "nextHopType": "None"}}
    ]));
    let t = &separate.topology;
    assert_eq!(t.vnets[0].subnets.len(), 1);
    assert_eq!(
        t.route_tables[0]
            .routes
            .iter()
            .map(|r| r.name.as_str())
            .collect::<Vec<_>>(),
        ["r1", "r2"]
    );
    // A template child nested in its parent's `resources`, with a relative type and name.
    let nested = load(&json!({"resources": [
        {"type": "Microsoft.Network/virtualNetworks", "name": "hub", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}},
         "resources": [{"type": "subnets", "name": "app", "properties": {"addressPrefix": "10.0.1.0/24"}}]}
    ]}));
    assert_eq!(nested.topology.subnets[0].name, "app");
    assert_eq!(nested.topology.subnets[0].prefix.to_string(), "10.0.1.0/24");
}

#[test]
fn template_expressions_are_named_as_such() {
    let diags = load_text(
        &json!({"resources": [{"type": "Microsoft.Network/virtualNetworks", "name": "hub", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
            "subnets": [{"name": "app", "properties": {"addressPrefix": "10.0.1.0/24", "routeTable": {"id": "[resourceId('Microsoft.Network/routeTables', 'rt')]"}}}]}}]})
        .to_string(),
        "t.json",
        Format::Json,
        ServiceTags::bundled(),
    )
    .unwrap_err();
    assert!(
        diags[0]
            .hint
            .as_deref()
            .unwrap()
            .contains("ARM template expression"),
        "{}",
        diags[0]
    );
}
