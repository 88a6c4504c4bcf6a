//! Load balancers (docs/semantics/dataplane.md 6.1, \[PROBE\]; 4.2 for addresses): HTTP(S) health probes are
//! refused on the ports Azure reserves for them, and an internal frontend's private address
//! must lie in its subnet outside the five reserved addresses, as a NIC's must.

use crate::diagnostic::Diagnostic;
use crate::kinds::ProbeProtocol;
use crate::topology::Topology;

/// Ports an HTTP or HTTPS probe may not use (\[PROBE\]).
pub const HTTP_PROBE_REFUSED_PORTS: [u16; 9] = [19, 21, 25, 70, 110, 119, 143, 220, 993];

pub(super) fn check(t: &Topology, out: &mut Vec<Diagnostic>) {
    for lb in &t.load_balancers {
        for (i, frontend) in lb.frontends.iter().enumerate() {
            if let Some((subnet, ip)) = frontend.private {
                out.extend(super::ip_configuration::refused(
                    t,
                    &lb.origin,
                    &format!(
                        "properties.frontendIPConfigurations[{i}].properties.privateIPAddress"
                    ),
                    subnet,
                    ip,
                ));
            }
        }
        for (i, probe) in lb.probes.iter().enumerate() {
            let http = matches!(probe.protocol, ProbeProtocol::Http | ProbeProtocol::Https);
            if http && HTTP_PROBE_REFUSED_PORTS.contains(&probe.port) {
                out.push(
                    Diagnostic::error(&lb.origin, &format!("properties.probes[{i}].properties.port"), format!("an {} probe may not use port {}", probe.protocol, probe.port))
                        .with_hint(format!("Azure refuses HTTP probes on ports {HTTP_PROBE_REFUSED_PORTS:?}; use a TCP probe or another port")),
                );
            }
        }
    }
}
