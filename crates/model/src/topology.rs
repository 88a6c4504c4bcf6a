//! The resources vnetlab models, with references resolved to typed indices. Field names follow
//! the REST properties they come from (Microsoft.Network 2023-09-01 specs).

use crate::diagnostic::{Diagnostic, Origin};
use crate::ids::*;
use crate::kinds::{GatewaySku, LoadBalancerSku, ProbeProtocol, TransportProtocol, VpnType};
use crate::resource_id::ResourceId;
use crate::routing_types::{NextHopType, RoutePrefix};
use crate::security::{ApplicationSecurityGroup, NetworkSecurityGroup};
use ipnet::Ipv4Net;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::net::Ipv4Addr;

#[derive(Debug, Clone, Default)]
pub struct Topology {
    pub vnets: Vec<VirtualNetwork>,
    pub subnets: Vec<Subnet>,
    pub peerings: Vec<Peering>,
    pub nics: Vec<NetworkInterface>,
    pub vms: Vec<VirtualMachine>,
    pub route_tables: Vec<RouteTable>,
    pub nsgs: Vec<NetworkSecurityGroup>,
    pub asgs: Vec<ApplicationSecurityGroup>,
    pub public_ips: Vec<PublicIp>,
    pub gateways: Vec<VirtualNetworkGateway>,
    pub local_gateways: Vec<LocalNetworkGateway>,
    pub connections: Vec<Connection>,
    pub nat_gateways: Vec<NatGateway>,
    pub load_balancers: Vec<LoadBalancer>,
    pub private_endpoints: Vec<PrivateEndpoint>,
    /// Resources of types vnetlab does not model; reported as warnings.
    pub ignored: Vec<Diagnostic>,
}

#[derive(Debug, Clone, Hash)]
pub struct VirtualNetwork {
    pub id: ResourceId,
    pub name: String,
    pub location: String,
    pub address_space: Vec<Ipv4Net>,
    pub subnets: Vec<SubnetId>,
    pub peerings: Vec<PeeringId>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash)]
pub struct ServiceEndpoint {
    /// `Microsoft.Storage`, `Microsoft.Sql`, ...
    pub service: String,
    /// Regions the endpoint covers; empty means the VNet's own region.
    pub locations: Vec<String>,
}

#[derive(Debug, Clone, Hash)]
pub struct Subnet {
    pub id: ResourceId,
    pub name: String,
    pub vnet: VnetId,
    pub prefix: Ipv4Net,
    pub route_table: Option<RouteTableId>,
    pub nsg: Option<NsgId>,
    pub nat_gateway: Option<NatGatewayId>,
    pub service_endpoints: Vec<ServiceEndpoint>,
    /// `defaultOutboundAccess`; false makes a private subnet (docs/semantics/dataplane.md 5.4).
    pub default_outbound_access: bool,
    /// `privateEndpointNetworkPolicies` is RouteTableEnabled or Enabled: user routes may
    /// override the private endpoints of this subnet (docs/semantics/routing.md 3.2 E5).
    pub private_endpoint_route_policies: bool,
    pub origin: Origin,
}

/// A private endpoint: a service's private address in a subnet (docs/semantics/routing.md 3.2 E5).
#[derive(Debug, Clone, Hash)]
pub struct PrivateEndpoint {
    pub id: ResourceId,
    pub name: String,
    pub subnet: SubnetId,
    pub ip: Ipv4Addr,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash)]
pub struct Peering {
    pub id: ResourceId,
    pub name: String,
    pub vnet: VnetId,
    pub remote: VnetId,
    pub allow_virtual_network_access: bool,
    pub allow_forwarded_traffic: bool,
    pub allow_gateway_transit: bool,
    pub use_remote_gateways: bool,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash, Copy, PartialEq, Eq)]
pub enum AllocationMethod {
    Static,
    Dynamic,
}

#[derive(Debug, Clone, Hash)]
pub struct IpConfiguration {
    pub name: String,
    pub subnet: SubnetId,
    pub private_ip: Ipv4Addr,
    pub allocation: AllocationMethod,
    pub primary: bool,
    pub public_ip: Option<PublicIpId>,
    pub asgs: Vec<AsgId>,
    /// Backend pools this configuration belongs to: (load balancer, pool index).
    pub backend_pools: Vec<(LoadBalancerId, usize)>,
    /// Inbound NAT rules that forward to this configuration: (load balancer, rule index).
    pub inbound_nat_rules: Vec<(LoadBalancerId, usize)>,
}

#[derive(Debug, Clone, Hash)]
pub struct NetworkInterface {
    pub id: ResourceId,
    pub name: String,
    pub ip_configurations: Vec<IpConfiguration>,
    pub enable_ip_forwarding: bool,
    pub nsg: Option<NsgId>,
    pub vm: Option<VmId>,
    pub origin: Origin,
}

