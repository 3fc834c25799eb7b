//! Whole selections as files (GeoJSON, FlatGeobuf, CSV), written on a blocking thread
//! and streamed through a channel, under a file name that says what is inside.

use std::io::Write;

use axum::body::{Body, Bytes};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};

use super::params::Format;
use super::{FGB, GEOJSON};
use crate::features::crs::Crs;
use crate::features::{write, Collection, Item};

/// A `Write` that hands its bytes to an HTTP body in 64 KB chunks, so a download of
/// millions of features streams instead of being built in memory.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Result<Bytes, std::io::Error>>,
    buf: Vec<u8>,
}

impl Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = Bytes::from(std::mem::take(&mut self.buf));
        self.tx
            .blocking_send(Ok(chunk))
            .map_err(|_| std::io::Error::new(std::io::ErrorKind::BrokenPipe, "client went away"))
    }
}

pub(super) fn download(
    c: Collection,
    all: Vec<Item>,
    start: usize,
    end: usize,
    crs: Crs,
    format: Format,
    name: &str,
) -> Response {
    let content_crs = crs.header();
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(8);
    tokio::task::spawn_blocking(move || {
        let items = &all[start..end];
        let mut w = ChannelWriter {
            tx: tx.clone(),
            buf: Vec::with_capacity(64 * 1024),
        };
        let r = match format {
            Format::Json => write::geojson(items, &crs, c.id(), &mut w),
            Format::Csv => write::csv(c, items, &crs, &mut w),
            Format::Fgb => write::fgb(c, items, &crs, &mut w).map_err(std::io::Error::other),
        }
        .and_then(|_| w.flush());
        if let Err(e) = r {
            if e.kind() != std::io::ErrorKind::BrokenPipe {
                tracing::error!(error = %e, collection = c.id(), "download failed mid-stream");
                let _ = tx.blocking_send(Err(e));
            }
        }
    });
    let stream = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let (ct, ext) = match format {
        Format::Json => (GEOJSON, "geojson"),
        Format::Fgb => (FGB, "fgb"),
        Format::Csv => ("text/csv; charset=utf-8", "csv"),
    };
    let mut h = HeaderMap::new();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(ct));
    if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{name}.{ext}\"")) {
        h.insert(header::CONTENT_DISPOSITION, v);
    }
    if let Ok(v) = HeaderValue::from_str(&content_crs) {
        h.insert("content-crs", v);
    }
    (StatusCode::OK, h, Body::from_stream(stream)).into_response()
}

/// A download's file name that says what is in it: the layer, the selection, and the
/// date in Kolkata — `heritage_grade-i_2026-12-01` — in ASCII letters, digits and `-_`.
pub(super) fn download_name(
    layer: &str,
    q: &[(String, String)],
    now: time::OffsetDateTime,
) -> String {
    let slug = |s: &str| {
        let mut out = String::new();
        for c in s.chars() {
            if c.is_ascii_alphanumeric() {
                out.push(c.to_ascii_lowercase());
            } else if !out.ends_with('-') {
                out.push('-');
            }
        }
        out.trim_matches('-').to_string()
    };
    let mut parts = vec![layer.to_string()];
    for (k, v) in q {
        let part = match k.as_str() {
            "f" | "limit" | "offset" | "crs" | "bbox-crs" | "filter-lang" | "filter-crs"
            | "download" => continue,
            "bbox" => "bbox".to_string(),
            "filter" => slug(v),
            _ => slug(&format!("{k} {v}")),
        };
        if !part.is_empty() {
            parts.push(part);
        }
    }
    let mut name = parts.join("_");
    if name.len() > 80 {
        name.truncate(80);
        name = name.trim_end_matches(['-', '_']).to_string();
    }
    let ist = time::UtcOffset::from_hms(5, 30, 0).unwrap_or(time::UtcOffset::UTC);
    let d = now.to_offset(ist).date();
    format!(
        "{name}_{:04}-{:02}-{:02}",
        d.year(),
        u8::from(d.month()),
        d.day()
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn download_names_say_what_is_inside() {
        let q = |v: &[(&str, &str)]| -> Vec<(String, String)> {
            v.iter()
                .map(|(a, b)| (a.to_string(), b.to_string()))
                .collect()
        };
        // 20:00 UTC on 30 November is already 1 December in Kolkata.
        let t = time::macros::datetime!(2026-11-30 20:00 UTC);
        assert_eq!(
            super::download_name("heritage", &q(&[("f", "csv"), ("grade", "I")]), t),
            "heritage_grade-i_2026-12-01"
        );
        assert_eq!(
            super::download_name(
                "water_bodies",
                &q(&[("filter", "S_DWITHIN(geometry, POINT(88.35 22.55), 500, meters) AND status = 'filled'"), ("f", "fgb")]),
                t
            ),
            "water_bodies_s-dwithin-geometry-point-88-35-22-55-500-meters-and-status-filled_2026-12-01"
        );
        let long = super::download_name("parks", &q(&[("filter", &"x = 1 OR ".repeat(40))]), t);
        assert!(
            long.len() <= 80 + 11 && long.ends_with("_2026-12-01"),
            "{long}"
        );
    }
}
