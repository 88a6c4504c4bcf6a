//! A VPN gateway: out through a tunnel to a site or another VNet's gateway, and in through the
//! GatewaySubnet's routes, its own VNet's or through gateway transit (docs/semantics/routing.md
//! §6, §7; docs/semantics/dataplane.md §7).

use super::Walker;
use crate::flow::FiveTuple;
use crate::routes::gateway::{serving_vnet, PrefixSource};
use crate::trace::{Decision, ResourceRef};
use crate::trace::{Egress, Layer};
use vnetlab_model::VnetId;

impl Walker<'_, '_> {
    /// A route to the VNet's gateway (own or through transit): the site or VNet behind it.
    pub(super) fn gateway(&mut self, vnet: VnetId, packet: FiveTuple) {
        let t = self.f.topology;
        let Some(owner) = serving_vnet(t, vnet) else {
            self.hop(
                ResourceRef::Vnet(vnet),
                Layer::Gateway,
                "no gateway",
                "the VNet has no gateway and uses none through transit",
                packet,
                false,
            );
            return;
        };
        let mut best: Option<(u8, PrefixSource, vnetlab_model::GatewayId)> = None;
        for g in t.gateways_in(owner) {
            if let Some((len, source)) = self.f.addresses.gateway_route(g, packet.dst) {
                if best.is_none_or(|(l, _, _)| len > l) {
                    best = Some((len, source, g));
                }
            }
        }
        let gw_name = t
            .gateways_in(owner)
            .next()
            .map_or(ResourceRef::Vnet(owner), ResourceRef::Gateway);
        let Some((_, source, g)) = best else {
            self.hop(
                gw_name,
                Layer::Gateway,
                "no route",
                format!(
                    "the gateway has no connection whose prefixes cover {}",
                    packet.dst
                ),
                packet,
                false,
            );
            return;
        };
        let resource = ResourceRef::Gateway(g);
        match source {
            PrefixSource::Static(site)
            | PrefixSource::Bgp(site)
            | PrefixSource::DefaultSite(site) => {
                let lng = &t.local_gateways[site.index()].name;
                self.hop(
                    resource,
                    Layer::Gateway,
                    Decision::Site(site),
                    format!("through the VPN tunnel to site '{lng}'"),
                    packet,
                    true,
                );
                self.deliver(
                    Egress::Site(site),
                    ResourceRef::Site(site),
                    "",
                    format!("delivered to on-premises site '{lng}'"),
                    packet,
                );
            }
            PrefixSource::Vnet2Vnet(remote) => {
                self.hop(
                    resource,
                    Layer::Gateway,
                    Decision::Gateway(remote),
                    "through the VNet-to-VNet tunnel",
                    packet,
                    true,
                );
                self.enter_from_gateway(t.gateway(remote).vnet, packet);
            }
        }
    }

    /// A packet enters a VNet through its gateway: GatewaySubnet's routes decide.
    pub(super) fn enter_from_gateway(&mut self, vnet: VnetId, packet: FiveTuple) {
        let t = self.f.topology;
        let gs = t
            .vnet(vnet)
            .subnets
            .iter()
            .copied()
            .find(|s| t.subnet(*s).name == "GatewaySubnet");
        let Some(gs) = gs else {
            self.hop(
                ResourceRef::Vnet(vnet),
                Layer::Gateway,
                "GatewaySubnet",
                "the VNet has no GatewaySubnet",
                packet,
                false,
            );
            return;
        };
        let gw = t
            .gateways_in(vnet)
            .next()
            .map_or(ResourceRef::Vnet(vnet), ResourceRef::Gateway);
        self.hop(
            gw,
            Layer::Gateway,
            "",
            format!(
                "enters '{}' through its gateway; GatewaySubnet's routes decide",
                t.vnet(vnet).name
            ),
            packet,
            true,
        );
        self.route(gs, None, packet, true);
    }
}

#[cfg(test)]
mod tests {
    use crate::trace::walk::testing::{at, icmp, Lab, HUB};
    use crate::trace::{Decision, Layer, ResourceRef, Verdict};

    #[test]
    fn a_site_prefix_goes_through_the_vpn_tunnel_and_comes_back_through_gatewaysubnet() {
        // docs/semantics/routing.md §6: the site's prefix is a VirtualNetworkGateway route in
        // the hub; the site's packets enter through the gateway and GatewaySubnet's routes.
        let lab = Lab::new(HUB);
        let site = lab
            .t
            .local_gateways
            .iter()
            .position(|l| l.name == "onprem")
            .unwrap();
        let site = vnetlab_model::LocalGatewayId(site as u32);
        let gw = vnetlab_model::GatewayId(0);
        let tr = lab.trace("plain", "192.168.1.1", icmp());
        assert_eq!(tr.forward.verdict, Verdict::Delivered);
        let hop = at(&tr.forward, Layer::Gateway);
        assert_eq!(
            (hop.resource, &hop.decision),
            (ResourceRef::Gateway(gw), &Decision::Site(site))
        );
        assert_eq!(
            tr.forward.hops.last().unwrap().resource,
            ResourceRef::Site(site)
        );
        let reply = tr.reply.expect("a reply");
        assert_eq!(reply.verdict, Verdict::Delivered);
        assert_eq!(
            at(&reply, Layer::Gateway).resource,
            ResourceRef::Gateway(gw)
        );
    }
}
