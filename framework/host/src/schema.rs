//! JSON Schemas of kairos's file formats, for editors (`kairos schema`).
//!
//! The pipeline schema is generated from the registry, so it lists exactly the
//! plugins this build knows at each extension point, each with the schema of its
//! `args`.

use kairos_model::ExtensionPoint;
use serde_json::{json, Map, Value};

use crate::registry::Registry;

/// Which file format.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Pipeline files.
    Pipeline,
    /// Scenario files.
    Scenario,
    /// Cluster files.
    Cluster,
}

/// The JSON Schema of `kind`.
pub fn schema(kind: Kind, registry: &Registry) -> Value {
    match kind {
        Kind::Pipeline => pipeline(registry),
        Kind::Scenario => scenario(),
        Kind::Cluster => cluster(),
    }
}

/// Moves a plugin schema's `$defs` into `defs` under `prefix.`, rewriting refs.
fn hoist(mut schema: Value, prefix: &str, defs: &mut Map<String, Value>) -> Value {
    fn rewrite(v: &mut Value, prefix: &str) {
        match v {
            Value::Object(m) => {
                if let Some(Value::String(r)) = m.get_mut("$ref") {
                    if let Some(name) = r.strip_prefix("#/$defs/") {
                        *r = format!("#/$defs/{prefix}.{name}");
                    }
                }
                m.values_mut().for_each(|x| rewrite(x, prefix));
            }
            Value::Array(a) => a.iter_mut().for_each(|x| rewrite(x, prefix)),
            _ => {}
        }
    }
    rewrite(&mut schema, prefix);
    if let Value::Object(m) = &mut schema {
        m.remove("$schema");
        if let Some(Value::Object(d)) = m.remove("$defs") {
            for (k, v) in d {
                defs.insert(format!("{prefix}.{k}"), v);
            }
        }
    }
    schema
}

fn pipeline(registry: &Registry) -> Value {
    let mut defs = Map::new();
    let mut props = Map::new();
    props.insert("name".into(), json!({"type": "string", "description": "Pipeline name shown in reports."}));
    props.insert("description".into(), json!({"type": "string"}));
    props.insert(
        "plugin_dirs".into(),
        json!({"type": "array", "items": {"type": "string"}, "description": "Directories searched for native plugins named without a library, relative to the pipeline."}),
    );
    for point in [ExtensionPoint::Order, ExtensionPoint::Filter, ExtensionPoint::Score, ExtensionPoint::Rebalance] {
        let mut variants = Vec::new();
        for spec in registry.specs().filter(|s| s.point == point) {
            let args = hoist((spec.args_schema)(), spec.name, &mut defs);
            let mut p = Map::new();
            p.insert("plugin".into(), json!({"const": spec.name, "description": spec.summary}));
            p.insert("args".into(), args);
            if point == ExtensionPoint::Score {
                p.insert("weight".into(), json!({"type": "number", "exclusiveMinimum": 0, "default": 1}));
            }
            variants.push(
                json!({"type": "object", "additionalProperties": false, "required": ["plugin"], "properties": p}),
            );
        }
        // A policy script: its args are whatever the script reads from `ctx.args`.
        let mut script = Map::new();
        script.insert(
            "script".into(),
            json!({"type": "string", "description": "Rhai policy script, relative to the pipeline file."}),
        );
        script.insert("args".into(), json!({"description": "Passed to the script as `ctx.args`."}));
        script.insert(
            "on_error".into(),
            json!({"enum": ["reject-node", "skip-plugin", "fail"], "default": "reject-node"}),
        );
        if point == ExtensionPoint::Score {
            script.insert("weight".into(), json!({"type": "number", "exclusiveMinimum": 0, "default": 1}));
        }
        variants.push(
            json!({"type": "object", "additionalProperties": false, "required": ["script"], "properties": script}),
        );
        // A third-party native plugin: its args are checked by the plugin at load.
        let mut native = Map::new();
        native.insert(
            "native".into(),
            json!({"type": "object", "additionalProperties": false, "required": ["plugin"], "properties": {
                "library": {"type": "string", "description": "Library file, relative to the pipeline; absent: found by plugin name in plugin_dirs and $KAIROS_PLUGIN_PATH."},
                "plugin": {"type": "string", "description": "Plugin name in the library's manifest (`kairos plugins list LIB`)."}
            }}),
        );
        native.insert(
            "args".into(),
            json!({"description": "Checked against the plugin's own schema (`kairos plugins list`)."}),
        );
        native.insert(
            "on_error".into(),
            json!({"enum": ["reject-node", "skip-plugin", "fail"], "default": "reject-node"}),
        );
        if point == ExtensionPoint::Score {
            native.insert("weight".into(), json!({"type": "number", "exclusiveMinimum": 0, "default": 1}));
        }
        variants.push(
            json!({"type": "object", "additionalProperties": false, "required": ["native"], "properties": native}),
        );
        let def = format!("{point}_entry");
        defs.insert(def.clone(), json!({ "oneOf": variants }));
        props.insert(point.as_str().into(), json!({"type": "array", "items": {"$ref": format!("#/$defs/{def}")}}));
    }
    props.insert("architecture".into(), architecture());
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "kairos pipeline",
        "type": "object",
        "additionalProperties": false,
        "properties": props,
        "$defs": defs,
    })
}

