//! ARM's resource functions that build and follow resource IDs (extensionResourceId,
//! reference, resourceId, subscriptionResourceId, tenantResourceId), per Microsoft's reference
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-resource>).
//! A type `Namespace/type1/type2` takes one name per type: `.../providers/Namespace/type1/name1/type2/name2`.

use super::args::{Args, Builtin};
use super::Value;

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[
    ("extensionresourceid", extension_resource_id),
    ("reference", reference),
    ("resourceid", resource_id),
    ("subscriptionresourceid", subscription_resource_id),
    ("tenantresourceid", tenant_resource_id),
];

/// All arguments as strings.
fn strings<'a>(args: &'a Args) -> Result<Vec<&'a str>, String> {
    (0..args.all().len()).map(|i| args.string(i)).collect()
}

/// Splits the arguments at the resource type, the first that contains '/': (before, type, names).
fn at_type<'s>(values: &'s [&'s str]) -> Result<(&'s [&'s str], &'s str, &'s [&'s str]), String> {
    let i = values
        .iter()
        .position(|v| v.contains('/'))
        .ok_or("expects a resource type such as 'Microsoft.Network/virtualNetworks'")?;
    let (before, rest) = values.split_at(i);
    let (resource_type, names) = rest.split_first().ok_or("expects a resource type")?;
    Ok((before, resource_type, names))
}

/// `Namespace/type1/name1/type2/name2...` from a type and its names (a name may hold several
/// segments, as in 'vnet/subnet').
fn typed_names(resource_type: &str, names: &[&str]) -> Result<String, String> {
    // A trailing '/' on the type is accepted, as ARM does ('Microsoft.Network/virtualNetworks/').
    let mut types = resource_type
        .strip_suffix('/')
        .unwrap_or(resource_type)
        .split('/');
    let namespace = types.next().unwrap_or_default();
    let types: Vec<&str> = types.collect();
    let names: Vec<&str> = names.iter().flat_map(|name| name.split('/')).collect();
    if namespace.is_empty() || types.iter().chain(&names).any(|segment| segment.is_empty()) {
        return Err(format!(
            "the resource type '{resource_type}' or a name has an empty segment"
        ));
    }
    if types.len() != names.len() {
        return Err(format!(
            "the resource type '{resource_type}' needs {} resource name(s), got {}",
            types.len(),
            names.len()
        ));
    }
    let pairs: Vec<String> = types
        .iter()
        .zip(&names)
        .map(|(t, n)| format!("{t}/{n}"))
        .collect();
    Ok(format!("{namespace}/{}", pairs.join("/")))
}

fn current_subscription(args: &Args) -> Result<String, String> {
    args.ctx
        .subscription()
        .get("subscriptionId")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| "the deployment has no subscription".into())
}

/// resourceId([subscriptionId], [resourceGroupName], resourceType, name1, ...): outside a
/// resource group deployment, without a group, a subscription-level ID.
fn resource_id(args: &Args) -> Result<Value, String> {
    let values = strings(args)?;
    let (scope, resource_type, names) = at_type(&values)?;
    let (subscription, group) = match scope {
        [] => {
            let group = args
                .ctx
                .resource_group()
                .get("name")
                .and_then(Value::as_str)
                .map(str::to_string);
            (current_subscription(args)?, group)
        }
        [group] => (current_subscription(args)?, Some(group.to_string())),
        [subscription, group] => (subscription.to_string(), Some(group.to_string())),
        _ => return Err(
            "expects at most a subscription ID and a resource group name before the resource type"
                .into(),
        ),
    };
    let group = group
        .map(|g| format!("/resourceGroups/{g}"))
        .unwrap_or_default();
    Ok(Value::String(format!(
        "/subscriptions/{subscription}{group}/providers/{}",
        typed_names(resource_type, names)?
    )))
}

/// subscriptionResourceId([subscriptionId], resourceType, name1, ...)
fn subscription_resource_id(args: &Args) -> Result<Value, String> {
    let values = strings(args)?;
    let (scope, resource_type, names) = at_type(&values)?;
    let subscription = match scope {
        [] => current_subscription(args)?,
        [subscription] => subscription.to_string(),
        _ => return Err("expects at most a subscription ID before the resource type".into()),
    };
    Ok(Value::String(format!(
        "/subscriptions/{subscription}/providers/{}",
        typed_names(resource_type, names)?
    )))
}

/// tenantResourceId(resourceType, name1, ...)
fn tenant_resource_id(args: &Args) -> Result<Value, String> {
    let values = strings(args)?;
    match at_type(&values)? {
        ([], resource_type, names) => Ok(Value::String(format!(
            "/providers/{}",
            typed_names(resource_type, names)?
        ))),
        _ => Err("expects the resource type as the first argument".into()),
    }
}

/// extensionResourceId(resourceId, resourceType, name1, ...)
fn extension_resource_id(args: &Args) -> Result<Value, String> {
    args.arity(3, usize::MAX)?;
    let values = strings(args)?;
    let [base, resource_type, names @ ..] = values.as_slice() else {
        return Err("expects a resource ID, a resource type and names".into());
    };
    Ok(Value::String(format!(
        "{base}/providers/{}",
        typed_names(resource_type, names)?
    )))
}

