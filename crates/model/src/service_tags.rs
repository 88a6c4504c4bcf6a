//! Service tags: the named prefix sets of Microsoft's `ServiceTags_Public_*.json`
//! (azure-semantics README; docs/semantics/dataplane.md 1.6; docs/semantics/routing.md 5.7). vnetlab bundles the 2025-11-09
//! snapshot (changeNumber 376) and accepts a newer file from the user.

use ipnet::Ipv4Net;
use serde::Deserialize;
use std::collections::HashMap;
use std::sync::OnceLock;
use thiserror::Error;

const BUNDLED: &str = include_str!("../../../data/ServiceTags_Public_20251109.json");

/// A file that is not in Microsoft's service-tag download format; the JSON error says where.
#[derive(Debug, Error)]
#[error("not a service-tag file (line {line}, column {column}): {0}", line = .0.line(), column = .0.column())]
pub struct ServiceTagsError(serde_json::Error);

#[derive(Debug, Clone)]
pub struct ServiceTag {
    /// The tag as Microsoft spells it (`Storage.EastUS`).
    pub name: String,
    /// The region of a regional tag, lower-case (`eastus`); empty for a global tag.
    pub region: String,
    /// Its IPv4 prefixes (IPv6 prefixes are dropped: vnetlab models IPv4).
    pub prefixes: Vec<Ipv4Net>,
}

/// A service-tag set. The bundled snapshot is parsed on first use, so commands that never
/// look up a tag do not pay for the 4 MB file.
#[derive(Debug, Clone, Default)]
pub struct ServiceTags {
    unparsed: Option<&'static str>,
    parsed: OnceLock<Parsed>,
}

#[derive(Debug, Clone, Default)]
struct Parsed {
    change_number: u64,
    by_name: HashMap<String, ServiceTag>,
}

#[derive(Deserialize)]
struct File {
    #[serde(rename = "changeNumber")]
    change_number: u64,
    values: Vec<FileTag>,
}

#[derive(Deserialize)]
struct FileTag {
    name: String,
    properties: FileTagProperties,
}

#[derive(Deserialize)]
struct FileTagProperties {
    #[serde(default)]
    region: String,
    #[serde(rename = "addressPrefixes", default)]
    address_prefixes: Vec<String>,
}

impl ServiceTags {
    /// The snapshot shipped with vnetlab, parsed once.
    pub fn bundled() -> &'static ServiceTags {
        static TAGS: OnceLock<ServiceTags> = OnceLock::new();
        TAGS.get_or_init(|| ServiceTags {
            unparsed: Some(BUNDLED),
            parsed: OnceLock::new(),
        })
    }

    /// Parses a service-tag file in Microsoft's download format.
    pub fn from_json(text: &str) -> Result<ServiceTags, ServiceTagsError> {
        let parsed = OnceLock::new();
        let _ = parsed.set(Self::parse(text)?);
        Ok(ServiceTags {
            unparsed: None,
            parsed,
        })
    }

    fn tags(&self) -> &Parsed {
        self.parsed.get_or_init(|| match self.unparsed {
            Some(text) => Self::parse(text).expect("the bundled service-tag file parses"),
            None => Parsed::default(),
        })
    }

    /// The file's `changeNumber`.
    pub fn change_number(&self) -> u64 {
        self.tags().change_number
    }

    fn parse(text: &str) -> Result<Parsed, ServiceTagsError> {
        let file: File = serde_json::from_str(text).map_err(ServiceTagsError)?;
        let mut by_name = HashMap::with_capacity(file.values.len());
        for tag in file.values {
            let mut prefixes: Vec<Ipv4Net> = tag
                .properties
                .address_prefixes
                .iter()
                .filter_map(|p| p.parse().ok())
                .collect();
            prefixes.sort_unstable();
            by_name.insert(
                tag.name.to_ascii_lowercase(),
                ServiceTag {
                    name: tag.name,
                    region: tag.properties.region.to_ascii_lowercase(),
                    prefixes,
                },
            );
        }
        Ok(Parsed {
            change_number: file.change_number,
            by_name,
        })
    }

    /// Looks a tag up by name, case-insensitively (`storage.japaneast` finds `Storage.JapanEast`).
    pub fn get(&self, name: &str) -> Option<&ServiceTag> {
        self.tags().by_name.get(&name.to_ascii_lowercase())
    }

    /// Whether a security rule may name this tag: a file tag or a virtual one.
    pub fn is_known(&self, name: &str) -> bool {
        VIRTUAL_TAGS.iter().any(|t| t.eq_ignore_ascii_case(name)) || self.get(name).is_some()
    }

    /// The regional form of a tag for a region (`Storage` + `eastus` -> `Storage.EastUS`).
    pub fn regional(&self, tag: &str, region: &str) -> Option<&ServiceTag> {
        self.get(&format!("{tag}.{region}"))
    }
}

