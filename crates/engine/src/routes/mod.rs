//! Effective routes (docs/semantics/routing.md): computed per subnet, since every NIC of a subnet shares them
//! (\[DIAG\]), from layers that are built once and shared: a VNet's system routes by all its
//! subnets, a hub's gateway routes by the hub and every spoke using it, a route table's user
//! routes by every subnet it is associated with.

pub mod effective_route;
pub mod gateway;
pub mod layer;
pub mod peering;
pub mod private_endpoint;
pub mod selection;
pub mod service_endpoint;
pub mod system;
pub mod user;

use layer::Layer;
use std::collections::HashMap;
use std::sync::Arc;
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::{SubnetId, Topology, VnetId};

/// The system layers of one VNet.
#[derive(Debug)]
pub struct VnetLayers {
    pub default: Layer,
    pub reserved: Layer,
    /// Private endpoints of the VNet and its peers.
    pub endpoints: Layer,
}

/// A subnet's routes: shared layers and the subnet's own switches.
#[derive(Debug, Clone)]
pub struct SubnetRoutes {
    pub vnet: Arc<VnetLayers>,
    pub gateway: Option<Arc<Layer>>,
    pub service_endpoints: Option<Arc<Layer>>,
    pub user: Option<Arc<Layer>>,
    pub disable_bgp_route_propagation: bool,
    /// A user route for 0.0.0.0/0 exists (D5).
    pub user_default_route: bool,
    /// The instances of the VPN gateway the subnet uses, the next hop of a user route to
    /// VirtualNetworkGateway (D4).
    pub vpn_gateway_ips: Vec<std::net::Ipv4Addr>,
}

/// Every subnet's routes for one topology.
#[derive(Debug)]
pub struct RoutingTables {
    subnets: Vec<SubnetRoutes>,
}

impl RoutingTables {
    pub fn compute(t: &Topology, tags: &ServiceTags) -> RoutingTables {
        let vnets: Vec<Arc<VnetLayers>> = (0..t.vnets.len())
            .map(|i| {
                let id = VnetId(i as u32);
                let peerings = peering::peering_rows(t, id);
                let mut ranges = t.vnet(id).address_space.clone();
                ranges.extend(peerings.iter().flat_map(|r| r.prefixes.iter().copied()));
                Arc::new(VnetLayers {
                    reserved: system::reserved_layer(&ranges),
                    default: system::default_layer(&t.vnet(id).address_space, peerings),
                    endpoints: private_endpoint::endpoint_layer(t, id),
                })
            })
            .collect();
        let mut gateways: HashMap<VnetId, Arc<Layer>> = HashMap::new();
        let users: Vec<Arc<Layer>> = (0..t.route_tables.len())
            .map(|i| {
                Arc::new(user::user_layer(
                    t,
                    vnetlab_model::RouteTableId(i as u32),
                    tags,
                ))
            })
            .collect();
        let default_route: ipnet::Ipv4Net = "0.0.0.0/0".parse().expect("constant");
        let subnets = t
            .subnets
            .iter()
            .enumerate()
            .map(|(i, s)| {
                let rt = s.route_table.map(|r| t.route_table(r));
                let disable_bgp_route_propagation =
                    rt.is_some_and(|r| r.disable_bgp_route_propagation);
                let gateway = if disable_bgp_route_propagation {
                    None
                } else {
                    gateway::serving_vnet(t, s.vnet).map(|owner| {
                        gateways
                            .entry(owner)
                            .or_insert_with(|| Arc::new(gateway::gateway_layer(t, owner)))
                            .clone()
                    })
                };
                let user = s.route_table.map(|r| users[r.index()].clone());
                let vpn_gateway_ips = gateway::serving_vnet(t, s.vnet)
                    .and_then(|owner| {
                        t.gateways_in(owner)
                            .map(|g| t.gateway(g))
                            .find(|g| g.gateway_type == vnetlab_model::GatewayType::Vpn)
                    })
                    .map(|g| g.instance_ips.clone())
                    .unwrap_or_default();
                SubnetRoutes {
                    vnet: vnets[s.vnet.index()].clone(),
                    gateway,
                    service_endpoints: service_endpoint::service_endpoint_layer(
                        t,
                        SubnetId(i as u32),
                        tags,
                    )
                    .map(Arc::new),
                    user_default_route: user
                        .as_deref()
                        .is_some_and(|u| u.trie.get(&default_route).is_some()),
                    user,
                    disable_bgp_route_propagation,
                    vpn_gateway_ips,
                }
            })
            .collect();
        RoutingTables { subnets }
    }

    pub fn subnet(&self, id: SubnetId) -> &SubnetRoutes {
        &self.subnets[id.index()]
    }
}
