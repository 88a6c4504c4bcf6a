//! What an address in a trace stands for (Trace issue, "Endpoints"): a NIC's private address,
//! a public IP in front of a NIC or a load balancer, an on-premises host (an address a local
//! network gateway's static or BGP prefixes cover), the platform's own 168.63.129.16 and
//! 169.254.169.254 (dataplane.md 1.5), an Internet host, or a private address no resource holds.

use crate::routes::gateway::gateway_prefixes;
use crate::security::tags::{is_internet, IMDS, WIRESERVER};
use std::net::Ipv4Addr;
use vnetlab_model::{GatewayId, LoadBalancerId, LocalGatewayId, NicId, Topology};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Nic { nic: NicId, ip: Ipv4Addr },
    PublicIp { nic: NicId, public: Ipv4Addr, private: Ipv4Addr },
    LoadBalancer { lb: LoadBalancerId, frontend: usize, ip: Ipv4Addr },
    OnPremises { site: LocalGatewayId, ip: Ipv4Addr },
    /// The host's virtual IP 168.63.129.16 or the metadata service 169.254.169.254.
    Platform(Ipv4Addr),
    Internet(Ipv4Addr),
    Unowned(Ipv4Addr),
}

impl Endpoint {
    /// The address packets carry for this endpoint.
    pub fn ip(self) -> Ipv4Addr {
        match self {
            Endpoint::Nic { ip, .. } | Endpoint::OnPremises { ip, .. } | Endpoint::LoadBalancer { ip, .. } | Endpoint::Platform(ip) | Endpoint::Internet(ip) | Endpoint::Unowned(ip) => ip,
            Endpoint::PublicIp { public, .. } => public,
        }
    }
}

/// The site whose prefixes cover an address, with the gateway connected to it; the longest
/// covering prefix wins.
pub fn site_of(t: &Topology, ip: Ipv4Addr) -> Option<(LocalGatewayId, GatewayId)> {
    let mut best: Option<(u8, LocalGatewayId, GatewayId)> = None;
    for g in 0..t.gateways.len() {
        let gateway = GatewayId(g as u32);
        for (prefix, source) in gateway_prefixes(t, gateway) {
            use crate::routes::gateway::PrefixSource::*;
            let site = match source {
                // A default route to a site (a Default Site, or 0.0.0.0/0 advertised over BGP for
                // forced tunnelling, routing.md 5.6) does not make every address a site's.
                Static(l) | Bgp(l) if prefix.prefix_len() > 0 => l,
                Static(_) | Bgp(_) | DefaultSite(_) | Vnet2Vnet(_) => continue,
            };
            if prefix.contains(&ip) && best.is_none_or(|(len, _, _)| prefix.prefix_len() > len) {
                best = Some((prefix.prefix_len(), site, gateway));
            }
        }
    }
    best.map(|(_, site, gateway)| (site, gateway))
}

pub fn resolve(t: &Topology, ip: Ipv4Addr) -> Endpoint {
    if ip == WIRESERVER || ip == IMDS {
        return Endpoint::Platform(ip);
    }
    for (i, nic) in t.nics.iter().enumerate() {
        if nic.ip_configurations.iter().any(|c| c.private_ip == ip) {
            return Endpoint::Nic { nic: NicId(i as u32), ip };
        }
        if let Some(cfg) = nic.ip_configurations.iter().find(|c| c.public_ip.is_some_and(|p| t.public_ips[p.index()].address == ip)) {
            return Endpoint::PublicIp { nic: NicId(i as u32), public: ip, private: cfg.private_ip };
        }
    }
    for (i, lb) in t.load_balancers.iter().enumerate() {
        for (f, fe) in lb.frontends.iter().enumerate() {
            let public = fe.public_ip.map(|p| t.public_ips[p.index()].address);
            if public == Some(ip) || fe.private.is_some_and(|(_, p)| p == ip) {
                return Endpoint::LoadBalancer { lb: LoadBalancerId(i as u32), frontend: f, ip };
            }
        }
    }
    if let Some((site, _)) = site_of(t, ip) {
        return Endpoint::OnPremises { site, ip };
    }
    if is_internet(ip) {
        Endpoint::Internet(ip)
    } else {
        Endpoint::Unowned(ip)
    }
}
