//! Public IP addresses (docs/semantics/dataplane.md 5.1). An address not given in the input is allocated from
//! the documentation range 198.51.100.0/24 (decision D15); 192.0.2.0/24 is left to Internet hosts.

use super::{Builder, Target};
use crate::value::Reader;
use std::collections::HashSet;
use std::net::Ipv4Addr;
use vnetlab_model::{PublicIp, PublicIpId, PublicIpSku};

pub(super) fn build_public_ips(b: &mut Builder) {
    let raws: Vec<_> = b.of_kind("microsoft.network/publicipaddresses").collect();
    let mut pending = Vec::new();
    let mut used = HashSet::new();
    for raw in raws {
        let origin = raw.origin("public IP");
        let mut r = Reader::new(raw.object, &origin, &mut b.diags);
        let sku = match r.str("sku.name") {
            None => PublicIpSku::Standard,
            // StandardV2 (the NAT gateway v2 generation) is secure by default like Standard.
            Some(s)
                if s.eq_ignore_ascii_case("standard") || s.eq_ignore_ascii_case("standardv2") =>
            {
                PublicIpSku::Standard
            }
            Some(s) if s.eq_ignore_ascii_case("basic") => PublicIpSku::Basic,
            Some(s) => {
                r.error("sku.name", format!("unknown public IP SKU '{s}'"))
                    .hint = Some("use Basic, Standard or StandardV2".into());
                PublicIpSku::Standard
            }
        };
        let address = r.ip("properties.ipAddress");
        if let Some(ip) = address {
            used.insert(ip);
        }
        let id = PublicIpId(b.topo.public_ips.len() as u32);
        b.register(raw, Target::PublicIp(id));
        if address.is_none() {
            pending.push(id);
        }
        b.topo.public_ips.push(PublicIp {
            id: raw.id.clone(),
            name: raw.name.to_string(),
            sku,
            address: address.unwrap_or(Ipv4Addr::UNSPECIFIED),
            origin,
        });
    }
    // D15: emulated public addresses come from 198.51.100.0/24.
    let mut next = (1u8..=254)
        .map(|h| Ipv4Addr::new(198, 51, 100, h))
        .filter(|ip| !used.contains(ip));
    for id in pending {
        match next.next() {
            Some(ip) => b.topo[id].address = ip,
            None => {
                let pip = &b.topo[id];
                b.diags.push(
                    vnetlab_model::Diagnostic::error(
                        &pip.origin,
                        "properties.ipAddress",
                        "no address left in 198.51.100.0/24 for this public IP",
                    )
                    .with_hint("give public IPs their addresses in properties.ipAddress"),
                );
            }
        }
    }
}
