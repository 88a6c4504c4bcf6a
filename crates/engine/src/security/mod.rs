//! Network security groups (docs/semantics/dataplane.md 1-3): each NSG is expanded for the subnet it is seen
//! from (tags and ASGs to prefixes), compiled once per direction, and evaluated in Azure's
//! order: outbound the NIC NSG then the subnet NSG, inbound the subnet NSG then the NIC NSG.

pub mod classifier;
pub mod connection_tracking;
pub mod default_rules;
pub mod evaluate;
pub mod tables;
pub mod tags;

use classifier::{Classifier, MatchSpec};
use default_rules::DEFAULT_RULES;
use ipnet::Ipv4Net;
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::{
    AddressPrefix, AsgId, Direction, NsgId, Origin, PortRange, Protocol, SecurityRule, SubnetId,
    Topology,
};

/// One rule of an NSG after expansion, in evaluation order.
#[derive(Debug, Clone)]
pub struct ExpandedRule {
    /// `securityRules/<name>` or `defaultSecurityRules/<name>`, as Azure reports it.
    pub name: String,
    /// The rule as written (a default rule as Azure defines it).
    pub written: SecurityRule,
    /// The prefixes behind tags and ASGs, when the field uses any (the `expanded...` outputs).
    pub expanded_source: Option<Vec<Ipv4Net>>,
    pub expanded_destination: Option<Vec<Ipv4Net>>,
    /// The rule names AzurePlatformDNS, AzurePlatformIMDS or AzurePlatformLKM: the only rules
    /// that filter traffic to the platform addresses (docs/semantics/dataplane.md 1.5).
    pub names_platform_tag: bool,
    pub spec: MatchSpec,
}

/// One direction of an NSG, compiled.
#[derive(Debug, Clone)]
pub struct DirectionRules {
    pub rules: Vec<ExpandedRule>,
    classifier: Classifier,
}

impl DirectionRules {
    /// The first rule that matches, by priority (docs/semantics/dataplane.md 1.3).
    pub fn first_match(&self, flow: &crate::flow::FiveTuple) -> Option<&ExpandedRule> {
        self.classifier.first_match(flow).map(|i| &self.rules[i])
    }

    pub fn classifier(&self) -> &Classifier {
        &self.classifier
    }
}

/// An NSG as seen from one subnet: its VirtualNetwork tag is that subnet's (D11).
#[derive(Debug, Clone)]
pub struct CompiledNsg {
    pub nsg: NsgId,
    pub inbound: DirectionRules,
    pub outbound: DirectionRules,
}

impl CompiledNsg {
    pub fn direction(&self, d: Direction) -> &DirectionRules {
        match d {
            Direction::Inbound => &self.inbound,
            Direction::Outbound => &self.outbound,
        }
    }
}

fn ranges(prefixes: &[Ipv4Net]) -> Vec<(u32, u32)> {
    prefixes
        .iter()
        .map(|p| (u32::from(p.network()), u32::from(p.broadcast())))
        .collect()
}

/// Expands one side of a rule: prefixes as written plus ASG members. Returns the match
/// prefixes and, when a tag or ASG is involved, the same list for the `expanded` output.
fn side(
    t: &Topology,
    subnet: SubnetId,
    tags: &ServiceTags,
    written: &[AddressPrefix],
    asgs: &[AsgId],
) -> (Vec<Ipv4Net>, Option<Vec<Ipv4Net>>) {
    let mut out = Vec::new();
    let mut indirect = !asgs.is_empty();
    for p in written {
        match p {
            AddressPrefix::Any => out.push("0.0.0.0/0".parse().expect("constant")),
            AddressPrefix::Cidr(net) => out.push(*net),
            AddressPrefix::Tag(name) => {
                indirect = true;
                out.extend(tags::expand_tag(t, subnet, tags, name).unwrap_or_default());
            }
            AddressPrefix::Ipv6(_) => {}
        }
    }
    for asg in asgs {
        out.extend(tags::asg_members(t, *asg));
    }
    out.sort();
    out.dedup();
    let expanded = indirect.then(|| out.clone());
    (out, expanded)
}

fn port_ranges(ports: &[PortRange]) -> Vec<(u32, u32)> {
    ports
        .iter()
        .map(|p| (u32::from(p.low), u32::from(p.high)))
        .collect()
}

/// A default rule as a written rule (docs/semantics/dataplane.md 1.2).
fn default_rule(d: &default_rules::DefaultRule) -> SecurityRule {
    SecurityRule {
        name: d.name.to_string(),
        priority: d.priority,
        direction: d.direction,
        access: d.access,
        protocol: Protocol::Any,
        source: vec![d.source_prefix()],
        destination: vec![d.destination_prefix()],
        source_ports: vec![PortRange::ALL],
        destination_ports: vec![PortRange::ALL],
        source_asgs: Vec::new(),
        destination_asgs: Vec::new(),
        origin: Origin::default(),
    }
}

/// Expands one rule for the subnet it is seen from.
fn expand(
    t: &Topology,
    subnet: SubnetId,
    tags: &ServiceTags,
    name: String,
    written: SecurityRule,
) -> ExpandedRule {
    let (src, expanded_source) = side(t, subnet, tags, &written.source, &written.source_asgs);
    let (dst, expanded_destination) = side(
        t,
        subnet,
        tags,
        &written.destination,
        &written.destination_asgs,
    );
    let names_platform_tag = written
        .source
        .iter()
        .chain(&written.destination)
        .any(|p| matches!(p, AddressPrefix::Tag(n) if tags::PlatformTag::parse(n).is_some()));
    let spec = MatchSpec {
        sources: ranges(&src),
        destinations: ranges(&dst),
        source_ports: port_ranges(&written.source_ports),
        destination_ports: port_ranges(&written.destination_ports),
        protocol: written.protocol.number(),
    };
    ExpandedRule {
        name,
        written,
        expanded_source,
        expanded_destination,
        names_platform_tag,
        spec,
    }
}

/// Expands and compiles an NSG for the subnet whose traffic it filters: its rules by priority,
/// then the default rules.
pub fn compile(t: &Topology, nsg: NsgId, subnet: SubnetId, tags: &ServiceTags) -> CompiledNsg {
    let n = &t[nsg];
    let mut user: Vec<&SecurityRule> = n.rules.iter().collect();
    user.sort_by_key(|r| r.priority);
    let build = |direction: Direction| {
        let written = user
            .iter()
            .filter(|r| r.direction == direction)
            .map(|r| (format!("securityRules/{}", r.name), (*r).clone()));
        let defaults = DEFAULT_RULES
            .iter()
            .filter(|d| d.direction == direction)
            .map(|d| (format!("defaultSecurityRules/{}", d.name), default_rule(d)));
        let rules: Vec<ExpandedRule> = written
            .chain(defaults)
            .map(|(name, rule)| expand(t, subnet, tags, name, rule))
            .collect();
        let specs: Vec<MatchSpec> = rules.iter().map(|r| r.spec.clone()).collect();
        DirectionRules {
            classifier: Classifier::build(&specs),
            rules,
        }
    };
    CompiledNsg {
        nsg,
        inbound: build(Direction::Inbound),
        outbound: build(Direction::Outbound),
    }
}
