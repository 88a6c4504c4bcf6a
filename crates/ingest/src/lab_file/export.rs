//! The reverse of the lab file reader: writes a loaded topology (from any input format) as a
//! YAML lab file that reads back into the same effective routes and NSG answers.
//!
//! It builds the lab file's own types (`schema`, which the reader reads) and serde-saphyr
//! writes them and does the quoting. Every address the reader would otherwise allocate is written
//! explicitly: NIC private addresses (so dynamic allocation cannot differ) and public IP
//! addresses. What the model holds but the lab file cannot say is listed in a leading comment.

use super::names;
use super::schema::{
    At, Gateway, GatewayBgp, Lab, LbFrontend, LbNatRule, LbOutboundRule, LbProbe, LbRule,
    LoadBalancer, Named, NatGateway, NextHop, Nic, Nsg, OneOrMany, Peering, PublicIp,
    PublicIpChoice, Route, RouteTable, Rule, ServiceEndpoint, ShortOr, Site, SiteBgp, Subnet, Vm,
    Vnet,
};
use std::collections::{HashMap, HashSet};
use vnetlab_model::ids::{GatewayId, PublicIpId, VnetId};
use vnetlab_model::{AddressPrefix, ConnectionKind, NextHopType, PortRange, RoutePrefix, Topology};

/// The ASN Azure gives a gateway when none is set (the lab file's default too).
const DEFAULT_ASN: u32 = 65515;

const UNIQUE: &str = "names are unique in a lab file";

/// Values made for the file, without positions.
fn at_all(values: impl IntoIterator<Item = String>) -> Vec<At<String>> {
    values.into_iter().map(At::from).collect()
}

/// Writes the topology as a lab file. Anything the lab file cannot express is named in a
/// leading `# not expressible in the lab file:` comment.
pub fn to_yaml(t: &Topology) -> String {
    let mut e = Exporter::new(t);
    let lab = e.lab();
    let mut options = serde_saphyr::SerializerOptions::default();
    // Long names stay plain scalars rather than folded blocks.
    options.prefer_block_scalars = false;
    let body = serde_saphyr::to_string_with_options(&lab, options)
        .expect("the lab file's types always serialize");
    let mut out =
        String::from("# vnetlab lab file written from a loaded topology (vnetlab import).\n");
    let comment = |out: &mut String, line: &str| {
        let one_line: String = line
            .chars()
            .map(|c| if c.is_control() { ' ' } else { c })
            .collect();
        out.push_str(&format!("#   - {one_line}\n"));
    };
    if !e.notes.is_empty() || !e.renames.is_empty() {
        out.push_str("# not expressible in the lab file:\n");
        e.notes.iter().for_each(|n| comment(&mut out, n));
        if !e.renames.is_empty() {
            out.push_str("#   names the lab file derives or must keep unique:\n");
            e.renames.iter().for_each(|n| comment(&mut out, n));
        }
    }
    out.push_str(&body);
    out
}

/// Names unique within one kind of resource, case-insensitively (as the reader matches them).
#[derive(Default)]
struct NameSet(HashSet<String>);

impl NameSet {
    fn taken(&self, name: &str) -> bool {
        self.0.contains(&name.to_ascii_lowercase())
    }

    /// `name`, or `name-2`, `name-3`, ... when it is taken.
    fn claim(&mut self, name: &str) -> String {
        let mut candidate = name.to_string();
        let mut k = 2;
        while self.taken(&candidate) {
            candidate = format!("{name}-{k}");
            k += 1;
        }
        self.0.insert(candidate.to_ascii_lowercase());
        candidate
    }
}

struct Exporter<'t> {
    t: &'t Topology,
    notes: Vec<String>,
    renames: Vec<String>,
    vnet_names: Vec<String>,
    route_table_names: Vec<String>,
    nsg_names: Vec<String>,
    asg_names: Vec<String>,
    nat_names: Vec<String>,
    pip_names: Vec<String>,
    /// The gateway written for each VNet: the first one of the model.
    vnet_gateway: HashMap<VnetId, GatewayId>,
    gateway_names: HashMap<GatewayId, String>,
}

