//! ARM's string functions (base64*, dataUri*, endsWith/startsWith, indexOf/lastIndexOf, join,
//! padLeft, replace, split, string, substring, toLower/toUpper, trim, uri*), per Microsoft's
//! reference (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-string>).
//! format is in `format`, guid and uniqueString in `unique`, and the functions shared with
//! arrays (concat, contains, empty, first, last, length, skip, take) in `array`.

use super::args::{display, kind, wrong, Args, Builtin};
use super::{format, object, text, Value};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[
    ("base64", base64),
    ("base64tostring", base64_to_string),
    ("base64tojson", base64_to_json),
    ("datauri", data_uri),
    ("datauritostring", data_uri_to_string),
    ("endswith", ends_with),
    ("format", format::format),
    ("indexof", index_of),
    ("join", join),
    ("lastindexof", last_index_of),
    ("padleft", pad_left),
    ("replace", replace),
    ("split", split),
    ("startswith", starts_with),
    ("string", string),
    ("substring", substring),
    ("tolower", to_lower),
    ("toupper", to_upper),
    ("trim", trim),
    ("uri", uri),
    ("uricomponent", uri_component),
    ("uricomponenttostring", uri_component_to_string),
];

/// The longest string padLeft builds: a bound of ours against absurd allocations (ARM's own
/// template size limit of 4 MB is reached long before).
const MAX_PADDED_LENGTH: usize = 1 << 20;

fn one_string<'a>(args: &'a Args) -> Result<&'a str, String> {
    args.arity(1, 1)?;
    args.string(0)
}

fn utf8(bytes: Vec<u8>) -> Result<String, String> {
    String::from_utf8(bytes).map_err(|_| "the decoded bytes are not UTF-8 text".to_string())
}

fn decode_base64(s: &str) -> Result<String, String> {
    STANDARD
        .decode(s.trim())
        .map_err(|e| format!("'{s}' is not valid base64: {e}"))
        .and_then(utf8)
}

fn base64(args: &Args) -> Result<Value, String> {
    Ok(Value::String(STANDARD.encode(one_string(args)?)))
}

fn base64_to_string(args: &Args) -> Result<Value, String> {
    decode_base64(one_string(args)?).map(Value::String)
}

fn base64_to_json(args: &Args) -> Result<Value, String> {
    object::parse_json(&decode_base64(one_string(args)?)?)
}

fn data_uri(args: &Args) -> Result<Value, String> {
    Ok(Value::String(format!(
        "data:text/plain;charset=utf8;base64,{}",
        STANDARD.encode(one_string(args)?)
    )))
}

fn data_uri_to_string(args: &Args) -> Result<Value, String> {
    let uri = one_string(args)?;
    let not_data_uri =
        || format!("'{uri}' is not a data URI (data:[<media type>][;base64],<data>)");
    let rest = uri
        .get(..5)
        .filter(|scheme| scheme.eq_ignore_ascii_case("data:"))
        .and_then(|_| uri.get(5..))
        .ok_or_else(not_data_uri)?;
    let (meta, data) = rest.split_once(',').ok_or_else(not_data_uri)?;
    let decoded = if meta.to_ascii_lowercase().ends_with(";base64") {
        decode_base64(data)?
    } else {
        percent_decode(data)?
    };
    Ok(Value::String(decoded))
}

/// Both arguments as strings, in UTF-16 units.
fn two_texts(args: &Args) -> Result<(Vec<u16>, Vec<u16>), String> {
    args.arity(2, 2)?;
    Ok((text::units(args.string(0)?), text::units(args.string(1)?)))
}

fn starts_with(args: &Args) -> Result<Value, String> {
    let (hay, needle) = two_texts(args)?;
    Ok(Value::Bool(text::starts_with(&hay, &needle, true)))
}

fn ends_with(args: &Args) -> Result<Value, String> {
    let (hay, needle) = two_texts(args)?;
    Ok(Value::Bool(text::ends_with(&hay, &needle, true)))
}

