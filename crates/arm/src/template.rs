//! Deploying an ARM template as Azure Resource Manager evaluates one (Microsoft's "Template
//! structure and syntax", "Parameters", "Variables", "Resource iteration", "Property
//! iteration", "Conditional deployment", "Nested and linked templates" and Bicep's
//! languageVersion 2.0 output): parameters from parameter files and `name=value` pairs, checked
//! against their declaration; variables, with copy; resources with copy loops (count 0 too) and
//! conditions, their children, and property copy loops; inline nested deployments (outer or
//! inner scope) and templates linked by `relativePath`; `existing` resources. What it returns
//! is the deployed resources as REST JSON, with their full types, names and IDs, which the
//! REST reader takes as it takes an export. Exported templates declare children twice (inline
//! and as child resources): the child resource is merged into the inline one.

use super::functions::{evaluate_string, Context, EvalError};
use serde_json::{Map, Value};
use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::rc::Rc;
use vnetlab_model::resource_id::{DEFAULT_RESOURCE_GROUP, DEFAULT_SUBSCRIPTION};

/// The deployment's context: `--subscription`, `--resource-group`, `--location`.
#[derive(Debug, Clone)]
pub struct Settings {
    pub subscription_id: String,
    pub resource_group: String,
    pub location: String,
    pub deployment_name: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            subscription_id: DEFAULT_SUBSCRIPTION.into(),
            resource_group: DEFAULT_RESOURCE_GROUP.into(),
            location: "eastus".into(),
            deployment_name: "vnetlab".into(),
        }
    }
}

/// A failure, at a JSON path of the template file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{path}: {message}")]
pub struct TemplateError {
    pub path: String,
    pub message: String,
    pub hint: Option<String>,
}

fn error(path: &str, message: impl Into<String>) -> TemplateError {
    TemplateError {
        path: path.to_string(),
        message: message.into(),
        hint: None,
    }
}

fn eval_error(path: &str, e: EvalError) -> TemplateError {
    let message = match e.function {
        Some(f) => format!("{} (in function '{f}')", e.message),
        None => e.message,
    };
    error(path, message)
}

fn member<'v>(v: &'v Value, key: &str) -> Option<&'v Value> {
    let m = v.as_object()?;
    m.get(key).or_else(|| {
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v)
    })
}

/// Why a template, a parameters file or a `name=value` pair cannot be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InputError {
    /// Not JSON, even with comments and multi-line strings: the parser's message.
    #[error("{0}")]
    Syntax(String),
    #[error("the file is empty")]
    Empty,
    #[error("a parameters file has a \"parameters\" object")]
    NoParameters,
    #[error("parameter '{0}' has no \"value\"")]
    NoValue(String),
    #[error("'{0}' is neither a parameters file nor name=value")]
    NotAPair(String),
}

/// Reads an ARM parameters file (`{"parameters": {"name": {"value": ...}}}`) into values.
/// A Key Vault reference stands for a secret the lab cannot read: it becomes a placeholder.
pub fn parameters_file(v: &Value) -> Result<Map<String, Value>, InputError> {
    let params = member(v, "parameters")
        .and_then(Value::as_object)
        .ok_or(InputError::NoParameters)?;
    let mut out = Map::new();
    for (name, p) in params {
        let value = match (member(p, "value"), member(p, "reference")) {
            (Some(v), _) => v.clone(),
            (None, Some(_)) => Value::String("(Key Vault secret)".into()),
            _ => return Err(InputError::NoValue(name.clone())),
        };
        out.insert(name.clone(), value);
    }
    Ok(out)
}

/// A `name=value` pair as `az deployment group create --parameters` takes it: the value as
/// written, converted to the parameter's declared type when the template is read.
pub fn parameter_pair(pair: &str) -> Result<(String, Value), InputError> {
    let (name, value) = pair
        .split_once('=')
        .ok_or_else(|| InputError::NotAPair(pair.to_string()))?;
    Ok((name.trim().to_string(), Value::String(value.to_string())))
}

/// Converts a value given as text to a parameter's declared type.
fn coerce(declared: &str, value: Value) -> Value {
    let Value::String(text) = &value else {
        return value;
    };
    match declared.to_ascii_lowercase().as_str() {
        "int" => text.trim().parse::<i64>().map(Value::from).unwrap_or(value),
        "bool" => match text.trim().to_ascii_lowercase().as_str() {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            _ => value,
        },
        "array" | "object" | "secureobject" => serde_json::from_str(text).unwrap_or(value),
        _ => value,
    }
}

/// One template's parameters and variables (a nested deployment of inner scope has its own).
struct Scope {
    template: Value,
    /// Where the template sits in the file ("" for the main one).
    path: String,
    settings: Rc<Settings>,
    given: Map<String, Value>,
    parameters: RefCell<HashMap<String, Value>>,
    variables: RefCell<HashMap<String, Value>>,
    /// Names being resolved: a cycle is an error, not a stack overflow.
    resolving: RefCell<Vec<String>>,
    /// Where relative template links are read from.
    base_dir: Option<PathBuf>,
}

