//! The commands that read a topology without analysing it: `validate` (the checks Azure makes
//! when it accepts a deployment) and `import` (any input, an ARM template with its parameters
//! or an export, written as the YAML lab file).

use crate::inputs::Inputs;
use crate::Failed;
use std::path::Path;

/// `vnetlab validate`: the topology's size when Azure would accept it.
pub fn validate(inputs: &Inputs, file: &Path) -> Result<(), Failed> {
    let loaded = inputs.load(file)?;
    let t = &loaded.topology;
    outln!(
        "{}: valid ({} VNets, {} subnets, {} peerings, {} NICs, {} VMs, {} route tables, {} NSGs, {} gateways)",
        file.display(), t.vnets.len(), t.subnets.len(), t.peerings.len(), t.nics.len(), t.vms.len(), t.route_tables.len(), t.nsgs.len(), t.gateways.len()
    );
    Ok(())
}

/// `vnetlab import`: the lab file on standard output, or written to `output`.
pub fn import(inputs: &Inputs, file: &Path, output: Option<&Path>) -> Result<(), Failed> {
    let loaded = inputs.load(file)?;
    let yaml = vnetlab_ingest::lab_file::export::to_yaml(&loaded.topology);
    match output {
        Some(path) => {
            std::fs::write(path, yaml).map_err(|e| {
                eprintln!("error: cannot write {}: {e}", path.display());
                Failed
            })?;
            outln!(
                "wrote {} ({} VNets, {} VMs) from {}",
                path.display(),
                loaded.topology.vnets.len(),
                loaded.topology.vms.len(),
                file.display()
            );
        }
        None => out!("{yaml}"),
    }
    Ok(())
}