/// indexOf/lastIndexOf: in a string ignoring case, or the position of an equal array element.
fn position(args: &Args, last: bool) -> Result<Value, String> {
    args.arity(2, 2)?;
    let found = match args.value(0)? {
        Value::Array(items) => {
            let item = args.value(1)?;
            if last {
                items.iter().rposition(|x| x == item)
            } else {
                items.iter().position(|x| x == item)
            }
        }
        Value::String(s) => {
            let (hay, needle) = (text::units(s), text::units(args.string(1)?));
            if last {
                text::rfind(&hay, &needle, true)
            } else {
                text::find(&hay, &needle, true)
            }
        }
        other => return Err(wrong(0, "a string or an array", other)),
    };
    Ok(found.map_or(Value::from(-1), Value::from))
}

fn index_of(args: &Args) -> Result<Value, String> {
    position(args, false)
}

fn last_index_of(args: &Args) -> Result<Value, String> {
    position(args, true)
}

fn join(args: &Args) -> Result<Value, String> {
    args.arity(2, 2)?;
    let delimiter = args.string(1)?;
    let parts = args.array(0)?.iter().map(|item| match item {
        Value::String(_) | Value::Number(_) | Value::Bool(_) => Ok(display(item)),
        other => Err(format!(
            "join needs an array of strings; it has {}",
            kind(other)
        )),
    });
    Ok(Value::String(
        parts.collect::<Result<Vec<_>, _>>()?.join(delimiter),
    ))
}

fn pad_left(args: &Args) -> Result<Value, String> {
    args.arity(2, 3)?;
    let value = match args.value(0)? {
        Value::String(s) => s.clone(),
        Value::Number(n) if n.is_i64() => n.to_string(),
        other => return Err(wrong(0, "a string or an integer", other)),
    };
    let total = args.int(1)?;
    let padding = match args.all().get(2) {
        None => vec![u16::from(b' ')],
        Some(_) => text::units(args.string(2)?),
    };
    let &[pad] = padding.as_slice() else {
        return Err("the padding character must be exactly one character".into());
    };
    let current = text::units(&value);
    let total = usize::try_from(total).unwrap_or(0);
    if total > MAX_PADDED_LENGTH {
        return Err(format!(
            "the total length {total} is more than the {MAX_PADDED_LENGTH} supported"
        ));
    }
    let mut padded = vec![pad; total.saturating_sub(current.len())];
    padded.extend(current);
    text::string(&padded).map(Value::String)
}

fn replace(args: &Args) -> Result<Value, String> {
    args.arity(3, 3)?;
    let (original, old, new) = (args.string(0)?, args.string(1)?, args.string(2)?);
    if old.is_empty() {
        return Err("the string to replace must not be empty".into());
    }
    Ok(Value::String(original.replace(old, new)))
}

/// Like .NET's String.Split(string[], None): at each position the first delimiter (in order)
/// that matches splits; empty delimiters never match.
fn split(args: &Args) -> Result<Value, String> {
    args.arity(2, 2)?;
    let input = args.string(0)?;
    let delimiters: Vec<&str> = match args.value(1)? {
        Value::String(s) => vec![s.as_str()],
        Value::Array(items) => items
            .iter()
            .map(|d| {
                d.as_str()
                    .ok_or_else(|| wrong(1, "a string or an array of strings", d))
            })
            .collect::<Result<_, _>>()?,
        other => return Err(wrong(1, "a string or an array of strings", other)),
    };
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while let Some(rest) = input.get(i..) {
        let Some(c) = rest.chars().next() else { break };
        match delimiters
            .iter()
            .find(|d| !d.is_empty() && rest.starts_with(**d))
        {
            Some(d) => {
                parts.push(Value::String(
                    input.get(start..i).unwrap_or_default().to_string(),
                ));
                i += d.len();
                start = i;
            }
            None => i += c.len_utf8(),
        }
    }
    parts.push(Value::String(
        input.get(start..).unwrap_or_default().to_string(),
    ));
    Ok(Value::Array(parts))
}

fn string(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    Ok(Value::String(display(args.value(0)?)))
}

