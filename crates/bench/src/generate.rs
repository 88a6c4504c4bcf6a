//! Writes a hub-and-spoke topology as a REST JSON array (the shape of `az resource list`),
//! deterministically: no randomness, so the same plan always gives the same bytes.
//!
//! Resources carry no `id`; ingest derives `/subscriptions/0…0/resourceGroups/vnetlab/providers/
//! {type}/{name}`, and references are written with the same IDs. The Foundation plan is one hub
//! and 999 spokes, each peered both ways with the hub (hub allowGatewayTransit, spokes
//! useRemoteGateways); 10 inline /24 subnets per VNet; 5 dynamic NICs per subnet, each with its
//! own VM (the hub's GatewaySubnet holds none, its `nva` subnet twice as many); 200 route tables
//! of 400 routes on the spoke subnets; a VpnGw1 gateway with BGP in the hub's GatewaySubnet whose
//! IPsec connection reaches a local network gateway advertising 4,000 prefixes
//! (`bgpAdvertisedPrefixes`, vnetlab's offline stand-in for BGP).
//!
//! Address plan: the hub is 10.0.0.0/16; spoke i (1-based) is the /20 number 15+i of 10.0.0.0/8
//! (10.1.0.0/20 … 10.63.96.0/20); subnet j of a VNet is its j-th /24. User routes have distinct
//! prefixes: VirtualAppliance in 172.16.0.0/12 (/27-/28), None in 40.0.0.0/8 and
//! VirtualNetworkGateway in 60.0.0.0/8 (/24-/26); every table also sends 0.0.0.0/0 to the hub
//! NVA (10.0.1.4). Gateway prefixes are /22-/24 of 100.64.0.0/10.

use serde::Serializer as _;
use serde_json::{json, Value};
use std::io::Write;
use std::net::Ipv4Addr;
use vnetlab_model::ResourceId;

/// The size of a generated topology.
#[derive(Debug, Clone, Copy)]
pub struct Plan {
    pub spokes: u32,
    pub subnets_per_vnet: u32,
    pub nics_per_subnet: u32,
    pub route_tables: u32,
    pub routes_per_table: u32,
    pub bgp_prefixes: u32,
}

impl Plan {
    /// The Foundation benchmark: 1,000 VNets, 10,000 subnets, 50,000 NICs and VMs, 200 × 400
    /// routes, 4,000 gateway prefixes.
    pub const FOUNDATION: Plan = Plan {
        spokes: 999,
        subnets_per_vnet: 10,
        nics_per_subnet: 5,
        route_tables: 200,
        routes_per_table: 400,
        bgp_prefixes: 4000,
    };

    pub fn vnets(&self) -> u32 {
        self.spokes + 1
    }

    pub fn subnets(&self) -> u32 {
        self.vnets() * self.subnets_per_vnet
    }

    pub fn nics(&self) -> u32 {
        self.subnets() * self.nics_per_subnet
    }

    fn check(&self) {
        assert!(
            self.spokes + 16 <= 4096,
            "spokes must fit in 10.0.0.0/8 as /20s"
        );
        assert!(
            (2..=16).contains(&self.subnets_per_vnet),
            "a VNet holds 2 to 16 /24 subnets"
        );
        assert!(
            (1..=125).contains(&self.nics_per_subnet),
            "the hub's nva subnet takes twice the NICs of a /24"
        );
        assert!(
            self.routes_per_table >= 1,
            "every table has at least its 0.0.0.0/0 route"
        );
        let user_routes = self.route_tables * (self.routes_per_table - 1);
        assert!(
            user_routes / 3 < 32768,
            "too many routes for the address plan"
        );
        assert!(self.bgp_prefixes <= 4096, "at most 4,096 gateway prefixes");
    }
}

/// The hub NVA's address: the first dynamic address of the hub's `nva` subnet.
pub const NVA_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 1, 4);
const LOCATION: &str = "westeurope";

fn id(resource_type: &str, name: &str) -> String {
    ResourceId::from_type_and_name(resource_type, name)
        .as_str()
        .to_string()
}

fn reference(resource_type: &str, name: &str) -> Value {
    json!({ "id": id(resource_type, name) })
}

fn net(base: u32, len: u8) -> String {
    format!("{}/{len}", Ipv4Addr::from(base))
}

pub fn vnet_name(v: u32) -> String {
    if v == 0 {
        "hub".to_string()
    } else {
        format!("spoke-{v:04}")
    }
}