/// The `architecture:` mapping (see [`crate::architecture`]).
fn architecture() -> Value {
    let max = crate::architecture::MAX_WORKERS;
    json!({
        "description": "How decisions are coordinated: centralized (default), optimistic (N workers, conflicts resolved at commit), sampled (d random feasible nodes per decision), partitioned (one worker per region or zone, inside budgets a global layer grants).",
        "oneOf": [
            {
                "type": "object", "additionalProperties": false, "required": ["kind"],
                "properties": { "kind": { "const": "centralized" } }
            },
            {
                "type": "object", "additionalProperties": false, "required": ["kind"],
                "properties": {
                    "kind": { "const": "optimistic" },
                    "workers": { "type": "integer", "minimum": 1, "maximum": max, "default": 2 },
                    "conflict": { "enum": ["revalidate", "strict"], "default": "revalidate" }
                }
            },
            {
                "type": "object", "additionalProperties": false, "required": ["kind"],
                "properties": {
                    "kind": { "const": "sampled" },
                    "sample": { "type": "integer", "minimum": 1, "default": crate::architecture::DEFAULT_SAMPLE },
                    "seed": { "type": "integer", "minimum": 0, "default": 0 }
                }
            },
            {
                "type": "object", "additionalProperties": false, "required": ["kind"],
                "properties": {
                    "kind": { "const": "partitioned" },
                    "by": { "enum": ["region", "zone"], "default": "region" },
                    "rebalance_s": {
                        "type": "integer", "minimum": 1, "maximum": 86400,
                        "default": crate::architecture::DEFAULT_REBALANCE_S
                    },
                    "recovery_percent": {
                        "type": "integer", "minimum": 0, "maximum": 100,
                        "default": crate::architecture::DEFAULT_RECOVERY_PERCENT
                    },
                    "lease_s": { "type": "integer", "minimum": 0, "maximum": 604800, "description": "default: 2 × rebalance_s" }
                }
            }
        ]
    })
}

fn scenario() -> Value {
    let passes = serde_json::to_value(schemars::schema_for!(crate::workload::passes::PassOptions)).unwrap_or_default();
    let mut defs = Map::new();
    let passes = hoist(passes, "passes", &mut defs);
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "kairos scenario",
        "type": "object",
        "additionalProperties": false,
        "required": ["pipeline", "cluster", "workload"],
        "properties": {
            "name": {"type": "string"},
            "description": {"type": "string"},
            "pipeline": {"type": "string", "description": "Pipeline file, relative to the scenario."},
            "cluster": {"type": "string", "description": "Cluster file, relative to the scenario."},
            "workload": {
                "type": "object",
                "additionalProperties": false,
                "required": ["path"],
                "properties": {
                    "path": {"type": "string"},
                    "format": {"enum": ["csv", "yaml", "swf", "passes"]},
                    "passes": passes,
                    "swf": {"type": "object"}
                }
            },
            "events": {
                "type": "array",
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["at", "node", "action"],
                    "properties": {
                        "at": {
                            "description": "When: seconds since time 0 of the workload, a time of day (\"10:00\", \"10:00:30\"; hours past 23 run into the next days), or an RFC 3339 timestamp when the workload has a start time (format: passes).",
                            "oneOf": [
                                {"type": "integer", "minimum": 0},
                                {"type": "string", "pattern": "^([0-9]+:[0-5][0-9](:[0-5][0-9])?|[0-9]{4}-.*)$"}
                            ]
                        },
                        "node": {"type": "string"},
                        "action": {"enum": ["fail", "recover"]}
                    }
                }
            }
        },
        "$defs": defs,
    })
}

fn cluster() -> Value {
    let quantities = json!({"type": "object", "additionalProperties": {"type": "integer", "minimum": 0}});
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "kairos cluster",
        "type": "object",
        "additionalProperties": false,
        "required": ["resources", "nodes"],
        "properties": {
            "resources": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "priority_classes": {"type": "object", "additionalProperties": {"type": "integer"}},
            "nodes": {
                "type": "array",
                "minItems": 1,
                "items": {
                    "type": "object",
                    "additionalProperties": false,
                    "required": ["name", "region", "capacity"],
                    "properties": {
                        "name": {"type": "string"},
                        "count": {"type": "integer", "minimum": 1},
                        "region": {"type": "string"},
                        "zone": {"type": "string"},
                        "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                        "taints": {"type": "array", "items": {
                            "type": "object", "additionalProperties": false, "required": ["key"],
                            "properties": {"key": {"type": "string"}, "value": {"type": "string"}, "effect": {"enum": ["NoSchedule", "NoExecute"]}}
                        }},
                        "capacity": quantities,
                        "reserve": quantities
                    }
                }
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pipeline_schema_lists_every_registered_plugin_at_its_point() {
        let r = Registry::builtin();
        let s = schema(Kind::Pipeline, &r);
        let order = s["$defs"]["order_entry"]["oneOf"].as_array().unwrap();
        // Every built-in by name, then one entry for any native plugin.
        let names: Vec<&str> = order.iter().filter_map(|v| v["properties"]["plugin"]["const"].as_str()).collect();
        assert!(order.last().is_some_and(|v| v["properties"].get("native").is_some()));
        assert_eq!(names, r.names(ExtensionPoint::Order));
        let other: Vec<&str> =
            order.iter().filter_map(|v| v["required"][0].as_str()).filter(|&k| k != "plugin").collect();
        assert_eq!(other, ["script", "native"], "a script or a native plugin may stand at every point");
        let text = s.to_string();
        assert!(
            !text.contains("\"#/$defs/") || text.contains("#/$defs/order_entry"),
            "refs point into the hoisted defs"
        );
    }

    #[test]
    fn the_pipeline_schema_lists_every_architecture_kind() {
        let s = schema(Kind::Pipeline, &Registry::builtin());
        let kinds: Vec<&str> = s["properties"]["architecture"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["properties"]["kind"]["const"].as_str().unwrap())
            .collect();
        assert_eq!(kinds, crate::architecture::KINDS);
    }
}
