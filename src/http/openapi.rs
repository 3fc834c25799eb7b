//! The OpenAPI 3.0 definition served at `/api` (OGC API - Features' `service-desc`):
//! every public path with its parameters and what it answers. Validated in CI with
//! `openapi-spec-validator`, and every path it lists is requested there.

use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};

use super::AppState;
use crate::features::{crs, Collection, MAX_LIMIT};

/// The OpenAPI 3.0 media type OGC API - Features names for `service-desc`.
pub const OPENAPI: &str = "application/vnd.oai.openapi+json;version=3.0";

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api", get(api))
        .route("/api.html", get(api_html))
}

async fn api(super::BaseUrl(base): super::BaseUrl) -> Response {
    let doc = super::openapi::document(&base);
    ([(header::CONTENT_TYPE, OPENAPI)], doc.to_string()).into_response()
}

async fn api_html(super::BaseUrl(base): super::BaseUrl) -> Response {
    let doc = super::openapi::document(&base);
    let mut html = String::from("<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>heritage-atlas API</title></head><body><h1>heritage-atlas API</h1><p>The machine-readable definition is at <a href=\"/api\">/api</a> (OpenAPI 3.0).</p><ul>");
    if let Some(paths) = doc["paths"].as_object() {
        for (p, ops) in paths {
            if let Some(ops) = ops.as_object() {
                for (method, op) in ops {
                    let summary = op["summary"].as_str().unwrap_or("");
                    html.push_str(&format!(
                        "<li><code>{} {}</code> — {}</li>",
                        method.to_uppercase(),
                        escape(p),
                        escape(summary)
                    ));
                }
            }
        }
    }
    html.push_str("</ul></body></html>");
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// Every layer's collection id (for the document's enum).
fn collection_ids() -> Vec<&'static str> {
    Collection::ALL.iter().map(|c| c.id()).collect()
}

fn param(name: &str, place: &str, description: &str, schema: Value, required: bool) -> Value {
    json!({"name": name, "in": place, "description": description, "required": required, "schema": schema, "style": "form", "explode": false})
}

fn ok(description: &str, types: &[&str]) -> Value {
    let content: serde_json::Map<String, Value> = types
        .iter()
        .map(|t| {
            (
                (*t).to_string(),
                json!({"schema": {"type": if t.contains("json") { "object" } else { "string" }}}),
            )
        })
        .collect();
    json!({"description": description, "content": content})
}

fn errors() -> Value {
    json!({"$ref": "#/components/responses/Error"})
}

