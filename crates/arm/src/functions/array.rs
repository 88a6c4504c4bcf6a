//! ARM's array functions and those it shares between arrays, strings and objects (array,
//! concat, contains, createArray, empty, first, flatten, intersection, last, length, range,
//! skip, take, union), per Microsoft's reference
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-array>).
//! String lengths and positions are .NET's (UTF-16 units); union merges objects deeply.

use super::args::{display, entry, kind, wrong, Args, Builtin};
use super::{text, Value};
use serde_json::Map;

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[
    ("array", array),
    ("concat", concat),
    ("contains", contains),
    ("createarray", create_array),
    ("empty", empty),
    ("first", first),
    ("flatten", flatten),
    ("intersection", intersection),
    ("last", last),
    ("length", length),
    ("range", range),
    ("skip", skip),
    ("take", take),
    ("union", union),
];

/// range() limits, as documented.
const MAX_RANGE_COUNT: i64 = 10_000;
const MAX_RANGE_END: i64 = 2_147_483_647;

fn array(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    Ok(match args.value(0)? {
        Value::Array(items) => Value::Array(items.clone()),
        other => Value::Array(vec![other.clone()]),
    })
}

/// Arrays are concatenated with arrays (nulls skipped), anything else as text.
fn concat(args: &Args) -> Result<Value, String> {
    args.arity(1, usize::MAX)?;
    if args
        .all()
        .iter()
        .find(|v| !v.is_null())
        .is_some_and(Value::is_array)
    {
        let mut joined = Vec::new();
        for (i, v) in args.all().iter().enumerate() {
            match v {
                Value::Array(items) => joined.extend(items.iter().cloned()),
                Value::Null => {}
                other => return Err(wrong(i, "an array like the first argument", other)),
            }
        }
        return Ok(Value::Array(joined));
    }
    let mut joined = String::new();
    for (i, v) in args.all().iter().enumerate() {
        match v {
            Value::Array(_) | Value::Object(_) => {
                return Err(wrong(
                    i,
                    "a string, integer or boolean like the first argument",
                    v,
                ))
            }
            scalar => joined.push_str(&display(scalar)),
        }
    }
    Ok(Value::String(joined))
}

/// A substring (case-sensitive), an equal array element, or an object key (ignoring case).
fn contains(args: &Args) -> Result<Value, String> {
    args.arity(2, 2)?;
    let item = args.value(1)?;
    let found = match args.value(0)? {
        Value::Array(items) => items.contains(item),
        Value::Object(map) => entry(map, args.string(1)?).is_some(),
        Value::String(s) => match item {
            Value::Array(_) | Value::Object(_) | Value::Null => {
                return Err(wrong(1, "a string or an integer", item))
            }
            scalar => s.contains(&display(scalar)),
        },
        other => return Err(wrong(0, "an array, an object or a string", other)),
    };
    Ok(Value::Bool(found))
}

fn create_array(args: &Args) -> Result<Value, String> {
    Ok(Value::Array(args.all().to_vec()))
}

fn empty(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    Ok(Value::Bool(match args.value(0)? {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        Value::String(s) => s.is_empty(),
        other => return Err(wrong(0, "an array, an object or a string", other)),
    }))
}

/// first/last: an element of an array (null when empty) or a character of a string.
fn end(args: &Args, last: bool) -> Result<Value, String> {
    args.arity(1, 1)?;
    match args.value(0)? {
        Value::Array(items) => Ok((if last { items.last() } else { items.first() })
            .cloned()
            .unwrap_or(Value::Null)),
        Value::String(s) => {
            let c = if last {
                s.chars().next_back()
            } else {
                s.chars().next()
            };
            Ok(Value::String(c.map(String::from).unwrap_or_default()))
        }
        other => Err(wrong(0, "an array or a string", other)),
    }
}

fn first(args: &Args) -> Result<Value, String> {
    end(args, false)
}

fn last(args: &Args) -> Result<Value, String> {
    end(args, true)
}

fn flatten(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    let mut flat = Vec::new();
    for item in args.array(0)? {
        match item {
            Value::Array(inner) => flat.extend(inner.iter().cloned()),
            other => {
                return Err(format!(
                    "flatten needs an array of arrays; it has {}",
                    kind(other)
                ))
            }
        }
    }
    Ok(Value::Array(flat))
}

