//! ARM templates as Azure Resource Manager deploys them (ARM issue, "What to support"): JSONC,
//! parameters from files and pairs with their checks, the deployment context, variables and
//! copy loops, conditions, nested and linked templates, Bicep's languageVersion 2.0, exported
//! templates' duplicate children, and errors that name the JSON path, line:col and function.

use serde_json::{json, Value};
use std::path::PathBuf;
use tempfile::TempDir;
use vnetlab_ingest::{load_path_with, Loaded, Options};
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::Diagnostic;

/// A test's scratch directory for its template files, removed when the test ends, passed or
/// failed.
struct Scratch(TempDir);

impl Scratch {
    fn new() -> Scratch {
        Scratch(TempDir::new().unwrap())
    }

    fn write(&self, name: &str, text: &str) -> PathBuf {
        let path = self.0.path().join(name);
        std::fs::write(&path, text).unwrap();
        path
    }

    fn deploy(&self, text: &str, parameters: &[&str]) -> Result<Loaded, Vec<Diagnostic>> {
        let path = self.write("azuredeploy.json", text);
        let options = Options {
            parameters: parameters.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        };
        load_path_with(&path, ServiceTags::bundled(), &options)
    }

    fn ok(&self, text: &str, parameters: &[&str]) -> Loaded {
        self.deploy(text, parameters)
            .unwrap_or_else(|d| panic!("{}", messages(&d)))
    }

    fn err(&self, text: &str, parameters: &[&str]) -> String {
        match self.deploy(text, parameters) {
            Ok(_) => panic!("expected an error"),
            Err(d) => messages(&d),
        }
    }
}