pub fn subnet_name(v: u32, j: u32) -> String {
    match (v, j) {
        (0, 0) => "GatewaySubnet".to_string(),
        (0, 1) => "nva".to_string(),
        _ => format!("snet-{j:02}"),
    }
}

/// The first address of VNet `v`: 10.0.0.0 for the hub, then /20 blocks from 10.1.0.0.
pub fn vnet_base(v: u32) -> u32 {
    let ten = u32::from(Ipv4Addr::new(10, 0, 0, 0));
    if v == 0 {
        ten
    } else {
        ten + (15 + v) * 4096
    }
}

/// The /24 of subnet `j` of VNet `v`.
pub fn subnet_prefix(v: u32, j: u32) -> (u32, u8) {
    (vnet_base(v) + j * 256, 24)
}

/// NICs in subnet `j` of VNet `v`: none in GatewaySubnet, twice as many in the hub's nva subnet.
fn nics_in(plan: &Plan, v: u32, j: u32) -> u32 {
    match (v, j) {
        (0, 0) => 0,
        (0, 1) => 2 * plan.nics_per_subnet,
        _ => plan.nics_per_subnet,
    }
}

/// Route `r` (1-based; 0 is 0.0.0.0/0) of table `t`: next hop type and prefix.
pub fn user_route(plan: &Plan, t: u32, r: u32) -> (&'static str, (u32, u8)) {
    if r == 0 {
        return ("VirtualAppliance", (0, 0));
    }
    let g = t * (plan.routes_per_table - 1) + (r - 1);
    let k = g / 3;
    match g % 3 {
        0 => (
            "VirtualAppliance",
            (
                u32::from(Ipv4Addr::new(172, 16, 0, 0)) + k * 32,
                27 + (k % 2) as u8,
            ),
        ),
        1 => (
            "None",
            (
                u32::from(Ipv4Addr::new(40, 0, 0, 0)) + k * 256,
                24 + (k % 3) as u8,
            ),
        ),
        _ => (
            "VirtualNetworkGateway",
            (
                u32::from(Ipv4Addr::new(60, 0, 0, 0)) + k * 256,
                24 + (k % 3) as u8,
            ),
        ),
    }
}

/// Gateway prefix `k`: a /22, /23 or /24 at the k-th /22 of 100.64.0.0/10.
pub fn bgp_prefix(k: u32) -> (u32, u8) {
    (
        u32::from(Ipv4Addr::new(100, 64, 0, 0)) + k * 1024,
        22 + (k % 3) as u8,
    )
}

/// The route table of spoke subnet `j` of spoke `v` (v ≥ 1).
pub fn route_table_of(plan: &Plan, v: u32, j: u32) -> u32 {
    ((v - 1) * plan.subnets_per_vnet + j) % plan.route_tables
}

const VNET: &str = "Microsoft.Network/virtualNetworks";
const SUBNET: &str = "Microsoft.Network/virtualNetworks/subnets";
const RT: &str = "Microsoft.Network/routeTables";
const NIC: &str = "Microsoft.Network/networkInterfaces";
const VM: &str = "Microsoft.Compute/virtualMachines";
const PIP: &str = "Microsoft.Network/publicIPAddresses";
const GW: &str = "Microsoft.Network/virtualNetworkGateways";
const LNG: &str = "Microsoft.Network/localNetworkGateways";

fn route_table(plan: &Plan, t: u32) -> Value {
    let routes: Vec<Value> = (0..plan.routes_per_table)
        .map(|r| {
            let (kind, (base, len)) = user_route(plan, t, r);
            let name = if r == 0 {
                "default-to-nva".to_string()
            } else {
                format!("r-{r:03}")
            };
            let mut props = json!({ "addressPrefix": net(base, len), "nextHopType": kind });
            if kind == "VirtualAppliance" {
                props["nextHopIpAddress"] = json!(NVA_IP.to_string());
            }
            json!({ "name": name, "properties": props })
        })
        .collect();
    json!({
        "type": RT, "name": format!("rt-{t:03}"), "location": LOCATION,
        "properties": { "disableBgpRoutePropagation": false, "routes": routes }
    })
}

