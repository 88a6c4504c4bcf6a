//! Azure's string enums for load balancers and gateways (Microsoft.Network 2023-09-01:
//! `LoadBalancerSkuName`, `TransportProtocol`, `ProbeProtocol`, `VpnType`,
//! `VirtualNetworkGatewaySkuName`; docs/semantics/dataplane.md 6.1 and 7). Azure reads them
//! case-insensitively; vnetlab prints them as the REST API spells them.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A closed Azure enum: ingest reads it with one call and names the accepted values when a
/// document uses another.
pub trait AzureEnum: Sized {
    /// Reads a value case-insensitively; `None` for a value Azure refuses.
    fn parse(s: &str) -> Option<Self>;
    /// The accepted values, such as `Tcp, Udp or All`.
    fn expected() -> String;
}

/// Declares a closed Azure enum: its REST spellings, a case-insensitive `parse` and `Display`.
macro_rules! azure_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant),+
        }

        impl $name {
            /// Every value, in the REST specification's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The value as the REST API spells it.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            /// Reads a value case-insensitively, as Azure does; `None` for a value Azure refuses.
            pub fn parse(s: &str) -> Option<Self> {
                Self::ALL
                    .iter()
                    .copied()
                    .find(|v| v.as_str().eq_ignore_ascii_case(s))
            }

            /// The accepted values for an error message, such as `Tcp, Udp or All`.
            pub fn expected() -> String {
                let names: Vec<&str> = Self::ALL.iter().map(|v| v.as_str()).collect();
                match names.split_last() {
                    Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
                    _ => names.concat(),
                }
            }
        }

        impl AzureEnum for $name {
            fn parse(s: &str) -> Option<Self> {
                $name::parse(s)
            }
            fn expected() -> String {
                $name::expected()
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

azure_enum!(
    /// `LoadBalancerSkuName`.
    LoadBalancerSku {
        Basic = "Basic",
        Standard = "Standard",
        Gateway = "Gateway",
    }
);

azure_enum!(
    /// `TransportProtocol`: what a load-balancing, inbound NAT or outbound rule carries.
    TransportProtocol {
        Udp = "Udp",
        Tcp = "Tcp",
        All = "All",
    }
);

azure_enum!(
    /// `ProbeProtocol`: how a health probe asks a backend (docs/semantics/dataplane.md 6.1, \[PROBE\]).
    ProbeProtocol {
        Http = "Http",
        Tcp = "Tcp",
        Https = "Https",
    }
);

azure_enum!(
    /// `VpnType` of a virtual network gateway.
    VpnType {
        PolicyBased = "PolicyBased",
        RouteBased = "RouteBased",
    }
);

azure_enum!(
    /// The `VirtualNetworkGatewaySkuName` values the 2023-09-01 specification lists.
    KnownGatewaySku {
        Basic = "Basic",
        HighPerformance = "HighPerformance",
        Standard = "Standard",
        UltraPerformance = "UltraPerformance",
        VpnGw1 = "VpnGw1",
        VpnGw2 = "VpnGw2",
        VpnGw3 = "VpnGw3",
        VpnGw4 = "VpnGw4",
        VpnGw5 = "VpnGw5",
        VpnGw1AZ = "VpnGw1AZ",
        VpnGw2AZ = "VpnGw2AZ",
        VpnGw3AZ = "VpnGw3AZ",
        VpnGw4AZ = "VpnGw4AZ",
        VpnGw5AZ = "VpnGw5AZ",
        ErGw1AZ = "ErGw1AZ",
        ErGw2AZ = "ErGw2AZ",
        ErGw3AZ = "ErGw3AZ",
        ErGwScale = "ErGwScale",
    }
);

/// A gateway's SKU. The specification's list is open (`modelAsString`): Azure adds SKUs, so a
/// name vnetlab does not know is carried through as written rather than refused.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum GatewaySku {
    Known(KnownGatewaySku),
    Other(String),
}

impl GatewaySku {
    /// Reads a SKU name case-insensitively; an unknown name is kept as [`GatewaySku::Other`].
    pub fn parse(s: &str) -> Self {
        KnownGatewaySku::parse(s)
            .map_or_else(|| GatewaySku::Other(s.to_string()), GatewaySku::Known)
    }

    /// The SKU's name, as the REST API spells a known one.
    pub fn as_str(&self) -> &str {
        match self {
            GatewaySku::Known(k) => k.as_str(),
            GatewaySku::Other(s) => s,
        }
    }

    /// Whether this is the Basic SKU, which has no BGP, no active-active and no gateway transit.
    pub fn is_basic(&self) -> bool {
        *self == GatewaySku::Known(KnownGatewaySku::Basic)
    }
}

impl fmt::Display for GatewaySku {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_is_case_insensitive_and_prints_the_rest_spelling() {
        assert_eq!(
            TransportProtocol::parse("tcp"),
            Some(TransportProtocol::Tcp)
        );
        assert_eq!(TransportProtocol::parse("*"), None);
        assert_eq!(TransportProtocol::expected(), "Udp, Tcp or All");
        assert_eq!(
            VpnType::parse("policybased").map(|v| v.to_string()),
            Some("PolicyBased".into())
        );
        assert_eq!(GatewaySku::parse("vpngw1az").to_string(), "VpnGw1AZ");
        assert_eq!(
            GatewaySku::parse("VpnGw9"),
            GatewaySku::Other("VpnGw9".into())
        );
        assert!(GatewaySku::parse("basic").is_basic());
    }
}
