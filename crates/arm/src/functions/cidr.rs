//! ARM's CIDR functions (parseCidr, cidrSubnet, cidrHost) for IPv4 and IPv6, per Microsoft's
//! reference (<https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-cidr>).
//! cidrHost(…, 0) is the first address after the network address. Microsoft documents no /31,
//! /32, /127 or /128 case: we follow RFC 3021, every address of such a range is usable.

use super::args::{Args, Builtin};
use super::Value;
use ipnet::IpNet;
use serde_json::json;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[
    ("cidrhost", cidr_host),
    ("cidrsubnet", cidr_subnet),
    ("parsecidr", parse_cidr),
];

/// A range as numbers: its (normalized) network address, prefix length and width in bits.
struct Range {
    network: u128,
    prefix: u8,
    bits: u8,
}

impl Range {
    fn parse(text: &str) -> Result<Range, String> {
        let net: IpNet = text
            .trim()
            .parse()
            .map_err(|_| format!("'{text}' is not an IP address range in CIDR notation"))?;
        let (network, bits) = match net.network() {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32),
            IpAddr::V6(a) => (u128::from(a), 128),
        };
        Ok(Range {
            network,
            prefix: net.prefix_len(),
            bits,
        })
    }

    /// The address `value` of this family, as text.
    fn address(&self, value: u128) -> String {
        if self.bits == 32 {
            Ipv4Addr::from(u32::try_from(value).unwrap_or(u32::MAX)).to_string()
        } else {
            Ipv6Addr::from(value).to_string()
        }
    }

    fn host_mask(&self) -> u128 {
        u128::MAX
            .checked_shr(u32::from(128 - self.bits + self.prefix))
            .unwrap_or(0)
    }

    fn last(&self) -> u128 {
        self.network | self.host_mask()
    }

    fn netmask(&self) -> u128 {
        !self.host_mask()
            & u128::MAX
                .checked_shr(u32::from(128 - self.bits))
                .unwrap_or(0)
    }

    /// IPv4 ranges that have a network and a broadcast address to set aside.
    fn reserves_ends(&self) -> bool {
        self.bits == 32 && self.prefix <= 30
    }

    fn first_usable(&self) -> u128 {
        if self.reserves_ends() {
            self.network + 1
        } else {
            self.network
        }
    }

    fn last_usable(&self) -> u128 {
        if self.reserves_ends() {
            self.last() - 1
        } else {
            self.last()
        }
    }
}

fn parse_cidr(args: &Args) -> Result<Value, String> {
    args.arity(1, 1)?;
    let range = Range::parse(args.string(0)?)?;
    let mut info = json!({
        "network": range.address(range.network),
        "netmask": range.address(range.netmask()),
        "firstUsable": range.address(range.first_usable()),
        "lastUsable": range.address(range.last_usable()),
        "cidr": range.prefix,
    });
    if let (Value::Object(map), true) = (&mut info, range.bits == 32) {
        map.insert(
            "broadcast".into(),
            Value::String(range.address(range.last())),
        );
    }
    Ok(info)
}

/// cidrSubnet(network, newCIDR, subnetIndex): the index-th subnet of prefix newCIDR.
fn cidr_subnet(args: &Args) -> Result<Value, String> {
    args.arity(3, 3)?;
    let range = Range::parse(args.string(0)?)?;
    let (new_prefix, index) = (args.int(1)?, args.int(2)?);
    let new_prefix = u8::try_from(new_prefix)
        .ok()
        .filter(|p| (range.prefix..=range.bits).contains(p))
        .ok_or_else(|| {
            format!(
                "the new CIDR {new_prefix} must be between {} and {}",
                range.prefix, range.bits
            )
        })?;
    let subnets_bits = u32::from(new_prefix - range.prefix);
    let index = u128::try_from(index)
        .ok()
        .filter(|i| i.checked_shr(subnets_bits).unwrap_or(0) == 0)
        .ok_or_else(|| {
            format!(
                "the subnet index {index} is out of range: a /{} holds {} /{new_prefix} subnets",
                range.prefix,
                1u128
                    .checked_shl(subnets_bits)
                    .map_or("2^128".into(), |n| n.to_string())
            )
        })?;
    let offset = index
        .checked_shl(u32::from(range.bits - new_prefix))
        .unwrap_or(0);
    Ok(Value::String(format!(
        "{}/{new_prefix}",
        range.address(range.network | offset)
    )))
}

