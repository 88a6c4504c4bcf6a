//! Who holds an address: NIC private addresses (per VNet, since separate VNets may reuse one),
//! public IPs in front of NICs, load balancer frontends, the sites behind gateways, and which
//! VNets are peered. Built once per topology so a trace finds each hop's holder without
//! scanning every resource (a hub may have hundreds of peerings).

use crate::routes::gateway::{gateway_prefixes, PrefixSource};
use ipnet::Ipv4Net;
use prefix_trie::PrefixMap;
use std::collections::HashMap;
use std::net::Ipv4Addr;
use vnetlab_model::{
    GatewayId, LoadBalancerId, LocalGatewayId, NicId, Peering, PeeringId, Topology, VnetId,
};

#[derive(Debug)]
pub struct AddressIndex {
    private: HashMap<Ipv4Addr, Vec<(NicId, VnetId)>>,
    public: HashMap<Ipv4Addr, (NicId, Ipv4Addr)>,
    frontends: HashMap<Ipv4Addr, (LoadBalancerId, usize)>,
    /// The longest site prefix covering an address: (site, the gateway connected to it).
    sites: PrefixMap<Ipv4Net, (LocalGatewayId, GatewayId)>,
    /// Per gateway: its prefixes and where each comes from.
    gateway_prefixes: HashMap<GatewayId, PrefixMap<Ipv4Net, PrefixSource>>,
    /// The peering from a VNet to a remote one.
    peerings: HashMap<(VnetId, VnetId), PeeringId>,
    /// The VNets whose address space holds a prefix (unpeered VNets may overlap).
    vnet_spaces: PrefixMap<Ipv4Net, Vec<VnetId>>,
    /// The implicit address default outbound access translates to.
    pub default_outbound: Ipv4Addr,
}

impl AddressIndex {
    pub fn new(t: &Topology) -> AddressIndex {
        // D15: the address Azure owns for default outbound access is, in the lab, the highest
        // address of 198.51.100.0/24 that no public IP of the topology holds.
        let taken: std::collections::HashSet<Ipv4Addr> =
            t.public_ips.iter().map(|p| p.address).collect();
        let default_outbound = (1..=254u8)
            .rev()
            .map(|h| Ipv4Addr::new(198, 51, 100, h))
            .find(|a| !taken.contains(a))
            .unwrap_or(Ipv4Addr::new(198, 51, 100, 254));
        let mut index = AddressIndex {
            private: HashMap::new(),
            public: HashMap::new(),
            frontends: HashMap::new(),
            sites: PrefixMap::new(),
            gateway_prefixes: HashMap::new(),
            peerings: HashMap::new(),
            vnet_spaces: PrefixMap::new(),
            default_outbound,
        };
        for (i, nic) in t.nics.iter().enumerate() {
            let id = NicId(i as u32);
            for c in &nic.ip_configurations {
                index
                    .private
                    .entry(c.private_ip)
                    .or_default()
                    .push((id, t.subnet(c.subnet).vnet));
                if let Some(p) = c.public_ip {
                    index
                        .public
                        .insert(t.public_ips[p.index()].address, (id, c.private_ip));
                }
            }
        }
        for (i, lb) in t.load_balancers.iter().enumerate() {
            for (f, fe) in lb.frontends.iter().enumerate() {
                let addresses = fe
                    .public_ip
                    .map(|p| t.public_ips[p.index()].address)
                    .into_iter()
                    .chain(fe.private.map(|(_, ip)| ip));
                for ip in addresses {
                    index.frontends.insert(ip, (LoadBalancerId(i as u32), f));
                }
            }
        }
        for g in 0..t.gateways.len() {
            let gateway = GatewayId(g as u32);
            let mut own = PrefixMap::new();
            for (prefix, source) in gateway_prefixes(t, gateway) {
                // A default route to a site (a Default Site, or 0.0.0.0/0 over BGP for forced
                // tunnelling, docs/semantics/routing.md 5.6) does not make every address a site's.
                if let PrefixSource::Static(site) | PrefixSource::Bgp(site) = source {
                    if prefix.prefix_len() > 0 {
                        index.sites.entry(prefix).or_insert((site, gateway));
                    }
                }
                own.entry(prefix).or_insert(source);
            }
            index.gateway_prefixes.insert(gateway, own);
        }
        for (i, p) in t.peerings.iter().enumerate() {
            index
                .peerings
                .entry((p.vnet, p.remote))
                .or_insert(PeeringId(i as u32));
        }
        for (i, v) in t.vnets.iter().enumerate() {
            for space in &v.address_space {
                index
                    .vnet_spaces
                    .entry(*space)
                    .or_default()
                    .push(VnetId(i as u32));
            }
        }
        index
    }

    /// The NIC holding a private address, in a given VNet or (None) in any.
    pub fn nic(&self, ip: Ipv4Addr, vnet: Option<VnetId>) -> Option<NicId> {
        self.private
            .get(&ip)?
            .iter()
            .find(|(_, v)| vnet.is_none_or(|want| *v == want))
            .map(|(n, _)| *n)
    }

    /// The NIC behind a public address, with the private address it translates to.
    pub fn public(&self, ip: Ipv4Addr) -> Option<(NicId, Ipv4Addr)> {
        self.public.get(&ip).copied()
    }

    pub fn frontend(&self, ip: Ipv4Addr) -> Option<(LoadBalancerId, usize)> {
        self.frontends.get(&ip).copied()
    }

    /// The longest prefix of a gateway covering an address, and where it comes from.
    pub fn gateway_route(&self, gateway: GatewayId, ip: Ipv4Addr) -> Option<(u8, PrefixSource)> {
        let (prefix, source) = self
            .gateway_prefixes
            .get(&gateway)?
            .get_lpm(&Ipv4Net::new(ip, 32).expect("/32"))?;
        Some((prefix.prefix_len(), *source))
    }

    pub fn site(&self, ip: Ipv4Addr) -> Option<(LocalGatewayId, GatewayId)> {
        self.sites
            .get_lpm(&Ipv4Net::new(ip, 32).expect("/32"))
            .map(|(_, v)| *v)
    }

    /// The peering from `vnet` to `remote`.
    pub fn peering<'t>(
        &self,
        t: &'t Topology,
        vnet: VnetId,
        remote: VnetId,
    ) -> Option<(PeeringId, &'t Peering)> {
        self.peerings
            .get(&(vnet, remote))
            .map(|p| (*p, &t.peerings[p.index()]))
    }

    /// Whether two VNets are peered both ways (a connected peering).
    pub fn peered(&self, a: VnetId, b: VnetId) -> bool {
        self.peerings.contains_key(&(a, b)) && self.peerings.contains_key(&(b, a))
    }

    /// The VNet peered from `vnet` whose address space holds an address.
    pub fn peer_holding(&self, vnet: VnetId, ip: Ipv4Addr) -> Option<VnetId> {
        let host = Ipv4Net::new(ip, 32).expect("/32");
        self.vnet_spaces
            .cover(&host)
            .flat_map(|(_, vnets)| vnets.iter().copied())
            .find(|remote| self.peerings.contains_key(&(vnet, *remote)))
    }
}
