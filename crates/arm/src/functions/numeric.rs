//! ARM's numeric functions (add, copyIndex, div, int, max, min, mod, mul, sub) on 64-bit
//! integers, per Microsoft's reference
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-numeric>).
//! Overflow and division by zero are errors.

use super::args::{wrong, Args, Builtin};
use super::Value;

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[
    ("add", add),
    ("copyindex", copy_index),
    ("div", div),
    ("int", int),
    ("max", max),
    ("min", min),
    ("mod", mod_),
    ("mul", mul),
    ("sub", sub),
];

fn arithmetic(
    args: &Args,
    op: fn(i64, i64) -> Option<i64>,
    failure: &str,
) -> Result<Value, String> {
    args.arity(2, 2)?;
    let (a, b) = (args.int(0)?, args.int(1)?);
    op(a, b)
        .map(Value::from)
        .ok_or_else(|| format!("{failure} ({a}, {b})"))
}

fn add(args: &Args) -> Result<Value, String> {
    arithmetic(args, i64::checked_add, "the sum overflows 64 bits")
}

fn sub(args: &Args) -> Result<Value, String> {
    arithmetic(args, i64::checked_sub, "the difference overflows 64 bits")
}

fn mul(args: &Args) -> Result<Value, String> {
    arithmetic(args, i64::checked_mul, "the product overflows 64 bits")
}

/// Integer division, truncated toward zero as in .NET.
fn div(args: &Args) -> Result<Value, String> {
    arithmetic(
        args,
        i64::checked_div,
        "cannot divide by zero or overflow 64 bits",
    )
}

/// The remainder, with the sign of the dividend as in .NET.
fn mod_(args: &Args) -> Result<Value, String> {
    arithmetic(
        args,
        i64::checked_rem,
        "cannot divide by zero or overflow 64 bits",
    )
}

/// copyIndex(), copyIndex(offset), copyIndex(loopName) or copyIndex(loopName, offset).
fn copy_index(args: &Args) -> Result<Value, String> {
    args.arity(0, 2)?;
    let (loop_name, offset) = match (args.all().first(), args.all().len()) {
        (None, _) => (None, 0),
        (Some(Value::String(name)), 1) => (Some(name.as_str()), 0),
        (Some(_), 1) => (None, args.int(0)?),
        _ => (Some(args.string(0)?), args.int(1)?),
    };
    let index = args.ctx.copy_index(loop_name)?;
    index
        .checked_add(offset)
        .map(Value::from)
        .ok_or_else(|| format!("the index {index} plus the offset {offset} overflows 64 bits"))
}

/// An integer as it is, or a string of one (surrounding whitespace allowed, as .NET does).
fn int(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    match args.value(0)? {
        Value::String(s) => s
            .trim()
            .parse::<i64>()
            .map(Value::from)
            .map_err(|_| format!("'{s}' is not a 64-bit integer")),
        other => other
            .as_i64()
            .map(Value::from)
            .ok_or_else(|| wrong(0, "an integer or a string", other)),
    }
}

/// min/max: of one array of integers, or of integer arguments.
fn extreme(args: &Args, pick: fn(i64, i64) -> i64) -> Result<Value, String> {
    args.arity(1, usize::MAX)?;
    let values = match args.all() {
        [Value::Array(items)] => items.as_slice(),
        all => all,
    };
    let mut ints = values
        .iter()
        .enumerate()
        .map(|(i, v)| v.as_i64().ok_or_else(|| wrong(i, "an integer", v)));
    let first = ints.next().ok_or("needs at least one integer")??;
    ints.try_fold(first, |acc, v| v.map(|v| pick(acc, v)))
        .map(Value::from)
}

fn min(args: &Args) -> Result<Value, String> {
    extreme(args, i64::min)
}

