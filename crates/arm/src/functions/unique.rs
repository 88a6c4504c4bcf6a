//! ARM's deterministic name functions uniqueString and guid, with Azure's own algorithms so
//! names match real deployments (the functions: <https://learn.microsoft.com/azure/azure-resource-manager/templates/template-functions-string#uniquestring>).
//! Both join their string arguments with '-' and hash the UTF-8 bytes:
//! - uniqueString: the 64-bit MurmurHash variant of Microsoft.WindowsAzure.ResourceStack
//!   (`Algorithms.ComputeHash`, as Azure.Deployments.Expression's UniqueStringFunction calls
//!   it), printed as 13 base-32 characters `a-z2-7`, most significant bits first;
//! - guid: a name-based UUID version 5 (RFC 4122, SHA-1) in the namespace
//!   11fb06fb-712d-4ddd-98c7-e71bbd588830.
//!
//! Neither algorithm is documented by Microsoft; the tests check outputs of Azure's engine.

use super::args::{Args, Builtin};
use super::Value;
use sha1::{Digest, Sha1};

pub(super) const FUNCTIONS: &[(&str, Builtin)] = &[("guid", guid), ("uniquestring", unique_string)];

/// The arguments, all strings, joined with '-'.
fn joined(args: &Args) -> Result<String, String> {
    args.arity(1, usize::MAX)?;
    let parts = (0..args.all().len())
        .map(|i| args.string(i))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(parts.join("-"))
}

fn unique_string(args: &Args) -> Result<Value, String> {
    const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";
    let mut hash = murmur64(joined(args)?.as_bytes());
    let mut out = String::with_capacity(13);
    for _ in 0..13 {
        let digit = usize::try_from(hash >> 59).unwrap_or(0);
        out.push(char::from(ALPHABET.get(digit).copied().unwrap_or(b'a')));
        hash <<= 5;
    }
    Ok(Value::String(out))
}

/// Little-endian u32 of up to four bytes (missing high bytes are zero).
fn word(bytes: &[u8]) -> u32 {
    bytes
        .iter()
        .rev()
        .fold(0, |acc, b| (acc << 8) | u32::from(*b))
}

fn mix_k1(k: u32) -> u32 {
    k.wrapping_mul(0x239b_961b)
        .rotate_left(15)
        .wrapping_mul(0xab0e_9789)
}

fn mix_k2(k: u32) -> u32 {
    k.wrapping_mul(0xab0e_9789)
        .rotate_left(17)
        .wrapping_mul(0x239b_961b)
}

fn fmix(mut h: u32) -> u32 {
    h ^= h >> 16;
    h = h.wrapping_mul(0x85eb_ca6b);
    h ^= h >> 13;
    h = h.wrapping_mul(0xc2b2_ae35);
    h ^ (h >> 16)
}

/// Microsoft's 64-bit MurmurHash variant (two 32-bit lanes over 8-byte blocks, seed 0).
fn murmur64(data: &[u8]) -> u64 {
    let (mut h1, mut h2) = (0u32, 0u32);
    let mut blocks = data.chunks_exact(8);
    for block in &mut blocks {
        let (low, high) = block.split_at(4);
        h1 ^= mix_k1(word(low));
        h1 = h1
            .rotate_left(19)
            .wrapping_add(h2)
            .wrapping_mul(5)
            .wrapping_add(0x561c_cd1b);
        h2 ^= mix_k2(word(high));
        h2 = h2
            .rotate_left(13)
            .wrapping_add(h1)
            .wrapping_mul(5)
            .wrapping_add(0x0bca_a747);
    }
    let tail = blocks.remainder();
    if !tail.is_empty() {
        let (low, high) = tail.split_at(tail.len().min(4));
        h1 ^= mix_k1(word(low));
        if !high.is_empty() {
            h2 ^= mix_k2(word(high));
        }
    }
    // The length is mixed in as a 32-bit value, as the .NET original casts it.
    let len = data.len() as u32;
    h1 ^= len;
    h2 ^= len;
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    h1 = fmix(h1);
    h2 = fmix(h2);
    h1 = h1.wrapping_add(h2);
    h2 = h2.wrapping_add(h1);
    (u64::from(h2) << 32) | u64::from(h1)
}

/// The namespace of ARM's guid(), in network byte order.
const GUID_NAMESPACE: [u8; 16] = [
    0x11, 0xfb, 0x06, 0xfb, 0x71, 0x2d, 0x4d, 0xdd, 0x98, 0xc7, 0xe7, 0x1b, 0xbd, 0x58, 0x88, 0x30,
];

