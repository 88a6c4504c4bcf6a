//! Network interfaces and virtual machines from the REST shape (networkInterface.json;
//! docs/semantics/dataplane.md 4.3, 4.5), and private address allocation: static addresses are claimed
//! first, then dynamic ones take the lowest free address from .4, in input order (D14).

use super::load_balancer::child_index;
use super::{pick, Builder, Pending, Target};
use crate::value::{at, Reader};
use std::collections::HashMap;
use std::net::Ipv4Addr;
use vnetlab_model::addressing::SubnetAllocator;
use vnetlab_model::ids::*;
use vnetlab_model::{
    AllocationMethod, Diagnostic, IpConfiguration, NetworkInterface, VirtualMachine,
};

pub(super) fn build_nics(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/networkinterfaces")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("network interface");
        let nic_id = NicId(b.topo.nics.len() as u32);
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let enable_ip_forwarding = r.bool("properties.enableIPForwarding", false);
        let nsg_ref = r.reference("properties.networkSecurityGroup");
        let configs = r.array("properties.ipConfigurations");
        if configs.is_empty() {
            r.error(
                "properties.ipConfigurations",
                "a network interface needs at least one IP configuration",
            );
        }
        let nsg = nsg_ref.and_then(|id| {
            b.resolve(
                &origin,
                "properties.networkSecurityGroup.id",
                id,
                "network security group",
                pick!(Nsg),
            )
        });
        let mut ip_configurations = Vec::new();
        for (i, cfg) in configs.iter().enumerate() {
            let base = format!("properties.ipConfigurations[{i}].properties");
            let mut cr = Reader::new(cfg, &origin, &mut b.diags);
            let name = at(cfg, "name")
                .and_then(|v| v.as_str())
                .unwrap_or("ipconfig1")
                .to_string();
            let ip = cr.ip("properties.privateIPAddress");
            let method = cr.str("properties.privateIPAllocationMethod");
            // A given address with no method is how exports show static ones.
            let allocation = match method {
                Some(m) if m.eq_ignore_ascii_case("static") => AllocationMethod::Static,
                Some(m) if m.eq_ignore_ascii_case("dynamic") => AllocationMethod::Dynamic,
                Some(m) => {
                    cr.error(
                        "properties.privateIPAllocationMethod",
                        format!("allocation method must be Static or Dynamic, not '{m}'"),
                    );
                    AllocationMethod::Dynamic
                }
                None if ip.is_some() => AllocationMethod::Static,
                None => AllocationMethod::Dynamic,
            };
            if allocation == AllocationMethod::Static && ip.is_none() {
                cr.error(
                    "properties.privateIPAddress",
                    "a Static IP configuration needs privateIPAddress",
                );
            }
            let primary = cr.bool("properties.primary", i == 0);
            let subnet_ref = cr.reference("properties.subnet");
            if subnet_ref.is_none() && cr.get("properties.subnet").is_none() {
                cr.error("properties.subnet", "an IP configuration needs subnet.id");
            }
            let pip_ref = cr.reference("properties.publicIPAddress");
            let asg_refs: Vec<(String, &str)> = cr
                .array("properties.applicationSecurityGroups")
                .iter()
                .enumerate()
                .filter_map(|(j, v)| {
                    at(v, "id")
                        .and_then(|v| v.as_str())
                        .map(|id| (format!("{base}.applicationSecurityGroups[{j}].id"), id))
                })
                .collect();
            let mut refs = |key: &str| -> Vec<(String, String)> {
                cr.array(&format!("properties.{key}"))
                    .iter()
                    .enumerate()
                    .filter_map(|(j, v)| {
                        at(v, "id")
                            .and_then(|v| v.as_str())
                            .map(|id| (format!("{base}.{key}[{j}].id"), id.to_string()))
                    })
                    .collect()
            };
            let (pool_refs, nat_refs) = (
                refs("loadBalancerBackendAddressPools"),
                refs("loadBalancerInboundNatRules"),
            );
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
            let asgs = asg_refs
                .iter()
                .filter_map(|(p, id)| {
                    b.resolve(&origin, p, id, "application security group", pick!(Asg))
                })
                .collect();
            let backend_pools = lb_children(b, &origin, &pool_refs, "backend pool", |lb| {
                lb.backend_pools.clone()
            });
            let inbound_nat_rules = lb_children(b, &origin, &nat_refs, "inbound NAT rule", |lb| {
                lb.inbound_nat_rules
                    .iter()
                    .map(|r| r.name.clone())
                    .collect()
            });
            let Some(subnet) = subnet else { continue };
            if allocation == AllocationMethod::Dynamic {
                b.pending.push(Pending::Nic {
                    order: raw.order,
                    nic: nic_id,
                    config: ip_configurations.len(),
                });
            }
            let private_ip = if allocation == AllocationMethod::Static {
                ip.unwrap_or(Ipv4Addr::UNSPECIFIED)
            } else {
                Ipv4Addr::UNSPECIFIED
            };
            ip_configurations.push(IpConfiguration {
                name,
                subnet,
                private_ip,
                allocation,
                primary,
                public_ip,
                asgs,
                backend_pools,
                inbound_nat_rules,
            });
        }
        if ip_configurations.is_empty() {
            continue;
        }
        b.register(raw, Target::Nic(nic_id));
        b.topo.nics.push(NetworkInterface {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            ip_configurations,
            enable_ip_forwarding,
            nsg,
            vm: None,
            origin,
        });
    }
}

