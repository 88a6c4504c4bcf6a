//! Virtual network gateways, local network gateways and connections from the REST shape
//! (docs/semantics/dataplane.md 7; docs/semantics/routing.md 6). Gateway instances take the first usable addresses of
//! GatewaySubnet (decision D4).

use super::{pick, Builder, Target};
use crate::value::{at, Reader};
use std::net::Ipv4Addr;
use vnetlab_model::ids::*;
use vnetlab_model::{
    BgpPeer, Connection, ConnectionKind, GatewaySku, GatewayType, LocalNetworkGateway,
    VirtualNetworkGateway, VpnType,
};

/// Azure's default gateway ASN (docs/semantics/routing.md 6, \[BGP-FAQ\]).
const DEFAULT_ASN: u32 = 65515;

pub(super) fn build_gateways(b: &mut Builder) {
    // D4: instances take GatewaySubnet's first usable addresses, gateway after gateway.
    let mut used_in_subnet: std::collections::HashMap<SubnetId, u32> =
        std::collections::HashMap::new();
    for raw in b
        .of_kind("microsoft.network/virtualnetworkgateways")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("virtual network gateway");
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let gateway_type = match r.str("properties.gatewayType") {
            None => GatewayType::Vpn,
            Some(s) if s.eq_ignore_ascii_case("vpn") => GatewayType::Vpn,
            Some(s) if s.eq_ignore_ascii_case("expressroute") => GatewayType::ExpressRoute,
            Some(s) => {
                r.error(
                    "properties.gatewayType",
                    format!("gatewayType must be Vpn or ExpressRoute, not '{s}'"),
                );
                GatewayType::Vpn
            }
        };
        let vpn_type = r.choice(
            "properties.vpnType",
            "properties.vpnType",
            VpnType::RouteBased,
        );
        let sku = GatewaySku::parse(
            r.str("properties.sku.name")
                .or_else(|| r.str("sku.name"))
                .unwrap_or("VpnGw1"),
        );
        let active_active = r.bool("properties.activeActive", false);
        let enable_bgp = r.bool("properties.enableBgp", false);
        let asn = r.u32("properties.bgpSettings.asn").unwrap_or(DEFAULT_ASN);
        let default_site_ref = r.reference("properties.gatewayDefaultSite");
        let configs = r.array("properties.ipConfigurations");
        if configs.is_empty() {
            r.error(
                "properties.ipConfigurations",
                "a gateway needs an IP configuration in the VNet's GatewaySubnet",
            );
        }
        let mut subnet = None;
        let mut public_ips = Vec::new();
        for (i, cfg) in configs.iter().enumerate() {
            let base = format!("properties.ipConfigurations[{i}].properties");
            if let Some(id) = at(cfg, "properties.subnet.id").and_then(|v| v.as_str()) {
                subnet = subnet.or(b.resolve(
                    &origin,
                    &format!("{base}.subnet.id"),
                    id,
                    "subnet",
                    pick!(Subnet),
                ));
            }
            if let Some(id) = at(cfg, "properties.publicIPAddress.id").and_then(|v| v.as_str()) {
                public_ips.extend(b.resolve(
                    &origin,
                    &format!("{base}.publicIPAddress.id"),
                    id,
                    "public IP address",
                    pick!(PublicIp),
                ));
            }
        }
        let default_site = default_site_ref.and_then(|id| {
            b.resolve(
                &origin,
                "properties.gatewayDefaultSite.id",
                id,
                "local network gateway",
                pick!(LocalGateway),
            )
        });
        let Some(subnet) = subnet else { continue };
        let s = b.topo.subnet(subnet);
        if s.name != "GatewaySubnet" {
            b.diags.push(
                vnetlab_model::Diagnostic::error(
                    &origin,
                    "properties.ipConfigurations[0].properties.subnet.id",
                    format!(
                        "a gateway must be deployed in a subnet named GatewaySubnet, not '{}'",
                        s.name
                    ),
                )
                .with_hint("rename the subnet to GatewaySubnet (exact spelling)"),
            );
        }
        // D4: one instance per gateway, two when active-active, at the first usable addresses.
        let used = used_in_subnet.entry(subnet).or_default();
        let base = u32::from(s.prefix.network()) + 4 + *used;
        let instances = if active_active { 2 } else { 1 };
        *used += instances;
        let instance_ips = (0..instances).map(|k| Ipv4Addr::from(base + k)).collect();
        let vnet = s.vnet;
        let id = GatewayId(b.topo.gateways.len() as u32);
        b.register(raw, Target::Gateway(id));
        b.topo.gateways.push(VirtualNetworkGateway {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            vnet,
            gateway_type,
            vpn_type,
            sku,
            active_active,
            enable_bgp,
            asn,
            instance_ips,
            public_ips,
            default_site,
            origin,
        });
    }
}