/// What an expression is evaluated in: a scope, the loops it is inside, and the deployment's
/// resources (for `reference`).
struct Env<'a> {
    scope: &'a Scope,
    loops: Vec<(String, i64)>,
    deployment: &'a Deployment,
}

impl Scope {
    fn section(&self, name: &str) -> Option<&Map<String, Value>> {
        member(&self.template, name).and_then(Value::as_object)
    }

    fn declared(&self, section: &str, name: &str) -> Option<(String, Value)> {
        let m = self.section(section)?;
        m.iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(k, v)| (k.clone(), v.clone()))
    }

    fn guard<T>(&self, key: String, f: impl FnOnce() -> Result<T, String>) -> Result<T, String> {
        if self.resolving.borrow().contains(&key) {
            return Err(format!("{key} refers to itself"));
        }
        self.resolving.borrow_mut().push(key);
        let out = f();
        self.resolving.borrow_mut().pop();
        out
    }

    fn parameter(&self, name: &str, deployment: &Deployment) -> Result<Value, String> {
        let key = name.to_ascii_lowercase();
        if let Some(v) = self.parameters.borrow().get(&key) {
            return Ok(v.clone());
        }
        let (declared_name, decl) = self
            .declared("parameters", name)
            .ok_or_else(|| format!("the template has no parameter '{name}'"))?;
        let value = self.guard(format!("parameter '{declared_name}'"), || {
            let given = self.given.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)).map(|(_, v)| v.clone());
            let declared_type = member(&decl, "type").and_then(Value::as_str).unwrap_or("string");
            let value = match (given, member(&decl, "defaultValue")) {
                (Some(v), _) => coerce(declared_type, v),
                (None, Some(default)) => {
                    let env = Env { scope: self, loops: Vec::new(), deployment };
                    let path = format!("{}parameters.{declared_name}.defaultValue", prefix(&self.path));
                    env.eval(default, &path).map_err(|e| e.to_string())?
                }
                (None, None) => return Err(format!("parameter '{declared_name}' has no value and no defaultValue: give it with --parameters {declared_name}=VALUE")),
            };
            check_parameter(&declared_name, &decl, &value)?;
            Ok(value)
        })?;
        self.parameters.borrow_mut().insert(key, value.clone());
        Ok(value)
    }

    fn variable(&self, name: &str, deployment: &Deployment) -> Result<Value, String> {
        let key = name.to_ascii_lowercase();
        if let Some(v) = self.variables.borrow().get(&key) {
            return Ok(v.clone());
        }
        let value = self.guard(format!("variable '{name}'"), || {
            let env = Env {
                scope: self,
                loops: Vec::new(),
                deployment,
            };
            // A variable copy loop (the variables' "copy" array) makes an array variable.
            let loops = self
                .section("variables")
                .and_then(|v| v.get("copy"))
                .and_then(Value::as_array);
            if let Some((i, spec)) = loops.into_iter().flatten().enumerate().find(|(_, l)| {
                member(l, "name")
                    .and_then(Value::as_str)
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            }) {
                let path = format!("{}variables.copy[{i}]", prefix(&self.path));
                return env.copy_array(spec, &path).map_err(|e| e.to_string());
            }
            let (declared_name, v) = self
                .declared("variables", name)
                .ok_or_else(|| format!("the template has no variable '{name}'"))?;
            let path = format!("{}variables.{declared_name}", prefix(&self.path));
            env.eval(&v, &path).map_err(|e| e.to_string())
        })?;
        self.variables.borrow_mut().insert(key, value.clone());
        Ok(value)
    }
}

fn prefix(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!("{path}.")
    }
}

/// allowedValues, minValue, maxValue, minLength and maxLength (Microsoft's "Parameters").
fn check_parameter(name: &str, decl: &Value, value: &Value) -> Result<(), String> {
    if let Some(allowed) = member(decl, "allowedValues").and_then(Value::as_array) {
        let ok = match value {
            Value::Array(items) => items.iter().all(|i| allowed.contains(i)),
            v => allowed.contains(v),
        };
        if !ok {
            return Err(format!(
                "parameter '{name}': {value} is not one of its allowedValues {}",
                Value::Array(allowed.clone())
            ));
        }
    }
    let bound = |key: &str| member(decl, key).and_then(Value::as_i64);
    if let Some(n) = value.as_i64() {
        if let Some(min) = bound("minValue").filter(|min| n < *min) {
            return Err(format!(
                "parameter '{name}': {n} is below its minValue {min}"
            ));
        }
        if let Some(max) = bound("maxValue").filter(|max| n > *max) {
            return Err(format!(
                "parameter '{name}': {n} is above its maxValue {max}"
            ));
        }
    }
    let len = match value {
        Value::String(s) => Some(s.chars().count() as i64),
        Value::Array(a) => Some(a.len() as i64),
        _ => None,
    };
    if let Some(len) = len {
        if let Some(min) = bound("minLength").filter(|min| len < *min) {
            return Err(format!(
                "parameter '{name}': length {len} is below its minLength {min}"
            ));
        }
        if let Some(max) = bound("maxLength").filter(|max| len > *max) {
            return Err(format!(
                "parameter '{name}': length {len} is above its maxLength {max}"
            ));
        }
    }
    Ok(())
}

