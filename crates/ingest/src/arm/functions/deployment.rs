//! ARM's deployment functions (deployment, parameters, variables), per Microsoft's reference
//! (https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-deployment).
//! The values come from the deployment being evaluated (the `Context`).

use super::args::{Args, Builtin};
use super::Value;

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[("deployment", deployment), ("parameters", parameters), ("variables", variables)];

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
        assert_eq!(eval("uri(deployment().properties.templateLink.uri, 'nested/vnet.json')"), json!("https://example.com/templates/nested/vnet.json"));
        assert!(eval_err("deployment('x')").message.contains("expects 0 arguments"));
    }

    #[test]
    fn parameters_and_variables() {
        let ctx = TestContext::default().parameter("stringParameter", json!("option 1")).variable("var1", json!({"a": [1]}));
        assert_eq!(ctx.eval("parameters('stringParameter')"), json!("option 1"));
        assert_eq!(ctx.eval("variables('var1').a[0]"), json!(1));
        assert_eq!(ctx.eval_err("parameters('nope')").message, "the parameter 'nope' is not defined");
        assert_eq!(ctx.eval_err("variables('nope')").function.as_deref(), Some("variables"));
        assert!(ctx.eval_err("parameters(1)").message.contains("must be a string"));
        assert!(ctx.eval_err("parameters()").message.contains("expects 1 argument, got 0"));
    }
}