/// The document, with `base` as the server URL.
pub fn document(base: &str) -> Value {
    let collection_id = json!({"$ref": "#/components/parameters/collectionId"});
    let f_json = param(
        "f",
        "query",
        "Response format",
        json!({"type": "string", "enum": ["json"]}),
        false,
    );
    let staff = json!([{"staff": []}]);
    let as_of = param(
        "as_of",
        "query",
        "The register as it stood then: a date (the end of that day in Kolkata) or an RFC 3339 date-time",
        json!({"type": "string"}),
        false,
    );
    let if_match = json!({"name": "If-Match", "in": "header", "required": true, "description": "The ETag of the version the edit is made against (428 without it, 412 when another edit came first)", "schema": {"type": "string"}});
    let content_crs = json!({"name": "Content-Crs", "in": "header", "required": false, "description": "CRS of the body's coordinates, as <URI> (default CRS84)", "schema": {"type": "string", "enum": crs::supported().iter().map(|c| format!("<{c}>")).collect::<Vec<_>>()}});
    let feature_body = json!({"required": true, "content": {"application/geo+json": {"schema": {"type": "object", "required": ["type", "geometry", "properties"], "properties": {"type": {"type": "string", "enum": ["Feature"]}, "geometry": {"type": "object"}, "properties": {"type": "object"}, "note": {"type": "string", "description": "Why (kept with the version)"}}}}}});
    let edit_responses = json!({"200": ok("The feature as stored; its new ETag", &["application/geo+json"]), "202": ok("A proposal, for an officer to decide (field staff)", &["application/json"]), "400": errors(), "401": errors(), "403": errors(), "404": errors(), "412": ok("Another edit came first: the current version, with its ETag", &["application/json"]), "413": errors(), "415": errors(), "428": errors()});
    let mut doc = json!({
        "openapi": "3.0.3",
        "info": {
            "title": "heritage-atlas",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Kolkata Municipal Corporation Environment & Heritage register: OGC API - Features (Parts 1, 2, 3 with CQL2 text, and 4: create, replace, update, delete), every version of every asset, vector tiles, complaints and Open311 GeoReport v2.",
            "license": {"name": "Apache-2.0"},
        },
        "servers": [{"url": base}],
        "components": {
            "parameters": {
                "collectionId": {"name": "collectionId", "in": "path", "required": true, "description": "Collection", "schema": {"type": "string", "enum": collection_ids()}},
                "featureId": {"name": "featureId", "in": "path", "required": true, "description": "Feature id (asset id or code; complaint ticket)", "schema": {"type": "string"}},
            },
            "securitySchemes": {
                "staff": {"type": "http", "scheme": "bearer", "description": "Token from POST /auth/login"},
                "applicant": {"type": "http", "scheme": "bearer", "description": "Token (ap_…) from POST /applicants/session, after a one-time code"},
                "optoutLink": {"type": "apiKey", "in": "query", "name": "t", "description": "The token in the stop-messages link of a message to a reporter"},
            },
            "responses": {
                "Error": {"description": "A client error", "content": {"application/json": {"schema": {"type": "object", "required": ["code", "description"], "properties": {"code": {"type": "string"}, "description": {"type": "string"}}}}}},
            },
        },
        "paths": {
            "/": {"get": {"summary": "Landing page (JSON with Accept: application/json or f=json; the map otherwise)", "operationId": "landing", "parameters": [param("f", "query", "json or html", json!({"type": "string", "enum": ["json", "html"]}), false)], "responses": {"200": ok("Landing page", &["application/json", "text/html"]), "400": errors()}}},
            "/conformance": {"get": {"summary": "Conformance classes", "operationId": "conformance", "parameters": [f_json.clone()], "responses": {"200": ok("Conformance declaration", &["application/json"]), "400": errors()}}},
            "/api": {"get": {"summary": "This OpenAPI definition", "operationId": "api", "responses": {"200": ok("OpenAPI 3.0", &["application/vnd.oai.openapi+json;version=3.0"])}}},
            "/collections": {"get": {"summary": "Collections", "operationId": "collections", "parameters": [f_json.clone()], "responses": {"200": ok("Collections", &["application/json"]), "400": errors()}}},
            "/collections/{collectionId}": {"get": {"summary": "One collection", "operationId": "collection", "parameters": [collection_id.clone(), f_json.clone()], "responses": {"200": ok("Collection", &["application/json"]), "404": errors()}}},
            "/collections/{collectionId}/queryables": {"get": {"summary": "Queryable properties", "operationId": "queryables", "parameters": [collection_id.clone()], "responses": {"200": ok("JSON Schema of the queryables", &["application/schema+json"]), "404": errors()}}},
            "/collections/{collectionId}/items": {"get": {
                "summary": "Items: GeoJSON pages, or whole downloads as FlatGeobuf, CSV or GeoJSON",
                "operationId": "items",
                "parameters": [
                    collection_id.clone(),
                    param("bbox", "query", "minLon,minLat,maxLon,maxLat (or 6 numbers), in bbox-crs", json!({"type": "array", "minItems": 4, "maxItems": 6, "items": {"type": "number"}}), false),
                    param("bbox-crs", "query", "CRS of bbox", json!({"type": "string", "enum": crs::supported()}), false),
                    param("crs", "query", "CRS of the returned geometries", json!({"type": "string", "enum": crs::supported()}), false),
                    param("limit", "query", "Page size (default 10; larger than 10,000 is clamped; downloads without it are whole)", json!({"type": "integer", "minimum": 0, "default": 10, "maximum": MAX_LIMIT}), false),
                    param("offset", "query", "Items to skip", json!({"type": "integer", "minimum": 0, "default": 0}), false),
                    param("datetime", "query", "updated_at instant or interval (start/end, .. open)", json!({"type": "string"}), false),
                    param("filter", "query", "CQL2 text filter", json!({"type": "string"}), false),
                    param("filter-lang", "query", "Filter language", json!({"type": "string", "enum": ["cql2-text"]}), false),
                    param("f", "query", "Format: json (paged), fgb or csv (whole selection)", json!({"type": "string", "enum": ["json", "fgb", "csv"]}), false),
                    param("download", "query", "With f=json: the whole selection as an attachment", json!({"type": "boolean"}), false),
                    as_of.clone(),
                ],
                "responses": {"200": ok("Features", &["application/geo+json", "application/flatgeobuf", "text/csv"]), "400": errors(), "404": errors()},
            }, "post": {"summary": "Add a feature (OGC API - Features Part 4; officers and admins, field staff propose)", "operationId": "createItem", "security": staff.clone(), "parameters": [collection_id.clone(), content_crs.clone()], "requestBody": feature_body.clone(), "responses": {"201": ok("The feature as stored; Location and ETag", &["application/geo+json"]), "202": ok("A proposal, for an officer to decide (field staff)", &["application/json"]), "400": errors(), "401": errors(), "403": errors(), "409": errors(), "413": errors(), "415": errors()}}},
            "/collections/{collectionId}/items/{featureId}": {
                "get": {"summary": "One feature (its ETag names its version)", "operationId": "item", "parameters": [collection_id.clone(), {"$ref": "#/components/parameters/featureId"}, param("crs", "query", "CRS of the geometry", json!({"type": "string", "enum": crs::supported()}), false), as_of.clone()], "responses": {"200": ok("Feature", &["application/geo+json"]), "304": {"description": "Not modified"}, "404": errors()}},
                "put": {"summary": "Replace a feature (Part 4; officers and admins, field staff propose)", "operationId": "replaceItem", "security": staff.clone(), "parameters": [collection_id.clone(), {"$ref": "#/components/parameters/featureId"}, if_match.clone(), content_crs.clone()], "requestBody": feature_body.clone(), "responses": edit_responses.clone()},
                "patch": {"summary": "Update a feature with a JSON Merge Patch, RFC 7396 (Part 4)", "operationId": "updateItem", "security": staff.clone(), "parameters": [collection_id.clone(), {"$ref": "#/components/parameters/featureId"}, if_match.clone(), content_crs.clone()], "requestBody": {"required": true, "content": {"application/merge-patch+json": {"schema": {"type": "object"}}}}, "responses": edit_responses.clone()},
                "delete": {"summary": "Delist a feature: it leaves the map, queries, tiles and downloads; its history stays (Part 4)", "operationId": "deleteItem", "security": staff.clone(), "parameters": [collection_id, {"$ref": "#/components/parameters/featureId"}, if_match, param("reason", "query", "Why it is delisted", json!({"type": "string", "maxLength": 500}), true)], "responses": {"204": {"description": "Delisted"}, "202": ok("A proposal, for an officer to decide (field staff)", &["application/json"]), "400": errors(), "401": errors(), "403": errors(), "404": errors(), "412": errors(), "428": errors()}},
            },
            "/nearby": {"get": {"summary": "Assets nearest a point, with distances", "operationId": "nearby", "parameters": [
                param("lon", "query", "Longitude", json!({"type": "number", "minimum": -180, "maximum": 180}), true),
                param("lat", "query", "Latitude", json!({"type": "number", "minimum": -90, "maximum": 90}), true),
                param("radius_m", "query", "Search radius, metres", json!({"type": "number", "minimum": 0, "maximum": 100000}), false),
                param("limit", "query", "How many", json!({"type": "integer", "minimum": 1, "maximum": 500}), false),
                param("layers", "query", "Comma-separated layers", json!({"type": "string"}), false),
            ], "responses": {"200": ok("FeatureCollection, nearest first", &["application/json"]), "400": errors()}}},
            "/at": {"get": {"summary": "What contains a point", "operationId": "at", "parameters": [
                param("lon", "query", "Longitude", json!({"type": "number", "minimum": -180, "maximum": 180}), true),
                param("lat", "query", "Latitude", json!({"type": "number", "minimum": -90, "maximum": 90}), true),
            ], "responses": {"200": ok("Ward, water bodies, parks, heritage at the point", &["application/json"]), "400": errors()}}},
            "/search": {"get": {"summary": "Name search, English and Bengali", "operationId": "search", "parameters": [
                param("q", "query", "Text", json!({"type": "string"}), true),
                param("limit", "query", "How many", json!({"type": "integer", "minimum": 1, "maximum": 100}), false),
                param("layers", "query", "Comma-separated layers", json!({"type": "string"}), false),
            ], "responses": {"200": ok("Matches (a FeatureCollection)", &["application/json"]), "400": errors()}}},
            "/health": {"get": {"summary": "Liveness and counts", "operationId": "health", "responses": {"200": ok("Status", &["application/json"])}}},
            "/health/ready": {"get": {"summary": "Readiness: the index loaded and, for a replica following the change feed, the feed read to its end within the last few ticks (docs/deploy.md); 503 with Retry-After while catching up", "operationId": "healthReady", "responses": {"200": ok("Ready", &["application/json"]), "503": ok("Catching up", &["application/json"])}}},
            "/open311/v2/services.json": {"get": {"summary": "Open311 GeoReport v2 services (our complaint categories)", "operationId": "open311Services", "responses": {"200": ok("Services", &["application/json"])}}},
            "/open311/v2/requests.json": {"get": {"summary": "Open311 service requests (public fields)", "operationId": "open311Requests", "responses": {"200": ok("Requests", &["application/json"]), "400": errors()}}},
            "/tiles/{layers}.json": {"get": {"summary": "TileJSON 3.0 for comma-joined layers", "operationId": "tilejson", "parameters": [{"name": "layers", "in": "path", "required": true, "schema": {"type": "string", "example": "heritage,water_bodies,parks,wards"}}], "responses": {"200": ok("TileJSON", &["application/json"]), "404": errors()}}},
        },
    });
    if let Some(paths) = doc.get_mut("paths").and_then(Value::as_object_mut) {
        paths.extend(record_paths());
        paths.extend(complaint_paths());
        paths.extend(application_paths());
        paths.extend(case_paths());
    }
    doc
}

