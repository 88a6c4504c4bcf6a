//! ARM's lambda functions (filter, map, reduce, sort, toObject, with lambda and
//! lambdaVariables), per Microsoft's reference
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-lambda>).
//! A lambda is only an argument of these functions: `lambda('x', ['i',] body)`; filter, map and
//! reduce also pass the element's index to a lambda that names one more parameter.

use super::args::{arity_message, count_message, kind};
use super::{exactly, EvalError, Evaluator, Expr, Special, Value};
use serde_json::Map;

pub(super) const SPECIAL: &[(&str, Special)] = &[
    ("filter", filter),
    ("lambda", lambda),
    ("lambdavariables", lambda_variables),
    ("map", map),
    ("reduce", reduce),
    ("sort", sort),
    ("toobject", to_object),
];

struct Lambda<'e> {
    params: Vec<&'e str>,
    body: &'e Expr,
}

/// `expr` as a lambda of `min..=max` parameters.
fn lambda_of<'e>(
    name: &str,
    expr: &'e Expr,
    min: usize,
    max: usize,
) -> Result<Lambda<'e>, EvalError> {
    let fail = |message: String| EvalError::in_function(name, message);
    let (body, names) = match expr {
        Expr::Call {
            name: callee, args, ..
        } if callee.eq_ignore_ascii_case("lambda") => args
            .split_last()
            .ok_or_else(|| fail("lambda() needs parameter names and a body".into()))?,
        _ => return Err(fail("expects a lambda(...) argument".into())),
    };
    let params = names
        .iter()
        .map(|n| match n {
            Expr::String(s) => Ok(s.as_str()),
            _ => Err(fail(
                "lambda() parameter names must be string literals".into(),
            )),
        })
        .collect::<Result<Vec<_>, _>>()?;
    if !(min..=max).contains(&params.len()) {
        return Err(fail(format!(
            "the lambda {}",
            count_message("parameter", params.len(), min, max)
        )));
    }
    Ok(Lambda { params, body })
}

/// Evaluates the body with the parameters bound to `values` (extra values are not bound).
fn apply(ev: &mut Evaluator, lambda: &Lambda, values: Vec<Value>) -> Result<Value, EvalError> {
    let outer = ev.lambda_variables.len();
    ev.lambda_variables
        .extend(lambda.params.iter().map(|p| p.to_string()).zip(values));
    let result = ev.eval(lambda.body);
    ev.lambda_variables.truncate(outer);
    result
}

fn array_of(ev: &mut Evaluator, name: &str, expr: &Expr) -> Result<Vec<Value>, EvalError> {
    match ev.eval(expr)? {
        Value::Array(items) => Ok(items),
        other => Err(EvalError::in_function(
            name,
            format!("argument 1 must be an array, got {}", kind(&other)),
        )),
    }
}

fn filter(ev: &mut Evaluator, name: &str, args: &[Expr]) -> Result<Value, EvalError> {
    let [input, predicate] = exactly(name, args)?;
    let items = array_of(ev, name, input)?;
    let predicate = lambda_of(name, predicate, 1, 2)?;
    let mut kept = Vec::new();
    for (i, item) in items.into_iter().enumerate() {
        match apply(ev, &predicate, vec![item.clone(), Value::from(i)])? {
            Value::Bool(true) => kept.push(item),
            Value::Bool(false) => {}
            other => {
                return Err(EvalError::in_function(
                    name,
                    format!("the lambda must return a boolean, got {}", kind(&other)),
                ))
            }
        }
    }
    Ok(Value::Array(kept))
}

fn map(ev: &mut Evaluator, name: &str, args: &[Expr]) -> Result<Value, EvalError> {
    let [input, mapping] = exactly(name, args)?;
    let items = array_of(ev, name, input)?;
    let mapping = lambda_of(name, mapping, 1, 2)?;
    let mapped = items
        .into_iter()
        .enumerate()
        .map(|(i, item)| apply(ev, &mapping, vec![item, Value::from(i)]));
    mapped.collect::<Result<_, _>>().map(Value::Array)
}