fn substring(args: &Args) -> Result<Value, String> {
    args.arity(1, 3)?;
    let units = text::units(args.string(0)?);
    let len = units.len();
    let start = if args.all().len() > 1 {
        args.int(1)?
    } else {
        0
    };
    let count = if args.all().len() > 2 {
        Some(args.int(2)?)
    } else {
        None
    };
    let out_of_range = || {
        match count {
        Some(count) => format!(
            "The index and length parameters must refer to a location within the string. The index parameter: '{start}', the length parameter: '{count}', the length of the string parameter: '{len}'."
        ),
        None => format!("The index parameter '{start}' must refer to a location within the string of length '{len}'."),
    }
    };
    let from = usize::try_from(start)
        .ok()
        .filter(|from| *from <= len)
        .ok_or_else(out_of_range)?;
    let to = match count {
        None => len,
        Some(count) => usize::try_from(count)
            .ok()
            .and_then(|count| from.checked_add(count))
            .filter(|to| *to <= len)
            .ok_or_else(out_of_range)?,
    };
    text::string(units.get(from..to).unwrap_or_default()).map(Value::String)
}

fn to_lower(args: &Args) -> Result<Value, String> {
    Ok(Value::String(one_string(args)?.to_lowercase()))
}

fn to_upper(args: &Args) -> Result<Value, String> {
    Ok(Value::String(one_string(args)?.to_uppercase()))
}

fn trim(args: &Args) -> Result<Value, String> {
    Ok(Value::String(one_string(args)?.trim().to_string()))
}

/// RFC 3986 section 5 resolution of `relative` against `base`, as Microsoft documents for uri().
fn uri(args: &Args) -> Result<Value, String> {
    args.arity(2, 2)?;
    let (base, relative) = (args.string(0)?, args.string(1)?);
    if has_scheme(relative) {
        return Ok(Value::String(relative.to_string()));
    }
    let (scheme, after_scheme) = base
        .split_once("://")
        .filter(|(scheme, _)| has_scheme(&format!("{scheme}:")))
        .ok_or_else(|| format!("the base URI '{base}' is not absolute"))?;
    let without_fragment = after_scheme.split('#').next().unwrap_or_default();
    let authority_end = without_fragment
        .find(['/', '?'])
        .unwrap_or(without_fragment.len());
    let (authority, path_and_query) = without_fragment.split_at(authority_end);
    let (path, query) = path_and_query
        .split_once('?')
        .map_or((path_and_query, None), |(p, q)| (p, Some(q)));
    let prefix = format!("{scheme}://{authority}");
    let resolved = if let Some(network_path) = relative.strip_prefix("//") {
        format!("{scheme}://{network_path}")
    } else if relative.is_empty() {
        format!("{prefix}{path_and_query}")
    } else if relative.starts_with('?') {
        format!("{prefix}{path}{relative}")
    } else if relative.starts_with('#') {
        format!(
            "{prefix}{path}{}{relative}",
            query.map(|q| format!("?{q}")).unwrap_or_default()
        )
    } else {
        let (relative_path, rest) = relative
            .find(['?', '#'])
            .map_or((relative, ""), |i| relative.split_at(i));
        let merged = if relative_path.starts_with('/') {
            relative_path.to_string()
        } else {
            let directory = path
                .rfind('/')
                .map_or("/", |i| path.get(..=i).unwrap_or("/"));
            format!("{directory}{relative_path}")
        };
        format!("{prefix}{}{rest}", remove_dot_segments(&merged))
    };
    Ok(Value::String(resolved))
}

/// `scheme:` at the start (RFC 3986 section 3.1).
fn has_scheme(s: &str) -> bool {
    s.split_once(':').is_some_and(|(scheme, _)| {
        let mut chars = scheme.chars();
        chars.next().is_some_and(|c| c.is_ascii_alphabetic())
            && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    })
}

/// RFC 3986 section 5.2.4 on an absolute path.
fn remove_dot_segments(path: &str) -> String {
    let segments: Vec<&str> = path.split('/').collect();
    let last = segments.len().saturating_sub(1);
    let mut out: Vec<&str> = Vec::new();
    for (i, segment) in segments.iter().enumerate() {
        match *segment {
            "." => {}
            ".." => {
                if out.len() > 1 || out.first().is_some_and(|s| !s.is_empty()) {
                    out.pop();
                }
            }
            s => out.push(s),
        }
        if i == last && matches!(*segment, "." | "..") {
            out.push("");
        }
    }
    out.join("/")
}

