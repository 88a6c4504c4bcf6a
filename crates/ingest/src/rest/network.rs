//! Virtual networks, subnets, peerings and NAT gateways from their REST shapes
//! (virtualNetwork.json \[SPEC-VNET\]; docs/semantics/routing.md 7).

use super::{pick, Builder, Target};
use crate::value::Reader;
use vnetlab_model::ids::*;
use vnetlab_model::{NatGateway, Peering, ServiceEndpoint, Subnet, VirtualNetwork};

pub(super) fn build_nat_gateways(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/natgateways")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("NAT gateway");
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let refs: Vec<(String, &str)> = r
            .array("properties.publicIpAddresses")
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                crate::value::at(v, "id")
                    .and_then(|v| v.as_str())
                    .map(|id| (format!("properties.publicIpAddresses[{i}].id"), id))
            })
            .collect();
        let public_ips = refs
            .iter()
            .filter_map(|(p, id)| b.resolve(&origin, p, id, "public IP address", pick!(PublicIp)))
            .collect();
        let id = NatGatewayId(b.topo.nat_gateways.len() as u32);
        b.register(raw, Target::NatGateway(id));
        b.topo.nat_gateways.push(NatGateway {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            public_ips,
            origin,
        });
    }
}

pub(super) fn build_vnets(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/virtualnetworks")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("virtual network");
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let mut address_space = Vec::new();
        for (i, s) in r
            .strings("properties.addressSpace.addressPrefixes")
            .into_iter()
            .enumerate()
        {
            if let Some(net) =
                r.parse_cidr(&format!("properties.addressSpace.addressPrefixes[{i}]"), s)
            {
                address_space.push(net);
            }
        }
        if address_space.is_empty() && r.get("properties.addressSpace.addressPrefixes").is_none() {
            r.error(
                "properties.addressSpace.addressPrefixes",
                "a virtual network needs at least one address range",
            )
            .hint = Some(
                "for example \"addressSpace\": {\"addressPrefixes\": [\"10.0.0.0/16\"]}".into(),
            );
        }
        let id = VnetId(b.topo.vnets.len() as u32);
        b.register(raw, Target::Vnet(id));
        b.topo.vnets.push(VirtualNetwork {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            location: normalize_location(raw.location.unwrap_or_default()),
            address_space,
            subnets: Vec::new(),
            peerings: Vec::new(),
            origin,
        });
    }
}

/// `West Europe` and `westeurope` name the same region.
pub(crate) fn normalize_location(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace())
        .collect::<String>()
        .to_ascii_lowercase()
}

/// The VNet a child (`vnet/child`) belongs to, from its ID's parent.
fn parent_vnet(
    b: &mut Builder,
    raw: &super::document::RawResource,
    origin: &vnetlab_model::Origin,
) -> Option<VnetId> {
    let parent = raw.id.parent();
    b.resolve(origin, "id", &parent, "virtual network", pick!(Vnet))
}