impl Env<'_> {
    fn with_loop(&self, name: &str, index: i64) -> Env<'_> {
        let mut loops = self.loops.clone();
        loops.push((name.to_string(), index));
        Env {
            scope: self.scope,
            loops,
            deployment: self.deployment,
        }
    }

    /// Evaluates a JSON value: expressions in strings, property copy loops in objects.
    fn eval(&self, v: &Value, path: &str) -> Result<Value, TemplateError> {
        match v {
            Value::String(s) => evaluate_string(s, self).map_err(|e| eval_error(path, e)),
            Value::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, item)| self.eval(item, &format!("{path}[{i}]")))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            Value::Object(m) => {
                let mut out = Map::new();
                for (k, val) in m {
                    let at = format!("{}{k}", prefix(path));
                    if k.eq_ignore_ascii_case("copy") && val.is_array() {
                        for (i, spec) in val.as_array().into_iter().flatten().enumerate() {
                            let name =
                                member(spec, "name")
                                    .and_then(Value::as_str)
                                    .ok_or_else(|| {
                                        error(
                                            &format!("{at}[{i}]"),
                                            "a property copy loop has no name",
                                        )
                                    })?;
                            out.insert(
                                name.to_string(),
                                self.copy_array(spec, &format!("{at}[{i}]"))?,
                            );
                        }
                        continue;
                    }
                    out.insert(k.clone(), self.eval(val, &at)?);
                }
                Ok(Value::Object(out))
            }
            other => Ok(other.clone()),
        }
    }

    /// A copy loop's count, evaluated.
    fn count(&self, spec: &Value, path: &str) -> Result<i64, TemplateError> {
        let count = member(spec, "count").ok_or_else(|| error(path, "a copy loop has no count"))?;
        let n = self.eval(count, &format!("{path}.count"))?;
        let n = n
            .as_i64()
            .or_else(|| n.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| {
                error(
                    &format!("{path}.count"),
                    format!("the copy count {n} is not an integer"),
                )
            })?;
        if !(0..=800).contains(&n) {
            return Err(error(
                &format!("{path}.count"),
                format!("the copy count {n} is outside 0-800"),
            ));
        }
        Ok(n)
    }

    /// A property or variable copy loop: `input` evaluated `count` times.
    fn copy_array(&self, spec: &Value, path: &str) -> Result<Value, TemplateError> {
        let name = member(spec, "name")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let input = member(spec, "input").ok_or_else(|| error(path, "a copy loop has no input"))?;
        (0..self.count(spec, path)?)
            .map(|i| {
                self.with_loop(name, i)
                    .eval(input, &format!("{path}.input"))
            })
            .collect::<Result<_, _>>()
            .map(Value::Array)
    }
}

impl Context for Env<'_> {
    fn parameter(&self, name: &str) -> Result<Value, String> {
        self.scope.parameter(name, self.deployment)
    }

    fn variable(&self, name: &str) -> Result<Value, String> {
        self.scope.variable(name, self.deployment)
    }

    fn copy_index(&self, loop_name: Option<&str>) -> Result<i64, String> {
        let found = match loop_name {
            Some(n) => self
                .loops
                .iter()
                .rev()
                .find(|(l, _)| l.eq_ignore_ascii_case(n)),
            None => self.loops.last(),
        };
        found.map(|(_, i)| *i).ok_or_else(|| match loop_name {
            Some(n) => format!("copyIndex('{n}') is used outside the loop '{n}'"),
            None => "copyIndex() is used outside a copy loop".to_string(),
        })
    }

    fn reference(&self, name_or_id: &str, full: bool) -> Result<Value, String> {
        self.deployment.reference(name_or_id, full)
    }

    fn resource_group(&self) -> Value {
        let s = &self.scope.settings;
        serde_json::json!({"id": format!("/subscriptions/{}/resourceGroups/{}", s.subscription_id, s.resource_group), "name": s.resource_group, "type": "Microsoft.Resources/resourceGroups", "location": s.location, "properties": {"provisioningState": "Succeeded"}})
    }

    fn subscription(&self) -> Value {
        let s = &self.scope.settings;
        serde_json::json!({"id": format!("/subscriptions/{}", s.subscription_id), "subscriptionId": s.subscription_id, "tenantId": self.tenant_id(), "displayName": "vnetlab"})
    }

    fn deployment(&self) -> Value {
        let s = &self.scope.settings;
        let version = member(&self.scope.template, "contentVersion")
            .cloned()
            .unwrap_or(Value::String("1.0.0.0".into()));
        // Deployed from a local file, as `az deployment group create --template-file`: no
        // templateLink (templates then need `_artifactsLocation` given).
        serde_json::json!({"name": s.deployment_name, "location": s.location, "properties": {"template": {"contentVersion": version}, "mode": "Incremental", "provisioningState": "Accepted"}})
    }
}