impl<'t> Exporter<'t> {
    fn new(t: &'t Topology) -> Self {
        let mut e = Exporter {
            t,
            notes: Vec::new(),
            renames: Vec::new(),
            vnet_names: Vec::new(),
            route_table_names: Vec::new(),
            nsg_names: Vec::new(),
            asg_names: Vec::new(),
            nat_names: Vec::new(),
            pip_names: Vec::new(),
            vnet_gateway: HashMap::new(),
            gateway_names: HashMap::new(),
        };
        e.vnet_names = e.unique("virtual network", t.vnets.iter().map(|v| v.name.as_str()));
        e.route_table_names = e.unique(
            "route table",
            t.route_tables.iter().map(|r| r.name.as_str()),
        );
        e.nsg_names = e.unique(
            "network security group",
            t.nsgs.iter().map(|n| n.name.as_str()),
        );
        e.asg_names = e.unique(
            "application security group",
            t.asgs.iter().map(|a| a.name.as_str()),
        );
        e.nat_names = e.unique(
            "NAT gateway",
            t.nat_gateways.iter().map(|n| n.name.as_str()),
        );
        e.plan_gateways();
        e
    }

    /// Something the lab file cannot hold: dropped or changed.
    fn note(&mut self, s: String) {
        self.notes.push(s);
    }

    /// A name the lab file cannot keep (it derives it, or names must be unique).
    fn rename(&mut self, what: String, to: &str, why: &str) {
        let why = if why.is_empty() {
            String::new()
        } else {
            format!(" ({why})")
        };
        self.renames
            .push(format!("{what} is written as '{to}'{why}"));
    }

