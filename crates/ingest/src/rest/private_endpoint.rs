//! Private endpoints from the REST shape (privateEndpoint.json; docs/semantics/routing.md 3.2 E5): the subnet,
//! and the address from `ipConfigurations` or, when none is given, the subnet's next free one
//! (D14).

use super::{pick, Builder, Pending, Target};
use crate::value::Reader;
use std::net::Ipv4Addr;
use vnetlab_model::PrivateEndpoint;

pub(super) fn build_private_endpoints(b: &mut Builder) {
    for raw in b
        .of_kind("microsoft.network/privateendpoints")
        .collect::<Vec<_>>()
    {
        let origin = raw.origin("private endpoint");
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let subnet_ref = r.reference("properties.subnet");
        let ip = r
            .array("properties.ipConfigurations")
            .first()
            .and_then(|c| crate::value::at(c, "properties.privateIPAddress"))
            .and_then(|v| v.as_str())
            .and_then(|s| s.parse::<Ipv4Addr>().ok());
        if subnet_ref.is_none() {
            r.error("properties.subnet", "a private endpoint needs subnet.id");
        }
        let Some(subnet) = subnet_ref
            .and_then(|id| b.resolve(&origin, "properties.subnet.id", id, "subnet", pick!(Subnet)))
        else {
            continue;
        };
        let index = b.topo.private_endpoints.len();
        if ip.is_none() {
            b.pending.push(Pending::PrivateEndpoint {
                order: raw.order,
                endpoint: index,
            });
        }
        b.register(raw, Target::Other("private endpoint"));
        b.topo.private_endpoints.push(PrivateEndpoint {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            subnet,
            ip: ip.unwrap_or(Ipv4Addr::UNSPECIFIED),
            origin,
        });
    }
}