fn max(args: &Args) -> Result<Value, String> {
    extreme(args, i64::max)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err, TestContext};
    use serde_json::json;

    // Examples from Microsoft's "Numeric functions for ARM templates" page.

    #[test]
    fn copy_index_forms() {
        let ctx = TestContext::default().in_loop("vms", 2).in_loop("disks", 5);
        assert_eq!(ctx.eval("copyIndex()"), json!(5));
        assert_eq!(ctx.eval("copyIndex(1)"), json!(6));
        assert_eq!(ctx.eval("copyIndex('vms')"), json!(2));
        assert_eq!(ctx.eval("copyIndex('VMS', 10)"), json!(12));
        assert_eq!(
            ctx.eval("concat('storage', copyIndex(1))"),
            json!("storage6")
        );
        assert!(eval_err("copyIndex()")
            .message
            .contains("outside a copy loop"));
        assert!(ctx
            .eval_err("copyIndex('nope')")
            .message
            .contains("outside a copy loop"));
        assert!(ctx
            .eval_err("copyIndex(9223372036854775807)")
            .message
            .contains("overflows"));
        assert!(ctx
            .eval_err("copyIndex(1, 'vms')")
            .message
            .contains("argument 1 must be a string"));
        assert!(ctx
            .eval_err("copyIndex(true())")
            .message
            .contains("must be an integer"));
        assert!(ctx
            .eval_err("copyIndex('a', 1, 2)")
            .message
            .contains("expects 0 to 2 arguments"));
    }

    #[test]
    fn arithmetic() {
        assert_eq!(eval("add(5, 3)"), json!(8));
        assert_eq!(eval("sub(7, 3)"), json!(4));
        assert_eq!(eval("mul(5, 3)"), json!(15));
        assert_eq!(eval("div(8, 3)"), json!(2));
        assert_eq!(eval("mod(7, 3)"), json!(1));
        assert_eq!(eval("div(-7, 2)"), json!(-3));
        assert_eq!(eval("mod(-7, 2)"), json!(-1));
    }

    #[test]
    fn arithmetic_errors() {
        assert!(eval_err("div(1, 0)").message.contains("divide by zero"));
        assert!(eval_err("mod(1, 0)").message.contains("divide by zero"));
        assert!(eval_err("div(-9223372036854775808, -1)")
            .message
            .contains("overflow"));
        assert!(eval_err("add(9223372036854775807, 1)")
            .message
            .contains("overflows"));
        assert!(eval_err("sub(-9223372036854775808, 1)")
            .message
            .contains("overflows"));
        assert!(eval_err("mul(9223372036854775807, 2)")
            .message
            .contains("overflows"));
        assert!(eval_err("add(1, '2')")
            .message
            .contains("argument 2 must be an integer, got a string"));
        assert!(eval_err("add(json('1.5'), 1)")
            .message
            .contains("argument 1 must be an integer"));
        assert!(eval_err("add(1)")
            .message
            .contains("expects 2 arguments, got 1"));
    }

    #[test]
    fn int_conversion() {
        assert_eq!(eval("int('4')"), json!(4));
        assert_eq!(eval("int(123)"), json!(123), "Bicep's evaluated baseline");
        assert_eq!(eval("int(' -12 ')"), json!(-12));
        assert!(eval_err("int('4.5')")
            .message
            .contains("not a 64-bit integer"));
        assert!(eval_err("int(true())")
            .message
            .contains("an integer or a string"));
    }

    #[test]
    fn min_and_max() {
        assert_eq!(eval("min(createArray(0, 3, 2, 5, 4))"), json!(0));
        assert_eq!(eval("min(0, 3, 2, 5, 4)"), json!(0));
        assert_eq!(eval("max(createArray(0, 3, 2, 5, 4))"), json!(5));
        assert_eq!(eval("max(0, 3, 2, 5, 4)"), json!(5));
        assert_eq!(eval("max(-1)"), json!(-1));
        assert!(eval_err("max(createArray())")
            .message
            .contains("at least one integer"));
        assert!(eval_err("min(1, 'a')")
            .message
            .contains("argument 2 must be an integer"));
    }
}
