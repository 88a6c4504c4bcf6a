//! The shapes a REST or `az` export takes: a JSON array of resources, `{"value": [...]}` (a
//! list call), a single resource (a `show` call), or an ARM template whose `resources` use
//! literal IDs. Inline children (VNet subnets and peerings, NSG rules, route table routes) and
//! separate child resources (`Microsoft.Network/virtualNetworks/subnets` named `vnet/subnet`,
//! or nested `resources` in a template) all become one flat list.

use serde_json::Value;
use vnetlab_model::{Diagnostic, Origin, ResourceId};

use crate::value::at;

/// One resource of the input with its full type, name and ID.
#[derive(Debug, Clone)]
pub struct RawResource<'a> {
    /// Lower-cased full type, `microsoft.network/virtualnetworks/subnets`.
    pub kind: String,
    /// The type as written, for messages.
    pub type_name: String,
    /// Full name: `vnet/subnet` for a child.
    pub name: String,
    pub id: ResourceId,
    pub location: Option<&'a str>,
    pub object: &'a Value,
    pub path: String,
    /// Position in input order, used for address allocation (D14).
    pub order: usize,
}

impl RawResource<'_> {
    pub fn origin(&self, kind: &'static str) -> Origin {
        Origin::new(kind, self.name.clone(), self.path.clone())
    }

    /// The last segment of the name: `subnet` of `vnet/subnet`.
    pub fn short_name(&self) -> &str {
        self.name.rsplit('/').next().unwrap_or_default()
    }
}

/// Inline child collections: (parent type, property, child type segment).
const INLINE_CHILDREN: [(&str, &str, &str); 4] = [
    ("microsoft.network/virtualnetworks", "properties.subnets", "subnets"),
    ("microsoft.network/virtualnetworks", "properties.virtualNetworkPeerings", "virtualNetworkPeerings"),
    ("microsoft.network/networksecuritygroups", "properties.securityRules", "securityRules"),
    ("microsoft.network/routetables", "properties.routes", "routes"),
];

/// Flattens the document into resources, or says why its shape is wrong.
pub fn flatten(doc: &Value) -> Result<Vec<RawResource<'_>>, Diagnostic> {
    let (items, base): (&[Value], &str) = match doc {
        Value::Array(items) => (items, ""),
        Value::Object(obj) => {
            if let Some(Value::Array(items)) = obj.get("resources") {
                (items, "resources")
            } else if let Some(Value::Array(items)) = obj.get("value") {
                (items, "value")
            } else if obj.contains_key("type") {
                (std::slice::from_ref(doc), "")
            } else if let Some(Value::Object(_)) = obj.get("resources") {
                return Err(Diagnostic::file_error("resources", "this template declares resources as an object (Bicep languageVersion 2.0), which needs the ARM template support")
                    .with_hint("compile without languageVersion 2.0, or export the deployed resources with `az resource list`"));
            } else {
                return Err(shape_error(""));
            }
        }
        _ => return Err(shape_error("")),
    };
    let single = matches!(doc, Value::Object(o) if o.contains_key("type") && !o.contains_key("resources") && !o.contains_key("value"));
    let mut out = Vec::new();
    for (i, item) in items.iter().enumerate() {
        let path = if single { String::new() } else { format!("{base}[{i}]") };
        push_resource(item, &path, None, &mut out)?;
    }
    Ok(out)
}

fn shape_error(path: &str) -> Diagnostic {
    Diagnostic::file_error(path, "expected Azure resources: a JSON array of resources, an object {\"value\": [...]}, a single resource with \"type\", or an ARM template with \"resources\"")
        .with_hint("export with `az network vnet list`, `az resource list` or `az group export`, or write a vnetlab YAML lab file (.yaml)")
}

fn push_resource<'a>(
    item: &'a Value,
    path: &str,
    parent: Option<(&str, &str)>,
    out: &mut Vec<RawResource<'a>>,
) -> Result<(), Diagnostic> {
    if !item.is_object() {
        return Err(Diagnostic::file_error(path, "expected a resource object with type, name and properties"));
    }
    let text = |key: &str| at(item, key).and_then(Value::as_str);
    let Some(type_name) = text("type") else {
        return Err(Diagnostic::file_error(path, "resource has no \"type\"").with_hint("every resource needs a type such as Microsoft.Network/virtualNetworks"));
    };
    let Some(name) = text("name") else {
        return Err(Diagnostic::file_error(path, format!("resource of type {type_name} has no \"name\"")));
    };
    // A nested template resource may give its type and name relative to the parent.
    let (type_name, name) = match parent {
        Some((ptype, pname)) if !type_name.contains('/') => (format!("{ptype}/{type_name}"), format!("{pname}/{name}")),
        _ => (type_name.to_string(), name.to_string()),
    };
    let id = match text("id") {
        Some(id) => ResourceId::new(id),
        None => ResourceId::from_type_and_name(&type_name, &name),
    };
    let kind = type_name.to_ascii_lowercase();
    let location = text("location");
    let order = out.len();
    out.push(RawResource { kind: kind.clone(), type_name: type_name.clone(), name: name.clone(), id: id.clone(), location, object: item, path: path.to_string(), order });

    for (ptype, property, child_type) in INLINE_CHILDREN {
        if kind != ptype {
            continue;
        }
        let Some(children) = at(item, property) else { continue };
        let Some(children) = children.as_array() else {
            return Err(Diagnostic::file_error(format!("{path}.{property}"), "expected an array"));
        };
        for (j, child) in children.iter().enumerate() {
            let cpath = format!("{path}.{property}[{j}]");
            let Some(cname) = at(child, "name").and_then(Value::as_str) else {
                return Err(Diagnostic::file_error(cpath, format!("{child_type} entry has no \"name\"")));
            };
            let cid = match at(child, "id").and_then(Value::as_str) {
                Some(cid) => ResourceId::new(cid),
                None => id.child(child_type, cname),
            };
            out.push(RawResource {
                kind: format!("{kind}/{}", child_type.to_ascii_lowercase()),
                type_name: format!("{type_name}/{child_type}"),
                name: format!("{name}/{cname}"),
                id: cid,
                location,
                object: child,
                path: cpath,
                order: out.len(),
            });
        }
    }
    if let Some(nested) = at(item, "resources").and_then(Value::as_array) {
        for (j, child) in nested.iter().enumerate() {
            push_resource(child, &format!("{path}.resources[{j}]"), Some((&type_name, &name)), out)?;
        }
    }
    Ok(())
}
