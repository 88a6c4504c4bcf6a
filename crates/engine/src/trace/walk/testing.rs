//! Test support for the walk's unit tests: a small lab written as a YAML lab file, with its
//! routes, NSGs and addresses compiled, traced by the engine alone.

use crate::flow::FiveTuple;
use crate::routes::RoutingTables;
use crate::security::tables::SecurityTables;
use crate::trace::address_index::AddressIndex;
use crate::trace::endpoint::resolve;
use crate::trace::{Fabric, Forwarding, Hop, Layer, Path, Probe, Trace, SOURCE_PORT};
use std::net::Ipv4Addr;
use vnetlab_model::service_tags::ServiceTags;
use vnetlab_model::{NicId, Topology};

pub(crate) struct Lab {
    pub t: &'static Topology,
    routes: RoutingTables,
    security: SecurityTables<'static>,
    addresses: AddressIndex,
}

impl Lab {
    /// Loads a YAML lab file; the topology lives as long as the test process.
    pub fn new(yaml: &str) -> Lab {
        let tags = ServiceTags::bundled();
        let loaded =
            vnetlab_ingest::load_text(yaml, "lab.yaml", vnetlab_ingest::Format::Yaml, tags)
                .expect("a valid lab file");
        let t: &'static Topology = Box::leak(Box::new(loaded.topology));
        Lab {
            t,
            routes: RoutingTables::compute(t, tags),
            security: SecurityTables::new(t, tags),
            addresses: AddressIndex::new(t),
        }
    }

    pub fn fabric(&self) -> Fabric<'_> {
        Fabric {
            topology: self.t,
            routes: &self.routes,
            security: &self.security,
            addresses: &self.addresses,
        }
    }

    /// A VM's primary NIC.
    pub fn nic(&self, vm: &str) -> NicId {
        self.t.vm(self.t.find_vm(vm).expect("a VM of the lab")).nics[0]
    }

    /// A VM's primary address.
    pub fn ip(&self, vm: &str) -> Ipv4Addr {
        self.t
            .nic(self.nic(vm))
            .primary_ip_configuration()
            .private_ip
    }

    /// Traces from a VM to an address.
    pub fn trace(&self, from: &str, to: &str, probe: Probe) -> Trace {
        let to = to.parse().unwrap_or_else(|_| self.ip(to));
        self.fabric().trace(self.ip(from), to, probe)
    }

    /// One real packet entering the fabric at its source address (the live lab's walk).
    pub fn forward(&self, packet: FiveTuple) -> Forwarding {
        let from = resolve(&self.addresses, packet.src);
        self.fabric().forward(from, packet, None)
    }
}

pub(crate) fn tcp(port: u16) -> Probe {
    Probe {
        protocol: FiveTuple::TCP,
        port,
    }
}

pub(crate) fn icmp() -> Probe {
    Probe {
        protocol: FiveTuple::ICMP,
        port: 0,
    }
}

/// A packet between two addresses.
pub(crate) fn packet(protocol: u8, src: &str, dst: &str, dst_port: u16) -> FiveTuple {
    FiveTuple {
        src: src.parse().expect("an address"),
        dst: dst.parse().expect("an address"),
        protocol,
        src_port: SOURCE_PORT,
        dst_port,
    }
}

/// The first hop of a layer.
pub(crate) fn at(path: &Path, layer: Layer) -> &Hop {
    path.hops
        .iter()
        .find(|h| h.layer == layer)
        .unwrap_or_else(|| panic!("no {layer:?} hop in {:#?}", path.hops))
}