fn length(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    let n = match args.value(0)? {
        Value::Array(items) => items.len(),
        Value::Object(map) => map.len(),
        Value::String(s) => text::len(s),
        other => return Err(wrong(0, "an array, an object or a string", other)),
    };
    Ok(Value::from(n))
}

fn range(args: &Args) -> Result<Value, String> {
    args.arity(2, 2)?;
    let (start, count) = (args.int(0)?, args.int(1)?);
    if !(0..=MAX_RANGE_COUNT).contains(&count) {
        return Err(format!(
            "the count must be between 0 and {MAX_RANGE_COUNT}, got {count}"
        ));
    }
    match start.checked_add(count) {
        Some(end) if end <= MAX_RANGE_END => {
            Ok(Value::Array((start..end).map(Value::from).collect()))
        }
        _ => Err(format!(
            "the sum of the start index and count must be no greater than {MAX_RANGE_END}"
        )),
    }
}

/// skip/take: `n` clamped to the length; strings in UTF-16 units.
fn cut(args: &Args, keep_head: bool) -> Result<Value, String> {
    args.arity(2, 2)?;
    let n = args.int(1)?;
    let at = |len: usize| usize::try_from(n).unwrap_or(0).min(len);
    match args.value(0)? {
        Value::Array(items) => {
            let (head, tail) = items.split_at(at(items.len()));
            Ok(Value::Array(if keep_head { head } else { tail }.to_vec()))
        }
        Value::String(s) => {
            let units = text::units(s);
            let (head, tail) = units.split_at(at(units.len()));
            text::string(if keep_head { head } else { tail }).map(Value::String)
        }
        other => Err(wrong(0, "an array or a string", other)),
    }
}

fn skip(args: &Args) -> Result<Value, String> {
    cut(args, false)
}

fn take(args: &Args) -> Result<Value, String> {
    cut(args, true)
}

/// The arguments of union/intersection, all arrays or all objects (nulls skipped).
enum Collections<'a> {
    Arrays(Vec<&'a Vec<Value>>),
    Objects(Vec<&'a Map<String, Value>>),
}

fn collections<'a>(args: &'a Args) -> Result<Collections<'a>, String> {
    args.arity(2, usize::MAX)?;
    let present = || args.all().iter().enumerate().filter(|(_, v)| !v.is_null());
    if present().next().is_some_and(|(_, v)| v.is_object()) {
        present()
            .map(|(i, v)| {
                v.as_object()
                    .ok_or_else(|| wrong(i, "an object like the first argument", v))
            })
            .collect::<Result<_, _>>()
            .map(Collections::Objects)
    } else {
        present()
            .map(|(i, v)| {
                v.as_array()
                    .ok_or_else(|| wrong(i, "an array or an object", v))
            })
            .collect::<Result<_, _>>()
            .map(Collections::Arrays)
    }
}

/// Arrays: every distinct element in order. Objects: all keys, later values winning, objects
/// under the same key merged deeply (as Microsoft's example shows; arrays are replaced).
fn union(args: &Args) -> Result<Value, String> {
    Ok(match collections(args)? {
        Collections::Arrays(arrays) => {
            let mut out: Vec<Value> = Vec::new();
            for item in arrays.into_iter().flatten() {
                if !out.contains(item) {
                    out.push(item.clone());
                }
            }
            Value::Array(out)
        }
        Collections::Objects(objects) => {
            let mut out = Map::new();
            for object in objects {
                merge(&mut out, object);
            }
            Value::Object(out)
        }
    })
}

fn merge(into: &mut Map<String, Value>, from: &Map<String, Value>) {
    for (key, value) in from {
        let existing = entry(into, key).map(|(k, _)| k.clone());
        let previous = existing.and_then(|k| into.remove(&k));
        let merged = match (previous, value) {
            (Some(Value::Object(mut inner)), Value::Object(update)) => {
                merge(&mut inner, update);
                Value::Object(inner)
            }
            _ => value.clone(),
        };
        into.insert(key.clone(), merged);
    }
}

