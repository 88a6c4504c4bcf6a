//! `vnetlab routes`: a NIC's effective routes in the shape of
//! `az network nic show-effective-route-table` (\[SPEC-NIC\]; docs/semantics/routing.md 4.2) and as the portal's
//! Effective routes blade. A NIC's routes are those of its primary IP configuration's subnet.

use crate::{table, Analysis, QueryError};
use serde::Serialize;
use vnetlab_engine::routes::effective_route::EffectiveRoute;
use vnetlab_model::{NicId, Topology};

/// Finds a NIC by name or resource ID, or says which ones exist.
pub fn find_nic(t: &Topology, nic: &str) -> Result<NicId, QueryError> {
    t.find_nic(nic).ok_or_else(|| {
        let names: Vec<&str> = t.nics.iter().map(|n| n.name.as_str()).take(20).collect();
        QueryError {
            message: format!("no network interface named '{nic}'"),
            hint: Some(if names.is_empty() {
                "the topology has no network interfaces".into()
            } else {
                format!("network interfaces in this topology: {}", names.join(", "))
            }),
        }
    })
}

pub fn for_nic(a: &Analysis, nic: NicId) -> Vec<EffectiveRoute> {
    let subnet = a.topology.nic(nic).primary_ip_configuration().subnet;
    a.routes.subnet(subnet).effective_routes()
}

/// One element of `value`, with the REST field names in the CLI's order.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonRoute {
    pub source: &'static str,
    pub state: &'static str,
    pub address_prefix: Vec<String>,
    pub next_hop_type: &'static str,
    pub next_hop_ip_address: Vec<String>,
    pub name: Option<String>,
    pub disable_bgp_route_propagation: bool,
}

#[derive(Serialize)]
pub struct JsonRouteList {
    pub value: Vec<JsonRoute>,
}

pub fn to_json(routes: &[EffectiveRoute]) -> JsonRouteList {
    JsonRouteList {
        value: routes
            .iter()
            .map(|r| JsonRoute {
                source: r.source.as_str(),
                state: r.state.as_str(),
                address_prefix: r.address_prefixes.iter().map(|p| p.to_string()).collect(),
                next_hop_type: r.next_hop_type.as_str(),
                next_hop_ip_address: r.next_hop_ips.iter().map(|p| p.to_string()).collect(),
                name: r.name.clone(),
                disable_bgp_route_propagation: r.disable_bgp_route_propagation,
            })
            .collect(),
    }
}

/// Long prefix lists (service tags) are cut in the table; the JSON has them all.
const TABLE_PREFIXES: usize = 3;

pub fn to_table(routes: &[EffectiveRoute]) -> String {
    let rows: Vec<Vec<String>> = routes
        .iter()
        .map(|r| {
            let mut prefixes: Vec<String> = r
                .address_prefixes
                .iter()
                .take(TABLE_PREFIXES)
                .map(|p| p.to_string())
                .collect();
            if r.address_prefixes.len() > TABLE_PREFIXES {
                prefixes.push(format!(
                    "... ({} more)",
                    r.address_prefixes.len() - TABLE_PREFIXES
                ));
            }
            vec![
                r.source.portal_label().to_string(),
                r.state.as_str().to_string(),
                prefixes.join(", "),
                r.next_hop_type.portal_label().to_string(),
                r.next_hop_ips
                    .iter()
                    .map(|p| p.to_string())
                    .collect::<Vec<_>>()
                    .join(", "),
                r.name.clone().unwrap_or_default(),
            ]
        })
        .collect();
    table::render(
        &[
            "Source",
            "State",
            "Address Prefixes",
            "Next Hop Type",
            "Next Hop IP Address",
            "User Defined Route Name",
        ],
        &rows,
    )
}
