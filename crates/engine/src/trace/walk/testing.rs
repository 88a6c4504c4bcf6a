//! Test support for the walk's unit tests: a small lab written as a YAML lab file, with its
//! routes, NSGs and addresses compiled, traced by the engine alone.

use crate::flow::FiveTuple;
use crate::routes::RoutingTables;
use crate::security::tables::SecurityTables;
use crate::trace::address_index::AddressIndex;
use crate::trace::endpoint::{resolve, Endpoint};
use crate::trace::{Fabric, Forwarding, Hop, Layer, Path, Probe, Trace};
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

    /// One real packet sent by a VM (the live lab's walk).
    pub fn forward(&self, vm: &str, packet: FiveTuple) -> Forwarding {
        let from = resolve(&self.addresses, self.ip(vm));
        assert!(matches!(from, Endpoint::Nic { .. }));
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

/// The first hop of a layer.
pub(crate) fn at(path: &Path, layer: Layer) -> &Hop {
    path.hops
        .iter()
        .find(|h| h.layer == layer)
        .unwrap_or_else(|| panic!("no {layer:?} hop in {:#?}", path.hops))
}
