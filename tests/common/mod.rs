//! Test harness: a real server on a loopback port over a real SQLite file in a temp dir.

#![allow(dead_code)]

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use geo_types::{Geometry, LineString, Polygon};
use heritage_atlas::atlas::{Atlas, AtlasOptions};
use heritage_atlas::model::{Attributes, Kind, Layer, NewAsset};
use heritage_atlas::store::Store;
use heritage_atlas::AppState;
use serde_json::Value;
use tokio::task::JoinHandle;

pub struct TestServer {
    pub addr: SocketAddr,
    pub db: PathBuf,
    pub atlas: Arc<Atlas>,
    handle: JoinHandle<()>,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
}

impl TestServer {
    /// Starts the app over the database at `db` (created if missing).
    pub async fn start(db: &Path, load_bundled: bool) -> TestServer {
        Self::start_with(db, load_bundled, |s| s.with_rate_limit(0)).await
    }

    /// Starts with the app state adjusted by `f` (rate limits, cache ages); the public URL
    /// is the loopback address the server listens on.
    pub async fn start_with(
        db: &Path,
        load_bundled: bool,
        f: impl FnOnce(AppState) -> AppState,
    ) -> TestServer {
        let store = Store::open(db.to_str().unwrap()).await.expect("open store");
        let atlas = Arc::new(
            Atlas::open(
                store,
                &AtlasOptions {
                    load_bundled,
                    photos_dir: db.with_extension("photos"),
                    ..Default::default()
                },
            )
            .await
            .expect("open atlas"),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = f(AppState::new(atlas.clone()).with_public_url(&format!("http://{addr}")));
        let app = heritage_atlas::app(state);
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        // The accept loop `serve` runs, with its connection limits and timeouts.
        let handle = tokio::spawn(async move {
            heritage_atlas::http::serve::serve(
                listener,
                app,
                heritage_atlas::http::serve::ServeOptions::default(),
                async {
                    let _ = rx.await;
                },
            )
            .await
            .unwrap();
        });
        TestServer {
            addr,
            db: db.to_path_buf(),
            atlas,
            handle,
            shutdown: Some(tx),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// GET and parse JSON; returns (status, body).
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = reqwest::get(self.url(path)).await.expect("request");
        let status = r.status().as_u16();
        let ct = r
            .headers()
            .get("content-type")
            .map(|v| v.to_str().unwrap_or("").to_string())
            .unwrap_or_default();
        let text = r.text().await.unwrap();
        assert!(
            ct.starts_with("application/json") || ct.contains("geo+json"),
            "{path}: content-type {ct:?}: {text}"
        );
        (
            status,
            serde_json::from_str(&text)
                .unwrap_or_else(|e| panic!("{path}: not JSON ({e}): {text}")),
        )
    }

    /// Stops the server and closes the database.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        let _ = (&mut self.handle).await;
        self.atlas.store().close().await;
    }
}

pub fn fixture(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

/// The `heritage-atlas` binary built for this test run.
pub fn bin() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_heritage-atlas"))
}

/// A closed axis-aligned rectangle ring, lon/lat.
pub fn rect_ring(x: f64, y: f64, w: f64, h: f64) -> LineString<f64> {
    LineString::from(vec![(x, y), (x + w, y), (x + w, y + h), (x, y + h), (x, y)])
}

/// A rectangle `w` × `h` degrees at (x, y) (a pond, a park, a ward cell), with an island (a hole) filling the
/// middle `island` share of it when `island > 0`.
pub fn rect_polygon(x: f64, y: f64, w: f64, h: f64, island: f64) -> Geometry<f64> {
    let holes = if island > 0.0 {
        let m = (1.0 - island) / 2.0;
        vec![rect_ring(x + w * m, y + h * m, w * island, h * island)]
    } else {
        vec![]
    };
    Geometry::Polygon(Polygon::new(rect_ring(x, y, w, h), holes))
}

/// A new asset whose name is its code.
pub fn asset(layer: Layer, kind: Kind, code: String, geometry: Geometry<f64>) -> NewAsset {
    NewAsset {
        layer,
        code: Some(code.clone()),
        kind,
        attrs: Attributes {
            name: Some(code),
            ..Default::default()
        },
        geometry,
    }
}
