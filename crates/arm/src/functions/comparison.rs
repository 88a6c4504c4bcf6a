//! ARM's comparison functions (coalesce, equals, greater, greaterOrEquals, less, lessOrEquals),
//! per Microsoft's reference
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-comparison>).
//! Order compares two integers, or two strings ordinally (so 'A' < 'a').

use super::args::{kind, Args, Builtin};
use super::Value;
use std::cmp::Ordering;

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[
    ("coalesce", coalesce),
    ("equals", equals),
    ("greater", greater),
    ("greaterorequals", greater_or_equals),
    ("less", less),
    ("lessorequals", less_or_equals),
];

fn coalesce(args: &Args) -> Result<Value, String> {
    args.arity(1, usize::MAX)?;
    Ok(args
        .all()
        .iter()
        .find(|v| !v.is_null())
        .cloned()
        .unwrap_or(Value::Null))
}

fn equals(args: &Args) -> Result<Value, String> {
    args.arity(2, 2)?;
    Ok(Value::Bool(args.value(0)? == args.value(1)?))
}

fn order(args: &Args) -> Result<Ordering, String> {
    args.arity(2, 2)?;
    let (a, b) = (args.value(0)?, args.value(1)?);
    match (a, b) {
        (Value::String(x), Value::String(y)) => Ok(x.cmp(y)),
        _ => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Ok(x.cmp(&y)),
            _ => Err(format!(
                "can compare two integers or two strings, not {} and {}",
                kind(a),
                kind(b)
            )),
        },
    }
}

fn less(args: &Args) -> Result<Value, String> {
    order(args).map(|o| Value::Bool(o.is_lt()))
}

fn less_or_equals(args: &Args) -> Result<Value, String> {
    order(args).map(|o| Value::Bool(o.is_le()))
}

fn greater(args: &Args) -> Result<Value, String> {
    order(args).map(|o| Value::Bool(o.is_gt()))
}

fn greater_or_equals(args: &Args) -> Result<Value, String> {
    order(args).map(|o| Value::Bool(o.is_ge()))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err, TestContext};
    use serde_json::json;

    // Examples from Microsoft's "Comparison functions for ARM templates" page.

    #[test]
    fn coalesce() {
        let ctx = TestContext::default().parameter("objectToTest", json!({"null1": null, "null2": null, "string": "default", "int": 1, "object": {"first": "default"}, "array": [1]}));
        assert_eq!(ctx.eval("coalesce(parameters('objectToTest').null1, parameters('objectToTest').null2, parameters('objectToTest').string)"), json!("default"));
        assert_eq!(ctx.eval("coalesce(parameters('objectToTest').null1, parameters('objectToTest').null2, parameters('objectToTest').int)"), json!(1));
        assert_eq!(ctx.eval("coalesce(parameters('objectToTest').null1, parameters('objectToTest').null2, parameters('objectToTest').object)"), json!({"first": "default"}));
        assert_eq!(ctx.eval("coalesce(parameters('objectToTest').null1, parameters('objectToTest').null2, parameters('objectToTest').array)"), json!([1]));
        assert_eq!(
            ctx.eval(
                "coalesce(parameters('objectToTest').null1, parameters('objectToTest').null2)"
            ),
            json!(null)
        );
        assert!(eval_err("coalesce()").message.contains("at least 1"));
    }

    #[test]
    fn equals() {
        let ctx = TestContext::default()
            .parameter("firstInt", json!(1))
            .parameter("secondInt", json!(1))
            .parameter("firstString", json!("a"))
            .parameter("secondString", json!("a"))
            .parameter("firstArray", json!(["a", "b"]))
            .parameter("secondArray", json!(["a", "b"]))
            .parameter("firstObject", json!({"a": "b"}))
            .parameter("secondObject", json!({"a": "b"}));
        assert_eq!(
            ctx.eval("equals(parameters('firstInt'), parameters('secondInt'))"),
            json!(true)
        );
        assert_eq!(
            ctx.eval("equals(parameters('firstString'), parameters('secondString'))"),
            json!(true)
        );
        assert_eq!(
            ctx.eval("equals(parameters('firstArray'), parameters('secondArray'))"),
            json!(true)
        );
        assert_eq!(
            ctx.eval("equals(parameters('firstObject'), parameters('secondObject'))"),
            json!(true)
        );
        assert_eq!(eval("not(equals(1, 2))"), json!(true));
        assert_eq!(eval("equals('a', 'A')"), json!(false));
        assert!(eval_err("equals(1)")
            .message
            .contains("expects 2 arguments"));
    }

    #[test]
    fn ordering() {
        assert_eq!(eval("greater(10, 5)"), json!(true));
        assert_eq!(eval("greater('A', 'a')"), json!(false));
        assert_eq!(eval("greaterOrEquals(10, 5)"), json!(true));
        assert_eq!(eval("greaterOrEquals('A', 'a')"), json!(false));
        assert_eq!(eval("less(10, 5)"), json!(false));
        assert_eq!(eval("less('A', 'a')"), json!(true));
        assert_eq!(eval("lessOrEquals(10, 5)"), json!(false));
        assert_eq!(eval("lessOrEquals('A', 'a')"), json!(true));
        assert_eq!(eval("lessOrEquals(5, 5)"), json!(true));
        assert!(eval_err("less(1, 'a')")
            .message
            .contains("an integer and a string"));
        assert!(eval_err("greater(createArray(), 1)")
            .message
            .contains("two integers or two strings"));
    }
}
