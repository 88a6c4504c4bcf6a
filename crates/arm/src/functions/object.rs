//! ARM's object functions (createObject, items, json, null, objectKeys, shallowMerge, tryGet),
//! per Microsoft's reference (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-object>).
//! json() reads JSON as leniently as ARM's Json.NET does (single quotes, comments). contains,
//! empty, intersection, length and union also take objects; they are in `array`.

use super::args::{Args, Builtin};
use super::Value;
use serde_json::{json, Map};

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[
    ("createobject", create_object),
    ("items", items),
    ("json", json),
    ("null", null),
    ("objectkeys", object_keys),
    ("shallowmerge", shallow_merge),
    ("tryget", try_get),
];

/// JSON text to a value, leniently.
pub(super) fn parse_json(text: &str) -> Result<Value, String> {
    let parsed = jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default())
        .map_err(|e| format!("the string is not valid JSON: {e}"))?;
    parsed
        .value
        .map(Value::from)
        .ok_or_else(|| "the string is empty, not JSON".to_string())
}

fn create_object(args: &Args) -> Result<Value, String> {
    let pairs = args.all();
    if !pairs.len().is_multiple_of(2) {
        return Err(format!(
            "expects pairs of key and value, got {} arguments",
            pairs.len()
        ));
    }
    let mut object = Map::new();
    for i in (0..pairs.len()).step_by(2) {
        object.insert(args.string(i)?.to_string(), args.value(i + 1)?.clone());
    }
    Ok(Value::Object(object))
}

/// The object's entries as {key, value} objects, sorted by key.
fn items(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    let mut entries: Vec<(&String, &Value)> = args.object(0)?.iter().collect();
    entries.sort_by(|(a, _), (b, _)| {
        a.to_lowercase()
            .cmp(&b.to_lowercase())
            .then_with(|| a.cmp(b))
    });
    Ok(Value::Array(
        entries
            .into_iter()
            .map(|(key, value)| json!({"key": key, "value": value}))
            .collect(),
    ))
}

fn json(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    parse_json(args.string(0)?)
}

fn null(args: &Args) -> Result<Value, String> {
    args.arity(0, 0)?;
    Ok(Value::Null)
}

/// The objects of an array merged, later ones winning, nested objects not merged.
fn shallow_merge(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    let mut out = Map::new();
    for (i, item) in args.array(0)?.iter().enumerate() {
        let Value::Object(members) = item else {
            return Err(format!("element {i} of the array is not an object"));
        };
        out.extend(members.iter().map(|(k, v)| (k.clone(), v.clone())));
    }
    Ok(Value::Object(out))
}

/// The value at a chain of keys (objects) or indices (arrays), or null where one is missing.
fn try_get(args: &Args) -> Result<Value, String> {
    if args.all().len() < 2 {
        return Err(format!(
            "expects at least 2 arguments, got {}",
            args.all().len()
        ));
    }
    let mut current = args.value(0)?.clone();
    for key in &args.all()[1..] {
        current = match (&current, key) {
            (Value::Object(m), Value::String(k)) => super::args::entry(m, k)
                .map(|(_, v)| v.clone())
                .unwrap_or(Value::Null),
            (Value::Array(items), Value::Number(n)) => n
                .as_u64()
                .and_then(|i| items.get(i as usize))
                .cloned()
                .unwrap_or(Value::Null),
            _ => Value::Null,
        };
    }
    Ok(current)
}