pub(super) fn build_vms(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.compute/virtualmachines")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("virtual machine");
        let vm_id = VmId(b.topo.vms.len() as u32);
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let refs: Vec<(String, &str, bool)> = r
            .array("properties.networkProfile.networkInterfaces")
            .iter()
            .enumerate()
            .filter_map(|(i, v)| {
                let primary = at(v, "properties.primary")
                    .and_then(|p| p.as_bool())
                    .unwrap_or(false);
                at(v, "id").and_then(|v| v.as_str()).map(|id| {
                    (
                        format!("properties.networkProfile.networkInterfaces[{i}].id"),
                        id,
                        primary,
                    )
                })
            })
            .collect();
        let mut nics = Vec::new();
        for (path, id, primary) in refs {
            let Some(nic) = b.resolve(&origin, &path, id, "network interface", pick!(Nic)) else {
                continue;
            };
            if let Some(other) = b.topo[nic].vm {
                let other = b.topo[other].name.clone();
                b.diags.push(Diagnostic::error(
                    &origin,
                    &path,
                    format!(
                        "network interface '{}' is already attached to VM '{other}'",
                        b.topo[nic].name
                    ),
                ));
                continue;
            }
            b.topo[nic].vm = Some(vm_id);
            if primary {
                nics.insert(0, nic)
            } else {
                nics.push(nic)
            }
        }
        b.topo.vms.push(VirtualMachine {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            nics,
            origin,
        });
    }
}

