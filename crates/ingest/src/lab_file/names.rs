//! The names a lab file derives rather than declares: the reader (`convert`) gives them to the
//! resources it creates, and the writer (`export`) checks a topology's names against them.

/// A VNet's gateway when the file names none: `<vnet>-gw`.
pub fn gateway(vnet: &str) -> String {
    format!("{vnet}-gw")
}

/// A gateway's public IPs: `<gateway>-pip`, and `<gateway>-pip2` when active-active.
pub fn gateway_public_ips(gateway: &str, active_active: bool) -> Vec<String> {
    let mut names = vec![format!("{gateway}-pip")];
    if active_active {
        names.push(format!("{gateway}-pip2"));
    }
    names
}

/// The network interface of a VM written under its subnet: `<vm>-nic`.
pub fn subnet_vm_nic(vm: &str) -> String {
    format!("{vm}-nic")
}

/// Network interface `k` (from 0) of a VM in the top-level `vms`: `<vm>-nic<k>`.
pub fn vm_nic(vm: &str, k: usize) -> String {
    format!("{vm}-nic{k}")
}

/// The peering from `vnet` to `remote`: `<vnet>-to-<remote>`.
pub fn peering(vnet: &str, remote: &str) -> String {
    format!("{vnet}-to-{remote}")
}

/// A site's IPsec connection: `<site>-connection`.
pub fn connection(site: &str) -> String {
    format!("{site}-connection")
}
