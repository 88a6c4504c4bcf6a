//! `vnetlab test-ip-flow`: Network Watcher's IP flow verify (docs/semantics/dataplane.md 3.1; IPFV): whether
//! the NSGs of a VM's NIC allow a TCP or UDP packet, and which rule decided (D10 when both
//! allow). ICMP is refused, as Azure refuses it; a VM with several NICs of which one forwards
//! IP needs the NIC named.

use crate::{Analysis, QueryError};
use serde::Serialize;
use std::net::Ipv4Addr;
use vnetlab_engine::flow::FiveTuple;
use vnetlab_engine::security::evaluate::{Level, Reason};
use vnetlab_model::{Direction, NicId, VmId};

#[derive(Debug, Serialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct FlowResult {
    pub access: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rule_name: Option<String>,
}

/// A verified flow with the explanation the table prints.
pub struct Verified {
    pub result: FlowResult,
    pub nsg: Option<String>,
    pub why: String,
}

pub struct Query {
    pub direction: Direction,
    pub protocol: String,
    pub local: (Ipv4Addr, u16),
    pub remote: (Ipv4Addr, u16),
}

/// The NIC the query is about: named, or the one holding the local address.
pub fn target_nic(
    a: &Analysis,
    vm: VmId,
    nic: Option<&str>,
    local: Ipv4Addr,
) -> Result<NicId, QueryError> {
    let t = a.topology;
    let v = t.vm(vm);
    if let Some(name) = nic {
        let id = crate::effective_routes::find_nic(t, name)?;
        if !v.nics.contains(&id) {
            return Err(QueryError {
                message: format!("NIC '{name}' is not attached to VM '{}'", v.name),
                hint: None,
            });
        }
        return Ok(id);
    }
    if v.nics.len() > 1 && v.nics.iter().any(|n| t.nic(*n).enable_ip_forwarding) {
        let names: Vec<&str> = v.nics.iter().map(|n| t.nic(*n).name.as_str()).collect();
        return Err(QueryError {
            message: format!(
                "VM '{}' has several NICs and one forwards IP, so the NIC must be named",
                v.name
            ),
            hint: Some(format!("add --nic with one of: {}", names.join(", "))),
        });
    }
    v.nics
        .iter()
        .copied()
        .find(|n| {
            t.nic(*n)
                .ip_configurations
                .iter()
                .any(|c| c.private_ip == local)
        })
        .ok_or_else(|| {
            let ips: Vec<String> = v
                .nics
                .iter()
                .flat_map(|n| {
                    t.nic(*n)
                        .ip_configurations
                        .iter()
                        .map(|c| c.private_ip.to_string())
                })
                .collect();
            QueryError {
                message: format!("{local} is not an address of VM '{}'", v.name),
                hint: Some(format!(
                    "the local address is the VM's private address: {}",
                    ips.join(", ")
                )),
            }
        })
}

pub fn verify(a: &Analysis, nic: NicId, q: &Query) -> Result<Verified, QueryError> {
    let protocol = match q.protocol.to_ascii_uppercase().as_str() {
        "TCP" => FiveTuple::TCP,
        "UDP" => FiveTuple::UDP,
        "ICMP" => {
            return Err(QueryError {
                message: "IP flow verify checks TCP and UDP only; Azure refuses ICMP".into(),
                hint: Some("Network Watcher's NSG diagnostics (and `vnetlab trace` in a later release) cover ICMP".into()),
            })
        }
        other => return Err(QueryError { message: format!("unknown protocol '{other}'"), hint: Some("use TCP or UDP".into()) }),
    };
    let ((local, lport), (remote, rport)) = (q.local, q.remote);
    let flow = match q.direction {
        Direction::Inbound => FiveTuple {
            src: remote,
            dst: local,
            protocol,
            src_port: rport,
            dst_port: lport,
        },
        Direction::Outbound => FiveTuple {
            src: local,
            dst: remote,
            protocol,
            src_port: lport,
            dst_port: rport,
        },
    };
    let decision = a.security.nic(nic).evaluate(q.direction, &flow);
    let t = a.topology;
    let nsg = decision.rule.map(|v| {
        let at = if v.level == Level::Nic {
            "network interface"
        } else {
            "subnet"
        };
        format!("{} (attached to the {at})", t[v.nsg].name)
    });
    let why = match decision.reason {
        Reason::Rules => match (decision.access, decision.evaluated.len()) {
            (vnetlab_model::Access::Deny, _) => "the first matching rule of this NSG denies it; later NSGs are not evaluated".to_string(),
            (_, 2) => "both NSGs allow it; the rule shown is that of the NSG evaluated last (D10)".to_string(),
            _ => "the only NSG allows it".to_string(),
        },
        Reason::NoNsg => "no NSG on the NIC or its subnet: nothing filters it".to_string(),
        Reason::PlatformTraffic => "traffic to 168.63.129.16 / 169.254.169.254 is not filtered unless a rule names AzurePlatformDNS, AzurePlatformIMDS or AzurePlatformLKM (and the VM agent's TCP 80/32526 to 168.63.129.16 never is)".to_string(),
        Reason::SecureByDefault => "a Standard public IP is closed to inbound traffic until an NSG allows it".to_string(),
    };
    Ok(Verified {
        result: FlowResult {
            access: decision.access.as_str(),
            rule_name: decision.rule.map(|v| v.rule.name.clone()),
        },
        nsg,
        why,
    })
}