pub(super) fn build_subnets(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/virtualnetworks/subnets")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("subnet");
        let Some(vnet) = parent_vnet(b, raw, &origin) else {
            continue;
        };
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        // `addressPrefix`, or the first of `addressPrefixes` (IPv4 only).
        let prefix = match r.str("properties.addressPrefix") {
            Some(s) => r.parse_cidr("properties.addressPrefix", s),
            None => {
                let list = r.strings("properties.addressPrefixes");
                // docs/semantics/dataplane.md 4.1: an IPv6 subnet is exactly a /64.
                for (i, p) in list.iter().enumerate().filter(|(_, p)| p.contains(':')) {
                    if p.rsplit_once('/').is_none_or(|(_, len)| len.trim() != "64") {
                        r.error(
                            &format!("properties.addressPrefixes[{i}]"),
                            format!("IPv6 subnet {p} must be a /64"),
                        )
                        .hint = Some("Azure's IPv6 subnets are exactly /64".into());
                    }
                }
                match list.iter().position(|s| !s.contains(':')) {
                    Some(i) => r.parse_cidr(&format!("properties.addressPrefixes[{i}]"), list[i]),
                    None => {
                        r.error(
                            "properties.addressPrefix",
                            "a subnet needs an IPv4 addressPrefix",
                        )
                        .hint = Some("for example \"addressPrefix\": \"10.0.1.0/24\"".into());
                        None
                    }
                }
            }
        };
        let route_table_ref = r.reference("properties.routeTable");
        let nsg_ref = r.reference("properties.networkSecurityGroup");
        let nat_ref = r.reference("properties.natGateway");
        let default_outbound_access = r.bool("properties.defaultOutboundAccess", true);
        let private_endpoint_route_policies = r
            .str("properties.privateEndpointNetworkPolicies")
            .is_some_and(|p| {
                p.eq_ignore_ascii_case("RouteTableEnabled") || p.eq_ignore_ascii_case("Enabled")
            });
        let mut service_endpoints = Vec::new();
        for (i, se) in r.array("properties.serviceEndpoints").iter().enumerate() {
            let service = crate::value::at(se, "service").and_then(|v| v.as_str());
            let locations = crate::value::at(se, "locations")
                .and_then(|v| v.as_array())
                .map(|a| {
                    a.iter()
                        .filter_map(|l| l.as_str())
                        .map(normalize_location)
                        .collect()
                })
                .unwrap_or_default();
            match service {
                Some(s) => service_endpoints.push(ServiceEndpoint {
                    service: s.to_string(),
                    locations,
                }),
                None => {
                    r.error(
                        &format!("properties.serviceEndpoints[{i}].service"),
                        "a service endpoint needs a service name such as Microsoft.Storage",
                    );
                }
            }
        }
        let route_table = route_table_ref.and_then(|id| {
            b.resolve(
                &origin,
                "properties.routeTable.id",
                id,
                "route table",
                pick!(RouteTable),
            )
        });
        let nsg = nsg_ref.and_then(|id| {
            b.resolve(
                &origin,
                "properties.networkSecurityGroup.id",
                id,
                "network security group",
                pick!(Nsg),
            )
        });
        let nat_gateway = nat_ref.and_then(|id| {
            b.resolve(
                &origin,
                "properties.natGateway.id",
                id,
                "NAT gateway",
                pick!(NatGateway),
            )
        });
        let Some(prefix) = prefix else { continue };
        let id = SubnetId(b.topo.subnets.len() as u32);
        b.register(raw, Target::Subnet(id));
        b.topo[vnet].subnets.push(id);
        b.topo.subnets.push(Subnet {
            id: raw.id.clone(),
            name: raw.short_name().to_string(),
            vnet,
            prefix,
            route_table,
            nsg,
            nat_gateway,
            service_endpoints,
            default_outbound_access,
            private_endpoint_route_policies,
            origin,
        });
    }
}

pub(super) fn build_peerings(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/virtualnetworks/virtualnetworkpeerings")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("peering");
        let Some(vnet) = parent_vnet(b, raw, &origin) else {
            continue;
        };
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let remote_ref = r.reference("properties.remoteVirtualNetwork");
        if remote_ref.is_none() && r.get("properties.remoteVirtualNetwork").is_none() {
            r.error(
                "properties.remoteVirtualNetwork",
                "a peering needs remoteVirtualNetwork.id",
            );
        }
        // REST defaults [SPEC-VNET]: access allowed, forwarded traffic and transit off.
        let allow_virtual_network_access = r.bool("properties.allowVirtualNetworkAccess", true);
        let allow_forwarded_traffic = r.bool("properties.allowForwardedTraffic", false);
        let allow_gateway_transit = r.bool("properties.allowGatewayTransit", false);
        let use_remote_gateways = r.bool("properties.useRemoteGateways", false);
        let Some(remote) = remote_ref.and_then(|id| {
            b.resolve(
                &origin,
                "properties.remoteVirtualNetwork.id",
                id,
                "virtual network",
                pick!(Vnet),
            )
        }) else {
            continue;
        };
        let id = PeeringId(b.topo.peerings.len() as u32);
        b.topo[vnet].peerings.push(id);
        b.topo.peerings.push(Peering {
            id: raw.id.clone(),
            name: raw.short_name().to_string(),
            vnet,
            remote,
            allow_virtual_network_access,
            allow_forwarded_traffic,
            allow_gateway_transit,
            use_remote_gateways,
            origin,
        });
    }
}
