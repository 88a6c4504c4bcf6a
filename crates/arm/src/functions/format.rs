//! ARM's format(): .NET composite formatting — `{index[,alignment][:formatString]}` items with
//! `{{`/`}}` escapes — with .NET's standard numeric formats D, N, F, G and X and zero-digit
//! custom formats (`000`) for numbers, per Microsoft's reference
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-string#format>)
//! and .NET's "Standard numeric format strings"
//! (<https://learn.microsoft.com/dotnet/standard/base-types/standard-numeric-format-strings>).

use super::args::{display, Args};
use super::{text, Value};
use serde_json::Number;

/// .NET refuses alignments from 1,000,000 on.
const MAX_ALIGNMENT: usize = 999_999;
/// The precision limit .NET Framework documents; beyond it we refuse rather than allocate.
const MAX_PRECISION: usize = 99;

fn bad_format() -> String {
    "Input string was not in a correct format.".into()
}

pub(super) fn format(args: &Args) -> Result<Value, String> {
    args.arity(1, usize::MAX)?;
    let pattern = args.string(0)?;
    let values = args.all().get(1..).unwrap_or_default();
    let mut out = String::new();
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '{' if chars.peek() == Some(&'{') => {
                chars.next();
                out.push('{');
            }
            '}' if chars.peek() == Some(&'}') => {
                chars.next();
                out.push('}');
            }
            '}' => return Err(bad_format()),
            '{' => {
                let mut item = String::new();
                loop {
                    match chars.next() {
                        Some('}') => break,
                        Some('{') | None => return Err(bad_format()),
                        Some(c) => item.push(c),
                    }
                }
                out.push_str(&format_item(&item, values)?);
            }
            c => out.push(c),
        }
    }
    Ok(Value::String(out))
}

/// One `index[,alignment][:formatString]` item.
fn format_item(item: &str, values: &[Value]) -> Result<String, String> {
    let (head, spec) = item
        .split_once(':')
        .map_or((item, ""), |(head, spec)| (head, spec));
    let (index, alignment) = head
        .split_once(',')
        .map_or((head, None), |(index, alignment)| (index, Some(alignment)));
    let index: usize = index.trim().parse().map_err(|_| bad_format())?;
    let value = values
        .get(index)
        .ok_or("Index (zero based) must be greater than or equal to zero and less than the size of the argument list.")?;
    let formatted = match value {
        Value::Number(n) => format_number(n, spec)?,
        other => display(other),
    };
    let Some(alignment) = alignment else {
        return Ok(formatted);
    };
    let alignment: i64 = alignment.trim().parse().map_err(|_| bad_format())?;
    let width = usize::try_from(alignment.unsigned_abs())
        .ok()
        .filter(|w| *w <= MAX_ALIGNMENT)
        .ok_or("the alignment is too large")?;
    let padding = " ".repeat(width.saturating_sub(text::len(&formatted)));
    Ok(if alignment < 0 {
        formatted + &padding
    } else {
        padding + &formatted
    })
}

fn format_number(n: &Number, spec: &str) -> Result<String, String> {
    let unsupported = || {
        format!("the format string '{spec}' is not supported (supported: D, N, F, G, X and zeros like 000)")
    };
    let mut chars = spec.chars();
    let Some(letter) = chars.next() else {
        return Ok(n.to_string());
    };
    if spec.chars().all(|c| c == '0') {
        return Ok(match n.as_i64() {
            Some(i) => signed(i, &zero_pad(&i.unsigned_abs().to_string(), spec.len())),
            None => n.to_string(),
        });
    }
    let digits = chars.as_str();
    let precision = if digits.is_empty() {
        None
    } else {
        Some(
            digits
                .parse::<usize>()
                .ok()
                .filter(|p| *p <= MAX_PRECISION)
                .ok_or_else(unsupported)?,
        )
    };
    let integer = || {
        n.as_i64()
            .ok_or_else(|| format!("the format '{spec}' needs an integer, got {n}"))
    };
    match letter.to_ascii_uppercase() {
        'D' => {
            let i = integer()?;
            Ok(signed(
                i,
                &zero_pad(&i.unsigned_abs().to_string(), precision.unwrap_or(0)),
            ))
        }
        'X' => {
            // .NET prints a negative Int64 as its two's complement.
            let bits = u64::from_ne_bytes(integer()?.to_ne_bytes());
            let hex = if letter == 'X' {
                format!("{bits:X}")
            } else {
                format!("{bits:x}")
            };
            Ok(zero_pad(&hex, precision.unwrap_or(0)))
        }
        'N' => Ok(fixed(n, precision.unwrap_or(2), true)),
        'F' => Ok(fixed(n, precision.unwrap_or(2), false)),
        'G' if precision.is_none() => Ok(n.to_string()),
        _ => Err(unsupported()),
    }
}

