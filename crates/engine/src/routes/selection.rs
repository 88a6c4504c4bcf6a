//! Route selection (docs/semantics/routing.md 3, 4.3): longest prefix match across all origins first; for an
//! identical prefix User > VirtualNetworkGateway > Default, the losers shown Invalid. VNet,
//! peering and service-endpoint routes beat BGP routes even when the BGP route is more specific
//! (E1, which also filters a BGP prefix equal to a VNet range, E2). A service-endpoint route
//! beats a user route with the identical prefix (D6). A user 0.0.0.0/0 removes the reserved
//! None routes from the subnet's table (D5). A private endpoint's /32 stands unless network
//! policies let a user route override it (E5).

use super::effective_route::{EffectiveRoute, RouteSource, RouteState};
use super::layer::{Layer, Row};
use super::SubnetRoutes;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;
use vnetlab_model::NextHopType;

/// D6: a service-endpoint route wins over a user route with the identical prefix. The one
/// switch to flip if Azure is shown to behave otherwise (\[PR-128591\] disputes it).
pub const SERVICE_ENDPOINT_BEATS_IDENTICAL_USER_ROUTE: bool = true;

/// The origins of routes, in the order their rows are listed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    System,
    Reserved,
    ServiceEndpoint,
    PrivateEndpoint,
    Gateway,
    User,
}

impl Origin {
    pub const ALL: [Origin; 6] = [
        Origin::System,
        Origin::Reserved,
        Origin::ServiceEndpoint,
        Origin::PrivateEndpoint,
        Origin::Gateway,
        Origin::User,
    ];

    /// Precedence for an identical prefix (R2, D6); higher wins.
    pub fn rank(self) -> u8 {
        match self {
            Origin::System | Origin::Reserved => 0,
            Origin::Gateway => 2,
            Origin::User => 4,
            Origin::ServiceEndpoint if SERVICE_ENDPOINT_BEATS_IDENTICAL_USER_ROUTE => 5,
            Origin::ServiceEndpoint => 3,
            // E5: not invalidated by an identical user route unless network policies say so
            // (handled by `endpoint_overridden`).
            Origin::PrivateEndpoint => 6,
        }
    }

    pub fn source(self) -> RouteSource {
        match self {
            Origin::System
            | Origin::Reserved
            | Origin::ServiceEndpoint
            | Origin::PrivateEndpoint => RouteSource::Default,
            Origin::Gateway => RouteSource::VirtualNetworkGateway,
            Origin::User => RouteSource::User,
        }
    }
}

/// The route that forwards a destination.
#[derive(Debug, Clone, Copy)]
pub struct Selected<'a> {
    pub origin: Origin,
    pub prefix: Ipv4Net,
    pub row: &'a Row,
    next_hop_ips: &'a [Ipv4Addr],
}

impl Selected<'_> {
    pub fn source(&self) -> RouteSource {
        self.origin.source()
    }

    /// The next hop addresses: the row's, or for a user route to VirtualNetworkGateway the
    /// addresses of the VPN gateway the subnet uses (docs/semantics/routing.md 2.1).
    pub fn next_hop_ips(&self) -> &[Ipv4Addr] {
        self.next_hop_ips
    }
}

fn is_vnet_route(row: &Row) -> bool {
    matches!(
        row.next_hop_type,
        NextHopType::VnetLocal | NextHopType::VNetPeering | NextHopType::VNetGlobalPeering
    )
}

impl SubnetRoutes {
    fn next_hop_ips<'a>(&'a self, row: &'a Row) -> &'a [Ipv4Addr] {
        if row.next_hop_type == NextHopType::VirtualNetworkGateway && row.next_hop_ips.is_empty() {
            &self.vpn_gateway_ips
        } else {
            &row.next_hop_ips
        }
    }

    fn layer(&self, origin: Origin) -> Option<&Layer> {
        match origin {
            Origin::System => Some(&self.vnet.default),
            // D5: a user 0.0.0.0/0 removes the reserved None routes.
            Origin::Reserved => (!self.user_default_route).then_some(&self.vnet.reserved),
            Origin::ServiceEndpoint => self.service_endpoints.as_deref(),
            Origin::PrivateEndpoint => Some(&self.vnet.endpoints),
            Origin::Gateway => self.gateway.as_deref(),
            Origin::User => self.user.as_deref(),
        }
    }

