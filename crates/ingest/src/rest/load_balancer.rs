//! Load balancers from the REST shape (docs/semantics/dataplane.md 6.1; loadBalancer.json): frontends (public
//! or private), backend pools, load-balancing rules, inbound NAT rules (inline or as child
//! resources), outbound rules and health probes.

use super::{pick, Builder, Pending, Target};
use crate::value::{at, Reader};
use std::net::Ipv4Addr;
use vnetlab_model::ids::*;
use vnetlab_model::{
    Frontend, HealthProbe, InboundNatRule, LoadBalancer, LoadBalancerSku, LoadBalancingRule,
    OutboundRule, ProbeProtocol, TransportProtocol,
};

/// The index of a child (`.../frontendIPConfigurations/fe1`) by its last segment, matched
/// case-insensitively as Azure matches IDs.
pub(crate) fn child_index(names: &[String], id: &str) -> Option<usize> {
    let last = id.trim_end_matches('/').rsplit('/').next()?;
    names.iter().position(|n| n.eq_ignore_ascii_case(last))
}

/// The inline inbound NAT rules of a load balancer.
fn nat_values<'a>(lb: &'a crate::json::Json<'a>) -> Vec<&'a crate::json::Json<'a>> {
    at(lb, "properties.inboundNatRules")
        .and_then(|v| v.as_array())
        .map(|items| items.iter().collect())
        .unwrap_or_default()
}

