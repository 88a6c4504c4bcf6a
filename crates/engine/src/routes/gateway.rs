//! Gateway routes (docs/semantics/routing.md 1.4, 3.1 R4, 6; decision D4): the prefixes of the local network
//! gateways connected to a VNet's gateways, the prefixes they advertise over BGP, and the ranges
//! of VNets joined by VNet-to-VNet connections. Source and next hop are VirtualNetworkGateway,
//! next hop IPs are the gateway instances' private addresses (D4). Spokes receive them through
//! gateway transit (\[GW-TRANSIT\]); one route per prefix, ExpressRoute first (E7). A Default Site
//! adds 0.0.0.0/0 (docs/semantics/routing.md 5.6c).

use super::layer::{first_wins, Layer, Row};
use ipnet::Ipv4Net;
use vnetlab_model::{
    ConnectionKind, GatewayId, GatewayType, LocalGatewayId, NextHopType, Topology, VnetId,
};

/// The VNet whose gateways serve `vnet`: its own, or the hub it uses through gateway transit
/// (useRemoteGateways on its side, allowGatewayTransit on the hub's, both sides present).
pub fn serving_vnet(t: &Topology, vnet: VnetId) -> Option<VnetId> {
    if t.gateways_in(vnet).next().is_some() {
        return Some(vnet);
    }
    t.vnet(vnet).peerings.iter().map(|p| &t[*p]).find_map(|p| {
        let back = t.peering_between(p.remote, vnet)?;
        (p.use_remote_gateways
            && back.allow_gateway_transit
            && t.gateways_in(p.remote).next().is_some())
        .then_some(p.remote)
    })
}

/// Where a gateway prefix comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PrefixSource {
    /// A local network gateway's address space (static, non-BGP VPN).
    Static(LocalGatewayId),
    /// Advertised over BGP by the site behind a local network gateway.
    Bgp(LocalGatewayId),
    /// The address space of a VNet joined by a VNet-to-VNet connection.
    Vnet2Vnet(GatewayId),
    /// 0.0.0.0/0 to the gateway's Default Site (forced tunnelling, docs/semantics/routing.md 5.6c: shown as a
    /// gateway route 0.0.0.0/0).
    DefaultSite(LocalGatewayId),
}

/// The prefixes one gateway has learned or been configured with, and where each comes from.
pub fn gateway_prefixes(t: &Topology, gateway: GatewayId) -> Vec<(Ipv4Net, PrefixSource)> {
    let mut out = Vec::new();
    for c in t.connections.iter().filter(|c| c.gateway == gateway) {
        match c.kind {
            ConnectionKind::IPsec { local_gateway } => {
                let lng = &t[local_gateway];
                out.extend(
                    lng.address_prefixes
                        .iter()
                        .map(|p| (*p, PrefixSource::Static(local_gateway))),
                );
                if c.enable_bgp {
                    out.extend(
                        lng.bgp_advertised
                            .iter()
                            .map(|p| (*p, PrefixSource::Bgp(local_gateway))),
                    );
                }
            }
            ConnectionKind::Vnet2Vnet { remote_gateway } => {
                // Both connections must exist for the tunnel to come up (as D7 for peering).
                let reverse = t.connections.iter().any(|r| {
                    r.gateway == remote_gateway && matches!(r.kind, ConnectionKind::Vnet2Vnet { remote_gateway: g } if g == gateway)
                });
                if reverse {
                    out.extend(
                        t.vnet(t.gateway(remote_gateway).vnet)
                            .address_space
                            .iter()
                            .map(|p| (*p, PrefixSource::Vnet2Vnet(remote_gateway))),
                    );
                }
            }
            // Routes learned from an ExpressRoute circuit need a live BGP session.
            ConnectionKind::ExpressRoute => {}
        }
    }
    if let Some(site) = t.gateway(gateway).default_site {
        let connected = t.connections.iter().any(|c| c.gateway == gateway && matches!(c.kind, ConnectionKind::IPsec { local_gateway } if local_gateway == site));
        if connected {
            out.push((
                "0.0.0.0/0".parse().expect("constant"),
                PrefixSource::DefaultSite(site),
            ));
        }
    }
    out
}

/// The gateway layer of the VNet that owns the gateways.
pub fn gateway_layer(t: &Topology, owner: VnetId) -> Layer {
    let mut gateways: Vec<GatewayId> = t.gateways_in(owner).collect();
    // E7: one route per prefix, ExpressRoute first.
    gateways.sort_by_key(|g| t.gateway(*g).gateway_type != GatewayType::ExpressRoute);
    let mut layer = Layer::default();
    for g in gateways {
        let ips = t.gateway(g).instance_ips.clone();
        for (prefix, _) in gateway_prefixes(t, g) {
            if layer.trie.get(&prefix).is_some() {
                continue;
            }
            layer.push(
                Row {
                    prefixes: vec![prefix],
                    next_hop_type: NextHopType::VirtualNetworkGateway,
                    next_hop_ips: ips.clone(),
                    name: None,
                    route_table: None,
                    policy_len: None,
                },
                first_wins,
            );
        }
    }
    layer
}
