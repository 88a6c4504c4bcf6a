//! Evaluation of ARM template expressions: the evaluator, what it asks of the deployment (the
//! `Context`), and the dispatch to Azure's template functions, grouped in modules by the
//! categories of Microsoft's "ARM template functions" reference
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions>).

mod access;
mod args;
mod array;
mod cidr;
mod comparison;
mod deployment;
mod format;
mod lambda;
mod logical;
mod numeric;
mod object;
mod resource;
mod scope;
mod string;
#[cfg(test)]
mod testing;
mod text;
mod unique;

use super::expression::{self, Expr, StringValue};
use args::{Args, Builtin};
use std::fmt;

pub use serde_json::Value;

#[derive(Debug, Clone, PartialEq)]
pub struct EvalError {
    /// The function that failed, as written in the expression; None for an access (`.x`,
    /// `[i]`) or a parse error.
    pub function: Option<String>,
    pub message: String,
}

impl EvalError {
    fn in_function(function: &str, message: impl Into<String>) -> EvalError {
        EvalError {
            function: Some(function.to_string()),
            message: message.into(),
        }
    }
}

impl fmt::Display for EvalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.function {
            Some(function) => write!(f, "{function}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

impl std::error::Error for EvalError {}

/// What an expression can ask of the deployment being evaluated.
pub trait Context {
    fn parameter(&self, name: &str) -> Result<Value, String>;
    fn variable(&self, name: &str) -> Result<Value, String>;
    /// copyIndex(): the current iteration of the named loop (None: the innermost), without offset.
    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, String>;
    /// `reference(nameOrId, [apiVersion], ['Full'])`: the referenced resource of this deployment:
    /// its properties (or the full resource with 'Full').
    fn reference(&self, name_or_id: &str, full: bool) -> Result<Value, String>;
    /// {"id","name","type","location","properties":{"provisioningState"}}; Value::Null when
    /// the deployment is not to a resource group (resourceId() then builds subscription-level IDs).
    fn resource_group(&self) -> Value;
    /// {"id","subscriptionId","tenantId","displayName"}
    fn subscription(&self) -> Value;
    /// {"name","properties":{"templateLink"...}} as ARM returns
    fn deployment(&self) -> Value;
    fn tenant_id(&self) -> String {
        "00000000-0000-0000-0000-000000000000".into()
    }
}

/// Evaluates a parsed expression.
pub fn evaluate(expr: &Expr, ctx: &dyn Context) -> Result<Value, EvalError> {
    Evaluator {
        ctx,
        lambda_variables: Vec::new(),
    }
    .eval(expr)
}

/// Evaluates a JSON string value as ARM does: a literal (with "[[" unescaped) or an expression;
/// parse errors become EvalError { function: None, message: "... at column N" }, N counting
/// characters of the whole string from 1.
pub fn evaluate_string(s: &str, ctx: &dyn Context) -> Result<Value, EvalError> {
    match expression::classify(s) {
        StringValue::Literal(text) => Ok(Value::String(text.into_owned())),
        StringValue::Expression(inner) => {
            let expr = expression::parse(inner).map_err(|e| {
                // The expression starts after the opening bracket.
                let column = s.get(..e.at + 1).map_or(0, |before| before.chars().count()) + 1;
                EvalError {
                    function: None,
                    message: format!("{} at column {column}", e.message),
                }
            })?;
            evaluate(&expr, ctx)
        }
    }
}

/// A function that gets its arguments unevaluated: `if` (lazy) and the lambda functions.
type Special = fn(&mut Evaluator, &str, &[Expr]) -> Result<Value, EvalError>;

/// The unevaluated arguments of a special form that takes exactly N.
fn exactly<'e, const N: usize>(name: &str, args: &'e [Expr]) -> Result<&'e [Expr; N], EvalError> {
    args.try_into()
        .map_err(|_| EvalError::in_function(name, args::arity_message(args.len(), N, N)))
}

const SPECIAL: &[&[(&str, Special)]] = &[logical::SPECIAL, lambda::SPECIAL];

const BUILTIN: &[&[(&str, Builtin)]] = &[
    array::FUNCTIONS,
    cidr::FUNCTIONS,
    comparison::FUNCTIONS,
    deployment::FUNCTIONS,
    logical::FUNCTIONS,
    numeric::FUNCTIONS,
    object::FUNCTIONS,
    resource::FUNCTIONS,
    scope::FUNCTIONS,
    string::FUNCTIONS,
    unique::FUNCTIONS,
];

/// `key` in one of the tables, whose names are lowercase.
fn find<T: Copy>(tables: &[&[(&str, T)]], key: &str) -> Option<T> {
    tables
        .iter()
        .flat_map(|table| table.iter())
        .find(|(name, _)| *name == key)
        .map(|(_, f)| *f)
}