fn reduce(ev: &mut Evaluator, name: &str, args: &[Expr]) -> Result<Value, EvalError> {
    let [input, initial, combine] = exactly(name, args)?;
    let items = array_of(ev, name, input)?;
    let mut accumulated = ev.eval(initial)?;
    let combine = lambda_of(name, combine, 2, 3)?;
    for (i, item) in items.into_iter().enumerate() {
        accumulated = apply(ev, &combine, vec![accumulated, item, Value::from(i)])?;
    }
    Ok(accumulated)
}

/// sort(array, lambda('a', 'b', <a sorts before b>)): a stable merge sort, since the lambda
/// may fail or may not be a consistent order.
fn sort(ev: &mut Evaluator, name: &str, args: &[Expr]) -> Result<Value, EvalError> {
    let [input, before] = exactly(name, args)?;
    let items = array_of(ev, name, input)?;
    let before = lambda_of(name, before, 2, 2)?;
    let mut sorts_before = |a: &Value, b: &Value| -> Result<bool, EvalError> {
        match apply(ev, &before, vec![a.clone(), b.clone()])? {
            Value::Bool(b) => Ok(b),
            other => Err(EvalError::in_function(
                name,
                format!("the lambda must return a boolean, got {}", kind(&other)),
            )),
        }
    };
    merge_sort(items, &mut sorts_before).map(Value::Array)
}

fn merge_sort(
    mut items: Vec<Value>,
    before: &mut impl FnMut(&Value, &Value) -> Result<bool, EvalError>,
) -> Result<Vec<Value>, EvalError> {
    if items.len() < 2 {
        return Ok(items);
    }
    let right = items.split_off(items.len() / 2);
    let (left, right) = (merge_sort(items, before)?, merge_sort(right, before)?);
    let mut merged = Vec::with_capacity(left.len() + right.len());
    let (mut left, mut right) = (left.into_iter().peekable(), right.into_iter().peekable());
    while let (Some(l), Some(r)) = (left.peek(), right.peek()) {
        let next = if before(r, l)? {
            right.next()
        } else {
            left.next()
        };
        merged.extend(next);
    }
    merged.extend(left);
    merged.extend(right);
    Ok(merged)
}

/// toObject(array, lambda(key), [lambda(value)]): later duplicates of a key win.
fn to_object(ev: &mut Evaluator, name: &str, args: &[Expr]) -> Result<Value, EvalError> {
    let (input, key_expr, value_expr) = match args {
        [input, key] => (input, key, None),
        [input, key, value] => (input, key, Some(value)),
        _ => {
            return Err(EvalError::in_function(
                name,
                arity_message(args.len(), 2, 3),
            ))
        }
    };
    let items = array_of(ev, name, input)?;
    let key_of = lambda_of(name, key_expr, 1, 1)?;
    let value_of = value_expr
        .map(|expr| lambda_of(name, expr, 1, 1))
        .transpose()?;
    let mut object = Map::new();
    for item in items {
        let key = match apply(ev, &key_of, vec![item.clone()])? {
            Value::String(key) => key,
            other => {
                return Err(EvalError::in_function(
                    name,
                    format!("the key lambda must return a string, got {}", kind(&other)),
                ))
            }
        };
        let value = match &value_of {
            Some(value_of) => apply(ev, value_of, vec![item])?,
            None => item,
        };
        object.insert(key, value);
    }
    Ok(Value::Object(object))
}

fn lambda(_: &mut Evaluator, name: &str, _: &[Expr]) -> Result<Value, EvalError> {
    Err(EvalError::in_function(
        name,
        "a lambda can only be an argument of filter, map, reduce, sort or toObject",
    ))
}

