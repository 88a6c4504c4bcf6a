//! Converts a parsed lab file into the REST shape that `rest::document::flatten` and
//! `rest::build` read: an array of Azure resources without IDs (the builder derives them from
//! type and name) whose references use those derived IDs. Each generated value's REST path is
//! recorded with the YAML position and path it came from.

use super::names;
use super::schema::*;
use serde_json::{json, Value};
use std::collections::{HashMap, HashSet};
use vnetlab_model::diagnostic::Location;
use vnetlab_model::{Diagnostic, ResourceId};

const PUBLIC_IP: &str = "Microsoft.Network/publicIPAddresses";
const ASG: &str = "Microsoft.Network/applicationSecurityGroups";
const NSG: &str = "Microsoft.Network/networkSecurityGroups";
const ROUTE_TABLE: &str = "Microsoft.Network/routeTables";
const NAT_GATEWAY: &str = "Microsoft.Network/natGateways";
const VNET: &str = "Microsoft.Network/virtualNetworks";
const GATEWAY: &str = "Microsoft.Network/virtualNetworkGateways";
const LOCAL_GATEWAY: &str = "Microsoft.Network/localNetworkGateways";
const CONNECTION: &str = "Microsoft.Network/connections";
const NIC: &str = "Microsoft.Network/networkInterfaces";
const VM: &str = "Microsoft.Compute/virtualMachines";
const LOAD_BALANCER: &str = "Microsoft.Network/loadBalancers";

/// REST path -> (line, column, YAML path).
pub type Positions = HashMap<String, (usize, usize, String)>;

/// A YAML position, `None` when unknown.
type Pos = Option<(usize, usize)>;

fn opt_pos<T>(at: &Option<At<T>>) -> Pos {
    at.as_ref().and_then(At::pos)
}

/// `{"id": ...}` of a resource, as the REST builder derives its ID.
fn reference(kind: &str, name: &str) -> Value {
    json!({ "id": ResourceId::from_type_and_name(kind, name).as_str() })
}

/// A load balancer's child: `lb/pool` style names, or a child of `lb` by its own name.
fn lb_child_reference(lb: &str, child_type: &str, child: &str) -> Value {
    json!({ "id": ResourceId::from_type_and_name(LOAD_BALANCER, lb).child(child_type, child).as_str() })
}

/// `<load balancer>/<child>` as NICs name pools and NAT rules.
fn lb_member_reference(qualified: &str, child_type: &str) -> Value {
    let (lb, child) = qualified.split_once('/').unwrap_or((qualified, ""));
    lb_child_reference(lb, child_type, child)
}

fn subnet_reference(vnet: &str, subnet: &str) -> Value {
    json!({ "id": ResourceId::from_type_and_name(VNET, vnet).child("subnets", subnet).as_str() })
}

/// Drops null members, so optional settings left out take the builder's defaults.
fn strip_nulls(v: &mut Value) {
    match v {
        Value::Object(map) => {
            map.retain(|_, m| !m.is_null());
            map.values_mut().for_each(strip_nulls);
        }
        Value::Array(items) => items.iter_mut().for_each(strip_nulls),
        _ => {}
    }
}

/// A VM to generate, from a subnet's `vms` or the top-level `vms`.
struct Machine<'l> {
    name: &'l At<String>,
    yaml: String,
    nics: Vec<NicPlan<'l>>,
}

struct NicPlan<'l> {
    name: String,
    /// The name of the public IP `public_ip: true` creates.
    new_public_ip: String,
    nic: &'l At<Nic>,
    /// Where the NIC was declared: the VM's name under a subnet, the list item otherwise.
    pos: Pos,
    yaml: String,
    vnet: &'l str,
    subnet: &'l str,
}

impl NicPlan<'_> {
    fn public_ip(&self) -> Option<&str> {
        match self.nic.public_ip.as_deref()? {
            PublicIpChoice::Create(true) => Some(&self.new_public_ip),
            PublicIpChoice::Create(false) => None,
            PublicIpChoice::Name(name) => Some(name),
        }
    }
}

