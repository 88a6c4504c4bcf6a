//! A trace's two directions: the request, then its reply walked back with the flow state the
//! request left (NSGs, a load balancer's translation, the public address it came in on), and the
//! asymmetric paths a stateful appliance or the client drops (docs/semantics/routing.md §5.6).

use super::{Snat, Walker};
use crate::flow::FiveTuple;
use crate::security::tags::is_internet;
use crate::trace::endpoint::Endpoint;
use crate::trace::{Asymmetry, Fabric, Layer, Probe, ResourceRef, Trace, Verdict, SOURCE_PORT};
use vnetlab_model::{NicId, Protocol};

pub(in crate::trace) fn trace(f: &Fabric, from: Endpoint, to: Endpoint, probe: Probe) -> Trace {
    let ports = Protocol::has_ports(probe.protocol);
    let packet = FiveTuple {
        src: from.ip(),
        dst: to.ip(),
        protocol: probe.protocol,
        src_port: if ports { SOURCE_PORT } else { 0 },
        dst_port: if ports { probe.port } else { 0 },
    };
    let mut w = Walker::new(f, None);
    w.start(from, packet);
    let allowed_at = std::mem::take(&mut w.allowed_at);
    let snat = w.snat;
    let lb_flow = w.lb_flow;
    let last = w.hops.last().map(|h| h.packet).unwrap_or(packet);
    let delivered_to = w.delivered_to;
    let forward = w.path();
    if forward.verdict != Verdict::Delivered {
        return Trace {
            from,
            to,
            forward,
            reply: None,
            asymmetric: None,
        };
    }
    // The reply: the reversed packet as delivered, from where it arrived.
    let reply_packet = last.reversed();
    let t = f.topology;
    let mut r = Walker::new(f, Some(&allowed_at));
    r.lb_flow = lb_flow;
    match (delivered_to, to, snat) {
        (Some(nic), _, _) => {
            if let Endpoint::PublicIp { public, .. } = to {
                r.reply_via = Some(public);
            }
            r.hop(
                ResourceRef::Nic(nic),
                Layer::Source,
                "",
                "the reply",
                reply_packet,
                true,
            );
            r.leave(nic, reply_packet);
        }
        // Replies from the Internet to a shared SNAT address return by the NAT's own state.
        (None, Endpoint::Internet(_), Some(Snat::Shared) | None) => {
            return Trace {
                from,
                to,
                forward,
                reply: None,
                asymmetric: None,
            }
        }
        (None, Endpoint::Internet(_), Some(Snat::PublicIp(_))) => {
            r.hop(
                ResourceRef::Internet,
                Layer::Source,
                "",
                "the reply",
                reply_packet,
                true,
            );
            r.enter_from_internet(reply_packet);
        }
        (None, Endpoint::OnPremises { ip, .. }, _) => match f.addresses.site(ip) {
            Some((site, gateway)) => {
                r.hop(
                    ResourceRef::Site(site),
                    Layer::Source,
                    "",
                    "the reply",
                    reply_packet,
                    true,
                );
                r.enter_from_gateway(t.gateway(gateway).vnet, reply_packet);
            }
            None => {
                return Trace {
                    from,
                    to,
                    forward,
                    reply: None,
                    asymmetric: None,
                }
            }
        },
        _ => {
            return Trace {
                from,
                to,
                forward,
                reply: None,
                asymmetric: None,
            }
        }
    }
    let reply = r.path();
    let set = |v: &[NicId]| {
        let mut n = v.to_vec();
        n.sort();
        n.dedup();
        n
    };
    let (there, back) = (set(&forward.appliances), set(&reply.appliances));
    // The public address the request came in on: the client expects the reply from it, so a
    // reply that leaves another way is lost too (docs/semantics/routing.md 5.6: with 0.0.0.0/0
    // to a device or a gateway, inbound from the Internet breaks unless the device NATs).
    let came_in_on = match to {
        Endpoint::PublicIp { public, .. } => Some(public),
        Endpoint::LoadBalancer { ip, .. } if is_internet(ip) => Some(ip),
        _ => None,
    };
    let last_reply = reply.hops.last();
    let left_by = last_reply
        .filter(|h| h.resource == ResourceRef::Internet && h.layer == Layer::Delivery)
        .map(|h| h.packet.src);
    let wrong_way = came_in_on.filter(|public| left_by != Some(*public));
    let asymmetric = (reply.verdict == Verdict::Delivered
        && (there != back || wrong_way.is_some()))
    .then(|| Asymmetry {
        there,
        back,
        wrong_way,
        reply_to: last_reply.map(|h| h.resource),
    });
    Trace {
        from,
        to,
        forward,
        reply: Some(reply),
        asymmetric,
    }
}

#[cfg(test)]
mod tests {
    use crate::trace::walk::testing::{icmp, Lab, HUB};
    use crate::trace::{Asymmetry, Verdict};

    #[test]
    fn a_reply_that_skips_the_requests_appliance_is_asymmetric() {
        // docs/semantics/routing.md §5.6: vm1 reaches plain through nva1 (route
        // plain-via-nva), but plain's reply goes straight back over the peering: a stateful
        // appliance drops what it did not see.
        let lab = Lab::new(HUB);
        let tr = lab.trace("vm1", "plain", icmp());
        assert_eq!(tr.forward.verdict, Verdict::Delivered);
        assert_eq!(
            tr.reply.as_ref().map(|r| r.verdict),
            Some(Verdict::Delivered)
        );
        assert_eq!(
            tr.asymmetric,
            Some(Asymmetry {
                there: vec![lab.nic("nva1")],
                back: vec![],
                wrong_way: None,
                reply_to: Some(crate::trace::ResourceRef::Nic(lab.nic("vm1"))),
            })
        );
        assert_eq!(tr.verdict(), Verdict::Dropped);
    }
}
