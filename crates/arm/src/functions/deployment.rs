//! ARM's deployment functions (deployment, environment, parameters, variables), per Microsoft's reference
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-deployment>).
//! The values come from the deployment being evaluated (the `Context`).

use super::args::{Args, Builtin};
use super::Value;

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[
    ("deployment", deployment),
    ("environment", environment),
    ("parameters", parameters),
    ("variables", variables),
];

/// The Azure environment: the public cloud (AzureCloud), as Microsoft's reference shows it.
fn environment(args: &Args) -> Result<Value, String> {
    args.arity(0, 0)?;
    Ok(serde_json::json!({
        "name": "AzureCloud",
        "gallery": "https://gallery.azure.com/",
        "graph": "https://graph.windows.net/",
        "portal": "https://portal.azure.com",
        "graphAudience": "https://graph.windows.net/",
        "activeDirectoryDataLake": "https://datalake.azure.net/",
        "batch": "https://batch.core.windows.net/",
        "media": "https://rest.media.azure.net",
        "sqlManagement": "https://management.core.windows.net:8443/",
        "vmImageAliasDoc": "https://raw.githubusercontent.com/Azure/azure-rest-api-specs/master/arm-compute/quickstart-templates/aliases.json",
        "resourceManager": "https://management.azure.com/",
        "authentication": {
            "loginEndpoint": "https://login.microsoftonline.com/",
            "audiences": ["https://management.core.windows.net/", "https://management.azure.com/"],
            "tenant": "common",
            "identityProvider": "AAD"
        },
        "suffixes": {
            "acrLoginServer": ".azurecr.io",
            "azureDatalakeAnalyticsCatalogAndJob": "azuredatalakeanalytics.net",
            "azureDatalakeStoreFileSystem": "azuredatalakestore.net",
            "azureFrontDoorEndpointSuffix": "azurefd.net",
            "keyvaultDns": ".vault.azure.net",
            "sqlServerHostname": ".database.windows.net",
            "storage": "core.windows.net"
        }
    }))
}

fn deployment(args: &Args) -> Result<Value, String> {
    args.arity(0, 0)?;
    Ok(args.ctx.deployment())
}

fn parameters(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    args.ctx.parameter(args.string(0)?)
}

fn variables(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    args.ctx.variable(args.string(0)?)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err, TestContext};
    use serde_json::json;

    #[test]
    fn deployment_object() {
        assert_eq!(eval("deployment().name"), json!("deploy1"));
        assert_eq!(
            eval("uri(deployment().properties.templateLink.uri, 'nested/vnet.json')"),
            json!("https://example.com/templates/nested/vnet.json")
        );
        assert!(eval_err("deployment('x')")
            .message
            .contains("expects 0 arguments"));
    }

    #[test]
    fn environment_is_the_public_cloud() {
        // Microsoft's reference example output (AzureCloud).
        assert_eq!(eval("environment().name"), json!("AzureCloud"));
        assert_eq!(
            eval("environment().suffixes.storage"),
            json!("core.windows.net")
        );
        assert_eq!(
            eval("concat('privatelink', environment().suffixes.sqlServerHostname)"),
            json!("privatelink.database.windows.net")
        );
    }

    #[test]
    fn parameters_and_variables() {
        let ctx = TestContext::default()
            .parameter("stringParameter", json!("option 1"))
            .variable("var1", json!({"a": [1]}));
        assert_eq!(ctx.eval("parameters('stringParameter')"), json!("option 1"));
        assert_eq!(ctx.eval("variables('var1').a[0]"), json!(1));
        assert_eq!(
            ctx.eval_err("parameters('nope')").message,
            "the parameter 'nope' is not defined"
        );
        assert_eq!(
            ctx.eval_err("variables('nope')").function.as_deref(),
            Some("variables")
        );
        assert!(ctx
            .eval_err("parameters(1)")
            .message
            .contains("must be a string"));
        assert!(ctx
            .eval_err("parameters()")
            .message
            .contains("expects 1 argument, got 0"));
    }
}
