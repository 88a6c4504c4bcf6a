//! ARM's scope functions (resourceGroup, subscription, tenant), per Microsoft's reference
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-scope>).
//! The values come from the deployment being evaluated (the `Context`).

use super::args::{Args, Builtin};
use super::Value;
use serde_json::json;

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[
    ("resourcegroup", resource_group),
    ("subscription", subscription),
    ("tenant", tenant),
];

fn resource_group(args: &Args) -> Result<Value, String> {
    args.arity(0, 0)?;
    match args.ctx.resource_group() {
        Value::Null => {
            Err("resourceGroup() is available only in a deployment to a resource group".into())
        }
        group => Ok(group),
    }
}

fn subscription(args: &Args) -> Result<Value, String> {
    args.arity(0, 0)?;
    Ok(args.ctx.subscription())
}

/// {"id", "tenantId"}: the country code and display name are not known offline.
fn tenant(args: &Args) -> Result<Value, String> {
    args.arity(0, 0)?;
    let tenant_id = args.ctx.tenant_id();
    Ok(json!({"id": format!("/tenants/{tenant_id}"), "tenantId": tenant_id}))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err, TestContext, SUBSCRIPTION};
    use serde_json::json;

    #[test]
    fn resource_group() {
        assert_eq!(eval("resourceGroup().location"), json!("westeurope"));
        assert_eq!(
            eval("resourceGroup().properties.provisioningState"),
            json!("Succeeded")
        );
        assert!(TestContext::default()
            .at_subscription_scope()
            .eval_err("resourceGroup()")
            .message
            .contains("only in a deployment to a resource group"));
        assert!(eval_err("resourceGroup('x')")
            .message
            .contains("expects 0 arguments"));
    }

    #[test]
    fn subscription_and_tenant() {
        assert_eq!(eval("subscription().subscriptionId"), json!(SUBSCRIPTION));
        assert_eq!(
            eval("tenant()"),
            json!({"id": "/tenants/00000000-0000-0000-0000-000000000000", "tenantId": "00000000-0000-0000-0000-000000000000"})
        );
    }
}
