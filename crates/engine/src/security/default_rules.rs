//! The six default security rules of every NSG, exactly as Azure names, orders and describes
//! them (docs/semantics/dataplane.md 1.2; \[SPEC\] DefaultSecurityRuleList.json). They cannot be deleted, only
//! overridden by rules of lower priority number.

use vnetlab_model::{Access, AddressPrefix, Direction};

pub struct DefaultRule {
    pub name: &'static str,
    pub direction: Direction,
    pub priority: u32,
    pub source: &'static str,
    pub destination: &'static str,
    pub access: Access,
    pub description: &'static str,
}

pub const DEFAULT_RULES: [DefaultRule; 6] = [
    DefaultRule {
        name: "AllowVnetInBound",
        direction: Direction::Inbound,
        priority: 65000,
        source: "VirtualNetwork",
        destination: "VirtualNetwork",
        access: Access::Allow,
        description: "Allow inbound traffic from all VMs in VNET",
    },
    DefaultRule {
        name: "AllowAzureLoadBalancerInBound",
        direction: Direction::Inbound,
        priority: 65001,
        source: "AzureLoadBalancer",
        destination: "*",
        access: Access::Allow,
        description: "Allow inbound traffic from azure load balancer",
    },
    DefaultRule {
        name: "DenyAllInBound",
        direction: Direction::Inbound,
        priority: 65500,
        source: "*",
        destination: "*",
        access: Access::Deny,
        description: "Deny all inbound traffic",
    },
    DefaultRule {
        name: "AllowVnetOutBound",
        direction: Direction::Outbound,
        priority: 65000,
        source: "VirtualNetwork",
        destination: "VirtualNetwork",
        access: Access::Allow,
        description: "Allow outbound traffic from all VMs to all VMs in VNET",
    },
    DefaultRule {
        name: "AllowInternetOutBound",
        direction: Direction::Outbound,
        priority: 65001,
        source: "*",
        destination: "Internet",
        access: Access::Allow,
        description: "Allow outbound traffic from all VMs to Internet",
    },
    DefaultRule {
        name: "DenyAllOutBound",
        direction: Direction::Outbound,
        priority: 65500,
        source: "*",
        destination: "*",
        access: Access::Deny,
        description: "Deny all outbound traffic",
    },
];

impl DefaultRule {
    pub fn source_prefix(&self) -> AddressPrefix {
        AddressPrefix::parse(self.source).expect("constant")
    }
    pub fn destination_prefix(&self) -> AddressPrefix {
        AddressPrefix::parse(self.destination).expect("constant")
    }
}
