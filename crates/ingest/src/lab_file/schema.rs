//! The lab file's types: what a user may write, with Azure's defaults where a key is omitted.
//! They deserialize strictly (an unknown key is an error) and derive the JSON Schema committed
//! as schema/lab.schema.json; their doc comments are its descriptions. `export` writes lab files
//! with the same types: a key at its default (an empty list, `false`, no value) is left out, and
//! small settings are written on one line.

use schemars::{JsonSchema, Schema, SchemaGenerator};
use serde::de::value::MapAccessDeserializer;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_saphyr::{FlowMap, FlowSeq};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::marker::PhantomData;
pub use vnetlab_model::{Access, Direction, GatewayType, Protocol, PublicIpSku, VpnType};

/// An Azure virtual network topology written by hand. Every resource is declared by name;
/// references between them are names too.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(title = "vnetlab lab file")]
pub struct Lab {
    /// The region of every resource that does not name its own.
    #[serde(default = "default_location")]
    pub location: String,
    /// Virtual networks by name.
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub vnets: Named<Vnet>,
    /// Virtual machines with one or more network interfaces, by name. A VM with a single NIC
    /// can instead be written under its subnet's `vms`.
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub vms: Named<Vm>,
    /// Route tables by name.
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub route_tables: Named<RouteTable>,
    /// Network security groups by name.
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub nsgs: Named<Nsg>,
    /// Application security group names.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "flow_seq"
    )]
    pub asgs: Vec<At<String>>,
    /// Public IP addresses by name. A public IP named elsewhere (a VM's `public_ip`, a NAT
    /// gateway's `public_ips`) but not declared here is created with the defaults.
    #[serde(
        default,
        skip_serializing_if = "Named::is_empty",
        serialize_with = "flow_entries"
    )]
    pub public_ips: Named<PublicIp>,
    /// NAT gateways by name.
    #[serde(
        default,
        skip_serializing_if = "Named::is_empty",
        serialize_with = "flow_entries"
    )]
    pub nat_gateways: Named<NatGateway>,
    /// Load balancers by name; VMs join their pools and inbound NAT rules with `lb_pools` and
    /// `lb_nat_rules`.
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub load_balancers: Named<LoadBalancer>,
    /// On-premises sites by name: each becomes a local network gateway and an IPsec connection
    /// named `<site>-connection`.
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub sites: Named<Site>,
}

fn default_location() -> String {
    "westeurope".into()
}

/// A virtual network.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vnet {
    /// The address ranges (CIDR prefixes) of the VNet.
    #[serde(serialize_with = "flow_seq")]
    pub address_space: At<Vec<At<String>>>,
    /// The VNet's region; default: the file's `location`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub location: Option<String>,
    /// A virtual network gateway in this VNet's GatewaySubnet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway: Option<At<Gateway>>,
    /// Subnets by name: a prefix alone, or the subnet's settings.
    #[serde(default, skip_serializing_if = "Named::is_empty")]
    pub subnets: Named<At<ShortOr<Subnet>>>,
    /// Peerings from this VNet, keyed by the remote VNet's name. Each entry is one side; the
    /// remote VNet declares the other.
    #[serde(
        default,
        skip_serializing_if = "Named::is_empty",
        serialize_with = "flow_entries"
    )]
    pub peerings: Named<Peering>,
}

/// A subnet's settings.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Subnet {
    /// The subnet's address range (CIDR prefix).
    pub prefix: At<String>,
    /// The name of a route table in `route_tables`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub route_table: Option<At<String>>,
    /// The name of a network security group in `nsgs`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nsg: Option<At<String>>,
    /// The name of a NAT gateway in `nat_gateways`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nat_gateway: Option<At<String>>,
    /// Service endpoints: a service name (`Microsoft.Storage`), or a service with its regions.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "flow_full"
    )]
    pub service_endpoints: Vec<ShortOr<ServiceEndpoint>>,
    /// Whether VMs without a public IP or NAT gateway reach the Internet; false makes a private
    /// subnet. Default true.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_outbound_access: Option<bool>,
    /// VMs with one network interface in this subnet, by name: each creates the VM and its NIC
    /// `<vm>-nic`.
    #[serde(
        default,
        skip_serializing_if = "Named::is_empty",
        serialize_with = "flow_entries"
    )]
    pub vms: Named<At<Nic>>,
}