/// cidrHost(network, hostIndex): the usable address hostIndex places after the network address.
fn cidr_host(args: &Args) -> Result<Value, String> {
    args.arity(2, 2)?;
    let text = args.string(0)?;
    let range = Range::parse(text)?;
    let index = args.int(1)?;
    let host = u128::try_from(index)
        .ok()
        .and_then(|i| range.network.checked_add(1)?.checked_add(i))
        .filter(|host| *host <= range.last_usable())
        .ok_or_else(|| format!("the host index {index} is out of range for '{text}'"))?;
    Ok(Value::String(range.address(host)))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err};
    use serde_json::json;

    // Examples from Microsoft's "CIDR functions for ARM templates" page unless noted.

    #[test]
    fn parse_cidr_ipv4_and_ipv6() {
        assert_eq!(
            eval("parseCidr('10.144.0.0/20')"),
            json!({"network": "10.144.0.0", "netmask": "255.255.240.0", "broadcast": "10.144.15.255", "firstUsable": "10.144.0.1", "lastUsable": "10.144.15.254", "cidr": 20})
        );
        assert_eq!(
            eval("parseCidr('fdad:3236:5555::/48')"),
            json!({"network": "fdad:3236:5555::", "netmask": "ffff:ffff:ffff::", "firstUsable": "fdad:3236:5555::", "lastUsable": "fdad:3236:5555:ffff:ffff:ffff:ffff:ffff", "cidr": 48})
        );
    }

    #[test]
    fn parse_cidr_edges() {
        assert_eq!(
            eval("parseCidr('10.144.3.7/20').network"),
            json!("10.144.0.0")
        );
        assert_eq!(
            eval("parseCidr('10.0.0.4/31')"),
            json!({"network": "10.0.0.4", "netmask": "255.255.255.254", "broadcast": "10.0.0.5", "firstUsable": "10.0.0.4", "lastUsable": "10.0.0.5", "cidr": 31})
        );
        assert_eq!(
            eval("parseCidr('10.0.0.4/32').lastUsable"),
            json!("10.0.0.4")
        );
        assert_eq!(eval("parseCidr('0.0.0.0/0').netmask"), json!("0.0.0.0"));
        assert_eq!(
            eval("parseCidr('::/0').lastUsable"),
            json!("ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff")
        );
        assert!(eval_err("parseCidr('10.0.0.0')")
            .message
            .contains("not an IP address range"));
        assert!(eval_err("parseCidr('10.0.0.0/33')")
            .message
            .contains("not an IP address range"));
        assert!(eval_err("parseCidr(1)")
            .message
            .contains("must be a string"));
    }

    #[test]
    fn cidr_subnet() {
        let v4: Vec<_> = (0..5)
            .map(|i| eval(&format!("cidrSubnet('10.144.0.0/20', 24, {i})")))
            .collect();
        assert_eq!(
            v4,
            [
                "10.144.0.0/24",
                "10.144.1.0/24",
                "10.144.2.0/24",
                "10.144.3.0/24",
                "10.144.4.0/24"
            ]
            .map(|s| json!(s))
        );
        let v6: Vec<_> = (0..5)
            .map(|i| eval(&format!("cidrSubnet('fdad:3236:5555::/48', 52, {i})")))
            .collect();
        assert_eq!(
            v6,
            [
                "fdad:3236:5555::/52",
                "fdad:3236:5555:1000::/52",
                "fdad:3236:5555:2000::/52",
                "fdad:3236:5555:3000::/52",
                "fdad:3236:5555:4000::/52"
            ]
            .map(|s| json!(s))
        );
        // The docs' own form of the example, through range() and an index.
        assert_eq!(
            eval("cidrSubnet('10.144.0.0/20', 24, range(0, 5)[3])"),
            json!("10.144.3.0/24")
        );
        assert_eq!(eval("cidrSubnet('10.0.0.0/8', 8, 0)"), json!("10.0.0.0/8"));
        assert_eq!(
            eval("cidrSubnet('::/0', 128, 9223372036854775807)"),
            json!("::7fff:ffff:ffff:ffff/128")
        );
    }

    #[test]
    fn cidr_subnet_errors() {
        assert!(eval_err("cidrSubnet('10.144.0.0/20', 24, 16)")
            .message
            .contains("holds 16 /24 subnets"));
        assert!(eval_err("cidrSubnet('10.144.0.0/20', 24, -1)")
            .message
            .contains("out of range"));
        assert!(eval_err("cidrSubnet('10.144.0.0/20', 19, 0)")
            .message
            .contains("between 20 and 32"));
        assert!(eval_err("cidrSubnet('10.144.0.0/20', 33, 0)")
            .message
            .contains("between 20 and 32"));
        assert!(eval_err("cidrSubnet('10.144.0.0/20', 24)")
            .message
            .contains("expects 3 arguments"));
    }

    #[test]
    fn cidr_host() {
        let v4: Vec<_> = (0..5)
            .map(|i| eval(&format!("cidrHost('10.144.3.0/24', {i})")))
            .collect();
        assert_eq!(
            v4,
            [
                "10.144.3.1",
                "10.144.3.2",
                "10.144.3.3",
                "10.144.3.4",
                "10.144.3.5"
            ]
            .map(|s| json!(s))
        );
        let v6: Vec<_> = (0..5)
            .map(|i| eval(&format!("cidrHost('fdad:3236:5555:3000::/52', {i})")))
            .collect();
        assert_eq!(
            v6,
            [
                "fdad:3236:5555:3000::1",
                "fdad:3236:5555:3000::2",
                "fdad:3236:5555:3000::3",
                "fdad:3236:5555:3000::4",
                "fdad:3236:5555:3000::5"
            ]
            .map(|s| json!(s))
        );
        // The docs' worked example: index 0 of 192.168.1.0/24 is 192.168.1.1; 253 the last usable.
        assert_eq!(eval("cidrHost('192.168.1.0/24', 0)"), json!("192.168.1.1"));
        assert_eq!(
            eval("cidrHost('192.168.1.0/24', 253)"),
            json!("192.168.1.254")
        );
        assert_eq!(eval("cidrHost('10.0.0.4/31', 0)"), json!("10.0.0.5"));
        assert_eq!(
            eval("cidrHost('::/0', 9223372036854775807)"),
            json!("::8000:0:0:0")
        );
    }

    #[test]
    fn cidr_host_errors() {
        assert!(eval_err("cidrHost('192.168.1.0/24', 254)")
            .message
            .contains("out of range"));
        assert!(eval_err("cidrHost('192.168.1.0/24', -1)")
            .message
            .contains("out of range"));
        assert!(eval_err("cidrHost('10.0.0.4/32', 0)")
            .message
            .contains("out of range"));
        assert!(
            eval_err("cidrHost('ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff/128', 0)")
                .message
                .contains("out of range")
        );
    }
}
