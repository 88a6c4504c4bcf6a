//! Writes one `#[test]` per directory of tests/conformance into OUT_DIR, so
//! `cargo test -p vnetlab-cli --test conformance <case>` runs one case
//! (ARCHITECTURE.md "Tests to aim for").

use std::fmt::Write;
use std::path::Path;

fn main() {
    let cases = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/conformance");
    println!("cargo:rerun-if-changed={}", cases.display());
    let mut names: Vec<String> = std::fs::read_dir(&cases)
        .expect("tests/conformance exists")
        .map(|e| e.expect("readable").path())
        .filter(|p| p.is_dir())
        .map(|p| p.file_name().expect("named").to_string_lossy().into_owned())
        .collect();
    names.sort();
    let mut out = String::new();
    for name in names {
        let ident = name.replace(|c: char| !c.is_ascii_alphanumeric(), "_");
        writeln!(
            out,
            "#[test]\nfn {ident}() {{\n    run_case({name:?});\n}}\n"
        )
        .expect("a String");
    }
    let dest = Path::new(&std::env::var("OUT_DIR").expect("cargo sets OUT_DIR"))
        .join("conformance_cases.rs");
    std::fs::write(dest, out).expect("OUT_DIR is writable");
}
