//! Next hop types and route prefixes as the REST API spells them (docs/semantics/routing.md 2.1; \[SPEC-RT\]).

use ipnet::Ipv4Net;
use std::fmt;

/// Every next hop type an effective route can carry. A user route may only use the first five
/// (\[SPEC-RT\] RouteNextHopType); the platform adds the others.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum NextHopType {
    VirtualNetworkGateway,
    VnetLocal,
    Internet,
    VirtualAppliance,
    None,
    VNetPeering,
    VNetGlobalPeering,
    VirtualNetworkServiceEndpoint,
    /// A private endpoint's /32 (docs/semantics/routing.md 3.2 E5).
    InterfaceEndpoint,
}

impl NextHopType {
    /// The REST/CLI string.
    pub fn as_str(self) -> &'static str {
        match self {
            NextHopType::VirtualNetworkGateway => "VirtualNetworkGateway",
            NextHopType::VnetLocal => "VnetLocal",
            NextHopType::Internet => "Internet",
            NextHopType::VirtualAppliance => "VirtualAppliance",
            NextHopType::None => "None",
            NextHopType::VNetPeering => "VNetPeering",
            NextHopType::VNetGlobalPeering => "VNetGlobalPeering",
            NextHopType::VirtualNetworkServiceEndpoint => "VirtualNetworkServiceEndpoint",
            NextHopType::InterfaceEndpoint => "InterfaceEndpoint",
        }
    }

    /// The label of the portal's Effective routes blade (docs/semantics/routing.md 2.1).
    pub fn portal_label(self) -> &'static str {
        match self {
            NextHopType::VirtualNetworkGateway => "Virtual network gateway",
            NextHopType::VnetLocal => "Virtual network",
            NextHopType::Internet => "Internet",
            NextHopType::VirtualAppliance => "Virtual appliance",
            NextHopType::None => "None",
            NextHopType::VNetPeering => "VNet peering",
            NextHopType::VNetGlobalPeering => "Global VNet peering",
            NextHopType::VirtualNetworkServiceEndpoint => "VirtualNetworkServiceEndpoint",
            NextHopType::InterfaceEndpoint => "InterfaceEndpoint",
        }
    }

    /// Parses a user route's next hop type, case-insensitively as ARM does. Also recognises the
    /// platform-only names so validation can say they are not allowed (docs/semantics/routing.md T19).
    pub fn parse(s: &str) -> Option<NextHopType> {
        const ALL: [NextHopType; 9] = [
            NextHopType::VirtualNetworkGateway,
            NextHopType::VnetLocal,
            NextHopType::Internet,
            NextHopType::VirtualAppliance,
            NextHopType::None,
            NextHopType::VNetPeering,
            NextHopType::VNetGlobalPeering,
            NextHopType::VirtualNetworkServiceEndpoint,
            NextHopType::InterfaceEndpoint,
        ];
        ALL.into_iter().find(|t| t.as_str().eq_ignore_ascii_case(s))
    }

    /// Whether a user route may name this type (\[SPEC-RT\]; docs/semantics/routing.md T19).
    pub fn allowed_in_user_route(self) -> bool {
        matches!(
            self,
            NextHopType::VirtualNetworkGateway
                | NextHopType::VnetLocal
                | NextHopType::Internet
                | NextHopType::VirtualAppliance
                | NextHopType::None
        )
    }
}

impl fmt::Display for NextHopType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A user route's `addressPrefix`: a CIDR or a service tag (docs/semantics/routing.md 5.7).
#[derive(Debug, Clone, Hash, PartialEq, Eq)]
pub enum RoutePrefix {
    Cidr(Ipv4Net),
    ServiceTag(String),
}

impl fmt::Display for RoutePrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RoutePrefix::Cidr(net) => write!(f, "{net}"),
            RoutePrefix::ServiceTag(tag) => f.write_str(tag),
        }
    }
}