/// A service endpoint with the regions it covers.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceEndpoint {
    /// The service, such as `Microsoft.Storage`.
    pub service: String,
    /// Regions the endpoint covers; default: the VNet's own region.
    #[serde(default)]
    pub locations: Vec<String>,
}

/// A network interface of a VM.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nic {
    /// The subnet as `<vnet>/<subnet>`: required in the top-level `vms`, not allowed for a VM
    /// written under its subnet.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<At<String>>,
    /// A static private address; default: dynamic, the lowest free address from .4.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<At<String>>,
    /// Whether the NIC forwards traffic not addressed to it (a network virtual appliance).
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub ip_forwarding: bool,
    /// `true` creates a Standard public IP (`<vm>-pip` under a subnet, `<vm>-nic<k>-pip` in the
    /// top-level `vms`); a name uses that public IP.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<At<PublicIpChoice>>,
    /// The name of a network security group in `nsgs` for the NIC.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub nsg: Option<At<String>>,
    /// Names of application security groups in `asgs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub asgs: Vec<At<String>>,
    /// Backend pools the NIC joins, as `<load balancer>/<pool>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lb_pools: Vec<At<String>>,
    /// Inbound NAT rules that forward to the NIC, as `<load balancer>/<rule>`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lb_nat_rules: Vec<At<String>>,
}

/// `true` for a new public IP, or the name of one.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(untagged, expecting = "true, false, or the name of a public IP")]
pub enum PublicIpChoice {
    Create(bool),
    Name(String),
}

/// A VM with its network interfaces, `<vm>-nic0`, `<vm>-nic1`, ...; the first is primary.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Vm {
    #[serde(serialize_with = "flow_items")]
    pub nics: Vec<At<Nic>>,
}

/// A virtual network gateway, deployed in the VNet's GatewaySubnet with a Standard public IP
/// `<gateway>-pip` (and `<gateway>-pip2` when active-active).
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Gateway {
    /// Default `<vnet>-gw`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default = "vpn", rename = "type")]
    pub kind: GatewayType,
    #[serde(default = "default_sku")]
    pub sku: String,
    #[serde(default = "route_based")]
    pub vpn_type: VpnType,
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub active_active: bool,
    /// Present: the gateway runs BGP.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "flow_map")]
    pub bgp: Option<GatewayBgp>,
    /// A site that takes all Internet-bound traffic of the VNet and the VNets using this
    /// gateway (`gatewayDefaultSite`, forced tunnelling; docs/semantics/routing.md 5.6).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub default_site: Option<String>,
}

fn default_sku() -> String {
    "VpnGw1".into()
}

fn vpn() -> GatewayType {
    GatewayType::Vpn
}

fn route_based() -> VpnType {
    VpnType::RouteBased
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct GatewayBgp {
    /// The gateway's autonomous system number.
    #[serde(default = "default_asn")]
    pub asn: u32,
}

fn default_asn() -> u32 {
    65515
}

/// One side of a VNet peering, with Azure's defaults.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Peering {
    #[serde(default = "yes", skip_serializing_if = "is_true")]
    #[schemars(extend("default" = true))]
    pub allow_virtual_network_access: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub allow_forwarded_traffic: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub allow_gateway_transit: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub use_remote_gateways: bool,
}

fn any() -> Protocol {
    Protocol::Any
}

fn standard_ip() -> PublicIpSku {
    PublicIpSku::Standard
}

fn yes() -> bool {
    true
}