/// The diagnostics as vnetlab prints them, one a line.
fn messages(diagnostics: &[Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| d.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn template(parameters: Value, variables: Value, resources: Value) -> String {
    serde_json::to_string_pretty(&json!({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0", "parameters": parameters, "variables": variables, "resources": resources})).unwrap()
}

fn vnet(name: &str, prefix: &str) -> Value {
    json!({"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": name, "location": "[resourceGroup().location]",
        "properties": {"addressSpace": {"addressPrefixes": [prefix]}}})
}

#[test]
fn jsonc_comments_and_multi_line_strings_are_read() {
    let dir = Scratch::new();
    let text = r#"{
  // a comment
  "$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#",
  "contentVersion": "1.0.0.0",
  /* a block
     comment */
  "resources": [
    { "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "[concat('v',
        'net')]", "location": "eastus",
      "properties": { "addressSpace": { "addressPrefixes": [ "10.0.0.0/16" ] } } }
  ]
}"#;
    assert_eq!(dir.ok(text, &[]).topology.vnets[0].name, "vnet");
}

#[test]
fn parameters_come_from_defaults_files_and_pairs_with_their_types() {
    let dir = Scratch::new();
    let t = template(
        json!({"name": {"type": "string", "defaultValue": "hub"}, "count": {"type": "int", "defaultValue": 1, "minValue": 1, "maxValue": 3},
               "prefix": {"type": "string", "allowedValues": ["10.0.0.0/16", "10.1.0.0/16"]}}),
        json!({}),
        json!([{"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "[concat(parameters('name'), '-', copyIndex())]", "location": "eastus",
                "copy": {"name": "vnets", "count": "[parameters('count')]", "mode": "serial", "batchSize": 1},
                "properties": {"addressSpace": {"addressPrefixes": ["[cidrSubnet(parameters('prefix'), 24, copyIndex())]"]}}}]),
    );
    let file = dir.write(
        "azuredeploy.parameters.json",
        r#"{"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentParameters.json#", "parameters": {"prefix": {"value": "10.1.0.0/16"}, "count": {"value": 2}}}"#,
    );
    let l = dir.ok(&t, &[file.to_str().unwrap(), "name=spoke"]);
    let names: Vec<(&str, String)> = l
        .topology
        .vnets
        .iter()
        .map(|v| (v.name.as_str(), v.address_space[0].to_string()))
        .collect();
    assert_eq!(
        names,
        [
            ("spoke-0", "10.1.0.0/24".to_string()),
            ("spoke-1", "10.1.1.0/24".to_string())
        ]
    );
    // A pair is converted to the declared type (int), as az does.
    assert_eq!(
        dir.ok(&t, &["prefix=10.0.0.0/16", "count=3"])
            .topology
            .vnets
            .len(),
        3
    );
    // Violations name the parameter.
    assert!(dir
        .err(&t, &["prefix=10.0.0.0/16", "count=4"])
        .contains("parameter 'count': 4 is above its maxValue 3"));
    assert!(dir
        .err(&t, &["prefix=192.168.0.0/16"])
        .contains("parameter 'prefix': \"192.168.0.0/16\" is not one of its allowedValues"));
    assert!(dir
        .err(&t, &[])
        .contains("parameter 'prefix' has no value and no defaultValue"));
    assert!(dir
        .err(&t, &["prefix=10.0.0.0/16", "nope=1"])
        .contains("parameter 'nope' is given but the template does not declare it"));
}

#[test]
fn the_deployment_context_is_set_by_the_options() {
    let dir = Scratch::new();
    let t = template(
        json!({}),
        json!({}),
        json!([{"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "[concat('v-', resourceGroup().name)]",
        "location": "[resourceGroup().location]", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}]),
    );
    let path = dir.write("ctx.json", &t);
    let options = Options {
        subscription: Some("11111111-2222-3333-4444-555555555555".into()),
        resource_group: Some("lab".into()),
        location: Some("westeurope".into()),
        ..Default::default()
    };
    let l = load_path_with(&path, ServiceTags::bundled(), &options).unwrap();
    let v = &l.topology.vnets[0];
    assert_eq!(
        (v.name.as_str(), v.location.as_str()),
        ("v-lab", "westeurope")
    );
    assert_eq!(v.id.as_str(), "/subscriptions/11111111-2222-3333-4444-555555555555/resourceGroups/lab/providers/Microsoft.Network/virtualNetworks/v-lab");
}

#[test]
fn variables_with_copy_property_copy_and_conditions() {
    let dir = Scratch::new();
    let t = template(
        json!({"withSecond": {"type": "bool", "defaultValue": false}}),
        json!({"copy": [{"name": "subnetPrefixes", "count": 3, "input": "[concat('10.0.', copyIndex('subnetPrefixes'), '.0/24')]"}], "base": "hub"}),
        json!([
            {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "[variables('base')]", "location": "eastus",
             "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]},
                "copy": [{"name": "subnets", "count": "[length(variables('subnetPrefixes'))]", "input": {"name": "[concat('s', copyIndex('subnets'))]", "properties": {"addressPrefix": "[variables('subnetPrefixes')[copyIndex('subnets')]]"}}}]}},
            {"condition": "[parameters('withSecond')]", "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "second", "location": "eastus",
             "properties": {"addressSpace": {"addressPrefixes": ["10.9.0.0/16"]}}},
            {"type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "[concat('none', copyIndex())]", "location": "eastus", "copy": {"name": "zero", "count": 0},
             "properties": {"addressSpace": {"addressPrefixes": ["10.8.0.0/16"]}}}
        ]),
    );
    let l = dir.ok(&t, &[]);
    let subnets: Vec<String> = l
        .topology
        .subnets
        .iter()
        .map(|s| format!("{} {}", s.name, s.prefix))
        .collect();
    assert_eq!(
        subnets,
        ["s0 10.0.0.0/24", "s1 10.0.1.0/24", "s2 10.0.2.0/24"]
    );
    assert_eq!(
        l.topology.vnets.len(),
        1,
        "the condition is false and the loop counts 0"
    );
    assert_eq!(dir.ok(&t, &["withSecond=true"]).topology.vnets.len(), 2);
}

#[test]
fn nested_deployments_in_outer_and_inner_scope_and_linked_by_relative_path() {
    let dir = Scratch::new();
    let nested = |scope: &str, name: &str| {
        json!({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": format!("nested-{scope}"),
        "properties": {"mode": "Incremental", "expressionEvaluationOptions": {"scope": scope},
            "parameters": if scope == "inner" { json!({"vnetName": {"value": "[concat(parameters('base'), '-inner')]"}}) } else { json!({}) },
            "template": {"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "contentVersion": "1.0.0.0",
                "parameters": if scope == "inner" { json!({"vnetName": {"type": "string"}}) } else { json!({}) },
                "resources": [vnet(name, if scope == "inner" { "10.2.0.0/16" } else { "10.1.0.0/16" })]}}})
    };
    dir.write(
        "linked.json",
        &template(
            json!({"vnetName": {"type": "string"}}),
            json!({}),
            json!([vnet("[parameters('vnetName')]", "10.3.0.0/16")]),
        ),
    );
    let linked = json!({"type": "Microsoft.Resources/deployments", "apiVersion": "2022-09-01", "name": "linked",
        "properties": {"mode": "Incremental", "templateLink": {"relativePath": "linked.json"}, "parameters": {"vnetName": {"value": "[concat(parameters('base'), '-linked')]"}}}});
    let t = template(
        json!({"base": {"type": "string", "defaultValue": "lab"}}),
        json!({}),
        json!([
            nested("outer", "[concat(parameters('base'), '-outer')]"),
            nested("inner", "[parameters('vnetName')]"),
            linked
        ]),
    );
    let names: Vec<String> = dir
        .ok(&t, &[])
        .topology
        .vnets
        .iter()
        .map(|v| format!("{} {}", v.name, v.address_space[0]))
        .collect();
    assert_eq!(
        names,
        [
            "lab-outer 10.1.0.0/16",
            "lab-inner 10.2.0.0/16",
            "lab-linked 10.3.0.0/16"
        ]
    );
}

#[test]
fn bicep_language_version_2_resources_by_symbolic_name_and_existing() {
    let dir = Scratch::new();
    let t = serde_json::to_string(&json!({"$schema": "https://schema.management.azure.com/schemas/2019-04-01/deploymentTemplate.json#", "languageVersion": "2.0", "contentVersion": "1.0.0.0",
        "resources": {
            "old": {"existing": true, "type": "Microsoft.Network/virtualNetworks", "apiVersion": "2023-09-01", "name": "elsewhere"},
            "hub": vnet("hub", "10.0.0.0/16"),
            "app": {"type": "Microsoft.Network/virtualNetworks/subnets", "apiVersion": "2023-09-01", "name": "hub/app", "dependsOn": ["hub"], "properties": {"addressPrefix": "10.0.1.0/24"}}}})).unwrap();
    let l = dir.ok(&t, &[]);
    assert_eq!(
        l.topology
            .vnets
            .iter()
            .map(|v| v.name.as_str())
            .collect::<Vec<_>>(),
        ["hub"],
        "an existing resource is not deployed"
    );
    // dependsOn by symbolic name, resource ID or loop name only orders a deployment: the
    // lab evaluates references when it needs them, so it reads them and goes on.
    assert_eq!(l.topology.subnets[0].name, "app");
}

#[test]
fn exported_templates_declare_subnets_twice_and_they_are_merged() {
    let dir = Scratch::new();
    // `az group export`: the subnet inline in the VNet and again as a child resource.
    let mut v = vnet("hub", "10.0.0.0/16");
    v["properties"]["subnets"] =
        json!([{"name": "app", "properties": {"addressPrefix": "10.0.1.0/24"}}]);
    let t = template(
        json!({}),
        json!({}),
        json!([
        {"type": "Microsoft.Network/routeTables", "apiVersion": "2023-09-01", "name": "rt", "location": "eastus", "properties": {"routes": []}},
        v,
        {"type": "Microsoft.Network/virtualNetworks/subnets", "apiVersion": "2023-09-01", "name": "hub/app",
         "properties": {"addressPrefix": "10.0.1.0/24", "routeTable": {"id": "[resourceId('Microsoft.Network/routeTables', 'rt')]"}}}]),
    );
    let l = dir.ok(&t, &[]);
    assert_eq!(l.topology.subnets.len(), 1);
    assert!(
        l.topology.subnets[0].route_table.is_some(),
        "the child resource's properties are merged into the inline subnet"
    );
}

#[test]
fn errors_name_the_json_path_line_column_and_function() {
    let dir = Scratch::new();
    let mut v = vnet("hub", "10.0.0.0/16");
    v["properties"]["subnets"] = json!([{"name": "app", "properties": {"addressPrefix": "[cidrSubnet('10.0.0.0/16', 8, 0)]"}}]);
    let t = template(
        json!({}),
        json!({}),
        json!([vnet("other", "10.9.0.0/16"), v]),
    );
    let e = dir.err(&t, &[]);
    assert!(
        e.contains("resources[1].properties.subnets[0].properties.addressPrefix"),
        "{e}"
    );
    assert!(e.contains("(in function 'cidrSubnet')"), "{e}");
    let line = t.lines().position(|l| l.contains("cidrSubnet")).unwrap() + 1;
    assert!(e.contains(&format!("azuredeploy.json:{line}:")), "{e}");
    let unsupported = template(
        json!({}),
        json!({}),
        json!([vnet("[utcNow()]", "10.0.0.0/16")]),
    );
    assert!(dir
        .err(&unsupported, &[])
        .contains("unsupported function 'utcNow'"));
}

#[test]
fn a_resource_referring_to_an_existing_resource_outside_the_template_is_left_out() {
    let dir = Scratch::new();
    let nic = json!({"type": "Microsoft.Network/networkInterfaces", "apiVersion": "2023-09-01", "name": "nic1", "location": "eastus",
        "properties": {"ipConfigurations": [{"name": "ipconfig1", "properties": {"subnet": {"id": "[parameters('subnetId')]"}}}]}});
    let t = template(
        json!({"subnetId": {"type": "string"}}),
        json!({}),
        json!([vnet("hub", "10.0.0.0/16"), nic]),
    );
    let l = dir.ok(&t, &["subnetId=/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/net/providers/Microsoft.Network/virtualNetworks/existing/subnets/app"]);
    assert_eq!((l.topology.vnets.len(), l.topology.nics.len()), (1, 0));
    assert!(
        l.warnings
            .iter()
            .any(|w| w.to_string().contains("resource 'nic1' refers to")
                && w.to_string().contains("existing/subnets/app")),
        "{:?}",
        l.warnings
    );
}