/// One resource to deploy: where it is written, the loops it is in, its evaluated type, name
/// and ID, and (once asked) its evaluated body.
struct Instance {
    scope: Rc<Scope>,
    resource: Value,
    path: String,
    loops: Vec<(String, i64)>,
    full_type: String,
    name: String,
    id: String,
    /// Declared with `existing`: referenced, not deployed.
    existing: bool,
    body: RefCell<Option<Value>>,
}

#[derive(Default)]
struct Deployment {
    instances: Vec<Instance>,
    /// Resources whose body is being evaluated (a reference cycle is an error).
    evaluating: RefCell<Vec<usize>>,
}

fn resource_id(settings: &Settings, full_type: &str, name: &str) -> String {
    let mut parts = full_type.split('/');
    let namespace = parts.next().unwrap_or_default();
    let mut id = format!(
        "/subscriptions/{}/resourceGroups/{}/providers/{namespace}",
        settings.subscription_id, settings.resource_group
    );
    let mut names = name.split('/');
    for segment in parts {
        id.push_str(&format!("/{segment}/{}", names.next().unwrap_or_default()));
    }
    id
}

impl Deployment {
    fn find(&self, name_or_id: &str) -> Option<usize> {
        let wanted = name_or_id.trim_end_matches('/');
        self.instances
            .iter()
            .position(|r| r.id.eq_ignore_ascii_case(wanted))
            .or_else(|| {
                self.instances
                    .iter()
                    .position(|r| r.name.eq_ignore_ascii_case(wanted))
            })
    }

    fn body(&self, i: usize) -> Result<Value, TemplateError> {
        if let Some(b) = self.instances[i].body.borrow().as_ref() {
            return Ok(b.clone());
        }
        let r = &self.instances[i];
        if self.evaluating.borrow().contains(&i) {
            return Err(error(
                &r.path,
                format!("resource '{}' refers to itself through reference()", r.name),
            ));
        }
        self.evaluating.borrow_mut().push(i);
        let env = Env {
            scope: &r.scope,
            loops: r.loops.clone(),
            deployment: self,
        };
        let mut out = Map::new();
        let skip = [
            "copy",
            "condition",
            "dependsOn",
            "resources",
            "apiVersion",
            "comments",
            "existing",
            "type",
            "name",
            "id",
            "scope",
        ];
        let mut result = Ok(());
        if let Some(m) = r.resource.as_object() {
            for (k, v) in m
                .iter()
                .filter(|(k, _)| !skip.iter().any(|s| s.eq_ignore_ascii_case(k)))
            {
                match env.eval(v, &format!("{}.{k}", r.path)) {
                    Ok(v) => {
                        out.insert(k.clone(), v);
                    }
                    Err(e) => {
                        result = Err(e);
                        break;
                    }
                }
            }
        }
        self.evaluating.borrow_mut().pop();
        result?;
        out.insert("type".into(), Value::String(r.full_type.clone()));
        out.insert("name".into(), Value::String(r.name.clone()));
        out.insert("id".into(), Value::String(r.id.clone()));
        let body = Value::Object(out);
        *r.body.borrow_mut() = Some(body.clone());
        Ok(body)
    }

    fn reference(&self, name_or_id: &str, full: bool) -> Result<Value, String> {
        let i = self.find(name_or_id).ok_or_else(|| {
            format!("reference('{name_or_id}'): no resource of this template has that name or ID")
        })?;
        let mut body = self.body(i).map_err(|e| e.to_string())?;
        self.runtime_properties(i, &mut body);
        Ok(if full {
            body
        } else {
            body.get("properties")
                .cloned()
                .unwrap_or(Value::Object(Map::new()))
        })
    }

    /// What Azure sets on a deployed resource that `reference()` reads and the template does
    /// not say: a storage account's endpoints, and an Azure Firewall's private address (the
    /// first address Azure gives in its AzureFirewallSubnet, `.4`).
    fn runtime_properties(&self, i: usize, body: &mut Value) {
        let r = &self.instances[i];
        let short = r.name.rsplit('/').next().unwrap_or_default();
        if r.full_type
            .eq_ignore_ascii_case("Microsoft.Storage/storageAccounts")
        {
            let endpoints: Map<String, Value> = ["blob", "file", "queue", "table", "web", "dfs"]
                .iter()
                .map(|k| {
                    (
                        k.to_string(),
                        Value::String(format!("https://{short}.{k}.core.windows.net/")),
                    )
                })
                .collect();
            body["properties"]["primaryEndpoints"] = Value::Object(endpoints);
        }
        if r.full_type
            .eq_ignore_ascii_case("Microsoft.Network/azureFirewalls")
        {
            let configs = body["properties"]["ipConfigurations"]
                .as_array()
                .cloned()
                .unwrap_or_default();
            for (k, config) in configs.iter().enumerate() {
                let prefix = config["properties"]["subnet"]["id"]
                    .as_str()
                    .and_then(|id| self.subnet_prefix(id));
                if let Some(first) = prefix
                    .and_then(|p| p.parse::<ipnet::Ipv4Net>().ok())
                    .and_then(|p| p.hosts().nth(3))
                {
                    body["properties"]["ipConfigurations"][k]["properties"]["privateIPAddress"] =
                        Value::String(first.to_string());
                }
            }
        }
    }

