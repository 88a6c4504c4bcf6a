//! The YAML lab file end to end: loading, positions of diagnostics, the committed schema, and
//! robustness against arbitrary input.

use proptest::prelude::*;
use std::net::Ipv4Addr;
use vnetlab_ingest::{lab_file, load_text, Format, Loaded};
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::{AddressPrefix, PortRange, Protocol};
use vnetlab_model::{ConnectionKind, Diagnostic, NextHopType, VnetId};

fn load(text: &str) -> Result<Loaded, Vec<Diagnostic>> {
    load_text(text, "lab.yaml", Format::Yaml, ServiceTags::bundled())
}

/// The first error of a file that must fail.
fn first_error(text: &str) -> Diagnostic {
    let diags = load(text).expect_err("the lab must be refused");
    diags
        .into_iter()
        .find(Diagnostic::is_error)
        .expect("an error, not only warnings")
}

fn position(d: &Diagnostic) -> (&str, usize, usize) {
    let at = d
        .location
        .as_ref()
        .unwrap_or_else(|| panic!("no location: {d}"));
    (at.file.as_str(), at.line, at.column)
}

const HUB_AND_SPOKE: &str = "\
# hub and spoke with an on-premises site
location: westeurope
vnets:
  hub:
    address_space: [10.0.0.0/16]
    gateway: { bgp: { asn: 65515 } }
    subnets:
      GatewaySubnet: 10.0.255.0/27
      nva:
        prefix: 10.0.1.0/24
        vms:
          fw: { ip: 10.0.1.4, ip_forwarding: true }
          mgmt: {}
    peerings:
      spoke1: { allow_gateway_transit: true, allow_forwarded_traffic: true }
  spoke1:
    address_space: [10.1.0.0/16]
    subnets:
      workload:
        prefix: 10.1.0.0/24
        route_table: rt-spoke
        vms:
          web1: {}
    peerings:
      hub: { use_remote_gateways: true, allow_forwarded_traffic: true }
route_tables:
  rt-spoke:
    routes:
      default-via-fw: { prefix: 0.0.0.0/0, next_hop: VirtualAppliance, ip: 10.0.1.4 }
sites:
  onprem:
    gateway_ip: 198.51.100.10
    address_space: [192.168.0.0/16]
    connect_to: hub
    bgp: { asn: 65010, peer_ip: 192.168.255.1, advertises: [192.168.10.0/24] }
";

#[test]
fn a_hub_and_spoke_lab_loads() {
    let t = load(HUB_AND_SPOKE)
        .unwrap_or_else(|d| panic!("{d:#?}"))
        .topology;
    assert_eq!(
        (t.vnets.len(), t.subnets.len(), t.peerings.len()),
        (2, 3, 2)
    );
    assert_eq!((t.nics.len(), t.vms.len()), (3, 3));
    assert_eq!(
        (
            t.route_tables.len(),
            t.gateways.len(),
            t.local_gateways.len(),
            t.connections.len()
        ),
        (1, 1, 1, 1)
    );
    assert_eq!(t.vnets[0].location, "westeurope");

    let ip = |vm: &str| {
        t.nic(t.vm(t.find_vm(vm).unwrap()).nics[0])
            .primary_ip_configuration()
            .private_ip
    };
    assert_eq!(ip("fw"), Ipv4Addr::new(10, 0, 1, 4));
    // D14: the lowest free address from .4; .4 is the static one.
    assert_eq!(ip("mgmt"), Ipv4Addr::new(10, 0, 1, 5));
    assert_eq!(ip("web1"), Ipv4Addr::new(10, 1, 0, 4));
    let fw = t.nic(t.find_nic("fw-nic").unwrap());
    assert!(fw.enable_ip_forwarding);

    let vnet = |name: &str| VnetId(t.vnets.iter().position(|v| v.name == name).unwrap() as u32);
    let spoke_to_hub = t.peering_between(vnet("spoke1"), vnet("hub")).unwrap();
    assert!(
        spoke_to_hub.use_remote_gateways
            && spoke_to_hub.allow_forwarded_traffic
            && spoke_to_hub.allow_virtual_network_access
    );
    assert!(!spoke_to_hub.allow_gateway_transit);

    let workload = t.subnets.iter().find(|s| s.name == "workload").unwrap();
    let rt = t.route_table(workload.route_table.unwrap());
    assert_eq!(rt.routes[0].next_hop_type, NextHopType::VirtualAppliance);
    assert_eq!(rt.routes[0].next_hop_ip, Some(Ipv4Addr::new(10, 0, 1, 4)));

    let gw = &t.gateways[0];
    assert_eq!(
        (gw.name.as_str(), gw.enable_bgp, gw.asn, gw.sku.as_str()),
        ("hub-gw", true, 65515, "VpnGw1")
    );
    assert_eq!(gw.instance_ips, vec![Ipv4Addr::new(10, 0, 255, 4)]);
    assert_eq!(t[gw.public_ips[0]].name, "hub-gw-pip");

    let site = &t.local_gateways[0];
    assert_eq!(site.gateway_ip, Some(Ipv4Addr::new(198, 51, 100, 10)));
    assert_eq!(
        site.bgp.as_ref().map(|b| (b.asn, b.peering_address)),
        Some((65010, Ipv4Addr::new(192, 168, 255, 1)))
    );
    assert_eq!(
        site.bgp_advertised,
        vec!["192.168.10.0/24".parse().unwrap()]
    );
    let conn = &t.connections[0];
    assert_eq!(conn.name, "onprem-connection");
    assert!(conn.enable_bgp && matches!(conn.kind, ConnectionKind::IPsec { .. }));
}

