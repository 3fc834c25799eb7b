//! The OpenAPI 3.0 definition served at `/api` (OGC API - Features' `service-desc`):
//! every public path with its parameters and what it answers. Validated in CI with
//! `openapi-spec-validator`, and every path it lists is requested there.

use serde_json::{json, Value};

use super::ogc::{collection_ids, MAX_LIMIT};
use crate::features::crs;

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
    json!({
        "openapi": "3.0.3",
        "info": {
            "title": "heritage-atlas",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Kolkata Municipal Corporation Environment & Heritage register: OGC API - Features (Parts 1, 2 and 3 with CQL2 text), vector tiles, complaints and Open311 GeoReport v2.",
            "license": {"name": "Apache-2.0"},
        },
        "servers": [{"url": base}],
        "components": {
            "parameters": {
                "collectionId": {"name": "collectionId", "in": "path", "required": true, "description": "Collection", "schema": {"type": "string", "enum": collection_ids()}},
                "featureId": {"name": "featureId", "in": "path", "required": true, "description": "Feature id (asset id or code; complaint ticket)", "schema": {"type": "string"}},
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
                ],
                "responses": {"200": ok("Features", &["application/geo+json", "application/flatgeobuf", "text/csv"]), "400": errors(), "404": errors()},
            }},
            "/collections/{collectionId}/items/{featureId}": {"get": {"summary": "One feature", "operationId": "item", "parameters": [collection_id, {"$ref": "#/components/parameters/featureId"}, param("crs", "query", "CRS of the geometry", json!({"type": "string", "enum": crs::supported()}), false)], "responses": {"200": ok("Feature", &["application/geo+json"]), "304": {"description": "Not modified"}, "404": errors()}}},
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
            "/open311/v2/services.json": {"get": {"summary": "Open311 GeoReport v2 services (our complaint categories)", "operationId": "open311Services", "responses": {"200": ok("Services", &["application/json"])}}},
            "/open311/v2/requests.json": {"get": {"summary": "Open311 service requests (public fields)", "operationId": "open311Requests", "responses": {"200": ok("Requests", &["application/json"]), "400": errors()}}},
            "/tiles/{layers}.json": {"get": {"summary": "TileJSON 3.0 for comma-joined layers", "operationId": "tilejson", "parameters": [{"name": "layers", "in": "path", "required": true, "schema": {"type": "string", "example": "heritage,water_bodies,parks,wards"}}], "responses": {"200": ok("TileJSON", &["application/json"]), "404": errors()}}},
        },
    })
}
