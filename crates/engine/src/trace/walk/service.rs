//! Azure services reached from a subnet: a service endpoint carries the VM's private address
//! over the backbone, a private endpoint's address is answered by the service behind it
//! (docs/semantics/dataplane.md §4.6).

use super::Walker;
use crate::flow::FiveTuple;
use crate::trace::{Egress, ResourceRef};

impl Walker<'_, '_> {
    /// A VirtualNetworkServiceEndpoint route: the service answers.
    pub(super) fn service_endpoint(&mut self, packet: FiveTuple) {
        self.deliver(
            Egress::Service,
            ResourceRef::ServiceEndpoint,
            "VirtualNetworkServiceEndpoint",
            "reaches the Azure service over the backbone, from the VM's private address".into(),
            packet,
        );
    }

    /// An InterfaceEndpoint route: the private endpoint holding the address.
    pub(super) fn private_endpoint(&mut self, packet: FiveTuple) {
        let t = self.f.topology;
        let index = t.private_endpoints.iter().position(|p| p.ip == packet.dst);
        let pe = index.map_or("", |i| t.private_endpoints[i].name.as_str());
        self.deliver(
            Egress::Service,
            ResourceRef::PrivateEndpoint(index),
            "InterfaceEndpoint",
            format!("delivered to private endpoint '{pe}': the service behind it answers"),
            packet,
        );
    }
}