#[test]
fn every_section_of_the_format_converts() {
    let text = "\
location: northeurope
vnets:
  hub:
    address_space: [10.0.0.0/16]
    location: westeurope
    gateway: { name: hub-vpngw, sku: VpnGw2, active_active: true }
    subnets:
      GatewaySubnet: 10.0.255.0/27
      ids:
        prefix: 10.0.1.0/24
        route_table: rt-ids
        nsg: nsg-ids
        nat_gateway: natgw
        service_endpoints: [Microsoft.Storage, { service: Microsoft.Sql, locations: [westeurope] }]
        default_outbound_access: false
        vms:
          ids-1: { ip: 10.0.1.10, public_ip: true, nsg: nsg-ids, asgs: [asg-web] }
          web2: { public_ip: pip-web }
      shared: 10.0.2.0/24
vms:
  fw:
    nics:
      - { subnet: hub/ids, ip: 10.0.1.20, ip_forwarding: true }
      - { subnet: hub/shared }
route_tables:
  rt-ids:
    disable_bgp_route_propagation: true
    routes:
      to-storage: { prefix: Storage, next_hop: Internet }
nsgs:
  nsg-ids:
    rules:
      - { name: allow-ssh, priority: 100, direction: Inbound, access: Allow, protocol: Tcp, source: [192.168.0.0/16, 10.0.0.0/8], destination_ports: 22 }
      - { name: web, priority: 200, direction: Inbound, access: Allow, destination_asgs: [asg-web], destination_ports: [80, '443'] }
asgs: [asg-web]
public_ips:
  pip-web: { address: 203.0.113.20 }
nat_gateways:
  natgw: { public_ips: [pip-nat] }
";
    let t = load(text).unwrap_or_else(|d| panic!("{d:#?}")).topology;
    assert_eq!(t.vnets[0].location, "westeurope");
    let ids = t.subnets.iter().find(|s| s.name == "ids").unwrap();
    assert!(!ids.default_outbound_access && ids.nsg.is_some() && ids.nat_gateway.is_some());
    let endpoints: Vec<_> = ids
        .service_endpoints
        .iter()
        .map(|e| (e.service.as_str(), e.locations.clone()))
        .collect();
    assert_eq!(
        endpoints,
        vec![
            ("Microsoft.Storage", vec![]),
            ("Microsoft.Sql", vec!["westeurope".to_string()])
        ]
    );
    assert!(t.route_tables[0].disable_bgp_route_propagation);

    let rules = &t.nsgs[0].rules;
    let text = |v: &[AddressPrefix]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    let ports = |v: &[PortRange]| v.iter().map(|p| p.to_string()).collect::<Vec<_>>();
    assert_eq!(text(&rules[0].source), vec!["192.168.0.0/16", "10.0.0.0/8"]);
    assert_eq!(
        (rules[0].protocol, ports(&rules[0].destination_ports)),
        (Protocol::Tcp, vec!["22-22".to_string()])
    );
    assert_eq!(ports(&rules[1].destination_ports), vec!["80-80", "443-443"]);
    assert!(rules[1].destination.is_empty() && rules[1].destination_asgs.len() == 1);
    assert_eq!(
        (rules[1].protocol, rules[1].source.clone()),
        (Protocol::Any, vec![AddressPrefix::Any])
    );

    let pip_names: Vec<_> = t.public_ips.iter().map(|p| p.name.as_str()).collect();
    assert_eq!(
        pip_names,
        vec![
            "pip-web",
            "hub-vpngw-pip",
            "hub-vpngw-pip2",
            "pip-nat",
            "ids-1-pip"
        ]
    );
    let gw = &t.gateways[0];
    assert_eq!(
        (gw.sku.as_str(), gw.instance_ips.len(), gw.public_ips.len()),
        ("VpnGw2", 2, 2)
    );

    let nic_of = |vm: &str| t.nic(t.vm(t.find_vm(vm).unwrap()).nics[0]);
    let ids1 = nic_of("ids-1").primary_ip_configuration();
    assert_eq!(
        (ids1.asgs.len(), t[ids1.public_ip.unwrap()].name.as_str()),
        (1, "ids-1-pip")
    );
    assert_eq!(
        t[nic_of("web2").primary_ip_configuration().public_ip.unwrap()].address,
        Ipv4Addr::new(203, 0, 113, 20)
    );
    let fw = t.vm(t.find_vm("fw").unwrap());
    let fw_nics: Vec<_> = fw
        .nics
        .iter()
        .map(|n| {
            (
                t.nic(*n).name.as_str(),
                t.nic(*n).ip_configurations[0].private_ip,
            )
        })
        .collect();
    assert_eq!(
        fw_nics,
        vec![
            ("fw-nic0", Ipv4Addr::new(10, 0, 1, 20)),
            ("fw-nic1", Ipv4Addr::new(10, 0, 2, 4))
        ]
    );
    // web2 is dynamic in ids: .4 is free (ids-1 is .10, fw-nic0 .20).
    assert_eq!(
        nic_of("web2").ip_configurations[0].private_ip,
        Ipv4Addr::new(10, 0, 1, 4)
    );
}

