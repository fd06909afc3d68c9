//! A small JSON Schema checker for tests/json_schema.rs: the subset of draft 2020-12 that
//! docs/json-schema/mhactl.schema.json uses (`type`, `const`, `enum`, `required`,
//! `properties`, `items`, `minimum`, `maximum`, `anyOf`, `allOf`, local `$ref`). Hand-written because
//! no JSON Schema crate is in the offline registry cache this project builds from; a
//! keyword it does not know fails the test rather than being ignored, so the schema
//! cannot grow a rule nobody checks. It is stricter than JSON Schema in one way: an
//! object whose schema lists `properties` may hold no other key (across an `allOf`, the
//! union of its branches), so a field the code writes and the schema omits fails too.

use serde_json::{Map, Value};

/// Keywords that only annotate.
const ANNOTATIONS: &[&str] = &["$schema", "title", "description", "$defs"];
/// Keywords checked below.
const CHECKED: &[&str] = &[
    "type",
    "const",
    "enum",
    "required",
    "properties",
    "items",
    "minimum",
    "maximum",
    "anyOf",
    "allOf",
    "$ref",
];

/// The schema file, its root, and the checks.
pub struct Checker {
    root: Value,
}

impl Checker {
    /// `schema` is the whole file (its `$defs` resolve `$ref`s).
    pub fn new(root: Value) -> Self {
        Checker { root }
    }

    /// The definition `name` of the file.
    pub fn def(&self, name: &str) -> &Value {
        self.root["$defs"]
            .get(name)
            .unwrap_or_else(|| panic!("no $defs/{name} in the schema"))
    }

    /// The root schema.
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Every violation of `schema` by `value`, as `path: problem`.
    pub fn errors(&self, schema: &Value, value: &Value) -> Vec<String> {
        let mut out = Vec::new();
        self.check(schema, value, "$", true, &mut out);
        out
    }

    fn resolve<'a>(&'a self, schema: &'a Value) -> &'a Value {
        match schema.get("$ref").and_then(Value::as_str) {
            Some(r) => {
                let name = r
                    .strip_prefix("#/$defs/")
                    .unwrap_or_else(|| panic!("only local $refs are supported: {r}"));
                self.resolve(self.def(name))
            }
            None => schema,
        }
    }

    /// The property names `schema` allows at this level (its own and its `allOf`
    /// branches'), or `None` when it does not list any (a free-form object).
    fn known_keys(&self, schema: &Value) -> Option<Vec<String>> {
        let schema = self.resolve(schema);
        let mut keys: Option<Vec<String>> = schema
            .get("properties")
            .and_then(Value::as_object)
            .map(|p| p.keys().cloned().collect());
        for branch in schema
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            if let Some(more) = self.known_keys(branch) {
                keys.get_or_insert_with(Vec::new).extend(more);
            }
        }
        keys
    }

    fn check(
        &self,
        schema: &Value,
        value: &Value,
        path: &str,
        strict: bool,
        out: &mut Vec<String>,
    ) {
        let schema = self.resolve(schema);
        let Some(s) = schema.as_object() else {
            panic!("{path}: a schema must be an object: {schema}");
        };
        for k in s.keys() {
            assert!(
                ANNOTATIONS.contains(&k.as_str()) || CHECKED.contains(&k.as_str()),
                "{path}: schema keyword `{k}` is not supported by this checker"
            );
        }
        if strict && value.is_object() {
            if let Some(known) = self.known_keys(schema) {
                for k in value.as_object().unwrap().keys() {
                    if !known.contains(k) {
                        out.push(format!("{path}: field `{k}` is not in the schema"));
                    }
                }
            }
        }
        if let Some(t) = s.get("type") {
            let types: Vec<&str> = match t {
                Value::String(one) => vec![one.as_str()],
                Value::Array(many) => many.iter().filter_map(Value::as_str).collect(),
                _ => panic!("{path}: bad `type` {t}"),
            };
            if !types.iter().any(|t| has_type(value, t)) {
                out.push(format!("{path}: expected {types:?}, found {value}"));
                return;
            }
        }
        if let Some(c) = s.get("const") {
            if c != value {
                out.push(format!("{path}: expected {c}, found {value}"));
            }
        }
        if let Some(e) = s.get("enum").and_then(Value::as_array) {
            if !e.contains(value) {
                out.push(format!("{path}: {value} is not one of {e:?}"));
            }
        }
        if let (Some(min), Some(x)) = (s.get("minimum").and_then(Value::as_f64), value.as_f64()) {
            if x < min {
                out.push(format!("{path}: {x} is below {min}"));
            }
        }
        if let (Some(max), Some(x)) = (s.get("maximum").and_then(Value::as_f64), value.as_f64()) {
            if x > max {
                out.push(format!("{path}: {x} is above {max}"));
            }
        }
        if let Some(obj) = value.as_object() {
            self.check_object(s, obj, path, out);
        }
        if let (Some(items), Some(arr)) = (s.get("items"), value.as_array()) {
            for (i, v) in arr.iter().enumerate() {
                self.check(items, v, &format!("{path}[{i}]"), true, out);
            }
        }
        for branch in s
            .get("allOf")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            // Unknown keys were judged above against the union of the branches.
            self.check(branch, value, path, false, out);
        }
        if let Some(any) = s.get("anyOf").and_then(Value::as_array) {
            let mut why = Vec::new();
            let fits = any.iter().any(|b| {
                let mut e = Vec::new();
                self.check(b, value, path, true, &mut e);
                why.extend(e.iter().cloned());
                e.is_empty()
            });
            if !fits {
                out.push(format!("{path}: matches none of anyOf: {}", why.join("; ")));
            }
        }
    }

    fn check_object(
        &self,
        s: &Map<String, Value>,
        obj: &Map<String, Value>,
        path: &str,
        out: &mut Vec<String>,
    ) {
        for r in s
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            let r = r.as_str().expect("required names are strings");
            if !obj.contains_key(r) {
                out.push(format!("{path}: required field `{r}` is missing"));
            }
        }
        if let Some(props) = s.get("properties").and_then(Value::as_object) {
            for (k, sub) in props {
                if let Some(v) = obj.get(k) {
                    self.check(sub, v, &format!("{path}.{k}"), true, out);
                }
            }
        }
    }
}

fn has_type(value: &Value, t: &str) -> bool {
    match t {
        "null" => value.is_null(),
        "boolean" => value.is_boolean(),
        "string" => value.is_string(),
        "array" => value.is_array(),
        "object" => value.is_object(),
        "number" => value.is_number(),
        "integer" => value.is_i64() || value.is_u64(),
        other => panic!("unknown type `{other}`"),
    }
}

/// Every number in `text` (one JSON document) that is not an integer has at most 3
/// decimals and no exponent: what docs/json.md promises.
pub fn floats_rounded(value: &Value, path: &str, out: &mut Vec<String>) {
    match value {
        Value::Number(n) if n.is_f64() => {
            let s = n.to_string();
            let decimals = s.split_once('.').map_or(0, |(_, d)| d.len());
            if decimals > 3 || s.contains('e') || s.contains('E') {
                out.push(format!("{path}: {s} is not rounded to 3 decimals"));
            }
        }
        Value::Array(a) => {
            for (i, v) in a.iter().enumerate() {
                floats_rounded(v, &format!("{path}[{i}]"), out);
            }
        }
        Value::Object(m) => {
            for (k, v) in m {
                floats_rounded(v, &format!("{path}.{k}"), out);
            }
        }
        _ => {}
    }
}
