//! Arguments of ARM template functions: count and type checks with ARM's type names, ARM's
//! case-insensitive object keys, and the text ARM makes of a value where it needs a string
//! (concat, format, string) — .NET's: `True`/`False` for booleans, compact JSON for arrays and
//! objects (<https://learn.microsoft.com/azure/azure-resource-manager/templates/data-types>).

use super::{Context, Value};
use serde_json::Map;

/// A function that gets its arguments evaluated; the error is the message, which the caller
/// attributes to the function.
pub(super) type Builtin = fn(&Args) -> Result<Value, String>;

pub(super) struct Args<'a> {
    values: Vec<Value>,
    pub(super) ctx: &'a dyn Context,
}

impl<'a> Args<'a> {
    pub(super) fn new(values: Vec<Value>, ctx: &'a dyn Context) -> Args<'a> {
        Args { values, ctx }
    }

    pub(super) fn all(&self) -> &[Value] {
        &self.values
    }

    /// Checks that there are `min..=max` arguments (`usize::MAX`: no upper bound).
    pub(super) fn arity(&self, min: usize, max: usize) -> Result<(), String> {
        arity(self.values.len(), min, max)
    }

    pub(super) fn value(&self, i: usize) -> Result<&Value, String> {
        self.values
            .get(i)
            .ok_or_else(|| format!("argument {} is missing", i + 1))
    }

    pub(super) fn string(&self, i: usize) -> Result<&str, String> {
        let v = self.value(i)?;
        v.as_str().ok_or_else(|| wrong(i, "a string", v))
    }

    pub(super) fn int(&self, i: usize) -> Result<i64, String> {
        let v = self.value(i)?;
        v.as_i64().ok_or_else(|| wrong(i, "an integer", v))
    }

    pub(super) fn bool(&self, i: usize) -> Result<bool, String> {
        let v = self.value(i)?;
        v.as_bool().ok_or_else(|| wrong(i, "a boolean", v))
    }

    pub(super) fn array(&self, i: usize) -> Result<&Vec<Value>, String> {
        let v = self.value(i)?;
        v.as_array().ok_or_else(|| wrong(i, "an array", v))
    }

    pub(super) fn object(&self, i: usize) -> Result<&Map<String, Value>, String> {
        let v = self.value(i)?;
        v.as_object().ok_or_else(|| wrong(i, "an object", v))
    }
}

/// Checks that `n` arguments are `min..=max` (`usize::MAX`: no upper bound).
pub(super) fn arity(n: usize, min: usize, max: usize) -> Result<(), String> {
    if (min..=max).contains(&n) {
        Ok(())
    } else {
        Err(arity_message(n, min, max))
    }
}

/// "expects 2 arguments, got 3"
pub(super) fn arity_message(n: usize, min: usize, max: usize) -> String {
    count_message("argument", n, min, max)
}

/// "expects 2 {what}s, got 3"
pub(super) fn count_message(what: &str, n: usize, min: usize, max: usize) -> String {
    let plural = |k: usize| if k == 1 { "" } else { "s" };
    match (min, max) {
        (min, max) if min == max => format!("expects {min} {what}{}, got {n}", plural(min)),
        (min, usize::MAX) => format!("expects at least {min} {what}{}, got {n}", plural(min)),
        (min, max) => format!("expects {min} to {max} {what}s, got {n}"),
    }
}

/// "argument 2 must be an integer, got a string"
pub(super) fn wrong(i: usize, wanted: &str, got: &Value) -> String {
    format!("argument {} must be {wanted}, got {}", i + 1, kind(got))
}

/// The ARM type of a value, with its article.
pub(super) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(n) if n.is_i64() => "an integer",
        Value::Number(_) => "a number that is not a 64-bit integer",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The entry for `key` in an ARM object: exact match first, else ignoring ASCII case.
pub(super) fn entry<'m>(map: &'m Map<String, Value>, key: &str) -> Option<(&'m String, &'m Value)> {
    map.get_key_value(key)
        .or_else(|| map.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)))
}

/// The text of a value where ARM needs a string.
pub(super) fn display(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => n.to_string(),
        Value::Array(_) | Value::Object(_) => v.to_string(),
    }
}
