//! Test harness: a real server on a loopback port over a real SQLite file in a temp dir,
//! or over a fresh PostgreSQL database when `HERITAGE_ATLAS_TEST_POSTGRES` names a server
//! (`scripts/postgres.sh` prints its URL; `scripts/test-postgres.sh` runs the suite so).

#![allow(dead_code)]

use std::future::Future;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use geo_types::{Geometry, LineString, Polygon};
use heritage_atlas::atlas::{Atlas, AtlasOptions};
use heritage_atlas::model::{now_rfc3339, Attributes, Kind, Layer, NewAsset, Role};
use heritage_atlas::store::Store;
use heritage_atlas::AppState;
use serde_json::{json, Value};
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
        let opts = AtlasOptions {
            load_bundled,
            photos_dir: db.with_extension("photos"),
            ..Default::default()
        };
        Self::start_opts(db, opts, f).await
    }

    /// Starts with these atlas options (photo moderation, notifiers' channels).
    pub async fn start_opts(
        db: &Path,
        opts: AtlasOptions,
        f: impl FnOnce(AppState) -> AppState,
    ) -> TestServer {
        if std::env::var_os("TEST_LOG").is_some() {
            let _ = tracing_subscriber::fmt().with_test_writer().try_init();
        }
        let store = open_store(db).await;
        let atlas = Arc::new(Atlas::open(store, &opts).await.expect("open atlas"));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let state = f(AppState::new(atlas.clone()).with_public_url(&format!("http://{addr}")));
        // As `serve` runs it: the cached-tile hot path in front of the router.
        let app = heritage_atlas::http::front(state);
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

/// The store a test's database path stands for: the SQLite file itself, or, when
/// `HERITAGE_ATLAS_TEST_POSTGRES` is set, a PostgreSQL database of its own named after
/// the path (made empty the first time this process asks for it, reopened after).
pub async fn open_store(db: &Path) -> Store {
    Store::open(&database_url(db).await)
        .await
        .expect("open store")
}

/// [`open_store`]'s database, as `--db` takes it (made, empty, the first time).
pub async fn database_url(db: &Path) -> String {
    static MADE: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let Some((server, name)) = postgres_of(db) else {
        return url_of(db);
    };
    let fresh = {
        let mut made = MADE.lock().unwrap();
        let fresh = !made.contains(&name);
        if fresh {
            made.push(name.clone());
        }
        fresh
    };
    if fresh {
        use sqlx::Executor;
        let mut admin = <sqlx::PgConnection as sqlx::Connection>::connect(&server)
            .await
            .expect("connect to HERITAGE_ATLAS_TEST_POSTGRES");
        admin
            .execute(&*format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
            .expect("drop the test database");
        admin
            .execute(&*format!("CREATE DATABASE {name}"))
            .await
            .expect("create the test database");
    }
    url_of(db)
}

/// [`database_url`] from sync code (a PostgreSQL database is made on a thread of its
/// own, outside the caller's runtime, if need be).
pub fn db_arg(db: &Path) -> String {
    match postgres_of(db) {
        Some(_) => {
            let db = db.to_owned();
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .expect("runtime")
                    .block_on(database_url(&db))
            })
            .join()
            .expect("making the test database")
        }
        None => db.to_str().expect("UTF-8 path").to_owned(),
    }
}

fn url_of(db: &Path) -> String {
    match postgres_of(db) {
        Some((server, name)) => {
            let (base, _) = server.rsplit_once('/').expect("a URL with a database");
            format!("{base}/{name}")
        }
        None => db.to_str().expect("UTF-8 path").to_owned(),
    }
}

/// The PostgreSQL server the tests run against and the database that stands for `db`.
fn postgres_of(db: &Path) -> Option<(String, String)> {
    use sha2::Digest;
    let server = std::env::var("HERITAGE_ATLAS_TEST_POSTGRES").ok()?;
    let digest = sha2::Sha256::digest(db.as_os_str().as_encoded_bytes());
    Some((server, format!("t_{}", &hex::encode(digest)[..20])))
}