/// An asset's record and history, documents, and the staff list.
fn record_paths() -> serde_json::Map<String, Value> {
    let path_param = |name: &str, description: &str, schema: Value| json!({"name": name, "in": "path", "required": true, "description": description, "schema": schema});
    let asset_id = path_param(
        "id",
        "Asset code (HER-0001) or numeric id",
        json!({"type": "string", "example": "HER-0001"}),
    );
    let staff = json!([{"staff": []}]);
    let json_body = |schema: Value| json!({"required": true, "content": {"application/json": {"schema": schema}}});
    let created = |d: &str| ok(d, &["application/json"]);
    let inspection = json!({"type": "object", "required": ["condition"], "additionalProperties": false, "properties": {
        "condition": {"type": "string", "enum": ["good", "fair", "poor", "critical", "unknown"]},
        "inspected_at": {"type": "string", "description": "YYYY-MM-DD or RFC 3339; default now"},
        "notes": {"type": "string", "maxLength": crate::history::MAX_TEXT},
    }});
    let maintenance = json!({"type": "object", "required": ["description"], "additionalProperties": false, "properties": {
        "description": {"type": "string"},
        "started_on": {"type": "string", "format": "date"},
        "completed_on": {"type": "string", "format": "date"},
        "contractor": {"type": "string"},
        "cost_inr": {"type": "integer", "minimum": 0},
    }});
    let upload = json!({"required": true, "content": {"multipart/form-data": {"schema": {"type": "object", "required": ["file", "title"], "properties": {
        "file": {"type": "string", "format": "binary", "description": "PDF, JPEG, PNG or WebP"},
        "title": {"type": "string"},
        "type": {"type": "string", "enum": ["notice", "order", "noc", "minutes", "survey", "inspection_report", "photograph", "other"], "default": "other"},
        "reference": {"type": "string"},
        "issuer": {"type": "string"},
        "issued_on": {"type": "string", "format": "date"},
        "valid_until": {"type": "string", "format": "date"},
        "language": {"type": "string", "enum": ["bn", "en", "bn+en"]},
        "ward": {"type": "integer", "minimum": 1},
        "assets": {"type": "string", "description": "Asset codes, separated by commas"},
        "public": {"type": "boolean", "default": true},
    }}}}});
    let sha_param = path_param(
        "sha256",
        "64 hex digits",
        json!({"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}),
    );
    let paths = json!({
        "/assets/{id}": {"get": {"summary": "An asset's whole record: properties, inspections, maintenance, public documents (410 with when and why, once delisted)", "operationId": "asset", "parameters": [asset_id.clone(), param("as_of", "query", "The record as it stood then: a date or an RFC 3339 date-time", json!({"type": "string"}), false)], "responses": {"200": ok("Feature with its history", &["application/json"]), "404": errors(), "410": ok("Delisted: the record as it was, with when and why", &["application/json"])}}},
        "/assets/{id}/versions": {"get": {"summary": "Every version of an asset: who, when, why, its audit entry", "operationId": "assetVersions", "parameters": [asset_id.clone()], "responses": {"200": ok("Versions, oldest first", &["application/json"]), "404": errors()}}},
        "/assets/{id}/versions/{n}": {"get": {"summary": "An asset as version n left it", "operationId": "assetVersion", "parameters": [asset_id.clone(), path_param("n", "Version number", json!({"type": "integer", "minimum": 1}))], "responses": {"200": ok("Feature with the version's record", &["application/json"]), "404": errors()}}},
        "/assets/{id}/versions/{n}/restore": {"post": {"summary": "Make version n the asset's state again, as a new version (officers, admins)", "operationId": "restoreVersion", "security": staff.clone(), "parameters": [asset_id.clone(), path_param("n", "Version number", json!({"type": "integer", "minimum": 1})), {"name": "If-Match", "in": "header", "required": true, "schema": {"type": "string"}}], "responses": {"200": ok("The asset as restored", &["application/json"]), "401": errors(), "403": errors(), "404": errors(), "412": errors(), "428": errors()}}},
        "/assets/{id}/diff": {"get": {"summary": "What changed between two versions: properties before and after, geometry, area", "operationId": "assetDiff", "parameters": [asset_id.clone(), param("from", "query", "Version", json!({"type": "integer", "minimum": 1}), true), param("to", "query", "Version (default: the current one)", json!({"type": "integer", "minimum": 1}), false)], "responses": {"200": ok("Diff", &["application/json"]), "400": errors(), "404": errors()}}},
        "/assets/{id}/inspections": {"post": {"summary": "Record an inspection (staff; field staff in their ward). Its condition becomes the asset's unless a later one is on record", "operationId": "addInspection", "security": staff.clone(), "parameters": [asset_id.clone()], "requestBody": json_body(inspection), "responses": {"201": created("The inspection's id and the asset"), "400": errors(), "401": errors(), "403": errors(), "404": errors()}}},
        "/assets/{id}/maintenance": {"post": {"summary": "Record a maintenance work (staff; field staff in their ward)", "operationId": "addMaintenance", "security": staff.clone(), "parameters": [asset_id.clone()], "requestBody": json_body(maintenance), "responses": {"201": created("The work's id and the asset"), "400": errors(), "401": errors(), "403": errors(), "404": errors()}}},
        "/assets/{id}/documents": {"post": {"summary": "Put a document on record (officers, admins)", "operationId": "addDocument", "security": staff.clone(), "parameters": [asset_id], "requestBody": upload, "responses": {"201": created("The document's record"), "400": errors(), "401": errors(), "403": errors(), "409": errors(), "413": errors(), "415": errors()}}},
        "/documents": {
            "get": {"summary": "Find documents by words in their text, title or reference (English and Bengali; \"phrases\", prefix*, -exclusions; ranked, with highlighted snippets) and by metadata; private ones for staff only", "operationId": "findDocuments", "parameters": [
                param("q", "query", "Words", json!({"type": "string", "maxLength": 300}), false),
                param("type", "query", "Document type", json!({"type": "string", "enum": ["notice", "order", "noc", "minutes", "survey", "inspection_report", "photograph", "other"]}), false),
                param("asset", "query", "An asset code the document concerns", json!({"type": "string"}), false),
                param("ward", "query", "Ward (the document's own, or an asset's it concerns)", json!({"type": "integer"}), false),
                param("from", "query", "Issued on or after", json!({"type": "string", "format": "date"}), false),
                param("to", "query", "Issued on or before", json!({"type": "string", "format": "date"}), false),
                param("status", "query", "current, superseded or revoked", json!({"type": "string", "enum": ["current", "superseded", "revoked"]}), false),
                param("language", "query", "bn, en or bn+en", json!({"type": "string", "enum": ["bn", "en", "bn+en"]}), false),
                param("limit", "query", "At most this many", json!({"type": "integer", "minimum": 1, "maximum": 100, "default": 20}), false),
                param("offset", "query", "Skip this many", json!({"type": "integer", "minimum": 0, "maximum": 10000, "default": 0}), false),
            ], "responses": {"200": ok("Documents found, with numberMatched and paging links", &["application/json"]), "400": errors()}},
            "post": {"summary": "Put a document on record with its metadata (officers, admins); its text is read in the background", "operationId": "putDocument", "security": staff.clone(), "requestBody": upload.clone(), "responses": {"201": created("The document's record"), "400": errors(), "401": errors(), "403": errors(), "409": errors(), "413": errors(), "415": errors()}},
        },
        "/documents/jobs": {"get": {"summary": "Text jobs by state (staff)", "operationId": "documentJobs", "security": staff.clone(), "responses": {"200": ok("Counts", &["application/json"]), "401": errors()}}},
        "/documents/{sha256}/record": {
            "get": {"summary": "A document's record (ETag \"doc.N\")", "operationId": "documentRecord", "parameters": [sha_param.clone()], "responses": {"200": ok("The record", &["application/json"]), "404": errors()}},
            "patch": {"summary": "Change the record: a JSON merge patch of its fields, with an optional note (officers, admins); If-Match refuses a stale change", "operationId": "changeDocument", "security": staff.clone(), "parameters": [sha_param.clone(), {"name": "If-Match", "in": "header", "required": false, "schema": {"type": "string"}}], "requestBody": json_body(json!({"type": "object"})), "responses": {"200": ok("The record as changed", &["application/json"]), "400": errors(), "401": errors(), "403": errors(), "404": errors(), "412": errors()}},
        },
        "/documents/{sha256}/status": {"post": {"summary": "Mark a document current, superseded (by another on record) or revoked, with a reason (officers, admins)", "operationId": "documentStatus", "security": staff.clone(), "parameters": [sha_param.clone()], "requestBody": json_body(json!({"type": "object", "required": ["status"], "properties": {"status": {"type": "string", "enum": ["current", "superseded", "revoked"]}, "reason": {"type": "string"}, "superseded_by": {"type": "string"}}})), "responses": {"200": ok("The record", &["application/json"]), "400": errors(), "401": errors(), "403": errors(), "404": errors(), "412": errors()}}},
        "/documents/{sha256}/versions": {"get": {"summary": "Every version of a document's record (staff)", "operationId": "documentVersions", "security": staff.clone(), "parameters": [sha_param.clone()], "responses": {"200": ok("Versions, oldest first", &["application/json"]), "401": errors(), "404": errors()}}},
        "/documents/{sha256}/text": {"get": {"summary": "The document's text as read and indexed", "operationId": "documentText", "parameters": [sha_param.clone()], "responses": {"200": ok("Text", &["text/plain"]), "404": errors()}}},
        "/documents/{sha256}/stamped.pdf": {"get": {"summary": "A copy with a QR code of its verification page and a verification line on every page (the same bytes every time)", "operationId": "stampedDocument", "parameters": [sha_param.clone()], "responses": {"200": ok("PDF", &["application/pdf"]), "304": {"description": "Not modified"}, "404": errors(), "415": errors()}}},
        "/documents/{sha256}/qr.svg": {"get": {"summary": "The QR code of the document's verification page", "operationId": "documentQr", "parameters": [sha_param.clone()], "responses": {"200": ok("SVG", &["image/svg+xml"]), "404": errors()}}},
        "/verify/{sha256}": {"get": {"summary": "The verification page (HTML), or with Accept: application/json or f=json what is on record: title, type, reference, issuer, date, assets, status", "operationId": "verifyPage", "parameters": [sha_param.clone(), param("f", "query", "json or html", json!({"type": "string", "enum": ["json", "html"]}), false)], "responses": {"200": ok("Page or facts", &["text/html", "application/json"]), "404": errors()}}},
        "/documents/{sha256}": {"get": {"summary": "A public document's bytes, by the SHA-256 of its bytes", "operationId": "document", "parameters": [path_param("sha256", "64 hex digits", json!({"type": "string", "pattern": "^[0-9a-fA-F]{64}$"}))], "responses": {"200": ok("The document", &["application/pdf", "image/jpeg", "image/png", "image/webp"]), "304": {"description": "Not modified"}, "404": errors()}}},
        "/documents/verify": {"post": {"summary": "Is this copy (or this SHA-256) the one on record?", "operationId": "verifyDocument", "requestBody": {"required": true, "content": {
            "application/octet-stream": {"schema": {"type": "string", "format": "binary"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {"file": {"type": "string", "format": "binary"}}}},
            "application/json": {"schema": {"type": "object", "required": ["sha256"], "properties": {"sha256": {"type": "string"}}}},
        }}, "responses": {"200": ok("on_record, and what the record says", &["application/json"]), "400": errors(), "413": errors()}}},
        "/audit": {"get": {"summary": "The audit trail of staff changes, oldest first, each entry hash-chained to the one before (public entries; staff see all)", "operationId": "audit", "parameters": [
            param("subject", "query", "An asset code or complaint ticket", json!({"type": "string"}), false),
            param("after", "query", "Entries after this sequence number", json!({"type": "integer", "minimum": 0}), false),
            param("limit", "query", "At most this many", json!({"type": "integer", "minimum": 1, "maximum": 1000, "default": 100}), false),
        ], "responses": {"200": ok("Entries", &["application/json"]), "400": errors()}}},
        "/metrics": {"get": {"summary": "Prometheus metrics: requests and latency per route, tile cache, register size, complaints by status", "operationId": "metrics", "responses": {"200": ok("Text exposition format 0.0.4", &["text/plain"])}}},
        "/watch": {"get": {"summary": "The water-body watch: water bodies that lost more than the set share of their first recorded area, or are filled or encroached; area lost, versions, complaints", "operationId": "watch", "parameters": [param("ward", "query", "Only this ward", json!({"type": "integer"}), false)], "responses": {"200": ok("Flagged water bodies", &["application/json"]), "400": errors()}}},
        "/proposals": {"get": {"summary": "Proposed changes to the register (staff: officers all, field staff their own)", "operationId": "proposals", "security": staff.clone(), "parameters": [param("status", "query", "pending, approved or rejected", json!({"type": "string", "enum": ["pending", "approved", "rejected"]}), false), param("ward", "query", "Ward", json!({"type": "integer"}), false), param("limit", "query", "At most this many", json!({"type": "integer", "minimum": 1, "maximum": 1000}), false)], "responses": {"200": ok("Proposals, newest first", &["application/json"]), "401": errors()}}},
        "/proposals/{id}": {"get": {"summary": "A proposal with both outlines, the property diff and the area change", "operationId": "proposal", "security": staff.clone(), "parameters": [path_param("id", "Proposal id", json!({"type": "integer"}))], "responses": {"200": ok("Proposal", &["application/json"]), "401": errors(), "404": errors()}}},
        "/proposals/{id}/approve": {"post": {"summary": "Approve: the change is written with the approval (officers, admins); 409 if the asset changed since", "operationId": "approveProposal", "security": staff.clone(), "parameters": [path_param("id", "Proposal id", json!({"type": "integer"}))], "responses": {"200": ok("The asset as written", &["application/json"]), "401": errors(), "403": errors(), "404": errors(), "409": errors()}}},
        "/proposals/{id}/reject": {"post": {"summary": "Reject, with a note (officers, admins)", "operationId": "rejectProposal", "security": staff.clone(), "parameters": [path_param("id", "Proposal id", json!({"type": "integer"}))], "requestBody": json_body(json!({"type": "object", "required": ["note"], "properties": {"note": {"type": "string"}}})), "responses": {"200": ok("The proposal", &["application/json"]), "400": errors(), "401": errors(), "403": errors(), "409": errors()}}},
        "/proposals/{id}/rebase": {"post": {"summary": "Apply an update's patch again on the asset's current version, if they touch different fields", "operationId": "rebaseProposal", "security": staff.clone(), "parameters": [path_param("id", "Proposal id", json!({"type": "integer"}))], "responses": {"200": ok("The proposal", &["application/json"]), "401": errors(), "403": errors(), "409": errors()}}},
        "/audit/verify": {"get": {"summary": "Re-compute the whole chain: ok, entry count, head hash, first broken entry", "operationId": "auditVerify", "responses": {"200": ok("Check", &["application/json"])}}},
        "/auth/staff": {"get": {"summary": "Staff who can be assigned complaints (officers, admins)", "operationId": "staff", "security": staff, "responses": {"200": ok("Staff members", &["application/json"]), "401": errors(), "403": errors()}}},
    });
    match paths {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// Complaints: filing, triage, moderation, flags, messages to reporters, the area feed.
fn complaint_paths() -> serde_json::Map<String, Value> {
    let staff = json!([{"staff": []}]);
    let ticket = json!({"name": "ticket", "in": "path", "required": true, "description": "The ticket (EH-2026-000123)", "schema": {"type": "string"}});
    let paths = json!({
        "/complaints": {
            "post": {"summary": "File a complaint (JSON, or multipart with up to 5 photos); `language` (en or bn, else Accept-Language) is what the reporter is told in", "operationId": "fileComplaint", "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object"}}, "multipart/form-data": {"schema": {"type": "object"}}}}, "responses": {"201": ok("The ticket", &["application/json"]), "400": errors(), "413": errors(), "415": errors(), "429": errors()}},
            "get": {"summary": "The staff queue", "operationId": "complaintQueue", "security": staff.clone(), "responses": {"200": ok("Complaints", &["application/json"]), "401": errors()}},
        },
        "/complaints/{ticket}": {
            "parameters": [ticket.clone()],
            "get": {"summary": "A complaint and its public timeline, as moderation leaves it", "operationId": "complaint", "responses": {"200": ok("The complaint", &["application/json"]), "404": errors()}},
            "patch": {"summary": "Triage: acknowledge, assign, start, resolve, reject, duplicate, note (the reporter is told of each step but notes)", "operationId": "changeComplaint", "security": staff.clone(), "responses": {"200": ok("The complaint", &["application/json"]), "400": errors(), "401": errors(), "403": errors(), "409": errors()}},
        },
        "/complaints/{ticket}/flag": {"post": {"summary": "Flag a public piece of a complaint as inappropriate (once per client)", "operationId": "flagComplaint", "parameters": [ticket.clone()], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["item"], "properties": {"item": {"type": "string", "description": "description, photo:<sha256> or note:<step id>"}, "reason": {"type": "string", "maxLength": 500}}}}}}, "responses": {"201": ok("Flagged", &["application/json"]), "200": ok("Already flagged by this client", &["application/json"]), "400": errors(), "404": errors(), "429": errors()}}},
        "/complaints/{ticket}/moderation": {"post": {"summary": "Hide a piece of a complaint from the public with a reason, or show it (again; a held photo approved)", "operationId": "moderateComplaint", "security": staff.clone(), "parameters": [ticket.clone()], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["item", "decision"], "properties": {"item": {"type": "string"}, "decision": {"type": "string", "enum": ["hide", "show"]}, "reason": {"type": "string", "maxLength": 500}}}}}}, "responses": {"200": ok("The complaint as staff see it", &["application/json"]), "400": errors(), "401": errors(), "403": errors(), "404": errors()}}},
        "/complaints/{ticket}/optout": {
            "parameters": [ticket.clone()],
            "get": {"summary": "The page a reporter's stop-messages link opens (asks to confirm)", "operationId": "optoutPage", "security": [{"optoutLink": []}], "responses": {"200": ok("A page", &["text/html"]), "400": errors(), "403": errors()}},
            "post": {"summary": "Stop the messages about this complaint (also RFC 8058 one-click)", "operationId": "optout", "security": [{"optoutLink": []}], "responses": {"200": ok("Done", &["text/html", "application/json"]), "400": errors(), "403": errors()}},
        },
        "/complaints.atom": {"get": {"summary": "Follow an area: an Atom feed of the public steps of complaints in a ward or within a radius of a point", "operationId": "complaintsFeed", "parameters": [
            param("ward", "query", "A ward number", json!({"type": "integer"}), false),
            param("lon", "query", "Centre longitude", json!({"type": "number"}), false),
            param("lat", "query", "Centre latitude", json!({"type": "number"}), false),
            param("radius_m", "query", "Radius in metres (default 500)", json!({"type": "number", "minimum": 1, "maximum": 20000}), false),
            param("category", "query", "Only these categories (comma-separated)", json!({"type": "string"}), false),
            param("limit", "query", "Entries (default 50)", json!({"type": "integer", "minimum": 1, "maximum": 200}), false),
        ], "responses": {"200": ok("Atom feed", &["application/atom+xml"]), "304": {"description": "Not modified"}, "400": errors()}}},
        "/moderation": {"get": {"summary": "The moderation queue: held photos and pieces flagged since their last review (state=open), or hidden pieces", "operationId": "moderationQueue", "security": staff.clone(), "parameters": [param("state", "query", "open or hidden", json!({"type": "string", "enum": ["open", "hidden"]}), false), param("limit", "query", "At most this many", json!({"type": "integer", "minimum": 1, "maximum": 1000}), false)], "responses": {"200": ok("Items", &["application/json"]), "401": errors(), "403": errors()}}},
        "/notifications": {"get": {"summary": "The outbox of messages to reporters (uncertain: handed over when the server stopped; not sent again unless retried)", "operationId": "notifications", "security": staff.clone(), "parameters": [param("state", "query", "pending, sending, committing, sent, failed, uncertain or cancelled", json!({"type": "string"}), false), param("ticket", "query", "One complaint's", json!({"type": "string"}), false), param("limit", "query", "At most this many", json!({"type": "integer", "minimum": 1, "maximum": 1000}), false)], "responses": {"200": ok("Messages", &["application/json"]), "400": errors(), "401": errors(), "403": errors()}}},
        "/notifications/{id}/retry": {"post": {"summary": "Send a failed or uncertain message again", "operationId": "retryNotification", "security": staff.clone(), "parameters": [json!({"name": "id", "in": "path", "required": true, "description": "The message", "schema": {"type": "integer"}})], "responses": {"200": ok("The message, pending", &["application/json"]), "401": errors(), "403": errors(), "404": errors()}}},
    });
    match paths {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// Online applications: the types and the check of a case before it is filed.
fn application_paths() -> serde_json::Map<String, Value> {
    let code = json!({"name": "code", "in": "path", "required": true, "description": "The type (heritage_sanction, water_body_works)", "schema": {"type": "string"}});
    let paths = json!({
        "/assets/{id}/heritage-lock": {
            "parameters": [json!({"name": "id", "in": "path", "required": true, "description": "Asset code (HER-0001)", "schema": {"type": "string"}})],
            "get": {"summary": "The heritage lock of a graded building (locked, cleared for an application, released; not_applicable if ungraded), for the Building department's system", "operationId": "heritageLock", "responses": {"200": ok("The lock", &["application/json"]), "404": errors()}},
            "put": {"summary": "Record a lock decision (officers): {state, application (for cleared), reason}; audited", "operationId": "setHeritageLock", "security": [{"staff": []}], "responses": {"200": ok("The lock", &["application/json"]), "400": errors(), "401": errors(), "403": errors(), "404": errors(), "409": errors()}},
        },
        "/application-types": {"get": {"summary": "Every application type open now, as data: works, rules by grade, stages (who acts, what they produce, time limits), fields and documents, in English and Bengali", "operationId": "applicationTypes", "responses": {"200": ok("Types", &["application/json"])}}},
        "/application-types/{code}": {"get": {"summary": "One application type (a past version with ?version=), with every version on record", "operationId": "applicationType", "parameters": [code.clone(), param("version", "query", "A version a running case keeps", json!({"type": "integer", "minimum": 1}), false)], "responses": {"200": ok("The type", &["application/json"]), "400": errors(), "404": errors()}}},
        "/application-types/{code}/check": {"post": {"summary": "The stages a case for this work at these premises would pass through, or the rule's reason it is refused at entry", "operationId": "checkApplication", "parameters": [code], "requestBody": {"required": true, "content": {"application/json": {"schema": {"type": "object", "required": ["asset", "work"], "properties": {"asset": {"type": "string", "description": "The premises' asset code"}, "work": {"type": "string"}}}}}}, "responses": {"200": ok("allowed, path, days; or reason", &["application/json"]), "400": errors(), "404": errors()}}},
    });
    match paths {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// Online applications as cases (docs/applications.md): applicants, drafts, the desk, the
/// committee, and the tracker, register and statistics open to everyone.
fn case_paths() -> serde_json::Map<String, Value> {
    let key = json!({"name": "key", "in": "path", "required": true, "description": "The application number (HS-2026-000001), or a draft's id (D + 16 hex digits)", "schema": {"type": "string"}});
    let id = json!({"name": "id", "in": "path", "required": true, "description": "The meeting", "schema": {"type": "integer"}});
    let doc = json!({"name": "doc", "in": "path", "required": true, "description": "A document code of the type (drawings, ownership, …)", "schema": {"type": "string"}});
    let applicant = json!([{"applicant": []}]);
    let staff = json!([{"staff": []}]);
    let body = |props: Value| json!({"required": true, "content": {"application/json": {"schema": {"type": "object", "properties": props}}}});
    let file = json!({"required": true, "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}, "image/jpeg": {"schema": {"type": "string", "format": "binary"}}, "image/png": {"schema": {"type": "string", "format": "binary"}}, "image/webp": {"schema": {"type": "string", "format": "binary"}}}});
    let s = json!({"type": "string"});
    let paths = json!({
        "/applicants/code": {"post": {"summary": "Send a one-time sign-in code to an email address (SMTP) or a phone number (webhook to an SMS gateway); 429 if asked again too soon", "operationId": "applicantCode", "requestBody": body(json!({"contact": s, "language": s})), "responses": {"202": ok("Where it went (masked)", &["application/json"]), "400": errors(), "429": errors(), "503": errors()}}},
        "/applicants/session": {
            "post": {"summary": "Sign in with the code: an applicant's token for 12 hours", "operationId": "applicantSignIn", "requestBody": body(json!({"contact": s, "code": s})), "responses": {"200": ok("The token", &["application/json"]), "400": errors(), "401": errors()}},
            "delete": {"summary": "Sign out", "operationId": "applicantSignOut", "security": applicant.clone(), "responses": {"204": {"description": "Signed out"}, "401": errors()}},
        },
        "/applications": {"post": {"summary": "A new draft {type, asset?, work?, fields?, language?}; 422 with `refused` if the premises' grade does not allow the work", "operationId": "createApplication", "security": applicant.clone(), "requestBody": body(json!({"type": s, "asset": s, "work": s, "fields": {"type": "object"}, "language": s})), "responses": {"201": ok("The draft", &["application/json"]), "400": errors(), "401": errors(), "422": errors()}}},
        "/applications/mine": {"get": {"summary": "The applicant's drafts and cases", "operationId": "myApplications", "security": applicant.clone(), "responses": {"200": ok("Cases", &["application/json"]), "401": errors()}}},
        "/applications/stats": {"get": {"summary": "Per type and stage: stages ended, median days, share within the limit, open and overdue now", "operationId": "applicationStats", "responses": {"200": ok("Statistics", &["application/json"])}}},
        "/applications/{key}": {
            "parameters": [key.clone()],
            "get": {"summary": "The case: the applicant's own, or with a staff token the staff record (applicant, every step)", "operationId": "application", "security": [{"applicant": []}, {"staff": []}], "responses": {"200": ok("The case", &["application/json"]), "401": errors(), "403": errors(), "404": errors()}},
            "patch": {"summary": "Change a draft (asset, work, fields merged, language)", "operationId": "changeDraft", "security": applicant.clone(), "requestBody": body(json!({"asset": s, "work": s, "fields": {"type": "object"}, "language": s})), "responses": {"200": ok("The draft", &["application/json"]), "400": errors(), "401": errors(), "404": errors(), "409": errors(), "422": errors()}},
        },
        "/applications/{key}/files/{doc}": {"put": {"summary": "Add a file for one of the type's documents (on a draft, or in answer to a request); kept private in the document store", "operationId": "addApplicationFile", "security": applicant.clone(), "parameters": [key.clone(), doc.clone(), param("name", "query", "The file's name", s.clone(), false)], "requestBody": file, "responses": {"201": ok("The file", &["application/json"]), "400": errors(), "401": errors(), "404": errors(), "409": errors(), "413": errors(), "415": errors()}}},
        "/applications/{key}/files/{doc}/{sha256}": {"delete": {"summary": "Take a file off a draft", "operationId": "removeApplicationFile", "security": applicant.clone(), "parameters": [key.clone(), doc, json!({"name": "sha256", "in": "path", "required": true, "schema": {"type": "string"}})], "responses": {"204": {"description": "Removed"}, "401": errors(), "404": errors()}}},
        "/applications/{key}/submit": {"post": {"summary": "Submit a complete draft: its number, and the first stage's clock starts; 422 with `missing` otherwise (the draft is kept)", "operationId": "submitApplication", "security": applicant.clone(), "parameters": [key.clone()], "responses": {"200": ok("The case", &["application/json"]), "401": errors(), "404": errors(), "409": errors(), "422": errors()}}},
        "/applications/{key}/answers": {"post": {"summary": "Answer the open request for more (upload its files first); the clock runs again", "operationId": "answerRequest", "security": applicant, "parameters": [key.clone()], "requestBody": body(json!({"request": {"type": "integer"}, "text": s})), "responses": {"200": ok("The case", &["application/json"]), "400": errors(), "401": errors(), "404": errors(), "409": errors()}}},
        "/applications/{key}/actions": {"post": {"summary": "A step by the holder of the stage's duty (or an admin): forward {note}, request {what, documents}, note {text}, resolution {resolution_no, date, decision, text}, decide {decision, text}, issue (the letter, the lock, the applicant told)", "operationId": "actOnApplication", "security": staff.clone(), "parameters": [key.clone()], "requestBody": body(json!({"action": {"type": "string", "enum": ["forward", "request", "note", "resolution", "decide", "issue"]}})), "responses": {"200": ok("The staff record", &["application/json"]), "400": errors(), "401": errors(), "403": errors(), "404": errors(), "409": errors()}}},
        "/applications/{key}/track": {"get": {"summary": "Anyone with the number: the stages with their dates, time limits and days used, and the decision; never the applicant, the form, files or notes", "operationId": "trackApplication", "parameters": [key], "responses": {"200": ok("The tracker", &["application/json"]), "404": errors()}}},
        "/screening": {"post": {"summary": "Heritage-impact screening: every heritage asset, water body and park within distance_m (≤ 5000) of a proposed work (a GeoJSON geometry, Feature or FeatureCollection), with its ground distance, grade, condition and protection; graded heritage first, then by distance", "operationId": "screening", "parameters": [param("f", "query", "json (default), geojson or csv", json!({"type": "string", "enum": ["json", "geojson", "csv"]}), false)], "requestBody": body(json!({"geometry": {"type": "object"}, "distance_m": {"type": "number", "minimum": 0, "maximum": 5000}, "layers": s})), "responses": {"200": ok("What lies within reach", &["application/json", "application/geo+json", "text/csv"]), "400": errors(), "413": errors()}}},
        "/stats/register": {"get": {"summary": "Register health per ward, borough, layer, kind or grade: assets by condition, the poor share, the share assessed in 12 months, inspections due", "operationId": "statsRegister", "parameters": [param("by", "query", "ward (default), borough, layer, kind or grade", json!({"type": "string", "enum": ["ward", "borough", "layer", "kind", "grade"]}), false), param("layers", "query", "Comma-separated layers (heritage, water_bodies, parks by default)", s.clone(), false), param("f", "query", "json or csv", json!({"type": "string", "enum": ["json", "csv"]}), false)], "responses": {"200": ok("Groups", &["application/json", "text/csv"]), "400": errors()}}},
        "/stats/inspections-due": {"get": {"summary": "Graded buildings past their inspection interval (Grade I 12 months, IIA 18, IIB 24, III 36), never inspected first", "operationId": "statsInspectionsDue", "parameters": [param("ward", "query", "One ward", json!({"type": "integer"}), false), param("grade", "query", "One grade", json!({"type": "string", "enum": ["I", "IIA", "IIB", "III"]}), false), param("f", "query", "json or csv", json!({"type": "string", "enum": ["json", "csv"]}), false)], "responses": {"200": ok("Inspections due", &["application/json", "text/csv"]), "400": errors()}}},
        "/desk": {"get": {"summary": "The cases at the stages the user's duties cover, with days used and overdue flags", "operationId": "desk", "security": staff.clone(), "parameters": [param("stage", "query", "One stage", s.clone(), false), param("type", "query", "One type", s.clone(), false)], "responses": {"200": ok("The queue", &["application/json"]), "401": errors(), "403": errors()}}},
        "/register/decisions": {"get": {"summary": "The public register of decisions: premises, grade, work, decision, resolution number and date, the letter's verification link; no personal details", "operationId": "decisions", "parameters": [param("type", "query", "One type", s.clone(), false), param("limit", "query", "At most this many (50)", json!({"type": "integer", "minimum": 0, "maximum": 500}), false), param("offset", "query", "Skip this many", json!({"type": "integer", "minimum": 0}), false)], "responses": {"200": ok("Decisions", &["application/json"]), "400": errors()}}},
        "/hcc/meetings": {
            "get": {"summary": "Meetings of the Heritage Conservation Committee, with their agendas", "operationId": "hccMeetings", "security": staff.clone(), "responses": {"200": ok("Meetings", &["application/json"]), "401": errors(), "403": errors()}},
            "post": {"summary": "A meeting {date}: its agenda is every case waiting for the committee (duty hcc_secretary)", "operationId": "createHccMeeting", "security": staff.clone(), "requestBody": body(json!({"date": s})), "responses": {"201": ok("The meeting", &["application/json"]), "400": errors(), "401": errors(), "403": errors()}},
        },
        "/hcc/meetings/{id}": {"get": {"summary": "One meeting and its agenda", "operationId": "hccMeeting", "security": staff.clone(), "parameters": [id.clone()], "responses": {"200": ok("The meeting", &["application/json"]), "401": errors(), "403": errors(), "404": errors()}}},
        "/hcc/meetings/{id}/recommendations": {"post": {"summary": "The committee's recommendation on a case of the agenda {application, recommendation: approve|refuse, text}; the case moves to the Mayor-in-Council", "operationId": "hccRecommendation", "security": staff.clone(), "parameters": [id.clone()], "requestBody": body(json!({"application": s, "recommendation": s, "text": s})), "responses": {"200": ok("The staff record of the case", &["application/json"]), "400": errors(), "401": errors(), "403": errors(), "404": errors(), "409": errors()}}},
        "/hcc/meetings/{id}/minutes": {"put": {"summary": "The minutes (a PDF) into the document store; the meeting is held", "operationId": "hccMinutes", "security": staff, "parameters": [id], "requestBody": {"required": true, "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}, "responses": {"200": ok("The meeting", &["application/json"]), "401": errors(), "403": errors(), "404": errors(), "413": errors(), "415": errors()}}},
    });
    match paths {
        Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}
