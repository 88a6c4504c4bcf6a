//! Test support: a deployment `Context` with fixed, Azure-shaped values, and shorthands to
//! evaluate an expression against it.

use super::{evaluate, Context, EvalError, Value};
use crate::expression::parse;
use serde_json::{json, Map};

pub const SUBSCRIPTION: &str = "00000000-0000-0000-0000-000000000001";

#[derive(Default)]
pub struct TestContext {
    parameters: Map<String, Value>,
    variables: Map<String, Value>,
    loops: Vec<(String, i64)>,
    resources: Map<String, Value>,
    /// Deploy at subscription scope: resourceGroup() is Null.
    no_resource_group: bool,
}

impl TestContext {
    pub fn parameter(mut self, name: &str, value: Value) -> Self {
        self.parameters.insert(name.into(), value);
        self
    }

    pub fn variable(mut self, name: &str, value: Value) -> Self {
        self.variables.insert(name.into(), value);
        self
    }

    /// Enters a copy loop (innermost last).
    pub fn in_loop(mut self, name: &str, index: i64) -> Self {
        self.loops.push((name.into(), index));
        self
    }

    pub fn resource(mut self, name: &str, value: Value) -> Self {
        self.resources.insert(name.into(), value);
        self
    }

    pub fn at_subscription_scope(mut self) -> Self {
        self.no_resource_group = true;
        self
    }

    pub fn try_eval(&self, text: &str) -> Result<Value, EvalError> {
        let expr = parse(text).map_err(|e| EvalError {
            function: None,
            message: e.message,
        })?;
        evaluate(&expr, self)
    }

    pub fn eval(&self, text: &str) -> Value {
        self.try_eval(text)
            .unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    pub fn eval_err(&self, text: &str) -> EvalError {
        match self.try_eval(text) {
            Ok(value) => panic!("{text} should fail, gave {value}"),
            Err(e) => e,
        }
    }
}

fn lookup(map: &Map<String, Value>, what: &str, name: &str) -> Result<Value, String> {
    map.get(name)
        .cloned()
        .ok_or_else(|| format!("the {what} '{name}' is not defined"))
}

impl Context for TestContext {
    fn parameter(&self, name: &str) -> Result<Value, String> {
        lookup(&self.parameters, "parameter", name)
    }

    fn variable(&self, name: &str) -> Result<Value, String> {
        lookup(&self.variables, "variable", name)
    }

    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, String> {
        let found = match loop_name {
            None => self.loops.last(),
            Some(name) => self
                .loops
                .iter()
                .rev()
                .find(|(n, _)| n.eq_ignore_ascii_case(name)),
        };
        found
            .map(|(_, i)| *i)
            .ok_or_else(|| "copyIndex() is used outside a copy loop".into())
    }

    fn reference(&self, name_or_id: &str, full: bool) -> Result<Value, String> {
        let resource = lookup(&self.resources, "resource", name_or_id)?;
        Ok(if full {
            resource
        } else {
            resource.get("properties").cloned().unwrap_or(Value::Null)
        })
    }

    fn resource_group(&self) -> Value {
        if self.no_resource_group {
            return Value::Null;
        }
        json!({
            "id": format!("/subscriptions/{SUBSCRIPTION}/resourceGroups/rg1"),
            "name": "rg1",
            "type": "Microsoft.Resources/resourceGroups",
            "location": "westeurope",
            "properties": {"provisioningState": "Succeeded"}
        })
    }

    fn subscription(&self) -> Value {
        json!({
            "id": format!("/subscriptions/{SUBSCRIPTION}"),
            "subscriptionId": SUBSCRIPTION,
            "tenantId": "00000000-0000-0000-0000-000000000000",
            "displayName": "Test subscription"
        })
    }

    fn deployment(&self) -> Value {
        json!({"name": "deploy1", "properties": {"templateLink": {"uri": "https://example.com/templates/main.json"}}})
    }
}

/// Evaluates `text` with an empty context, panicking on error.
pub fn eval(text: &str) -> Value {
    TestContext::default().eval(text)
}

/// Evaluates `text` with an empty context, expecting an error.
pub fn eval_err(text: &str) -> EvalError {
    TestContext::default().eval_err(text)
}
