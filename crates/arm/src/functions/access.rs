//! Property (`x.name`) and index (`x[i]`, `x['name']`) access on values, as in ARM expressions:
//! object keys match ignoring case, array indexes are zero-based integers
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions>).

use super::args::{entry, kind};
use super::{EvalError, Value};

fn fail(message: String) -> EvalError {
    EvalError {
        function: None,
        message,
    }
}

pub(super) fn property(target: Value, name: &str) -> Result<Value, EvalError> {
    match target {
        Value::Object(mut map) => {
            let key = entry(&map, name).map(|(k, _)| k.clone());
            match key.and_then(|k| map.remove(&k)) {
                Some(value) => Ok(value),
                None => {
                    let available: Vec<&str> = map.keys().map(String::as_str).collect();
                    Err(fail(format!(
                        "the property '{name}' doesn't exist; available properties are '{}'",
                        available.join(", ")
                    )))
                }
            }
        }
        other => Err(fail(format!(
            "cannot read the property '{name}' of {}",
            kind(&other)
        ))),
    }
}

pub(super) fn index(target: Value, index: Value) -> Result<Value, EvalError> {
    match (target, index) {
        (Value::Object(map), Value::String(name)) => property(Value::Object(map), &name),
        (Value::Array(mut items), Value::Number(n)) => {
            let len = items.len();
            match n
                .as_i64()
                .and_then(|i| usize::try_from(i).ok())
                .filter(|i| *i < len)
            {
                Some(i) => Ok(items.swap_remove(i)),
                None => Err(fail(format!(
                    "the index {n} is out of range for an array of {len} element(s)"
                ))),
            }
        }
        (target, index) => Err(fail(format!(
            "cannot index {} with {}",
            kind(&target),
            kind(&index)
        ))),
    }
}
