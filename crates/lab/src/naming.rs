//! Names of everything a lab creates, all carrying the lab's prefix (`vl-<lab>-`) so that
//! `down`, or a later run after a crash, finds and removes them; and the NICs' MAC addresses,
//! from Azure's OUI 00:0d:3a (Live lab issue, "The VMs").

use crate::error::LabError;
use std::path::PathBuf;
use vnetlab_model::NicId;

/// Where labs keep their state: one directory per lab.
pub const STATE_ROOT: &str = "/run/vnetlab";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LabName(String);

impl LabName {
    /// A lab name: 1 to 12 lower-case letters, digits or dashes (it goes into device names).
    pub fn parse(name: &str) -> Result<LabName, LabError> {
        let ok = !name.is_empty()
            && name.len() <= 12
            && name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(LabName(name.to_string()))
        } else {
            Err(LabError::BadName(name.to_string()))
        }
    }

    /// The lab named after a topology file (`homelab.yaml` -> `homelab`), made valid.
    pub fn from_file_stem(stem: &str) -> LabName {
        let mut name: String = stem
            .to_ascii_lowercase()
            .chars()
            .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
            .take(12)
            .collect();
        if name.is_empty() {
            name.push_str("lab");
        }
        LabName(name)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The prefix of every namespace of the lab.
    pub fn prefix(&self) -> String {
        format!("vl-{}-", self.0)
    }

    pub fn vm_namespace(&self, vm: &str) -> String {
        format!("{}{vm}", self.prefix())
    }

    /// The emulated Internet's namespace (D15 addresses).
    pub fn internet_namespace(&self) -> String {
        format!("{}internet", self.prefix())
    }

    /// An on-premises site's namespace.
    pub fn site_namespace(&self, site: &str) -> String {
        format!("{}site-{site}", self.prefix())
    }

    /// A TAP device's name in the host namespace, before it moves into its namespace (at
    /// most 15 bytes, unique per lab).
    pub fn tap(&self, port: usize) -> String {
        let hash = self.0.bytes().fold(0x811c_9dc5u32, |h, b| {
            (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
        });
        format!("vl{:04x}t{port}", hash & 0xffff)
    }

    pub fn state_dir(&self) -> PathBuf {
        PathBuf::from(STATE_ROOT).join(&self.0)
    }
}

/// A NIC's MAC: Azure's OUI 00:0d:3a, then the NIC's position in the topology.
pub fn nic_mac(nic: NicId) -> [u8; 6] {
    let n = nic.index() as u32 + 1;
    [0x00, 0x0d, 0x3a, (n >> 16) as u8, (n >> 8) as u8, n as u8]
}

/// The MAC of a site's or the Internet's namespace (a locally administered address).
pub fn outside_mac(port: usize) -> [u8; 6] {
    let n = port as u32;
    [0x02, 0x00, 0x5e, (n >> 16) as u8, (n >> 8) as u8, n as u8]
}

pub fn mac_string(mac: [u8; 6]) -> String {
    mac.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<Vec<_>>()
        .join(":")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_carry_the_lab_prefix_and_fit_linux_limits() {
        let lab = LabName::parse("homelab").unwrap();
        assert_eq!(lab.vm_namespace("vm-web"), "vl-homelab-vm-web");
        assert_eq!(lab.internet_namespace(), "vl-homelab-internet");
        assert!(lab.tap(4095).len() <= 15);
        assert_eq!(
            LabName::parse("Bad_Name").unwrap_err().to_string(),
            "'Bad_Name' is not a lab name: use 1 to 12 lower-case letters, digits or dashes"
        );
        assert_eq!(
            LabName::from_file_stem("Home Lab.v2").as_str(),
            "home-lab-v2"
        );
        // The Live lab issue: MACs come from Azure's OUI 00:0d:3a.
        assert_eq!(mac_string(nic_mac(NicId(0))), "00:0d:3a:00:00:01");
    }
}
