//! One row of a NIC's effective route table, with the fields of the REST `EffectiveRoute`
//! (\[SPEC-NIC\]; docs/semantics/routing.md 4.2).

use ipnet::Ipv4Net;
use std::net::Ipv4Addr;
use vnetlab_model::{NextHopType, RouteTableId};

/// `EffectiveRouteSource` (docs/semantics/routing.md 4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RouteSource {
    Default,
    VirtualNetworkGateway,
    User,
}

impl RouteSource {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteSource::Default => "Default",
            RouteSource::VirtualNetworkGateway => "VirtualNetworkGateway",
            RouteSource::User => "User",
        }
    }

    /// The portal's Source column.
    pub fn portal_label(self) -> &'static str {
        match self {
            RouteSource::Default => "Default",
            RouteSource::VirtualNetworkGateway => "Virtual network gateway",
            RouteSource::User => "User",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteState {
    Active,
    Invalid,
}

impl RouteState {
    pub fn as_str(self) -> &'static str {
        match self {
            RouteState::Active => "Active",
            RouteState::Invalid => "Invalid",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EffectiveRoute {
    pub source: RouteSource,
    pub state: RouteState,
    pub address_prefixes: Vec<Ipv4Net>,
    pub next_hop_type: NextHopType,
    pub next_hop_ips: Vec<Ipv4Addr>,
    /// The user route's name; None for system and gateway routes.
    pub name: Option<String>,
    /// The route table of a user route.
    pub route_table: Option<RouteTableId>,
    /// Whether the subnet's route table turns off gateway route propagation.
    pub disable_bgp_route_propagation: bool,
}
