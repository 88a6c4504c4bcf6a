//! ARM template expressions: which JSON strings ARM evaluates (`[...]`, with `[[` escaping a
//! literal bracket) and the parser of the expression language into an AST, per Microsoft's
//! "Syntax and expressions in ARM templates"
//! (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-expressions>).

use std::borrow::Cow;

/// An expression as written. ARM has no operators: everything is a function call, a literal,
/// or a property/index access on a value.
#[derive(Debug, Clone, PartialEq)]
pub enum Expr {
    String(String),
    /// ARM integers are 64-bit.
    Number(i64),
    /// `at`: byte offset of the name inside the expression text.
    Call {
        name: String,
        args: Vec<Expr>,
        at: usize,
    },
    /// `x.name`
    Property {
        target: Box<Expr>,
        name: String,
    },
    /// `x[expr]`
    Index {
        target: Box<Expr>,
        index: Box<Expr>,
    },
}

/// An expression that does not parse: the message, at a byte offset of the expression.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{message}")]
pub struct ParseError {
    pub message: String,
    /// Byte offset inside the expression text.
    pub at: usize,
}

/// What a JSON string is to ARM.
#[derive(Debug, Clone, PartialEq)]
pub enum StringValue<'a> {
    Literal(Cow<'a, str>),
    /// The text between the brackets.
    Expression(&'a str),
}

/// An expression when the string starts with '[' and ends with ']' and does not start with
/// "[["; "[[...]" is the literal "[...]". Any other string is literal as it is (ARM escapes
/// only strings that would otherwise be expressions). Whitespace around is not trimmed.
pub fn classify(s: &str) -> StringValue<'_> {
    match s.strip_prefix('[').and_then(|rest| rest.strip_suffix(']')) {
        Some(inner) if inner.starts_with('[') => StringValue::Literal(Cow::Borrowed(&s[1..])),
        Some(inner) => StringValue::Expression(inner),
        None => StringValue::Literal(Cow::Borrowed(s)),
    }
}

/// How deeply calls, indexes and property accesses may nest: bounds the recursion of the
/// parser and of everything that walks the tree, so hostile input cannot exhaust the stack.
const MAX_DEPTH: usize = 100;

/// Parses the text between the brackets. String literals are single-quoted with `''` for a
/// quote; numbers are integers, optionally negative; function names are case-insensitive and
/// may be namespaced (`ns.fn`) as user-defined functions are. `true`, `false` and `null` are
/// functions (`true()`), as in ARM.
pub fn parse(expression: &str) -> Result<Expr, ParseError> {
    let mut parser = Parser {
        text: expression,
        pos: 0,
        depth: 0,
    };
    let expr = parser.expr()?;
    parser.skip_whitespace();
    match parser.peek() {
        None => Ok(expr),
        Some(c) => Err(parser.error(format!("unexpected '{c}' after the end of the expression"))),
    }
}