/// Claims gateway instance and static addresses, then hands out dynamic ones (D14).
pub(super) fn allocate_addresses(b: &mut Builder) {
    let mut pools: HashMap<SubnetId, SubnetAllocator> = HashMap::new();
    let topo = &mut b.topo;
    let gateway_subnets: Vec<(SubnetId, Vec<Ipv4Addr>)> = topo
        .gateways
        .iter()
        .filter_map(|g| {
            topo[g.vnet]
                .subnets
                .iter()
                .copied()
                .find(|s| topo[*s].name == "GatewaySubnet")
                .map(|s| (s, g.instance_ips.clone()))
        })
        .collect();
    for (s, ips) in gateway_subnets {
        let prefix = topo[s].prefix;
        for ip in ips {
            alloc_for(&mut pools, s, prefix).claim(ip);
        }
    }
    for nic in &topo.nics {
        for cfg in nic
            .ip_configurations
            .iter()
            .filter(|c| c.allocation == AllocationMethod::Static)
        {
            alloc_for(&mut pools, cfg.subnet, topo[cfg.subnet].prefix).claim(cfg.private_ip);
        }
    }
    for lb in &topo.load_balancers {
        for (subnet, ip) in lb.frontends.iter().filter_map(|f| f.private) {
            if !ip.is_unspecified() {
                alloc_for(&mut pools, subnet, topo[subnet].prefix).claim(ip);
            }
        }
    }
    let mut pending = std::mem::take(&mut b.pending);
    for pe in &topo.private_endpoints {
        if !pe.ip.is_unspecified() {
            alloc_for(&mut pools, pe.subnet, topo[pe.subnet].prefix).claim(pe.ip);
        }
    }
    pending.sort_by_key(|p| match *p {
        Pending::Nic { order, .. }
        | Pending::Frontend { order, .. }
        | Pending::PrivateEndpoint { order, .. } => order,
    });
    for p in pending {
        let (subnet, origin, path) = match p {
            Pending::Nic { nic, config, .. } => {
                let n = &topo[nic];
                (
                    n.ip_configurations[config].subnet,
                    n.origin.clone(),
                    format!("properties.ipConfigurations[{config}].properties.subnet.id"),
                )
            }
            Pending::PrivateEndpoint { endpoint, .. } => {
                let pe = &topo.private_endpoints[endpoint];
                (
                    pe.subnet,
                    pe.origin.clone(),
                    "properties.subnet.id".to_string(),
                )
            }
            Pending::Frontend { lb, frontend, .. } => {
                let l = &topo[lb];
                (
                    l.frontends[frontend]
                        .private
                        .expect("pending frontends are private")
                        .0,
                    l.origin.clone(),
                    format!("properties.frontendIPConfigurations[{frontend}].properties.subnet.id"),
                )
            }
        };
        let prefix = topo[subnet].prefix;
        let Some(ip) = alloc_for(&mut pools, subnet, prefix).allocate() else {
            b.diags.push(
                Diagnostic::error(
                    &origin,
                    &path,
                    format!(
                        "subnet '{}' ({prefix}) has no free address left",
                        topo[subnet].name
                    ),
                )
                .with_hint("Azure reserves five addresses per subnet; use a larger prefix"),
            );
            continue;
        };
        match p {
            Pending::Nic { nic, config, .. } => topo[nic].ip_configurations[config].private_ip = ip,
            Pending::PrivateEndpoint { endpoint, .. } => topo.private_endpoints[endpoint].ip = ip,
            Pending::Frontend { lb, frontend, .. } => {
                if let Some(private) = topo[lb].frontends[frontend].private.as_mut() {
                    private.1 = ip;
                }
            }
        }
    }
}

fn alloc_for(
    pools: &mut HashMap<SubnetId, SubnetAllocator>,
    subnet: SubnetId,
    prefix: ipnet::Ipv4Net,
) -> &mut SubnetAllocator {
    pools
        .entry(subnet)
        .or_insert_with(|| SubnetAllocator::new(prefix))
}

/// References to children of load balancers (backend pools, inbound NAT rules), as
/// (load balancer, index among `names`).
fn lb_children(
    b: &mut Builder,
    origin: &vnetlab_model::Origin,
    refs: &[(String, String)],
    what: &str,
    names: impl Fn(&vnetlab_model::LoadBalancer) -> Vec<String>,
) -> Vec<(vnetlab_model::LoadBalancerId, usize)> {
    refs.iter()
        .filter_map(|(p, id)| {
            let lb_id = vnetlab_model::ResourceId::new(id.as_str()).parent();
            let lb = b.resolve(origin, p, &lb_id, "load balancer", pick!(LoadBalancer))?;
            match child_index(&names(&b.topo[lb]), id) {
                Some(i) => Some((lb, i)),
                None => {
                    b.diags.push(Diagnostic::error(
                        origin,
                        p,
                        format!("reference to a {what} that does not exist: {id}"),
                    ));
                    None
                }
            }
        })
        .collect()
}
