//! Turns the JSON path of a diagnostic (`resources[3].properties.subnets[0].properties.addressPrefix`)
//! into file:line:col. For JSON the path is walked in a position-keeping parse of the text
//! (jsonc-parser); the YAML lab file records positions while it is converted.

use jsonc_parser::ast::Value as Ast;
use jsonc_parser::common::Ranged;
use std::collections::HashMap;
use vnetlab_model::diagnostic::Location;

pub trait Locator {
    /// The position of the value at `path`, or of its deepest existing ancestor, and the path as
    /// the user wrote it when that differs.
    fn locate(&self, path: &str) -> Option<(Location, Option<String>)>;
}

#[derive(Debug, PartialEq)]
pub enum Segment<'p> {
    Key(&'p str),
    Index(usize),
}

/// Splits `a.b[2].c` into segments.
pub fn segments(path: &str) -> Vec<Segment<'_>> {
    let mut out = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let (key, mut rest) = part.split_at(part.find('[').unwrap_or(part.len()));
        if !key.is_empty() {
            out.push(Segment::Key(key));
        }
        while let Some(end) = rest.find(']') {
            if let Ok(i) = rest[1..end].parse() {
                out.push(Segment::Index(i));
            }
            rest = &rest[end + 1..];
        }
    }
    out
}

/// Line and column (1-based, in characters) of a byte offset.
pub fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

pub struct JsonLocator<'t> {
    file: String,
    text: &'t str,
    ast: Option<Ast<'t>>,
}

impl<'t> JsonLocator<'t> {
    pub fn new(file: &str, text: &'t str) -> Self {
        let ast = jsonc_parser::parse_to_ast(text, &Default::default(), &Default::default())
            .ok()
            .and_then(|r| r.value);
        JsonLocator {
            file: file.to_string(),
            text,
            ast,
        }
    }
}

impl Locator for JsonLocator<'_> {
    fn locate(&self, path: &str) -> Option<(Location, Option<String>)> {
        let mut node = self.ast.as_ref()?;
        for seg in segments(path) {
            let next = match (seg, node) {
                (Segment::Key(k), Ast::Object(obj)) => obj
                    .properties
                    .iter()
                    .find(|p| p.name.as_str() == k)
                    .or_else(|| {
                        obj.properties
                            .iter()
                            .find(|p| p.name.as_str().eq_ignore_ascii_case(k))
                    })
                    .map(|p| &p.value),
                (Segment::Index(i), Ast::Array(arr)) => arr.elements.get(i),
                _ => None,
            };
            match next {
                Some(n) => node = n,
                None => break,
            }
        }
        let (line, column) = line_col(self.text, node.range().start);
        Some((
            Location {
                file: self.file.clone(),
                line,
                column,
            },
            None,
        ))
    }
}

/// Positions recorded while the YAML lab file was converted: REST path -> (position, YAML path).
#[derive(Debug, Default)]
pub struct RecordedLocator {
    pub file: String,
    pub positions: HashMap<String, (usize, usize, String)>,
}

impl Locator for RecordedLocator {
    fn locate(&self, path: &str) -> Option<(Location, Option<String>)> {
        // The longest recorded prefix of the path.
        let mut candidate = path;
        loop {
            if let Some((line, column, yaml_path)) = self.positions.get(candidate) {
                return Some((
                    Location {
                        file: self.file.clone(),
                        line: *line,
                        column: *column,
                    },
                    Some(yaml_path.clone()),
                ));
            }
            let cut = candidate.rfind(['.', '['])?;
            candidate = &candidate[..cut];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_paths() {
        assert_eq!(
            segments("resources[3].properties.subnets[0]"),
            vec![
                Segment::Key("resources"),
                Segment::Index(3),
                Segment::Key("properties"),
                Segment::Key("subnets"),
                Segment::Index(0)
            ]
        );
        assert_eq!(
            segments("[2].name"),
            vec![Segment::Index(2), Segment::Key("name")]
        );
    }

    #[test]
    fn finds_the_line_of_a_nested_value() {
        let text = "[\n  {\"name\": \"a\",\n   \"properties\": {\"addressPrefix\": \"x\"}}\n]";
        let loc = JsonLocator::new("f.json", text);
        let (at, _) = loc.locate("[0].properties.addressPrefix").unwrap();
        assert_eq!((at.line, at.column), (3, 36));
        // A missing property points at its nearest existing parent.
        let (at, _) = loc.locate("[0].properties.nextHopType").unwrap();
        assert_eq!(at.line, 3);
    }
}