struct Evaluator<'a> {
    ctx: &'a dyn Context,
    /// The bindings of the lambdas being applied, innermost last.
    lambda_variables: Vec<(String, Value)>,
}

impl Evaluator<'_> {
    fn eval(&mut self, expr: &Expr) -> Result<Value, EvalError> {
        match expr {
            Expr::String(s) => Ok(Value::String(s.clone())),
            Expr::Number(n) => Ok(Value::from(*n)),
            Expr::Call { name, args, .. } => self.call(name, args),
            Expr::Property { target, name } => access::property(self.eval(target)?, name),
            Expr::Index { target, index } => {
                let target = self.eval(target)?;
                access::index(target, self.eval(index)?)
            }
        }
    }

    fn call(&mut self, name: &str, args: &[Expr]) -> Result<Value, EvalError> {
        let key = name.to_lowercase();
        if let Some(special) = find(SPECIAL, &key) {
            return special(self, name, args);
        }
        let builtin = find(BUILTIN, &key).ok_or_else(|| {
            EvalError::in_function(name, format!("unsupported function '{name}'"))
        })?;
        let values = args
            .iter()
            .map(|arg| self.eval(arg))
            .collect::<Result<Vec<_>, _>>()?;
        builtin(&Args::new(values, self.ctx))
            .map_err(|message| EvalError::in_function(name, message))
    }
}

#[cfg(test)]
mod tests {
    use super::testing::{eval, eval_err, TestContext};
    use super::*;
    use serde_json::json;