    /// Export names for one kind of resource: duplicates (the same name in two resource groups)
    /// get a suffix, since the lab file names every resource once.
    fn unique<'a>(&mut self, kind: &str, names: impl Iterator<Item = &'a str>) -> Vec<String> {
        let mut set = NameSet::default();
        names
            .map(|n| {
                let out = set.claim(n);
                if out != n {
                    self.rename(format!("the second {kind} named '{n}'"), &out, UNIQUE);
                }
                out
            })
            .collect()
    }

    /// One gateway per VNet; its public IPs are named `<gateway>-pip` and `<gateway>-pip2`.
    fn plan_gateways(&mut self) {
        let t = self.t;
        let mut gateway_set = NameSet::default();
        // Public IP names the lab file derives from the gateways', with the public IP each takes.
        let mut reserved: Vec<(String, Option<PublicIpId>)> = Vec::new();
        for (gi, g) in t.gateways.iter().enumerate() {
            let gi = GatewayId(gi as u32);
            if let Some(&first) = self.vnet_gateway.get(&g.vnet) {
                self.note(format!(
                    "gateway '{}': a lab file VNet has one gateway, so only '{}' of VNet '{}' is written (with its connections)",
                    g.name, t[first].name, t[g.vnet].name
                ));
                continue;
            }
            self.vnet_gateway.insert(g.vnet, gi);
            let name = gateway_set.claim(&g.name);
            if name != g.name {
                self.rename(
                    format!("the second gateway named '{}'", g.name),
                    &name,
                    UNIQUE,
                );
            }
            let wanted = names::gateway_public_ips(&name, g.active_active);
            for (k, pip_name) in wanted.iter().enumerate() {
                match g.public_ips.get(k) {
                    Some(p) => reserved.push((pip_name.clone(), Some(*p))),
                    None => {
                        reserved.push((pip_name.clone(), None));
                        self.note(format!("gateway '{}' has no public IP {}; the lab file gives it '{pip_name}' with an allocated address", g.name, k + 1));
                    }
                }
            }
            for p in g.public_ips.iter().skip(wanted.len()) {
                self.note(format!("public IP '{}' of gateway '{}': the lab file gives a gateway {} public IP(s), so it is written unattached", t[*p].name, g.name, wanted.len()));
            }
            self.gateway_names.insert(gi, name);
        }
        // Public IP names: a gateway's take the derived names, the others keep theirs.
        let mut set = NameSet::default();
        for (n, _) in &reserved {
            set.claim(n);
        }
        let by_pip: HashMap<PublicIpId, String> = reserved
            .iter()
            .filter_map(|(n, p)| p.map(|p| (p, n.clone())))
            .collect();
        let mut names = Vec::new();
        for (i, p) in t.public_ips.iter().enumerate() {
            let i = PublicIpId(i as u32);
            let out = match by_pip.get(&i) {
                Some(n) => n.clone(),
                None => set.claim(&p.name),
            };
            if out != p.name {
                let why = if by_pip.contains_key(&i) {
                    "the lab file names a gateway's public IPs after the gateway"
                } else {
                    "its name is taken"
                };
                self.rename(format!("public IP '{}'", p.name), &out, why);
            }
            names.push(out);
        }
        self.pip_names = names;
    }

    fn lab(&mut self) -> Lab {
        let t = self.t;
        let location = most_common_location(t);
        let mut lab = Lab {
            location: location.clone(),
            vnets: Named::default(),
            vms: Named::default(),
            route_tables: Named::default(),
            nsgs: Named::default(),
            asgs: at_all(self.asg_names.clone()),
            public_ips: Named::default(),
            nat_gateways: Named::default(),
            load_balancers: Named::default(),
            sites: Named::default(),
        };
        let mut subnets: Vec<Subnet> = t
            .subnets
            .iter()
            .enumerate()
            .map(|(i, _)| self.subnet(i))
            .collect();
        self.machines(&mut lab, &mut subnets);
        let mut subnets: Vec<Option<Subnet>> = subnets.into_iter().map(Some).collect();
        for (vi, v) in t.vnets.iter().enumerate() {
            let name = self.vnet_names[vi].clone();
            if v.address_space.is_empty() {
                self.note(format!(
                    "VNet '{}' has no address range; the lab file requires one",
                    v.name
                ));
            }
            let mut out = Vnet {
                address_space: at_all(v.address_space.iter().map(|p| p.to_string())).into(),
                location: (v.location != location).then(|| v.location.clone()),
                gateway: self
                    .vnet_gateway
                    .get(&VnetId(vi as u32))
                    .copied()
                    .map(|g| self.gateway(g).into()),
                subnets: Named::default(),
                peerings: Named::default(),
            };
            for s in &v.subnets {
                let Some(full) = subnets[s.index()].take() else {
                    continue;
                };
                let short = full.route_table.is_none()
                    && full.nsg.is_none()
                    && full.nat_gateway.is_none()
                    && full.service_endpoints.is_empty()
                    && full.default_outbound_access.is_none()
                    && full.vms.is_empty();
                let value = if short {
                    ShortOr::Short(full.prefix.value)
                } else {
                    ShortOr::Full(full)
                };
                out.subnets.push(t.subnet(*s).name.clone(), value.into());
            }
            let mut remotes = HashSet::new();
            for p in v.peerings.iter().map(|p| &t[*p]) {
                let remote = self.vnet_names[p.remote.index()].clone();
                if !remotes.insert(remote.to_ascii_lowercase()) {
                    self.note(format!("peering '{}' of VNet '{}': a second peering to VNet '{}' cannot be written (peerings are keyed by the remote VNet)", p.name, v.name, t[p.remote].name));
                    continue;
                }
                let derived = names::peering(&name, &remote);
                if p.name != derived {
                    self.rename(
                        format!("peering '{}' of VNet '{}'", p.name, v.name),
                        &derived,
                        "",
                    );
                }
                out.peerings.push(
                    remote,
                    Peering {
                        allow_virtual_network_access: p.allow_virtual_network_access,
                        allow_forwarded_traffic: p.allow_forwarded_traffic,
                        allow_gateway_transit: p.allow_gateway_transit,
                        use_remote_gateways: p.use_remote_gateways,
                    },
                );
            }
            lab.vnets.push(name, out);
        }
        for (i, rt) in t.route_tables.iter().enumerate() {
            lab.route_tables
                .push(self.route_table_names[i].clone(), self.route_table(rt));
        }
        for (i, nsg) in t.nsgs.iter().enumerate() {
            let rules = nsg.rules.iter().map(|r| self.rule(r).into()).collect();
            lab.nsgs.push(self.nsg_names[i].clone(), Nsg { rules });
        }
        for (i, p) in t.public_ips.iter().enumerate() {
            lab.public_ips.push(
                self.pip_names[i].clone(),
                PublicIp {
                    address: Some(p.address.to_string().into()),
                    sku: p.sku,
                },
            );
        }
        for (i, n) in t.nat_gateways.iter().enumerate() {
            let public_ips = at_all(
                n.public_ips
                    .iter()
                    .map(|p| self.pip_names[p.index()].clone()),
            );
            lab.nat_gateways
                .push(self.nat_names[i].clone(), NatGateway { public_ips });
        }
        for lb in &t.load_balancers {
            lab.load_balancers
                .push(lb.name.clone(), self.load_balancer(lb));
        }
        lab.sites = self.sites();
        self.unexpressible();
        lab
    }

    fn load_balancer(&self, lb: &vnetlab_model::LoadBalancer) -> LoadBalancer {
        let t = self.t;
        let fe = |i: usize| At::from(lb.frontends[i].name.clone());
        let mut frontends = Named::default();
        for f in &lb.frontends {
            let (subnet, ip) = match f.private {
                Some((s, ip)) => (
                    Some(
                        format!(
                            "{}/{}",
                            self.vnet_names[t.subnet(s).vnet.index()],
                            t.subnet(s).name
                        )
                        .into(),
                    ),
                    Some(ip.to_string().into()),
                ),
                None => (None, None),
            };
            frontends.push(
                f.name.clone(),
                LbFrontend {
                    public_ip: f
                        .public_ip
                        .map(|p| self.pip_names[p.index()].clone().into()),
                    subnet,
                    ip,
                },
            );
        }
        let mut probes = Named::default();
        for p in &lb.probes {
            probes.push(
                p.name.clone(),
                LbProbe {
                    protocol: p.protocol.to_string(),
                    port: p.port,
                },
            );
        }
        let mut rules = Named::default();
        for r in &lb.rules {
            let pool = r
                .backend_pool
                .map(|p| lb.backend_pools[p].clone())
                .unwrap_or_default();
            let probe = r.probe.map(|p| lb.probes[p].name.clone().into());
            rules.push(
                r.name.clone(),
                LbRule {
                    frontend: fe(r.frontend),
                    pool: pool.into(),
                    protocol: r.protocol.to_string(),
                    frontend_port: r.frontend_port,
                    backend_port: r.backend_port,
                    probe,
                    floating_ip: r.enable_floating_ip,
                },
            );
        }
        let mut outbound_rules = Named::default();
        for r in &lb.outbound_rules {
            outbound_rules.push(
                r.name.clone(),
                LbOutboundRule {
                    frontends: r.frontends.iter().map(|f| fe(*f)).collect(),
                    pool: lb.backend_pools[r.backend_pool].clone().into(),
                    protocol: r.protocol.to_string(),
                },
            );
        }
        let mut inbound_nat_rules = Named::default();
        for r in &lb.inbound_nat_rules {
            inbound_nat_rules.push(
                r.name.clone(),
                LbNatRule {
                    frontend: fe(r.frontend),
                    protocol: r.protocol.to_string(),
                    frontend_port: r.frontend_port,
                    backend_port: r.backend_port,
                    floating_ip: r.enable_floating_ip,
                },
            );
        }
        LoadBalancer {
            sku: lb.sku.to_string(),
            frontends,
            pools: at_all(lb.backend_pools.clone()),
            probes,
            rules,
            outbound_rules,
            inbound_nat_rules,
        }
    }

    fn subnet(&mut self, i: usize) -> Subnet {
        let t = self.t;
        let s = &t.subnets[i];
        if s.private_endpoint_route_policies {
            self.note(format!(
                "subnet '{}/{}': privateEndpointNetworkPolicies (route tables may override its private endpoints' routes) is dropped",
                t[s.vnet].name, s.name
            ));
        }
        Subnet {
            prefix: s.prefix.to_string().into(),
            route_table: s
                .route_table
                .map(|r| self.route_table_names[r.index()].clone().into()),
            nsg: s.nsg.map(|n| self.nsg_names[n.index()].clone().into()),
            nat_gateway: s
                .nat_gateway
                .map(|n| self.nat_names[n.index()].clone().into()),
            service_endpoints: s
                .service_endpoints
                .iter()
                .map(|e| {
                    if e.locations.is_empty() {
                        ShortOr::Short(e.service.clone())
                    } else {
                        ShortOr::Full(ServiceEndpoint {
                            service: e.service.clone(),
                            locations: e.locations.clone(),
                        })
                    }
                })
                .collect(),
            default_outbound_access: (!s.default_outbound_access).then_some(false),
            vms: Named::default(),
        }
    }

    /// VMs with one NIC go under their subnet (NIC `<vm>-nic`), the others in `vms`
    /// (`<vm>-nic0`, ...).
    fn machines(&mut self, lab: &mut Lab, subnets: &mut [Subnet]) {
        let t = self.t;
        let mut vm_set = NameSet::default();
        for vm in &t.vms {
            let name = vm_set.claim(&vm.name);
            if name != vm.name {
                self.rename(format!("the second VM named '{}'", vm.name), &name, UNIQUE);
            }
            if vm.nics.is_empty() {
                self.note(format!(
                    "VM '{}' has no network interface; the lab file requires one, so it is dropped",
                    vm.name
                ));
                continue;
            }
            let single = vm.nics.len() == 1 && t.nic(vm.nics[0]).name != names::vm_nic(&name, 0);
            let derived = |k: usize| {
                if single {
                    names::subnet_vm_nic(&name)
                } else {
                    names::vm_nic(&name, k)
                }
            };
            for (k, nic) in vm.nics.iter().enumerate() {
                let n = t.nic(*nic);
                if n.name != derived(k) {
                    self.rename(
                        format!("network interface '{}' of VM '{}'", n.name, vm.name),
                        &derived(k),
                        "",
                    );
                }
            }
            if single {
                let nic = self.nic(vm.nics[0], false);
                let subnet = t.nic(vm.nics[0]).primary_ip_configuration().subnet;
                subnets[subnet.index()].vms.push(name, nic.into());
            } else {
                let nics = vm.nics.iter().map(|n| self.nic(*n, true).into()).collect();
                lab.vms.push(name, Vm { nics });
            }
        }
        // A NIC without a VM is written with a VM of its own, so its routes and rules are kept.
        for (i, n) in t.nics.iter().enumerate().filter(|(_, n)| n.vm.is_none()) {
            let base = n
                .name
                .strip_suffix("-nic")
                .filter(|b| !b.is_empty())
                .unwrap_or(&n.name);
            let name = vm_set.claim(base);
            self.note(format!("network interface '{}' is not attached to a VM; the lab file declares NICs with their VMs, so it is written with a new VM '{name}'", n.name));
            let derived = names::subnet_vm_nic(&name);
            if n.name != derived {
                self.rename(format!("network interface '{}'", n.name), &derived, "");
            }
            let nic = self.nic(vnetlab_model::NicId(i as u32), false);
            subnets[n.primary_ip_configuration().subnet.index()]
                .vms
                .push(name, nic.into());
        }
    }

    fn nic(&mut self, id: vnetlab_model::NicId, with_subnet: bool) -> Nic {
        let t = self.t;
        let n = t.nic(id);
        let cfg = n.primary_ip_configuration();
        let others: Vec<String> = n
            .ip_configurations
            .iter()
            .filter(|c| !std::ptr::eq(*c, cfg))
            .map(|c| format!("{} ({})", c.name, c.private_ip))
            .collect();
        if !others.is_empty() {
            self.note(format!("network interface '{}': the lab file gives a NIC one IP configuration, so {} is dropped", n.name, others.join(", ")));
        }
        let s = t.subnet(cfg.subnet);
        Nic {
            subnet: with_subnet
                .then(|| format!("{}/{}", self.vnet_names[s.vnet.index()], s.name).into()),
            ip: Some(cfg.private_ip.to_string().into()),
            ip_forwarding: n.enable_ip_forwarding,
            public_ip: cfg
                .public_ip
                .map(|p| PublicIpChoice::Name(self.pip_names[p.index()].clone()).into()),
            nsg: n.nsg.map(|g| self.nsg_names[g.index()].clone().into()),
            asgs: at_all(cfg.asgs.iter().map(|a| self.asg_names[a.index()].clone())),
            lb_pools: at_all(
                cfg.backend_pools
                    .iter()
                    .map(|(lb, p)| format!("{}/{}", t[*lb].name, t[*lb].backend_pools[*p])),
            ),
            lb_nat_rules: at_all(
                cfg.inbound_nat_rules.iter().map(|(lb, r)| {
                    format!("{}/{}", t[*lb].name, t[*lb].inbound_nat_rules[*r].name)
                }),
            ),
        }
    }

    fn gateway(&mut self, gi: GatewayId) -> Gateway {
        let g = &self.t[gi];
        let name = self.gateway_names[&gi].clone();
        let vnet = self.vnet_names[g.vnet.index()].clone();
        if !g.enable_bgp && g.asn != DEFAULT_ASN {
            self.note(format!(
                "gateway '{}': ASN {} without BGP (the lab file sets an ASN only with `bgp`)",
                g.name, g.asn
            ));
        }
        Gateway {
            name: (name != names::gateway(&vnet)).then_some(name),
            kind: g.gateway_type,
            sku: g.sku.to_string(),
            vpn_type: g.vpn_type,
            active_active: g.active_active,
            bgp: g.enable_bgp.then_some(GatewayBgp { asn: g.asn }),
            default_site: g.default_site.map(|s| self.t[s].name.clone()),
        }
    }

    fn route_table(&mut self, rt: &vnetlab_model::RouteTable) -> RouteTable {
        let mut routes = Named::default();
        for r in &rt.routes {
            let next_hop = match r.next_hop_type {
                NextHopType::VirtualAppliance => NextHop::VirtualAppliance,
                NextHopType::VirtualNetworkGateway => NextHop::VirtualNetworkGateway,
                NextHopType::VnetLocal => NextHop::VnetLocal,
                NextHopType::Internet => NextHop::Internet,
                NextHopType::None => NextHop::None,
                other => {
                    self.note(format!("route '{}' of route table '{}': next hop type {other} is not allowed in a user route", r.name, rt.name));
                    continue;
                }
            };
            let prefix = match &r.prefix {
                RoutePrefix::Cidr(net) => net.to_string(),
                RoutePrefix::ServiceTag(tag) => tag.clone(),
            };
            routes.push(
                r.name.clone(),
                Route {
                    prefix: prefix.into(),
                    next_hop: next_hop.into(),
                    ip: r.next_hop_ip.map(|ip| ip.to_string().into()),
                },
            );
        }
        RouteTable {
            disable_bgp_route_propagation: rt.disable_bgp_route_propagation,
            routes,
        }
    }

    fn rule(&self, r: &vnetlab_model::SecurityRule) -> Rule {
        // An omitted address means `*` unless ASGs are given, so the side is written whenever
        // it differs from what omitting it would read as.
        let addresses = |list: &[AddressPrefix], asgs: bool| -> Option<At<OneOrMany>> {
            let written = match list {
                [] if asgs => return None,
                [AddressPrefix::Any] if !asgs => return None,
                [one] => OneOrMany::One(one.to_string()),
                many => OneOrMany::Many(many.iter().map(|p| p.to_string()).collect()),
            };
            Some(written.into())
        };
        let ports = |list: &[PortRange]| -> Option<At<OneOrMany>> {
            let text = |p: &PortRange| match *p {
                PortRange::ALL => "*".to_string(),
                PortRange { low, high } if low == high => low.to_string(),
                PortRange { low, high } => format!("{low}-{high}"),
            };
            let written = match list {
                [PortRange::ALL] => return None,
                [one] => OneOrMany::One(text(one)),
                many => OneOrMany::Many(many.iter().map(text).collect()),
            };
            Some(written.into())
        };
        let asgs = |list: &[vnetlab_model::AsgId]| {
            at_all(list.iter().map(|a| self.asg_names[a.index()].clone()))
        };
        Rule {
            name: r.name.clone(),
            priority: r.priority.into(),
            direction: r.direction,
            access: r.access,
            protocol: r.protocol,
            source: addresses(&r.source, !r.source_asgs.is_empty()),
            source_ports: ports(&r.source_ports),
            destination: addresses(&r.destination, !r.destination_asgs.is_empty()),
            destination_ports: ports(&r.destination_ports),
            source_asgs: asgs(&r.source_asgs),
            destination_asgs: asgs(&r.destination_asgs),
        }
    }

    /// Each site is a local network gateway with its one IPsec connection `<site>-connection`
    /// to the gateway of `connect_to`; BGP on the connection goes with the site's `bgp`.
    fn sites(&mut self) -> Named<Site> {
        let t = self.t;
        let mut sites = Named::default();
        let mut set = NameSet::default();
        let written_gateway: HashSet<GatewayId> = self.vnet_gateway.values().copied().collect();
        let mut used = vec![false; t.connections.len()];
        for (li, lng) in t.local_gateways.iter().enumerate() {
            let connection = t.connections.iter().enumerate().find(|(ci, c)| {
                !used[*ci] && written_gateway.contains(&c.gateway) && matches!(c.kind, ConnectionKind::IPsec { local_gateway } if local_gateway.index() == li)
            });
            let Some((ci, c)) = connection else {
                self.note(format!("local network gateway '{}' has no IPsec connection to a written gateway; a site needs `connect_to`, so it is dropped", lng.name));
                continue;
            };
            used[ci] = true;
            let name = set.claim(&lng.name);
            if name != lng.name {
                self.rename(
                    format!("the second local network gateway named '{}'", lng.name),
                    &name,
                    UNIQUE,
                );
            }
            let derived = names::connection(&name);
            if c.name != derived {
                self.rename(format!("connection '{}'", c.name), &derived, "");
            }
            let bgp = match (&lng.bgp, c.enable_bgp) {
                (Some(peer), true) => Some(SiteBgp {
                    asn: peer.asn.into(),
                    peer_ip: peer.peering_address.to_string().into(),
                    advertises: at_all(lng.bgp_advertised.iter().map(|p| p.to_string())),
                }),
                (Some(_), false) => {
                    self.note(format!("local network gateway '{}': its BGP settings are dropped, since its connection '{}' does not run BGP", lng.name, c.name));
                    None
                }
                (None, true) => {
                    self.note(format!("connection '{}' runs BGP, but local network gateway '{}' has no BGP settings (ASN, peer address); BGP is dropped", c.name, lng.name));
                    None
                }
                (None, false) => None,
            };
            if bgp.is_none() && !lng.bgp_advertised.is_empty() {
                self.note(format!(
                    "local network gateway '{}': its BGP-advertised prefixes are dropped (no BGP)",
                    lng.name
                ));
            }
            let vnet = t.gateway(c.gateway).vnet.index();
            sites.push(
                name,
                Site {
                    gateway_ip: lng.gateway_ip.map(|ip| ip.to_string().into()),
                    address_space: at_all(lng.address_prefixes.iter().map(|p| p.to_string())),
                    connect_to: self.vnet_names[vnet].clone().into(),
                    bgp,
                },
            );
        }
        for c in t
            .connections
            .iter()
            .zip(&used)
            .filter(|(_, used)| !**used)
            .map(|(c, _)| c)
        {
            let g = &t.gateway(c.gateway).name;
            let note = match &c.kind {
                ConnectionKind::IPsec { local_gateway } => {
                    let lng = &t[*local_gateway].name;
                    let why = if written_gateway.contains(&c.gateway) { format!("site '{lng}' already has its one connection") } else { format!("gateway '{g}' is not written") };
                    format!("IPsec connection '{}' (gateway '{g}' to local network gateway '{lng}'): {why}", c.name)
                }
                ConnectionKind::Vnet2Vnet { remote_gateway } => {
                    format!("VNet-to-VNet connection '{}' (gateway '{g}' to gateway '{}'): the lab file connects gateways to sites only", c.name, t.gateway(*remote_gateway).name)
                }
                ConnectionKind::ExpressRoute => format!("ExpressRoute connection '{}' (gateway '{g}'): the lab file connects gateways to sites only", c.name),
            };
            self.note(note);
        }
        sites
    }

    /// Resource kinds the lab file has no key for.
    fn unexpressible(&mut self) {
        let t = self.t;
        for pe in &t.private_endpoints {
            let s = t.subnet(pe.subnet);
            self.note(format!(
                "private endpoint '{}' ({} in {}/{})",
                pe.name, pe.ip, t[s.vnet].name, s.name
            ));
        }
    }
}

/// The region most VNets use (the first of equals), `westeurope` when there is no VNet.
fn most_common_location(t: &Topology) -> String {
    let mut counts: Vec<(&str, usize)> = Vec::new();
    for v in &t.vnets {
        match counts.iter_mut().find(|(l, _)| *l == v.location) {
            Some((_, n)) => *n += 1,
            None => counts.push((&v.location, 1)),
        }
    }
    let best = counts
        .iter()
        .fold(None::<(&str, usize)>, |best, &(l, n)| match best {
            Some((_, m)) if m >= n => best,
            _ => Some((l, n)),
        });
    best.map_or_else(|| "westeurope".to_string(), |(l, _)| l.to_string())
}
