//! The vnetlab YAML lab file: a concise hand-written topology (`schema`), converted into the
//! REST shape (`convert`) so it goes through the same builder and validator as an export, with
//! every diagnostic pointing back at the YAML. `export` writes a topology back as a lab file
//! with the same `schema` types and the names the file derives (`names`).

mod convert;
pub mod export;
mod names;
pub mod schema;

use crate::locate::RecordedLocator;
use serde_saphyr::MessageFormatter;
use vnetlab_model::diagnostic::Location;
use vnetlab_model::Diagnostic;

const FORMAT_HINT: &str = "schema/lab.schema.json describes every key of a lab file";

/// Parses and converts a lab file into a REST document and the YAML positions of its values.
pub fn to_document(
    text: &str,
    file: &str,
) -> Result<(serde_json::Value, RecordedLocator), Vec<Diagnostic>> {
    // The first token (line, column): an error there is about the file as a whole.
    let first_token = text
        .lines()
        .enumerate()
        .find(|(_, l)| {
            !matches!(l.trim_start().chars().next(), None | Some('#' | '%'))
                && l.trim_end() != "---"
        })
        .map(|(i, l)| (i + 1, l.len() - l.trim_start().len() + 1));
    let Some(first_token) = first_token else {
        let d = Diagnostic::file_error("", "the lab file is empty")
            .with_hint(format!("declare at least `vnets:`; {FORMAT_HINT}"));
        return Err(vec![Diagnostic {
            location: Some(Location {
                file: file.to_string(),
                line: 1,
                column: 1,
            }),
            ..d
        }]);
    };
    let lab: schema::Lab =
        serde_saphyr::from_str(text).map_err(|e| vec![parse_error(&e, file, first_token)])?;
    let converted = convert::convert(&lab, file);
    if !converted.errors.is_empty() {
        return Err(converted.errors);
    }
    Ok((
        serde_json::Value::Array(converted.resources),
        RecordedLocator {
            file: file.to_string(),
            positions: converted.positions,
        },
    ))
}

/// A YAML syntax error or a value of the wrong shape, at its position.
fn parse_error(e: &serde_saphyr::Error, file: &str, first_token: (usize, usize)) -> Diagnostic {
    let message: String = serde_saphyr::DefaultMessageFormatter
        .format_message(e.without_snippet())
        .chars()
        .filter(|c| !c.is_control())
        .collect();
    let location = e
        .location()
        .and_then(|l| {
            Some(Location {
                file: file.to_string(),
                line: usize::try_from(l.line()).ok()?,
                column: usize::try_from(l.column()).ok()?,
            })
        })
        .filter(|l| l.line > 0);
    let hint = if message.starts_with("unknown field") {
        "keys are lower case with underscores"
    } else if location
        .as_ref()
        .is_some_and(|l| (l.line, l.column) == first_token)
    {
        "a lab file is a YAML mapping of location, vnets, vms, route_tables, nsgs, asgs, public_ips, nat_gateways and sites"
    } else {
        "check the indentation and the value's type"
    };
    Diagnostic {
        location,
        ..Diagnostic::file_error("", message).with_hint(format!("{hint}; {FORMAT_HINT}"))
    }
}

/// The JSON Schema of the lab file (committed as schema/lab.schema.json).
pub fn json_schema() -> serde_json::Value {
    schemars::schema_for!(schema::Lab).to_value()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resources_come_in_build_order_with_their_yaml_positions() {
        let text = "vnets:\n  hub:\n    address_space: [10.0.0.0/16]\n    gateway: {}\n    subnets:\n      GatewaySubnet: 10.0.255.0/27\n      app: { prefix: 10.0.1.0/24, vms: { web: { public_ip: true } } }\nasgs: [web]\n";
        let (doc, locator) = to_document(text, "lab.yaml").unwrap();
        let resources = doc.as_array().unwrap();
        let order: Vec<_> = resources
            .iter()
            .map(|r| {
                (
                    r["type"].as_str().unwrap().rsplit('/').next().unwrap(),
                    r["name"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            order,
            [
                ("publicIPAddresses", "hub-gw-pip"),
                ("publicIPAddresses", "web-pip"),
                ("applicationSecurityGroups", "web"),
                ("virtualNetworks", "hub"),
                ("virtualNetworkGateways", "hub-gw"),
                ("networkInterfaces", "web-nic"),
                ("virtualMachines", "web")
            ]
        );
        // The builder derives IDs from type and name.
        assert!(resources.iter().all(|r| r.get("id").is_none()));
        assert_eq!(resources[4]["properties"]["ipConfigurations"][0]["properties"]["subnet"]["id"], "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vnetlab/providers/Microsoft.Network/virtualNetworks/hub/subnets/GatewaySubnet");
        let at = |path: &str| {
            locator
                .positions
                .get(path)
                .map(|(l, c, y)| (*l, *c, y.as_str()))
        };
        assert_eq!(at("[3]"), Some((2, 3, "vnets.hub")));
        assert_eq!(
            at("[3].properties.subnets[0].properties.addressPrefix"),
            Some((6, 22, "vnets.hub.subnets.GatewaySubnet"))
        );
        assert_eq!(
            at("[3].properties.subnets[1].properties.addressPrefix"),
            Some((7, 22, "vnets.hub.subnets.app.prefix"))
        );
        assert_eq!(
            at("[1]"),
            Some((7, 60, "vnets.hub.subnets.app.vms.web.public_ip"))
        );
        assert_eq!(at("[5]"), Some((7, 42, "vnets.hub.subnets.app.vms.web")));
    }
}