    #[test]
    fn function_tables_have_unique_lowercase_names() {
        let mut names: Vec<&str> = SPECIAL
            .iter()
            .flat_map(|t| t.iter().map(|(n, _)| *n))
            .chain(BUILTIN.iter().flat_map(|t| t.iter().map(|(n, _)| *n)))
            .collect();
        assert!(names.iter().all(|n| *n == n.to_lowercase()));
        let count = names.len();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), count, "a function is in two tables");
    }

    #[test]
    fn names_are_case_insensitive_and_calls_nest() {
        assert_eq!(
            eval("TOLOWER(concat('A', toUpper('b'), ConCat('C')))"),
            json!("abc")
        );
        assert_eq!(eval("length(split(toLower('A-B-C'), '-'))"), json!(3));
    }

    #[test]
    fn evaluates_literals_escapes_and_expressions() {
        let ctx = TestContext::default();
        assert_eq!(
            evaluate_string("plain [text]", &ctx),
            Ok(json!("plain [text]"))
        );
        assert_eq!(
            evaluate_string("[[test value]", &ctx),
            Ok(json!("[test value]"))
        );
        assert_eq!(
            evaluate_string("[test] value", &ctx),
            Ok(json!("[test] value"))
        );
        assert_eq!(evaluate_string("[concat('a', 'b')]", &ctx), Ok(json!("ab")));
        // The docs' escaping example: '' in a string literal is one quote.
        assert_eq!(
            evaluate_string("[json('{\"abc\":\"''quoted''\"}')]", &ctx),
            Ok(json!({"abc": "'quoted'"}))
        );
    }

    #[test]
    fn reports_parse_errors_with_columns() {
        let err = evaluate_string("[concat('a' 'b')]", &TestContext::default()).unwrap_err();
        assert_eq!(err.function, None);
        assert!(err.message.ends_with("at column 13"), "{}", err.message);
        let err = evaluate_string("[é(]", &TestContext::default()).unwrap_err();
        assert!(err.message.ends_with("at column 4"), "{}", err.message);
    }

    #[test]
    fn unknown_functions_are_named() {
        let err = eval_err("concat(xyz(1))");
        assert_eq!(err.function.as_deref(), Some("xyz"));
        assert_eq!(err.message, "unsupported function 'xyz'");
        assert_eq!(
            eval_err("contoso.uniqueName('a')").message,
            "unsupported function 'contoso.uniqueName'"
        );
    }

    #[test]
    fn errors_name_the_failing_function() {
        let err = eval_err("concat('a', div(1, 0))");
        assert_eq!(err.function.as_deref(), Some("div"));
        assert_eq!(err.to_string(), format!("div: {}", err.message));
    }

    #[test]
    fn evaluates_property_and_index_chains() {
        let ctx = TestContext::default().parameter(
            "vnet",
            json!({"subnets": [{"name": "a"}, {"name": "b", "Props": {"x-y": 1}}]}),
        );
        assert_eq!(ctx.eval("parameters('vnet').subnets[1].name"), json!("b"));
        assert_eq!(
            ctx.eval("parameters('vnet')['subnets'][0]['name']"),
            json!("a")
        );
        assert_eq!(
            ctx.eval("parameters('vnet').SUBNETS[add(0, 1)].props['x-y']"),
            json!(1)
        );
        assert_eq!(ctx.eval("split('a/b', '/')[1]"), json!("b"));
    }

    #[test]
    fn deep_nesting_evaluates_within_the_stack() {
        let depth = 99;
        let text = format!("{}'x'{}", "concat(".repeat(depth), ")".repeat(depth));
        let result = std::thread::Builder::new()
            .stack_size(2 * 1024 * 1024)
            .spawn(move || evaluate_string(&format!("[{text}]"), &TestContext::default()))
            .map(|handle| handle.join());
        assert!(matches!(result, Ok(Ok(Ok(v))) if v == json!("x")));
    }

    /// A deterministic xorshift generator for the random-input tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            self.0
        }

        fn pick<'a>(&mut self, choices: &[&'a str]) -> &'a str {
            let i = usize::try_from(self.next() % choices.len() as u64).unwrap_or(0);
            choices.get(i).copied().unwrap_or("")
        }
    }

    /// Random strings built from ARM fragments never make `parse` or `evaluate_string` panic.
    #[test]
    fn random_text_never_panics() {
        const FRAGMENTS: &[&str] = &[
            "(",
            ")",
            "[",
            "]",
            "'",
            "''",
            ",",
            ".",
            " ",
            "-",
            "0",
            "1",
            "-1",
            "9223372036854775807",
            "a",
            "name",
            "'x'",
            "'10.0.0.0/8'",
            "'{0}-{1:N2}'",
            "concat(",
            "if(",
            "parameters(",
            "copyIndex(",
            "split(",
            "format(",
            "json(",
            "map(",
            "lambda(",
            "lambdaVariables(",
            "cidrSubnet(",
            "resourceId(",
            "true()",
            "null()",
            "length(",
            "uri(",
        ];
        let ctx = TestContext::default().parameter("p", json!({"a": [1, "2", {"b": null}]}));
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15);
        for _ in 0..3000 {
            let text: String = (0..rng.next() % 24).map(|_| rng.pick(FRAGMENTS)).collect();
            let _ = expression::parse(&text);
            let _ = evaluate_string(&text, &ctx);
            let _ = evaluate_string(&format!("[{text}]"), &ctx);
        }
    }

    /// Every function called with random arguments of every type never panics.
    #[test]
    fn random_calls_never_panic() {
        const LITERALS: &[&str] = &[
            "'x'",
            "''",
            "'a,b'",
            "'10.0.0.0/8'",
            "'fdad::/48'",
            "'{0:N2}{1,3}'",
            "'[1,{\"a\":2}]'",
            "'Microsoft.Network/virtualNetworks'",
            "'😀'",
            "0",
            "1",
            "2",
            "7",
            "-1",
            "9223372036854775807",
            "-9223372036854775808",
            "true()",
            "null()",
            "createArray(1, 'a', createArray())",
            "createObject('a', 1, 'B', createObject('c', 'd'))",
            "parameters('p')",
            "lambda('x', lambdaVariables('x'))",
            "lambda('a', 'b', less(lambdaVariables('a'), lambdaVariables('b')))",
            "lambda('x', 'i', equals(lambdaVariables('i'), 1))",
            "lambdaVariables('x')",
        ];
        fn random_expr(rng: &mut Rng, names: &[&str], depth: u32) -> String {
            if depth == 0 || rng.next().is_multiple_of(3) {
                return rng.pick(LITERALS).to_string();
            }
            let args: Vec<String> = (0..rng.next() % 4)
                .map(|_| random_expr(rng, names, depth - 1))
                .collect();
            let call = format!("{}({})", rng.pick(names), args.join(", "));
            match rng.next() % 6 {
                0 => format!("{call}.a"),
                1 => format!("{call}[0]"),
                _ => call,
            }
        }
        let names: Vec<&str> = SPECIAL
            .iter()
            .flat_map(|t| t.iter().map(|(n, _)| *n))
            .chain(BUILTIN.iter().flat_map(|t| t.iter().map(|(n, _)| *n)))
            .collect();
        let ctx = TestContext::default()
            .parameter("p", json!({"a": [1, "2", {"b": null}]}))
            .in_loop("l", 3)
            .resource("r", json!({"properties": {}}));
        let mut rng = Rng(0x2545_F491_4F6C_DD1D);
        let mut succeeded = 0;
        for _ in 0..4000 {
            let text = random_expr(&mut rng, &names, 4);
            if ctx.try_eval(&text).is_ok() {
                succeeded += 1;
            }
        }
        assert!(succeeded > 400, "only {succeeded} random calls succeeded: the generator no longer reaches the functions");
    }
}