// Written lab files leave out a key at its default. schemars then drops the key's `default`
// from the JSON Schema, so the booleans put it back with `#[schemars(extend(...))]`.

fn is_true(b: &bool) -> bool {
    *b
}

fn is_false(b: &bool) -> bool {
    !*b
}

/// Writes a list on one line: `[a, b]`.
fn flow_seq<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    FlowSeq(v).serialize(s)
}

/// Writes a mapping on one line: `{ key: value }`.
fn flow_map<T: Serialize, S: Serializer>(v: &T, s: S) -> Result<S::Ok, S::Error> {
    FlowMap(v).serialize(s)
}

/// Writes each entry's settings on one line: `name: { key: value }`.
fn flow_entries<T: Serialize, S: Serializer>(v: &Named<T>, s: S) -> Result<S::Ok, S::Error> {
    s.collect_map(v.0.iter().map(|(k, v)| (k, FlowMap(v))))
}

/// Writes each item on one line: `- { key: value }`.
fn flow_items<T: Serialize, S: Serializer>(v: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(FlowMap))
}

/// Writes each item in full on one line, a short item as its string.
fn flow_full<F: Serialize, S: Serializer>(v: &[ShortOr<F>], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(v.iter().map(|item| match item {
        ShortOr::Short(short) => ShortOr::Short(short.clone()),
        ShortOr::Full(full) => ShortOr::Full(FlowMap(full)),
    }))
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RouteTable {
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub disable_bgp_route_propagation: bool,
    /// Routes by name.
    #[serde(
        default,
        skip_serializing_if = "Named::is_empty",
        serialize_with = "flow_entries"
    )]
    pub routes: Named<Route>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// A CIDR prefix or a service tag (`Storage`).
    pub prefix: At<String>,
    pub next_hop: At<NextHop>,
    /// The appliance's address, for `VirtualAppliance` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<At<String>>,
}

/// The next hop types a user route may use.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
pub enum NextHop {
    VirtualAppliance,
    VirtualNetworkGateway,
    VnetLocal,
    Internet,
    None,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Nsg {
    #[serde(default, serialize_with = "flow_items")]
    pub rules: Vec<At<Rule>>,
}

/// A security rule. Addresses and ports are a string or a list of strings.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Rule {
    pub name: String,
    /// 100 (first) to 4096.
    pub priority: At<u32>,
    pub direction: Direction,
    pub access: Access,
    #[serde(default = "any")]
    pub protocol: Protocol,
    /// Prefixes or service tags; default `*` unless `source_asgs` is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source: Option<At<OneOrMany>>,
    /// Default `*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub source_ports: Option<At<OneOrMany>>,
    /// Prefixes or service tags; default `*` unless `destination_asgs` is given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination: Option<At<OneOrMany>>,
    /// Default `*`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub destination_ports: Option<At<OneOrMany>>,
    /// Names of application security groups in `asgs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub source_asgs: Vec<At<String>>,
    /// Names of application security groups in `asgs`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub destination_asgs: Vec<At<String>>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PublicIp {
    /// The address; default: allocated from 198.51.100.0/24.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub address: Option<At<String>>,
    #[serde(default = "standard_ip")]
    pub sku: PublicIpSku,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NatGateway {
    /// Names of public IPs.
    #[serde(default)]
    pub public_ips: Vec<At<String>>,
}

/// A load balancer (docs/semantics/dataplane.md 6.1): frontends, backend pools, health probes, rules,
/// outbound rules and inbound NAT rules, each referring to the others by name.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LoadBalancer {
    /// Basic or Standard.
    #[serde(default = "standard")]
    pub sku: String,
    /// Frontends by name: a public IP, or a private address in a subnet (internal).
    #[serde(serialize_with = "flow_entries")]
    pub frontends: Named<LbFrontend>,
    /// Backend pool names.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "flow_seq"
    )]
    pub pools: Vec<At<String>>,
    #[serde(
        default,
        skip_serializing_if = "Named::is_empty",
        serialize_with = "flow_entries"
    )]
    pub probes: Named<LbProbe>,
    #[serde(
        default,
        skip_serializing_if = "Named::is_empty",
        serialize_with = "flow_entries"
    )]
    pub rules: Named<LbRule>,
    #[serde(
        default,
        skip_serializing_if = "Named::is_empty",
        serialize_with = "flow_entries"
    )]
    pub outbound_rules: Named<LbOutboundRule>,
    #[serde(
        default,
        skip_serializing_if = "Named::is_empty",
        serialize_with = "flow_entries"
    )]
    pub inbound_nat_rules: Named<LbNatRule>,
}