fn vnet(plan: &Plan, v: u32) -> Value {
    let name = vnet_name(v);
    let space = if v == 0 {
        net(vnet_base(0), 16)
    } else {
        net(vnet_base(v), 20)
    };
    let subnets: Vec<Value> = (0..plan.subnets_per_vnet)
        .map(|j| {
            let (base, len) = subnet_prefix(v, j);
            let mut props = json!({ "addressPrefix": net(base, len), "privateEndpointNetworkPolicies": "Disabled" });
            if v > 0 {
                props["routeTable"] = reference(RT, &format!("rt-{:03}", route_table_of(plan, v, j)));
            }
            json!({ "name": subnet_name(v, j), "properties": props })
        })
        .collect();
    let peerings: Vec<Value> = if v == 0 {
        (1..=plan.spokes)
            .map(|s| {
                json!({ "name": format!("hub-to-{}", vnet_name(s)), "properties": {
                    "remoteVirtualNetwork": reference(VNET, &vnet_name(s)),
                    "allowVirtualNetworkAccess": true, "allowForwardedTraffic": true,
                    "allowGatewayTransit": true, "useRemoteGateways": false } })
            })
            .collect()
    } else {
        vec![json!({ "name": format!("{name}-to-hub"), "properties": {
            "remoteVirtualNetwork": reference(VNET, "hub"),
            "allowVirtualNetworkAccess": true, "allowForwardedTraffic": true,
            "allowGatewayTransit": false, "useRemoteGateways": true } })]
    };
    json!({
        "type": VNET, "name": name, "location": LOCATION,
        "properties": { "addressSpace": { "addressPrefixes": [space] }, "subnets": subnets, "virtualNetworkPeerings": peerings }
    })
}

fn nic_name(v: u32, j: u32, k: u32) -> String {
    format!("nic-{}-{}-{k}", vnet_name(v), subnet_name(v, j))
}

fn nic(v: u32, j: u32, k: u32) -> Value {
    let subnet = format!("{}/{}", vnet_name(v), subnet_name(v, j));
    json!({
        "type": NIC, "name": nic_name(v, j, k), "location": LOCATION,
        "properties": {
            "enableIPForwarding": v == 0 && j == 1,
            "ipConfigurations": [ { "name": "ipconfig1", "properties": {
                "privateIPAllocationMethod": "Dynamic", "primary": true, "subnet": reference(SUBNET, &subnet) } } ]
        }
    })
}

fn vm(v: u32, j: u32, k: u32) -> Value {
    json!({
        "type": VM, "name": format!("vm-{}-{}-{k}", vnet_name(v), subnet_name(v, j)), "location": LOCATION,
        "properties": {
            "hardwareProfile": { "vmSize": "Standard_B1s" },
            "networkProfile": { "networkInterfaces": [ { "id": id(NIC, &nic_name(v, j, k)), "properties": { "primary": true } } ] }
        }
    })
}

fn gateway_resources(plan: &Plan) -> Vec<Value> {
    let bgp: Vec<String> = (0..plan.bgp_prefixes)
        .map(|k| {
            let (b, l) = bgp_prefix(k);
            net(b, l)
        })
        .collect();
    vec![
        json!({ "type": PIP, "name": "vpngw-hub-pip", "location": LOCATION, "sku": { "name": "Standard" },
                "properties": { "publicIPAllocationMethod": "Static" } }),
        json!({ "type": GW, "name": "vpngw-hub", "location": LOCATION, "properties": {
            "gatewayType": "Vpn", "vpnType": "RouteBased", "sku": { "name": "VpnGw1", "tier": "VpnGw1" },
            "activeActive": false, "enableBgp": true, "bgpSettings": { "asn": 65515 },
            "ipConfigurations": [ { "name": "default", "properties": {
                "privateIPAllocationMethod": "Dynamic",
                "subnet": reference(SUBNET, "hub/GatewaySubnet"),
                "publicIPAddress": reference(PIP, "vpngw-hub-pip") } } ] } }),
        json!({ "type": LNG, "name": "onprem", "location": LOCATION, "properties": {
            "gatewayIpAddress": "203.0.113.10",
            "localNetworkAddressSpace": { "addressPrefixes": ["192.168.0.0/16"] },
            "bgpSettings": { "asn": 65010, "bgpPeeringAddress": "192.168.255.254" },
            "bgpAdvertisedPrefixes": bgp } }),
        json!({ "type": "Microsoft.Network/connections", "name": "hub-to-onprem", "location": LOCATION, "properties": {
            "connectionType": "IPsec", "enableBgp": true, "routingWeight": 0,
            "virtualNetworkGateway1": reference(GW, "vpngw-hub"),
            "localNetworkGateway2": reference(LNG, "onprem") } }),
    ]
}

