//! VNet peering rules (docs/semantics/routing.md 7; \[SPEC-VNET\]; \[GW-DIFF-REGION\]): peered address spaces
//! must not overlap; useRemoteGateways only on one peering, never with a gateway of one's own,
//! and only towards a VNet whose side allows gateway transit; one VNet's peers must not
//! overlap each other.

use crate::addressing::overlaps;
use crate::diagnostic::Diagnostic;
use crate::topology::Topology;

pub(super) fn check(t: &Topology, out: &mut Vec<Diagnostic>) {
    for p in &t.peerings {
        let local = t.vnet(p.vnet);
        let remote = t.vnet(p.remote);
        if p.vnet == p.remote {
            out.push(Diagnostic::error(
                &p.origin,
                "properties.remoteVirtualNetwork.id",
                format!("VNet '{}' cannot peer with itself", local.name),
            ));
            continue;
        }
        'outer: for a in &local.address_space {
            for b in &remote.address_space {
                if overlaps(*a, *b) {
                    out.push(
                        Diagnostic::error(&p.origin, "properties.remoteVirtualNetwork.id", format!("VNets '{}' ({a}) and '{}' ({b}) have overlapping address spaces and cannot be peered", local.name, remote.name))
                            .with_hint("give each VNet its own address range before peering them"),
                    );
                    break 'outer;
                }
            }
        }
        if p.use_remote_gateways {
            if t.gateways_in(p.vnet).next().is_some() {
                out.push(
                    Diagnostic::error(
                        &p.origin,
                        "properties.useRemoteGateways",
                        format!(
                            "VNet '{}' has its own gateway, so it cannot use a remote one",
                            local.name
                        ),
                    )
                    .with_hint("remove useRemoteGateways, or remove the VNet's own gateway"),
                );
            }
            if t.gateways_in(p.remote).next().is_none() {
                out.push(Diagnostic::error(
                    &p.origin,
                    "properties.useRemoteGateways",
                    format!("remote VNet '{}' has no gateway to use", remote.name),
                ));
            }
            if let Some(back) = t.peering_between(p.remote, p.vnet) {
                if !back.allow_gateway_transit {
                    out.push(
                        Diagnostic::error(&p.origin, "properties.useRemoteGateways", format!("the peering '{}' on the other side ({}) does not set allowGatewayTransit", back.name, remote.name))
                            .with_hint(format!("set allowGatewayTransit: true on {}/{}", remote.name, back.name)),
                    );
                }
            }
        }
    }
    for vnet in &t.vnets {
        // Two peered VNets whose spaces overlap would make the peering routes ambiguous; Azure
        // refuses the second peering.
        let peers: Vec<_> = vnet.peerings.iter().map(|p| &t[*p]).collect();
        for (i, p) in peers.iter().enumerate() {
            if let Some(q) = peers[..i].iter().find(|q| {
                t.vnet(q.remote).address_space.iter().any(|a| {
                    t.vnet(p.remote)
                        .address_space
                        .iter()
                        .any(|b| overlaps(*a, *b))
                })
            }) {
                out.push(Diagnostic::error(
                    &p.origin,
                    "properties.remoteVirtualNetwork.id",
                    format!(
                        "VNet '{}' is already peered with '{}', whose address space overlaps '{}'",
                        vnet.name,
                        t.vnet(q.remote).name,
                        t.vnet(p.remote).name
                    ),
                ));
            }
        }
        let using: Vec<_> = vnet
            .peerings
            .iter()
            .map(|p| &t[*p])
            .filter(|p| p.use_remote_gateways)
            .collect();
        if using.len() > 1 {
            out.push(
                Diagnostic::error(&using[1].origin, "properties.useRemoteGateways", format!("VNet '{}' sets useRemoteGateways on {} peerings ('{}' and '{}'); only one may", vnet.name, using.len(), using[0].name, using[1].name))
                    .with_hint("keep useRemoteGateways on the peering to the hub whose gateway this VNet should use"),
            );
        }
    }
}
