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

#[cfg(test)]
mod tests {
    //! Route selection against Azure's documented answers: the routing example of Microsoft's
    //! "Virtual network traffic routing" article (docs/semantics/routing.md §8) and forced
    //! tunnelling by BGP (§5.6).

    use super::*;
    use crate::routes::effective_route::{RouteSource, RouteState};
    use crate::routes::RoutingTables;
    use vnetlab_model::service_tags::ServiceTags;
    use vnetlab_model::{SubnetId, Topology};

    /// docs/semantics/routing.md §8.1: Subnet1 has route table RT1; Subnet2 has none; site
    /// onprem (10.10.0.0/16) is behind the VNet's VPN gateway; Virtual-network-2 is peered.
    const EXAMPLE_8: &str = "
vnets:
  Virtual-network-1:
    address_space: [10.0.0.0/16]
    gateway: { name: vpngw, sku: VpnGw1 }
    subnets:
      Subnet1: { prefix: 10.0.0.0/24, route_table: RT1, vms: { vm1: {} } }
      Subnet2: { prefix: 10.0.1.0/24, vms: { vm2: {} } }
      NVA: { prefix: 10.0.100.0/24, vms: { nva: { ip: 10.0.100.4, ip_forwarding: true } } }
      GatewaySubnet: 10.0.255.0/27
    peerings:
      Virtual-network-2: {}
  Virtual-network-2:
    address_space: [10.1.0.0/16, 10.2.0.0/16]
    subnets:
      default: 10.1.0.0/24
    peerings:
      Virtual-network-1: {}
route_tables:
  RT1:
    routes:
      Within-VNet1: { prefix: 10.0.0.0/16, next_hop: VirtualAppliance, ip: 10.0.100.4 }
      Within-Subnet1: { prefix: 10.0.0.0/24, next_hop: VnetLocal }
      ToVNet2-1-Drop: { prefix: 10.1.0.0/16, next_hop: None }
      To-On-Prem: { prefix: 10.10.0.0/16, next_hop: VirtualAppliance, ip: 10.0.100.4 }
      Default-NVA: { prefix: 0.0.0.0/0, next_hop: VirtualAppliance, ip: 10.0.100.4 }
sites:
  onprem:
    gateway_ip: 198.51.100.10
    address_space: [10.10.0.0/16]
    connect_to: Virtual-network-1
";

    /// docs/semantics/routing.md §5.6: site hq advertises 0.0.0.0/0 over BGP.
    const FORCED_TUNNEL: &str = "
vnets:
  vnet1:
    address_space: [10.0.0.0/16]
    gateway: { name: vpngw, sku: VpnGw1, bgp: {} }
    subnets:
      GatewaySubnet: 10.0.255.0/27
      web: { prefix: 10.0.1.0/24, vms: { vm-web: {} } }
      steered: { prefix: 10.0.2.0/24, route_table: rt, vms: { vm-steered: {} } }
      nva: { prefix: 10.0.5.0/24, vms: { nva1: { ip: 10.0.5.4, ip_forwarding: true } } }
route_tables:
  rt:
    routes:
      default-via-nva: { prefix: 0.0.0.0/0, next_hop: VirtualAppliance, ip: 10.0.5.4 }
sites:
  hq:
    gateway_ip: 198.51.100.10
    address_space: [192.168.255.1/32]
    bgp: { asn: 65010, peer_ip: 192.168.255.1, advertises: [0.0.0.0/0] }
    connect_to: vnet1
";

    struct Routes {
        t: Topology,
        tables: RoutingTables,
    }

    impl Routes {
        fn new(yaml: &str) -> Routes {
            let tags = ServiceTags::bundled();
            let t = vnetlab_ingest::load_text(yaml, "lab.yaml", vnetlab_ingest::Format::Yaml, tags)
                .expect("a valid lab file")
                .topology;
            let tables = RoutingTables::compute(&t, tags);
            Routes { t, tables }
        }

        fn subnet(&self, name: &str) -> &SubnetRoutes {
            let i = self.t.subnets.iter().position(|s| s.name == name);
            self.tables
                .subnet(SubnetId(i.expect("a subnet of the lab") as u32))
        }

        /// The route a subnet selects for an address: its source, prefix, next hop type and
        /// next hop address.
        fn next_hop(&self, subnet: &str, dst: &str) -> (RouteSource, String, NextHopType, String) {
            let sel = self
                .subnet(subnet)
                .lookup(dst.parse().expect("an address"))
                .expect("a route");
            let ip = sel
                .next_hop_ips()
                .first()
                .map(|i| i.to_string())
                .unwrap_or_default();
            (
                sel.source(),
                sel.prefix.to_string(),
                sel.row.next_hop_type,
                ip,
            )
        }
    }

    #[test]
    fn longest_prefix_wins_across_sources() {
        // §8.4: from Subnet1, 10.0.0.5 matches Within-Subnet1 (/24) over Within-VNet1 (/16).
        let r = Routes::new(EXAMPLE_8);
        assert_eq!(
            r.next_hop("Subnet1", "10.0.0.5"),
            (
                RouteSource::User,
                "10.0.0.0/24".into(),
                NextHopType::VnetLocal,
                String::new()
            )
        );
        // ... and 10.0.1.4 (Subnet2) the /16 user route to the appliance.
        assert_eq!(
            r.next_hop("Subnet1", "10.0.1.4"),
            (
                RouteSource::User,
                "10.0.0.0/16".into(),
                NextHopType::VirtualAppliance,
                "10.0.100.4".into()
            )
        );
    }