    /// E1/E2: a gateway prefix inside a VNet, peering or service-endpoint prefix never applies.
    fn gateway_prefix_suppressed(&self, prefix: &Ipv4Net) -> bool {
        self.vnet
            .default
            .covering(prefix)
            .is_some_and(|(_, row)| is_vnet_route(row))
            || self
                .service_endpoints
                .as_deref()
                .is_some_and(|se| se.covering(prefix).is_some())
    }

    /// E5: a user route at least as long as the endpoint VNet's range invalidates a private
    /// endpoint's /32 when its subnet has network policies for route tables.
    fn endpoint_overridden(&self, prefix: &Ipv4Net, row: &Row) -> bool {
        row.policy_len.is_some_and(|len| {
            self.user
                .as_deref()
                .and_then(|u| u.covering(prefix))
                .is_some_and(|(p, _)| p.prefix_len() >= len)
        })
    }

    /// Longest prefix match over the subnet's active routes.
    pub fn lookup(&self, dst: Ipv4Addr) -> Option<Selected<'_>> {
        let mut best: Option<Selected> = None;
        for origin in Origin::ALL {
            let Some((prefix, row)) = self.layer(origin).and_then(|l| l.lookup(dst)) else {
                continue;
            };
            if origin == Origin::Gateway && self.gateway_prefix_suppressed(&prefix) {
                continue;
            }
            if origin == Origin::PrivateEndpoint && self.endpoint_overridden(&prefix, row) {
                continue;
            }
            let better = match &best {
                None => true,
                Some(b) => {
                    (prefix.prefix_len(), origin.rank()) > (b.prefix.prefix_len(), b.origin.rank())
                }
            };
            if better {
                best = Some(Selected {
                    origin,
                    prefix,
                    row,
                    next_hop_ips: self.next_hop_ips(row),
                });
            }
        }
        best
    }

    /// Whether a layer of higher precedence than `origin` carries exactly `prefix`.
    fn outranked(&self, origin: Origin, prefix: &Ipv4Net) -> bool {
        Origin::ALL
            .into_iter()
            .filter(|o| o.rank() > origin.rank())
            .any(|o| {
                self.layer(o)
                    .and_then(|l| l.trie.get(prefix).map(|i| &l.rows[*i as usize]))
                    .is_some_and(|row| {
                        let suppressed =
                            o == Origin::Gateway && self.gateway_prefix_suppressed(prefix);
                        let overridden =
                            o == Origin::PrivateEndpoint && self.endpoint_overridden(prefix, row);
                        !suppressed && !overridden
                    })
            })
    }

    /// The effective route table as `az network nic show-effective-route-table` lists it.
    pub fn effective_routes(&self) -> Vec<EffectiveRoute> {
        let mut out = Vec::new();
        for origin in Origin::ALL {
            let Some(layer) = self.layer(origin) else {
                continue;
            };
            for (i, row) in layer.rows.iter().enumerate() {
                if origin == Origin::Gateway && self.gateway_prefix_suppressed(&row.prefixes[0]) {
                    continue;
                }
                let active = row.prefixes.iter().any(|p| {
                    layer.owns(p, i)
                        && !self.outranked(origin, p)
                        && !(origin == Origin::PrivateEndpoint && self.endpoint_overridden(p, row))
                });
                out.push(EffectiveRoute {
                    source: origin.source(),
                    state: if active {
                        RouteState::Active
                    } else {
                        RouteState::Invalid
                    },
                    address_prefixes: row.prefixes.clone(),
                    next_hop_type: row.next_hop_type,
                    next_hop_ips: self.next_hop_ips(row).to_vec(),
                    name: row.name.clone(),
                    route_table: row.route_table,
                    disable_bgp_route_propagation: self.disable_bgp_route_propagation,
                });
            }
        }
        out
    }
}