#[derive(Default)]
pub struct Converted {
    pub resources: Vec<Value>,
    pub positions: Positions,
    pub errors: Vec<Diagnostic>,
}

struct Converter<'l> {
    lab: &'l Lab,
    file: &'l str,
    machines: Vec<Machine<'l>>,
    out: Converted,
}

/// Generates the resources in the order public IPs, ASGs, NSGs, route tables, NAT gateways,
/// VNets, gateways, local network gateways, connections, NICs and VMs in file order, then load
/// balancers (so their dynamic frontends take addresses after the NICs').
pub fn convert(lab: &Lab, file: &str) -> Converted {
    let mut c = Converter {
        lab,
        file,
        machines: Vec::new(),
        out: Converted::default(),
    };
    c.plan_machines();
    c.public_ips();
    c.asgs();
    c.nsgs();
    c.route_tables();
    c.nat_gateways();
    c.vnets();
    c.gateways();
    c.sites();
    c.machines();
    c.load_balancers();
    c.out
}

impl<'l> Converter<'l> {
    fn mark(&mut self, path: String, pos: Pos, yaml: String) {
        if let Some((line, column)) = pos {
            self.out.positions.insert(path, (line, column, yaml));
        }
    }

    /// Marks each string of a list: `{path}[k]{suffix}` from `{yaml}[k]`.
    fn mark_list(&mut self, path: &str, suffix: &str, items: &[At<String>], yaml: &str) {
        for (k, item) in items.iter().enumerate() {
            self.mark(
                format!("{path}[{k}]{suffix}"),
                item.pos(),
                format!("{yaml}[{k}]"),
            );
        }
    }

    /// The path (`[i]`) the next resource will have.
    fn next_path(&self) -> String {
        format!("[{}]", self.out.resources.len())
    }

    /// Appends a resource; returns its path (`[i]`).
    fn push(
        &mut self,
        kind: &str,
        name: &str,
        location: &str,
        mut body: Value,
        pos: Pos,
        yaml: String,
    ) -> String {
        body["type"] = kind.into();
        body["name"] = name.into();
        body["location"] = location.into();
        strip_nulls(&mut body);
        let path = format!("[{}]", self.out.resources.len());
        self.out.resources.push(body);
        self.mark(path.clone(), pos, yaml);
        path
    }

    fn error(&mut self, pos: Pos, yaml: String, message: String, hint: &str) {
        let (line, column) = pos.unwrap_or((1, 1));
        self.out.errors.push(Diagnostic {
            location: Some(Location {
                file: self.file.to_string(),
                line,
                column,
            }),
            ..Diagnostic::file_error(yaml, message).with_hint(hint)
        });
    }