/// reference(resourceNameOrID, [apiVersion], ['Full'])
fn reference(args: &Args) -> Result<Value, String> {
    args.arity(1, 3)?;
    let name = args.string(0)?;
    if args.all().len() > 1 {
        args.string(1)?;
    }
    let full = match args.all().get(2) {
        None => false,
        Some(_) => {
            let mode = args.string(2)?;
            if !mode.eq_ignore_ascii_case("full") {
                return Err(format!("the third argument must be 'Full', got '{mode}'"));
            }
            true
        }
    };
    args.ctx.reference(name, full)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err, TestContext, SUBSCRIPTION};
    use serde_json::json;

    // Examples from Microsoft's "Resource functions for ARM templates" page, with the test
    // context's subscription and resource group 'rg1'.

    #[test]
    fn resource_id_forms() {
        assert_eq!(
            eval("resourceId('Microsoft.Storage/storageAccounts', 'examplestorage')"),
            json!(format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.Storage/storageAccounts/examplestorage"))
        );
        assert_eq!(
            eval("resourceId('otherResourceGroup', 'Microsoft.Storage/storageAccounts', 'examplestorage')"),
            json!(format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/otherResourceGroup/providers/Microsoft.Storage/storageAccounts/examplestorage"))
        );
        assert_eq!(
            eval("resourceId('11111111-1111-1111-1111-111111111111', 'otherResourceGroup', 'Microsoft.Storage/storageAccounts', 'examplestorage')"),
            json!("/subscriptions/11111111-1111-1111-1111-111111111111/resourceGroups/otherResourceGroup/providers/Microsoft.Storage/storageAccounts/examplestorage")
        );
        assert_eq!(
            eval("resourceId('Microsoft.SQL/servers/databases', 'serverName', 'databaseName')"),
            json!(format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.SQL/servers/serverName/databases/databaseName"))
        );
        assert_eq!(
            eval("resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet/subnet')"),
            json!(format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet/subnets/subnet"))
        );
    }

    #[test]
    fn resource_id_at_subscription_scope() {
        let ctx = TestContext::default().at_subscription_scope();
        assert_eq!(
            ctx.eval("resourceId('Microsoft.Resources/resourceGroups', 'rg2')"),
            json!(format!(
                "/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Resources/resourceGroups/rg2"
            ))
        );
    }

    #[test]
    fn resource_id_errors() {
        assert!(eval_err("resourceId('examplestorage')")
            .message
            .contains("resource type"));
        assert!(
            eval_err("resourceId('Microsoft.Network/virtualNetworks/subnets', 'vnet')")
                .message
                .contains("needs 2 resource name(s), got 1")
        );
        assert!(eval_err("resourceId('Microsoft.Network/virtualNetworks')")
            .message
            .contains("needs 1 resource name(s), got 0"));
        assert!(
            eval_err("resourceId('a', 'b', 'c', 'Microsoft.Network/virtualNetworks', 'v')")
                .message
                .contains("at most")
        );
        assert!(eval_err("resourceId('Microsoft.Network//x', 'v')")
            .message
            .contains("empty segment"));
        // ARM takes a type with a trailing '/' (quickstart hub-and-spoke-sandbox writes one).
        assert_eq!(
            eval("resourceId('Microsoft.Network/virtualNetworks/', 'hub')"),
            eval("resourceId('Microsoft.Network/virtualNetworks', 'hub')")
        );
        assert!(
            eval_err("resourceId('Microsoft.Network/virtualNetworks', 1)")
                .message
                .contains("argument 2 must be a string")
        );
    }

    #[test]
    fn subscription_tenant_and_extension_ids() {
        assert_eq!(
            eval("subscriptionResourceId('Microsoft.Authorization/roleDefinitions', 'acdd72a7-3385-48ef-bd42-f606fba81ae7')"),
            json!(format!("/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/acdd72a7-3385-48ef-bd42-f606fba81ae7"))
        );
        assert_eq!(
            eval("subscriptionResourceId('s1', 'Microsoft.Resources/resourceGroups', 'rg')"),
            json!("/subscriptions/s1/providers/Microsoft.Resources/resourceGroups/rg")
        );
        assert_eq!(
            eval("tenantResourceId('Microsoft.Authorization/policyDefinitions', '0a914e76-4921-4c19-b460-a2d36003525a')"),
            json!("/providers/Microsoft.Authorization/policyDefinitions/0a914e76-4921-4c19-b460-a2d36003525a")
        );
        assert_eq!(
            eval("extensionResourceId(resourceId('Microsoft.Network/virtualNetworks', 'vnet'), 'Microsoft.Authorization/locks', 'lock')"),
            json!(format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1/providers/Microsoft.Network/virtualNetworks/vnet/providers/Microsoft.Authorization/locks/lock"))
        );
        assert!(eval_err("tenantResourceId('x', 'Microsoft.A/b', 'n')")
            .message
            .contains("first argument"));
        assert!(
            eval_err("subscriptionResourceId('a', 'b', 'Microsoft.A/b', 'n')")
                .message
                .contains("at most")
        );
        assert!(eval_err("extensionResourceId('/x', 'Microsoft.A/b')")
            .message
            .contains("at least 3"));
    }

    #[test]
    fn reference_asks_the_deployment() {
        let ctx = TestContext::default().resource("vnet1", json!({"id": "/x/vnet1", "properties": {"addressSpace": {"addressPrefixes": ["10.0.0.0/16"]}}}));
        assert_eq!(
            ctx.eval("reference('vnet1').addressSpace.addressPrefixes[0]"),
            json!("10.0.0.0/16")
        );
        assert_eq!(
            ctx.eval("reference('vnet1', '2023-05-01', 'Full').id"),
            json!("/x/vnet1")
        );
        assert!(ctx
            .eval_err("reference('vnet1', '2023-05-01', 'Partial')")
            .message
            .contains("'Full'"));
        assert_eq!(
            ctx.eval_err("reference('other')").message,
            "the resource 'other' is not defined"
        );
    }
}