/// Every resource of the plan, built one at a time: route tables, VNets, the gateway and its
/// connection, then each NIC followed by its VM.
pub fn resources(plan: Plan) -> impl Iterator<Item = Value> {
    plan.check();
    let tables = (0..plan.route_tables).map(move |t| route_table(&plan, t));
    let vnets = (0..plan.vnets()).map(move |v| vnet(&plan, v));
    let machines = (0..plan.vnets()).flat_map(move |v| {
        (0..plan.subnets_per_vnet).flat_map(move |j| {
            (0..nics_in(&plan, v, j)).flat_map(move |k| [nic(v, j, k), vm(v, j, k)])
        })
    });
    tables
        .chain(vnets)
        .chain(gateway_resources(&plan))
        .chain(machines)
}

/// Writes the plan as a pretty-printed JSON array (as `az` prints it), streaming resource by
/// resource so the generator never holds the whole document.
pub fn write(plan: Plan, out: impl Write) -> std::io::Result<()> {
    let mut out = std::io::BufWriter::with_capacity(1 << 20, out);
    let mut ser = serde_json::Serializer::pretty(&mut out);
    (&mut ser)
        .collect_seq(resources(plan))
        .map_err(std::io::Error::from)?;
    out.write_all(b"\n")?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnetlab_engine::routes::RoutingTables;
    use vnetlab_ingest::{load_text, Format};
    use vnetlab_model::service_tags::ServiceTags;
    use vnetlab_model::{NextHopType, SubnetId};

    const SMALL: Plan = Plan {
        spokes: 4,
        subnets_per_vnet: 3,
        nics_per_subnet: 2,
        route_tables: 3,
        routes_per_table: 7,
        bgp_prefixes: 5,
    };

    #[test]
    fn a_small_plan_loads_cleanly_and_routes_as_designed() {
        let mut bytes = Vec::new();
        write(SMALL, &mut bytes).unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let tags = ServiceTags::bundled();
        let loaded =
            load_text(&text, "small.json", Format::Json, tags).unwrap_or_else(|d| panic!("{d:#?}"));
        let t = &loaded.topology;
        assert_eq!(
            (t.vnets.len(), t.subnets.len(), t.nics.len(), t.vms.len()),
            (5, 15, 30, 30)
        );
        assert_eq!(t.peerings.len(), 8);
        assert_eq!(
            t.route_tables.iter().map(|r| r.routes.len()).sum::<usize>(),
            21
        );
        assert_eq!(t.local_gateways[0].bgp_advertised.len(), 5);
        // The first NIC of the hub's nva subnet holds the NVA address.
        let nva = t.find_nic("nic-hub-nva-0").unwrap();
        assert_eq!(t.nic(nva).ip_configurations[0].private_ip, NVA_IP);

        let routes = RoutingTables::compute(t, tags);
        let spoke_subnet = SubnetId(SMALL.subnets_per_vnet); // spoke-0001/snet-00
        let hop = |dst: Ipv4Addr| {
            routes
                .subnet(spoke_subnet)
                .lookup(dst)
                .unwrap()
                .row
                .next_hop_type
        };
        assert_eq!(hop(Ipv4Addr::new(10, 0, 2, 9)), NextHopType::VNetPeering);
        assert_eq!(
            hop(Ipv4Addr::from(bgp_prefix(1).0 + 1)),
            NextHopType::VirtualNetworkGateway
        );
        assert_eq!(
            hop(Ipv4Addr::from(vnet_base(2) + 5)),
            NextHopType::VirtualAppliance
        );
        assert_eq!(
            hop(Ipv4Addr::from(user_route(&SMALL, 0, 2).1 .0 + 1)),
            NextHopType::None
        );
    }

    #[test]
    fn the_foundation_address_plan_has_no_overlaps() {
        let p = Plan::FOUNDATION;
        p.check();
        assert_eq!(net(vnet_base(p.spokes), 20), "10.63.96.0/20");
        let mut prefixes: Vec<(u32, u8)> = (0..p.route_tables)
            .flat_map(|t| (1..p.routes_per_table).map(move |r| user_route(&p, t, r).1))
            .collect();
        prefixes.extend((0..p.bgp_prefixes).map(bgp_prefix));
        prefixes.sort_unstable();
        let last = |(b, l): (u32, u8)| b + ((1u64 << (32 - l)) - 1) as u32;
        assert!(
            prefixes.windows(2).all(|w| last(w[0]) < w[1].0),
            "user and gateway prefixes are distinct and disjoint"
        );
    }
}