fn standard() -> String {
    "Standard".into()
}

fn tcp() -> String {
    "Tcp".into()
}

fn all() -> String {
    "All".into()
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LbFrontend {
    /// The name of a public IP (a public frontend).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub public_ip: Option<At<String>>,
    /// The subnet of an internal frontend, as `<vnet>/<subnet>`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub subnet: Option<At<String>>,
    /// An internal frontend's static address; default: dynamic.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ip: Option<At<String>>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LbProbe {
    /// Tcp, Http or Https.
    #[serde(default = "tcp")]
    pub protocol: String,
    pub port: u16,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LbRule {
    pub frontend: At<String>,
    pub pool: At<String>,
    /// Tcp, Udp or All.
    #[serde(default = "tcp")]
    pub protocol: String,
    pub frontend_port: u16,
    pub backend_port: u16,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub probe: Option<At<String>>,
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub floating_ip: bool,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LbOutboundRule {
    pub frontends: Vec<At<String>>,
    pub pool: At<String>,
    /// Tcp, Udp or All.
    #[serde(default = "all")]
    pub protocol: String,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct LbNatRule {
    pub frontend: At<String>,
    /// Tcp, Udp or All.
    #[serde(default = "tcp")]
    pub protocol: String,
    pub frontend_port: u16,
    pub backend_port: u16,
    #[serde(default, skip_serializing_if = "is_false")]
    #[schemars(extend("default" = false))]
    pub floating_ip: bool,
}

/// An on-premises site reached over an IPsec connection.
#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Site {
    /// The public address of the site's VPN device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub gateway_ip: Option<At<String>>,
    /// The site's static prefixes.
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        serialize_with = "flow_seq"
    )]
    pub address_space: Vec<At<String>>,
    /// The VNet whose gateway the connection uses.
    pub connect_to: At<String>,
    /// Present: the connection runs BGP.
    #[serde(skip_serializing_if = "Option::is_none", serialize_with = "flow_map")]
    pub bgp: Option<SiteBgp>,
}

#[derive(Debug, Deserialize, Serialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SiteBgp {
    pub asn: At<u32>,
    /// The BGP address of the site's device.
    pub peer_ip: At<String>,
    /// Prefixes the site advertises over BGP (vnetlab's offline stand-in for a live session).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub advertises: Vec<At<String>>,
}

/// A value with the position (1-based line and column) where the file wrote it; 0 when unknown.
#[derive(Debug)]
pub struct At<T> {
    pub value: T,
    pub line: usize,
    pub column: usize,
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for At<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = serde_saphyr::Spanned::<T>::deserialize(d)?;
        let pos = |n: u64| usize::try_from(n).unwrap_or(0);
        Ok(At {
            value: s.value,
            line: pos(s.referenced.line()),
            column: pos(s.referenced.column()),
        })
    }
}

/// Written as the value alone.
impl<T: Serialize> Serialize for At<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

/// A value made rather than read: its position is unknown.
impl<T> From<T> for At<T> {
    fn from(value: T) -> Self {
        At {
            value,
            line: 0,
            column: 0,
        }
    }
}

impl<T: JsonSchema> JsonSchema for At<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }
    fn schema_name() -> Cow<'static, str> {
        T::schema_name()
    }
    fn schema_id() -> Cow<'static, str> {
        T::schema_id()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        T::json_schema(generator)
    }
}