    #[test]
    fn a_user_route_beats_the_gateway_and_system_routes_with_the_same_prefix() {
        // §3.1: for an identical prefix User > VirtualNetworkGateway > Default. From Subnet1,
        // To-On-Prem (User) wins over the gateway's 10.10.0.0/16; Subnet2 has only the
        // gateway's route (§8.4).
        let r = Routes::new(EXAMPLE_8);
        assert_eq!(
            r.next_hop("Subnet1", "10.10.0.4"),
            (
                RouteSource::User,
                "10.10.0.0/16".into(),
                NextHopType::VirtualAppliance,
                "10.0.100.4".into()
            )
        );
        let (source, prefix, kind, _) = r.next_hop("Subnet2", "10.10.0.4");
        assert_eq!(
            (source, prefix.as_str(), kind),
            (
                RouteSource::VirtualNetworkGateway,
                "10.10.0.0/16",
                NextHopType::VirtualNetworkGateway
            )
        );
        // Without a route table the Default routes decide: the peer, the Internet.
        assert_eq!(
            r.next_hop("Subnet2", "10.1.0.4").2,
            NextHopType::VNetPeering
        );
        assert_eq!(
            r.next_hop("Subnet2", "8.8.8.8"),
            (
                RouteSource::Default,
                "0.0.0.0/0".into(),
                NextHopType::Internet,
                String::new()
            )
        );
    }

    #[test]
    fn a_bgp_default_route_beats_the_system_internet_route_and_loses_to_a_user_route() {
        // §5.6: a 0.0.0.0/0 learned over BGP replaces the Default route to the Internet; a
        // user 0.0.0.0/0 in turn beats the BGP route (§3.1).
        let r = Routes::new(FORCED_TUNNEL);
        let (source, prefix, kind, _) = r.next_hop("web", "8.8.8.8");
        assert_eq!(
            (source, prefix.as_str(), kind),
            (
                RouteSource::VirtualNetworkGateway,
                "0.0.0.0/0",
                NextHopType::VirtualNetworkGateway
            )
        );
        assert_eq!(
            r.next_hop("steered", "8.8.8.8"),
            (
                RouteSource::User,
                "0.0.0.0/0".into(),
                NextHopType::VirtualAppliance,
                "10.0.5.4".into()
            )
        );
    }

    #[test]
    fn the_routes_that_lose_an_identical_prefix_are_listed_invalid() {
        // §8.2 / §4.3: in Subnet1's effective routes the Default 10.0.0.0/16 (VnetLocal) and
        // 0.0.0.0/0 (Internet) and the gateway's 10.10.0.0/16 are Invalid; the user routes
        // with those prefixes are Active.
        let r = Routes::new(EXAMPLE_8);
        let routes = r.subnet("Subnet1").effective_routes();
        let state = |source: RouteSource, prefix: &str| {
            routes
                .iter()
                .find(|e| e.source == source && e.address_prefixes[0].to_string() == prefix)
                .map(|e| e.state)
                .unwrap_or_else(|| panic!("no {source:?} route for {prefix}"))
        };
        assert_eq!(
            state(RouteSource::Default, "10.0.0.0/16"),
            RouteState::Invalid
        );
        assert_eq!(
            state(RouteSource::Default, "0.0.0.0/0"),
            RouteState::Invalid
        );
        assert_eq!(
            state(RouteSource::VirtualNetworkGateway, "10.10.0.0/16"),
            RouteState::Invalid
        );
        assert_eq!(state(RouteSource::User, "10.0.0.0/16"), RouteState::Active);
        assert_eq!(state(RouteSource::User, "0.0.0.0/0"), RouteState::Active);
    }

    #[test]
    fn none_next_hops_drop_user_and_reserved_ranges() {
        // §5.4: ToVNet2-1-Drop sends 10.1.0.0/16 to None from Subnet1 although the VNet is
        // peered (§8.4).
        let r = Routes::new(EXAMPLE_8);
        assert_eq!(
            r.next_hop("Subnet1", "10.1.0.4"),
            (
                RouteSource::User,
                "10.1.0.0/16".into(),
                NextHopType::None,
                String::new()
            )
        );
        // §1.1: an RFC 1918 range outside the VNet, its peers and gateway prefixes is a
        // Default route to None ...
        let sel = r
            .subnet("Subnet2")
            .lookup("10.5.0.1".parse().unwrap())
            .unwrap();
        assert_eq!(
            (
                sel.origin,
                sel.prefix.to_string().as_str(),
                sel.row.next_hop_type
            ),
            (Origin::Reserved, "10.0.0.0/8", NextHopType::None)
        );
        // ... which a user 0.0.0.0/0 removes (D5): from Subnet1 it goes to the appliance.
        assert_eq!(
            r.next_hop("Subnet1", "10.5.0.1").2,
            NextHopType::VirtualAppliance
        );
    }
}
