//! ARM's logical functions (and, bool, false, if, not, or, true), per Microsoft's reference
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-logical>).
//! `if` evaluates only the branch it returns, so a template may guard a branch that would fail.

use super::args::{kind, wrong, Args, Builtin};
use super::{exactly, EvalError, Evaluator, Expr, Special, Value};

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[
    ("and", and),
    ("bool", bool),
    ("false", false_),
    ("not", not),
    ("or", or),
    ("true", true_),
];

pub(super) const SPECIAL: &[(&str, Special)] = &[("if", if_)];

/// The booleans of and/or: at least two.
fn booleans(args: &Args) -> Result<Vec<bool>, String> {
    args.arity(2, usize::MAX)?;
    (0..args.all().len()).map(|i| args.bool(i)).collect()
}

fn and(args: &Args) -> Result<Value, String> {
    Ok(Value::Bool(booleans(args)?.into_iter().all(|b| b)))
}

fn or(args: &Args) -> Result<Value, String> {
    Ok(Value::Bool(booleans(args)?.into_iter().any(|b| b)))
}

fn not(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    Ok(Value::Bool(!args.bool(0)?))
}

/// A boolean as it is, 'true'/'false' in any case, or an integer (non-zero is true).
fn bool(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    match args.value(0)? {
        Value::Bool(b) => Ok(Value::Bool(*b)),
        Value::String(s) if s.eq_ignore_ascii_case("true") => Ok(Value::Bool(true)),
        Value::String(s) if s.eq_ignore_ascii_case("false") => Ok(Value::Bool(false)),
        Value::String(s) => Err(format!("'{s}' is not a boolean (true or false)")),
        other => other
            .as_i64()
            .map(|i| Value::Bool(i != 0))
            .ok_or_else(|| wrong(0, "a boolean, a string or an integer", other)),
    }
}

fn true_(args: &Args) -> Result<Value, String> {
    args.arity(0, 0)?;
    Ok(Value::Bool(true))
}

fn false_(args: &Args) -> Result<Value, String> {
    args.arity(0, 0)?;
    Ok(Value::Bool(false))
}

fn if_(ev: &mut Evaluator, name: &str, args: &[Expr]) -> Result<Value, EvalError> {
    let [condition, when_true, when_false] = exactly(name, args)?;
    match ev.eval(condition)? {
        Value::Bool(true) => ev.eval(when_true),
        Value::Bool(false) => ev.eval(when_false),
        other => Err(EvalError::in_function(
            name,
            format!("the condition must be a boolean, got {}", kind(&other)),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err};
    use serde_json::json;

    // Examples from Microsoft's "Logical functions for ARM templates" page.

    #[test]
    fn and_or_not() {
        assert_eq!(eval("and(bool('true'), bool('false'))"), json!(false));
        assert_eq!(eval("or(bool('true'), bool('false'))"), json!(true));
        assert_eq!(eval("not(bool('true'))"), json!(false));
        assert_eq!(eval("and(true(), true(), true())"), json!(true));
        assert!(eval_err("and(true())").message.contains("at least 2"));
        assert!(eval_err("or(true(), 1)")
            .message
            .contains("argument 2 must be a boolean"));
        assert!(eval_err("not('true')")
            .message
            .contains("must be a boolean"));
    }

    #[test]
    fn bool_conversion() {
        assert_eq!(eval("bool('true')"), json!(true));
        assert_eq!(eval("bool('false')"), json!(false));
        assert_eq!(eval("bool(1)"), json!(true));
        assert_eq!(eval("bool(0)"), json!(false));
        assert_eq!(eval("bool('TRUE')"), json!(true));
        assert_eq!(
            eval("bool(true())"),
            json!(true),
            "Bicep's evaluated baseline"
        );
        assert!(eval_err("bool('yes')").message.contains("not a boolean"));
        assert!(eval_err("bool(createArray())")
            .message
            .contains("got an array"));
    }

    #[test]
    fn true_and_false() {
        assert_eq!(eval("true()"), json!(true));
        assert_eq!(eval("false()"), json!(false));
        assert!(eval_err("true(1)").message.contains("expects 0 arguments"));
    }

    #[test]
    fn if_returns_the_chosen_branch() {
        assert_eq!(eval("if(equals('a', 'a'), 'yes', 'no')"), json!("yes"));
        assert_eq!(eval("if(equals('a', 'b'), 'yes', 'no')"), json!("no"));
        assert_eq!(
            eval("if(equals('a', 'a'), json('null'), createObject('test', 'value'))"),
            json!(null)
        );
    }

    #[test]
    fn if_is_lazy() {
        assert_eq!(eval("if(true(), 'ok', div(1, 0))"), json!("ok"));
        assert_eq!(eval("if(false(), parameters('missing'), 1)"), json!(1));
        assert_eq!(
            eval_err("if(false(), 1, div(1, 0))").function.as_deref(),
            Some("div")
        );
        assert!(eval_err("if(1, 2, 3)")
            .message
            .contains("must be a boolean"));
        assert!(eval_err("if(true(), 1)")
            .message
            .contains("expects 3 arguments"));
    }
}