fn lambda_variables(ev: &mut Evaluator, name: &str, args: &[Expr]) -> Result<Value, EvalError> {
    let [variable] = exactly(name, args)?;
    let variable = match ev.eval(variable)? {
        Value::String(s) => s,
        other => {
            return Err(EvalError::in_function(
                name,
                format!("argument 1 must be a string, got {}", kind(&other)),
            ))
        }
    };
    let bound = ev
        .lambda_variables
        .iter()
        .rev()
        .find(|(param, _)| param.eq_ignore_ascii_case(&variable));
    bound.map(|(_, value)| value.clone()).ok_or_else(|| {
        EvalError::in_function(
            name,
            format!("no lambda parameter '{variable}' is in scope"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err, TestContext};
    use serde_json::{json, Value};

    // Microsoft's "Lambda functions for ARM templates" examples use these dogs.
    fn dogs() -> TestContext {
        TestContext::default().variable(
            "dogs",
            json!([
                {"name": "Evie", "age": 5, "interests": ["Ball", "Frisbee"]},
                {"name": "Casper", "age": 3, "interests": ["Other dogs"]},
                {"name": "Indy", "age": 2, "interests": ["Butter"]},
                {"name": "Kira", "age": 8, "interests": ["Rubs"]}
            ]),
        )
    }

    fn names(value: Value) -> Vec<Value> {
        value
            .as_array()
            .map(|dogs| dogs.iter().map(|d| d["name"].clone()).collect())
            .unwrap_or_default()
    }

    #[test]
    fn filter() {
        let ctx = dogs();
        assert_eq!(names(ctx.eval("filter(variables('dogs'), lambda('dog', greaterOrEquals(lambdaVariables('dog').age, 5)))")), [json!("Evie"), json!("Kira")]);
        assert_eq!(
            names(ctx.eval("filter(variables('dogs'), lambda('val', 'i', and(less(lambdaVariables('i'), 2), equals(substring(lambdaVariables('val').name, 0, 1), 'C'))))")),
            [json!("Casper")]
        );
        assert_eq!(
            eval("filter(createArray(1, 2), lambda('i', less(lambdaVariables('i'), 2)))"),
            json!([1]),
            "Bicep's evaluated baseline"
        );
        assert!(eval_err("filter(createArray(1), lambda('i', 1))")
            .message
            .contains("must return a boolean"));
    }

    #[test]
    fn map() {
        let ctx = dogs();
        assert_eq!(
            ctx.eval("map(variables('dogs'), lambda('dog', lambdaVariables('dog').name))"),
            json!(["Evie", "Casper", "Indy", "Kira"])
        );
        assert_eq!(
            ctx.eval("map(variables('dogs'), lambda('dog', format('Hello {0}!', lambdaVariables('dog').name)))"),
            json!(["Hello Evie!", "Hello Casper!", "Hello Indy!", "Hello Kira!"])
        );
        assert_eq!(
            ctx.eval("map(range(0, length(variables('dogs'))), lambda('i', createObject('i', lambdaVariables('i'), 'dog', variables('dogs')[lambdaVariables('i')].name)))"),
            json!([{"i": 0, "dog": "Evie"}, {"i": 1, "dog": "Casper"}, {"i": 2, "dog": "Indy"}, {"i": 3, "dog": "Kira"}])
        );
        assert_eq!(
            ctx.eval("map(variables('dogs'), lambda('x', 'i', createObject('index', lambdaVariables('i'), 'val', lambdaVariables('x').name)))"),
            json!([{"index": 0, "val": "Evie"}, {"index": 1, "val": "Casper"}, {"index": 2, "val": "Indy"}, {"index": 3, "val": "Kira"}])
        );
        assert_eq!(
            eval("map(range(0, 3), lambda('i', format('Hi {0}!', lambdaVariables('i'))))"),
            json!(["Hi 0!", "Hi 1!", "Hi 2!"]),
            "Bicep's evaluated baseline"
        );
    }

    #[test]
    fn reduce() {
        let ctx = dogs();
        assert_eq!(ctx.eval("reduce(variables('dogs'), 0, lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next').age)))"), json!(18));
        assert_eq!(ctx.eval("reduce(variables('dogs'), 1, lambda('cur', 'next', add(lambdaVariables('cur'), lambdaVariables('next').age)))"), json!(19));
        assert_eq!(
            eval("reduce(createArray(createObject('foo', 123), createObject('bar', 456), createObject('baz', 789)), createObject(), lambda('cur', 'next', union(lambdaVariables('cur'), lambdaVariables('next'))))"),
            json!({"foo": 123, "bar": 456, "baz": 789})
        );
        assert_eq!(
            eval("reduce(createArray('a', 'b', 'c'), '', lambda('a', 'b', format('{0}-{1}', lambdaVariables('a'), lambdaVariables('b'))))"),
            json!("-a-b-c"),
            "Bicep's evaluated baseline"
        );
        assert_eq!(eval("reduce(createArray(10, 20), 0, lambda('c', 'n', 'i', add(lambdaVariables('c'), lambdaVariables('i'))))"), json!(1));
        assert!(
            eval_err("reduce(createArray(1), 0, lambda('c', add(1, 1)))")
                .message
                .contains("2 to 3 parameters")
        );
    }

    #[test]
    fn sort() {
        let ctx = dogs();
        assert_eq!(
            names(ctx.eval("sort(variables('dogs'), lambda('a', 'b', less(lambdaVariables('a').age, lambdaVariables('b').age)))")),
            [json!("Indy"), json!("Casper"), json!("Evie"), json!("Kira")]
        );
        assert_eq!(eval("sort(createArray('c', 'd', 'a'), lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b'))))"), json!(["a", "c", "d"]), "Bicep's evaluated baseline");
        // An inconsistent order neither panics nor loses elements.
        assert_eq!(
            eval("length(sort(range(0, 50), lambda('a', 'b', true())))"),
            json!(50)
        );
        assert!(eval_err("sort(createArray(1, 2), lambda('a', 'b', 1))")
            .message
            .contains("must return a boolean"));
        assert!(
            eval_err("sort(createArray(1, 2), lambda('a', 'b', div(1, 0)))")
                .function
                .as_deref()
                == Some("div")
        );
    }

    #[test]
    fn to_object() {
        let ctx = dogs();
        let by_name =
            ctx.eval("toObject(variables('dogs'), lambda('entry', lambdaVariables('entry').name))");
        assert_eq!(
            by_name["Kira"],
            json!({"name": "Kira", "age": 8, "interests": ["Rubs"]})
        );
        assert_eq!(
            ctx.eval("toObject(variables('dogs'), lambda('entry', lambdaVariables('entry').name), lambda('entry', lambdaVariables('entry').age))"),
            json!({"Evie": 5, "Casper": 3, "Indy": 2, "Kira": 8})
        );
        assert_eq!(
            eval("toObject(createArray('a', 'b', 'c'), lambda('x', lambdaVariables('x')), lambda('x', format('Hi {0}!', lambdaVariables('x'))))"),
            json!({"a": "Hi a!", "b": "Hi b!", "c": "Hi c!"}),
            "Bicep's evaluated baseline"
        );
        assert!(
            eval_err("toObject(createArray(1), lambda('x', lambdaVariables('x')))")
                .message
                .contains("must return a string")
        );
        assert!(eval_err("toObject(createArray(1))")
            .message
            .contains("expects 2 to 3 arguments"));
    }

    #[test]
    fn nested_lambdas_see_outer_parameters() {
        assert_eq!(
            eval("map(createArray(1, 2), lambda('x', map(createArray(10, 20), lambda('y', add(lambdaVariables('x'), lambdaVariables('y'))))))"),
            json!([[11, 21], [12, 22]])
        );
        assert_eq!(eval("map(createArray(1), lambda('x', map(createArray(2), lambda('x', lambdaVariables('x')))))"), json!([[2]]));
    }

    #[test]
    fn lambda_misuse() {
        assert!(eval_err("lambda('x', 1)")
            .message
            .contains("only be an argument"));
        assert!(eval_err("lambdaVariables('x')")
            .message
            .contains("no lambda parameter 'x'"));
        assert!(eval_err("map(createArray(1), 'x')")
            .message
            .contains("expects a lambda"));
        assert!(eval_err("map(createArray(1), lambda())")
            .message
            .contains("parameter names and a body"));
        assert!(eval_err("map(createArray(1), lambda(concat('x'), 1))")
            .message
            .contains("string literals"));
        assert!(eval_err("map(createArray(1), lambda('a', 'b', 'c', 1))")
            .message
            .contains("1 to 2 parameters"));
        assert!(eval_err("map('abc', lambda('x', 1))")
            .message
            .contains("must be an array"));
        assert!(eval_err("filter(createArray(1))")
            .message
            .contains("expects 2 arguments, got 1"));
        // Bindings end with the lambda, even when its body fails.
        let ctx = TestContext::default();
        assert!(ctx
            .try_eval("map(createArray(1), lambda('x', div(1, 0)))")
            .is_err());
        assert!(ctx
            .eval_err("lambdaVariables('x')")
            .message
            .contains("no lambda parameter"));
    }
}
