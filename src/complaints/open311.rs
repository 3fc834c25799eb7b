//! Open311 GeoReport v2: our categories as services, complaints as service requests, in
//! JSON or XML. This file holds the mapping and the XML writer; routes are in http.

use serde::Serialize;
use serde_json::Value;

use super::{Category, Question};

/// Open311 `services` list entry for a category.
#[derive(Debug, Serialize)]
pub struct Service {
    service_code: &'static str,
    service_name: &'static str,
    description: &'static str,
    /// Whether the service has attributes (a definition to fetch).
    metadata: bool,
    #[serde(rename = "type")]
    kind: &'static str,
    keywords: &'static str,
    group: &'static str,
}

pub fn service(c: Category) -> Service {
    Service {
        service_code: c.as_str(),
        service_name: c.name(),
        description: c.description(),
        metadata: !c.questions().is_empty(),
        kind: "realtime",
        keywords: c.keywords(),
        group: c.group(),
    }
}

/// One attribute of a service definition: a category's extra question.
#[derive(Debug, Serialize)]
pub struct Attribute {
    variable: bool,
    code: &'static str,
    datatype: &'static str,
    required: bool,
    /// `null` for free text: the spec lists the key, so it is written either way.
    datatype_description: Option<&'static str>,
    /// From 1.
    order: usize,
    description: &'static str,
    values: Vec<AttributeValue>,
}

/// An allowed answer of a `singlevaluelist` attribute.
#[derive(Debug, Serialize)]
pub struct AttributeValue {
    key: &'static str,
    name: &'static str,
}

fn attribute(order: usize, q: &Question) -> Attribute {
    let list = !q.values.is_empty();
    Attribute {
        variable: true,
        code: q.code,
        datatype: if list { "singlevaluelist" } else { "string" },
        required: q.required,
        datatype_description: list.then_some("Pick one key"),
        order: order + 1,
        description: q.description,
        values: q
            .values
            .iter()
            .map(|&(key, name)| AttributeValue { key, name })
            .collect(),
    }
}

/// Open311 service definition (`services/{code}`).
#[derive(Debug, Serialize)]
pub struct Definition {
    service_code: &'static str,
    attributes: Vec<Attribute>,
}

pub fn definition(c: Category) -> Definition {
    Definition {
        service_code: c.as_str(),
        attributes: c
            .questions()
            .iter()
            .enumerate()
            .map(|(i, q)| attribute(i, q))
            .collect(),
    }
}

/// The element name of one item of a list element.
fn singular(list: &str) -> &str {
    match list {
        "services" => "service",
        "attributes" => "attribute",
        "values" => "value",
        "endpoints" => "endpoint",
        "formats" => "format",
        "service_requests" => "request",
        "errors" => "error",
        other => other,
    }
}

/// Escapes text for XML (and HTML), dropping what XML 1.0 cannot carry.
pub fn escape(s: &str, out: &mut String) {
    for ch in s.chars() {
        match ch {
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '&' => out.push_str("&amp;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters, nor U+FFFE and U+FFFF, at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {}
            '\u{fffe}' | '\u{ffff}' => {}
            c => out.push(c),
        }
    }
}

/// An element name as XML allows it: our keys are, but a map's keys could come from
/// outside, so anything else becomes `_`.
fn xml_name(name: &str) -> std::borrow::Cow<'_, str> {
    let ok = |i: usize, c: char| {
        c.is_ascii_alphabetic()
            || c == '_'
            || (i > 0 && (c.is_ascii_digit() || c == '-' || c == '.'))
    };
    if !name.is_empty() && name.chars().enumerate().all(|(i, c)| ok(i, c)) {
        return name.into();
    }
    let fixed: String = name
        .chars()
        .enumerate()
        .map(|(i, c)| if ok(i, c) { c } else { '_' })
        .collect();
    if fixed.is_empty() {
        "_".into()
    } else {
        fixed.into()
    }
}

fn element(name: &str, v: &Value, out: &mut String) {
    let name = &*xml_name(name);
    match v {
        Value::Null => {
            out.push('<');
            out.push_str(name);
            out.push_str("/>");
        }
        Value::Object(m) => {
            out.push_str(&format!("<{name}>"));
            for (k, child) in m {
                element(k, child, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::Array(items) => {
            out.push_str(&format!("<{name}>"));
            for item in items {
                element(singular(name), item, out);
            }
            out.push_str(&format!("</{name}>"));
        }
        Value::String(s) => {
            out.push_str(&format!("<{name}>"));
            escape(s, out);
            out.push_str(&format!("</{name}>"));
        }
        other => out.push_str(&format!("<{name}>{other}</{name}>")),
    }
}

/// An XML document whose root element is `root` holding `v` (a list becomes repeated
/// items named by [`singular`]).
pub fn to_xml(root: &str, v: &Value) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>");
    element(root, v, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn xml_lists_and_escaping() {
        let v =
            json!([{"service_code": "a&b", "keywords": "<x>", "metadata": true, "group": null}]);
        assert_eq!(
            to_xml("services", &v),
            "<?xml version=\"1.0\" encoding=\"utf-8\"?><services><service><service_code>a&amp;b</service_code><keywords>&lt;x&gt;</keywords><metadata>true</metadata><group/></service></services>"
        );
    }

    #[test]
    fn every_category_is_a_service_with_its_questions() {
        for c in Category::ALL {
            let s = serde_json::to_value(service(*c)).unwrap();
            assert_eq!(s["service_code"], c.as_str());
            assert_eq!(s["metadata"], !c.questions().is_empty());
            let d = serde_json::to_value(definition(*c)).unwrap();
            assert_eq!(
                d["attributes"].as_array().unwrap().len(),
                c.questions().len()
            );
        }
    }
}
