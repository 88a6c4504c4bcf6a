//! A trace's two directions: the request, then its reply walked back with the flow state the
//! request left (NSGs, a load balancer's translation, the public address it came in on), and the
//! asymmetric paths a stateful appliance or the client drops (docs/semantics/routing.md §5.6).

use super::{LbFlow, Snat, Walker};
use crate::flow::FiveTuple;
use crate::security::tags::is_internet;
use crate::trace::endpoint::Endpoint;
use crate::trace::{Asymmetry, Fabric, Layer, Path, ResourceRef, Verdict};
use std::collections::HashSet;
use vnetlab_model::NicId;

/// What the request's walk left for its reply.
pub(super) struct Request {
    pub(super) path: Path,
    /// The packet as delivered.
    pub(super) last: FiveTuple,
    pub(super) delivered_to: Option<NicId>,
    pub(super) allowed_at: HashSet<NicId>,
    pub(super) snat: Option<Snat>,
    pub(super) lb_flow: Option<LbFlow>,
}

/// The reply of a delivered request, walked from where the request arrived, and whether it is
/// asymmetric. None when the reply is not walked: it returns by a NAT's own state, or from
/// somewhere the walk cannot start.
pub(super) fn reply(
    f: &Fabric,
    to: Endpoint,
    request: &Request,
) -> Option<(Path, Option<Asymmetry>)> {
    let reply_packet = request.last.reversed();
    let t = f.topology;
    let mut r = Walker::new(f, Some(&request.allowed_at));
    r.lb_flow = request.lb_flow;
    // Where the reply starts, and for a site the VNet its gateway brings it into.
    let (from, through_gateway) = match (request.delivered_to, to, request.snat) {
        (Some(nic), _, _) => {
            if let Endpoint::PublicIp { public, .. } = to {
                r.reply_via = Some(public);
            }
            (ResourceRef::Nic(nic), None)
        }
        // Replies from the Internet to a shared SNAT address return by the NAT's own state.
        (None, Endpoint::Internet(_), Some(Snat::PublicIp(_))) => (ResourceRef::Internet, None),
        (None, Endpoint::OnPremises { ip, .. }, _) => {
            let (site, gateway) = f.addresses.site(ip)?;
            (ResourceRef::Site(site), Some(t.gateway(gateway).vnet))
        }
        _ => return None,
    };
    r.hop(from, Layer::Source, "", "the reply", reply_packet, true);
    match (from, through_gateway) {
        (ResourceRef::Nic(nic), _) => r.leave(nic, reply_packet),
        (_, Some(vnet)) => r.enter_from_gateway(vnet, reply_packet),
        _ => r.enter_from_internet(reply_packet),
    }
    let reply = r.path();
    let set = |v: &[NicId]| {
        let mut n = v.to_vec();
        n.sort();
        n.dedup();
        n
    };
    let (there, back) = (set(&request.path.appliances), set(&reply.appliances));
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
    Some((reply, asymmetric))
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