fn object_keys(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    Ok(Value::Array(
        args.object(0)?
            .keys()
            .map(|k| Value::String(k.clone()))
            .collect(),
    ))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err, TestContext};
    use serde_json::json;

    // Examples from Microsoft's "Object functions for ARM templates" page unless noted.

    #[test]
    fn shallow_merge_and_try_get() {
        assert_eq!(eval("shallowMerge(createArray(createObject('one', 'a'), createObject('two', 'b'), createObject('two', 'c')))"), json!({"one": "a", "two": "c"}));
        // Nested objects are replaced, not merged.
        assert_eq!(eval("shallowMerge(createArray(createObject('one', 'a', 'nested', createObject('a', 1, 'nested', createObject('c', 3))), createObject('two', 'b', 'nested', createObject('b', 2))))"), json!({"one": "a", "nested": {"b": 2}, "two": "b"}));
        assert_eq!(
            eval("tryGet(createObject('foo', 'bar'), 'foo')"),
            json!("bar")
        );
        assert_eq!(
            eval("tryGet(createObject('foo', 'bar'), 'baz')"),
            json!(null)
        );
        assert_eq!(
            eval("tryGet(createObject('a', createArray(1, 2)), 'a', 1)"),
            json!(2)
        );
        assert!(eval_err("shallowMerge(createArray(1))")
            .message
            .contains("not an object"));
    }

    #[test]
    fn create_object() {
        assert_eq!(
            eval("createObject('intProp', 1, 'stringProp', 'abc', 'boolProp', true(), 'arrayProp', createArray('a', 'b', 'c'), 'objectProp', createObject('key1', 'value1'))"),
            json!({"intProp": 1, "stringProp": "abc", "boolProp": true, "arrayProp": ["a", "b", "c"], "objectProp": {"key1": "value1"}})
        );
        assert_eq!(eval("createObject()"), json!({}));
        assert!(eval_err("createObject('a')").message.contains("pairs"));
        assert!(eval_err("createObject(1, 2)")
            .message
            .contains("must be a string"));
    }

    #[test]
    fn items_are_sorted_by_key() {
        let ctx = TestContext::default().variable(
            "unsortedObject",
            json!({"b": "value2", "c": "value3", "a": "value1"}),
        );
        assert_eq!(
            ctx.eval("items(variables('unsortedObject'))"),
            json!([{"key": "a", "value": "value1"}, {"key": "b", "value": "value2"}, {"key": "c", "value": "value3"}])
        );
        assert_eq!(
            eval("items(createObject('foo', 'abc', 'bar', 123))"),
            json!([{"key": "bar", "value": 123}, {"key": "foo", "value": "abc"}]),
            "Bicep's evaluated baseline"
        );
        assert_eq!(
            eval("map(items(createObject('B', 1, 'a', 2)), lambda('x', lambdaVariables('x').key))"),
            json!(["a", "B"])
        );
        assert!(eval_err("items(createArray())")
            .message
            .contains("must be an object"));
    }

    #[test]
    fn json_parsing() {
        assert_eq!(eval("json('{\"a\": \"b\"}')"), json!({"a": "b"}));
        assert_eq!(eval("json('null')"), json!(null));
        assert_eq!(eval("json('[1, 2, 3]')"), json!([1, 2, 3]));
        assert_eq!(eval("json('1.5')"), json!(1.5));
        assert_eq!(eval("json('\"demo\"')"), json!("demo"));
        assert_eq!(eval("json('true')"), json!(true));
        // Json.NET's leniency, which ARM inherits: single quotes.
        assert_eq!(eval("json('{''one'': ''a''}')"), json!({"one": "a"}));
        assert_eq!(
            eval("base64ToJson(base64('{\"hi\": \"there\"}')).hi"),
            json!("there"),
            "Bicep's evaluated baseline"
        );
        assert!(eval_err("json('{')").message.contains("not valid JSON"));
        assert!(eval_err("json('')").message.contains("empty"));
        assert!(eval_err(&format!("json('{}')", "[".repeat(100_000)))
            .message
            .contains("not valid JSON"));
    }

    #[test]
    fn null_and_object_keys() {
        assert_eq!(eval("null()"), json!(null));
        assert_eq!(
            eval("objectKeys(createObject('a', 1, 'b', 2))"),
            json!(["a", "b"])
        );
        assert!(eval_err("objectKeys('a')")
            .message
            .contains("must be an object"));
    }
}