    /// The address prefix of a subnet of this deployment, declared inline or as a child.
    fn subnet_prefix(&self, subnet_id: &str) -> Option<String> {
        if let Some(i) = self.find(subnet_id) {
            return self.body(i).ok()?["properties"]["addressPrefix"]
                .as_str()
                .map(str::to_string);
        }
        let (vnet_id, name) = subnet_id.trim_end_matches('/').rsplit_once("/subnets/")?;
        let vnet = self.body(self.find(vnet_id)?).ok()?;
        let subnet = vnet["properties"]["subnets"]
            .as_array()?
            .iter()
            .find(|s| {
                s["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(name))
            })?
            .clone();
        subnet["properties"]["addressPrefix"]
            .as_str()
            .map(str::to_string)
    }
}

/// What `deploy` reads linked templates with.
fn read_linked(
    base: Option<&Path>,
    relative: &str,
    path: &str,
) -> Result<(Value, Option<PathBuf>), TemplateError> {
    let file = base.map_or_else(|| PathBuf::from(relative), |b| b.join(relative));
    let text = std::fs::read_to_string(&file).map_err(|e| {
        error(
            path,
            format!("cannot read the linked template {}: {e}", file.display()),
        )
    })?;
    let value = parse_jsonc(&text).map_err(|e| {
        error(
            path,
            format!(
                "the linked template {} is not valid JSON: {e}",
                file.display()
            ),
        )
    })?;
    Ok((value, file.parent().map(Path::to_path_buf)))
}

/// JSON with comments (and multi-line strings), as ARM accepts templates.
pub fn parse_jsonc(text: &str) -> Result<Value, InputError> {
    let options = jsonc_parser::ParseOptions {
        allow_comments: true,
        allow_loose_object_property_names: false,
        allow_trailing_commas: true,
        ..Default::default()
    };
    let escaped = escape_raw_newlines(text);
    let parsed = jsonc_parser::parse_to_ast(&escaped, &Default::default(), &options)
        .map_err(|e| InputError::Syntax(e.to_string()))?;
    parsed.value.map(Value::from).ok_or(InputError::Empty)
}

/// Multi-line strings: a raw line break inside a string literal becomes `\n` (the byte
/// offsets of everything else are kept, so positions stay right).
fn escape_raw_newlines(text: &str) -> std::borrow::Cow<'_, str> {
    let (mut in_string, mut escaped, mut changed) = (false, false, false);
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '"' if !escaped => in_string = !in_string,
            '\n' if in_string => {
                out.push_str("\\n");
                changed = true;
                continue;
            }
            '\r' if in_string => {
                changed = true;
                continue;
            }
            _ => {}
        }
        escaped = in_string && c == '\\' && !escaped;
        out.push(c);
    }
    if changed {
        std::borrow::Cow::Owned(out)
    } else {
        std::borrow::Cow::Borrowed(text)
    }
}

/// Lists one template's resources as instances (copy loops expanded, conditions applied,
/// children flattened, nested deployments followed).
struct Planner<'d> {
    deployment: &'d mut Deployment,
}