impl NetworkInterface {
    /// The primary IP configuration (the first when none is marked).
    pub fn primary_ip_configuration(&self) -> &IpConfiguration {
        self.ip_configurations
            .iter()
            .find(|c| c.primary)
            .unwrap_or(&self.ip_configurations[0])
    }
}

#[derive(Debug, Clone, Hash)]
pub struct VirtualMachine {
    pub id: ResourceId,
    pub name: String,
    /// Primary NIC first.
    pub nics: Vec<NicId>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash)]
pub struct Route {
    pub name: String,
    pub prefix: RoutePrefix,
    pub next_hop_type: NextHopType,
    pub next_hop_ip: Option<Ipv4Addr>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash)]
pub struct RouteTable {
    pub id: ResourceId,
    pub name: String,
    pub routes: Vec<Route>,
    pub disable_bgp_route_propagation: bool,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum PublicIpSku {
    Basic,
    Standard,
}

#[derive(Debug, Clone, Hash)]
pub struct PublicIp {
    pub id: ResourceId,
    pub name: String,
    pub sku: PublicIpSku,
    /// The address given in the input, or one allocated from the documentation ranges (D15).
    pub address: Ipv4Addr,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub enum GatewayType {
    Vpn,
    ExpressRoute,
}

#[derive(Debug, Clone, Hash)]
pub struct VirtualNetworkGateway {
    pub id: ResourceId,
    pub name: String,
    pub vnet: VnetId,
    pub gateway_type: GatewayType,
    pub vpn_type: VpnType,
    pub sku: GatewaySku,
    pub active_active: bool,
    pub enable_bgp: bool,
    pub asn: u32,
    /// The private addresses of the gateway instances in GatewaySubnet (D4).
    pub instance_ips: Vec<Ipv4Addr>,
    pub public_ips: Vec<PublicIpId>,
    /// `gatewayDefaultSite`: the site that receives all Internet-bound traffic (forced
    /// tunnelling, docs/semantics/routing.md 5.6c).
    pub default_site: Option<LocalGatewayId>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash)]
pub struct BgpPeer {
    pub asn: u32,
    pub peering_address: Ipv4Addr,
}

#[derive(Debug, Clone, Hash)]
pub struct LocalNetworkGateway {
    pub id: ResourceId,
    pub name: String,
    pub gateway_ip: Option<Ipv4Addr>,
    /// `localNetworkAddressSpace.addressPrefixes`: the static prefixes of the site.
    pub address_prefixes: Vec<Ipv4Net>,
    pub bgp: Option<BgpPeer>,
    /// Prefixes the site advertises over BGP: the offline stand-in for a live session
    /// (vnetlab's `bgpAdvertisedPrefixes` property).
    pub bgp_advertised: Vec<Ipv4Net>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash)]
pub enum ConnectionKind {
    IPsec { local_gateway: LocalGatewayId },
    Vnet2Vnet { remote_gateway: GatewayId },
    ExpressRoute,
}

#[derive(Debug, Clone, Hash)]
pub struct Connection {
    pub id: ResourceId,
    pub name: String,
    pub gateway: GatewayId,
    pub kind: ConnectionKind,
    pub enable_bgp: bool,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash)]
pub struct NatGateway {
    pub id: ResourceId,
    pub name: String,
    pub public_ips: Vec<PublicIpId>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash)]
pub struct Frontend {
    pub name: String,
    pub private: Option<(SubnetId, Ipv4Addr)>,
    pub public_ip: Option<PublicIpId>,
}

#[derive(Debug, Clone, Hash)]
pub struct LoadBalancingRule {
    pub name: String,
    pub frontend: usize,
    pub backend_pool: Option<usize>,
    pub protocol: TransportProtocol,
    pub frontend_port: u16,
    pub backend_port: u16,
    pub enable_floating_ip: bool,
    /// The health probe that decides which backends get new flows.
    pub probe: Option<usize>,
}

/// A health probe, sent from 168.63.129.16 (docs/semantics/dataplane.md 6.1, \[PROBE\]).
#[derive(Debug, Clone, Hash)]
pub struct HealthProbe {
    pub name: String,
    pub protocol: ProbeProtocol,
    pub port: u16,
}

#[derive(Debug, Clone, Hash)]
pub struct LoadBalancer {
    pub id: ResourceId,
    pub name: String,
    pub sku: LoadBalancerSku,
    pub frontends: Vec<Frontend>,
    pub backend_pools: Vec<String>,
    pub rules: Vec<LoadBalancingRule>,
    pub outbound_rules: Vec<OutboundRule>,
    pub probes: Vec<HealthProbe>,
    pub inbound_nat_rules: Vec<InboundNatRule>,
    pub origin: Origin,
}

