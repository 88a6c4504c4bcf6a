//! What an address in a trace stands for (Trace issue, "Endpoints"): a NIC's private address,
//! a public IP in front of a NIC or a load balancer, an on-premises host (an address a local
//! network gateway's static or BGP prefixes cover), the platform's own 168.63.129.16 and
//! 169.254.169.254 (docs/semantics/dataplane.md 1.5), an Internet host, or a private address no resource holds.

use super::address_index::AddressIndex;
use crate::security::tags::{is_internet, IMDS, WIRESERVER};
use std::net::Ipv4Addr;
use vnetlab_model::{LoadBalancerId, LocalGatewayId, NicId};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    Nic {
        nic: NicId,
        ip: Ipv4Addr,
    },
    PublicIp {
        nic: NicId,
        public: Ipv4Addr,
        private: Ipv4Addr,
    },
    LoadBalancer {
        lb: LoadBalancerId,
        frontend: usize,
        ip: Ipv4Addr,
    },
    OnPremises {
        site: LocalGatewayId,
        ip: Ipv4Addr,
    },
    /// The host's virtual IP 168.63.129.16 or the metadata service 169.254.169.254.
    Platform(Ipv4Addr),
    Internet(Ipv4Addr),
    Unowned(Ipv4Addr),
}

impl Endpoint {
    /// The address packets carry for this endpoint.
    pub fn ip(self) -> Ipv4Addr {
        match self {
            Endpoint::Nic { ip, .. }
            | Endpoint::OnPremises { ip, .. }
            | Endpoint::LoadBalancer { ip, .. }
            | Endpoint::Platform(ip)
            | Endpoint::Internet(ip)
            | Endpoint::Unowned(ip) => ip,
            Endpoint::PublicIp { public, .. } => public,
        }
    }
}

pub fn resolve(addresses: &AddressIndex, ip: Ipv4Addr) -> Endpoint {
    if ip == WIRESERVER || ip == IMDS {
        return Endpoint::Platform(ip);
    }
    if let Some(nic) = addresses.nic(ip, None) {
        return Endpoint::Nic { nic, ip };
    }
    if let Some((nic, private)) = addresses.public(ip) {
        return Endpoint::PublicIp {
            nic,
            public: ip,
            private,
        };
    }
    if let Some((lb, frontend)) = addresses.frontend(ip) {
        return Endpoint::LoadBalancer { lb, frontend, ip };
    }
    if let Some((site, _)) = addresses.site(ip) {
        return Endpoint::OnPremises { site, ip };
    }
    if is_internet(ip) {
        Endpoint::Internet(ip)
    } else {
        Endpoint::Unowned(ip)
    }
}