pub(super) fn build_local_gateways(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/localnetworkgateways")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("local network gateway");
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let gateway_ip = r.ip("properties.gatewayIpAddress");
        let prefixes = |r: &mut Reader, key: &str| {
            let list = r.strings(key);
            list.iter()
                .enumerate()
                .filter_map(|(i, s)| r.parse_cidr(&format!("{key}[{i}]"), s))
                .collect::<Vec<_>>()
        };
        let address_prefixes = prefixes(
            &mut r,
            "properties.localNetworkAddressSpace.addressPrefixes",
        );
        // vnetlab's offline stand-in for the routes a live BGP session would learn.
        let bgp_advertised = prefixes(&mut r, "properties.bgpAdvertisedPrefixes");
        let bgp = match (
            r.u32("properties.bgpSettings.asn"),
            r.ip("properties.bgpSettings.bgpPeeringAddress"),
        ) {
            (Some(asn), Some(peering_address)) => Some(BgpPeer {
                asn,
                peering_address,
            }),
            _ => None,
        };
        let id = LocalGatewayId(b.topo.local_gateways.len() as u32);
        b.register(raw, Target::LocalGateway(id));
        b.topo.local_gateways.push(LocalNetworkGateway {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            gateway_ip,
            address_prefixes,
            bgp,
            bgp_advertised,
            origin,
        });
    }
}

pub(super) fn build_connections(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/connections")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("connection");
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let kind = r
            .str("properties.connectionType")
            .unwrap_or("IPsec")
            .to_ascii_lowercase();
        let enable_bgp = r.bool("properties.enableBgp", false);
        let gw1 = r.reference("properties.virtualNetworkGateway1");
        let gw2 = r.reference("properties.virtualNetworkGateway2");
        let lng = r.reference("properties.localNetworkGateway2");
        if gw1.is_none() {
            r.error(
                "properties.virtualNetworkGateway1",
                "a connection needs virtualNetworkGateway1.id",
            );
        }
        let Some(gateway) = gw1.and_then(|id| {
            b.resolve(
                &origin,
                "properties.virtualNetworkGateway1.id",
                id,
                "virtual network gateway",
                pick!(Gateway),
            )
        }) else {
            continue;
        };
        let kind = match kind.as_str() {
            "ipsec" => match lng.and_then(|id| {
                b.resolve(
                    &origin,
                    "properties.localNetworkGateway2.id",
                    id,
                    "local network gateway",
                    pick!(LocalGateway),
                )
            }) {
                Some(local_gateway) => ConnectionKind::IPsec { local_gateway },
                None => {
                    if lng.is_none() {
                        b.diags.push(vnetlab_model::Diagnostic::error(
                            &origin,
                            "properties.localNetworkGateway2",
                            "an IPsec connection needs localNetworkGateway2.id",
                        ));
                    }
                    continue;
                }
            },
            "vnet2vnet" => match gw2.and_then(|id| {
                b.resolve(
                    &origin,
                    "properties.virtualNetworkGateway2.id",
                    id,
                    "virtual network gateway",
                    pick!(Gateway),
                )
            }) {
                Some(remote_gateway) => ConnectionKind::Vnet2Vnet { remote_gateway },
                None => {
                    if gw2.is_none() {
                        b.diags.push(vnetlab_model::Diagnostic::error(
                            &origin,
                            "properties.virtualNetworkGateway2",
                            "a Vnet2Vnet connection needs virtualNetworkGateway2.id",
                        ));
                    }
                    continue;
                }
            },
            "expressroute" => ConnectionKind::ExpressRoute,
            other => {
                b.diags.push(
                    vnetlab_model::Diagnostic::error(
                        &origin,
                        "properties.connectionType",
                        format!("unknown connectionType '{other}'"),
                    )
                    .with_hint("use IPsec, Vnet2Vnet or ExpressRoute"),
                );
                continue;
            }
        };
        b.topo.connections.push(Connection {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            gateway,
            kind,
            enable_bgp,
            origin,
        });
    }
}
