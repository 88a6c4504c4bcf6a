//! The Foundation benchmark's library: a deterministic hub-and-spoke topology generator
//! (`generate`) and the measuring helpers the `vnetlab-bench` binary uses (`measure`).

pub mod generate;
pub mod measure;
