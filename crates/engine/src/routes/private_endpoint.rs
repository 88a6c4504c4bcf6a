//! Private endpoint routes (docs/semantics/routing.md 3.2 E5; \[PE-POL\]): each private endpoint puts a /32
//! route, next hop InterfaceEndpoint, into its own VNet and the directly peered VNets. A broad
//! user route does not invalidate it; when network policies for route tables are on in the
//! endpoint's subnet, a user route whose prefix is at least as long as the endpoint VNet's
//! address range does.

use super::layer::{first_wins, Layer, Row};
use ipnet::Ipv4Net;
use vnetlab_model::{NextHopType, Topology, VnetId};

pub fn endpoint_layer(t: &Topology, vnet: VnetId) -> Layer {
    let mut layer = Layer::default();
    for pe in &t.private_endpoints {
        let pe_vnet = t.subnet(pe.subnet).vnet;
        // D7: only peerings present on both sides connect.
        let reaches = pe_vnet == vnet
            || (t.peering_between(vnet, pe_vnet).is_some()
                && t.peering_between(pe_vnet, vnet).is_some());
        if !reaches || pe.ip.is_unspecified() {
            continue;
        }
        let policy_len = t
            .subnet(pe.subnet)
            .private_endpoint_route_policies
            .then(|| {
                t.vnet(pe_vnet)
                    .address_space
                    .iter()
                    .find(|r| r.contains(&pe.ip))
                    .map_or(32, |r| r.prefix_len())
            });
        let row = Row {
            prefixes: vec![Ipv4Net::new(pe.ip, 32).expect("/32")],
            next_hop_type: NextHopType::InterfaceEndpoint,
            next_hop_ips: Vec::new(),
            name: None,
            route_table: None,
            policy_len,
        };
        layer.push(row, first_wins);
    }
    layer
}