/// Arrays: the distinct elements of the first found in all others. Objects: the entries of the
/// first whose key (ignoring case) holds an equal value in all others.
fn intersection(args: &Args) -> Result<Value, String> {
    Ok(match collections(args)? {
        Collections::Arrays(arrays) => {
            let (first, rest) = arrays
                .split_first()
                .ok_or("intersection needs values that are not null")?;
            let mut out: Vec<Value> = Vec::new();
            for item in first.iter() {
                if rest.iter().all(|other| other.contains(item)) && !out.contains(item) {
                    out.push(item.clone());
                }
            }
            Value::Array(out)
        }
        Collections::Objects(objects) => {
            let (first, rest) = objects
                .split_first()
                .ok_or("intersection needs values that are not null")?;
            let common = first.iter().filter(|(key, value)| {
                rest.iter()
                    .all(|other| entry(other, key).is_some_and(|(_, v)| v == *value))
            });
            Value::Object(common.map(|(k, v)| (k.clone(), v.clone())).collect())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err, TestContext};
    use serde_json::json;

    // Examples from Microsoft's "Array functions for ARM templates" page unless noted.

    #[test]
    fn array_wraps_values() {
        let ctx = TestContext::default().parameter("objectToConvert", json!({"a": "b", "c": "d"}));
        assert_eq!(eval("array(1)"), json!([1]));
        assert_eq!(eval("array('efgh')"), json!(["efgh"]));
        assert_eq!(
            ctx.eval("array(parameters('objectToConvert'))"),
            json!([{"a": "b", "c": "d"}])
        );
        assert_eq!(eval("array(createArray(1))"), json!([1]));
    }

    #[test]
    fn concat_arrays_and_strings() {
        let ctx = TestContext::default()
            .parameter("firstArray", json!(["1-1", "1-2", "1-3"]))
            .parameter("secondArray", json!(["2-1", "2-2", "2-3"]));
        assert_eq!(
            ctx.eval("concat(parameters('firstArray'), parameters('secondArray'))"),
            json!(["1-1", "1-2", "1-3", "2-1", "2-2", "2-3"])
        );
        assert_eq!(
            eval("concat('prefix', '-', 'suffix')"),
            json!("prefix-suffix")
        );
        assert_eq!(eval("concat('storage', 3, true())"), json!("storage3True"));
        assert_eq!(
            eval("concat(createArray('abc'), createArray('def'))"),
            json!(["abc", "def"]),
            "Bicep's evaluated baseline"
        );
        assert!(eval_err("concat(createArray(1), 'a')")
            .message
            .contains("an array like the first argument"));
        assert!(eval_err("concat('a', createArray(1))")
            .message
            .contains("like the first argument"));
        assert!(eval_err("concat()").message.contains("at least 1"));
    }

    #[test]
    fn contains_in_strings_objects_and_arrays() {
        let ctx = TestContext::default()
            .parameter("stringToTest", json!("OneTwoThree"))
            .parameter(
                "objectToTest",
                json!({"one": "a", "two": "b", "three": "c"}),
            )
            .parameter("arrayToTest", json!(["one", "two", "three"]));
        assert_eq!(
            ctx.eval("contains(parameters('stringToTest'), 'e')"),
            json!(true)
        );
        assert_eq!(
            ctx.eval("contains(parameters('stringToTest'), 'z')"),
            json!(false)
        );
        assert_eq!(
            ctx.eval("contains(parameters('objectToTest'), 'one')"),
            json!(true)
        );
        assert_eq!(
            ctx.eval("contains(parameters('objectToTest'), 'a')"),
            json!(false)
        );
        assert_eq!(
            ctx.eval("contains(parameters('arrayToTest'), 'three')"),
            json!(true)
        );
        assert_eq!(
            ctx.eval("contains(parameters('arrayToTest'), 'four')"),
            json!(false)
        );
        // Keys ignore case; substrings do not.
        assert_eq!(
            ctx.eval("contains(parameters('objectToTest'), 'ONE')"),
            json!(true)
        );
        assert_eq!(
            ctx.eval("contains(parameters('stringToTest'), 'one')"),
            json!(false)
        );
        assert_eq!(eval("contains('abc1', 1)"), json!(true));
        assert!(eval_err("contains(1, 1)").message.contains("argument 1"));
        assert!(eval_err("contains('a', createArray())")
            .message
            .contains("argument 2"));
    }

    #[test]
    fn create_array() {
        let ctx = TestContext::default()
            .parameter(
                "objectToTest",
                json!({"one": "a", "two": "b", "three": "c"}),
            )
            .parameter("arrayToTest", json!(["one", "two", "three"]));
        assert_eq!(eval("createArray('a', 'b', 'c')"), json!(["a", "b", "c"]));
        assert_eq!(eval("createArray(1, 2, 3)"), json!([1, 2, 3]));
        assert_eq!(
            ctx.eval("createArray(parameters('objectToTest'))"),
            json!([{"one": "a", "two": "b", "three": "c"}])
        );
        assert_eq!(
            ctx.eval("createArray(parameters('arrayToTest'))"),
            json!([["one", "two", "three"]])
        );
        assert_eq!(eval("createArray()"), json!([]));
    }

    #[test]
    fn empty() {
        assert_eq!(eval("empty(createArray())"), json!(true));
        assert_eq!(eval("empty(createObject())"), json!(true));
        assert_eq!(eval("empty('')"), json!(true));
        assert_eq!(eval("empty(null())"), json!(true));
        assert_eq!(eval("empty(' ')"), json!(false));
        assert!(eval_err("empty(0)").message.contains("got an integer"));
    }

    #[test]
    fn first_and_last() {
        let ctx = TestContext::default().parameter("arrayToTest", json!(["one", "two", "three"]));
        assert_eq!(ctx.eval("first(parameters('arrayToTest'))"), json!("one"));
        assert_eq!(eval("first('One Two Three')"), json!("O"));
        assert_eq!(ctx.eval("last(parameters('arrayToTest'))"), json!("three"));
        assert_eq!(eval("last('One Two Three')"), json!("e"));
        assert_eq!(
            eval("first(createArray(124, 25))"),
            json!(124),
            "Bicep's evaluated baseline"
        );
        assert_eq!(eval("first(createArray())"), json!(null));
        assert_eq!(eval("last('')"), json!(""));
        assert!(eval_err("first(1)")
            .message
            .contains("an array or a string"));
    }

    #[test]
    fn flatten() {
        assert_eq!(
            eval("flatten(createArray(createArray('abc'), createArray('def')))"),
            json!(["abc", "def"]),
            "Bicep's evaluated baseline"
        );
        assert!(eval_err("flatten(createArray(1))")
            .message
            .contains("array of arrays"));
    }

    #[test]
    fn intersection_of_objects_and_arrays() {
        let ctx = TestContext::default()
            .parameter("firstObject", json!({"one": "a", "two": "b", "three": "c"}))
            .parameter(
                "secondObject",
                json!({"one": "a", "two": "z", "three": "c"}),
            )
            .parameter("firstArray", json!(["one", "two", "three"]))
            .parameter("secondArray", json!(["two", "three"]));
        assert_eq!(
            ctx.eval("intersection(parameters('firstObject'), parameters('secondObject'))"),
            json!({"one": "a", "three": "c"})
        );
        assert_eq!(
            ctx.eval("intersection(parameters('firstArray'), parameters('secondArray'))"),
            json!(["two", "three"])
        );
        assert_eq!(
            eval("intersection(createArray(1, 2, 3), createArray(2, 3, 4))"),
            json!([2, 3]),
            "Bicep's evaluated baseline"
        );
        assert_eq!(
            eval("intersection(createArray(1, 1, 2), createArray(1, 2), createArray(1))"),
            json!([1])
        );
        assert!(eval_err("intersection(createArray(1), createObject())")
            .message
            .contains("argument 2"));
        assert!(eval_err("intersection(createArray(1))")
            .message
            .contains("at least 2"));
        assert!(eval_err("intersection(null(), null())")
            .message
            .contains("not null"));
    }

    #[test]
    fn length_of_strings_arrays_and_objects() {
        let ctx = TestContext::default().parameter(
            "objectToTest",
            json!({"propA": "one", "propB": "two", "propC": "three", "propD": {"propD-1": "sub", "propD-2": "sub"}}),
        );
        assert_eq!(eval("length(createArray('one', 'two', 'three'))"), json!(3));
        assert_eq!(eval("length('One Two Three')"), json!(13));
        assert_eq!(ctx.eval("length(parameters('objectToTest'))"), json!(4));
        assert_eq!(
            eval("length('😀')"),
            json!(2),
            "UTF-16 units, as .NET counts"
        );
        assert!(eval_err("length(1)").message.contains("got an integer"));
    }

    #[test]
    fn range() {
        assert_eq!(eval("range(5, 3)"), json!([5, 6, 7]));
        assert_eq!(
            eval("range(0, 3)"),
            json!([0, 1, 2]),
            "Bicep's evaluated baseline"
        );
        assert_eq!(eval("range(-2, 0)"), json!([]));
        assert!(eval_err("range(0, 10001)")
            .message
            .contains("between 0 and 10000"));
        assert!(eval_err("range(0, -1)")
            .message
            .contains("between 0 and 10000"));
        assert!(eval_err("range(2147483647, 1)")
            .message
            .contains("no greater than"));
        assert!(eval_err("range(9223372036854775807, 1)")
            .message
            .contains("no greater than"));
        assert!(eval_err("range('a', 1)")
            .message
            .contains("must be an integer"));
    }

    #[test]
    fn skip_and_take() {
        let ctx = TestContext::default().parameter("testArray", json!(["one", "two", "three"]));
        assert_eq!(
            ctx.eval("skip(parameters('testArray'), 2)"),
            json!(["three"])
        );
        assert_eq!(eval("skip('one two three', 4)"), json!("two three"));
        assert_eq!(
            ctx.eval("take(parameters('testArray'), 2)"),
            json!(["one", "two"])
        );
        assert_eq!(eval("take('one two three', 2)"), json!("on"));
        assert_eq!(
            ctx.eval("skip(parameters('testArray'), -1)"),
            json!(["one", "two", "three"])
        );
        assert_eq!(ctx.eval("skip(parameters('testArray'), 9)"), json!([]));
        assert_eq!(ctx.eval("take(parameters('testArray'), -1)"), json!([]));
        assert_eq!(eval("take('abc', 9223372036854775807)"), json!("abc"));
        assert!(eval_err("take(1, 1)")
            .message
            .contains("an array or a string"));
    }

    #[test]
    fn union_of_objects_and_arrays() {
        let ctx = TestContext::default()
            .parameter(
                "firstObject",
                json!({"one": "a", "two": "b", "three": "c1"}),
            )
            .parameter(
                "secondObject",
                json!({"three": "c2", "four": "d", "five": "e"}),
            )
            .parameter("firstArray", json!(["one", "two", "three"]))
            .parameter("secondArray", json!(["three", "four"]));
        assert_eq!(
            ctx.eval("union(parameters('firstObject'), parameters('secondObject'))"),
            json!({"one": "a", "two": "b", "three": "c2", "four": "d", "five": "e"})
        );
        assert_eq!(
            ctx.eval("union(parameters('firstArray'), parameters('secondArray'))"),
            json!(["one", "two", "three", "four"])
        );
    }

    #[test]
    fn union_merges_nested_objects_and_replaces_arrays() {
        // The deep-merge example of the current union() documentation.
        let ctx = TestContext::default()
            .parameter("firstObject", json!({"property": {"one": "a", "two": "b", "three": "c1"}, "nestedArray": [1, 2]}))
            .parameter("secondObject", json!({"property": {"three": "c2", "four": "d", "five": "e"}, "nestedArray": [3, 4]}))
            .parameter("firstArray", json!([["one", "two"], ["three"]]))
            .parameter("secondArray", json!([["three"], ["four", "two"]]));
        assert_eq!(
            ctx.eval("union(parameters('firstObject'), parameters('secondObject'))"),
            json!({"property": {"one": "a", "two": "b", "three": "c2", "four": "d", "five": "e"}, "nestedArray": [3, 4]})
        );
        assert_eq!(
            ctx.eval("union(parameters('firstArray'), parameters('secondArray'))"),
            json!([["one", "two"], ["three"], ["four", "two"]])
        );
        assert_eq!(
            eval("union(createObject('A', 1), createObject('a', 2), null())"),
            json!({"a": 2})
        );
        assert!(eval_err("union(createObject(), createArray())")
            .message
            .contains("an object like the first"));
    }
}