impl Planner<'_> {
    fn template(
        &mut self,
        scope: Rc<Scope>,
        loops: Vec<(String, i64)>,
    ) -> Result<(), TemplateError> {
        let base = prefix(&scope.path);
        match member(&scope.template, "resources") {
            Some(Value::Array(items)) => {
                for (i, r) in items.iter().enumerate() {
                    self.resource(&scope, r, &format!("{base}resources[{i}]"), &loops, None)?;
                }
            }
            // Bicep languageVersion 2.0: resources by symbolic name.
            Some(Value::Object(items)) => {
                for (symbol, r) in items {
                    self.resource(
                        &scope,
                        r,
                        &format!("{base}resources.{symbol}"),
                        &loops,
                        None,
                    )?;
                }
            }
            _ => {}
        }
        Ok(())
    }

    fn resource(
        &mut self,
        scope: &Rc<Scope>,
        r: &Value,
        path: &str,
        outer: &[(String, i64)],
        parent: Option<(&str, &str)>,
    ) -> Result<(), TemplateError> {
        let iterations: Vec<Vec<(String, i64)>> = match member(r, "copy") {
            Some(spec) if spec.is_object() => {
                let env = Env {
                    scope,
                    loops: outer.to_vec(),
                    deployment: self.deployment,
                };
                let name = member(spec, "name")
                    .and_then(Value::as_str)
                    .unwrap_or_default()
                    .to_string();
                let count = env.count(spec, &format!("{path}.copy"))?;
                (0..count)
                    .map(|i| outer.iter().cloned().chain([(name.clone(), i)]).collect())
                    .collect()
            }
            _ => vec![outer.to_vec()],
        };
        for loops in iterations {
            let Some((full_type, name, declared_id)) =
                self.identify(scope, r, path, &loops, parent)?
            else {
                continue;
            };
            if full_type.eq_ignore_ascii_case("Microsoft.Resources/deployments") {
                self.nested(scope, r, path, &loops)?;
                continue;
            }
            let existing = member(r, "existing")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            let id = declared_id.unwrap_or_else(|| resource_id(&scope.settings, &full_type, &name));
            self.deployment.instances.push(Instance {
                scope: scope.clone(),
                resource: r.clone(),
                path: path.to_string(),
                loops: loops.clone(),
                full_type: full_type.clone(),
                name: name.clone(),
                id,
                existing,
                body: RefCell::new(None),
            });
            for (i, child) in member(r, "resources")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .enumerate()
            {
                self.resource(
                    scope,
                    child,
                    &format!("{path}.resources[{i}]"),
                    &loops,
                    Some((&full_type, &name)),
                )?;
            }
        }
        Ok(())
    }

    /// A resource's full type and name in one iteration (and its ID, when written), or None
    /// when its condition is false. A child declared inside its parent gives its type and name
    /// relative to the parent's.
    #[allow(clippy::type_complexity)]
    fn identify(
        &self,
        scope: &Scope,
        r: &Value,
        path: &str,
        loops: &[(String, i64)],
        parent: Option<(&str, &str)>,
    ) -> Result<Option<(String, String, Option<String>)>, TemplateError> {
        let env = Env {
            scope,
            loops: loops.to_vec(),
            deployment: self.deployment,
        };
        if let Some(condition) = member(r, "condition") {
            match env.eval(condition, &format!("{path}.condition"))? {
                Value::Bool(true) => {}
                Value::Bool(false) => return Ok(None),
                other => {
                    return Err(error(
                        &format!("{path}.condition"),
                        format!("the condition is {other}, not true or false"),
                    ))
                }
            }
        }
        let text = |key: &str| -> Result<String, TemplateError> {
            let v = member(r, key)
                .ok_or_else(|| error(path, format!("the resource has no \"{key}\"")))?;
            match env.eval(v, &format!("{path}.{key}"))? {
                Value::String(s) => Ok(s),
                other => Err(error(
                    &format!("{path}.{key}"),
                    format!("the {key} is {other}, not a string"),
                )),
            }
        };
        let (mut full_type, mut name) = (text("type")?, text("name")?);
        if let Some((parent_type, parent_name)) = parent {
            if !full_type.contains('/') {
                full_type = format!("{parent_type}/{full_type}");
            }
            if name.matches('/').count() + 1 < full_type.matches('/').count() {
                name = format!("{parent_name}/{name}");
            }
        }
        let id = if member(r, "id").is_some() {
            Some(text("id")?)
        } else {
            None
        };
        Ok(Some((full_type, name, id)))
    }

    /// A nested deployment: its template inline or linked by `relativePath`, evaluated in the
    /// outer scope (the default: the parent's parameters and variables) or its own.
    fn nested(
        &mut self,
        scope: &Rc<Scope>,
        r: &Value,
        path: &str,
        loops: &[(String, i64)],
    ) -> Result<(), TemplateError> {
        let props = member(r, "properties").cloned().unwrap_or(Value::Null);
        let inner = member(&props, "expressionEvaluationOptions")
            .and_then(|o| member(o, "scope"))
            .and_then(Value::as_str)
            .is_some_and(|s| s.eq_ignore_ascii_case("inner"));
        let (template, template_path, base_dir) = match (
            member(&props, "template"),
            member(&props, "templateLink"),
        ) {
            (Some(t), _) => (
                t.clone(),
                format!("{path}.properties.template"),
                scope.base_dir.clone(),
            ),
            (None, Some(link)) => {
                let Some(relative) = member(link, "relativePath").and_then(Value::as_str) else {
                    return Err(error(&format!("{path}.properties.templateLink"), "a linked template is read by relativePath only: the lab cannot fetch a uri").with_hint("download the template next to this one and link it with relativePath"));
                };
                let (t, dir) = read_linked(
                    scope.base_dir.as_deref(),
                    relative,
                    &format!("{path}.properties.templateLink.relativePath"),
                )?;
                // Errors inside a linked file are located in that file, by its own paths.
                (t, String::new(), dir)
            }
            (None, None) => {
                return Err(error(
                    &format!("{path}.properties"),
                    "a nested deployment has neither template nor templateLink",
                ))
            }
        };
        let nested_scope = if inner || member(&props, "templateLink").is_some() {
            let env = Env {
                scope,
                loops: loops.to_vec(),
                deployment: &*self.deployment,
            };
            let mut given = Map::new();
            for (k, p) in member(&props, "parameters")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
            {
                let value = member(p, "value").ok_or_else(|| {
                    error(
                        &format!("{path}.properties.parameters.{k}"),
                        "a nested deployment's parameter has no value",
                    )
                })?;
                given.insert(
                    k.clone(),
                    env.eval(value, &format!("{path}.properties.parameters.{k}.value"))?,
                );
            }
            Scope {
                template,
                path: template_path,
                settings: scope.settings.clone(),
                given,
                parameters: Default::default(),
                variables: Default::default(),
                resolving: Default::default(),
                base_dir,
            }
        } else {
            // Outer scope: the parent's parameters and variables; only the resources are the nested template's.
            Scope {
                template: outer_scope_template(&scope.template, &template),
                path: template_path,
                settings: scope.settings.clone(),
                given: scope.given.clone(),
                parameters: RefCell::new(scope.parameters.borrow().clone()),
                variables: RefCell::new(scope.variables.borrow().clone()),
                resolving: Default::default(),
                base_dir,
            }
        };
        self.template(Rc::new(nested_scope), loops.to_vec())
    }
}