#[test]
fn a_syntax_error_points_at_its_line() {
    let d = first_error("vnets:\n  hub:\n    address_space: [10.0.0.0/16]\n   subnets: {}\n");
    assert_eq!(position(&d), ("lab.yaml", 4, 4));
    assert!(d.hint.is_some());
}

#[test]
fn an_unknown_key_is_named() {
    let d = first_error("vnets:\n  hub:\n    adress_space: [10.0.0.0/16]\n");
    assert!(d.message.contains("adress_space"), "{d}");
    assert!(
        d.message.contains("address_space"),
        "the allowed keys are listed: {d}"
    );
    assert_eq!(position(&d), ("lab.yaml", 3, 5));
}

#[test]
fn a_subnet_outside_its_vnet_points_at_the_prefix() {
    let d = first_error("vnets:\n  hub:\n    address_space: [10.0.0.0/16]\n    subnets:\n      app:\n        prefix: 10.1.0.0/24\n");
    assert!(d.message.contains("outside the address space"), "{d}");
    assert_eq!(position(&d), ("lab.yaml", 6, 17));
    assert_eq!(
        d.display_path.as_deref(),
        Some("vnets.hub.subnets.app.prefix")
    );
    // The shorthand points at the prefix too.
    let d = first_error(
        "vnets:\n  hub:\n    address_space: [10.0.0.0/16]\n    subnets:\n      app: 10.1.0.0/24\n",
    );
    assert_eq!(
        (position(&d), d.display_path.as_deref()),
        (("lab.yaml", 5, 12), Some("vnets.hub.subnets.app"))
    );
}

#[test]
fn an_undeclared_route_table_points_at_the_reference() {
    let d = first_error("vnets:\n  hub:\n    address_space: [10.0.0.0/16]\n    subnets:\n      app:\n        prefix: 10.0.1.0/24\n        route_table: rt-missing\n");
    assert!(
        d.message.contains("does not exist") && d.message.contains("rt-missing"),
        "{d}"
    );
    assert_eq!(position(&d), ("lab.yaml", 7, 22));
    assert_eq!(
        d.display_path.as_deref(),
        Some("vnets.hub.subnets.app.route_table")
    );
}

#[test]
fn undeclared_names_point_at_where_they_are_used() {
    let d = first_error(
        "vnets:\n  hub:\n    address_space: [10.0.0.0/16]\n    peerings:\n      nowhere: {}\n",
    );
    assert!(
        d.message.contains("virtual network that does not exist"),
        "{d}"
    );
    assert_eq!(
        (position(&d).1, d.display_path.as_deref()),
        (5, Some("vnets.hub.peerings.nowhere"))
    );
    let d = first_error(
        "vnets:\n  hub:\n    address_space: [10.0.0.0/16]\nsites:\n  dc:\n    connect_to: hub\n",
    );
    assert!(d.message.contains("hub-gw"), "{d}");
    assert_eq!(
        (position(&d).1, d.display_path.as_deref()),
        (6, Some("sites.dc.connect_to"))
    );
    let d = first_error("vnets:\n  hub:\n    address_space: [10.0.0.0/16]\nvms:\n  fw:\n    nics:\n      - subnet: hub/missing\n");
    assert!(d.message.contains("subnet that does not exist"), "{d}");
    assert_eq!(
        (position(&d).1, d.display_path.as_deref()),
        (7, Some("vms.fw.nics[0].subnet"))
    );
}