    fn region(&self, vnet: &str) -> &'l str {
        self.lab
            .vnets
            .get(vnet)
            .and_then(|v| v.location.as_deref())
            .unwrap_or(&self.lab.location)
    }

    fn gateway_name(&self, vnet: &str) -> String {
        self.lab
            .vnets
            .get(vnet)
            .and_then(|v| v.gateway.as_ref()?.name.clone())
            .unwrap_or_else(|| names::gateway(vnet))
    }

    fn plan_machines(&mut self) {
        let lab = self.lab;
        for (vnet, v) in &lab.vnets.0 {
            for (subnet, s) in &v.subnets.0 {
                let ShortOr::Full(settings) = &s.value else {
                    continue;
                };
                for (name, nic) in &settings.vms.0 {
                    let yaml = format!(
                        "vnets.{}.subnets.{}.vms.{}",
                        vnet.value, subnet.value, name.value
                    );
                    if let Some(extra) = &nic.subnet {
                        self.error(
                            extra.pos(),
                            format!("{yaml}.subnet"),
                            "a VM written under a subnet is in that subnet".into(),
                            "remove `subnet`, or declare the VM in the top-level `vms` with `nics`",
                        );
                    }
                    let plan = NicPlan {
                        name: names::subnet_vm_nic(name),
                        new_public_ip: format!("{}-pip", name.value),
                        nic,
                        pos: name.pos(),
                        yaml: yaml.clone(),
                        vnet,
                        subnet,
                    };
                    self.machines.push(Machine {
                        name,
                        yaml,
                        nics: vec![plan],
                    });
                }
            }
        }
        for (name, vm) in &lab.vms.0 {
            let yaml = format!("vms.{}", name.value);
            if vm.nics.is_empty() {
                self.error(
                    name.pos(),
                    format!("{yaml}.nics"),
                    format!("VM '{}' has no network interface", name.value),
                    "give the VM at least one entry in `nics`",
                );
            }
            let mut nics = Vec::new();
            for (k, nic) in vm.nics.iter().enumerate() {
                let nic_yaml = format!("{yaml}.nics[{k}]");
                let parsed = nic
                    .subnet
                    .as_ref()
                    .and_then(|s| s.split_once('/'))
                    .filter(|(v, s)| !v.is_empty() && !s.is_empty() && !s.contains('/'));
                let Some((vnet, subnet)) = parsed else {
                    let pos = opt_pos(&nic.subnet).or(nic.pos());
                    self.error(
                        pos,
                        format!("{nic_yaml}.subnet"),
                        "a network interface needs `subnet: <vnet>/<subnet>`".into(),
                        "name the subnet with its VNet, for example `subnet: hub/app`",
                    );
                    continue;
                };
                let name = names::vm_nic(name, k);
                nics.push(NicPlan {
                    new_public_ip: format!("{name}-pip"),
                    name,
                    nic,
                    pos: nic.pos(),
                    yaml: nic_yaml,
                    vnet,
                    subnet,
                });
            }
            self.machines.push(Machine { name, yaml, nics });
        }
    }

    fn public_ips(&mut self) {
        let lab = self.lab;
        for (name, pip) in &lab.public_ips.0 {
            let yaml = format!("public_ips.{}", name.value);
            let body = json!({ "sku": { "name": pip.sku }, "properties": { "ipAddress": pip.address.as_deref() } });
            let base = self.push(
                PUBLIC_IP,
                name,
                &lab.location,
                body,
                name.pos(),
                yaml.clone(),
            );
            self.mark(
                format!("{base}.properties.ipAddress"),
                opt_pos(&pip.address),
                format!("{yaml}.address"),
            );
        }
        // Public IPs named elsewhere but not declared, in file order.
        let mut implied: Vec<(String, &str, Pos, String)> = Vec::new();
        for (vnet, v) in &lab.vnets.0 {
            if let Some(g) = &v.gateway {
                for pip in names::gateway_public_ips(&self.gateway_name(vnet), g.active_active) {
                    implied.push((
                        pip,
                        self.region(vnet),
                        g.pos(),
                        format!("vnets.{}.gateway", vnet.value),
                    ));
                }
            }
        }
        for (nat, n) in &lab.nat_gateways.0 {
            for (k, pip) in n.public_ips.iter().enumerate() {
                implied.push((
                    pip.value.clone(),
                    &lab.location,
                    pip.pos(),
                    format!("nat_gateways.{}.public_ips[{k}]", nat.value),
                ));
            }
        }
        for (lb, l) in &lab.load_balancers.0 {
            for (fe, f) in &l.frontends.0 {
                if let Some(pip) = &f.public_ip {
                    implied.push((
                        pip.value.clone(),
                        &lab.location,
                        pip.pos(),
                        format!(
                            "load_balancers.{}.frontends.{}.public_ip",
                            lb.value, fe.value
                        ),
                    ));
                }
            }
        }
        for nic in self.machines.iter().flat_map(|m| &m.nics) {
            if let Some(pip) = nic.public_ip() {
                implied.push((
                    pip.to_string(),
                    self.region(nic.vnet),
                    opt_pos(&nic.nic.public_ip),
                    format!("{}.public_ip", nic.yaml),
                ));
            }
        }
        let mut known: HashSet<String> = lab
            .public_ips
            .0
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .collect();
        for (name, location, pos, yaml) in implied {
            if known.insert(name.to_ascii_lowercase()) {
                self.push(
                    PUBLIC_IP,
                    &name,
                    location,
                    json!({ "sku": { "name": "Standard" } }),
                    pos,
                    yaml,
                );
            }
        }
    }

    fn asgs(&mut self) {
        for (k, name) in self.lab.asgs.iter().enumerate() {
            self.push(
                ASG,
                name,
                &self.lab.location,
                json!({}),
                name.pos(),
                format!("asgs[{k}]"),
            );
        }
    }

    fn nsgs(&mut self) {
        let lab = self.lab;
        for (name, nsg) in &lab.nsgs.0 {
            let yaml = format!("nsgs.{}", name.value);
            let base = self.next_path();
            let mut rules = Vec::new();
            for (j, rule) in nsg.rules.iter().enumerate() {
                let path = format!("{base}.properties.securityRules[{j}]");
                let ryaml = format!("{yaml}.rules[{j}]");
                let mut props = json!({ "priority": rule.priority.value, "direction": rule.direction, "access": rule.access, "protocol": rule.protocol });
                self.mark(path.clone(), rule.pos(), ryaml.clone());
                self.mark(
                    format!("{path}.properties.priority"),
                    rule.priority.pos(),
                    format!("{ryaml}.priority"),
                );
                let fields = [
                    (
                        &rule.source,
                        "source",
                        "sourceAddressPrefix",
                        "sourceAddressPrefixes",
                        rule.source_asgs.is_empty(),
                    ),
                    (
                        &rule.source_ports,
                        "source_ports",
                        "sourcePortRange",
                        "sourcePortRanges",
                        true,
                    ),
                    (
                        &rule.destination,
                        "destination",
                        "destinationAddressPrefix",
                        "destinationAddressPrefixes",
                        rule.destination_asgs.is_empty(),
                    ),
                    (
                        &rule.destination_ports,
                        "destination_ports",
                        "destinationPortRange",
                        "destinationPortRanges",
                        true,
                    ),
                ];
                for (value, key, one, many, any_by_default) in fields {
                    let (property, v) = match value.as_deref() {
                        Some(OneOrMany::One(s)) => (one, json!(s)),
                        Some(OneOrMany::Many(list)) => (many, json!(list)),
                        None if any_by_default => (one, json!("*")),
                        None => continue,
                    };
                    props[property] = v;
                    self.mark(
                        format!("{path}.properties.{property}"),
                        opt_pos(value),
                        format!("{ryaml}.{key}"),
                    );
                }
                for (list, key, property) in [
                    (
                        &rule.source_asgs,
                        "source_asgs",
                        "sourceApplicationSecurityGroups",
                    ),
                    (
                        &rule.destination_asgs,
                        "destination_asgs",
                        "destinationApplicationSecurityGroups",
                    ),
                ] {
                    props[property] = list.iter().map(|a| reference(ASG, a)).collect();
                    self.mark_list(
                        &format!("{path}.properties.{property}"),
                        ".id",
                        list,
                        &format!("{ryaml}.{key}"),
                    );
                }
                rules.push(json!({ "name": rule.name, "properties": props }));
            }
            self.push(
                NSG,
                name,
                &lab.location,
                json!({ "properties": { "securityRules": rules } }),
                name.pos(),
                yaml,
            );
        }
    }

    fn route_tables(&mut self) {
        let lab = self.lab;
        for (name, rt) in &lab.route_tables.0 {
            let yaml = format!("route_tables.{}", name.value);
            let base = self.next_path();
            let mut routes = Vec::new();
            for (j, (r, route)) in rt.routes.0.iter().enumerate() {
                let (path, ryaml) = (
                    format!("{base}.properties.routes[{j}]"),
                    format!("{yaml}.routes.{}", r.value),
                );
                self.mark(
                    format!("{path}.properties.addressPrefix"),
                    route.prefix.pos(),
                    format!("{ryaml}.prefix"),
                );
                self.mark(
                    format!("{path}.properties.nextHopType"),
                    route.next_hop.pos(),
                    format!("{ryaml}.next_hop"),
                );
                self.mark(
                    format!("{path}.properties.nextHopIpAddress"),
                    opt_pos(&route.ip),
                    format!("{ryaml}.ip"),
                );
                self.mark(path, r.pos(), ryaml);
                routes.push(json!({ "name": r.value, "properties": { "addressPrefix": route.prefix.value, "nextHopType": route.next_hop.value, "nextHopIpAddress": route.ip.as_deref() } }));
            }
            let body = json!({ "properties": { "disableBgpRoutePropagation": rt.disable_bgp_route_propagation, "routes": routes } });
            self.push(ROUTE_TABLE, name, &lab.location, body, name.pos(), yaml);
        }
    }

    fn nat_gateways(&mut self) {
        let lab = self.lab;
        for (name, nat) in &lab.nat_gateways.0 {
            let yaml = format!("nat_gateways.{}", name.value);
            let pips: Vec<Value> = nat
                .public_ips
                .iter()
                .map(|p| reference(PUBLIC_IP, p))
                .collect();
            let base = self.push(NAT_GATEWAY, name, &lab.location, json!({ "sku": { "name": "Standard" }, "properties": { "publicIpAddresses": pips } }), name.pos(), yaml.clone());
            self.mark_list(
                &format!("{base}.properties.publicIpAddresses"),
                ".id",
                &nat.public_ips,
                &format!("{yaml}.public_ips"),
            );
        }
    }

    fn vnets(&mut self) {
        let lab = self.lab;
        for (name, vnet) in &lab.vnets.0 {
            let yaml = format!("vnets.{}", name.value);
            let base = self.next_path();
            let mut subnets = Vec::new();
            for (j, (sname, s)) in vnet.subnets.0.iter().enumerate() {
                let (path, syaml) = (
                    format!("{base}.properties.subnets[{j}]"),
                    format!("{yaml}.subnets.{}", sname.value),
                );
                self.mark(path.clone(), sname.pos(), syaml.clone());
                let (prefix, settings) = match &s.value {
                    ShortOr::Short(prefix) => {
                        self.mark(
                            format!("{path}.properties.addressPrefix"),
                            s.pos(),
                            syaml.clone(),
                        );
                        (prefix, None)
                    }
                    ShortOr::Full(settings) => {
                        self.mark(
                            format!("{path}.properties.addressPrefix"),
                            settings.prefix.pos(),
                            format!("{syaml}.prefix"),
                        );
                        (&settings.prefix.value, Some(settings))
                    }
                };
                let mut props = json!({ "addressPrefix": prefix });
                if let Some(settings) = settings {
                    for (target, key, property, kind) in [
                        (
                            &settings.route_table,
                            "route_table",
                            "routeTable",
                            ROUTE_TABLE,
                        ),
                        (&settings.nsg, "nsg", "networkSecurityGroup", NSG),
                        (
                            &settings.nat_gateway,
                            "nat_gateway",
                            "natGateway",
                            NAT_GATEWAY,
                        ),
                    ] {
                        if let Some(target) = target {
                            props[property] = reference(kind, target);
                            self.mark(
                                format!("{path}.properties.{property}.id"),
                                target.pos(),
                                format!("{syaml}.{key}"),
                            );
                        }
                    }
                    props["defaultOutboundAccess"] = json!(settings.default_outbound_access);
                    props["serviceEndpoints"] = settings
                        .service_endpoints
                        .iter()
                        .map(|e| match e {
                            ShortOr::Short(service) => json!({ "service": service }),
                            ShortOr::Full(e) => {
                                json!({ "service": e.service, "locations": e.locations })
                            }
                        })
                        .collect();
                }
                subnets.push(json!({ "name": sname.value, "properties": props }));
            }
            let mut peerings = Vec::new();
            for (j, (remote, p)) in vnet.peerings.0.iter().enumerate() {
                let path = format!("{base}.properties.virtualNetworkPeerings[{j}]");
                let pyaml = format!("{yaml}.peerings.{}", remote.value);
                self.mark(
                    format!("{path}.properties.remoteVirtualNetwork.id"),
                    remote.pos(),
                    pyaml.clone(),
                );
                self.mark(path, remote.pos(), pyaml);
                peerings.push(
                    json!({ "name": names::peering(name, remote), "properties": {
                    "remoteVirtualNetwork": reference(VNET, remote),
                    "allowVirtualNetworkAccess": p.allow_virtual_network_access,
                    "allowForwardedTraffic": p.allow_forwarded_traffic,
                    "allowGatewayTransit": p.allow_gateway_transit,
                    "useRemoteGateways": p.use_remote_gateways,
                } }),
                );
            }
            // An empty address space is left out, so the builder reports it.
            let prefixes = (!vnet.address_space.is_empty()).then(|| {
                vnet.address_space
                    .iter()
                    .map(|p| p.value.as_str())
                    .collect::<Vec<_>>()
            });
            let body = json!({ "properties": { "addressSpace": { "addressPrefixes": prefixes }, "subnets": subnets, "virtualNetworkPeerings": peerings } });
            self.push(
                VNET,
                name,
                self.region(name),
                body,
                name.pos(),
                yaml.clone(),
            );
            let space = format!("{base}.properties.addressSpace.addressPrefixes");
            self.mark(
                space.clone(),
                vnet.address_space.pos(),
                format!("{yaml}.address_space"),
            );
            self.mark_list(
                &space,
                "",
                &vnet.address_space,
                &format!("{yaml}.address_space"),
            );
        }
    }

    fn gateways(&mut self) {
        let lab = self.lab;
        for (vnet, v) in &lab.vnets.0 {
            let Some(g) = &v.gateway else { continue };
            let name = self.gateway_name(vnet);
            let configs: Vec<Value> = names::gateway_public_ips(&name, g.active_active)
                .iter()
                .enumerate()
                .map(|(k, pip)| {
                    json!({ "name": format!("ipconfig{}", k + 1), "properties": {
                    "privateIPAllocationMethod": "Dynamic",
                    "subnet": subnet_reference(vnet, "GatewaySubnet"),
                    "publicIPAddress": reference(PUBLIC_IP, pip),
                } })
                })
                .collect();
            let body = json!({ "properties": {
                "gatewayType": g.kind,
                "vpnType": g.vpn_type,
                "sku": { "name": g.sku, "tier": g.sku },
                "activeActive": g.active_active,
                "enableBgp": g.bgp.is_some(),
                "bgpSettings": g.bgp.as_ref().map(|b| json!({ "asn": b.asn })),
                "ipConfigurations": configs,
                "gatewayDefaultSite": g.default_site.as_deref().map(|site| reference(LOCAL_GATEWAY, site)),
            } });
            self.push(
                GATEWAY,
                &name,
                self.region(vnet),
                body,
                g.pos(),
                format!("vnets.{}.gateway", vnet.value),
            );
        }
    }

    fn sites(&mut self) {
        let lab = self.lab;
        for (name, site) in &lab.sites.0 {
            let yaml = format!("sites.{}", name.value);
            let strings =
                |list: &[At<String>]| list.iter().map(|p| p.value.clone()).collect::<Vec<_>>();
            let body = json!({ "properties": {
                "gatewayIpAddress": site.gateway_ip.as_deref(),
                "localNetworkAddressSpace": { "addressPrefixes": strings(&site.address_space) },
                "bgpSettings": site.bgp.as_ref().map(|b| json!({ "asn": b.asn.value, "bgpPeeringAddress": b.peer_ip.value })),
                "bgpAdvertisedPrefixes": site.bgp.as_ref().map(|b| strings(&b.advertises)),
            } });
            let base = self.push(
                LOCAL_GATEWAY,
                name,
                self.region(&site.connect_to),
                body,
                name.pos(),
                yaml.clone(),
            );
            self.mark(
                format!("{base}.properties.gatewayIpAddress"),
                opt_pos(&site.gateway_ip),
                format!("{yaml}.gateway_ip"),
            );
            self.mark_list(
                &format!("{base}.properties.localNetworkAddressSpace.addressPrefixes"),
                "",
                &site.address_space,
                &format!("{yaml}.address_space"),
            );
            if let Some(bgp) = &site.bgp {
                self.mark(
                    format!("{base}.properties.bgpSettings.asn"),
                    bgp.asn.pos(),
                    format!("{yaml}.bgp.asn"),
                );
                self.mark(
                    format!("{base}.properties.bgpSettings.bgpPeeringAddress"),
                    bgp.peer_ip.pos(),
                    format!("{yaml}.bgp.peer_ip"),
                );
                self.mark_list(
                    &format!("{base}.properties.bgpAdvertisedPrefixes"),
                    "",
                    &bgp.advertises,
                    &format!("{yaml}.bgp.advertises"),
                );
            }
        }
        for (name, site) in &lab.sites.0 {
            let yaml = format!("sites.{}", name.value);
            let body = json!({ "properties": {
                "connectionType": "IPsec",
                "virtualNetworkGateway1": reference(GATEWAY, &self.gateway_name(&site.connect_to)),
                "localNetworkGateway2": reference(LOCAL_GATEWAY, name),
                "enableBgp": site.bgp.is_some(),
            } });
            let base = self.push(
                CONNECTION,
                &names::connection(name),
                self.region(&site.connect_to),
                body,
                name.pos(),
                yaml.clone(),
            );
            self.mark(
                format!("{base}.properties.virtualNetworkGateway1.id"),
                site.connect_to.pos(),
                format!("{yaml}.connect_to"),
            );
        }
    }

    fn machines(&mut self) {
        for m in std::mem::take(&mut self.machines) {
            let mut refs = Vec::new();
            for (k, plan) in m.nics.iter().enumerate() {
                self.nic(plan);
                let mut nic = reference(NIC, &plan.name);
                nic["properties"] = json!({ "primary": k == 0 });
                refs.push(nic);
            }
            let location = m
                .nics
                .first()
                .map_or(&*self.lab.location, |n| self.region(n.vnet));
            let base = self.push(
                VM,
                m.name,
                location,
                json!({ "properties": { "networkProfile": { "networkInterfaces": refs } } }),
                m.name.pos(),
                m.yaml,
            );
            for (k, plan) in m.nics.iter().enumerate() {
                self.mark(
                    format!("{base}.properties.networkProfile.networkInterfaces[{k}].id"),
                    plan.pos,
                    plan.yaml.clone(),
                );
            }
        }
    }

    fn nic(&mut self, plan: &NicPlan) {
        let nic = &plan.nic.value;
        let config = json!({ "name": "ipconfig1", "properties": {
            "primary": true,
            "privateIPAllocationMethod": if nic.ip.is_some() { "Static" } else { "Dynamic" },
            "privateIPAddress": nic.ip.as_deref(),
            "subnet": subnet_reference(plan.vnet, plan.subnet),
            "publicIPAddress": plan.public_ip().map(|p| reference(PUBLIC_IP, p)),
            "applicationSecurityGroups": nic.asgs.iter().map(|a| reference(ASG, a)).collect::<Vec<_>>(),
            "loadBalancerBackendAddressPools": nic.lb_pools.iter().map(|p| lb_member_reference(p, "backendAddressPools")).collect::<Vec<_>>(),
            "loadBalancerInboundNatRules": nic.lb_nat_rules.iter().map(|r| lb_member_reference(r, "inboundNatRules")).collect::<Vec<_>>(),
        } });
        let body = json!({ "properties": {
            "enableIPForwarding": nic.ip_forwarding,
            "networkSecurityGroup": nic.nsg.as_ref().map(|n| reference(NSG, n)),
            "ipConfigurations": [config],
        } });
        let base = self.push(
            NIC,
            &plan.name,
            self.region(plan.vnet),
            body,
            plan.pos,
            plan.yaml.clone(),
        );
        let cfg = format!("{base}.properties.ipConfigurations[0].properties");
        let yaml = &plan.yaml;
        self.mark(
            format!("{cfg}.privateIPAddress"),
            opt_pos(&nic.ip),
            format!("{yaml}.ip"),
        );
        self.mark(
            format!("{cfg}.subnet.id"),
            opt_pos(&nic.subnet),
            format!("{yaml}.subnet"),
        );
        self.mark(
            format!("{cfg}.publicIPAddress.id"),
            opt_pos(&nic.public_ip),
            format!("{yaml}.public_ip"),
        );
        self.mark(
            format!("{base}.properties.networkSecurityGroup.id"),
            opt_pos(&nic.nsg),
            format!("{yaml}.nsg"),
        );
        self.mark_list(
            &format!("{cfg}.applicationSecurityGroups"),
            ".id",
            &nic.asgs,
            &format!("{yaml}.asgs"),
        );
        self.mark_list(
            &format!("{cfg}.loadBalancerBackendAddressPools"),
            ".id",
            &nic.lb_pools,
            &format!("{yaml}.lb_pools"),
        );
        self.mark_list(
            &format!("{cfg}.loadBalancerInboundNatRules"),
            ".id",
            &nic.lb_nat_rules,
            &format!("{yaml}.lb_nat_rules"),
        );
    }

    fn load_balancers(&mut self) {
        let lab = self.lab;
        for (name, lb) in &lab.load_balancers.0 {
            let yaml = format!("load_balancers.{}", name.value);
            let child = |kind: &str, n: &str| lb_child_reference(name, kind, n);
            let frontends: Vec<Value> = lb
                .frontends
                .0
                .iter()
                .map(|(fe, f)| {
                    let subnet = f
                        .subnet
                        .as_ref()
                        .and_then(|s| s.split_once('/'))
                        .map(|(v, s)| subnet_reference(v, s));
                    json!({ "name": fe.value, "properties": {
                    "publicIPAddress": f.public_ip.as_ref().map(|p| reference(PUBLIC_IP, p)),
                    "subnet": subnet,
                    "privateIPAddress": f.ip.as_deref(),
                    "privateIPAllocationMethod": if f.ip.is_some() { "Static" } else { "Dynamic" },
                } })
                })
                .collect();
            let probes: Vec<Value> = lb.probes.0.iter().map(|(n, p)| json!({ "name": n.value, "properties": { "protocol": p.protocol, "port": p.port } })).collect();
            let rules: Vec<Value> = lb.rules.0.iter().map(|(n, r)| json!({ "name": n.value, "properties": {
                "frontendIPConfiguration": child("frontendIPConfigurations", &r.frontend),
                "backendAddressPool": child("backendAddressPools", &r.pool),
                "probe": r.probe.as_ref().map(|p| child("probes", p)),
                "protocol": r.protocol, "frontendPort": r.frontend_port, "backendPort": r.backend_port, "enableFloatingIP": r.floating_ip,
            } })).collect();
            let outbound: Vec<Value> = lb.outbound_rules.0.iter().map(|(n, r)| json!({ "name": n.value, "properties": {
                "frontendIPConfigurations": r.frontends.iter().map(|f| child("frontendIPConfigurations", f)).collect::<Vec<_>>(),
                "backendAddressPool": child("backendAddressPools", &r.pool),
                "protocol": r.protocol,
            } })).collect();
            let nat_rules: Vec<Value> = lb.inbound_nat_rules.0.iter().map(|(n, r)| json!({ "name": n.value, "properties": {
                "frontendIPConfiguration": child("frontendIPConfigurations", &r.frontend),
                "protocol": r.protocol, "frontendPort": r.frontend_port, "backendPort": r.backend_port, "enableFloatingIP": r.floating_ip,
            } })).collect();
            let pools: Vec<Value> = lb
                .pools
                .iter()
                .map(|p| json!({ "name": p.value }))
                .collect();
            let body = json!({ "sku": { "name": lb.sku }, "properties": {
                "frontendIPConfigurations": frontends, "backendAddressPools": pools, "probes": probes,
                "loadBalancingRules": rules, "outboundRules": outbound, "inboundNatRules": nat_rules,
            } });
            self.push(LOAD_BALANCER, name, &lab.location, body, name.pos(), yaml);
        }
    }
}