/// A pool on [`open_store`]'s database for a test's own SQL (what the server's API does
/// not show, or a change made behind its back), in `$N` placeholders both read.
pub async fn raw_pool(db: &Path) -> sqlx::AnyPool {
    sqlx::any::install_default_drivers();
    let url = database_url(db).await;
    let url = if url.starts_with("postgres") {
        url
    } else {
        format!("sqlite://{url}")
    };
    sqlx::AnyPool::connect(&url)
        .await
        .expect("connect for the test's own SQL")
}

/// Whether the tests run against PostgreSQL (see [`open_store`]).
pub fn on_postgres() -> bool {
    std::env::var_os("HERITAGE_ATLAS_TEST_POSTGRES").is_some()
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

// ---------------------------------------------------------------------------------------
// Requests and accounts shared by the HTTP tests.
// ---------------------------------------------------------------------------------------

/// The password every test account is given (long enough for the server's rule).
pub const PASSWORD: &str = "a long password";

/// Sends a request, with a bearer token when given; returns (status, JSON body or null).
async fn send(r: reqwest::RequestBuilder, token: Option<&str>) -> (u16, Value) {
    let r = match token {
        Some(t) => r.bearer_auth(t),
        None => r,
    };
    let r = r.send().await.expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// GET as a signed-in user (or anonymously); returns (status, JSON body or null). Unlike
/// [`TestServer::get`] it does not insist on a JSON answer: a 401 may have no body.
pub async fn get_as(srv: &TestServer, token: Option<&str>, path: &str) -> (u16, Value) {
    send(reqwest::Client::new().get(srv.url(path)), token).await
}

/// POST a JSON body; returns (status, JSON body or null).
pub async fn post(srv: &TestServer, path: &str, token: Option<&str>, body: &Value) -> (u16, Value) {
    send(reqwest::Client::new().post(srv.url(path)).json(body), token).await
}

/// PATCH a JSON body; returns (status, JSON body or null).
pub async fn patch(
    srv: &TestServer,
    path: &str,
    token: Option<&str>,
    body: &Value,
) -> (u16, Value) {
    send(
        reqwest::Client::new().patch(srv.url(path)).json(body),
        token,
    )
    .await
}

/// Puts a document on an asset's record (`POST /assets/{code}/documents`, multipart) as
/// the signed-in `token`; returns (status, JSON body or null).
pub async fn upload_document(
    srv: &TestServer,
    token: &str,
    code: &str,
    form: reqwest::multipart::Form,
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .post(srv.url(&format!("/assets/{code}/documents")))
        .multipart(form);
    send(r, Some(token)).await
}

/// Creates a staff account with [`PASSWORD`] straight in the store (no login).
pub async fn put_user(srv: &TestServer, name: &str, role: Role, ward: Option<i64>) {
    let hash = heritage_atlas::auth::hash_password(PASSWORD).unwrap();
    srv.atlas
        .store()
        .put_user(name, role, ward, &hash, &now_rfc3339())
        .await
        .unwrap();
}

/// Signs in with [`PASSWORD`]; returns the session token.
pub async fn login(srv: &TestServer, name: &str) -> String {
    let (status, v) = post(
        srv,
        "/auth/login",
        None,
        &json!({"name": name, "password": PASSWORD}),
    )
    .await;
    assert_eq!(status, 200, "login as {name}: {v}");
    v["token"].as_str().unwrap().to_string()
}

/// Tries to sign in until the answer is no longer 429 (the name or client backing off
/// after failures; a refused try does not extend that); returns that answer.
pub async fn login_once_allowed(srv: &TestServer, name: &str, password: &str) -> (u16, Value) {
    let body = &json!({"name": name, "password": password});
    eventually(
        "the login back-off to run out",
        Duration::from_secs(90),
        || async move {
            let answer = post(srv, "/auth/login", None, body).await;
            (answer.0 != 429).then_some(answer)
        },
    )
    .await
}

/// Creates a staff account and signs in; returns the session token.
pub async fn add_user(srv: &TestServer, name: &str, role: Role, ward: Option<i64>) -> String {
    put_user(srv, name, role, ward).await;
    login(srv, name).await
}

/// Polls `f` every 20 ms until it yields `Some`, for at most `deadline`; panics naming
/// `what` if it never does. For waiting on the server (a back-off running out, a closed
/// connection being noticed) without guessing how long that takes.
pub async fn eventually<T, Fut>(what: &str, deadline: Duration, mut f: impl FnMut() -> Fut) -> T
where
    Fut: Future<Output = Option<T>>,
{
    let end = Instant::now() + deadline;
    loop {
        if let Some(v) = f().await {
            return v;
        }
        assert!(Instant::now() < end, "{what}: not within {deadline:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

// ---------------------------------------------------------------------------------------
// Bytes: hashes, percent-encoding and small images.
// ---------------------------------------------------------------------------------------

/// SHA-256 of `b` in lower-case hex (how photos and documents are named).
pub fn sha256_hex(b: &[u8]) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(b))
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
pub fn enc_bytes(b: &[u8]) -> String {
    b.iter()
        .map(|&c| {
            if c.is_ascii_alphanumeric() || b"-_.~".contains(&c) {
                (c as char).to_string()
            } else {
                format!("%{c:02X}")
            }
        })
        .collect()
}

/// [`enc_bytes`] of a string, for query values.
pub fn enc(s: &str) -> String {
    enc_bytes(s.as_bytes())
}

/// CRC-32 (IEEE), as PNG chunks carry it.
pub fn crc32(data: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &b in data {
        crc ^= u32::from(b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// A tiny JPEG with no metadata whose scan data is unique to `n` (so every photo is a
/// distinct file).
pub fn jpeg(n: u64) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10];
    v.extend(b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    v.extend([0xFF, 0xDA, 0x00, 0x0C]);
    v.extend([0; 10]);
    v.extend(n.to_be_bytes().iter().map(|b| b & 0x7F));
    v.extend([0xFF, 0xD9]);
    v
}

/// A minimal JPEG carrying `exif` in an APP1 segment and `comment` in a COM segment: what
/// must not survive into a stored photo.
pub fn jpeg_with_exif(exif: &[u8], comment: &[u8]) -> Vec<u8> {
    let mut v = vec![0xFF, 0xD8];
    let seg = |v: &mut Vec<u8>, marker: u8, body: &[u8]| {
        v.extend([0xFF, marker]);
        v.extend(((body.len() + 2) as u16).to_be_bytes());
        v.extend(body);
    };
    seg(&mut v, 0xE0, b"JFIF\0\x01\x01\0\0\x01\0\x01\0\0");
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend(exif);
    seg(&mut v, 0xE1, &app1);
    seg(&mut v, 0xFE, comment);
    seg(&mut v, 0xDA, &[0; 10]);
    v.extend([0x12, 0x34, 0xFF, 0xD9]);
    v
}

/// A 1×1 PNG with a `tEXt` chunk holding `text` (keyword, NUL, value).
pub fn png_with_text(text: &[u8]) -> Vec<u8> {
    let mut v = b"\x89PNG\r\n\x1a\n".to_vec();
    let chunk = |v: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]| {
        v.extend((data.len() as u32).to_be_bytes());
        v.extend(kind);
        v.extend(data);
        let mut crc_in = kind.to_vec();
        crc_in.extend(data);
        v.extend(crc32(&crc_in).to_be_bytes());
    };
    chunk(&mut v, b"IHDR", &[0, 0, 0, 1, 0, 0, 0, 1, 8, 0, 0, 0, 0]);
    chunk(&mut v, b"tEXt", text);
    chunk(&mut v, b"IDAT", &[0x78, 0x9c, 0x63, 0x60, 0, 0, 0, 2, 0, 1]);
    chunk(&mut v, b"IEND", &[]);
    v
}
