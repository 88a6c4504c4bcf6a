//! Azure resource IDs. Azure compares them case-insensitively
//! (learn.microsoft.com/azure/azure-resource-manager/management/resource-name-rules), so the
//! key used for lookups is lower-cased while the original spelling is kept for output.

use std::fmt;
use std::sync::Arc;

/// Subscription and resource group used when the input gives names but no IDs.
pub const DEFAULT_SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000000";
pub const DEFAULT_RESOURCE_GROUP: &str = "vnetlab";

/// Shared, so the many resources that carry an ID clone it without copying.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ResourceId(Arc<str>);

impl ResourceId {
    pub fn new(id: impl Into<Arc<str>>) -> Self {
        ResourceId(id.into())
    }

    /// `/subscriptions/{sub}/resourceGroups/{rg}/providers/{type}/{name}` where a child type
    /// (`Microsoft.Network/virtualNetworks/subnets`) pairs its segments with a `vnet/subnet` name.
    pub fn from_type_and_name(resource_type: &str, name: &str) -> Self {
        let mut parts = resource_type.split('/');
        let namespace = parts.next().unwrap_or_default();
        let mut id = format!(
            "/subscriptions/{DEFAULT_SUBSCRIPTION}/resourceGroups/{DEFAULT_RESOURCE_GROUP}/providers/{namespace}"
        );
        let mut names = name.split('/');
        for segment in parts {
            id.push('/');
            id.push_str(segment);
            id.push('/');
            id.push_str(names.next().unwrap_or_default());
        }
        ResourceId(id.into())
    }

    /// A child of this resource: `{self}/{child_type}/{name}`.
    pub fn child(&self, child_type: &str, name: &str) -> Self {
        ResourceId(format!("{}/{child_type}/{name}", self.0).into())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The case-insensitive key Azure uses to match references.
    pub fn key(&self) -> String {
        self.0.trim_end_matches('/').to_ascii_lowercase()
    }

    /// The parent of a child resource: `.../virtualNetworks/hub` for `.../virtualNetworks/hub/subnets/app`.
    pub fn parent(&self) -> String {
        self.0
            .trim_end_matches('/')
            .rsplitn(3, '/')
            .nth(2)
            .unwrap_or_default()
            .to_string()
    }

    /// The last name segment.
    pub fn name(&self) -> &str {
        self.0
            .trim_end_matches('/')
            .rsplit('/')
            .next()
            .unwrap_or_default()
    }
}

impl fmt::Display for ResourceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn child_types_pair_with_name_segments() {
        let id =
            ResourceId::from_type_and_name("Microsoft.Network/virtualNetworks/subnets", "hub/app");
        assert_eq!(
            id.as_str(),
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/vnetlab/providers/Microsoft.Network/virtualNetworks/hub/subnets/app"
        );
        assert_eq!(id.name(), "app");
    }

    #[test]
    fn keys_ignore_case() {
        let a = ResourceId::new(
            "/subscriptions/X/resourceGroups/RG/providers/Microsoft.Network/routeTables/RT1",
        );
        let b = ResourceId::new(
            "/subscriptions/x/resourcegroups/rg/providers/microsoft.network/routetables/rt1",
        );
        assert_eq!(a.key(), b.key());
    }
}
