//! Virtual network gateway rules (docs/semantics/dataplane.md 7, \[VPNSKU\]; docs/semantics/routing.md 7 \[GW-TRANSIT\]): gateways
//! live in a subnet named GatewaySubnet, a VNet has at most one VPN and one ExpressRoute
//! gateway, the Basic SKU has no BGP, no active-active and no gateway transit; a BGP connection
//! needs a BGP gateway.

use crate::diagnostic::Diagnostic;
use crate::kinds::VpnType;
use crate::topology::{GatewayType, Topology};

pub(super) fn check(t: &Topology, out: &mut Vec<Diagnostic>) {
    for c in &t.connections {
        let g = t.gateway(c.gateway);
        if c.enable_bgp && !g.enable_bgp {
            out.push(
                Diagnostic::error(
                    &c.origin,
                    "properties.enableBgp",
                    format!(
                        "the connection enables BGP, but gateway '{}' does not",
                        g.name
                    ),
                )
                .with_hint("set enableBgp: true on the gateway (VpnGw1 or larger)"),
            );
        }
    }
    for (i, g) in t.gateways.iter().enumerate() {
        let basic = g.sku.is_basic();
        if basic && g.enable_bgp {
            out.push(
                Diagnostic::error(
                    &g.origin,
                    "properties.enableBgp",
                    "the Basic VPN gateway SKU does not support BGP",
                )
                .with_hint("use VpnGw1 or larger"),
            );
        }
        if basic && g.active_active {
            out.push(
                Diagnostic::error(
                    &g.origin,
                    "properties.activeActive",
                    "the Basic VPN gateway SKU does not support active-active",
                )
                .with_hint("use VpnGw1 or larger"),
            );
        }
        if g.vpn_type == VpnType::PolicyBased && !basic {
            out.push(Diagnostic::error(
                &g.origin,
                "properties.vpnType",
                format!(
                    "a PolicyBased gateway must use the Basic SKU, not {}",
                    g.sku
                ),
            ));
        }
        let twin = t.gateways[..i]
            .iter()
            .find(|o| o.vnet == g.vnet && o.gateway_type == g.gateway_type);
        if let Some(twin) = twin {
            let kind = if g.gateway_type == GatewayType::Vpn {
                "VPN"
            } else {
                "ExpressRoute"
            };
            out.push(Diagnostic::error(
                &g.origin,
                "properties.ipConfigurations",
                format!(
                    "VNet '{}' already has the {kind} gateway '{}'; a VNet has at most one",
                    t.vnet(g.vnet).name,
                    twin.name
                ),
            ));
        }
        if basic {
            for p in t.vnet(g.vnet).peerings.iter().map(|p| &t[*p]) {
                if p.allow_gateway_transit {
                    out.push(
                        Diagnostic::error(&p.origin, "properties.allowGatewayTransit", format!("gateway '{}' uses the Basic SKU, which does not support gateway transit", g.name))
                            .with_hint("use VpnGw1 or larger for a hub whose spokes share its gateway"),
                    );
                }
            }
        }
    }
}