/// For an outer-scope nested template: the parent's parameters and variables with the nested
/// template's resources.
fn outer_scope_template(parent: &Value, nested: &Value) -> Value {
    let mut t = parent.clone();
    if let (Some(m), Some(resources)) = (t.as_object_mut(), member(nested, "resources")) {
        m.insert("resources".into(), resources.clone());
    }
    t
}

impl TemplateError {
    fn with_hint(mut self, hint: &str) -> Self {
        self.hint = Some(hint.to_string());
        self
    }
}

/// What a deployment creates: its resources as REST JSON with the path of each in the
/// template (copies share their declaration's), and warnings with their JSON paths.
pub struct Deployed {
    pub resources: Vec<Value>,
    pub paths: Vec<String>,
    pub warnings: Vec<(String, String)>,
}

/// Deploys a template: the resources it creates, as REST JSON.
/// Every problem of the parameters is reported at once, as ARM lists them.
/// `modelled` names the full resource types the caller reads (`Microsoft.Network/virtualNetworks`):
/// a resource that refers to one of them which the template does not deploy is left out.
pub fn deploy(
    template: &Value,
    given: Map<String, Value>,
    settings: Settings,
    base_dir: Option<&Path>,
    modelled: &[&str],
) -> Result<Deployed, Vec<TemplateError>> {
    let mut problems = Vec::new();
    for (name, _) in &given {
        let declared = member(template, "parameters")
            .and_then(Value::as_object)
            .is_some_and(|p| p.keys().any(|k| k.eq_ignore_ascii_case(name)));
        if !declared {
            problems.push(error(
                "parameters",
                format!("parameter '{name}' is given but the template does not declare it"),
            ));
        }
    }
    let scope = Rc::new(Scope {
        template: template.clone(),
        path: String::new(),
        settings: Rc::new(settings),
        given,
        parameters: Default::default(),
        variables: Default::default(),
        resolving: Default::default(),
        base_dir: base_dir.map(Path::to_path_buf),
    });
    // Every parameter is checked, used or not (as ARM validates a deployment).
    let mut deployment = Deployment::default();
    for name in scope
        .section("parameters")
        .map(|p| p.keys().cloned().collect::<Vec<_>>())
        .unwrap_or_default()
    {
        if let Err(m) = scope.parameter(&name, &deployment) {
            problems.push(error(&format!("parameters.{name}"), m));
        }
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Planner {
        deployment: &mut deployment,
    }
    .template(scope, Vec::new())
    .map_err(|e| vec![e])?;
    let mut out = Vec::new();
    for i in 0..deployment.instances.len() {
        if !deployment.instances[i].existing {
            out.push((
                deployment.body(i).map_err(|e| vec![e])?,
                deployment.instances[i].path.clone(),
            ));
        }
    }
    Ok(leave_out_outside_references(
        merge_exported_children(out),
        modelled,
    ))
}

/// The full type a resource ID names (`Microsoft.Network/virtualNetworks/subnets`).
fn type_of_id(id: &str) -> Option<String> {
    let (_, provider) = id.split_once("/providers/")?;
    let parts: Vec<&str> = provider.split('/').collect();
    let namespace = parts.first()?;
    let types: Vec<&str> = parts.iter().skip(1).step_by(2).copied().collect();
    Some(
        std::iter::once(*namespace)
            .chain(types)
            .collect::<Vec<_>>()
            .join("/"),
    )
}

/// Every resource ID a value refers to (`{"id": ...}` objects below its top level).
fn references<'v>(v: &'v Value, top: bool, out: &mut Vec<&'v str>) {
    match v {
        Value::Object(m) => {
            for (k, child) in m {
                match (k.eq_ignore_ascii_case("id"), child) {
                    (true, Value::String(id)) if !top => out.push(id),
                    _ => references(child, false, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| references(i, false, out)),
        _ => {}
    }
}

/// A template that deploys into existing infrastructure refers to modelled resources it does
/// not deploy (a subnet given by parameter): vnetlab cannot see them, so a resource that
/// refers to one is left out, with a warning, rather than refusing the whole template.
fn leave_out_outside_references(resources: Vec<(Value, String)>, modelled: &[&str]) -> Deployed {
    let mut deployed: std::collections::HashSet<String> = std::collections::HashSet::new();
    for (r, _) in &resources {
        let id = r["id"].as_str().unwrap_or_default().to_ascii_lowercase();
        // Named sub-resources declared inline (subnets, a load balancer's pools, frontends,
        // probes and rules, a NIC's IP configurations) exist with their parent.
        for (property, items) in r["properties"].as_object().into_iter().flatten() {
            for name in items
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|c| c["name"].as_str())
            {
                deployed.insert(format!(
                    "{id}/{}/{}",
                    property.to_ascii_lowercase(),
                    name.to_ascii_lowercase()
                ));
            }
        }
        deployed.insert(id);
    }
    let modelled = |id: &str| {
        type_of_id(id).is_some_and(|t| modelled.iter().any(|m| m.eq_ignore_ascii_case(&t)))
    };
    let (mut kept, mut paths, mut warnings) = (Vec::new(), Vec::new(), Vec::new());
    for (r, path) in resources {
        let mut refs = Vec::new();
        references(&r, true, &mut refs);
        match refs.into_iter().find(|id| modelled(id) && !deployed.contains(&id.trim_end_matches('/').to_ascii_lowercase())) {
            Some(outside) => warnings.push((path, format!("resource '{}' refers to {outside}, which this template does not deploy (an existing resource vnetlab cannot see): it is left out", r["name"].as_str().unwrap_or_default()))),
            None => {
                kept.push(r);
                paths.push(path);
            }
        }
    }
    Deployed {
        resources: kept,
        paths,
        warnings,
    }
}

/// Inline child collections and the child types exports repeat them as.
const INLINE: [(&str, &str); 6] = [
    ("subnets", "Microsoft.Network/virtualNetworks/subnets"),
    (
        "virtualNetworkPeerings",
        "Microsoft.Network/virtualNetworks/virtualNetworkPeerings",
    ),
    (
        "securityRules",
        "Microsoft.Network/networkSecurityGroups/securityRules",
    ),
    ("routes", "Microsoft.Network/routeTables/routes"),
    (
        "inboundNatRules",
        "Microsoft.Network/loadBalancers/inboundNatRules",
    ),
    (
        "backendAddressPools",
        "Microsoft.Network/loadBalancers/backendAddressPools",
    ),
];

/// `az group export` declares subnets (and rules, routes, peerings) inline and again as child
/// resources: a child resource whose parent holds the same child inline is merged into it.
/// Each resource comes with its path in the template.
fn merge_exported_children(mut resources: Vec<(Value, String)>) -> Vec<(Value, String)> {
    let mut merged = vec![false; resources.len()];
    for i in 0..resources.len() {
        let (full_type, name) = (
            resources[i].0["type"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
            resources[i].0["name"]
                .as_str()
                .unwrap_or_default()
                .to_string(),
        );
        let Some((property, _)) = INLINE
            .iter()
            .find(|(_, t)| t.eq_ignore_ascii_case(&full_type))
        else {
            continue;
        };
        let Some((parent_name, child_name)) = name.rsplit_once('/') else {
            continue;
        };
        let parent_type = full_type
            .rsplit_once('/')
            .map(|(p, _)| p.to_string())
            .unwrap_or_default();
        let child_props = resources[i]
            .0
            .get("properties")
            .cloned()
            .unwrap_or(Value::Null);
        let parent = resources.iter_mut().map(|(r, _)| r).find(|r| {
            r["type"]
                .as_str()
                .is_some_and(|t| t.eq_ignore_ascii_case(&parent_type))
                && r["name"]
                    .as_str()
                    .is_some_and(|n| n.eq_ignore_ascii_case(parent_name))
        });
        let inline = parent
            .and_then(|p| p.get_mut("properties"))
            .and_then(|p| p.get_mut(*property))
            .and_then(Value::as_array_mut)
            .and_then(|items| {
                items.iter_mut().find(|c| {
                    c["name"]
                        .as_str()
                        .is_some_and(|n| n.eq_ignore_ascii_case(child_name))
                })
            });
        if let Some(inline) = inline {
            if let (Some(target), Value::Object(extra)) = (
                inline.as_object_mut().map(|o| {
                    o.entry("properties")
                        .or_insert_with(|| Value::Object(Map::new()))
                }),
                child_props,
            ) {
                if let Some(target) = target.as_object_mut() {
                    target.extend(extra);
                }
            }
            merged[i] = true;
        }
    }
    let mut keep = merged.into_iter().map(|m| !m);
    resources.retain(|_| keep.next().unwrap_or(true));
    resources
}
