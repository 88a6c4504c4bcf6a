//! `vnetlab next-hop`: Network Watcher's next hop (\[NH\]; docs/semantics/dataplane.md 3.2; docs/semantics/routing.md 2.2),
//! `{"nextHopType", "nextHopIpAddress", "routeTableId"}` with the names of decision D13, and a
//! one-line reason naming the route that decided.

use crate::{Analysis, QueryError};
use serde::Serialize;
use std::net::Ipv4Addr;
use vnetlab_engine::routes::gateway::{self, PrefixSource};
use vnetlab_engine::routes::selection::{Origin, Selected};
use vnetlab_model::{NextHopType, NicId, SubnetId, VmId};

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct NextHop {
    pub next_hop_type: &'static str,
    pub next_hop_ip_address: Option<String>,
    pub route_table_id: String,
}

/// D13: Network Watcher's names; global peering is reported as VNetPeering.
fn watcher_name(t: NextHopType) -> &'static str {
    match t {
        NextHopType::VNetGlobalPeering => "VNetPeering",
        other => other.as_str(),
    }
}

/// The NIC of a VM that owns `source`, as Network Watcher requires the source IP to be one of
/// the VM's addresses.
pub fn source_nic(
    a: &Analysis,
    vm: VmId,
    source: Ipv4Addr,
) -> Result<(NicId, SubnetId), QueryError> {
    let t = a.topology;
    let v = t.vm(vm);
    for nic in &v.nics {
        if let Some(cfg) = t
            .nic(*nic)
            .ip_configurations
            .iter()
            .find(|c| c.private_ip == source)
        {
            return Ok((*nic, cfg.subnet));
        }
    }
    let ips: Vec<String> = v
        .nics
        .iter()
        .flat_map(|n| {
            t.nic(*n)
                .ip_configurations
                .iter()
                .map(|c| c.private_ip.to_string())
        })
        .collect();
    Err(QueryError {
        message: format!("{source} is not an address of VM '{}'", v.name),
        hint: Some(format!("the VM's private addresses: {}", ips.join(", "))),
    })
}

pub fn find_vm(a: &Analysis, vm: &str) -> Result<VmId, QueryError> {
    a.topology.find_vm(vm).ok_or_else(|| {
        let names: Vec<&str> = a
            .topology
            .vms
            .iter()
            .map(|v| v.name.as_str())
            .take(20)
            .collect();
        QueryError {
            message: format!("no virtual machine named '{vm}'"),
            hint: Some(format!(
                "virtual machines in this topology: {}",
                names.join(", ")
            )),
        }
    })
}

pub fn next_hop(a: &Analysis, subnet: SubnetId, destination: Ipv4Addr) -> (NextHop, String) {
    let t = a.topology;
    let Some(sel) = a.routes.subnet(subnet).lookup(destination) else {
        // Every VNet has 0.0.0.0/0; an empty table cannot happen, but say so rather than panic.
        return (
            NextHop {
                next_hop_type: "None",
                next_hop_ip_address: None,
                route_table_id: "System Route".into(),
            },
            "no route matches".into(),
        );
    };
    let route_table_id = match sel.row.route_table {
        Some(rt) => t.route_table(rt).id.to_string(),
        None => "System Route".to_string(),
    };
    let hop = NextHop {
        next_hop_type: watcher_name(sel.row.next_hop_type),
        next_hop_ip_address: match sel.row.next_hop_type {
            NextHopType::VirtualAppliance | NextHopType::VirtualNetworkGateway => {
                sel.next_hop_ips().first().map(|ip| ip.to_string())
            }
            _ => None,
        },
        route_table_id,
    };
    (hop, reason(a, subnet, &sel))
}

/// One line naming the route that decided and what it means.
pub fn reason(a: &Analysis, subnet: SubnetId, sel: &Selected) -> String {
    let t = a.topology;
    let prefix = sel.prefix;
    let ips = sel
        .next_hop_ips()
        .iter()
        .map(|i| i.to_string())
        .collect::<Vec<_>>()
        .join(", ");
    match (sel.origin, sel.row.next_hop_type) {
        (Origin::User, kind) => {
            let rt = sel.row.route_table.map(|r| t.route_table(r).name.as_str()).unwrap_or_default();
            let name = sel.row.name.as_deref().unwrap_or_default();
            let what = match kind {
                NextHopType::VirtualAppliance => format!("sends it to the virtual appliance {ips}"),
                NextHopType::None => "drops it".to_string(),
                NextHopType::VirtualNetworkGateway => "sends it to the VNet's VPN gateway".to_string(),
                NextHopType::Internet => "sends it straight to the Internet".to_string(),
                _ => "keeps it inside the virtual network".to_string(),
            };
            format!("user route '{name}' ({prefix}) in route table '{rt}' {what}")
        }
        (Origin::Gateway, _) => {
            let vnet = t.subnet(subnet).vnet;
            let Some(owner) = gateway::serving_vnet(t, vnet) else { return format!("gateway route {prefix}") };
            let via = if owner == vnet { String::new() } else { format!(", shared by '{}' through gateway transit", t.vnet(owner).name) };
            let found = t.gateways_in(owner).find_map(|g| gateway::gateway_prefixes(t, g).into_iter().find(|(p, _)| *p == prefix).map(|(_, src)| (g, src)));
            let Some((g, src)) = found else { return format!("gateway route {prefix} via {ips}{via}") };
            let from = match src {
                PrefixSource::Static(l) => format!("a prefix of local network gateway '{}'", t[l].name),
                PrefixSource::Bgp(l) => format!("learned over BGP from the site of '{}'", t[l].name),
                PrefixSource::Vnet2Vnet(r) => format!("the address space behind gateway '{}' (VNet-to-VNet)", t.gateway(r).name),
                PrefixSource::DefaultSite(l) => format!("forced tunnelling to the Default Site '{}'", t[l].name),
            };
            format!("gateway route {prefix} ({from}) through gateway '{}' {ips}{via}", t.gateway(g).name)
        }
        (Origin::PrivateEndpoint, _) => format!("private endpoint route {prefix}: the private endpoint's own /32, in its VNet and the peered ones"),
        (Origin::ServiceEndpoint, _) => format!("service endpoint route {prefix}: reaches the Azure service over the backbone, from the VM's private address"),
        (Origin::Reserved, _) => format!("system route {prefix} None: a private range that is neither this VNet, a peered VNet nor a gateway prefix, so Azure drops it"),
        (Origin::System, NextHopType::VnetLocal) => format!("system route {prefix}: inside this virtual network, delivered directly"),
        (Origin::System, NextHopType::VNetPeering | NextHopType::VNetGlobalPeering) => format!("system route {prefix}: the address space of a peered VNet, delivered over the peering"),
        (Origin::System, _) => format!("system route {prefix}: default route to the Internet"),
    }
}