/// An inbound NAT rule: a frontend port forwarded to one VM's port (docs/semantics/dataplane.md 6.1,
/// \[LBC\]); the VM is the IP configuration that names the rule.
#[derive(Debug, Clone, Hash)]
pub struct InboundNatRule {
    pub name: String,
    pub frontend: usize,
    pub protocol: TransportProtocol,
    pub frontend_port: u16,
    pub backend_port: u16,
    pub enable_floating_ip: bool,
}

/// An outbound rule: a backend pool's outbound connections take a frontend's public address
/// (docs/semantics/dataplane.md 5.3, \[SNAT\]).
#[derive(Debug, Clone, Hash)]
pub struct OutboundRule {
    pub name: String,
    pub frontends: Vec<usize>,
    pub backend_pool: usize,
    pub protocol: TransportProtocol,
}

/// `topology[id]`: each typed ID indexes the array of its own resource kind.
macro_rules! index_by_id {
    ($($id:ident => $field:ident: $item:ty),+ $(,)?) => {$(
        impl std::ops::Index<$id> for Topology {
            type Output = $item;
            fn index(&self, id: $id) -> &$item {
                &self.$field[id.index()]
            }
        }
        impl std::ops::IndexMut<$id> for Topology {
            fn index_mut(&mut self, id: $id) -> &mut $item {
                &mut self.$field[id.index()]
            }
        }
    )+};
}

index_by_id!(
    VnetId => vnets: VirtualNetwork,
    SubnetId => subnets: Subnet,
    PeeringId => peerings: Peering,
    NicId => nics: NetworkInterface,
    VmId => vms: VirtualMachine,
    RouteTableId => route_tables: RouteTable,
    NsgId => nsgs: NetworkSecurityGroup,
    AsgId => asgs: ApplicationSecurityGroup,
    PublicIpId => public_ips: PublicIp,
    GatewayId => gateways: VirtualNetworkGateway,
    LocalGatewayId => local_gateways: LocalNetworkGateway,
    ConnectionId => connections: Connection,
    NatGatewayId => nat_gateways: NatGateway,
    LoadBalancerId => load_balancers: LoadBalancer,
);

impl Topology {
    pub fn vnet(&self, id: VnetId) -> &VirtualNetwork {
        &self[id]
    }
    pub fn subnet(&self, id: SubnetId) -> &Subnet {
        &self[id]
    }
    pub fn nic(&self, id: NicId) -> &NetworkInterface {
        &self[id]
    }
    pub fn vm(&self, id: VmId) -> &VirtualMachine {
        &self[id]
    }
    pub fn route_table(&self, id: RouteTableId) -> &RouteTable {
        &self[id]
    }
    pub fn gateway(&self, id: GatewayId) -> &VirtualNetworkGateway {
        &self[id]
    }

    /// Finds a NIC by name or resource ID (case-insensitive, as Azure matches IDs).
    pub fn find_nic(&self, name_or_id: &str) -> Option<NicId> {
        find(&self.nics, name_or_id, |n| (&n.name, &n.id)).map(|i| NicId(i as u32))
    }

    pub fn find_vm(&self, name_or_id: &str) -> Option<VmId> {
        find(&self.vms, name_or_id, |v| (&v.name, &v.id)).map(|i| VmId(i as u32))
    }

    /// The gateways deployed in a VNet.
    pub fn gateways_in(&self, vnet: VnetId) -> impl Iterator<Item = GatewayId> + '_ {
        self.gateways
            .iter()
            .enumerate()
            .filter(move |(_, g)| g.vnet == vnet)
            .map(|(i, _)| GatewayId(i as u32))
    }

    /// The peering from `vnet` to `remote`, if declared.
    pub fn peering_between(&self, vnet: VnetId, remote: VnetId) -> Option<&Peering> {
        self.vnet(vnet)
            .peerings
            .iter()
            .map(|p| &self[*p])
            .find(|p| p.remote == remote)
    }
}

fn find<T>(items: &[T], needle: &str, key: impl Fn(&T) -> (&String, &ResourceId)) -> Option<usize> {
    if needle.starts_with('/') {
        let wanted = needle.trim_end_matches('/').to_ascii_lowercase();
        items.iter().position(|item| key(item).1.key() == wanted)
    } else {
        items
            .iter()
            .position(|item| key(item).0 == needle)
            .or_else(|| {
                items
                    .iter()
                    .position(|item| key(item).0.eq_ignore_ascii_case(needle))
            })
    }
}