#[test]
fn structural_mistakes_are_explained() {
    let d = first_error("vnets:\n  hub:\n    address_space: [10.0.0.0/16]\n    subnets:\n      app:\n        prefix: 10.0.1.0/24\n        vms:\n          web: { subnet: hub/app }\n");
    assert_eq!((position(&d).1, d.display_path.as_deref()), (8, None));
    assert_eq!(d.path, "vnets.hub.subnets.app.vms.web.subnet");
    let d = first_error("vms:\n  fw:\n    nics:\n      - { ip: 10.0.1.4 }\n");
    assert!(d.message.contains("<vnet>/<subnet>"), "{d}");
    assert_eq!(position(&d).1, 4);
    let d = first_error("vms:\n  fw: { nics: [] }\n");
    assert!(d.message.contains("no network interface"), "{d}");
    let d = first_error(
        "route_tables:\n  rt:\n    routes:\n      r: { prefix: 0.0.0.0/0, next_hop: Appliance }\n",
    );
    assert!(
        d.message.contains("Appliance") && d.message.contains("VirtualAppliance"),
        "{d}"
    );
    assert_eq!(position(&d), ("lab.yaml", 4, 41));
}

#[test]
fn garbage_is_refused_with_a_clear_message() {
    let bytes: Vec<u8> = (0u32..600)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    for (text, expected) in [
        (String::from_utf8_lossy(&bytes).into_owned(), ""),
        (String::new(), "empty"),
        ("# nothing but a comment\n\n".to_string(), "empty"),
        (
            "- hub\n- spoke\n".to_string(),
            "a lab file is a YAML mapping",
        ),
        (
            "just a sentence".to_string(),
            "a lab file is a YAML mapping",
        ),
        ("vnets: [hub]\n".to_string(), "expected mapping"),
    ] {
        let diags = load(&text).expect_err(&text);
        let d = &diags[0];
        // The message, and the hint for a file that is not a mapping at all.
        assert!(
            !d.message.is_empty() && d.to_string().contains(expected),
            "{text:?}: {d}"
        );
        assert_eq!(
            d.location.as_ref().map(|l| l.file.as_str()),
            Some("lab.yaml")
        );
    }
}

#[test]
fn schema_matches_the_committed_file() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../schema/lab.schema.json");
    let schema = lab_file::json_schema();
    if std::env::var_os("VNETLAB_BLESS").is_some_and(|v| v == "1") {
        std::fs::write(path, serde_json::to_string_pretty(&schema).unwrap() + "\n").unwrap();
    }
    let committed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap_or_default())
            .unwrap_or_default();
    assert!(committed == schema, "schema/lab.schema.json is out of date; regenerate it with `VNETLAB_BLESS=1 cargo test -p vnetlab-ingest --test lab_file`");
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..400)) {
        let _ = load(&String::from_utf8_lossy(&bytes));
    }

    #[test]
    fn yaml_like_text_never_panics(text in "[a-z_:/. {}\\[\\],'\"#&*!|>0-9\n-]{0,300}") {
        if let Err(diags) = load(&text) {
            prop_assert!(diags.iter().all(|d| !d.message.is_empty()));
        }
    }

    #[test]
    fn lab_shaped_text_never_panics(body in "(hub|spoke|app|10\\.0\\.0\\.0/16|10\\.0\\.1\\.4|: |\n  |\n    |\n      |- |\\{|\\}|\\[|\\]|, |subnets|vms|prefix|ip|peerings|gateway|route_table|nics|subnet|true){0,60}") {
        let _ = load(&format!("vnets:\n  hub:\n    address_space: [10.0.0.0/16]\n    {body}"));
    }
}

#[test]
fn a_gateway_default_site_forces_tunnelling_and_must_name_a_site() {
    // docs/semantics/routing.md 5.6 (T39): a Default Site takes the VNet's Internet-bound traffic.
    let lab = |site: &str| {
        format!("location: westeurope\nvnets:\n  hub:\n    address_space: [10.0.0.0/16]\n    gateway: {{ sku: VpnGw1, default_site: {site} }}\n    subnets:\n      GatewaySubnet: 10.0.255.0/27\n      app: {{ prefix: 10.0.1.0/24, vms: {{ vm1: {{}} }} }}\nsites:\n  onprem:\n    connect_to: hub\n    gateway_ip: 198.51.100.9\n    address_space: [192.168.0.0/16]\n")
    };
    let l = load(&lab("onprem")).unwrap_or_else(|d| panic!("{d:?}"));
    let t = &l.topology;
    assert_eq!(
        t.gateways[0].default_site.map(|s| t[s].name.as_str()),
        Some("onprem")
    );
    let e = first_error(&lab("nowhere"));
    assert!(
        e.message
            .contains("local network gateway that does not exist")
            && e.message.contains("nowhere"),
        "{e}"
    );
    assert_eq!(e.display_path.as_deref(), Some("vnets.hub.gateway"));
}
