//! Typed reads of REST JSON properties. Every read that finds the wrong shape records a
//! diagnostic naming the resource and the property, so one run reports every problem.
//! ARM treats property names case-insensitively; so do these reads.

use crate::json::Json;
use ipnet::Ipv4Net;
use std::net::Ipv4Addr;
use vnetlab_model::addressing::parse_cidr;
use vnetlab_model::diagnostic::join_path;
use vnetlab_model::{AzureEnum, Diagnostic, Origin};

/// Looks up a dotted path (`properties.subnet.id`), matching keys case-insensitively.
pub fn at<'a>(v: &'a Json<'a>, path: &str) -> Option<&'a Json<'a>> {
    path.split('.')
        .filter(|s| !s.is_empty())
        .try_fold(v, |cur, key| cur.member(key))
}

/// Reads properties of one resource object, collecting diagnostics.
pub struct Reader<'a, 'd> {
    pub value: &'a Json<'a>,
    /// `properties`, looked up once: most reads are below it.
    properties: Option<&'a Json<'a>>,
    pub origin: &'d Origin,
    pub diags: &'d mut Vec<Diagnostic>,
}

impl<'a, 'd> Reader<'a, 'd> {
    pub fn new(value: &'a Json<'a>, origin: &'d Origin, diags: &'d mut Vec<Diagnostic>) -> Self {
        Reader {
            value,
            properties: value.member("properties"),
            origin,
            diags,
        }
    }

    pub fn error(&mut self, path: &str, message: impl Into<String>) -> &mut Diagnostic {
        self.diags
            .push(Diagnostic::error(self.origin, path, message));
        self.diags.last_mut().expect("just pushed")
    }

    fn wrong_type(&mut self, path: &str, want: &str, got: &Json) {
        self.error(path, format!("expected {want}, found {}", got.kind()));
    }

    pub fn get(&self, path: &str) -> Option<&'a Json<'a>> {
        let found = match path.strip_prefix("properties.") {
            Some(rest) => self.properties.and_then(|p| at(p, rest)),
            None => at(self.value, path),
        };
        found.filter(|v| !v.is_null())
    }

    pub fn str(&mut self, path: &str) -> Option<&'a str> {
        let v = self.get(path)?;
        match v.as_str() {
            Some(s) => Some(s),
            None => {
                self.wrong_type(path, "a string", v);
                None
            }
        }
    }

    /// A closed Azure enum at `path`, `default` when absent. An unknown value is an error at
    /// `shown` (the property's full path in the resource) naming the accepted values.
    pub fn choice<T: AzureEnum>(&mut self, path: &str, shown: &str, default: T) -> T {
        let Some(s) = self.str(path) else {
            return default;
        };
        T::parse(s).unwrap_or_else(|| {
            let leaf = shown.rsplit('.').next().unwrap_or(shown);
            self.error(
                shown,
                format!("{leaf} must be {}, not '{s}'", T::expected()),
            );
            default
        })
    }

    pub fn required_str(&mut self, path: &str) -> Option<&'a str> {
        let s = self.str(path);
        if s.is_none() && self.get(path).is_none() {
            self.error(path, format!("missing required property {path}"));
        }
        s
    }

    pub fn bool(&mut self, path: &str, default: bool) -> bool {
        match self.get(path) {
            None => default,
            Some(Json::Bool(b)) => *b,
            // ARM accepts "true"/"false" strings in many places.
            Some(Json::Str(s)) if s.eq_ignore_ascii_case("true") => true,
            Some(Json::Str(s)) if s.eq_ignore_ascii_case("false") => false,
            Some(v) => {
                self.wrong_type(path, "true or false", v);
                default
            }
        }
    }

    pub fn u32(&mut self, path: &str) -> Option<u32> {
        let v = self.get(path)?;
        let n = v
            .as_u64()
            .or_else(|| v.as_str().and_then(|s| s.trim().parse().ok()));
        match n.and_then(|n| u32::try_from(n).ok()) {
            Some(n) => Some(n),
            None => {
                self.wrong_type(path, "a whole number", v);
                None
            }
        }
    }

    pub fn array(&mut self, path: &str) -> &'a [Json<'a>] {
        match self.get(path) {
            None => &[],
            Some(Json::Array(items)) => items,
            Some(v) => {
                self.wrong_type(path, "an array", v);
                &[]
            }
        }
    }

    /// Strings of a single property or its plural array form (`addressPrefix` /
    /// `addressPrefixes`), as Azure's augmented properties allow.
    pub fn strings(&mut self, path: &str) -> Vec<&'a str> {
        let items = self.array(path);
        let mut out = Vec::with_capacity(items.len());
        for (i, item) in items.iter().enumerate() {
            match item.as_str() {
                Some(s) => out.push(s),
                None => self.wrong_type(&format!("{path}[{i}]"), "a string", item),
            }
        }
        out
    }

    pub fn cidr(&mut self, path: &str) -> Option<Ipv4Net> {
        let s = self.str(path)?;
        self.parse_cidr(path, s)
    }

    pub fn parse_cidr(&mut self, path: &str, s: &str) -> Option<Ipv4Net> {
        match parse_cidr(s) {
            Ok(net) => Some(net),
            Err((msg, hint)) => {
                let d = self.error(path, msg);
                if let Some(h) = hint {
                    d.hint = Some(h);
                }
                None
            }
        }
    }

    pub fn ip(&mut self, path: &str) -> Option<Ipv4Addr> {
        let s = self.str(path)?;
        match s.trim().parse() {
            Ok(ip) => Some(ip),
            Err(_) => {
                self.error(path, format!("'{s}' is not an IPv4 address"));
                None
            }
        }
    }

    /// A reference `{"id": "..."}` at `path`; returns the ID string.
    pub fn reference(&mut self, path: &str) -> Option<&'a str> {
        let v = self.get(path)?;
        match at(v, "id").and_then(Json::as_str) {
            Some(id) => Some(id),
            None => {
                self.error(&join_path(path, "id"), "expected a reference of the form {\"id\": \"/subscriptions/.../providers/...\"}");
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_match_case_insensitively() {
        let v: Json =
            serde_json::from_str(r#"{"Properties": {"AddressPrefix": "10.0.0.0/24"}}"#).unwrap();
        assert_eq!(
            at(&v, "properties.addressPrefix").and_then(Json::as_str),
            Some("10.0.0.0/24")
        );
    }

    #[test]
    fn host_bits_are_refused_with_the_fix() {
        let (msg, hint) = parse_cidr("10.0.0.5/24").unwrap_err();
        assert!(msg.contains("host bits"));
        assert!(hint.unwrap().contains("10.0.0.0/24"));
    }

    #[test]
    fn an_unknown_enum_value_is_an_error_naming_resource_and_property() {
        let v: Json = serde_json::from_str(r#"{"properties": {"protocol": "Icmp"}}"#).unwrap();
        let origin = Origin::new("load balancer", "lb", "");
        let mut diags = Vec::new();
        let mut r = Reader::new(&v, &origin, &mut diags);
        let shown = "properties.loadBalancingRules[0].properties.protocol";
        let protocol = r.choice(
            "properties.protocol",
            shown,
            vnetlab_model::TransportProtocol::Tcp,
        );
        assert_eq!(protocol, vnetlab_model::TransportProtocol::Tcp);
        let d = &diags[0];
        assert_eq!(
            (d.resource.as_str(), d.path.as_str(), d.message.as_str()),
            (
                "load balancer 'lb'",
                shown,
                "protocol must be Udp, Tcp or All, not 'Icmp'"
            )
        );
    }
}