/// Tags that are not in the service-tag file: their prefixes depend on the VNet or the platform
/// (docs/semantics/dataplane.md 1.5-1.6). The classic spellings are accepted too.
pub const VIRTUAL_TAGS: [&str; 9] = [
    "VirtualNetwork",
    "Internet",
    "AzureLoadBalancer",
    "AzurePlatformDNS",
    "AzurePlatformIMDS",
    "AzurePlatformLKM",
    "VIRTUAL_NETWORK",
    "INTERNET",
    "AZURE_LOADBALANCER",
];

/// Whether a prefix field holds a tag name rather than an address (`Storage.EastUS`).
pub fn looks_like_tag(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

/// The service tag behind a service endpoint's service name (\[SE\]; service-tags-overview).
pub fn endpoint_service_tag(service: &str) -> Option<&'static str> {
    const MAP: [(&str, &str); 12] = [
        ("Microsoft.Storage", "Storage"),
        ("Microsoft.Storage.Global", "Storage"),
        ("Microsoft.Sql", "Sql"),
        ("Microsoft.AzureCosmosDB", "AzureCosmosDB"),
        ("Microsoft.KeyVault", "AzureKeyVault"),
        ("Microsoft.ServiceBus", "ServiceBus"),
        ("Microsoft.EventHub", "EventHub"),
        ("Microsoft.Web", "AppService"),
        ("Microsoft.ContainerRegistry", "AzureContainerRegistry"),
        ("Microsoft.CognitiveServices", "CognitiveServicesManagement"),
        ("Microsoft.AzureActiveDirectory", "AzureActiveDirectory"),
        ("Microsoft.Databricks", "AzureDatabricks"),
    ];
    MAP.iter()
        .find(|(s, _)| s.eq_ignore_ascii_case(service))
        .map(|(_, t)| *t)
}

/// The precedence E4 gives a service-tag route among tag routes with the same prefix: 0 for a
/// regional tag, 1 for a top-level tag, 2 for a regional AzureCloud tag, 3 for AzureCloud
/// (docs/semantics/routing.md 3.2 E4). Lower wins.
pub fn tag_route_rank(tag: &str) -> u8 {
    let lower = tag.to_ascii_lowercase();
    match (lower.starts_with("azurecloud"), lower.contains('.')) {
        (false, true) => 0,
        (false, false) => 1,
        (true, true) => 2,
        (true, false) => 3,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bundled_snapshot_has_storage_and_regional_forms() {
        let tags = ServiceTags::bundled();
        assert_eq!(tags.change_number(), 376);
        let storage = tags.get("storage").unwrap();
        assert_eq!(storage.name, "Storage");
        assert!(!storage.prefixes.is_empty());
        let japan = tags.get("Storage.JapanEast").unwrap();
        assert_eq!(japan.region, "japaneast");
        assert!(tags.regional("Storage", "japaneast").is_some());
        assert!(tags.get("AzureCloud").unwrap().prefixes.len() > 1000);
    }

    #[test]
    fn a_file_in_another_format_is_refused_with_its_position() {
        let e = ServiceTags::from_json("{\"changeNumber\": 1,\n \"values\": 3}").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("not a service-tag file (line 2, column 12): invalid type"),
            "{e}"
        );
    }

    #[test]
    fn e4_rank() {
        assert!(tag_route_rank("Storage.EastUS") < tag_route_rank("Storage"));
        assert!(tag_route_rank("Storage") < tag_route_rank("AzureCloud.canadacentral"));
        assert!(tag_route_rank("AzureCloud.canadacentral") < tag_route_rank("AzureCloud"));
    }
}
