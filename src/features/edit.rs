//! Editing features as JSON: RFC 7396 merge patches, and an asset as the Feature an
//! edit starts from (its recorded properties only).

use serde_json::{Map, Value};

use geo::MapCoords;

use crate::features::crs::Crs;
use crate::import::{self, ImportOptions, Reprojector};
use crate::model::{Asset, Layer, NewAsset};

/// RFC 7396: `patch` merged into `target` (objects member by member, `null` removes,
/// anything else replaces).
pub fn merge_patch(target: &mut Value, patch: &Value) {
    let Value::Object(p) = patch else {
        *target = patch.clone();
        return;
    };
    if !target.is_object() {
        *target = Value::Object(Map::new());
    }
    if let Value::Object(t) = target {
        for (k, v) in p {
            if v.is_null() {
                t.remove(k);
            } else {
                merge_patch(t.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
    }
}

/// The stored state of an asset as a Feature a patch applies to: its recorded
/// properties only (no computed ward, area, timestamps or version).
pub fn editable_feature(a: &Asset) -> Value {
    let mut f = crate::features::feature(a, &[]);
    if let Some(Value::Object(p)) = f.get_mut("properties") {
        // What an import ignores, and the note that a ward was found from the location.
        for k in import::SERVER_MANAGED.iter().chain(&["ward_source"]) {
            p.remove(*k);
        }
        if a.ward_from_location {
            p.remove("ward");
        }
    }
    if let Some(o) = f.as_object_mut() {
        o.remove("id");
    }
    f
}

/// A Feature body into the asset it describes: the import's own checks (positions,
/// rings, vertex cap, kinds per layer, property types), coordinates taken from `crs`.
pub fn new_asset(o: Map<String, Value>, layer: Layer, crs: &Crs) -> Result<NewAsset, String> {
    match o.get("type").and_then(Value::as_str) {
        Some("Feature") => {}
        _ => return Err("the body must be a GeoJSON Feature (\"type\": \"Feature\")".into()),
    }
    let reason = |e: import::ImportError| match e {
        import::ImportError::Feature { reason, .. } => reason,
        e => e.to_string(),
    };
    let mut raw = import::raw_feature(Value::Object(o)).map_err(reason)?;
    if !crs.is_crs84() {
        raw.geometry = raw
            .geometry
            .try_map_coords(|c| crs.inverse(c))
            .map_err(|e| format!("the geometry cannot be taken from {}: {e}", crs.uri))?;
    }
    import::to_new_asset(raw, &Reprojector::wgs84(), &ImportOptions::new(layer)).map_err(reason)
}

/// The longest note an edit, restore or decision may carry, in characters.
pub const NOTE_MAX_CHARS: usize = 2_000;

/// A note as kept: trimmed, `None` when empty; longer than [`NOTE_MAX_CHARS`] is refused.
pub fn note(s: Option<&str>) -> Result<Option<String>, String> {
    match s.map(str::trim) {
        Some(n) if n.chars().count() > NOTE_MAX_CHARS => {
            Err(format!("a note is at most {NOTE_MAX_CHARS} characters"))
        }
        Some(n) if !n.is_empty() => Ok(Some(n.to_string())),
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::merge_patch;
    use serde_json::json;

    /// The examples of RFC 7396, appendix A.
    #[test]
    fn rfc7396_examples() {
        let cases = [
            (json!({"a":"b"}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"b"}), json!({"b":"c"}), json!({"a":"b","b":"c"})),
            (json!({"a":"b"}), json!({"a":null}), json!({})),
            (
                json!({"a":"b","b":"c"}),
                json!({"a":null}),
                json!({"b":"c"}),
            ),
            (json!({"a":["b"]}), json!({"a":"c"}), json!({"a":"c"})),
            (json!({"a":"c"}), json!({"a":["b"]}), json!({"a":["b"]})),
            (
                json!({"a":{"b":"c"}}),
                json!({"a":{"b":"d","c":null}}),
                json!({"a":{"b":"d"}}),
            ),
            (json!({"a":[{"b":"c"}]}), json!({"a":[1]}), json!({"a":[1]})),
            (json!(["a", "b"]), json!(["c", "d"]), json!(["c", "d"])),
            (json!({"a":"b"}), json!(["c"]), json!(["c"])),
            (json!({"a":"foo"}), json!(null), json!(null)),
            (json!({"a":"foo"}), json!("bar"), json!("bar")),
            (json!({"e":null}), json!({"a":1}), json!({"e":null,"a":1})),
            (json!([1, 2]), json!({"a":"b","c":null}), json!({"a":"b"})),
            (
                json!({}),
                json!({"a":{"bb":{"ccc":null}}}),
                json!({"a":{"bb":{}}}),
            ),
        ];
        for (target, patch, want) in cases {
            let mut t = target.clone();
            merge_patch(&mut t, &patch);
            assert_eq!(t, want, "{target} + {patch}");
        }
    }
}
