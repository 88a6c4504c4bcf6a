//! Network security groups and their rules (docs/semantics/dataplane.md 1.1-1.2, 1.7; NSGO, ASG): the rule
//! fields with Azure's syntax (priority, direction, access, protocol, single or plural address
//! prefixes and port ranges, service tags, application security groups), parsed once so the
//! engine compiles typed values.

use crate::addressing::parse_cidr;
use crate::diagnostic::Origin;
use crate::ids::AsgId;
use crate::resource_id::ResourceId;
use crate::service_tags::looks_like_tag;
use ipnet::Ipv4Net;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Direction {
    Inbound,
    Outbound,
}

impl Direction {
    pub fn as_str(self) -> &'static str {
        match self {
            Direction::Inbound => "Inbound",
            Direction::Outbound => "Outbound",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Access {
    Allow,
    Deny,
}

impl Access {
    pub fn as_str(self) -> &'static str {
        match self {
            Access::Allow => "Allow",
            Access::Deny => "Deny",
        }
    }
}

/// `SecurityRuleProtocol`: Tcp, Udp, Icmp, Esp, Ah or `*` (every protocol, open question 1 of
/// docs/semantics/dataplane.md 8 resolved as "yes").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
pub enum Protocol {
    Tcp,
    Udp,
    Icmp,
    Esp,
    Ah,
    #[serde(rename = "*")]
    Any,
}

impl Protocol {
    pub fn parse(s: &str) -> Option<Protocol> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            "icmp" => Protocol::Icmp,
            "esp" => Protocol::Esp,
            "ah" => Protocol::Ah,
            "*" | "any" => Protocol::Any,
            _ => return None,
        })
    }

    /// The protocol as the effective-rules output spells it: `*` is `All` (docs/semantics/dataplane.md 2).
    pub fn effective_name(self) -> &'static str {
        match self {
            Protocol::Tcp => "Tcp",
            Protocol::Udp => "Udp",
            Protocol::Icmp => "Icmp",
            Protocol::Esp => "Esp",
            Protocol::Ah => "Ah",
            Protocol::Any => "All",
        }
    }

    /// The IP protocol number, None for `*`.
    pub fn number(self) -> Option<u8> {
        match self {
            Protocol::Tcp => Some(6),
            Protocol::Udp => Some(17),
            Protocol::Icmp => Some(1),
            Protocol::Esp => Some(50),
            Protocol::Ah => Some(51),
            Protocol::Any => None,
        }
    }

    /// Whether the protocol has ports (rules on other protocols ignore the port fields).
    pub fn has_ports(number: u8) -> bool {
        number == 6 || number == 17
    }
}

/// One entry of a rule's source or destination.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum AddressPrefix {
    /// `*` (or `Any`).
    Any,
    Cidr(Ipv4Net),
    /// A service tag: `VirtualNetwork`, `Internet`, `Storage.JapanEast`, ...
    Tag(String),
    /// An IPv6 prefix of a dual-stack rule; it never matches the IPv4 traffic vnetlab models.
    Ipv6(String),
}

impl AddressPrefix {
    /// Parses `*`, an address, a CIDR or a tag name.
    pub fn parse(s: &str) -> Result<AddressPrefix, (String, Option<String>)> {
        let t = s.trim();
        if t == "*" || t.eq_ignore_ascii_case("any") {
            return Ok(AddressPrefix::Any);
        }
        if t.contains(':') {
            return Ok(AddressPrefix::Ipv6(t.to_string()));
        }
        if looks_like_tag(t) {
            return Ok(AddressPrefix::Tag(t.to_string()));
        }
        parse_cidr(t).map(AddressPrefix::Cidr)
    }
}

impl fmt::Display for AddressPrefix {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddressPrefix::Any => f.write_str("*"),
            AddressPrefix::Cidr(n) if n.prefix_len() == 32 => write!(f, "{}", n.addr()),
            AddressPrefix::Cidr(n) => write!(f, "{n}"),
            AddressPrefix::Tag(t) | AddressPrefix::Ipv6(t) => f.write_str(t),
        }
    }
}

/// An inclusive port range; `*` is 0-65535.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct PortRange {
    pub low: u16,
    pub high: u16,
}

impl PortRange {
    pub const ALL: PortRange = PortRange {
        low: 0,
        high: 65535,
    };

    /// Parses `*`, `80` or `10000-10005` (NSGO).
    pub fn parse(s: &str) -> Result<PortRange, (String, Option<String>)> {
        let t = s.trim();
        if t == "*" {
            return Ok(PortRange::ALL);
        }
        let hint = Some(
            "write a port (80), a range (10000-10005) or *; give several as a list".to_string(),
        );
        let port = |p: &str| {
            p.trim()
                .parse::<u16>()
                .map_err(|_| (format!("'{s}' is not a port or port range"), hint.clone()))
        };
        let range = match t.split_once('-') {
            Some((a, b)) => PortRange {
                low: port(a)?,
                high: port(b)?,
            },
            None => {
                let p = port(t)?;
                PortRange { low: p, high: p }
            }
        };
        if range.low > range.high {
            return Err((format!("port range '{s}' ends before it starts"), hint));
        }
        Ok(range)
    }

    pub fn contains(self, port: u16) -> bool {
        self.low <= port && port <= self.high
    }
}

impl fmt::Display for PortRange {
    /// The effective-rules spelling: `80-80`, `0-65535` (docs/semantics/dataplane.md 2).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.low, self.high)
    }
}

#[derive(Debug, Clone, Hash)]
pub struct SecurityRule {
    pub name: String,
    pub priority: u32,
    pub direction: Direction,
    pub access: Access,
    pub protocol: Protocol,
    pub source: Vec<AddressPrefix>,
    pub destination: Vec<AddressPrefix>,
    pub source_ports: Vec<PortRange>,
    pub destination_ports: Vec<PortRange>,
    pub source_asgs: Vec<AsgId>,
    pub destination_asgs: Vec<AsgId>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash)]
pub struct NetworkSecurityGroup {
    pub id: ResourceId,
    pub name: String,
    pub rules: Vec<SecurityRule>,
    pub origin: Origin,
}

#[derive(Debug, Clone, Hash)]
pub struct ApplicationSecurityGroup {
    pub id: ResourceId,
    pub name: String,
    pub origin: Origin,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports() {
        assert_eq!(PortRange::parse("*").unwrap(), PortRange::ALL);
        assert_eq!(PortRange::parse("3389").unwrap().to_string(), "3389-3389");
        assert_eq!(
            PortRange::parse("10000-10005").unwrap(),
            PortRange {
                low: 10000,
                high: 10005
            }
        );
        assert!(PortRange::parse("80-70")
            .unwrap_err()
            .0
            .contains("ends before it starts"));
        assert!(PortRange::parse("65536").is_err());
        assert!(PortRange::parse("80,443").is_err());
    }

    #[test]
    fn prefixes() {
        assert_eq!(AddressPrefix::parse("*").unwrap(), AddressPrefix::Any);
        assert_eq!(
            AddressPrefix::parse("Storage.JapanEast").unwrap(),
            AddressPrefix::Tag("Storage.JapanEast".into())
        );
        assert_eq!(
            AddressPrefix::parse("10.0.0.4").unwrap().to_string(),
            "10.0.0.4"
        );
        assert!(AddressPrefix::parse("10.0.0.4/24")
            .unwrap_err()
            .0
            .contains("host bits"));
        assert!(AddressPrefix::parse("10.0.0/24").is_err());
    }
}
