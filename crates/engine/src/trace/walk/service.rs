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

#[cfg(test)]
mod tests {
    use crate::flow::FiveTuple;
    use crate::trace::walk::testing::{at, packet, Lab};
    use crate::trace::{Decision, Egress, Layer, ResourceRef, Verdict};
    use vnetlab_model::service_tags::ServiceTags;
    use vnetlab_model::NextHopType;

    const LAB: &str = "
location: eastus
vnets:
  vnet1:
    address_space: [10.0.0.0/16]
    subnets:
      app:
        prefix: 10.0.1.0/24
        service_endpoints: [{ service: Microsoft.Storage, locations: [eastus] }]
        vms:
          vm1: { ip: 10.0.1.4 }
";

    #[test]
    fn only_tcp_takes_the_subnets_service_endpoint() {
        // docs/semantics/dataplane.md §4.6: TCP to the service's addresses goes over the
        // service endpoint; ICMP follows the subnet's other routes (here to the Internet).
        let lab = Lab::new(LAB);
        let storage = ServiceTags::bundled()
            .get("Storage.EastUS")
            .expect("the bundled Storage.EastUS tag")
            .prefixes[0];
        let dst = std::net::Ipv4Addr::from(u32::from(storage.network()) + 4).to_string();
        let tcp = lab.forward(packet(FiveTuple::TCP, "10.0.1.4", &dst, 443));
        assert_eq!(
            (tcp.path.verdict, tcp.egress),
            (Verdict::Delivered, Some(Egress::Service))
        );
        let last = tcp.path.hops.last().unwrap();
        assert_eq!(
            (last.resource, &last.decision),
            (
                ResourceRef::ServiceEndpoint,
                &Decision::Setting("VirtualNetworkServiceEndpoint")
            )
        );
        let ping = lab.forward(packet(FiveTuple::ICMP, "10.0.1.4", &dst, 0));
        assert_eq!(ping.egress, Some(Egress::Internet));
        let Decision::Route(route) = &at(&ping.path, Layer::Route).decision else {
            panic!("a route")
        };
        assert_eq!(route.next_hop_type, NextHopType::Internet);
    }
}
