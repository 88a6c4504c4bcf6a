//! The shapes a REST or `az` export takes: a JSON array of resources, `{"value": [...]}` (a
//! list call), a single resource (a `show` call), or an ARM template whose `resources` use
//! literal IDs. Inline children (VNet subnets and peerings, NSG rules, route table routes) and
//! separate child resources (`Microsoft.Network/virtualNetworks/subnets` named `vnet/subnet`,
//! or nested `resources` in a template) all become one flat list.

use crate::json::Json;
use std::borrow::Cow;
use std::sync::Arc;
use vnetlab_model::{Diagnostic, Origin, ResourceId};

use crate::value::at;

/// One resource of the input with its full type, name and ID.
#[derive(Debug, Clone)]
pub struct RawResource<'a> {
    /// The modelled type (an entry of MODELLED), or OTHER.
    pub kind: &'static str,
    /// The type as written, for messages.
    pub type_name: Cow<'a, str>,
    /// Full name: `vnet/subnet` for a child.
    pub name: Arc<str>,
    pub id: ResourceId,
    pub location: Option<&'a str>,
    pub object: &'a Json<'a>,
    pub path: Arc<str>,
    /// Position in input order, used for address allocation (D14).
    pub order: usize,
}

impl RawResource<'_> {
    pub fn origin(&self, kind: &'static str) -> Origin {
        Origin {
            kind,
            name: self.name.clone(),
            path: self.path.clone(),
        }
    }

    /// The last segment of the name: `subnet` of `vnet/subnet`.
    pub fn short_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or_default()
    }
}

/// The resource kinds vnetlab models, by lower-cased type.
pub const MODELLED: [&str; 19] = [
    "microsoft.network/virtualnetworks",
    "microsoft.network/virtualnetworks/subnets",
    "microsoft.network/virtualnetworks/virtualnetworkpeerings",
    "microsoft.network/networkinterfaces",
    "microsoft.compute/virtualmachines",
    "microsoft.network/routetables",
    "microsoft.network/routetables/routes",
    "microsoft.network/networksecuritygroups",
    "microsoft.network/networksecuritygroups/securityrules",
    "microsoft.network/applicationsecuritygroups",
    "microsoft.network/publicipaddresses",
    "microsoft.network/virtualnetworkgateways",
    "microsoft.network/localnetworkgateways",
    "microsoft.network/connections",
    "microsoft.network/natgateways",
    "microsoft.network/loadbalancers",
    "microsoft.network/loadbalancers/backendaddresspools",
    "microsoft.network/loadbalancers/inboundnatrules",
    "microsoft.network/privateendpoints",
];

/// The kind of a resource of a type vnetlab does not model.
pub const OTHER: &str = "other";

/// The modelled kind of a type, matched case-insensitively.
fn kind_of(type_name: &str) -> &'static str {
    MODELLED
        .iter()
        .copied()
        .find(|k| k.eq_ignore_ascii_case(type_name))
        .unwrap_or(OTHER)
}

/// Inline child collections: (parent type, property, child type segment).
const INLINE_CHILDREN: [(&str, &str, &str, &str); 4] = [
    (
        "microsoft.network/virtualnetworks",
        "properties.subnets",
        "subnets",
        "microsoft.network/virtualnetworks/subnets",
    ),
    (
        "microsoft.network/virtualnetworks",
        "properties.virtualNetworkPeerings",
        "virtualNetworkPeerings",
        "microsoft.network/virtualnetworks/virtualnetworkpeerings",
    ),
    (
        "microsoft.network/networksecuritygroups",
        "properties.securityRules",
        "securityRules",
        "microsoft.network/networksecuritygroups/securityrules",
    ),
    (
        "microsoft.network/routetables",
        "properties.routes",
        "routes",
        "microsoft.network/routetables/routes",
    ),
];