/// Like .NET's Uri.EscapeDataString: everything but RFC 3986's unreserved characters is %XX.
fn uri_component(args: &Args) -> Result<Value, String> {
    let mut encoded = String::new();
    for byte in one_string(args)?.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(Value::String(encoded))
}

fn uri_component_to_string(args: &Args) -> Result<Value, String> {
    percent_decode(one_string(args)?).map(Value::String)
}

/// Decodes %XX escapes; a '%' not followed by two hex digits stays as it is.
fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        let escaped = bytes
            .get(i + 1..i + 3)
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (b, escaped) {
            (b'%', Some(decoded)) => {
                out.push(decoded);
                i += 3;
            }
            _ => {
                out.push(b);
                i += 1;
            }
        }
    }
    utf8(out)
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err, TestContext};
    use serde_json::json;

    // Examples from Microsoft's "String functions for ARM templates" page unless noted.

    #[test]
    fn base64_functions() {
        let ctx = TestContext::default()
            .parameter("stringData", json!("one, two, three"))
            .parameter("jsonFormattedData", json!("{'one': 'a', 'two': 'b'}"));
        assert_eq!(
            ctx.eval("base64(parameters('stringData'))"),
            json!("b25lLCB0d28sIHRocmVl")
        );
        assert_eq!(
            ctx.eval("base64ToString(base64(parameters('stringData')))"),
            json!("one, two, three")
        );
        assert_eq!(
            ctx.eval("base64ToJson(base64(parameters('jsonFormattedData')))"),
            json!({"one": "a", "two": "b"})
        );
        assert!(eval_err("base64ToString('***')")
            .message
            .contains("not valid base64"));
        assert!(eval_err("base64ToString('/w==')").message.contains("UTF-8"));
        assert!(eval_err("base64(1)").message.contains("must be a string"));
    }

    #[test]
    fn data_uri_functions() {
        assert_eq!(
            eval("dataUri('Hello')"),
            json!("data:text/plain;charset=utf8;base64,SGVsbG8=")
        );
        assert_eq!(
            eval("dataUriToString('data:;base64,SGVsbG8sIFdvcmxkIQ==')"),
            json!("Hello, World!")
        );
        assert_eq!(
            eval("dataUriToString('data:text/plain,a%20b')"),
            json!("a b")
        );
        assert!(eval_err("dataUriToString('hello')")
            .message
            .contains("not a data URI"));
    }

    #[test]
    fn starts_and_ends_with_ignore_case() {
        assert_eq!(eval("startsWith('abcdef', 'ab')"), json!(true));
        assert_eq!(eval("startsWith('abcdef', 'A')"), json!(true));
        assert_eq!(eval("startsWith('abcdef', 'e')"), json!(false));
        assert_eq!(eval("endsWith('abcdef', 'ef')"), json!(true));
        assert_eq!(eval("endsWith('abcdef', 'F')"), json!(true));
        assert_eq!(eval("endsWith('abcdef', 'e')"), json!(false));
        assert_eq!(eval("endsWith('a', 'abc')"), json!(false));
        assert!(eval_err("startsWith('a')")
            .message
            .contains("expects 2 arguments"));
    }

    #[test]
    fn index_of_and_last_index_of() {
        assert_eq!(eval("indexOf('test', 't')"), json!(0));
        assert_eq!(eval("lastIndexOf('test', 't')"), json!(3));
        assert_eq!(eval("indexOf('abcdef', 'CD')"), json!(2));
        assert_eq!(eval("lastIndexOf('abcdef', 'AB')"), json!(0));
        assert_eq!(eval("indexOf('abcdef', 'z')"), json!(-1));
        // The array forms (template-functions-array).
        assert_eq!(eval("indexOf(createArray('a', 'b', 'a'), 'a')"), json!(0));
        assert_eq!(
            eval("lastIndexOf(createArray('a', 'b', 'a'), 'a')"),
            json!(2)
        );
        assert_eq!(
            eval("indexOf(createArray(1, createArray(2)), createArray(2))"),
            json!(1)
        );
        assert_eq!(eval("indexOf(createArray('a'), 'A')"), json!(-1));
        // Positions count UTF-16 units as in .NET.
        assert_eq!(eval("indexOf('😀x', 'x')"), json!(2));
        assert!(eval_err("indexOf(1, 'a')")
            .message
            .contains("a string or an array"));
    }

    #[test]
    fn join_strings() {
        let ctx = TestContext::default().variable("arrayString", json!(["one", "two", "three"]));
        assert_eq!(
            ctx.eval("join(variables('arrayString'), ',')"),
            json!("one,two,three")
        );
        assert_eq!(
            ctx.eval("join(variables('arrayString'), ';')"),
            json!("one;two;three")
        );
        assert_eq!(
            eval("join(createArray('abc', 'def', 'ghi'), '/')"),
            json!("abc/def/ghi"),
            "Bicep's evaluated baseline"
        );
        assert!(eval_err("join(createArray(createObject()), ',')")
            .message
            .contains("array of strings"));
    }

    #[test]
    fn pad_left() {
        assert_eq!(eval("padLeft('123', 10, '0')"), json!("0000000123"));
        assert_eq!(
            eval("padLeft(13, 5)"),
            json!("   13"),
            "Bicep's evaluated baseline"
        );
        assert_eq!(eval("padLeft('abcdef', 3, '0')"), json!("abcdef"));
        assert_eq!(eval("padLeft('a', -5)"), json!("a"));
        assert!(eval_err("padLeft('1', 3, '00')")
            .message
            .contains("exactly one character"));
        assert!(eval_err("padLeft('1', 9223372036854775807)")
            .message
            .contains("supported"));
        assert!(eval_err("padLeft(true(), 3)")
            .message
            .contains("a string or an integer"));
    }

    #[test]
    fn replace() {
        assert_eq!(
            eval("replace('123-123-1234', '-', '')"),
            json!("1231231234")
        );
        assert_eq!(
            eval("replace('123-123-1234', '1234', 'xxxx')"),
            json!("123-123-xxxx")
        );
        assert!(eval_err("replace('abc', '', 'x')")
            .message
            .contains("must not be empty"));
    }

    #[test]
    fn split() {
        assert_eq!(
            eval("split('one,two,three', ',')"),
            json!(["one", "two", "three"])
        );
        assert_eq!(
            eval("split('one;two,three', createArray(',', ';'))"),
            json!(["one", "two", "three"])
        );
        assert_eq!(eval("split('a//b/', '/')"), json!(["a", "", "b", ""]));
        assert_eq!(eval("split('abc', '')"), json!(["abc"]));
        assert_eq!(
            eval("split('a--b-c', createArray('-', '--'))"),
            json!(["a", "", "b", "c"])
        );
        assert_eq!(eval("split('é,ü', ',')"), json!(["é", "ü"]));
        assert!(eval_err("split('a', 1)")
            .message
            .contains("array of strings"));
    }

    #[test]
    fn string_conversion() {
        let ctx = TestContext::default().parameter(
            "testObject",
            json!({"valueA": 10, "valueB": "Example Text"}),
        );
        assert_eq!(
            ctx.eval("string(parameters('testObject'))"),
            json!("{\"valueA\":10,\"valueB\":\"Example Text\"}")
        );
        assert_eq!(
            eval("string(createArray('a', 'b', 'c'))"),
            json!("[\"a\",\"b\",\"c\"]")
        );
        assert_eq!(eval("string(5)"), json!("5"));
        assert_eq!(eval("string('asdf')"), json!("asdf"));
        assert_eq!(eval("string(true())"), json!("True"));
    }

    #[test]
    fn substring() {
        assert_eq!(eval("substring('one two three', 4, 3)"), json!("two"));
        assert_eq!(
            eval("substring('asdfasf', 3)"),
            json!("fasf"),
            "Bicep's evaluated baseline"
        );
        assert_eq!(eval("substring('abc', 3, 0)"), json!(""));
        assert_eq!(
            eval_err("substring('1234567890', 0, 11)").message,
            "The index and length parameters must refer to a location within the string. The index parameter: '0', the length parameter: '11', the length of the string parameter: '10'."
        );
        assert!(eval_err("substring('abc', -1)").message.contains("'-1'"));
        assert!(eval_err("substring('abc', 1, -1)").message.contains("'-1'"));
        assert!(eval_err("substring('abc', 4)").message.contains("'4'"));
        assert!(eval_err("substring('abc', 1, 9223372036854775807)")
            .message
            .contains("index and length"));
        assert!(eval_err("substring('😀', 1)").message.contains("surrogate"));
    }

    #[test]
    fn case_and_trim() {
        assert_eq!(eval("toLower('One Two Three')"), json!("one two three"));
        assert_eq!(eval("toUpper('One Two Three')"), json!("ONE TWO THREE"));
        assert_eq!(eval("trim('    one two three   ')"), json!("one two three"));
        assert!(eval_err("toLower(createArray())")
            .message
            .contains("got an array"));
    }

    #[test]
    fn uri_resolution() {
        assert_eq!(
            eval("uri('http://contoso.org/firstpath', 'myscript.sh')"),
            json!("http://contoso.org/myscript.sh")
        );
        assert_eq!(
            eval("uri('http://contoso.org/firstpath/', 'myscript.sh')"),
            json!("http://contoso.org/firstpath/myscript.sh")
        );
        assert_eq!(
            eval("uri('http://contoso.org/firstpath/azuredeploy.json', 'myscript.sh')"),
            json!("http://contoso.org/firstpath/myscript.sh")
        );
        assert_eq!(
            eval("uri('http://contoso.org/firstpath/azuredeploy.json/', 'myscript.sh')"),
            json!("http://contoso.org/firstpath/azuredeploy.json/myscript.sh")
        );
        assert_eq!(
            eval("uri('http://contoso.com/resources/', 'nested/azuredeploy.json')"),
            json!("http://contoso.com/resources/nested/azuredeploy.json")
        );
        assert_eq!(
            eval("uri('https://github.com', 'Azure/bicep')"),
            json!("https://github.com/Azure/bicep"),
            "Bicep's evaluated baseline"
        );
        assert_eq!(
            eval("uri('https://a.b/c/d/e.json?sv=1', '../f.json')"),
            json!("https://a.b/c/f.json")
        );
        assert_eq!(
            eval("uri('https://a.b/c/d', '/x/./y/..')"),
            json!("https://a.b/x/")
        );
        assert_eq!(
            eval("uri('https://a.b/c', 'https://other/x')"),
            json!("https://other/x")
        );
        assert_eq!(
            eval("uri('https://a.b/c?q=1', '')"),
            json!("https://a.b/c?q=1")
        );
        assert_eq!(
            eval("uri('https://a.b/c?q=1', '?r=2')"),
            json!("https://a.b/c?r=2")
        );
        assert_eq!(
            eval("uri('https://a.b/c?q=1', '#f')"),
            json!("https://a.b/c?q=1#f")
        );
        assert_eq!(eval("uri('https://a.b/c', '//d/e')"), json!("https://d/e"));
        assert!(eval_err("uri('relative/path', 'x')")
            .message
            .contains("not absolute"));
    }

    #[test]
    fn uri_components() {
        let encoded = "http%3A%2F%2Fcontoso.com%2Fresources%2Fnested%2Fazuredeploy.json";
        assert_eq!(
            eval("uriComponent(uri('http://contoso.com/resources/', 'nested/azuredeploy.json'))"),
            json!(encoded)
        );
        assert_eq!(
            eval(&format!("uriComponentToString('{encoded}')")),
            json!("http://contoso.com/resources/nested/azuredeploy.json")
        );
        // Bicep's evaluated baselines.
        assert_eq!(
            eval("uriComponent('UB*8h 0+=_)9h9n')"),
            json!("UB%2A8h%200%2B%3D_%299h9n")
        );
        assert_eq!(eval("uriComponentToString('%20%25%20')"), json!(" % "));
        assert_eq!(eval("uriComponentToString('100%')"), json!("100%"));
        assert!(eval_err("uriComponentToString('%FF')")
            .message
            .contains("UTF-8"));
    }
}