pub(super) fn build_load_balancers(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/loadbalancers")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("load balancer");
        let lb_id = LoadBalancerId(b.topo.load_balancers.len() as u32);
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let sku = r.choice("sku.name", "sku.name", LoadBalancerSku::Standard);
        let fe_values = r.array("properties.frontendIPConfigurations");
        let pool_values = r.array("properties.backendAddressPools");
        let rule_values = r.array("properties.loadBalancingRules");
        let outbound_values = r.array("properties.outboundRules");
        let probe_values = r.array("properties.probes");
        let name_of = |v: &crate::json::Json| {
            at(v, "name")
                .and_then(|n| n.as_str())
                .unwrap_or_default()
                .to_string()
        };
        let frontend_names: Vec<String> = fe_values.iter().map(name_of).collect();
        let mut backend_pools: Vec<String> = pool_values.iter().map(name_of).collect();
        // Pools declared as separate child resources.
        for child in b.of_kind("microsoft.network/loadbalancers/backendaddresspools") {
            if child.id.key().starts_with(&format!("{}/", raw.id.key())) {
                backend_pools.push(child.short_name().to_string());
            }
        }
        let mut frontends = Vec::new();
        for (i, fe) in fe_values.iter().enumerate() {
            let base = format!("properties.frontendIPConfigurations[{i}].properties");
            let mut fr = Reader::new(fe, &origin, &mut b.diags);
            let ip = fr.ip("properties.privateIPAddress");
            let is_static = fr
                .str("properties.privateIPAllocationMethod")
                .is_some_and(|m| m.eq_ignore_ascii_case("static"));
            let subnet_ref = fr.reference("properties.subnet");
            let pip_ref = fr.reference("properties.publicIPAddress");
            let subnet = subnet_ref.and_then(|id| {
                b.resolve(
                    &origin,
                    &format!("{base}.subnet.id"),
                    id,
                    "subnet",
                    pick!(Subnet),
                )
            });
            let public_ip = pip_ref.and_then(|id| {
                b.resolve(
                    &origin,
                    &format!("{base}.publicIPAddress.id"),
                    id,
                    "public IP address",
                    pick!(PublicIp),
                )
            });
            let private = subnet.map(|s| {
                (
                    s,
                    if is_static {
                        ip.unwrap_or(Ipv4Addr::UNSPECIFIED)
                    } else {
                        Ipv4Addr::UNSPECIFIED
                    },
                )
            });
            if subnet.is_some() && !is_static {
                b.pending.push(Pending::Frontend {
                    order: raw.order,
                    lb: lb_id,
                    frontend: i,
                });
            }
            frontends.push(Frontend {
                name: frontend_names[i].clone(),
                private,
                public_ip,
            });
        }
        let probe_names: Vec<String> = probe_values.iter().map(name_of).collect();
        let mut probes = Vec::new();
        for (i, probe) in probe_values.iter().enumerate() {
            let mut pr = Reader::new(probe, &origin, &mut b.diags);
            let protocol = pr.choice(
                "properties.protocol",
                &format!("properties.probes[{i}].properties.protocol"),
                ProbeProtocol::Tcp,
            );
            let port = pr
                .u32("properties.port")
                .and_then(|p| u16::try_from(p).ok());
            match port {
                Some(port) => probes.push(HealthProbe {
                    name: probe_names[i].clone(),
                    protocol,
                    port,
                }),
                None => {
                    pr.error(
                        &format!("properties.probes[{i}].properties.port"),
                        "a health probe needs a port (1-65535)",
                    );
                }
            }
        }
        let mut rules = Vec::new();
        for (i, rule) in rule_values.iter().enumerate() {
            let mut rr = Reader::new(rule, &origin, &mut b.diags);
            let base = format!("properties.loadBalancingRules[{i}].properties");
            let fe = rr
                .reference("properties.frontendIPConfiguration")
                .and_then(|id| child_index(&frontend_names, id));
            let pool = rr
                .reference("properties.backendAddressPool")
                .and_then(|id| child_index(&backend_pools, id));
            let protocol = rr.choice(
                "properties.protocol",
                &format!("{base}.protocol"),
                TransportProtocol::Tcp,
            );
            let frontend_port = rr.u32("properties.frontendPort").unwrap_or(0) as u16;
            let backend_port = rr.u32("properties.backendPort").unwrap_or(0) as u16;
            let enable_floating_ip = rr.bool("properties.enableFloatingIP", false);
            let probe = rr
                .reference("properties.probe")
                .and_then(|id| child_index(&probe_names, id));
            match fe {
                Some(frontend) => rules.push(LoadBalancingRule {
                    name: name_of(rule),
                    frontend,
                    backend_pool: pool,
                    protocol,
                    frontend_port,
                    backend_port,
                    enable_floating_ip,
                    probe,
                }),
                None => {
                    b.diags.push(vnetlab_model::Diagnostic::error(&origin, &format!("{base}.frontendIPConfiguration.id"), "the rule's frontendIPConfiguration does not name a frontend of this load balancer"));
                }
            }
        }
        let mut outbound_rules = Vec::new();
        for (i, rule) in outbound_values.iter().enumerate() {
            let mut rr = Reader::new(rule, &origin, &mut b.diags);
            let base = format!("properties.outboundRules[{i}].properties");
            let frontend_ids: Vec<&str> = rr
                .array("properties.frontendIPConfigurations")
                .iter()
                .filter_map(|v| at(v, "id").and_then(|id| id.as_str()))
                .collect();
            let frontends: Vec<usize> = frontend_ids
                .iter()
                .filter_map(|id| child_index(&frontend_names, id))
                .collect();
            let pool = rr
                .reference("properties.backendAddressPool")
                .and_then(|id| child_index(&backend_pools, id));
            let protocol = rr.choice(
                "properties.protocol",
                &format!("{base}.protocol"),
                TransportProtocol::All,
            );
            match pool {
                Some(backend_pool) if !frontends.is_empty() && frontends.len() == frontend_ids.len() => outbound_rules.push(OutboundRule { name: name_of(rule), frontends, backend_pool, protocol }),
                _ => b.diags.push(vnetlab_model::Diagnostic::error(&origin, &base, "an outbound rule needs frontendIPConfigurations and a backendAddressPool of this load balancer")),
            }
        }
        // Inbound NAT rules, inline and as child resources (`lb/rule`).
        let children: Vec<(&crate::json::Json, String, vnetlab_model::Origin)> = b
            .of_kind("microsoft.network/loadbalancers/inboundnatrules")
            .filter(|c| c.id.key().starts_with(&format!("{}/", raw.id.key())))
            .map(|c| {
                (
                    c.object,
                    c.short_name().to_string(),
                    c.origin("inbound NAT rule"),
                )
            })
            .collect();
        let inline_values = nat_values(raw.object);
        // An export declares a rule inline and again as a child: the inline one is kept.
        let children: Vec<_> = children
            .into_iter()
            .filter(|(_, name, _)| {
                !inline_values
                    .iter()
                    .any(|v| name_of(v).eq_ignore_ascii_case(name))
            })
            .collect();
        let inline = inline_values
            .into_iter()
            .map(|v| (v, name_of(v), origin.clone()));
        let mut inbound_nat_rules = Vec::new();
        for (i, (value, name, at_origin)) in inline.chain(children).enumerate() {
            let mut rr = Reader::new(value, &at_origin, &mut b.diags);
            let frontend = rr
                .reference("properties.frontendIPConfiguration")
                .and_then(|id| child_index(&frontend_names, id));
            let protocol = rr.choice(
                "properties.protocol",
                &format!("properties.inboundNatRules[{i}].properties.protocol"),
                TransportProtocol::Tcp,
            );
            let (frontend_port, backend_port) = (
                rr.u32("properties.frontendPort")
                    .and_then(|p| u16::try_from(p).ok()),
                rr.u32("properties.backendPort")
                    .and_then(|p| u16::try_from(p).ok()),
            );
            let enable_floating_ip = rr.bool("properties.enableFloatingIP", false);
            match (frontend, frontend_port, backend_port) {
                (Some(frontend), Some(frontend_port), Some(backend_port)) => inbound_nat_rules.push(InboundNatRule { name, frontend, protocol, frontend_port, backend_port, enable_floating_ip }),
                _ => b.diags.push(vnetlab_model::Diagnostic::error(&at_origin, &format!("properties.inboundNatRules[{i}].properties"), "an inbound NAT rule needs a frontendIPConfiguration of this load balancer, a frontendPort and a backendPort")),
            }
        }
        b.register(raw, Target::LoadBalancer(lb_id));
        b.topo.load_balancers.push(LoadBalancer {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            sku,
            frontends,
            backend_pools,
            rules,
            outbound_rules,
            probes,
            inbound_nat_rules,
            origin,
        });
    }
}
