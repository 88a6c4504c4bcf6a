//! The live lab (Live lab issue): the topology's VMs as Linux network namespaces, each NIC a
//! TAP device held by a userspace switch that behaves as Azure's host SDN does, deciding each
//! new flow with the engine's pipeline (the same code as `vnetlab trace`).

pub mod arp;
pub mod capture;
pub mod control;
pub mod datapath;
pub mod dhcp;
pub mod dns;
pub mod error;
pub mod flow_table;
pub mod frame;
pub mod lab;
pub mod naming;
pub mod netns;
pub mod packet;
pub mod switch;
pub mod tap;
