//! Fuzz target for the ARM template expression language (ARM issue, "Fuzzing"): any string, as
//! a template's JSON string value, is parsed and evaluated without a panic. Run with
//! `cargo +nightly fuzz run arm_expression` from this directory.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::{json, Value};
use vnetlab_arm::functions::{evaluate_string, Context};

/// A deployment with one parameter, one variable and one loop, so expressions that ask for them
/// get answers.
struct Fixed;

impl Context for Fixed {
    fn parameter(&self, name: &str) -> Result<Value, String> {
        if name.eq_ignore_ascii_case("p") { Ok(json!({"a": [1, 2, "x"], "b": "10.0.0.0/16"})) } else { Err(format!("no parameter '{name}'")) }
    }
    fn variable(&self, name: &str) -> Result<Value, String> {
        if name.eq_ignore_ascii_case("v") { Ok(json!(["s", 3, true, null])) } else { Err(format!("no variable '{name}'")) }
    }
    fn copy_index(&self, _: Option<&str>) -> Result<i64, String> {
        Ok(2)
    }
    fn reference(&self, name: &str, _: bool) -> Result<Value, String> {
        Err(format!("no resource '{name}'"))
    }
    fn resource_group(&self) -> Value {
        json!({"id": "/subscriptions/s/resourceGroups/rg", "name": "rg", "location": "eastus"})
    }
    fn subscription(&self) -> Value {
        json!({"id": "/subscriptions/s", "subscriptionId": "s"})
    }
    fn deployment(&self) -> Value {
        json!({"name": "d"})
    }
}

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = evaluate_string(text, &Fixed);
        let _ = evaluate_string(&format!("[{text}]"), &Fixed);
    }
});