fn zero_pad(digits: &str, width: usize) -> String {
    format!("{}{digits}", "0".repeat(width.saturating_sub(digits.len())))
}

fn signed(i: i64, magnitude: &str) -> String {
    if i < 0 {
        format!("-{magnitude}")
    } else {
        magnitude.to_string()
    }
}

/// Fixed-point with `decimals` digits after the point, grouping thousands with ',' if asked.
fn fixed(n: &Number, decimals: usize, grouped: bool) -> String {
    let (negative, text) = match n.as_i64() {
        Some(i) => (
            i < 0,
            format!(
                "{}{}{}",
                i.unsigned_abs(),
                if decimals > 0 { "." } else { "" },
                "0".repeat(decimals)
            ),
        ),
        None => {
            let f = n.as_f64().unwrap_or_default();
            (f < 0.0, format!("{:.*}", decimals, f.abs()))
        }
    };
    let (whole, fraction) = text
        .split_once('.')
        .map_or((text.as_str(), None), |(w, f)| (w, Some(f)));
    let whole = if grouped {
        group_thousands(whole)
    } else {
        whole.to_string()
    };
    let all_zero = text.chars().all(|c| c == '0' || c == '.');
    let sign = if negative && !all_zero { "-" } else { "" };
    match fraction {
        Some(fraction) => format!("{sign}{whole}.{fraction}"),
        None => format!("{sign}{whole}"),
    }
}

fn group_thousands(digits: &str) -> String {
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && digits.len().saturating_sub(i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err, TestContext};
    use serde_json::json;

    #[test]
    fn formats_microsofts_example() {
        let ctx = TestContext::default()
            .parameter("greeting", json!("Hello"))
            .parameter("name", json!("User"))
            .parameter("numberToFormat", json!(8175133));
        assert_eq!(
            ctx.eval("format('{0}, {1}. Formatted number: {2:N0}', parameters('greeting'), parameters('name'), parameters('numberToFormat'))"),
            json!("Hello, User. Formatted number: 8,175,133")
        );
        assert_eq!(
            eval("format('->{0}<-', 123)"),
            json!("->123<-"),
            "Bicep's evaluated baseline"
        );
    }

    #[test]
    fn numeric_formats() {
        assert_eq!(eval("format('{0:D3}-{1:d}', 7, -42)"), json!("007--42"));
        assert_eq!(eval("format('{0:000}', 7)"), json!("007"));
        assert_eq!(eval("format('{0:N}', 1234)"), json!("1,234.00"));
        assert_eq!(eval("format('{0:N0}', -1234567)"), json!("-1,234,567"));
        assert_eq!(eval("format('{0:N2}', json('1234.5'))"), json!("1,234.50"));
        assert_eq!(eval("format('{0:F1}', 12)"), json!("12.0"));
        assert_eq!(eval("format('{0:X4}|{0:x}', 255)"), json!("00FF|ff"));
        assert_eq!(eval("format('{0:x}', -1)"), json!("ffffffffffffffff"));
        assert_eq!(eval("format('{0:G}', 5)"), json!("5"));
        assert_eq!(
            eval("format('{0:N0}', -9223372036854775808)"),
            json!("-9,223,372,036,854,775,808")
        );
    }

    #[test]
    fn escapes_alignment_and_other_types() {
        assert_eq!(eval("format('{{0}} {0}', 1)"), json!("{0} 1"));
        assert_eq!(
            eval("format('[{0,5}|{1,-3}]', 'a', 'b')"),
            json!("[    a|b  ]")
        );
        assert_eq!(
            eval("format('{0} {1} {2}', true(), null(), createArray(1))"),
            json!("True  [1]")
        );
        assert_eq!(
            eval("format('{0:N2}', 'text')"),
            json!("text"),
            ".NET ignores a format string for strings"
        );
    }

    #[test]
    fn rejects_bad_format_strings() {
        assert!(eval_err("format('{1}', 'a')")
            .message
            .starts_with("Index (zero based)"));
        assert_eq!(
            eval_err("format('{0', 1)").message,
            "Input string was not in a correct format."
        );
        assert_eq!(
            eval_err("format('}', 1)").message,
            "Input string was not in a correct format."
        );
        assert_eq!(
            eval_err("format('{a}', 1)").message,
            "Input string was not in a correct format."
        );
        assert!(eval_err("format('{0:Q}', 1)")
            .message
            .contains("not supported"));
        assert!(eval_err("format('{0:D999}', 1)")
            .message
            .contains("not supported"));
        assert!(eval_err("format('{0:D}', json('1.5'))")
            .message
            .contains("needs an integer"));
        assert!(eval_err("format('{0,9999999}', 1)")
            .message
            .contains("too large"));
        assert!(eval_err("format()").message.contains("at least 1 argument"));
    }
}