/// Flattens the document into resources, or says why its shape is wrong.
pub fn flatten<'a>(doc: &'a Json<'a>) -> Result<Vec<RawResource<'a>>, Diagnostic> {
    let (items, base): (&[Json], &str) = match doc {
        Json::Array(items) => (items, ""),
        Json::Object(_) => {
            if let Some(Json::Array(items)) = doc.member("resources") {
                (items, "resources")
            } else if let Some(Json::Array(items)) = doc.member("value") {
                (items, "value")
            } else if doc.member("type").is_some() {
                (std::slice::from_ref(doc), "")
            } else if let Some(Json::Object(_)) = doc.member("resources") {
                return Err(Diagnostic::file_error("resources", "this template declares resources as an object (Bicep languageVersion 2.0), which needs the ARM template support")
                    .with_hint("compile without languageVersion 2.0, or export the deployed resources with `az resource list`"));
            } else {
                return Err(shape_error(""));
            }
        }
        _ => return Err(shape_error("")),
    };
    let single = doc.member("type").is_some()
        && doc.member("resources").is_none()
        && doc.member("value").is_none();
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = if single {
            String::new()
        } else {
            format!("{base}[{i}]")
        };
        push_resource(item, &path, None, &mut out)?;
    }
    Ok(out)
}

fn shape_error(path: &str) -> Diagnostic {
    Diagnostic::file_error(path, "expected Azure resources: a JSON array of resources, an object {\"value\": [...]}, a single resource with \"type\", or an ARM template with \"resources\"")
        .with_hint("export with `az network vnet list`, `az resource list` or `az group export`, or write a vnetlab YAML lab file (.yaml)")
}

fn push_resource<'a>(
    item: &'a Json<'a>,
    path: &str,
    parent: Option<(&str, &str)>,
    out: &mut Vec<RawResource<'a>>,
) -> Result<(), Diagnostic> {
    if !item.is_object() {
        return Err(Diagnostic::file_error(
            path,
            "expected a resource object with type, name and properties",
        ));
    }
    let text = |key: &str| at(item, key).and_then(Json::as_str);
    let Some(type_name) = text("type") else {
        return Err(Diagnostic::file_error(path, "resource has no \"type\"")
            .with_hint("every resource needs a type such as Microsoft.Network/virtualNetworks"));
    };
    let Some(name) = text("name") else {
        return Err(Diagnostic::file_error(
            path,
            format!("resource of type {type_name} has no \"name\""),
        ));
    };
    // A nested template resource may give its type and name relative to the parent.
    let (type_name, name): (Cow<'a, str>, Cow<'a, str>) = match parent {
        Some((ptype, pname)) if !type_name.contains('/') => (
            format!("{ptype}/{type_name}").into(),
            format!("{pname}/{name}").into(),
        ),
        _ => (type_name.into(), name.into()),
    };
    let id = match text("id") {
        Some(id) => ResourceId::new(id),
        None => ResourceId::from_type_and_name(&type_name, &name),
    };
    let kind = kind_of(&type_name);
    let location = text("location");
    let order = out.len();
    out.push(RawResource {
        kind,
        type_name: type_name.clone(),
        name: Arc::from(name.as_ref()),
        id: id.clone(),
        location,
        object: item,
        path: Arc::from(path),
        order,
    });

    for (ptype, property, child_type, child_kind) in INLINE_CHILDREN {
        if kind != ptype {
            continue;
        }
        let Some(children) = at(item, property) else {
            continue;
        };
        let Some(children) = children.as_array() else {
            return Err(Diagnostic::file_error(
                format!("{path}.{property}"),
                "expected an array",
            ));
        };
        for (j, child) in children.iter().enumerate() {
            let cpath = format!("{path}.{property}[{j}]");
            let Some(cname) = at(child, "name").and_then(Json::as_str) else {
                return Err(Diagnostic::file_error(
                    cpath,
                    format!("{child_type} entry has no \"name\""),
                ));
            };
            let cid = match at(child, "id").and_then(Json::as_str) {
                Some(cid) => ResourceId::new(cid),
                None => id.child(child_type, cname),
            };
            out.push(RawResource {
                kind: kind_of(child_kind),
                type_name: Cow::Borrowed(child_kind),
                name: Arc::from(format!("{name}/{cname}")),
                id: cid,
                location,
                object: child,
                path: Arc::from(cpath),
                order: out.len(),
            });
        }
    }
    if let Some(nested) = at(item, "resources").and_then(Json::as_array) {
        for (j, child) in nested.iter().enumerate() {
            push_resource(
                child,
                &format!("{path}.resources[{j}]"),
                Some((&type_name, &name)),
                out,
            )?;
        }
    }
    Ok(())
}
