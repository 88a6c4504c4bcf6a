//! The intents file of `vnetlab check`: statements about reachability that a CI pipeline
//! asserts on every change (Trace issue, "Intents and diffs"). YAML, read strictly:
//!
//! ```yaml
//! intents:
//!   - name: spokes talk only through the IDS
//!     from: spoke1            # a VM, a VNet, vnet/subnet, a site, internet, any, or a CIDR
//!     to: spoke2
//!     must_pass: ids-1        # every delivered flow passes this appliance VM
//!   - name: the web server serves HTTPS and nothing else
//!     from: internet
//!     to: web1
//!     only: [tcp/443]
//!   - name: no RDP to on-premises
//!     from: any
//!     to: 192.168.0.0/16
//!     protocol: tcp
//!     port: 3389
//!     expect: deny
//! ```

use serde::Deserialize;
use vnetlab_model::diagnostic::Location;
use vnetlab_model::intent::Intent;
use vnetlab_model::Diagnostic;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    intents: Vec<Intent>,
}

/// Reads an intents file; a bad file is one diagnostic with its place.
pub fn parse(text: &str, file: &str) -> Result<Vec<Intent>, Diagnostic> {
    let parsed: File = serde_saphyr::from_str(text).map_err(|e| {
        let location = e.location().map(|l| Location { file: file.to_string(), line: l.line() as usize, column: l.column() as usize });
        let message = e.to_string().lines().next().unwrap_or("not a valid intents file").to_string();
        Diagnostic { location, ..Diagnostic::file_error("", message).with_hint("an intents file is `intents:` followed by a list of {from, to, expect|must_pass|only, protocol, port}") }
    })?;
    for (i, intent) in parsed.intents.iter().enumerate() {
        if intent.expect.is_none() && intent.must_pass.is_none() && intent.only.is_none() {
            return Err(Diagnostic::file_error(
                format!("intents[{i}]"),
                "the intent states nothing: give expect, must_pass or only",
            )
            .with_hint("expect: allow|deny, must_pass: <appliance VM>, or only: [tcp/443]"));
        }
    }
    Ok(parsed.intents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_three_forms_and_refuses_empty_statements() {
        let text = "intents:\n  - { from: a, to: b, must_pass: fw }\n  - { from: internet, to: web, only: [tcp/443] }\n  - { from: any, to: 10.0.0.0/8, port: 3389, expect: deny }\n";
        let intents = parse(text, "i.yaml").unwrap();
        assert_eq!(intents.len(), 3);
        assert_eq!(intents[2].expect, Some(vnetlab_model::intent::Expect::Deny));
        let bad = parse("intents:\n  - { from: a, to: b }\n", "i.yaml").unwrap_err();
        assert!(bad.message.contains("states nothing"));
        let typo = parse("intents:\n  - { form: a, to: b, expect: deny }\n", "i.yaml").unwrap_err();
        assert_eq!(typo.location.unwrap().line, 2);
    }
}