impl<T> At<T> {
    /// The line and column, `None` when unknown.
    pub fn pos(&self) -> Option<(usize, usize)> {
        (self.line > 0).then_some((self.line, self.column))
    }
}

impl<T> std::ops::Deref for At<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

/// Entries keyed by name, in file order (it decides dynamic address allocation).
#[derive(Debug)]
pub struct Named<T>(pub Vec<(At<String>, T)>);

impl<T> Default for Named<T> {
    fn default() -> Self {
        Named(Vec::new())
    }
}

impl<T> Named<T> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Adds an entry after the others.
    pub fn push(&mut self, name: impl Into<String>, value: T) {
        self.0.push((At::from(name.into()), value));
    }

    /// The entry of a name, matched case-insensitively as Azure matches names.
    pub fn get(&self, name: &str) -> Option<&T> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Named<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = Named<T>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a mapping of names to settings")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Named<T>, A::Error> {
                let mut entries = Vec::new();
                while let Some(key) = map.next_key()? {
                    entries.push((key, map.next_value()?));
                }
                Ok(Named(entries))
            }
        }
        d.deserialize_map(V(PhantomData))
    }
}

impl<T: Serialize> Serialize for Named<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(k, v)| (k, v)))
    }
}

impl<T: JsonSchema> JsonSchema for Named<T> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        BTreeMap::<String, T>::schema_name()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        BTreeMap::<String, T>::json_schema(generator)
    }
}

/// A value written as a single string (a number is read as its digits) or in full.
#[derive(Debug)]
pub enum ShortOr<F> {
    Short(String),
    Full(F),
}

/// One string or a list of strings.
#[derive(Debug)]
pub enum OneOrMany {
    One(String),
    Many(Vec<String>),
}

/// Reads either form of `ShortOr` or `OneOrMany`.
struct Either<T>(PhantomData<T>);

macro_rules! scalars_as {
    ($variant:path) => {
        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok($variant(s.to_string()))
        }
        fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
            Ok($variant(n.to_string()))
        }
        fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
            Ok($variant(n.to_string()))
        }
    };
}

impl<'de, F: Deserialize<'de>> Visitor<'de> for Either<ShortOr<F>> {
    type Value = ShortOr<F>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a mapping")
    }
    scalars_as!(ShortOr::Short);
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        F::deserialize(MapAccessDeserializer::new(map)).map(ShortOr::Full)
    }
}

impl<'de> Visitor<'de> for Either<OneOrMany> {
    type Value = OneOrMany;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string or a list of strings")
    }
    scalars_as!(OneOrMany::One);
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element()? {
            items.push(item);
        }
        Ok(OneOrMany::Many(items))
    }
}

impl<'de, F: Deserialize<'de>> Deserialize<'de> for ShortOr<F> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Either::<Self>(PhantomData))
    }
}

impl<'de> Deserialize<'de> for OneOrMany {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(Either::<Self>(PhantomData))
    }
}

impl<F: Serialize> Serialize for ShortOr<F> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            ShortOr::Short(short) => short.serialize(s),
            ShortOr::Full(full) => full.serialize(s),
        }
    }
}

impl Serialize for OneOrMany {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            OneOrMany::One(one) => one.serialize(s),
            OneOrMany::Many(many) => many.serialize(s),
        }
    }
}

impl<F: JsonSchema> JsonSchema for ShortOr<F> {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        format!("ShortOr_{}", F::schema_name()).into()
    }
    fn json_schema(generator: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({ "anyOf": [{ "type": "string" }, generator.subschema_for::<F>()] })
    }
}

impl JsonSchema for OneOrMany {
    fn inline_schema() -> bool {
        true
    }
    fn schema_name() -> Cow<'static, str> {
        "OneOrMany".into()
    }
    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        schemars::json_schema!({ "anyOf": [{ "type": "string" }, { "type": "array", "items": { "type": "string" } }] })
    }
}