struct Parser<'a> {
    text: &'a str,
    /// Always on a char boundary.
    pos: usize,
    depth: usize,
}

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.text
            .get(self.pos..)
            .and_then(|rest| rest.chars().next())
    }

    fn advance(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn skip_whitespace(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.advance();
        }
    }

    fn error(&self, message: String) -> ParseError {
        ParseError {
            message,
            at: self.pos,
        }
    }

    fn deeper(&mut self) -> Result<(), ParseError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self.error(format!(
                "the expression nests more than {MAX_DEPTH} levels deep"
            )));
        }
        Ok(())
    }

    fn expect(&mut self, wanted: char, context: &str) -> Result<(), ParseError> {
        self.skip_whitespace();
        match self.peek() {
            Some(c) if c == wanted => {
                self.advance();
                Ok(())
            }
            Some(c) => Err(self.error(format!("expected '{wanted}' {context}, found '{c}'"))),
            None => Err(self.error(format!(
                "expected '{wanted}' {context}, found the end of the expression"
            ))),
        }
    }

    /// A value followed by any number of `.name` and `[index]` accesses.
    fn expr(&mut self) -> Result<Expr, ParseError> {
        let outer = self.depth;
        self.deeper()?;
        let mut expr = self.primary()?;
        loop {
            self.skip_whitespace();
            match self.peek() {
                Some('.') => {
                    self.deeper()?;
                    self.advance();
                    self.skip_whitespace();
                    let name = self.word(
                        |c| c.is_alphanumeric() || matches!(c, '_' | '-' | '$'),
                        "a property name",
                    )?;
                    expr = Expr::Property {
                        target: Box::new(expr),
                        name: name.to_string(),
                    };
                }
                Some('[') => {
                    self.deeper()?;
                    self.advance();
                    let index = self.expr()?;
                    self.expect(']', "to close the index")?;
                    expr = Expr::Index {
                        target: Box::new(expr),
                        index: Box::new(index),
                    };
                }
                _ => break,
            }
        }
        self.depth = outer;
        Ok(expr)
    }

    fn primary(&mut self) -> Result<Expr, ParseError> {
        self.skip_whitespace();
        match self.peek() {
            None => Err(self.error("expected a value, found the end of the expression".into())),
            Some('\'') => self.string(),
            Some(c) if c == '-' || c.is_ascii_digit() => self.number(),
            Some(c) if c.is_alphabetic() || c == '_' => self.call(),
            Some(c) => Err(self.error(format!("unexpected '{c}'"))),
        }
    }

    /// The longest run of `allowed` characters, at least one.
    fn word(&mut self, allowed: impl Fn(char) -> bool, what: &str) -> Result<&str, ParseError> {
        let start = self.pos;
        while self.peek().is_some_and(&allowed) {
            self.advance();
        }
        match self.text.get(start..self.pos) {
            Some(word) if !word.is_empty() => Ok(word),
            _ => Err(self.error(format!("expected {what}"))),
        }
    }

    fn string(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        self.advance();
        let mut value = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(ParseError {
                        message: "unterminated string literal".into(),
                        at: start,
                    })
                }
                Some('\'') => {
                    self.advance();
                    if self.peek() != Some('\'') {
                        return Ok(Expr::String(value));
                    }
                    value.push('\'');
                    self.advance();
                }
                Some(c) => {
                    value.push(c);
                    self.advance();
                }
            }
        }
    }

    fn number(&mut self) -> Result<Expr, ParseError> {
        let start = self.pos;
        if self.peek() == Some('-') {
            self.advance();
        }
        self.word(|c| c.is_ascii_digit(), "digits")?;
        let text = self.text.get(start..self.pos).unwrap_or_default();
        text.parse::<i64>()
            .map(Expr::Number)
            .map_err(|_| ParseError {
                message: format!("the number {text} does not fit in 64 bits"),
                at: start,
            })
    }

    fn call(&mut self) -> Result<Expr, ParseError> {
        let at = self.pos;
        let name = self
            .word(
                |c| c.is_alphanumeric() || matches!(c, '_' | '.'),
                "a function name",
            )?
            .to_string();
        if name.ends_with('.') || name.contains("..") {
            return Err(ParseError {
                message: format!("'{name}' is not a function name"),
                at,
            });
        }
        self.expect('(', &format!("after the function name '{name}' (ARM has no bare names; write {name}() for a function)"))?;
        let mut args = Vec::new();
        self.skip_whitespace();
        if self.peek() == Some(')') {
            self.advance();
            return Ok(Expr::Call { name, args, at });
        }
        loop {
            args.push(self.expr()?);
            self.skip_whitespace();
            match self.peek() {
                Some(',') => self.advance(),
                Some(')') => {
                    self.advance();
                    return Ok(Expr::Call { name, args, at });
                }
                Some(c) => {
                    return Err(self.error(format!(
                        "expected ',' or ')' in the arguments of '{name}', found '{c}'"
                    )))
                }
                None => {
                    return Err(
                        self.error(format!("missing ')' to close the arguments of '{name}'"))
                    )
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(name: &str, args: Vec<Expr>, at: usize) -> Expr {
        Expr::Call {
            name: name.into(),
            args,
            at,
        }
    }

    #[test]
    fn classifies_literals_expressions_and_escapes() {
        assert_eq!(
            classify("plain"),
            StringValue::Literal(Cow::Borrowed("plain"))
        );
        assert_eq!(
            classify("[variables('a')]"),
            StringValue::Expression("variables('a')")
        );
        // The docs' example: "[[test value]" is the literal "[test value]".
        assert_eq!(
            classify("[[test value]"),
            StringValue::Literal(Cow::Borrowed("[test value]"))
        );
        // "[test] value" does not end with ']': a literal as it is.
        assert_eq!(
            classify("[test] value"),
            StringValue::Literal(Cow::Borrowed("[test] value"))
        );
        assert_eq!(
            classify("[[no closing"),
            StringValue::Literal(Cow::Borrowed("[[no closing"))
        );
        // Whitespace around is not trimmed: not an expression.
        assert_eq!(
            classify(" [true()]"),
            StringValue::Literal(Cow::Borrowed(" [true()]"))
        );
        assert_eq!(classify("["), StringValue::Literal(Cow::Borrowed("[")));
        assert_eq!(classify("[]"), StringValue::Expression(""));
    }

    #[test]
    fn parses_calls_literals_and_escaped_quotes() {
        assert_eq!(
            parse("concat('it''s', -12, 7)"),
            Ok(call(
                "concat",
                vec![
                    Expr::String("it's".into()),
                    Expr::Number(-12),
                    Expr::Number(7)
                ],
                0
            ))
        );
        assert_eq!(parse("  utcNow( ) "), Ok(call("utcNow", vec![], 2)));
        assert_eq!(
            parse("ns.myFunc('a')"),
            Ok(call("ns.myFunc", vec![Expr::String("a".into())], 0))
        );
    }

    #[test]
    fn parses_property_and_index_chains() {
        let expected = Expr::Property {
            target: Box::new(Expr::Index {
                target: Box::new(Expr::Property {
                    target: Box::new(call("parameters", vec![Expr::String("subnets".into())], 0)),
                    name: "items".into(),
                }),
                index: Box::new(call("copyIndex", vec![], 28)),
            }),
            name: "name".into(),
        };
        assert_eq!(
            parse("parameters('subnets').items[copyIndex()].name"),
            Ok(expected)
        );
    }

    #[test]
    fn records_where_each_call_starts() {
        let Ok(Expr::Call { args, .. }) = parse("concat('x', toLower('Y'))") else {
            panic!("not a call")
        };
        assert!(matches!(args.get(1), Some(Expr::Call { at: 12, .. })));
    }

    #[test]
    fn rejects_bad_input_with_positions() {
        let err = |text: &str| parse(text).err().map(|e| e.at);
        assert_eq!(err(""), Some(0));
        assert_eq!(err("true"), Some(4), "bare true is not ARM");
        assert_eq!(err("concat('a'"), Some(10));
        assert_eq!(err("concat('a' 'b')"), Some(11));
        assert_eq!(err("'unterminated"), Some(0));
        assert_eq!(err("a() b()"), Some(4));
        assert_eq!(err("a().[0]"), Some(4));
        assert_eq!(err("a()[0"), Some(5));
        assert_eq!(err("99999999999999999999"), Some(0));
        assert_eq!(err("--1"), Some(1));
        assert_eq!(err("ns..f()"), Some(0));
        assert_eq!(err("#"), Some(0));
    }

    #[test]
    fn limits_nesting_depth() {
        let deep = format!(
            "{}1{}",
            "f(".repeat(MAX_DEPTH + 1),
            ")".repeat(MAX_DEPTH + 1)
        );
        assert!(parse(&deep).is_err());
        let ok = format!(
            "{}1{}",
            "f(".repeat(MAX_DEPTH - 1),
            ")".repeat(MAX_DEPTH - 1)
        );
        assert!(parse(&ok).is_ok());
        let chain = format!("f(){}", ".a".repeat(MAX_DEPTH + 1));
        assert!(parse(&chain).is_err());
    }
}