fn guid(args: &Args) -> Result<Value, String> {
    let digest = Sha1::new()
        .chain_update(GUID_NAMESPACE)
        .chain_update(joined(args)?.as_bytes())
        .finalize();
    let mut bytes = [0u8; 16];
    for (b, d) in bytes.iter_mut().zip(digest.iter()) {
        *b = *d;
    }
    bytes[6] = (bytes[6] & 0x0f) | 0x50; // version 5
    bytes[8] = (bytes[8] & 0x3f) | 0x80; // RFC 4122 variant
    let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let part = |range: std::ops::Range<usize>| hex.get(range).unwrap_or_default();
    Ok(Value::String(format!(
        "{}-{}-{}-{}-{}",
        part(0..8),
        part(8..12),
        part(12..16),
        part(16..20),
        part(20..32)
    )))
}

#[cfg(test)]
mod tests {
    use super::super::testing::{eval, eval_err};
    use serde_json::json;

    /// Outputs of Azure's own engine (Microsoft's Azure.Deployments.* code), as published.
    #[test]
    fn unique_string_matches_azure() {
        // Bicep's snapshot baseline (Azure/bicep src/Bicep.Cli.IntegrationTests/Files/
        // SnapshotCommandTests/basic): 'store${uniqueString(resourceGroup().id)}' = storejs26ofeqkqeve.
        assert_eq!(eval("uniqueString('/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/myRg')"), json!("js26ofeqkqeve"));
        // Bicep's evaluated .bicepparam baseline (Azure/bicep src/Bicep.Core.Samples/Files/
        // baselines_bicepparam/Expressions/parameters.json): three arguments joined by '-'.
        assert_eq!(
            eval("uniqueString('asd', 'asdf', 'asdf')"),
            json!("iizpqit7ih3cc")
        );
        // A StackOverflow answer (question 43295720) computing it with Azure's DLLs, also in the
        // AzureNaming tests that call Azure.Deployments.Expression.
        assert_eq!(eval("uniqueString('tyeth')"), json!("zcztcwvu6iyg6"));
        assert_eq!(eval("uniqueString('/subscriptions/3c7f956b-55ee-4686-9d30-da1eb631dc59/resourceGroups/rg-devopsshieldek010dev')"), json!("fd63l2gacbtca"));
        // microsoft/commercial-marketplace-offer-deploy: a value output by a real ARM deployment.
        assert_eq!(
            eval("uniqueString('/subscriptions/31e9f9a0-9fd2-4294-a0a3-0101246d9700/resourceGroups/rg-modm201-20230913120256/providers/Microsoft.Compute/virtualMachines/bobjacmodm201')"),
            json!("yvjxno3je5on2")
        );
        // Azure/terraform-provider-azapi's unique_string test (a reimplementation by Microsoft).
        assert_eq!(eval("uniqueString('/subscriptions/00000000-0000-0000-0000-000000000000', 'resource-id')"), json!("cwvxuqg24sifi"));
        // A public bash reimplementation's self-test, "verified against Bicep uniqueString()
        // output" by its author (not checked by us against Azure): tails of 4 and 3 bytes.
        assert_eq!(eval("uniqueString('test')"), json!("rbgf3xv4ufgzg"));
        assert_eq!(eval("uniqueString('abc')"), json!("cgtzqvhu4i23s"));
        assert_eq!(
            eval("uniqueString('hello', 'world')"),
            json!("a7wkljktk6wne")
        );
    }

    #[test]
    fn unique_string_covers_every_tail_length() {
        for text in [
            "", "a", "ab", "abc", "abcd", "abcde", "abcdef", "abcdefg", "abcdefgh", "é",
        ] {
            let value = eval(&format!("uniqueString('{text}')"));
            let s = value.as_str().unwrap_or_default();
            assert_eq!(s.len(), 13, "{text}");
            assert!(
                s.bytes()
                    .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b)),
                "{s}"
            );
        }
        assert!(eval_err("uniqueString()").message.contains("at least 1"));
        assert!(eval_err("uniqueString('a', 1)")
            .message
            .contains("argument 2 must be a string"));
    }

    #[test]
    fn guid_matches_azure() {
        // Bicep's evaluated .bicepparam baseline (as above): guid('asdf').
        assert_eq!(
            eval("guid('asdf')"),
            json!("228d27cc-6fdb-5934-b7ac-1efccebade04")
        );
        // Not from Azure itself: the value several independent reimplementations test
        // (e.g. a Pester suite's "documented ARM guid UUID-v5" vector); it checks the '-' join.
        assert_eq!(
            eval("guid('hello', 'world')"),
            json!("a5b868f8-11fe-567a-ace0-e77cc87f104e")
        );
        assert_ne!(
            eval("guid('hello', 'world')"),
            eval("guid('world', 'hello')")
        );
        assert!(eval_err("guid()").message.contains("at least 1"));
        assert!(eval_err("guid(createObject())")
            .message
            .contains("must be a string"));
    }
}
