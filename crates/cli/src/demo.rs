//! `vnetlab demo`: the built-in home lab (examples/homelab.yaml). For a VM in each VNet it
//! prints the effective routes and the next hop to on-premises, the Internet and the other
//! spoke, each with the route that decided.

use crate::inputs::Inputs;
use crate::Failed;
use std::io::Write;
use std::net::Ipv4Addr;
use std::path::Path;
use vnetlab_analysis::{effective_routes, next_hop, Analysis};

pub const HOMELAB: &str = include_str!("../../../examples/homelab.yaml");

/// Writes the demo topology atomically: a temporary file renamed into place.
pub fn write(path: &Path) -> Result<(), Failed> {
    let tmp = path.with_extension("yaml.tmp");
    let result = std::fs::File::create(&tmp)
        .and_then(|mut f| f.write_all(HOMELAB.as_bytes()).and_then(|_| f.sync_all()))
        .and_then(|_| std::fs::rename(&tmp, path));
    match result {
        Ok(()) => {
            outln!(
                "wrote the demo topology to {}; try: vnetlab routes {} --nic web1-nic",
                path.display(),
                path.display()
            );
            Ok(())
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            eprintln!("error: cannot write {}: {e}", path.display());
            Err(Failed)
        }
    }
}

/// The destinations the demo asks about, by name.
const PROBES: [(&str, Ipv4Addr); 4] = [
    ("on-premises 192.168.1.10", Ipv4Addr::new(192, 168, 1, 10)),
    ("the Internet 192.0.2.80", Ipv4Addr::new(192, 0, 2, 80)),
    ("spoke1 10.1.0.4", Ipv4Addr::new(10, 1, 0, 4)),
    ("spoke2 10.2.0.4", Ipv4Addr::new(10, 2, 0, 4)),
];

pub fn run(inputs: &Inputs) -> Result<(), Failed> {
    // The topology is loaded from a file, as the user's would be; the scratch directory is
    // removed when `dir` drops, however the load ends.
    let dir = tempfile::Builder::new()
        .prefix("vnetlab-demo-")
        .tempdir()
        .map_err(|e| {
            // tempfile's error names the path it tried.
            eprintln!("error: cannot create a scratch directory: {e}");
            Failed
        })?;
    let file = dir.path().join("homelab.yaml");
    std::fs::write(&file, HOMELAB).map_err(|e| {
        eprintln!("error: cannot write {}: {e}", file.display());
        Failed
    })?;
    let loaded = inputs.load(&file)?;
    drop(dir);
    let a = Analysis::new(&loaded.topology, &inputs.tags);
    outln!("vnetlab demo: an Azure learner's home lab (on-premises, S2S VPN, hub, two spokes, an IDS appliance)");
    outln!("Write it out to edit it: vnetlab demo --write homelab.yaml\n");
    for (vm_name, own_spoke) in [
        ("dc1", None),
        ("web1", Some("spoke1")),
        ("app1", Some("spoke2")),
    ] {
        let vm = next_hop::find_vm(&a, vm_name).map_err(|e| {
            eprintln!("{e}");
            Failed
        })?;
        let nic = a.topology.vm(vm).nics[0];
        let cfg = a.topology.nic(nic).primary_ip_configuration();
        let subnet = a.topology.subnet(cfg.subnet);
        let vnet = &a.topology.vnet(subnet.vnet).name;
        outln!(
            "== VM {vm_name} ({}) in {vnet}/{}: effective routes of NIC {}",
            cfg.private_ip,
            subnet.name,
            a.topology.nic(nic).name
        );
        out!(
            "{}",
            effective_routes::to_table(&effective_routes::for_nic(&a, nic))
        );
        outln!();
        for (label, dst) in PROBES {
            if own_spoke.is_some_and(|s| label.starts_with(s)) {
                continue;
            }
            let (hop, reason) = next_hop::next_hop(&a, cfg.subnet, dst);
            let ip = hop
                .next_hop_ip_address
                .map(|ip| format!(" {ip}"))
                .unwrap_or_default();
            outln!(
                "  to {label:<26} next hop {}{ip}: {reason}",
                hop.next_hop_type
            );
        }
        outln!();
    }
    Ok(())
}