/// A hub with a VPN gateway to site onprem (192.168.0.0/16) and an appliance nva1 (10.0.1.4, IP
/// forwarding on) beside plain (10.0.1.5, off); spoke1 (vm1, 10.1.0.4) routes spoke2, plain
/// and two other ranges to appliances; spoke2 (vm2, 10.2.0.4) does not allow forwarded traffic
/// from the hub.
pub(crate) const HUB: &str = "
vnets:
  hub:
    address_space: [10.0.0.0/16]
    gateway: { name: vpngw, sku: VpnGw1 }
    subnets:
      GatewaySubnet: 10.0.255.0/27
      nva:
        prefix: 10.0.1.0/24
        vms:
          nva1: { ip: 10.0.1.4, ip_forwarding: true }
          plain: { ip: 10.0.1.5 }
    peerings:
      spoke1: { allow_forwarded_traffic: true }
      spoke2: {}
  spoke1:
    address_space: [10.1.0.0/16]
    subnets:
      app: { prefix: 10.1.0.0/24, route_table: to-nva, vms: { vm1: { ip: 10.1.0.4 } } }
    peerings:
      hub: { allow_forwarded_traffic: true }
  spoke2:
    address_space: [10.2.0.0/16]
    subnets:
      app: { prefix: 10.2.0.0/24, vms: { vm2: { ip: 10.2.0.4 } } }
    peerings:
      hub: {}
route_tables:
  to-nva:
    routes:
      spoke2-via-nva: { prefix: 10.2.0.0/16, next_hop: VirtualAppliance, ip: 10.0.1.4 }
      plain-via-nva: { prefix: 10.0.1.5/32, next_hop: VirtualAppliance, ip: 10.0.1.4 }
      to-nowhere: { prefix: 10.3.0.0/16, next_hop: VirtualAppliance, ip: 10.0.1.99 }
      via-plain: { prefix: 10.4.0.0/16, next_hop: VirtualAppliance, ip: 10.0.1.5 }
sites:
  onprem: { gateway_ip: 198.51.100.10, address_space: [192.168.0.0/16], connect_to: hub }
";

/// Outbound SNAT in every flavour (docs/semantics/dataplane.md §5.3) and a Standard public load
/// balancer lb1 (pip-lb, 198.51.100.30) in front of web1 and web2.
pub(crate) const EDGE: &str = "
vnets:
  vnet1:
    address_space: [10.0.0.0/16]
    subnets:
      natted:
        prefix: 10.0.1.0/24
        nat_gateway: ng1
        vms:
          vm-nat-pip: { ip: 10.0.1.5, public_ip: pip-vm-nat }
      public:
        prefix: 10.0.2.0/24
        vms:
          vm-pip: { ip: 10.0.2.4, public_ip: pip-vm }
          vm-default: { ip: 10.0.2.5 }
      private:
        prefix: 10.0.3.0/24
        default_outbound_access: false
        vms:
          vm-private: { ip: 10.0.3.4 }
      web:
        prefix: 10.0.6.0/24
        vms:
          web1: { ip: 10.0.6.4, nsg: nsg-web, lb_pools: [lb1/web] }
          web2: { ip: 10.0.6.5, nsg: nsg-web, lb_pools: [lb1/web], lb_nat_rules: [lb1/ssh-web2] }
nat_gateways:
  ng1: { public_ips: [pip-nat] }
public_ips:
  pip-nat: { address: 198.51.100.20 }
  pip-vm-nat: { address: 198.51.100.21 }
  pip-vm: { address: 198.51.100.22 }
  pip-lb: { address: 198.51.100.30 }
nsgs:
  nsg-web:
    rules:
      - { name: allow-web, priority: 100, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: '8080' }
      - { name: allow-ssh, priority: 110, direction: Inbound, access: Allow, protocol: Tcp, destination_ports: '22' }
load_balancers:
  lb1:
    frontends: { fe: { public_ip: pip-lb } }
    pools: [web]
    probes: { http: { port: 8080 } }
    rules:
      http: { frontend: fe, pool: web, frontend_port: 80, backend_port: 8080, probe: http }
    inbound_nat_rules:
      ssh-web2: { frontend: fe, frontend_port: 2222, backend_port: 22 }
";

/// An Internet host.
pub(crate) const CLIENT: &str = "203.0.113.9";
