//! A reachability intent: a statement `vnetlab check` asserts over traces (Trace issue,
//! "Intents and diffs"). Read from YAML by ingest.

use serde::Deserialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Expect {
    Allow,
    Deny,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Intent {
    pub name: Option<String>,
    pub from: String,
    pub to: String,
    pub protocol: Option<String>,
    pub port: Option<u16>,
    pub expect: Option<Expect>,
    /// A VM every delivered flow must pass through.
    pub must_pass: Option<String>,
    /// `tcp/443`, `udp/53`, `icmp`: reachable on these and nothing else.
    pub only: Option<Vec<String>>,
}
