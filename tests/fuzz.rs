//! Property-based fuzz targets (proptest, stable Rust) over every parser that takes
//! outside bytes: the GeoJSON / GeoJSONSeq / FlatGeobuf / CSV importers, CQL2 filters,
//! complaint photos, complaint and Open311 submissions, tile addresses and layer lists,
//! and, in the other direction, the MVT encoder.
//!
//! Every target checks the same three things. Nothing panics — a panic on a parser's own
//! thread included, which its caller would never see. Nothing hangs: each case runs under
//! a deadline. Errors are errors: an HTTP answer to a bad request is a 4xx in our JSON
//! shape (`{"code", "description"}`, Open311's `[{code, description}]` there), never a
//! 500. Where an input is valid by construction, what is accepted must round-trip or
//! agree with a brute-force oracle written here, and each such target counts its
//! accepted cases so that it cannot pass by refusing everything.
//!
//! `cargo test --test fuzz` runs `FUZZ_CASES` cases per target (default 64) in well under
//! a minute; `scripts/fuzz.sh` runs each target for minutes with fresh seeds. A failing
//! case's seed is saved in `tests/fixtures/fuzz/<target>.txt` and replayed first on every
//! later run, so a crash once found stays a test.
//!
//! Inputs that can blow the stack (deep nesting) run in a process of their own: a stack
//! overflow aborts the whole process, and must fail one test, not every target here.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cmp::Ordering;
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::io::{Cursor, Read};
use std::net::SocketAddr;
use std::sync::atomic::{self, AtomicUsize};
use std::sync::{mpsc, Arc, Mutex, Once};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{header, HeaderMap, Method, Request, StatusCode};
use axum::Router;
use common::enc;
use geo_types::{Geometry, LineString, MultiPoint, MultiPolygon, Point};
use geozero::mvt::{Message, Tile};
use heritage_atlas::atlas::{Atlas, AtlasOptions};
use heritage_atlas::complaints::photo::{self, MediaType};
use heritage_atlas::complaints::{open311, Category, Submission};
use heritage_atlas::export::{self, ExportFormat};
use heritage_atlas::features::cql2::{self, Queryables, Record, Value};
use heritage_atlas::features::crs::Crs;
use heritage_atlas::features::{write, Collection, Item};
use heritage_atlas::import::{self, Format, ImportError, ImportOptions, ImportReport};
use heritage_atlas::index::{Index, LayerIndex};
use heritage_atlas::model::{
    now_rfc3339, Asset, AssetId, Attributes, Condition, Grade, Kind, Layer, NewAsset,
};
use heritage_atlas::store::{EditContext, Store};
use heritage_atlas::tiles::coord::to_lonlat;
use heritage_atlas::tiles::mvt::{GeomType, LayerWriter, Val};
use heritage_atlas::tiles::{self, LayerSet, TileCoord, BUFFER, EXTENT, MAX_ZOOM};
use heritage_atlas::AppState;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;
use proptest::sample::{select, Index as At};
use proptest::test_runner::{Config, FileFailurePersistence, TestCaseError, TestError, TestRunner};
use serde_json::{json, Value as Json};
use tower::ServiceExt;

// ---------------------------------------------------------------------------------------
// Harness: cases, persistence, deadlines, panics on other threads, allocation sizes.
// ---------------------------------------------------------------------------------------

/// Cases per target: small for `cargo test`, large for `scripts/fuzz.sh`.
fn cases() -> u32 {
    std::env::var("FUZZ_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(64)
}

/// How long proptest may spend shrinking a failure: enough for a `cargo test` run to
/// report a small input, more when `scripts/fuzz.sh` asks for it.
fn shrink_ms() -> u32 {
    std::env::var("FUZZ_SHRINK_SECS")
        .ok()
        .and_then(|v| v.parse::<u32>().ok())
        .unwrap_or(30)
        .saturating_mul(1000)
}

/// How long one case may run before it counts as a hang: generous, since debug builds
/// share two cores with a compiler.
const DEADLINE: Duration = Duration::from_secs(30);

/// Runs `test` on `cases()` inputs drawn from `strategy`, replaying saved failures first.
fn fuzz<S>(target: &str, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: Debug,
{
    watch_panics();
    // proptest wants a `&'static str`; one small string per target, for the whole run.
    let saved: &'static str = Box::leak(
        format!(
            "{}/tests/fixtures/fuzz/{target}.txt",
            env!("CARGO_MANIFEST_DIR")
        )
        .into_boxed_str(),
    );
    let config = Config {
        cases: cases(),
        failure_persistence: Some(Box::new(FileFailurePersistence::Direct(saved))),
        // Shrinking replays the failure; a slow one must not stall the run for long.
        max_shrink_time: shrink_ms(),
        ..Config::default()
    };
    match TestRunner::new(config).run(&strategy, test) {
        Ok(()) => {}
        Err(TestError::Fail(why, input)) => panic!(
            "fuzz target {target} failed: {why}\nminimal failing input: {input:?}\n\
             its seed is saved in {saved} and is replayed first from now on"
        ),
        Err(TestError::Abort(why)) => panic!("fuzz target {target} gave up: {why}"),
    }
}

fn fail(msg: impl Into<String>) -> TestCaseError {
    TestCaseError::fail(msg.into())
}

/// Counts of what a target accepted and refused, to show it is not passing vacuously.
#[derive(Default)]
struct Tally {
    yes: AtomicUsize,
    no: AtomicUsize,
}

impl Tally {
    fn add(&self, accepted: bool) {
        let c = if accepted { &self.yes } else { &self.no };
        c.fetch_add(1, atomic::Ordering::Relaxed);
    }

    /// With a run big enough to judge, both outcomes must have happened.
    fn both_seen(&self, target: &str) {
        let (yes, no) = (
            self.yes.load(atomic::Ordering::Relaxed),
            self.no.load(atomic::Ordering::Relaxed),
        );
        eprintln!("{target}: {yes} accepted, {no} refused");
        if cases() >= 32 {
            assert!(
                yes > 0 && no > 0,
                "{target}: {yes} accepted, {no} refused: the generator misses one side"
            );
        }
    }
}

/// Panics on threads without a name. The importers parse on a `std::thread::spawn`ed
/// thread and `import_reader` never learns that it died; test, tokio and sqlx threads are
/// all named, so a count here is a parser's.
static UNNAMED_THREAD_PANICS: AtomicUsize = AtomicUsize::new(0);

fn watch_panics() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if std::thread::current().name().is_none() {
                UNNAMED_THREAD_PANICS.fetch_add(1, atomic::Ordering::SeqCst);
            }
            previous(info);
        }));
    });
}

/// The largest single allocation asked for since it was last reset: a file of a few
/// kilobytes that makes the importer ask for gigabytes is a way to take a server down.
static LARGEST_ALLOCATION: AtomicUsize = AtomicUsize::new(0);

/// Most an import of a small test input may allocate in one piece.
const MAX_ALLOCATION: usize = 256 << 20;

struct Watched;

fn note(size: usize) {
    if size > LARGEST_ALLOCATION.load(atomic::Ordering::Relaxed) {
        LARGEST_ALLOCATION.fetch_max(size, atomic::Ordering::Relaxed);
    }
}

// SAFETY: every call is passed unchanged to the system allocator; only sizes are noted.
unsafe impl GlobalAlloc for Watched {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc(layout)
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        note(layout.size());
        System.alloc_zeroed(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        note(new_size);
        System.realloc(ptr, layout, new_size)
    }
}

#[global_allocator]
static ALLOCATOR: Watched = Watched;

/// Runs `f` on a thread of its own (2 MiB of stack, as a tokio worker has) and waits at
/// most [`DEADLINE`]: a hang fails the case instead of the whole run, and a panic fails it
/// with the message printed above.
fn within<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T, TestCaseError> {
    let (tx, rx) = mpsc::channel();
    std::thread::Builder::new()
        .name("fuzz-case".into())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .expect("spawn a case thread");
    match rx.recv_timeout(DEADLINE) {
        Ok(v) => Ok(v),
        Err(mpsc::RecvTimeoutError::Timeout) => {
            Err(fail(format!("still running after {DEADLINE:?}: a hang")))
        }
        Err(mpsc::RecvTimeoutError::Disconnected) => {
            Err(fail("panicked (the panic message is printed above)"))
        }
    }
}

/// Runs the `#[ignore]`d test `test` (a full name, e.g. `own_process::cql2_parentheses`)
/// in a process of its own, and fails if that process fails, dies or hangs.
fn in_own_process(test: &str) {
    let mut child = std::process::Command::new(std::env::current_exe().expect("this binary"))
        .args([
            test,
            "--exact",
            "--ignored",
            "--nocapture",
            "--test-threads=1",
        ])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("start this test binary again");
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut s = String::new();
            if let Some(mut r) = r {
                let _ = r.read_to_string(&mut s);
            }
            s
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|r| Box::new(r) as Box<dyn Read + Send>),
    );
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the child") {
            break s;
        }
        if start.elapsed() > DEADLINE * 2 {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{test}: still running after {:?}: a hang", DEADLINE * 2);
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let (out, err) = (
        out.join().unwrap_or_default(),
        err.join().unwrap_or_default(),
    );
    assert!(
        status.success() && out.contains("1 passed"),
        "{test} failed in its own process ({status}):\n{out}\n{err}"
    );
}

// ---------------------------------------------------------------------------------------
// Byte mutations, for mutation-style targets.
// ---------------------------------------------------------------------------------------

#[derive(Debug, Clone)]
enum Mutation {
    Flip(At, u8),
    Set(At, u8),
    Insert(At, Vec<u8>),
    Delete(At, usize),
    Duplicate(At, At, usize),
    Truncate(At),
}

/// Bytes that mean something to one of our formats, and any byte.
fn interesting_byte() -> impl Strategy<Value = u8> {
    prop_oneof![
        any::<u8>(),
        select(b"\x00\xff\x7f\x80\xc0\xe0\x1e\"\\[]{},:\n\r0 9-e.'()%".to_vec()),
    ]
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<At>(), 0u8..8).prop_map(|(a, b)| Mutation::Flip(a, b)),
        3 => (any::<At>(), interesting_byte()).prop_map(|(a, b)| Mutation::Set(a, b)),
        2 => (any::<At>(), vec(interesting_byte(), 1..16))
            .prop_map(|(a, b)| Mutation::Insert(a, b)),
        2 => (any::<At>(), 1usize..64).prop_map(|(a, n)| Mutation::Delete(a, n)),
        1 => (any::<At>(), any::<At>(), 1usize..64)
            .prop_map(|(a, b, n)| Mutation::Duplicate(a, b, n)),
        1 => any::<At>().prop_map(Mutation::Truncate),
    ]
}

fn mutate(mut b: Vec<u8>, mutations: &[Mutation]) -> Vec<u8> {
    for m in mutations {
        let n = b.len();
        match m {
            Mutation::Flip(at, bit) if n > 0 => b[at.index(n)] ^= 1 << bit,
            Mutation::Set(at, v) if n > 0 => b[at.index(n)] = *v,
            Mutation::Insert(at, v) => {
                let i = at.index(n + 1);
                b.splice(i..i, v.iter().copied());
            }
            Mutation::Delete(at, len) if n > 0 => {
                let i = at.index(n);
                b.drain(i..(i + len).min(n));
            }
            Mutation::Duplicate(from, to, len) if n > 0 => {
                let i = from.index(n);
                let piece = b[i..(i + len).min(n)].to_vec();
                let j = to.index(n + 1);
                b.splice(j..j, piece);
            }
            Mutation::Truncate(at) => b.truncate(at.index(n + 1)),
            _ => {}
        }
    }
    b
}

fn mutations() -> impl Strategy<Value = Vec<Mutation>> {
    vec(mutation(), 1..8)
}

fn fixture_bytes(name: &str) -> Vec<u8> {
    std::fs::read(common::fixture(name)).expect("read fixture")
}

/// Text a client might send to trip a parser up: NaN and infinities spelled out, numbers
/// too big for any type, unterminated quotes, NULs, escapes, non-ASCII.
const HOSTILE_VALUES: &[&str] = &[
    "",
    " ",
    "0",
    "-0",
    "-1",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e400",
    "-1e400",
    "1e-400",
    "99999999999999999999999",
    "4294967296",
    "0x10",
    "88.35",
    "22.55",
    "180.0000001",
    "-90.5",
    "88,35",
    "1,2,3,4",
    "88.3,22.5,88.4,22.6",
    "88.4,22.6,88.3,22.5",
    "1,2,3,4,5,6",
    "2026-01-01T00:00:00Z",
    "2026-13-45T99:99:99Z",
    "2026-01-01/..",
    "../2026-01-01",
    "..",
    "../..",
    "'",
    "\"",
    "'unterminated",
    "\u{0}",
    "\\",
    "%",
    "%00",
    "ভিক্টোরিয়া",
    "heritage",
    "heritage,heritage",
    "complaints",
    "EPSG:3857",
    "EPSG:0",
    "http://www.opengis.net/def/crs/EPSG/0/32645",
    "open,closed",
    "true",
    "json",
    "fgb",
    "csv",
    "xml",
    "EH-2026-000001",
    "water_body_filling",
];

fn hostile_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(HOSTILE_VALUES).prop_map(str::to_string),
        2 => ".{0,16}",
        1 => (1usize..3000).prop_map(|n| "9".repeat(n)),
    ]
}

// ---------------------------------------------------------------------------------------
// Import: a store in a temporary directory, one import at a time.
// ---------------------------------------------------------------------------------------

/// Imports run one at a time, so that a panic on an unnamed thread or a huge allocation
/// belongs to the import that is running.
static IMPORTS: Mutex<()> = Mutex::new(());

struct Importer {
    rt: tokio::runtime::Runtime,
    store: Store,
    _dir: tempfile::TempDir,
}

impl Importer {
    fn new() -> Importer {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("runtime");
        let path = dir.path().join("fuzz.db");
        let store = rt.block_on(common::open_store(&path));
        Importer {
            rt,
            store,
            _dir: dir,
        }
    }

    /// Imports `bytes` in one transaction, committed only if `commit`. Fails the case if
    /// the import hangs, its parser thread panics, or it allocates absurdly.
    fn import(
        &self,
        bytes: Vec<u8>,
        format: Format,
        opts: &ImportOptions,
        commit: bool,
    ) -> Result<Result<ImportReport, ImportError>, TestCaseError> {
        let _one_at_a_time = IMPORTS.lock().unwrap_or_else(|e| e.into_inner());
        let panics = UNNAMED_THREAD_PANICS.load(atomic::Ordering::SeqCst);
        LARGEST_ALLOCATION.store(0, atomic::Ordering::SeqCst);
        let len = bytes.len();
        let outcome = self.rt.block_on(async {
            tokio::time::timeout(DEADLINE, async {
                let mut tx = self
                    .store
                    .begin_import(&EditContext::import("fuzz"))
                    .await?;
                let input = Box::new(Cursor::new(bytes));
                let report =
                    import::import_reader(&mut tx, input, len as u64, format, opts).await?;
                if commit {
                    tx.commit().await?;
                }
                Ok::<_, ImportError>(report)
            })
            .await
        });
        let Ok(outcome) = outcome else {
            return Err(fail(format!(
                "importing {len} bytes still running after {DEADLINE:?}: a hang"
            )));
        };
        if UNNAMED_THREAD_PANICS.load(atomic::Ordering::SeqCst) != panics {
            return Err(fail(format!(
                "the parser thread panicked (message above), and import_reader answered {outcome:?}"
            )));
        }
        let largest = LARGEST_ALLOCATION.load(atomic::Ordering::SeqCst);
        if largest > MAX_ALLOCATION {
            return Err(fail(format!(
                "importing {len} bytes asked for {largest} bytes in one allocation \
                 (answer: {outcome:?})"
            )));
        }
        if let Err(e) = &outcome {
            prop_assert!(!e.to_string().is_empty(), "an error without a message");
        }
        Ok(outcome)
    }

    fn heritage(&self) -> Vec<Asset> {
        self.rt
            .block_on(self.store.load_layer(Layer::Heritage))
            .expect("load heritage")
    }

    fn clear(&self) {
        self.rt.block_on(async {
            let mut tx = self
                .store
                .begin_import(&EditContext::import("fuzz"))
                .await
                .expect("begin");
            for a in self.store.load_layer(Layer::Heritage).await.expect("load") {
                tx.delist(a.id, a.version, "cleared between cases")
                    .await
                    .expect("delist");
            }
            tx.commit().await.expect("commit");
        });
    }
}

fn heritage_import(crs: Option<&str>) -> ImportOptions {
    ImportOptions {
        crs: crs.map(str::to_string),
        ..ImportOptions::new(Layer::Heritage)
    }
}

/// A heritage site as generated for the round trip.
#[derive(Debug, Clone)]
struct Site {
    name: Option<String>,
    ward: Option<i64>,
    grade: Option<Grade>,
    year_built: Option<i64>,
    shape: SiteShape,
}

#[derive(Debug, Clone)]
enum SiteShape {
    Point(f64, f64),
    Points(Vec<(f64, f64)>),
    Rect {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
        island: bool,
    },
    TwoRects {
        x: f64,
        y: f64,
        w: f64,
        h: f64,
    },
}

impl Site {
    fn geometry(&self) -> Geometry<f64> {
        match &self.shape {
            SiteShape::Point(x, y) => Geometry::Point(Point::new(*x, *y)),
            SiteShape::Points(p) => Geometry::MultiPoint(MultiPoint::from(p.clone())),
            SiteShape::Rect { x, y, w, h, island } => {
                common::rect_polygon(*x, *y, *w, *h, if *island { 0.5 } else { 0.0 })
            }
            SiteShape::TwoRects { x, y, w, h } => {
                let one = |x: f64| match common::rect_polygon(x, *y, *w, *h, 0.0) {
                    Geometry::Polygon(p) => p,
                    _ => unreachable!("rect_polygon makes polygons"),
                };
                Geometry::MultiPolygon(MultiPolygon(vec![one(*x), one(x + 2.0 * w)]))
            }
        }
    }

    fn attrs(&self) -> Attributes {
        Attributes {
            kind: Some(Kind::Monument),
            name: self.name.clone(),
            ward: self.ward,
            grade: self.grade,
            year_built: self.year_built,
            ..Default::default()
        }
    }
}

fn lon() -> impl Strategy<Value = f64> {
    -179.0..178.0f64
}

fn lat() -> impl Strategy<Value = f64> {
    -85.0..84.0f64
}

fn site() -> impl Strategy<Value = Site> {
    let shape = prop_oneof![
        3 => (lon(), lat()).prop_map(|(x, y)| SiteShape::Point(x, y)),
        1 => vec((lon(), lat()), 1..4).prop_map(SiteShape::Points),
        3 => (lon(), lat(), 1e-4..0.3f64, 1e-4..0.3f64, any::<bool>())
            .prop_map(|(x, y, w, h, island)| SiteShape::Rect { x, y, w, h, island }),
        1 => (lon(), lat(), 1e-4..0.3f64, 1e-4..0.3f64)
            .prop_map(|(x, y, w, h)| SiteShape::TwoRects { x, y, w, h }),
    ];
    (
        // Names as a register holds them: trimmed, quotes, commas and line breaks inside.
        option::of("[A-Za-z0-9ঁ-৺][A-Za-z0-9ঁ-৺ ,;\"'\n.-]{0,16}[A-Za-z0-9ঁ-৺]"),
        option::of(1i64..=144),
        option::of(select(Grade::ALL)),
        option::of(-3000i64..=2100),
        shape,
    )
        .prop_map(|(name, ward, grade, year_built, shape)| Site {
            name,
            ward,
            grade,
            year_built,
            shape,
        })
}

/// How the generated sites travel into the importer.
#[derive(Debug, Clone, Copy)]
enum Carrier {
    Collection,
    Sequence { separators: bool },
    Csv,
    FlatGeobuf,
}

fn position(x: f64, y: f64) -> Json {
    json!([x, y])
}

fn ring_json(r: &LineString<f64>) -> Json {
    Json::Array(r.0.iter().map(|c| position(c.x, c.y)).collect())
}

/// GeoJSON geometry written here, not by the crate's own writer.
fn geometry_json(g: &Geometry<f64>) -> Json {
    let polygon = |p: &geo_types::Polygon<f64>| {
        Json::Array(
            std::iter::once(p.exterior())
                .chain(p.interiors())
                .map(ring_json)
                .collect(),
        )
    };
    match g {
        Geometry::Point(p) => json!({"type": "Point", "coordinates": position(p.x(), p.y())}),
        Geometry::MultiPoint(mp) => json!({"type": "MultiPoint",
            "coordinates": mp.0.iter().map(|p| position(p.x(), p.y())).collect::<Vec<_>>()}),
        Geometry::Polygon(p) => json!({"type": "Polygon", "coordinates": polygon(p)}),
        Geometry::MultiPolygon(mp) => json!({"type": "MultiPolygon",
            "coordinates": mp.0.iter().map(polygon).collect::<Vec<_>>()}),
        other => unreachable!("sites are not {other:?}"),
    }
}

/// WKT written here, with Rust's shortest round-tripping float text.
fn wkt(g: &Geometry<f64>) -> String {
    let ring = |r: &LineString<f64>| {
        let pts: Vec<String> = r.0.iter().map(|c| format!("{} {}", c.x, c.y)).collect();
        format!("({})", pts.join(", "))
    };
    let polygon = |p: &geo_types::Polygon<f64>| {
        let rings: Vec<String> = std::iter::once(p.exterior())
            .chain(p.interiors())
            .map(ring)
            .collect();
        format!("({})", rings.join(", "))
    };
    match g {
        Geometry::Point(p) => format!("POINT ({} {})", p.x(), p.y()),
        Geometry::MultiPoint(mp) => {
            let pts: Vec<String> =
                mp.0.iter()
                    .map(|p| format!("({} {})", p.x(), p.y()))
                    .collect();
            format!("MULTIPOINT ({})", pts.join(", "))
        }
        Geometry::Polygon(p) => format!("POLYGON {}", polygon(p)),
        Geometry::MultiPolygon(mp) => {
            let ps: Vec<String> = mp.0.iter().map(polygon).collect();
            format!("MULTIPOLYGON ({})", ps.join(", "))
        }
        other => unreachable!("sites are not {other:?}"),
    }
}

fn code(i: usize) -> String {
    format!("FZ-{i:03}")
}

fn feature_json(i: usize, s: &Site) -> Json {
    json!({
        "type": "Feature",
        "properties": {
            "code": code(i),
            "kind": "monument",
            "name": s.name,
            "ward": s.ward,
            "grade": s.grade.map(|g| g.as_str()),
            "year_built": s.year_built,
        },
        "geometry": geometry_json(&s.geometry()),
    })
}

/// The sites as stored assets (for the crate's FlatGeobuf writer).
fn as_assets(sites: &[Site]) -> Vec<Item> {
    sites
        .iter()
        .enumerate()
        .map(|(i, s)| {
            Item::Asset(Arc::new(Asset {
                id: AssetId(i as i64 + 1),
                code: code(i),
                layer: Layer::Heritage,
                kind: Kind::Monument,
                attrs: s.attrs(),
                area_m2: None,
                geometry: s.geometry(),
                created_at: "2026-01-01T00:00:00Z".into(),
                updated_at: "2026-01-01T00:00:00Z".into(),
                version: 1,
                ward_from_location: false,
                lock: None,
            }))
        })
        .collect()
}

fn carry(sites: &[Site], carrier: Carrier) -> (Vec<u8>, Format) {
    match carrier {
        Carrier::Collection => {
            let features: Vec<Json> = sites
                .iter()
                .enumerate()
                .map(|(i, s)| feature_json(i, s))
                .collect();
            let fc = json!({"type": "FeatureCollection", "features": features});
            (fc.to_string().into_bytes(), Format::Geojson)
        }
        Carrier::Sequence { separators } => {
            let mut out = Vec::new();
            for (i, s) in sites.iter().enumerate() {
                if separators {
                    out.push(0x1e);
                }
                out.extend(feature_json(i, s).to_string().bytes());
                out.push(b'\n');
            }
            (out, Format::Geojson)
        }
        Carrier::Csv => {
            let mut w = csv::Writer::from_writer(Vec::new());
            w.write_record(["code", "name", "ward", "grade", "year_built", "wkt"])
                .expect("csv header");
            for (i, s) in sites.iter().enumerate() {
                let opt = |v: Option<String>| v.unwrap_or_default();
                w.write_record([
                    code(i),
                    opt(s.name.clone()),
                    opt(s.ward.map(|v| v.to_string())),
                    opt(s.grade.map(|g| g.as_str().to_string())),
                    opt(s.year_built.map(|v| v.to_string())),
                    wkt(&s.geometry()),
                ])
                .expect("csv row");
            }
            (w.into_inner().expect("csv bytes"), Format::Csv)
        }
        Carrier::FlatGeobuf => {
            let mut out = Vec::new();
            write::fgb(
                Collection::Assets(Layer::Heritage),
                &as_assets(sites),
                &Crs::crs84(),
                &mut out,
            )
            .expect("write FlatGeobuf");
            (out, Format::Fgb)
        }
    }
}

/// Whether every coordinate of `want` has its own counterpart in `got` within 1e-7°,
/// with the same number of parts: rings may come back re-oriented or restarted.
fn same_coordinates(want: &Geometry<f64>, got: &Geometry<f64>) -> bool {
    use geo::CoordsIter;
    let parts = |g: &Geometry<f64>| match g {
        Geometry::Polygon(p) => 1 + p.interiors().len(),
        Geometry::MultiPolygon(mp) => mp.0.iter().map(|p| 1 + p.interiors().len()).sum(),
        Geometry::MultiPoint(mp) => mp.0.len(),
        _ => 1,
    };
    let distinct = |g: &Geometry<f64>| {
        let mut v: Vec<(f64, f64)> = g.coords_iter().map(|c| (c.x, c.y)).collect();
        v.sort_by(|a, b| a.partial_cmp(b).unwrap_or(Ordering::Equal));
        v.dedup();
        v
    };
    let (w, mut g) = (distinct(want), distinct(got));
    if parts(want) != parts(got) || w.len() != g.len() {
        return false;
    }
    w.iter().all(|a| {
        let found = g
            .iter()
            .position(|b| (a.0 - b.0).abs() <= 1e-7 && (a.1 - b.1).abs() <= 1e-7);
        found.map(|i| g.swap_remove(i)).is_some()
    })
}

fn check_stored(sites: &[Site], stored: &[Asset], leg: &str) -> Result<(), TestCaseError> {
    prop_assert_eq!(stored.len(), sites.len(), "{}: assets stored", leg);
    for (i, s) in sites.iter().enumerate() {
        let Some(a) = stored.iter().find(|a| a.code == code(i)) else {
            return Err(fail(format!("{leg}: {} is missing", code(i))));
        };
        prop_assert!(
            same_coordinates(&s.geometry(), &a.geometry),
            "{}: {} came back as {:?}, sent {:?}",
            leg,
            code(i),
            a.geometry,
            s.geometry()
        );
        prop_assert_eq!(&a.attrs.name, &s.name, "{}: name of {}", leg, code(i));
        prop_assert_eq!(a.attrs.ward, s.ward, "{}: ward of {}", leg, code(i));
        prop_assert_eq!(a.attrs.grade, s.grade, "{}: grade of {}", leg, code(i));
        prop_assert_eq!(
            a.attrs.year_built,
            s.year_built,
            "{}: year_built of {}",
            leg,
            code(i)
        );
    }
    Ok(())
}

#[test]
fn fuzz_import_roundtrip() {
    let im = Importer::new();
    let carrier = prop_oneof![
        Just(Carrier::Collection),
        any::<bool>().prop_map(|separators| Carrier::Sequence { separators }),
        Just(Carrier::Csv),
        Just(Carrier::FlatGeobuf),
    ];
    fuzz(
        "import_roundtrip",
        (vec(site(), 1..6), carrier),
        |(sites, carrier)| {
            im.clear();
            let n = sites.len() as u64;
            let (bytes, format) = carry(&sites, carrier);
            let opts = heritage_import(None);
            let report = im
                .import(bytes, format, &opts, true)?
                .map_err(|e| fail(format!("valid {carrier:?} refused: {e}")))?;
            // Cleared between cases by delisting: a code seen before is listed again.
            prop_assert_eq!(report.total(), n);

            // Out through the exporter, parsed here.
            let mut out = Vec::new();
            export::write_layer(&im.store, Layer::Heritage, ExportFormat::Geojson, &mut out)
                .map_err(|e| fail(format!("export: {e}")))?;
            let fc: Json = serde_json::from_slice(&out)
                .map_err(|e| fail(format!("the export is not JSON: {e}")))?;
            let features = fc["features"].as_array().cloned().unwrap_or_default();
            prop_assert_eq!(features.len(), sites.len());
            for (i, s) in sites.iter().enumerate() {
                let f = features
                    .iter()
                    .find(|f| f["properties"]["code"] == code(i))
                    .ok_or_else(|| fail(format!("{} missing from the export", code(i))))?;
                let g: geojson::Geometry = serde_json::from_value(f["geometry"].clone())
                    .map_err(|e| fail(format!("exported geometry: {e}")))?;
                let g = Geometry::<f64>::try_from(g)
                    .map_err(|e| fail(format!("exported geometry: {e}")))?;
                prop_assert!(
                    same_coordinates(&s.geometry(), &g),
                    "{} exported as {:?}, sent {:?}",
                    code(i),
                    g,
                    s.geometry()
                );
                prop_assert_eq!(
                    f["properties"]["name"].as_str(),
                    s.name.as_deref(),
                    "name of {}",
                    code(i)
                );
            }

            // Our own downloads (FlatGeobuf, CSV) import back as updates of the same sites.
            for (leg, format) in [("fgb", Format::Fgb), ("csv", Format::Csv)] {
                let items: Vec<Item> = im
                    .heritage()
                    .into_iter()
                    .map(|a| Item::Asset(Arc::new(a)))
                    .collect();
                let c = Collection::Assets(Layer::Heritage);
                let mut bytes = Vec::new();
                if format == Format::Fgb {
                    write::fgb(c, &items, &Crs::crs84(), &mut bytes)
                        .map_err(|e| fail(e.to_string()))?;
                } else {
                    write::csv(c, &items, &Crs::crs84(), &mut bytes)
                        .map_err(|e| fail(e.to_string()))?;
                }
                let again = im
                    .import(bytes, format, &opts, true)?
                    .map_err(|e| fail(format!("our own {leg} download refused: {e}")))?;
                // Our own download read back changes nothing: no new versions.
                prop_assert_eq!(
                    (again.inserted, again.updated, again.unchanged),
                    (0, 0, n),
                    "{} re-import",
                    leg
                );
                check_stored(&sites, &im.heritage(), leg)?;
            }
            Ok(())
        },
    );
}

/// GeoJSON-shaped JSON: the right member names and type names, the wrong everything else.
fn geojsonish() -> impl Strategy<Value = Json> {
    let number = prop_oneof![
        (-200.0..200.0f64).prop_map(Json::from),
        select(vec![
            0.0,
            -0.0,
            1e308,
            -1e308,
            5e-324,
            88.35,
            22.55,
            180.0000001,
            90.5,
            1e16,
            4e6
        ])
        .prop_map(Json::from),
        any::<i64>().prop_map(Json::from),
        Just(Json::from(u64::MAX)),
    ];
    let word = select(vec![
        "Feature",
        "FeatureCollection",
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
        "building",
        "pond",
        "I",
        "V",
        "good",
        "true",
        "63",
        "",
        "\u{0}",
    ])
    .prop_map(Json::from);
    let leaf = prop_oneof![
        Just(Json::Null),
        any::<bool>().prop_map(Json::from),
        number.clone(),
        word,
        ".{0,8}".prop_map(Json::from),
    ];
    let key = prop_oneof![
        4 => select(vec![
            "type", "features", "geometry", "coordinates", "properties", "crs", "id",
            "code", "kind", "name", "ward", "grade", "year_built", "protected",
            "condition", "geometries", "bbox",
        ])
        .prop_map(str::to_string),
        1 => ".{0,6}",
    ];
    leaf.prop_recursive(5, 48, 6, move |inner| {
        prop_oneof![
            vec(inner.clone(), 0..6).prop_map(Json::Array),
            vec(number.clone(), 0..4).prop_map(Json::Array),
            vec((key.clone(), inner), 0..6).prop_map(|kv| Json::Object(kv.into_iter().collect())),
        ]
    })
}

/// Positions nested `depth` arrays deep, some of them short, long or not numbers.
fn coordinates(depth: u32) -> BoxedStrategy<Json> {
    let position = prop_oneof![
        4 => (-180.0..180.0f64, -90.0..90.0f64).prop_map(|(x, y)| json!([x, y])),
        1 => vec(geojsonish(), 0..4).prop_map(Json::Array),
        1 => (-1e7..1e7f64, -1e7..1e7f64).prop_map(|(x, y)| json!([x, y, 0.0])),
    ];
    if depth == 0 {
        position.boxed()
    } else {
        prop_oneof![
            6 => vec(coordinates(depth - 1), 0..6).prop_map(Json::Array),
            1 => geojsonish(),
        ]
        .boxed()
    }
}

const CRS_NAMES: &[&str] = &[
    "EPSG:4326",
    "EPSG:32645",
    "EPSG:3857",
    "EPSG:7755",
    "urn:ogc:def:crs:EPSG::32645",
    "urn:ogc:def:crs:OGC:1.3:CRS84",
    "http://www.opengis.net/def/crs/EPSG/0/32645",
    "EPSG:999999",
    "EPSG:-1",
    "EPSG:",
    "EPSG:0",
    "32645",
    "",
    "+proj=",
    "+proj=utm +zone=0",
    "+proj=utm +zone=61",
    "+proj=lcc +lat_1=90 +lat_2=-90",
    "+proj=merc +a=0",
    "+proj=tmerc +k=0",
    "+proj=stere +lat_0=90 +lat_ts=-91",
    "+proj=longlat +towgs84=1,2",
    "+proj=nosuch",
];

fn geojson_feature() -> impl Strategy<Value = Json> {
    let ty = select(vec![
        "Point",
        "MultiPoint",
        "LineString",
        "MultiLineString",
        "Polygon",
        "MultiPolygon",
        "GeometryCollection",
        "Circle",
    ]);
    let props = vec(
        (
            select(vec![
                "code",
                "kind",
                "name",
                "ward",
                "grade",
                "year_built",
                "condition",
                "protected",
                "status",
                "id",
                "extra",
            ]),
            geojsonish(),
        ),
        0..5,
    );
    (ty, 0u32..4, props, option::of(geojsonish())).prop_flat_map(|(ty, depth, props, id)| {
        coordinates(depth).prop_map(move |c| {
            let props: serde_json::Map<String, Json> = props
                .iter()
                .map(|(k, v)| ((*k).to_string(), v.clone()))
                .collect();
            json!({"type": "Feature", "id": id, "properties": props,
                   "geometry": {"type": ty, "coordinates": c}})
        })
    })
}

#[test]
fn fuzz_import_geojson_structured() {
    let im = Importer::new();
    let document = prop_oneof![
        (vec(geojson_feature(), 0..4), option::of(select(CRS_NAMES))).prop_map(|(f, crs)| {
            let mut fc = json!({"type": "FeatureCollection", "features": f});
            if let Some(c) = crs {
                fc["crs"] = json!({"type": "name", "properties": {"name": c}});
            }
            fc.to_string()
        }),
        vec(geojson_feature(), 1..4)
            .prop_map(|f| { f.iter().map(|f| format!("\u{1e}{f}\n")).collect::<String>() }),
        geojson_feature().prop_map(|f| f.to_string()),
        geojsonish().prop_map(|v| v.to_string()),
    ];
    fuzz(
        "import_geojson_structured",
        (document, option::of(select(CRS_NAMES))),
        |(doc, crs)| {
            let _accepted_or_refused = im.import(
                doc.into_bytes(),
                Format::Geojson,
                &heritage_import(crs),
                false,
            )?;
            Ok(())
        },
    );
}

/// A GeoJSON point feature whose coordinates are the text `c`.
fn point_feature(c: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"Feature","properties":{{}},"geometry":{{"type":"Point","coordinates":{c}}}}}"#
    )
    .into_bytes()
}

/// Raw text and bytes that are hostile to a parser: deep nesting, NaN and infinities,
/// numbers out of range, unterminated strings and invalid UTF-8.
fn hostile_document() -> impl Strategy<Value = Vec<u8>> {
    let nested = |d: usize, inner: &str| format!("{}{inner}{}", "[".repeat(d), "]".repeat(d));
    let coordinates = select(vec![
        "[NaN,22]",
        "[Infinity,22]",
        "[-Infinity,1]",
        "[1e400,22]",
        "[88,1e-400]",
        "[1e999999999999,0]",
        "[88.3]",
        "[]",
        "[\"88\",\"22\"]",
        "[88,22,1,2,3]",
        "[null,null]",
        "[true,false]",
        "{\"x\":1}",
    ]);
    prop_oneof![
        (1usize..3000).prop_map(move |d| nested(d, "1").into_bytes()),
        (1usize..3000).prop_map(move |d| point_feature(&nested(d, "88,22"))),
        (1usize..3000).prop_map(|d| "{\"type\":".repeat(d).into_bytes()),
        coordinates.prop_map(point_feature),
        (1usize..400).prop_map(|n| point_feature(&format!("[{},22]", "9".repeat(n)))),
        Just(br#"{"type":"Feature","properties":{"name":"unterminated"#.to_vec()),
        Just(b"{\"type\":\"Feature\",\"properties\":{\"name\":\"\xff\xfe\xc0\xaf\"}}".to_vec()),
        Just(b"\xef\xbb\xbf{\"type\":\"FeatureCollection\",\"features\":[]}".to_vec()),
        vec(any::<u8>(), 0..512),
        vec(
            prop_oneof![
                Just(0x1eu8),
                Just(b'\n'),
                Just(b'{'),
                Just(b'}'),
                any::<u8>()
            ],
            0..256
        ),
    ]
}

fn hostile_csv() -> impl Strategy<Value = Vec<u8>> {
    let header = select(vec![
        "lon,lat,name",
        "x,y",
        "wkt,name",
        "WKT",
        "\u{feff}longitude,latitude,code",
        "lon,lat,lon,lat",
        "name",
        "",
    ]);
    let cell = prop_oneof![
        hostile_value(),
        select(vec![
            "POINT(88 22)",
            "POINT EMPTY",
            "POINT(NaN NaN)",
            "POINT(inf 1)",
            "POINT(1e400 1)",
            "POLYGON((0 0,1 0,1 1,0 0))",
            "POLYGON((0 0,1 0,1 1,0 1))",
            "POLYGON((0 0,1 1,1 0,0 1,0 0))",
            "POLYGON(())",
            "MULTIPOLYGON(((0 0,1 0,1 1,0 0)),((5 5,6 5,6 6,5 5)))",
            "LINESTRING(0 0)",
            "GEOMETRYCOLLECTION(POINT(1 2))",
            "GEOMETRYCOLLECTION EMPTY",
            "TRIANGLE((0 0,1 0,0 1,0 0))",
            "POINT Z(1 2 3)",
            "POINT(1 2",
            "\"",
            "\"unterminated",
        ])
        .prop_map(str::to_string),
        (1usize..200).prop_map(|d| format!(
            "{}POINT(1 2){}",
            "GEOMETRYCOLLECTION(".repeat(d),
            ")".repeat(d)
        )),
    ];
    let row = vec(cell, 0..5).prop_map(|c| {
        c.iter()
            .map(|v| format!("\"{}\"", v.replace('"', "\"\"")))
            .collect::<Vec<_>>()
            .join(",")
    });
    prop_oneof![
        4 => (header, vec(row, 0..4)).prop_map(|(h, rows)| {
            let mut s = h.to_string();
            for r in rows {
                s.push('\n');
                s.push_str(&r);
            }
            s.into_bytes()
        }),
        1 => vec(any::<u8>(), 0..256),
    ]
}

/// Bytes that pass FlatGeobuf's magic check, then go wrong.
fn hostile_fgb() -> impl Strategy<Value = Vec<u8>> {
    let magic = b"fgb\x03fgb\x00".to_vec();
    (
        prop_oneof![
            Just(8u32),
            Just(u32::MAX),
            Just(10 << 20),
            (10u32 << 20) + 1..u32::MAX,
            0u32..256
        ],
        vec(any::<u8>(), 0..512),
    )
        .prop_map(move |(size, rest)| {
            let mut b = magic.clone();
            b.extend(size.to_le_bytes());
            b.extend(rest);
            b
        })
}

#[test]
fn fuzz_import_hostile_bytes() {
    let im = Importer::new();
    let input = prop_oneof![
        hostile_document().prop_map(|b| (b, Format::Geojson)),
        hostile_csv().prop_map(|b| (b, Format::Csv)),
        hostile_fgb().prop_map(|b| (b, Format::Fgb)),
    ];
    fuzz("import_hostile_bytes", input, |(bytes, format)| {
        let _accepted_or_refused = im.import(bytes, format, &heritage_import(None), false)?;
        Ok(())
    });
}

/// Mutates one of `fixtures` (file, format, source CRS) and imports it.
fn mutated_imports(target: &str, fixtures: &[(&str, Format, Option<&'static str>)]) {
    let im = Importer::new();
    let loaded: Vec<(Vec<u8>, Format, Option<&'static str>)> = fixtures
        .iter()
        .map(|(f, fmt, crs)| (fixture_bytes(f), *fmt, *crs))
        .collect();
    // The fixtures themselves import cleanly: a mutation is what breaks them.
    for (bytes, fmt, crs) in &loaded {
        let report = im
            .import(bytes.clone(), *fmt, &heritage_import(*crs), false)
            .unwrap_or_else(|e| panic!("fixture: {e}"));
        assert!(report.as_ref().is_ok_and(|r| r.total() > 0), "{report:?}");
    }
    fuzz(
        target,
        (0..loaded.len(), mutations()),
        |(which, mutations)| {
            let (bytes, format, crs) = &loaded[which];
            let bytes = mutate(bytes.clone(), &mutations);
            let _accepted_or_refused = im.import(bytes, *format, &heritage_import(*crs), false)?;
            Ok(())
        },
    );
}

#[test]
fn fuzz_mutate_geojson() {
    mutated_imports(
        "mutate_geojson",
        &[
            ("sample_4326.geojson", Format::Geojson, None),
            ("sample_32645.geojson", Format::Geojson, None),
            ("sample_4326.geojsonl", Format::Geojson, None),
        ],
    );
}

#[test]
fn fuzz_mutate_fgb() {
    mutated_imports("mutate_fgb", &[("sample_3857.fgb", Format::Fgb, None)]);
}

#[test]
fn fuzz_mutate_csv() {
    mutated_imports(
        "mutate_csv",
        &[
            ("sample_7755.csv", Format::Csv, Some("EPSG:7755")),
            ("points_4326.csv", Format::Csv, None),
        ],
    );
}

/// Found by `mutate_fgb`: 24 bytes cut from the header leave a feature-size prefix of
/// 330 MB in a 2.9 KB file, and the reader allocates (and zeroes) all of it before it
/// finds the file too short.
#[test]
fn regression_fgb_feature_size_is_capped() {
    watch_panics();
    let mut b = fixture_bytes("sample_3857.fgb");
    b.drain(15..39);
    let r = Importer::new()
        .import(b, Format::Fgb, &heritage_import(None), false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.is_err(), "{r:?}");
}

/// Found by `mutate_fgb`: bit 3 of byte 71 (the header's feature count) flipped makes the
/// count near 2^60, and flatgeobuf sized the index from it with an unchecked multiply
/// (overflow: a panic in debug builds) before reading any of it.
#[test]
fn regression_fgb_feature_count_is_capped() {
    watch_panics();
    let mut b = fixture_bytes("sample_3857.fgb");
    b[71] ^= 1 << 3;
    let r = Importer::new()
        .import(b, Format::Fgb, &heritage_import(None), false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.is_err(), "{r:?}");
}

/// Found by `mutate_fgb`: four zero bytes inserted and one bit flipped corrupt a
/// property's length; flatgeobuf's property reader panics (slice out of range) on the
/// import thread, and `import_reader` reports success with the one feature before it.
#[test]
fn regression_fgb_corrupt_property_fails_the_import() {
    watch_panics();
    let mut b = fixture_bytes("sample_3857.fgb");
    b.splice(2384..2384, [0, 0, 0, 0]);
    b[2191] ^= 1;
    let r = Importer::new()
        .import(b, Format::Fgb, &heritage_import(None), false)
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(r.is_err(), "{r:?}");
}

// ---------------------------------------------------------------------------------------
// CQL2: generated expressions against a brute-force evaluation written here.
// ---------------------------------------------------------------------------------------

/// The properties the oracle filters on (all queryables of the heritage collection).
const PROPS: [&str; 5] = ["name", "ward", "grade", "year_built", "code"];

struct OracleProps;

impl Queryables for OracleProps {
    fn is_queryable(&self, name: &str) -> bool {
        PROPS.contains(&name)
    }
}

/// A record on a grid of points near Kolkata: `at` is its (column, row).
#[derive(Debug, Clone)]
struct Rec {
    values: [Value; 5],
    at: (i32, i32),
    geometry: Geometry<f64>,
}

fn grid_lon(k: f64) -> f64 {
    88.3 + 0.01 * k
}

fn grid_lat(k: f64) -> f64 {
    22.5 + 0.01 * k
}

impl Rec {
    fn new(values: [Value; 5], at: (i32, i32)) -> Rec {
        let p = Point::new(grid_lon(f64::from(at.0)), grid_lat(f64::from(at.1)));
        Rec {
            values,
            at,
            geometry: Geometry::Point(p),
        }
    }

    fn value(&self, prop: &str) -> Value {
        PROPS
            .iter()
            .position(|p| *p == prop)
            .map_or(Value::Null, |i| self.values[i].clone())
    }
}

impl Record for Rec {
    fn get(&self, name: &str) -> Value {
        self.value(name)
    }

    fn geometry(&self) -> &Geometry<f64> {
        &self.geometry
    }
}

#[derive(Debug, Clone, Copy)]
enum NumText {
    Plain,
    Exponent,
    Plus,
}

#[derive(Debug, Clone, Copy)]
enum StrText {
    Quoted,
    Date,
    Timestamp,
}

#[derive(Debug, Clone)]
enum Lit {
    Num(f64, NumText),
    Str(String, StrText),
    Bool(bool),
}

impl Lit {
    fn value(&self) -> Value {
        match self {
            Lit::Num(n, _) => Value::Num(*n),
            Lit::Str(s, _) => Value::Str(s.clone()),
            Lit::Bool(b) => Value::Bool(*b),
        }
    }
}

#[derive(Debug, Clone)]
enum Operand {
    /// A property, bare or in double quotes.
    Prop(&'static str, bool),
    Lit(Lit),
}

#[derive(Debug, Clone, Copy)]
enum Op {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Op {
    fn text(self) -> &'static str {
        match self {
            Op::Eq => "=",
            Op::Ne => "<>",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
        }
    }

    fn holds(self, o: Ordering) -> bool {
        match self {
            Op::Eq => o == Ordering::Equal,
            Op::Ne => o != Ordering::Equal,
            Op::Lt => o == Ordering::Less,
            Op::Le => o != Ordering::Greater,
            Op::Gt => o == Ordering::Greater,
            Op::Ge => o != Ordering::Less,
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Spatial {
    Intersects,
    Within,
    Contains,
    Disjoint,
}

/// A geometry literal on the grid: boxes have half-cell edges, so no record lies on one.
#[derive(Debug, Clone, Copy)]
enum GeomLit {
    BBox { x0: i32, x1: i32, y0: i32, y1: i32 },
    Point(i32, i32),
}

#[derive(Debug, Clone)]
enum Ex {
    And(Box<Ex>, Box<Ex>),
    Or(Box<Ex>, Box<Ex>),
    Not(Box<Ex>),
    Paren(Box<Ex>),
    Bool(bool),
    Cmp(Operand, Op, Operand),
    Like(&'static str, String, bool),
    Between(&'static str, Lit, Lit, bool),
    In(&'static str, Vec<Lit>, bool),
    IsNull(&'static str, bool),
    /// The predicate, the literal, and whether the literal comes first.
    Spatial(Spatial, GeomLit, bool),
}

/// How an expression is spelled: keyword case and the white space between tokens.
#[derive(Debug, Clone, Copy)]
struct Style {
    case: u8,
    sep: &'static str,
}

impl Style {
    fn kw(&self, k: &str) -> String {
        match self.case {
            0 => k.to_ascii_uppercase(),
            1 => k.to_ascii_lowercase(),
            _ => k
                .chars()
                .enumerate()
                .map(|(i, c)| {
                    if i % 2 == 0 {
                        c.to_ascii_uppercase()
                    } else {
                        c.to_ascii_lowercase()
                    }
                })
                .collect(),
        }
    }
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn lit_text(l: &Lit, s: &Style) -> String {
    match l {
        Lit::Num(n, NumText::Exponent) => format!("{n:e}"),
        Lit::Num(n, NumText::Plus) if n.is_sign_positive() => format!("+{n}"),
        Lit::Num(n, _) => format!("{n}"),
        Lit::Str(t, StrText::Quoted) => quote(t),
        Lit::Str(t, StrText::Date) => format!("{}({})", s.kw("date"), quote(t)),
        Lit::Str(t, StrText::Timestamp) => format!("{}({})", s.kw("timestamp"), quote(t)),
        Lit::Bool(b) => s.kw(if *b { "true" } else { "false" }),
    }
}

fn operand_text(o: &Operand, s: &Style) -> String {
    match o {
        Operand::Prop(p, true) => format!("\"{p}\""),
        Operand::Prop(p, false) => (*p).to_string(),
        Operand::Lit(l) => lit_text(l, s),
    }
}

fn geom_text(g: &GeomLit, s: &Style) -> String {
    let sep = s.sep;
    let half = |k: i32| f64::from(k) - 0.5;
    match g {
        GeomLit::BBox { x0, x1, y0, y1 } => format!(
            "{}({},{sep}{},{sep}{},{sep}{})",
            s.kw("bbox"),
            grid_lon(half(*x0)),
            grid_lat(half(*y0)),
            grid_lon(half(*x1)),
            grid_lat(half(*y1))
        ),
        GeomLit::Point(i, j) => format!(
            "{}({}{sep}{})",
            s.kw("point"),
            grid_lon(f64::from(*i)),
            grid_lat(f64::from(*j))
        ),
    }
}

/// Binding strength: OR 1, AND 2, NOT 3, everything else 4.
fn strength(e: &Ex) -> u8 {
    match e {
        Ex::Or(..) => 1,
        Ex::And(..) => 2,
        Ex::Not(_) => 3,
        _ => 4,
    }
}

/// CQL2 text for `e`, parenthesised only where the grammar needs it (OR and AND are
/// associative, so a right-nested chain may parse left-nested: same meaning).
fn render(e: &Ex, s: &Style, min: u8) -> String {
    let sep = s.sep;
    let not = |neg: &bool| {
        if *neg {
            format!("{}{sep}", s.kw("not"))
        } else {
            String::new()
        }
    };
    let text = match e {
        Ex::Or(a, b) => format!(
            "{}{sep}{}{sep}{}",
            render(a, s, 1),
            s.kw("or"),
            render(b, s, 1)
        ),
        Ex::And(a, b) => format!(
            "{}{sep}{}{sep}{}",
            render(a, s, 2),
            s.kw("and"),
            render(b, s, 2)
        ),
        Ex::Not(a) => format!("{}{sep}{}", s.kw("not"), render(a, s, 3)),
        Ex::Paren(a) => format!("({sep}{}{sep})", render(a, s, 1)),
        Ex::Bool(b) => s.kw(if *b { "true" } else { "false" }),
        Ex::Cmp(a, op, b) => format!(
            "{}{sep}{}{sep}{}",
            operand_text(a, s),
            op.text(),
            operand_text(b, s)
        ),
        Ex::Like(p, pat, neg) => format!("{p}{sep}{}{}{sep}{}", not(neg), s.kw("like"), quote(pat)),
        Ex::Between(p, lo, hi, neg) => format!(
            "{p}{sep}{}{}{sep}{}{sep}{}{sep}{}",
            not(neg),
            s.kw("between"),
            lit_text(lo, s),
            s.kw("and"),
            lit_text(hi, s)
        ),
        Ex::In(p, items, neg) => {
            let items: Vec<String> = items.iter().map(|l| lit_text(l, s)).collect();
            format!(
                "{p}{sep}{}{}{sep}({})",
                not(neg),
                s.kw("in"),
                items.join(&format!(",{sep}"))
            )
        }
        Ex::IsNull(p, neg) => format!("{p}{sep}{}{sep}{}{}", s.kw("is"), not(neg), s.kw("null")),
        Ex::Spatial(op, g, literal_first) => {
            let name = match op {
                Spatial::Intersects => "s_intersects",
                Spatial::Within => "s_within",
                Spatial::Contains => "s_contains",
                Spatial::Disjoint => "s_disjoint",
            };
            let (geometry, lit) = (s.kw("geometry"), geom_text(g, s));
            let (a, b) = if *literal_first {
                (lit, geometry)
            } else {
                (geometry, lit)
            };
            format!("{}({a},{sep}{b})", s.kw(name))
        }
    };
    if strength(e) < min {
        format!("({text})")
    } else {
        text
    }
}

/// Orders two values as CQL2 compares them here: numbers by value, text by code point,
/// booleans false < true, a number against numeric text by value; nothing else compares.
fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    let numeric = |s: &str| s.trim().parse::<f64>().ok();
    match (a, b) {
        (Value::Num(x), Value::Num(y)) => x.partial_cmp(y),
        (Value::Str(x), Value::Str(y)) => Some(x.chars().cmp(y.chars())),
        (Value::Bool(x), Value::Bool(y)) => Some(x.cmp(y)),
        (Value::Num(x), Value::Str(y)) => numeric(y).and_then(|y| x.partial_cmp(&y)),
        (Value::Str(x), Value::Num(y)) => numeric(x).and_then(|x| x.partial_cmp(y)),
        _ => None,
    }
}

/// SQL LIKE by dynamic programming over (text prefix, pattern prefix).
fn like(text: &str, pattern: &str) -> bool {
    let (t, p): (Vec<char>, Vec<char>) = (text.chars().collect(), pattern.chars().collect());
    let mut m = vec![vec![false; p.len() + 1]; t.len() + 1];
    m[0][0] = true;
    for j in 1..=p.len() {
        m[0][j] = m[0][j - 1] && p[j - 1] == '%';
    }
    for i in 1..=t.len() {
        for j in 1..=p.len() {
            m[i][j] = match p[j - 1] {
                '%' => m[i][j - 1] || m[i - 1][j],
                '_' => m[i - 1][j - 1],
                c => m[i - 1][j - 1] && t[i - 1] == c,
            };
        }
    }
    m[t.len()][p.len()]
}

/// Whether a grid point lies in a box or on a point literal.
fn spatial(op: Spatial, g: GeomLit, literal_first: bool, at: (i32, i32)) -> bool {
    let hit = match g {
        // Box edges are at half cells: `x0 - 0.5 < i < x1 - 0.5`.
        GeomLit::BBox { x0, x1, y0, y1 } => x0 <= at.0 && at.0 < x1 && y0 <= at.1 && at.1 < y1,
        GeomLit::Point(i, j) => (i, j) == at,
    };
    let point_literal = matches!(g, GeomLit::Point(..));
    match (op, literal_first) {
        (Spatial::Intersects, _) => hit,
        (Spatial::Disjoint, _) => !hit,
        // The record within the literal; a box is never within a point.
        (Spatial::Within, false) | (Spatial::Contains, true) => hit,
        (Spatial::Within, true) | (Spatial::Contains, false) => point_literal && hit,
    }
}

/// The brute-force evaluation: comparisons with null (or across kinds) are false, and so
/// are BETWEEN, IN and LIKE on a null value whether negated or not.
fn eval(e: &Ex, r: &Rec) -> bool {
    let operand = |o: &Operand| match o {
        Operand::Prop(p, _) => r.value(p),
        Operand::Lit(l) => l.value(),
    };
    match e {
        Ex::And(a, b) => eval(a, r) && eval(b, r),
        Ex::Or(a, b) => eval(a, r) || eval(b, r),
        Ex::Not(a) => !eval(a, r),
        Ex::Paren(a) => eval(a, r),
        Ex::Bool(b) => *b,
        Ex::Cmp(a, op, b) => compare(&operand(a), &operand(b)).is_some_and(|o| op.holds(o)),
        Ex::Like(p, pat, neg) => match r.value(p) {
            Value::Str(s) => like(&s, pat) != *neg,
            Value::Num(n) => like(&n.to_string(), pat) != *neg,
            _ => false,
        },
        Ex::Between(p, lo, hi, neg) => {
            let v = r.value(p);
            let inside = matches!(
                compare(&v, &lo.value()),
                Some(Ordering::Greater | Ordering::Equal)
            ) && matches!(
                compare(&v, &hi.value()),
                Some(Ordering::Less | Ordering::Equal)
            );
            !matches!(v, Value::Null) && inside != *neg
        }
        Ex::In(p, items, neg) => {
            let v = r.value(p);
            let found = items
                .iter()
                .any(|l| compare(&v, &l.value()) == Some(Ordering::Equal));
            !matches!(v, Value::Null) && found != *neg
        }
        Ex::IsNull(p, neg) => matches!(r.value(p), Value::Null) != *neg,
        Ex::Spatial(op, g, literal_first) => spatial(*op, *g, *literal_first, r.at),
    }
}

/// Words that are, or look like, what records hold.
const WORDS: &[&str] = &[
    "Alpha",
    "alpha",
    "alpha beta",
    "63",
    " 7 ",
    "1e2",
    "NaN",
    "inf",
    "ভিক্টোরিয়া",
    "O'Neil",
    "Ba%_",
    "",
    "I",
    "IIA",
    "III",
    "FZ-001",
    "a",
    "ab",
    "b",
    "2026-01-01",
];

fn num_value() -> impl Strategy<Value = f64> {
    prop_oneof![
        3 => (-3i32..8).prop_map(f64::from),
        2 => select(vec![
            63.0, 1921.0, -50.0, 2000.0, 0.5, -0.0, 100.0, 7.0, 1e300, -1e300, 5e-324, 1e-7,
        ]),
    ]
}

fn str_value() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => select(WORDS).prop_map(str::to_string),
        1 => "[ab'%_ 0-9]{0,4}",
    ]
}

fn lit() -> impl Strategy<Value = Lit> {
    let num_text = select(vec![NumText::Plain, NumText::Exponent, NumText::Plus]);
    let str_text = select(vec![StrText::Quoted, StrText::Date, StrText::Timestamp]);
    prop_oneof![
        3 => (num_value(), num_text).prop_map(|(n, t)| Lit::Num(n, t)),
        3 => (str_value(), str_text).prop_map(|(s, t)| Lit::Str(s, t)),
        1 => any::<bool>().prop_map(Lit::Bool),
    ]
}

fn field_value() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => Just(Value::Null),
        3 => num_value().prop_map(Value::Num),
        3 => str_value().prop_map(Value::Str),
        1 => any::<bool>().prop_map(Value::Bool),
    ]
}

fn prop_name() -> impl Strategy<Value = &'static str> {
    select(PROPS.to_vec())
}

fn geom_lit() -> impl Strategy<Value = GeomLit> {
    prop_oneof![
        (-2i32..9, 1i32..7, -2i32..7, 1i32..6).prop_map(|(x0, w, y0, h)| GeomLit::BBox {
            x0,
            x1: x0 + w,
            y0,
            y1: y0 + h
        }),
        (0i32..8, 0i32..6).prop_map(|(i, j)| GeomLit::Point(i, j)),
    ]
}

fn expr() -> BoxedStrategy<Ex> {
    let operand = prop_oneof![
        2 => (prop_name(), any::<bool>()).prop_map(|(p, q)| Operand::Prop(p, q)),
        1 => lit().prop_map(Operand::Lit),
    ];
    let op = select(vec![Op::Eq, Op::Ne, Op::Lt, Op::Le, Op::Gt, Op::Ge]);
    let spatial = select(vec![
        Spatial::Intersects,
        Spatial::Within,
        Spatial::Contains,
        Spatial::Disjoint,
    ]);
    let leaf = prop_oneof![
        1 => any::<bool>().prop_map(Ex::Bool),
        4 => (operand.clone(), op, operand).prop_map(|(a, o, b)| Ex::Cmp(a, o, b)),
        2 => (prop_name(), "[ab%_]{0,5}", any::<bool>()).prop_map(|(p, s, n)| Ex::Like(p, s, n)),
        2 => (prop_name(), lit(), lit(), any::<bool>())
            .prop_map(|(p, a, b, n)| Ex::Between(p, a, b, n)),
        2 => (prop_name(), vec(lit(), 1..4), any::<bool>()).prop_map(|(p, v, n)| Ex::In(p, v, n)),
        2 => (prop_name(), any::<bool>()).prop_map(|(p, n)| Ex::IsNull(p, n)),
        2 => (spatial, geom_lit(), any::<bool>()).prop_map(|(o, g, f)| Ex::Spatial(o, g, f)),
    ];
    leaf.prop_recursive(4, 24, 2, |inner| {
        prop_oneof![
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Ex::And(Box::new(a), Box::new(b))),
            (inner.clone(), inner.clone()).prop_map(|(a, b)| Ex::Or(Box::new(a), Box::new(b))),
            inner.clone().prop_map(|a| Ex::Not(Box::new(a))),
            inner.prop_map(|a| Ex::Paren(Box::new(a))),
        ]
    })
    .boxed()
}

fn style() -> impl Strategy<Value = Style> {
    (0u8..3, select(vec![" ", "  ", "\t", "\n", " \r\n "]))
        .prop_map(|(case, sep)| Style { case, sep })
}

fn record() -> impl Strategy<Value = Rec> {
    (
        [
            field_value(),
            field_value(),
            field_value(),
            field_value(),
            field_value(),
        ],
        (0i32..8, 0i32..6),
    )
        .prop_map(|(values, at)| Rec::new(values, at))
}

/// Every record an expression matches lies in the box it hints (the R-tree pre-filter).
fn hint_holds(e: &cql2::Expr, matched: &[&Geometry<f64>]) -> Result<(), TestCaseError> {
    use geo::BoundingRect;
    if let Some(h) = e.bbox_hint() {
        for g in matched {
            let Some(b) = g.bounding_rect() else { continue };
            prop_assert!(
                h.min().x <= b.min().x
                    && b.max().x <= h.max().x
                    && h.min().y <= b.min().y
                    && b.max().y <= h.max().y,
                "matched {:?} lies outside the hint {:?}",
                g,
                h
            );
        }
    }
    Ok(())
}

#[test]
fn fuzz_cql2_oracle() {
    let tally = Tally::default();
    fuzz(
        "cql2_oracle",
        (expr(), style(), vec(record(), 1..8)),
        |(e, s, records)| {
            let text = render(&e, &s, 0);
            let parsed = cql2::parse(&text, &OracleProps)
                .map_err(|err| fail(format!("{text:?} was refused: {err}")))?;
            let mut matched = Vec::new();
            for r in &records {
                let (got, want) = (parsed.matches(r), eval(&e, r));
                prop_assert_eq!(got, want, "{:?} on {:?}", text, r);
                tally.add(got);
                if got {
                    matched.push(&r.geometry);
                }
            }
            hint_holds(&parsed, &matched)
        },
    );
    tally.both_seen("cql2_oracle");
}

/// Spatial filters anywhere on earth, records near them (across the antimeridian and
/// near the poles too): whatever matches must lie inside the hinted box.
#[test]
fn fuzz_cql2_bbox_hint() {
    let centre = (
        prop_oneof![Just(179.9), Just(-179.9), Just(0.0), -180.0..180.0f64],
        prop_oneof![Just(89.0), Just(-85.0), Just(22.5), -90.0..90.0f64],
    );
    let predicate = prop_oneof![
        (
            0.0..500_000.0f64,
            select(vec!["meters", "m", "kilometers", "km"])
        )
            .prop_map(|(d, unit)| (d, unit, None)),
        (
            0.1..20.0f64,
            0.1..20.0f64,
            select(vec!["s_intersects", "s_within"])
        )
            .prop_map(|(w, h, op)| (w, op, Some(h))),
    ];
    // Records close by (most match) and far off (most do not), so a run of 64 cases
    // sees both outcomes: with close ones only, every case matched now and then.
    let offsets = vec(
        prop_oneof![
            (-3.0..3.0f64, -3.0..3.0f64),
            (-40.0..40.0f64, -40.0..40.0f64)
        ],
        1..24,
    );
    let tally = Tally::default();
    fuzz(
        "cql2_bbox_hint",
        (centre, predicate, offsets, any::<bool>()),
        |((cx, cy), (a, word, h), offsets, negate_other)| {
            let text = match h {
                None => format!("S_DWITHIN(geometry, POINT({cx} {cy}), {a}, {word})"),
                Some(h) => format!(
                    "{word}(geometry, BBOX({}, {}, {}, {}))",
                    (cx - a).max(-180.0),
                    (cy - h).max(-90.0),
                    (cx + a).min(180.0),
                    (cy + h).min(90.0)
                ),
            };
            let text = if negate_other {
                format!("{text} AND NOT name = 'x'")
            } else {
                text
            };
            let e = cql2::parse(&text, &OracleProps)
                .map_err(|err| fail(format!("{text:?} was refused: {err}")))?;
            let records: Vec<Rec> = offsets
                .iter()
                .map(|(dx, dy)| {
                    let x = cx + dx;
                    let x = if x > 180.0 {
                        x - 360.0
                    } else if x < -180.0 {
                        x + 360.0
                    } else {
                        x
                    };
                    let mut r = Rec::new(std::array::from_fn(|_| Value::Null), (0, 0));
                    r.geometry = Geometry::Point(Point::new(x, (cy + dy).clamp(-90.0, 90.0)));
                    r
                })
                .collect();
            let matched: Vec<&Geometry<f64>> = records
                .iter()
                .filter(|r| e.matches(*r))
                .map(|r| &r.geometry)
                .collect();
            tally.add(!matched.is_empty());
            hint_holds(&e, &matched).map_err(|err| fail(format!("{text}: {err}")))
        },
    );
    tally.both_seen("cql2_bbox_hint");
}

const CQL2_TOKENS: &[&str] = &[
    "(",
    ")",
    ",",
    "'",
    "\"",
    "=",
    "<",
    ">",
    "<=",
    "<>",
    ">=",
    "==",
    "AND",
    "OR",
    "NOT",
    "LIKE",
    "BETWEEN",
    "IN",
    "IS",
    "NULL",
    "TRUE",
    "FALSE",
    "DATE",
    "TIMESTAMP",
    "S_INTERSECTS",
    "S_DWITHIN",
    "S_WITHIN",
    "S_CONTAINS",
    "S_DISJOINT",
    "geometry",
    "geom",
    "POINT",
    "POLYGON",
    "MULTIPOLYGON",
    "LINESTRING",
    "BBOX",
    "ENVELOPE",
    "name",
    "ward",
    "nosuch",
    "1",
    "-1",
    "+1",
    "1e400",
    "-1e400",
    "1e-400",
    "NaN",
    "inf",
    "-inf",
    "Infinity",
    ".",
    "..",
    "1e",
    "1e+",
    "-.",
    "+",
    "-",
    "'abc",
    "''",
    "'a''b'",
    "\u{0}",
    "ভ",
    "%",
    "_",
    "meters",
    "km",
    "furlongs",
    "88.3 22.5",
    "88.3",
    "22.5",
    "200",
    "-100",
    "\t",
    "\n",
];

fn hostile_cql2() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => any::<String>(),
        3 => vec(select(CQL2_TOKENS), 0..40).prop_map(|t| t.join(" ")),
        2 => vec(select(CQL2_TOKENS), 0..40).prop_map(|t| t.concat()),
        3 => (expr(), style(), mutations()).prop_map(|(e, s, m)| {
            String::from_utf8_lossy(&mutate(render(&e, &s, 0).into_bytes(), &m)).into_owned()
        }),
        1 => (1usize..3000).prop_map(|n| format!("ward = {}", "9".repeat(n))),
        1 => (1usize..3000).prop_map(|n| format!("ward = 0.{}1e-{}", "0".repeat(n), n)),
        1 => (0usize..50).prop_map(|n| format!("name = '{}", "''".repeat(n))),
        1 => (1usize..200).prop_map(|d| format!("{}ward = 1{}", "(".repeat(d), ")".repeat(d))),
        1 => (1usize..200).prop_map(|d| format!("{}ward = 1", "NOT ".repeat(d))),
        1 => (1usize..200).prop_map(|d| format!("{}ward = 1", "(".repeat(d))),
        1 => (-400.0..400.0f64, -200.0..200.0f64, -1e7..1e7f64).prop_map(|(x, y, d)| {
            format!("S_DWITHIN(geometry, POINT({x} {y}), {d}, meters)")
        }),
    ]
}

#[test]
fn fuzz_cql2_text() {
    let records: Arc<Vec<Rec>> = Arc::new(
        (0..6)
            .map(|i| {
                let v = |k: usize| match (i + k) % 4 {
                    0 => Value::Null,
                    1 => Value::Num(f64::from(i as i32)),
                    2 => Value::Str(WORDS[(i * 3 + k) % WORDS.len()].into()),
                    _ => Value::Bool(i % 2 == 0),
                };
                Rec::new([v(0), v(1), v(2), v(3), v(4)], (i as i32, i as i32 % 3))
            })
            .collect(),
    );
    let tally = Tally::default();
    fuzz("cql2_text", hostile_cql2(), |text| {
        let chars = text.chars().count();
        let records = records.clone();
        let t = text.clone();
        let outcome = within(move || {
            cql2::parse(&t, &OracleProps).map(|e| {
                let _ = e.bbox_hint();
                records.iter().filter(|r| e.matches(*r)).count()
            })
        })
        .map_err(|e| fail(format!("parsing {text:?}: {e}")))?;
        if let Err(e) = &outcome {
            prop_assert!(
                (1..=chars + 1).contains(&e.pos) && !e.msg.is_empty(),
                "{:?}: error {:?} points outside the text",
                text,
                e
            );
        }
        tally.add(outcome.is_ok());
        Ok(())
    });
    tally.both_seen("cql2_text");
}

// ---------------------------------------------------------------------------------------
// Complaint photos and submissions.
// ---------------------------------------------------------------------------------------

/// An extended WebP (VP8X) with EXIF and XMP chunks.
fn webp() -> Vec<u8> {
    let chunk = |id: &[u8; 4], data: &[u8]| {
        let mut c = id.to_vec();
        c.extend((data.len() as u32).to_le_bytes());
        c.extend(data);
        if data.len() % 2 == 1 {
            c.push(0);
        }
        c
    };
    let mut body = b"WEBP".to_vec();
    // Flags: EXIF (0x08) and XMP (0x04); a 1×1 canvas stored as width−1, height−1.
    body.extend(chunk(b"VP8X", &[0x0C, 0, 0, 0, 0, 0, 0, 0, 0, 0]));
    body.extend(chunk(b"VP8 ", b"\x50\x5a\x00\x9d\x01\x2a\x01\x00\x01\x00"));
    body.extend(chunk(b"EXIF", b"Exif\0\0GPSLatitude 22.5726"));
    body.extend(chunk(b"XMP ", b"<x:xmpmeta>GPSLatitude</x:xmpmeta>"));
    let mut v = b"RIFF".to_vec();
    v.extend((body.len() as u32).to_le_bytes());
    v.extend(body);
    v
}

/// A minimal JPEG carrying EXIF (with a GPS tag) and a comment.
fn jpeg() -> Vec<u8> {
    common::jpeg_with_exif(b"GPSLatitude 22.5726 Canon EOS", b"shot by someone")
}

/// A 1×1 PNG with a text chunk naming the phone.
fn png() -> Vec<u8> {
    common::png_with_text(b"Author\0GPSLatitude phone")
}

fn photos() -> [Vec<u8>; 3] {
    [jpeg(), png(), webp()]
}

/// What the bytes' signature says they are, by the formats' own definitions.
fn signature(b: &[u8]) -> Option<MediaType> {
    if b.len() >= 3 && b[..3] == [0xFF, 0xD8, 0xFF] {
        Some(MediaType::Jpeg)
    } else if b.len() >= 8 && &b[..8] == b"\x89PNG\r\n\x1a\n" {
        Some(MediaType::Png)
    } else if b.len() >= 12 && &b[..4] == b"RIFF" && &b[8..12] == b"WEBP" {
        Some(MediaType::Webp)
    } else {
        None
    }
}

/// Metadata still in a cleaned photo, read with img-parts.
fn metadata_left(bytes: &img_parts::Bytes, ty: MediaType) -> Vec<String> {
    use img_parts::{jpeg::Jpeg, png::Png, webp::WebP};
    match ty {
        MediaType::Jpeg => Jpeg::from_bytes(bytes.clone())
            .map(|j| {
                j.segments()
                    .iter()
                    .map(|s| s.marker())
                    .filter(|m| matches!(m, 0xE1 | 0xE3..=0xED | 0xEF | 0xFE))
                    .map(|m| format!("JPEG segment {m:#04x}"))
                    .collect()
            })
            .unwrap_or_else(|e| vec![format!("unreadable: {e}")]),
        MediaType::Png => Png::from_bytes(bytes.clone())
            .map(|p| {
                p.chunks()
                    .iter()
                    .map(|c| c.kind())
                    .filter(|k| matches!(k, b"eXIf" | b"tEXt" | b"zTXt" | b"iTXt" | b"tIME"))
                    .map(|k| format!("PNG chunk {}", String::from_utf8_lossy(&k)))
                    .collect()
            })
            .unwrap_or_else(|e| vec![format!("unreadable: {e}")]),
        MediaType::Webp => WebP::from_bytes(bytes.clone())
            .map(|w| {
                w.chunks()
                    .iter()
                    .map(|c| c.id())
                    .filter(|id| id == b"EXIF" || id == b"XMP ")
                    .map(|id| format!("WebP chunk {}", String::from_utf8_lossy(&id)))
                    .collect()
            })
            .unwrap_or_else(|e| vec![format!("unreadable: {e}")]),
    }
}

#[test]
fn fuzz_photo() {
    let originals = photos();
    // The pristine photos are accepted and lose their metadata (and with it the GPS tag).
    for b in &originals {
        let p = photo::prepare(img_parts::Bytes::from(b.clone())).expect("pristine photo");
        assert!(!String::from_utf8_lossy(&p.bytes).contains("GPSLatitude"));
    }
    let input = prop_oneof![
        3 => (0usize..3, vec(mutation(), 0..6))
            .prop_map(|(i, m)| mutate(photos()[i].clone(), &m)),
        1 => (0usize..3, vec(any::<u8>(), 0..64)).prop_map(|(i, tail)| {
            let magic: [&[u8]; 3] = [b"\xFF\xD8\xFF", b"\x89PNG\r\n\x1a\n", b"RIFF\0\0\0\0WEBP"];
            let mut b = magic[i].to_vec();
            b.extend(tail);
            b
        }),
        1 => vec(any::<u8>(), 0..64),
    ];
    let tally = Tally::default();
    fuzz("photo", input, |bytes| {
        let b = bytes.clone();
        let (sniffed, prepared, again) = within(move || {
            let sniffed = photo::sniff(&b);
            let prepared = photo::prepare(img_parts::Bytes::from(b));
            let again = prepared
                .as_ref()
                .ok()
                .map(|p| photo::prepare(p.bytes.clone()));
            (sniffed, prepared, again)
        })?;
        prop_assert_eq!(sniffed, signature(&bytes));
        tally.add(prepared.is_ok());
        match prepared {
            Err(e) => prop_assert!(!e.to_string().is_empty()),
            Ok(p) => {
                prop_assert_eq!(Some(p.media_type), sniffed);
                prop_assert_eq!(
                    photo::sniff(&p.bytes),
                    Some(p.media_type),
                    "cleaned bytes lost their signature"
                );
                prop_assert_eq!(&p.sha256, &common::sha256_hex(&p.bytes));
                let left = metadata_left(&p.bytes, p.media_type);
                prop_assert!(left.is_empty(), "metadata left after cleaning: {:?}", left);
                match again {
                    Some(Ok(q)) => {
                        prop_assert!(q.bytes == p.bytes, "cleaning twice changed the photo")
                    }
                    other => {
                        return Err(fail(format!(
                            "a cleaned photo is refused when sent again: {other:?}"
                        )))
                    }
                }
            }
        }
        Ok(())
    });
    tally.both_seen("photo");
}

/// The extra questions' codes and their allowed answers, from the categories.
fn answers(c: Category) -> Vec<(&'static str, Vec<&'static str>)> {
    c.questions()
        .iter()
        .map(|q| (q.code, q.values.iter().map(|(k, _)| *k).collect()))
        .collect()
}

/// A complaint that passes every check: inside the city, a category, a description,
/// and an answer to each required question.
#[derive(Debug, Clone)]
struct Complaint {
    lon: f64,
    lat: f64,
    category: Category,
    description: String,
    name: Option<String>,
    phone: Option<String>,
    email: Option<String>,
}

impl Complaint {
    fn attributes(&self) -> Vec<(String, String)> {
        self.category
            .questions()
            .iter()
            .filter(|q| q.required)
            .map(|q| {
                let a = q.values.first().map_or("yes", |(k, _)| *k);
                (q.code.to_string(), a.to_string())
            })
            .collect()
    }

    /// As form fields, named as `POST /complaints` names them.
    fn fields(&self) -> Vec<(String, String)> {
        let mut f = vec![
            ("lon".to_string(), self.lon.to_string()),
            ("lat".to_string(), self.lat.to_string()),
            ("category".to_string(), self.category.as_str().to_string()),
            ("description".to_string(), self.description.clone()),
        ];
        for (k, v) in [
            ("name", &self.name),
            ("phone", &self.phone),
            ("email", &self.email),
        ] {
            if let Some(v) = v {
                f.push((k.to_string(), v.clone()));
            }
        }
        for (code, answer) in self.attributes() {
            f.push((format!("attributes[{code}]"), answer));
        }
        f
    }
}

fn complaint() -> impl Strategy<Value = Complaint> {
    (
        88.27..88.41f64,
        22.47..22.63f64,
        select(Category::ALL),
        "[A-Za-z][A-Za-z ,.'ক-হ]{0,40}[a-z.]",
        option::of("[A-Z][a-z]{1,10}( [A-Z][a-z]{1,10})?"),
        option::of(select(vec![
            "+91 98300 12345",
            "033-2223-4444",
            "(033) 22234444",
        ])),
        option::of(select(vec!["a@example.org", "ritu.d@mail.in"])),
    )
        .prop_map(
            |(lon, lat, category, description, name, phone, email)| Complaint {
                lon,
                lat,
                category,
                description,
                name,
                phone: phone.map(str::to_string),
                email: email.map(str::to_string),
            },
        )
}

fn hostile_f64() -> impl Strategy<Value = f64> {
    prop_oneof![
        select(vec![
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            -0.0,
            180.0,
            -180.0,
            180.000_000_01,
            90.0,
            -90.000_000_1,
            1e308,
            f64::MIN_POSITIVE,
            88.35,
            22.55
        ]),
        any::<f64>(),
    ]
}

fn hostile_text() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => ".{0,24}",
        2 => select(vec![
            "", "  ", "\u{0}", "a\u{7}b", "line\nbreak", "tab\there", "\u{1b}[31m", "a@b", "@b.c",
            "a@b.c", "a @b.c", "123456", "+91 98300", "১২৩৪৫৬৭",
        ])
            .prop_map(str::to_string),
        1 => (3990usize..4010).prop_map(|n| "ক".repeat(n)),
        1 => (190usize..260).prop_map(|n| "x".repeat(n)),
    ]
}

fn json_value() -> impl Strategy<Value = Json> {
    prop_oneof![
        3 => select(vec!["yes", "no", "sewage", "vandalism", "maybe", "", " yes "])
            .prop_map(Json::from),
        1 => any::<bool>().prop_map(Json::from),
        1 => Just(Json::Null),
        1 => any::<i32>().prop_map(Json::from),
        1 => Just(json!(["yes"])),
        1 => (490usize..510).prop_map(|n| Json::from("y".repeat(n))),
    ]
}

fn submission() -> impl Strategy<Value = Submission> {
    let codes: Vec<String> = Category::ALL
        .iter()
        .map(|c| c.as_str().to_string())
        .chain(["potholes", " Water_Body_Filling ", "", "OTHER"].map(String::from))
        .collect();
    let question = select(
        Category::ALL
            .iter()
            .flat_map(|c| c.questions().iter().map(|q| q.code))
            .chain(["colour", "", "filling_in_progress "])
            .collect::<Vec<_>>(),
    );
    (
        (option::of(hostile_f64()), option::of(hostile_f64())),
        option::of(select(codes)),
        (option::of(hostile_text()), option::of(hostile_text())),
        (
            option::of(hostile_text()),
            option::of(hostile_text()),
            option::of(hostile_text()),
        ),
        vec((question, json_value()), 0..3),
    )
        .prop_map(
            |((lon, lat), category, (description, name), (phone, email, address), attrs)| {
                Submission {
                    lon,
                    lat,
                    category,
                    description,
                    name,
                    phone,
                    email,
                    address,
                    language: None,
                    attributes: attrs.into_iter().map(|(k, v)| (k.to_string(), v)).collect(),
                }
            },
        )
}

fn clean_text(s: &str, max: usize) -> bool {
    !s.is_empty()
        && s == s.trim()
        && s.chars().count() <= max
        && !s
            .chars()
            .any(|c| c.is_control() && !matches!(c, '\n' | '\r' | '\t'))
}

#[test]
fn fuzz_submission_check() {
    let valid = complaint().prop_map(|c| Submission {
        lon: Some(c.lon),
        lat: Some(c.lat),
        category: Some(c.category.as_str().into()),
        attributes: c
            .attributes()
            .into_iter()
            .map(|(k, v)| (k, Json::from(v)))
            .collect(),
        description: Some(c.description),
        name: c.name,
        phone: c.phone,
        email: c.email,
        address: None,
        language: None,
    });
    let tally = Tally::default();
    fuzz(
        "submission_check",
        prop_oneof![1 => valid.prop_map(|s| (s, true)), 3 => submission().prop_map(|s| (s, false))],
        |(sub, must_pass)| {
            let s = sub.clone();
            let checked = within(move || s.check())?;
            tally.add(checked.is_ok());
            match checked {
                Err(e) => {
                    prop_assert!(!must_pass, "a valid complaint was refused: {}", e);
                    let known = [
                        "lon",
                        "lat",
                        "category",
                        "description",
                        "name",
                        "phone",
                        "email",
                        "address",
                    ];
                    prop_assert!(
                        known.contains(&e.field.as_str()) || e.field.starts_with("attributes."),
                        "an error names no field: {:?}",
                        e
                    );
                }
                Ok(c) => {
                    prop_assert!(c.lon.is_finite() && (-180.0..=180.0).contains(&c.lon));
                    prop_assert!(c.lat.is_finite() && (-90.0..=90.0).contains(&c.lat));
                    prop_assert!(clean_text(&c.description, 4000), "{:?}", c.description);
                    for (v, max) in [
                        (&c.name, 200),
                        (&c.phone, 40),
                        (&c.email, 254),
                        (&c.address, 500),
                    ] {
                        prop_assert!(v.as_deref().is_none_or(|v| clean_text(v, max)), "{:?}", v);
                    }
                    if let Some(p) = &c.phone {
                        prop_assert!(
                            p.chars()
                                .all(|ch| ch.is_ascii_digit() || " +-()".contains(ch))
                                && p.chars().filter(char::is_ascii_digit).count() >= 6,
                            "phone {:?}",
                            p
                        );
                    }
                    if let Some(e) = &c.email {
                        let (local, domain) = e.split_once('@').unwrap_or(("", ""));
                        prop_assert!(
                            !local.is_empty() && domain.contains('.') && !e.contains(' '),
                            "email {:?}",
                            e
                        );
                    }
                    let questions = answers(c.category);
                    for (k, v) in &c.attributes {
                        let q = questions.iter().find(|(code, _)| code == k);
                        prop_assert!(q.is_some(), "{} asks no {:?}", c.category, k);
                        let allowed = &q.map(|q| q.1.clone()).unwrap_or_default();
                        let v = v.as_str().unwrap_or("\u{0}");
                        prop_assert!(allowed.is_empty() || allowed.contains(&v), "{}: {:?}", k, v);
                        prop_assert!(v.chars().count() <= 500);
                    }
                    for q in c.category.questions().iter().filter(|q| q.required) {
                        prop_assert!(c.attributes.contains_key(q.code), "{} unanswered", q.code);
                    }
                }
            }
            Ok(())
        },
    );
    tally.both_seen("submission_check");
}

// ---------------------------------------------------------------------------------------
// HTTP: the real router over a temporary database, driven with `oneshot`.
// ---------------------------------------------------------------------------------------

struct Http {
    /// As `serve` runs it: the cached-tile hot path in front of the router.
    app: heritage_atlas::http::hot::Front<Router>,
    atlas: Arc<Atlas>,
    api_key: String,
    /// The seeded heritage sites, by asset id, as the CQL2 oracle sees them.
    assets: Vec<(i64, Rec)>,
    _dir: tempfile::TempDir,
    /// Last, so that it outlives everything that holds a database pool.
    rt: tokio::runtime::Runtime,
}

/// 48 heritage points on the oracle's grid, with names, wards, grades and years drawn
/// from short cycles so that filters find some and miss some.
fn seeded_sites() -> Vec<(NewAsset, Rec)> {
    let names = [
        Some("Alpha"),
        Some("alpha beta"),
        Some("63"),
        None,
        Some("Ba%_"),
        Some("ভিক্টোরিয়া"),
        Some("O'Neil"),
        Some("ab"),
    ];
    let grades = [Some(Grade::I), Some(Grade::IIA), None, Some(Grade::III)];
    let years = [Some(1921), None, Some(-50), Some(2000), Some(7)];
    (0..48i32)
        .map(|i| {
            let k = i as usize;
            let name = names[(k * 3) % names.len()].map(str::to_string);
            let ward = [Some(1), Some(2), None, Some(63), Some(7)][k % 5];
            let grade = grades[(k / 2) % grades.len()];
            let year_built = years[(k * 7) % years.len()];
            let code = format!("FZ-{k:03}");
            let at = (i % 8, i / 8);
            let values = [
                name.clone().map_or(Value::Null, Value::Str),
                ward.map_or(Value::Null, |w| Value::Num(w as f64)),
                grade.map_or(Value::Null, |g| Value::Str(g.as_str().into())),
                year_built.map_or(Value::Null, |y| Value::Num(y as f64)),
                Value::Str(code.clone()),
            ];
            let rec = Rec::new(values, at);
            let asset = NewAsset {
                layer: Layer::Heritage,
                code: Some(code),
                kind: Kind::ALL[k % 4],
                attrs: Attributes {
                    name,
                    ward,
                    grade,
                    year_built,
                    ..Default::default()
                },
                geometry: rec.geometry.clone(),
            };
            (asset, rec)
        })
        .collect()
}

/// What the router answered.
struct Answer {
    what: String,
    status: StatusCode,
    headers: HeaderMap,
    body: Vec<u8>,
}

impl Answer {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body)
            .chars()
            .take(600)
            .collect()
    }

    fn json(&self) -> Result<Json, TestCaseError> {
        serde_json::from_slice(&self.body).map_err(|e| {
            fail(format!(
                "{} answered {} with a body that is not JSON ({e}): {}",
                self.what,
                self.status,
                self.text()
            ))
        })
    }

    fn below_500(&self) -> Result<(), TestCaseError> {
        prop_assert!(
            self.status.as_u16() < 500,
            "{} answered {}: {}",
            self.what,
            self.status,
            self.text()
        );
        Ok(())
    }

    /// Never a 5xx; a 4xx carries our JSON error `{"code", "description"}`.
    fn error_or_ok(&self) -> Result<(), TestCaseError> {
        self.below_500()?;
        if self.status.is_client_error() {
            let v = self.json()?;
            prop_assert!(
                v["code"].is_string() && v["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{} answered {} without our error shape: {}",
                self.what,
                self.status,
                self.text()
            );
        }
        Ok(())
    }

    /// Open311's own shape: `[{code, description}]` in JSON, `<errors><error>` in XML.
    fn open311_error_or_ok(&self, xml: bool) -> Result<(), TestCaseError> {
        self.below_500()?;
        if !self.status.is_client_error() {
            return Ok(());
        }
        let code = self.status.as_u16();
        if xml {
            let t = String::from_utf8_lossy(&self.body);
            prop_assert!(
                t.starts_with("<?xml")
                    && t.contains(&format!("<errors><error><code>{code}</code><description>")),
                "{} answered {} without Open311's XML errors: {}",
                self.what,
                self.status,
                self.text()
            );
        } else {
            let v = self.json()?;
            prop_assert!(
                v[0]["code"] == code && v[0]["description"].as_str().is_some_and(|d| !d.is_empty()),
                "{} answered {} without Open311's errors: {}",
                self.what,
                self.status,
                self.text()
            );
        }
        Ok(())
    }
}

impl Http {
    fn new() -> Http {
        let dir = tempfile::tempdir().expect("temp dir");
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .expect("runtime");
        let db = dir.path().join("atlas.db");
        let photos_dir = dir.path().join("photos");
        let api_key = "f".repeat(64);
        let (atlas, assets) = rt.block_on(async {
            let store = common::open_store(&db).await;
            let opts = AtlasOptions {
                load_bundled: false,
                photos_dir,
                ..Default::default()
            };
            let atlas = Arc::new(Atlas::open(store, &opts).await.expect("open atlas"));
            let mut assets = Vec::new();
            for (a, rec) in seeded_sites() {
                let stored = atlas
                    .upsert(&a, &EditContext::import("fuzz"))
                    .await
                    .expect("seed an asset");
                assets.push((stored.id.0, rec));
            }
            atlas
                .store()
                .add_api_key(
                    &heritage_atlas::auth::sha256_hex(&api_key),
                    "fuzz",
                    &now_rfc3339(),
                )
                .await
                .expect("add an API key");
            (atlas, assets)
        });
        let app = heritage_atlas::http::front(AppState::new(atlas.clone()).with_rate_limit(0));
        Http {
            app,
            atlas,
            api_key,
            assets,
            _dir: dir,
            rt,
        }
    }

    /// Sends one request through the router on a worker thread, as a server would.
    fn send(&self, mut req: Request<Body>) -> Result<Answer, TestCaseError> {
        let what = format!("{} {}", req.method(), req.uri());
        req.extensions_mut()
            .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
        let app = self.app.clone();
        let answered = self.rt.block_on(async move {
            let call = tokio::spawn(async move {
                let Ok(resp) = app.oneshot(req).await;
                let (parts, body) = resp.into_parts();
                let body = axum::body::to_bytes(body, usize::MAX).await;
                (parts, body)
            });
            tokio::time::timeout(DEADLINE, call).await
        });
        match answered {
            Err(_) => Err(fail(format!(
                "{what}: no answer after {DEADLINE:?}: a hang"
            ))),
            Ok(Err(e)) => Err(fail(format!("{what}: the handler panicked: {e}"))),
            Ok(Ok((_, Err(e)))) => Err(fail(format!("{what}: unreadable body: {e}"))),
            Ok(Ok((parts, Ok(body)))) => Ok(Answer {
                what,
                status: parts.status,
                headers: parts.headers,
                body: body.to_vec(),
            }),
        }
    }

    fn get(&self, uri: &str) -> Result<Answer, TestCaseError> {
        self.send(
            Request::builder()
                .uri(uri)
                .body(Body::empty())
                .map_err(|e| fail(format!("{uri}: {e}")))?,
        )
    }

    fn post(&self, uri: &str, content_type: &str, body: Vec<u8>) -> Result<Answer, TestCaseError> {
        let mut b = Request::builder().method(Method::POST).uri(uri);
        if !content_type.is_empty() {
            b = b.header(header::CONTENT_TYPE, content_type);
        }
        self.send(
            b.body(Body::from(body))
                .map_err(|e| fail(format!("{uri}: {e}")))?,
        )
    }
}

impl Drop for Http {
    fn drop(&mut self) {
        self.rt.block_on(self.atlas.store().close());
    }
}

fn items_uri(filter: &str) -> String {
    format!(
        "/collections/heritage/items?limit=1000&filter-lang=cql2-text&filter={}",
        enc(filter)
    )
}

fn feature_ids(fc: &Json) -> Vec<i64> {
    let mut ids: Vec<i64> = fc["features"]
        .as_array()
        .map(|f| f.iter().filter_map(|f| f["id"].as_i64()).collect())
        .unwrap_or_default();
    ids.sort_unstable();
    ids
}

#[test]
fn fuzz_http_cql2() {
    let http = Http::new();
    let tally = Tally::default();
    let input = prop_oneof![
        2 => (expr(), style()).prop_map(|(e, s)| (render(&e, &s, 0), Some(e))),
        1 => hostile_cql2().prop_map(|t| (t, None)),
    ];
    fuzz("http_cql2", input, |(text, oracle)| {
        let answer = http.get(&items_uri(&text))?;
        answer.error_or_ok()?;
        if let Some(e) = oracle {
            prop_assert_eq!(
                answer.status,
                StatusCode::OK,
                "{:?}: {}",
                text,
                answer.text()
            );
            let got = feature_ids(&answer.json()?);
            let mut want: Vec<i64> = http
                .assets
                .iter()
                .filter(|(_, r)| eval(&e, r))
                .map(|(id, _)| *id)
                .collect();
            want.sort_unstable();
            tally.add(!got.is_empty());
            prop_assert_eq!(got, want, "{:?}", text);
        }
        Ok(())
    });
    tally.both_seen("http_cql2");
}

/// GET endpoints, with the parameters each takes (and some it does not).
const ENDPOINTS: &[(&str, &[&str])] = &[
    ("/nearby", &["lon", "lat", "radius_m", "limit", "layers"]),
    (
        "/stats/complaints",
        &[
            "by", "from", "to", "ward", "borough", "category", "bbox", "f",
        ],
    ),
    (
        "/stats/register",
        &["by", "layers", "ward", "borough", "bbox", "f"],
    ),
    (
        "/stats/water-loss",
        &["by", "from", "to", "ward", "borough", "f"],
    ),
    (
        "/stats/maintenance",
        &["by", "from", "to", "ward", "layers", "f"],
    ),
    ("/stats/wards", &["from", "to", "f"]),
    ("/stats/ward-report", &["ward", "month"]),
    ("/at", &["lon", "lat"]),
    ("/search", &["q", "limit", "layers"]),
    (
        "/collections/heritage/items",
        &[
            "bbox",
            "bbox-crs",
            "limit",
            "offset",
            "datetime",
            "crs",
            "filter",
            "filter-lang",
            "filter-crs",
            "f",
            "download",
            "name",
            "ward",
            "grade",
            "year_built",
        ],
    ),
    (
        "/collections/complaints/items",
        &[
            "bbox", "limit", "offset", "datetime", "crs", "status", "category",
        ],
    ),
    ("/collections/heritage/items/{}", &["crs", "f"]),
    ("/collections/{}", &["f"]),
    ("/collections/{}/queryables", &[]),
    (
        "/open311/v2/requests.json",
        &[
            "service_request_id",
            "service_code",
            "status",
            "start_date",
            "end_date",
            "jurisdiction_id",
        ],
    ),
    (
        "/open311/v2/requests.xml",
        &["service_code", "status", "start_date", "end_date"],
    ),
    ("/open311/v2/requests/{}.json", &["jurisdiction_id"]),
    ("/open311/v2/services/{}.json", &[]),
    ("/open311/v2/tokens/{}.json", &[]),
    ("/tiles/{}.json", &[]),
    ("/assets/{}", &[]),
    ("/complaints/{}", &[]),
    ("/photos/{}", &[]),
    ("/health", &[]),
];

#[test]
fn fuzz_http_query() {
    let http = Http::new();
    let param = |names: &'static [&'static str]| {
        let name = prop_oneof![
            4 => select(if names.is_empty() { &["v"][..] } else { names }).prop_map(str::to_string),
            1 => ".{0,6}",
        ];
        (name, hostile_value())
    };
    let input = (0..ENDPOINTS.len()).prop_flat_map(move |i| {
        (
            Just(i),
            hostile_value(),
            vec(param(ENDPOINTS[i].1), 0..5),
            option::of(select(vec!["%ZZ", "%", "%F", "&&", "=", "a=%FF%FE"])),
        )
    });
    fuzz("http_query", input, |(i, segment, params, raw)| {
        let (path, _) = ENDPOINTS[i];
        let mut uri = path.replace("{}", &enc(&segment));
        let mut query: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
            .collect();
        query.extend(raw.map(str::to_string));
        if !query.is_empty() {
            uri = format!("{uri}?{}", query.join("&"));
        }
        let answer = http.get(&uri)?;
        if path.starts_with("/open311") {
            answer.open311_error_or_ok(path.contains(".xml"))
        } else {
            answer.error_or_ok()
        }
    });
}

#[derive(Debug, Clone)]
enum Damage {
    /// Sent as generated: must be filed.
    None,
    /// One more field, named by an attacker.
    Field(String, String),
    /// A generated field's value replaced.
    Value(usize, String),
    /// The encoded body mutated byte by byte.
    Bytes(Vec<Mutation>),
}

fn damage(keys: &'static [&'static str]) -> impl Strategy<Value = Damage> {
    prop_oneof![
        2 => Just(Damage::None),
        1 => (prop_oneof![select(keys).prop_map(str::to_string), ".{0,10}"], hostile_value())
            .prop_map(|(k, v)| Damage::Field(k, v)),
        1 => (0usize..4, hostile_value()).prop_map(|(i, v)| Damage::Value(i, v)),
        1 => mutations().prop_map(Damage::Bytes),
    ]
}

fn damage_fields(mut f: Vec<(String, String)>, d: &Damage) -> Vec<(String, String)> {
    match d {
        Damage::Field(k, v) => f.push((k.clone(), v.clone())),
        Damage::Value(i, v) => f[*i].1 = v.clone(),
        Damage::None | Damage::Bytes(_) => {}
    }
    f
}

fn damage_bytes(b: Vec<u8>, d: &Damage) -> Vec<u8> {
    match d {
        Damage::Bytes(m) => mutate(b, m),
        _ => b,
    }
}

/// A character XML 1.0 allows in a document (§2.2, `Char`).
fn xml_char(c: char) -> bool {
    matches!(c as u32, 0x9 | 0xA | 0xD | 0x20..=0xD7FF | 0xE000..=0xFFFD | 0x10000..=0x10FFFF)
}

fn xml_unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Text a citizen controls (a description, an address) in Open311's XML: escaped so that
/// it reads back as sent, less the characters XML cannot carry at all.
#[test]
fn fuzz_open311_xml() {
    let special = select(vec![
        '\u{0}',
        '\u{8}',
        '\t',
        '\n',
        '\r',
        '\u{1f}',
        '\u{7f}',
        '\u{85}',
        '\u{d7ff}',
        '\u{e000}',
        '\u{fffd}',
        '\u{fffe}',
        '\u{ffff}',
        '\u{10ffff}',
        '<',
        '>',
        '&',
        '"',
        '\'',
        ';',
    ]);
    let text = prop_oneof![
        any::<String>(),
        vec(prop_oneof![special, any::<char>()], 0..24).prop_map(String::from_iter),
    ];
    fuzz("open311_xml", text, |text| {
        let xml = open311::to_xml("service_requests", &json!([{ "description": text }]));
        let head = "<?xml version=\"1.0\" encoding=\"utf-8\"?>\
                    <service_requests><request><description>";
        let tail = "</description></request></service_requests>";
        prop_assert!(xml.starts_with(head) && xml.ends_with(tail), "{}", xml);
        let body = &xml[head.len()..xml.len() - tail.len()];
        prop_assert!(!body.contains(['<', '>']), "markup in text: {:?}", body);
        let bad: Vec<char> = xml.chars().filter(|c| !xml_char(*c)).collect();
        prop_assert!(bad.is_empty(), "not XML 1.0 characters: {:?}", bad);
        let kept: String = text.chars().filter(|c| xml_char(*c)).collect();
        prop_assert_eq!(xml_unescape(body), kept);
        Ok(())
    });
}

/// Found by `open311_xml`: one complaint whose description holds U+FFFF is accepted, and
/// from then on the Open311 XML list of requests is not well-formed XML for any client.
#[test]
fn regression_open311_xml_feed_stays_well_formed() {
    let http = Http::new();
    let body = json!({"lon": 88.35, "lat": 22.55, "category": "other",
                      "description": "Pond filled at night \u{ffff}"});
    let filed = http
        .post(
            "/complaints",
            "application/json",
            body.to_string().into_bytes(),
        )
        .unwrap_or_else(|e| panic!("{e}"));
    let feed = http
        .get("/open311/v2/requests.xml")
        .unwrap_or_else(|e| panic!("{e}"));
    let text = String::from_utf8_lossy(&feed.body);
    let bad: Vec<char> = text.chars().filter(|c| !xml_char(*c)).collect();
    assert!(
        filed.status != StatusCode::CREATED || bad.is_empty(),
        "filed ({}), then the feed carries {bad:?}: {text}",
        filed.status
    );
}

#[test]
fn fuzz_http_open311() {
    let http = Http::new();
    let tally = Tally::default();
    const KEYS: &[&str] = &[
        "api_key",
        "service_code",
        "lat",
        "long",
        "address_string",
        "email",
        "phone",
        "first_name",
        "last_name",
        "description",
        "media_url",
        "jurisdiction_id",
        "attribute[filling_in_progress]",
        "attribute[damage_type]",
        "attribute[",
        "attribute[]",
        "lon",
    ];
    let key = prop_oneof![
        6 => Just(None),
        1 => Just(Some(String::new())),
        1 => ".{0,70}".prop_map(Some),
    ];
    fuzz(
        "http_open311",
        (complaint(), damage(KEYS), key, any::<bool>()),
        |(c, d, key, xml)| {
            let key = key.unwrap_or_else(|| http.api_key.clone());
            let mut fields = vec![
                ("api_key".to_string(), key.clone()),
                ("service_code".to_string(), c.category.as_str().to_string()),
                ("lat".to_string(), c.lat.to_string()),
                ("long".to_string(), c.lon.to_string()),
                ("description".to_string(), c.description.clone()),
            ];
            if let Some(n) = &c.name {
                fields.push(("first_name".into(), n.clone()));
            }
            for (code, answer) in c.attributes() {
                fields.push((format!("attribute[{code}]"), answer));
            }
            let fields = damage_fields(fields, &d);
            let body = serde_urlencoded::to_string(&fields)
                .expect("form")
                .into_bytes();
            let body = damage_bytes(body, &d);
            let uri = if xml {
                "/open311/v2/requests.xml"
            } else {
                "/open311/v2/requests.json"
            };
            let answer = http.post(uri, "application/x-www-form-urlencoded", body)?;
            answer.open311_error_or_ok(xml)?;
            tally.add(answer.status == StatusCode::CREATED);
            if matches!(d, Damage::None) && key == http.api_key {
                prop_assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
                if !xml {
                    let v = answer.json()?;
                    prop_assert!(
                        v[0]["service_request_id"].is_string() && v[0]["token"].is_string()
                    );
                }
            }
            Ok(())
        },
    );
    tally.both_seen("http_open311");
}

#[test]
fn fuzz_http_complaint_json() {
    let http = Http::new();
    let tally = Tally::default();
    const KEYS: &[&str] = &[
        "lon",
        "long",
        "lat",
        "category",
        "service_code",
        "description",
        "name",
        "phone",
        "email",
        "address",
        "attributes",
        "attributes[x]",
        "photo",
    ];
    let retype = prop_oneof![
        Just(None),
        (
            0usize..4,
            prop_oneof![
                Just(Json::Null),
                Just(json!(true)),
                Just(json!([1, 2])),
                Just(json!({"a": 1})),
                Just(json!(1e308)),
                Just(json!("NaN")),
                Just(json!(-0.0)),
            ]
        )
            .prop_map(Some),
    ];
    let content_type = select(vec![
        "application/json",
        "application/json",
        "application/json; charset=utf-8",
        "APPLICATION/JSON",
        "",
        "text/plain",
        "application/x-www-form-urlencoded",
    ]);
    fuzz(
        "http_complaint_json",
        (complaint(), damage(KEYS), retype, content_type),
        |(c, d, retype, ct)| {
            let fields = damage_fields(c.fields()[..4].to_vec(), &d);
            let mut body = serde_json::Map::new();
            for (k, v) in &fields {
                let v = match k.as_str() {
                    "lon" | "lat" => v.parse::<f64>().map_or(Json::from(v.as_str()), Json::from),
                    _ => Json::from(v.as_str()),
                };
                body.insert(k.clone(), v);
            }
            let attrs: serde_json::Map<String, Json> = c
                .attributes()
                .into_iter()
                .map(|(k, v)| (k, Json::from(v)))
                .collect();
            body.insert("attributes".into(), Json::Object(attrs));
            if let Some((i, v)) = &retype {
                body.insert(fields[*i].0.clone(), v.clone());
            }
            let bytes = damage_bytes(Json::Object(body).to_string().into_bytes(), &d);
            let answer = http.post("/complaints", ct, bytes)?;
            answer.error_or_ok()?;
            tally.add(answer.status == StatusCode::CREATED);
            let json_ct = ct.is_empty() || ct.to_ascii_lowercase().starts_with("application/json");
            if matches!(d, Damage::None) && retype.is_none() && json_ct {
                prop_assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
                prop_assert!(answer.json()?["ticket"].is_string());
            }
            Ok(())
        },
    );
    tally.both_seen("http_complaint_json");
}

/// A multipart/form-data body, written here byte by byte.
fn multipart(boundary: &str, fields: &[(String, String)], photos: &[(Vec<u8>, &str)]) -> Vec<u8> {
    let mut b = Vec::new();
    for (k, v) in fields {
        b.extend(
            format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{k}\"\r\n\r\n").bytes(),
        );
        b.extend(v.bytes());
        b.extend(b"\r\n");
    }
    for (bytes, name) in photos {
        let head = format!(
            "--{boundary}\r\n\
             Content-Disposition: form-data; name=\"photo\"; filename=\"{name}\"\r\n\
             Content-Type: application/octet-stream\r\n\r\n"
        );
        b.extend(head.bytes());
        b.extend(bytes);
        b.extend(b"\r\n");
    }
    b.extend(format!("--{boundary}--\r\n").bytes());
    b
}

#[test]
fn fuzz_http_complaint_multipart() {
    let http = Http::new();
    let tally = Tally::default();
    const KEYS: &[&str] = &[
        "lon",
        "lat",
        "category",
        "description",
        "attributes[damage_type]",
        "attribute[x]",
        "photos[]",
        "media",
        "",
        "name\"; filename=\"x",
        "photo",
    ];
    let photo = prop_oneof![
        3 => (0usize..3).prop_map(|i| (i, Vec::new())),
        1 => (0usize..3, mutations()).prop_map(|(i, m)| (i, m)),
    ];
    let boundary = prop_oneof![
        Just("fuzzBOUNDARYx7".to_string()),
        "[A-Za-z0-9'()+_,./:=?-]{1,70}"
    ];
    fuzz(
        "http_complaint_multipart",
        (
            complaint(),
            damage(KEYS),
            vec(photo, 0..3),
            boundary,
            any::<bool>(),
        ),
        |(c, d, photos, boundary, header_boundary_matches)| {
            let originals = [jpeg(), png(), webp()];
            let pristine_photos = photos.iter().all(|(_, m)| m.is_empty());
            let photos: Vec<(Vec<u8>, &str)> = photos
                .iter()
                .map(|(i, m)| {
                    (
                        mutate(originals[*i].clone(), m),
                        ["a.jpg", "b.png", "c.webp"][*i],
                    )
                })
                .collect();
            let fields = damage_fields(c.fields(), &d);
            let body = damage_bytes(multipart(&boundary, &fields, &photos), &d);
            let declared = if header_boundary_matches {
                boundary.clone()
            } else {
                "other".into()
            };
            let ct = format!("multipart/form-data; boundary=\"{declared}\"");
            let answer = http.post("/complaints", &ct, body)?;
            answer.error_or_ok()?;
            tally.add(answer.status == StatusCode::CREATED);
            if matches!(d, Damage::None) && pristine_photos && header_boundary_matches {
                prop_assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.text());
                let v = answer.json()?;
                let n = v["photos"].as_array().map_or(0, Vec::len);
                prop_assert!(
                    n <= photos.len() && (photos.is_empty() || n > 0),
                    "{}",
                    answer.text()
                );
            }
            Ok(())
        },
    );
    tally.both_seen("http_complaint_multipart");
}

// ---------------------------------------------------------------------------------------
// Tiles: addresses, layer lists, the MVT encoder, and drawn tiles decoded again.
// ---------------------------------------------------------------------------------------

/// The layer list text a client might send.
fn layer_list() -> impl Strategy<Value = String> {
    let part = prop_oneof![
        4 => select(vec![
            "heritage", "water_bodies", "parks", "wards", "complaints", "Heritage", " parks ",
            "WARDS", "", "complaint", "heritage ", " complaints", "Complaints", "water bodies",
            "\u{0}", "ভ", "labels",
        ])
        .prop_map(str::to_string),
        1 => ".{0,6}",
    ];
    prop_oneof![
        4 => vec(part, 1..6).prop_map(|v| v.join(",")),
        1 => any::<String>(),
    ]
}

/// The layer a list item names, by name alone (trimmed, any case).
fn named_layer(part: &str) -> Option<Layer> {
    Layer::ALL
        .iter()
        .copied()
        .find(|l| part.trim().eq_ignore_ascii_case(l.as_str()))
}

#[test]
fn fuzz_layer_lists() {
    let tally = Tally::default();
    fuzz("layer_lists", layer_list(), |text| {
        let default = [Layer::Parks];
        let t = text.clone();
        let (listed, set) = within(move || {
            (
                heritage_atlas::http::layers(Some(&t), &default).map_err(|e| e.to_string()),
                LayerSet::parse(&t),
            )
        })?;

        // `?layers=`: empty means the default; otherwise every item names a layer, and
        // the answer lists each once, in the order first named.
        let want: Option<Vec<Layer>> = if text.trim().is_empty() {
            Some(default.to_vec())
        } else {
            text.split(',')
                .map(named_layer)
                .collect::<Option<Vec<_>>>()
                .map(|v| {
                    let mut out: Vec<Layer> = Vec::new();
                    for l in v {
                        if !out.contains(&l) {
                            out.push(l);
                        }
                    }
                    out
                })
        };
        prop_assert_eq!(
            listed.as_ref().ok(),
            want.as_ref(),
            "layers({:?}): {:?}",
            text,
            listed
        );

        // A tile's layer set: the same names, plus `complaints`.
        let items: Vec<Option<Option<Layer>>> = text
            .split(',')
            .map(|p| {
                if p.trim() == "complaints" {
                    Some(None)
                } else {
                    named_layer(p).map(Some)
                }
            })
            .collect();
        match (&set, items.iter().all(Option::is_some)) {
            (Ok(s), true) => {
                let layers: BTreeSet<Layer> = items.iter().flatten().flatten().copied().collect();
                prop_assert_eq!(s.layers().collect::<BTreeSet<_>>(), layers);
                prop_assert_eq!(s.has_complaints(), items.contains(&Some(None)));
                prop_assert_eq!(LayerSet::parse(&s.name()), Ok(*s), "by its own name");
            }
            (Err(e), false) => prop_assert!(!e.to_string().is_empty()),
            (got, _) => return Err(fail(format!("LayerSet::parse({text:?}) = {got:?}"))),
        }
        tally.add(set.is_ok());
        Ok(())
    });
    tally.both_seen("layer_lists");
}

#[test]
fn fuzz_tile_coord() {
    // Coordinates at and around the edges of each zoom's grid, inside it, and anything.
    let axis = |z: u8| {
        let n = if z < 32 { 1u64 << z } else { u64::MAX };
        prop_oneof![
            Just(0u32),
            Just(n.saturating_sub(1).min(u64::from(u32::MAX)) as u32),
            Just(n.min(u64::from(u32::MAX)) as u32),
            Just(n.saturating_add(1).min(u64::from(u32::MAX)) as u32),
            any::<u32>().prop_map(move |v| (u64::from(v) % n) as u32),
            any::<u32>(),
        ]
    };
    let input = prop_oneof![4 => 0u8..=31, 1 => any::<u8>()]
        .prop_flat_map(move |z| (Just(z), axis(z), axis(z)));
    let tally = Tally::default();
    fuzz("tile_coord", input, |(z, x, y)| {
        let t = TileCoord::new_checked(z, x, y);
        let exists = z <= MAX_ZOOM && u64::from(x) < (1u64 << z) && u64::from(y) < (1u64 << z);
        prop_assert_eq!(t.is_some(), exists);
        tally.add(exists);
        let Some(t) = t else { return Ok(()) };
        prop_assert_eq!((t.z, t.x, t.y), (z, x, y));
        let [x0, y0, x1, y1] = t.mercator_bounds();
        prop_assert!([x0, y0, x1, y1].iter().all(|v| v.is_finite()) && x0 < x1 && y0 < y1);
        let (lon, lat) = to_lonlat((x0 + x1) / 2.0, (y0 + y1) / 2.0);
        prop_assert_eq!(
            TileCoord::containing(lon, lat, z),
            t,
            "the tile holding its centre"
        );
        let (inner, outer) = (t.lonlat_bounds(0), t.lonlat_bounds(BUFFER));
        prop_assert!(
            inner.min().x <= lon
                && lon <= inner.max().x
                && inner.min().y <= lat
                && lat <= inner.max().y
        );
        prop_assert!(
            outer.min().x <= inner.min().x
                && outer.max().x >= inner.max().x
                && outer.min().y <= inner.min().y
                && outer.max().y >= inner.max().y
        );
        if let Some(east) = TileCoord::new_checked(z, x.wrapping_add(1), y) {
            prop_assert_eq!(
                t.mercator_bounds()[2],
                east.mercator_bounds()[0],
                "shared edge"
            );
        }
        Ok(())
    });
    tally.both_seen("tile_coord");
}

/// Keys a generated MVT feature may carry: the encoder takes `'static` keys.
const MVT_KEYS: &[&str] = &["id", "name", "kind", "ward", "grade", "ভাষা", "", "a key"];
const MVT_STATICS: &[&str] = &["building", "statue", "good", "I", "", "building"];

#[derive(Debug, Clone)]
enum TagValue {
    Str(String),
    Int(i64),
    Uint(u64),
    Static(usize),
}

#[derive(Debug, Clone)]
struct MvtFeature {
    ty: GeomType,
    /// Parts (rings, lines, or for points a single part of all the points), in tile units.
    parts: Parts,
    /// A single `begin_point` instead of `begin_parts`.
    single: bool,
    id: Option<u64>,
    /// (key, value, shared or unique)
    tags: Vec<(usize, TagValue, bool)>,
}

/// Tile units far beyond the clipped square the encoder is given (−64..4160), yet
/// small enough that a delta between two of them fits the encoder's `i32`.
fn unit() -> impl Strategy<Value = i32> {
    prop_oneof![3 => -100i32..4200, 1 => -(1i32 << 20)..(1 << 20)]
}

fn mvt_feature() -> impl Strategy<Value = MvtFeature> {
    let ty = select(vec![
        GeomType::Point,
        GeomType::Linestring,
        GeomType::Polygon,
    ]);
    let tag = (
        0..MVT_KEYS.len(),
        prop_oneof![
            ".{0,12}".prop_map(TagValue::Str),
            any::<i64>().prop_map(TagValue::Int),
            any::<u64>().prop_map(TagValue::Uint),
            (0..MVT_STATICS.len()).prop_map(TagValue::Static),
        ],
        any::<bool>(),
    );
    (
        ty,
        vec(vec((unit(), unit()), 0..7), 0..4),
        any::<bool>(),
        option::of(any::<u64>()),
        vec(tag, 0..6),
    )
        .prop_map(|(ty, parts, single, id, tags)| MvtFeature {
            ty,
            parts,
            single,
            id,
            tags,
        })
}

/// An MVT feature's geometry: its parts (rings, lines, or one part of all its points),
/// each a list of positions in tile units.
type Parts = Vec<Vec<(i32, i32)>>;

/// What a drawn feature should decode to: its parts as the encoder may draw them, or
/// `None` when nothing is drawable.
fn drawable(f: &MvtFeature) -> Option<(GeomType, Parts)> {
    if f.single {
        let p = *f.parts.concat().first()?;
        return Some((GeomType::Point, vec![vec![p]]));
    }
    let parts: Parts = match f.ty {
        GeomType::Point => {
            let all: Vec<(i32, i32)> = f.parts.concat();
            if all.is_empty() {
                vec![]
            } else {
                vec![all]
            }
        }
        GeomType::Linestring => f.parts.iter().filter(|p| p.len() >= 2).cloned().collect(),
        GeomType::Polygon => f.parts.iter().filter(|p| p.len() >= 3).cloned().collect(),
    };
    (!parts.is_empty()).then_some((f.ty, parts))
}

/// Decodes an MVT geometry command stream (spec 4.3) into parts of absolute positions.
fn decode_geometry(ty: GeomType, cmds: &[u32]) -> Result<Parts, String> {
    let unzig = |v: u32| ((v >> 1) as i32) ^ -((v & 1) as i32);
    let (mut i, mut pen, mut parts) = (0usize, (0i32, 0i32), Vec::<Vec<(i32, i32)>>::new());
    while i < cmds.len() {
        let (id, count) = (cmds[i] & 7, (cmds[i] >> 3) as usize);
        i += 1;
        match id {
            1 | 2 => {
                if id == 1 && ty != GeomType::Point {
                    if count != 1 {
                        return Err(format!("MoveTo with count {count} in a {ty:?}"));
                    }
                    parts.push(Vec::new());
                } else if id == 1 {
                    parts.push(Vec::new());
                }
                for _ in 0..count {
                    let (dx, dy) = match (cmds.get(i), cmds.get(i + 1)) {
                        (Some(a), Some(b)) => (unzig(*a), unzig(*b)),
                        _ => return Err("truncated parameters".into()),
                    };
                    i += 2;
                    pen = (pen.0 + dx, pen.1 + dy);
                    parts.last_mut().ok_or("LineTo before MoveTo")?.push(pen);
                }
            }
            7 if ty == GeomType::Polygon && count == 1 => {}
            other => return Err(format!("command {other} (count {count}) in a {ty:?}")),
        }
    }
    Ok(parts)
}

#[test]
fn fuzz_mvt_roundtrip() {
    let layer = ("[a-z_ভ]{1,12}", vec(mvt_feature(), 0..12));
    fuzz("mvt_roundtrip", vec(layer, 1..3), |layers| {
        let mut tile = Vec::new();
        // What each layer should hold: (id, type, parts, tags as (key, value)).
        type Expected = Vec<(Option<u64>, GeomType, Parts, Vec<(String, TagValue)>)>;
        let mut expected: Vec<Expected> = Vec::new();
        for (name, features) in &layers {
            let mut w = LayerWriter::new(name, features.len());
            let mut exp = Vec::new();
            for f in features {
                let flat: Vec<(i32, i32)> = f.parts.concat();
                let base = 17u32;
                let mut ends = Vec::new();
                let mut end = base;
                for p in &f.parts {
                    end += p.len() as u32;
                    ends.push(end);
                }
                let start = if f.single {
                    flat.first().map(|(x, y)| w.begin_point(*x, *y))
                } else {
                    w.begin_parts(f.ty, &flat, base, &ends)
                };
                let want = drawable(f);
                prop_assert_eq!(start.is_some(), want.is_some(), "drawable: {:?}", f);
                let (Some(start), Some((ty, parts))) = (start, want) else {
                    continue;
                };
                let mut tags = Vec::new();
                for (k, v, shared) in &f.tags {
                    let key = MVT_KEYS[*k];
                    match v {
                        TagValue::Static(i) => w.tag_static(key, MVT_STATICS[*i]),
                        TagValue::Str(s) if *shared => w.tag(key, Val::Str(s)),
                        TagValue::Str(s) => w.tag_unique(key, Val::Str(s)),
                        TagValue::Int(n) if *shared => w.tag(key, Val::Int(*n)),
                        TagValue::Int(n) => w.tag_unique(key, Val::Int(*n)),
                        TagValue::Uint(n) if *shared => w.tag(key, Val::Uint(*n)),
                        TagValue::Uint(n) => w.tag_unique(key, Val::Uint(*n)),
                    }
                    tags.push((key.to_string(), v.clone()));
                }
                w.end(start, f.id);
                exp.push((f.id, ty, parts, tags));
            }
            prop_assert_eq!(w.len(), exp.len());
            w.finish(&mut tile);
            expected.push(exp);
        }
        let decoded = Tile::decode(&tile[..]).map_err(|e| fail(format!("not a tile: {e}")))?;
        prop_assert_eq!(decoded.layers.len(), layers.len());
        for ((l, (name, _)), exp) in decoded.layers.iter().zip(&layers).zip(&expected) {
            prop_assert_eq!(&l.name, name);
            prop_assert_eq!((l.version, l.extent), (2, Some(EXTENT)));
            prop_assert_eq!(l.features.len(), exp.len());
            for (f, (id, ty, parts, tags)) in l.features.iter().zip(exp) {
                prop_assert_eq!(f.id, *id);
                prop_assert_eq!(f.r#type, Some(*ty as i32));
                let got = decode_geometry(*ty, &f.geometry).map_err(fail)?;
                prop_assert_eq!(&got, parts);
                prop_assert_eq!(f.tags.len(), tags.len() * 2);
                for (pair, (key, value)) in f.tags.chunks(2).zip(tags) {
                    let k = l
                        .keys
                        .get(pair[0] as usize)
                        .ok_or_else(|| fail("key index out of range"))?;
                    let v = l
                        .values
                        .get(pair[1] as usize)
                        .ok_or_else(|| fail("value index out of range"))?;
                    prop_assert_eq!(k, key);
                    let ok = match value {
                        TagValue::Str(s) => v.string_value.as_deref() == Some(s.as_str()),
                        TagValue::Static(i) => v.string_value.as_deref() == Some(MVT_STATICS[*i]),
                        TagValue::Int(n) => v.int_value == Some(*n),
                        TagValue::Uint(n) => v.uint_value == Some(*n),
                    };
                    prop_assert!(ok, "{} = {:?} decoded as {:?}", key, value, v);
                }
            }
        }
        Ok(())
    });
}

/// One asset placed in a tile at known tile units.
#[derive(Debug, Clone)]
struct Placed {
    /// A point at (x, y), or an axis-aligned box from (x, y) of (w, h) units.
    x: f64,
    y: f64,
    size: Option<(f64, f64)>,
    name: Option<String>,
    ward: Option<i64>,
    grade: Option<Grade>,
    condition: Option<Condition>,
    kind: usize,
}

fn placed() -> impl Strategy<Value = Placed> {
    (
        -60.0..4150.0f64,
        -60.0..4150.0f64,
        option::of((20.0..1000.0f64, 20.0..1000.0f64)),
        option::of("[A-Za-z ভ]{1,12}"),
        option::of(-5i64..200),
        option::of(select(Grade::ALL)),
        option::of(select(Condition::ALL)),
        0usize..4,
    )
        .prop_map(|(x, y, size, name, ward, grade, condition, kind)| {
            // Boxes stay wholly inside the buffered tile: clipping is another target's.
            let size = size.map(|(w, h)| (w.min(4150.0 - x), h.min(4150.0 - y)));
            let size = size.filter(|(w, h)| *w >= 20.0 && *h >= 20.0);
            Placed {
                x,
                y,
                size,
                name,
                ward,
                grade,
                condition,
                kind,
            }
        })
}

#[test]
fn fuzz_tile_render() {
    let tile = (14u8..=MAX_ZOOM, -170.0..170.0f64, -80.0..80.0f64)
        .prop_map(|(z, lon, lat)| TileCoord::containing(lon, lat, z));
    fuzz(
        "tile_render",
        (tile, vec(placed(), 1..30)),
        |(t, placed)| {
            let [minx, _, _, maxy] = t.mercator_bounds();
            let scale = f64::from(EXTENT) / t.size_m();
            let lonlat = |ux: f64, uy: f64| to_lonlat(minx + ux / scale, maxy - uy / scale);
            let assets: Vec<Asset> = placed
                .iter()
                .enumerate()
                .map(|(i, p)| {
                    let geometry = match p.size {
                        None => {
                            let (lon, lat) = lonlat(p.x, p.y);
                            Geometry::Point(Point::new(lon, lat))
                        }
                        Some((w, h)) => {
                            let (w0, n0) = lonlat(p.x, p.y);
                            let (e0, s0) = lonlat(p.x + w, p.y + h);
                            common::rect_polygon(w0, s0, e0 - w0, n0 - s0, 0.0)
                        }
                    };
                    Asset {
                        id: AssetId(i as i64 + 1),
                        code: format!("R-{i}"),
                        layer: Layer::Heritage,
                        kind: Layer::Heritage.kinds()[p.kind],
                        attrs: Attributes {
                            name: p.name.clone(),
                            ward: p.ward,
                            grade: p.grade,
                            condition: p.condition,
                            ..Default::default()
                        },
                        area_m2: None,
                        geometry,
                        created_at: "2026-01-01T00:00:00Z".into(),
                        updated_at: "2026-01-01T00:00:00Z".into(),
                        version: 1,
                        ward_from_location: false,
                        lock: None,
                    }
                })
                .collect();
            let index = Index::new();
            index.set_layer(Layer::Heritage, LayerIndex::bulk(assets.clone()));
            let drawn = within(move || tiles::render(&index, LayerSet::of(&[Layer::Heritage]), t))?;
            prop_assert_eq!((drawn.features >= placed.len(), drawn.dropped), (true, 0));
            let decoded =
                Tile::decode(&drawn.bytes[..]).map_err(|e| fail(format!("not a tile: {e}")))?;
            let layer = decoded
                .layers
                .iter()
                .find(|l| l.name == "heritage")
                .ok_or_else(|| fail("no heritage layer"))?;
            prop_assert_eq!(layer.features.len(), placed.len());
            for (a, p) in assets.iter().zip(&placed) {
                let f = layer
                    .features
                    .iter()
                    .find(|f| f.id == Some(a.id.0 as u64))
                    .ok_or_else(|| fail(format!("asset {} not drawn", a.id)))?;
                let ty = if p.size.is_some() {
                    GeomType::Polygon
                } else {
                    GeomType::Point
                };
                prop_assert_eq!(f.r#type, Some(ty as i32));
                let parts = decode_geometry(ty, &f.geometry).map_err(fail)?;
                // Quantised to the unit grid: every vertex within half a unit (plus the
                // projection's rounding) of where it was placed.
                let near = |(gx, gy): (i32, i32), (x, y): (f64, f64)| {
                    (f64::from(gx) - x).abs() <= 0.51 && (f64::from(gy) - y).abs() <= 0.51
                };
                match p.size {
                    None => prop_assert!(
                        parts.len() == 1 && parts[0].len() == 1 && near(parts[0][0], (p.x, p.y)),
                        "point at {:?} drawn as {:?}",
                        (p.x, p.y),
                        parts
                    ),
                    Some((w, h)) => {
                        let corners = [
                            (p.x, p.y),
                            (p.x + w, p.y),
                            (p.x + w, p.y + h),
                            (p.x, p.y + h),
                        ];
                        prop_assert!(
                            parts.len() == 1
                                && parts[0].len() == 4
                                && corners
                                    .iter()
                                    .all(|c| parts[0].iter().any(|g| near(*g, *c))),
                            "box {:?} drawn as {:?}",
                            corners,
                            parts
                        );
                    }
                }
                let tag = |k: &str| {
                    f.tags
                        .chunks(2)
                        .find(|pair| l_key(layer, pair[0]) == Some(k))
                        .and_then(|pair| layer.values.get(pair[1] as usize).cloned())
                };
                let s = |v: Option<geozero::mvt::tile::Value>| v.and_then(|v| v.string_value);
                prop_assert_eq!(tag("id").and_then(|v| v.uint_value), Some(a.id.0 as u64));
                prop_assert_eq!(s(tag("code")), Some(a.code.clone()));
                prop_assert_eq!(s(tag("name")), a.attrs.name.clone());
                prop_assert_eq!(tag("ward").and_then(|v| v.int_value), a.attrs.ward);
                prop_assert_eq!(s(tag("kind")), Some(a.kind.as_str().to_string()));
                prop_assert_eq!(
                    s(tag("condition")),
                    Some(
                        a.attrs
                            .condition
                            .unwrap_or(Condition::Unknown)
                            .as_str()
                            .to_string()
                    )
                );
                prop_assert_eq!(
                    s(tag("grade")),
                    a.attrs.grade.map(|g| g.as_str().to_string())
                );
            }
            Ok(())
        },
    );
}

fn l_key(l: &geozero::mvt::tile::Layer, i: u32) -> Option<&str> {
    l.keys.get(i as usize).map(String::as_str)
}

#[test]
fn fuzz_http_tiles() {
    let http = Http::new();
    let segment = prop_oneof![
        3 => (0u32..25).prop_map(|v| v.to_string()),
        1 => select(vec![
            "-1", "", "1.5", "99999999999", "4294967296", "0x1", "+1", "1e2", " 1", "٣",
        ])
            .prop_map(str::to_string),
        1 => ".{0,4}",
    ];
    // Half the addresses exist (any layer set, any tile), half are anything at all.
    let names = ["heritage", "water_bodies", "parks", "wards", "complaints"];
    let real = (
        (1usize..32).prop_map(move |bits| {
            let named = names
                .iter()
                .enumerate()
                .filter(|(i, _)| bits & (1 << i) != 0);
            named.map(|(_, n)| *n).collect::<Vec<_>>().join(",")
        }),
        (0u8..=MAX_ZOOM)
            .prop_flat_map(|z| (Just(z), 0..1u32 << z, 0..1u32 << z))
            .prop_map(|(z, x, y)| (z.to_string(), x.to_string(), y.to_string())),
    );
    let anything = (layer_list(), (segment.clone(), segment.clone(), segment));
    let input = (
        prop_oneof![real, anything],
        select(vec![".mvt", ".mvt", ".pbf", "", ".png", ".mvt.mvt"]),
        option::of(select(vec!["v=1", "v=%FF", "x=1", "v=1&v=2"])),
        select(vec![
            "",
            "gzip",
            "br",
            "gzip, br",
            "identity",
            "*",
            "br;q=0, gzip;q=0",
        ]),
    );
    let tally = Tally::default();
    fuzz(
        "http_tiles",
        input,
        |((layers, (z, x, y)), suffix, query, coding)| {
            let mut uri = format!(
                "/tiles/{}/{}/{}/{}{suffix}",
                enc(&layers),
                enc(&z),
                enc(&x),
                enc(&y)
            );
            if let Some(q) = query {
                uri = format!("{uri}?{q}");
            }
            let mut req = Request::builder().uri(&uri);
            if !coding.is_empty() {
                req = req.header(header::ACCEPT_ENCODING, coding);
            }
            let answer = http.send(req.body(Body::empty()).map_err(|e| fail(e.to_string()))?)?;
            answer.error_or_ok()?;
            let valid = LayerSet::parse(&layers).is_ok()
                && matches!(suffix, ".mvt" | ".pbf" | "")
                && matches!(query, None | Some("v=1"))
                && match (z.parse::<u8>(), x.parse::<u32>(), y.parse::<u32>()) {
                    (Ok(z), Ok(x), Ok(y)) => TileCoord::new_checked(z, x, y).is_some(),
                    _ => false,
                };
            tally.add(valid);
            if valid {
                prop_assert!(
                    matches!(answer.status.as_u16(), 200 | 204),
                    "{} answered {}: {}",
                    uri,
                    answer.status,
                    answer.text()
                );
            }
            if answer.status == StatusCode::OK {
                let encoding = answer
                    .headers
                    .get(header::CONTENT_ENCODING)
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or("");
                let mut raw = Vec::new();
                let read = match encoding {
                    "gzip" => flate2::read::GzDecoder::new(&answer.body[..]).read_to_end(&mut raw),
                    "br" => brotli::Decompressor::new(&answer.body[..], 4096).read_to_end(&mut raw),
                    _ => {
                        raw = answer.body.clone();
                        Ok(raw.len())
                    }
                };
                read.map_err(|e| fail(format!("{uri}: {encoding} body: {e}")))?;
                let t =
                    Tile::decode(&raw[..]).map_err(|e| fail(format!("{uri}: not a tile: {e}")))?;
                for l in &t.layers {
                    prop_assert!(
                        [
                            "heritage",
                            "water_bodies",
                            "parks",
                            "wards",
                            "complaints",
                            "labels"
                        ]
                        .contains(&l.name.as_str()),
                        "{}: layer {}",
                        uri,
                        l.name
                    );
                }
            }
            Ok(())
        },
    );
    tally.both_seen("http_tiles");
}

// ---------------------------------------------------------------------------------------
// Deep nesting, each in a process of its own.
// ---------------------------------------------------------------------------------------

fn nested_parentheses(depth: usize) -> String {
    format!("{}name = 'x'{}", "(".repeat(depth), ")".repeat(depth))
}

fn not_chain(depth: usize) -> String {
    format!("{}name = 'x'", "NOT ".repeat(depth))
}

#[test]
fn hostile_cql2_deep_parentheses() {
    in_own_process("own_process::cql2_deep_parentheses");
}

#[test]
fn hostile_cql2_deep_not_chain() {
    in_own_process("own_process::cql2_deep_not_chain");
}

#[test]
fn hostile_http_filter_deep_nesting() {
    in_own_process("own_process::http_filter_deep_nesting");
}

#[test]
fn hostile_csv_wkt_deep_nesting() {
    in_own_process("own_process::csv_wkt_deep_nesting");
}

#[test]
fn hostile_geojson_deep_nesting() {
    in_own_process("own_process::geojson_deep_nesting");
}

/// The bodies of the `hostile_*` tests, run by them in a process of their own.
mod own_process {
    use super::*;

    #[test]
    #[ignore = "run in its own process by hostile_cql2_deep_parentheses"]
    fn cql2_deep_parentheses() {
        let shallow = cql2::parse(&nested_parentheses(10), &OracleProps);
        assert!(shallow.is_ok(), "10 levels: {shallow:?}");
        let deep = cql2::parse(&nested_parentheses(5000), &OracleProps);
        assert!(deep.is_err(), "5000 nested parentheses were accepted");
    }

    #[test]
    #[ignore = "run in its own process by hostile_cql2_deep_not_chain"]
    fn cql2_deep_not_chain() {
        let shallow = cql2::parse(&not_chain(10), &OracleProps);
        assert!(shallow.is_ok(), "10 NOTs: {shallow:?}");
        let deep = cql2::parse(&not_chain(5000), &OracleProps);
        assert!(deep.is_err(), "a chain of 5000 NOTs was accepted");
    }

    #[test]
    #[ignore = "run in its own process by hostile_http_filter_deep_nesting"]
    fn http_filter_deep_nesting() {
        let http = Http::new();
        // Parentheses travel unencoded in a query, and `+` is a space: both filters fit
        // the 16 KiB request-target limit, so it is the parser that must refuse them.
        let parentheses = format!("{}name+%3D+'x'{}", "(".repeat(5000), ")".repeat(5000));
        let nots = format!("{}name+%3D+'x'", "NOT+".repeat(3000));
        for filter in [parentheses, nots] {
            let uri = format!("/collections/heritage/items?filter={filter}");
            let a = http.get(&uri).expect("an answer");
            a.error_or_ok().expect("an error, not a failure");
            assert_eq!(a.status, StatusCode::BAD_REQUEST, "{}", a.text());
        }
    }

    #[test]
    #[ignore = "run in its own process by hostile_csv_wkt_deep_nesting"]
    fn csv_wkt_deep_nesting() {
        let im = Importer::new();
        let d = 5000;
        let csv = format!(
            "name,wkt\nx,\"{}POINT(1 2){}\"\n",
            "GEOMETRYCOLLECTION(".repeat(d),
            ")".repeat(d)
        );
        let r = im
            .import(csv.into_bytes(), Format::Csv, &heritage_import(None), false)
            .expect("no panic or hang");
        assert!(r.is_err(), "{r:?}");
    }

    #[test]
    #[ignore = "run in its own process by hostile_geojson_deep_nesting"]
    fn geojson_deep_nesting() {
        let im = Importer::new();
        let d = 100_000;
        let doc = point_feature(&format!("{}1{}", "[".repeat(d), "]".repeat(d)));
        let r = im
            .import(doc, Format::Geojson, &heritage_import(None), false)
            .expect("no panic or hang");
        assert!(r.is_err(), "{r:?}");
    }
}

/// `as_of` values: anything is an answer or a clear error (never a panic), and every
/// instant accepted is a version stamp that sorts with time: a date-time one
/// millisecond later sorts after it, and a date is the end of that day in Kolkata.
#[test]
fn fuzz_as_of() {
    use heritage_atlas::model::{as_of_instant, instant_ms};
    let tally = Tally::default();
    let shaped = (
        1900i32..2200,
        1u8..13,
        1u8..32,
        0u8..24,
        0u8..60,
        0u8..60,
        0u16..1000,
        -12i8..15,
    )
        .prop_map(|(y, mo, d, h, mi, s, ms, off)| {
            let sign = if off < 0 { '-' } else { '+' };
            format!(
                "{y:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}.{ms:03}{sign}{:02}:30",
                off.unsigned_abs()
            )
        });
    let text = prop_oneof![
        shaped,
        "[0-9]{4}-[0-9]{2}-[0-9]{2}",
        ".{0,40}",
        "[0-9T:.Z+-]{0,30}",
    ];
    fuzz("as_of", text, |s| {
        let t = s.clone();
        let got = within(move || as_of_instant(&t))?;
        match got {
            Ok(stamp) => {
                let parsed = time::OffsetDateTime::parse(
                    &stamp,
                    &time::format_description::well_known::Rfc3339,
                )
                .map_err(|e| fail(format!("{s:?} gave {stamp:?}, not RFC 3339: {e}")))?;
                prop_assert_eq!(instant_ms(parsed), stamp.clone(), "a stamp is canonical");
                let later = instant_ms(parsed + time::Duration::milliseconds(1));
                prop_assert!(later > stamp, "{} sorts after {}", later, stamp);
                tally.add(true);
            }
            Err(e) => {
                prop_assert!(e.to_string().contains("as_of"));
                tally.add(false);
            }
        }
        Ok(())
    });
    tally.both_seen("as_of");
}

/// RFC 7396 merge patches: applying a patch twice changes nothing more (idempotence),
/// a patch's `null` members are gone afterwards, and its other scalars are there.
#[test]
fn fuzz_merge_patch() {
    use heritage_atlas::features::edit::merge_patch;
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i32>().prop_map(serde_json::Value::from),
        "[a-c]{0,3}".prop_map(serde_json::Value::from),
    ];
    let value = leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            vec(inner.clone(), 0..3).prop_map(serde_json::Value::Array),
            vec(("[a-d]", inner), 0..4)
                .prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect())),
        ]
    });
    fuzz("merge_patch", (value.clone(), value), |(target, patch)| {
        let mut once = target.clone();
        merge_patch(&mut once, &patch);
        let mut twice = once.clone();
        merge_patch(&mut twice, &patch);
        prop_assert_eq!(&once, &twice, "idempotent");
        if let (serde_json::Value::Object(p), serde_json::Value::Object(r)) = (&patch, &once) {
            for (k, v) in p {
                match v {
                    serde_json::Value::Null => prop_assert!(!r.contains_key(k), "{} removed", k),
                    serde_json::Value::Object(_) => prop_assert!(r[k].is_object()),
                    other => prop_assert_eq!(&r[k], other),
                }
            }
        } else if !patch.is_object() {
            prop_assert_eq!(&once, &patch, "a non-object patch replaces");
        }
        Ok(())
    });
}

/// A document's fields as staff send them (a JSON merge patch): never a panic; what is
/// accepted applies to a record and keeps its dates in order, with a title.
#[test]
fn fuzz_document_fields() {
    use heritage_atlas::documents::form::{blank, DocFields, FIELDS};
    let tally = Tally::default();
    let key = prop_oneof![
        proptest::sample::select(FIELDS.to_vec()).prop_map(str::to_string),
        "[a-z_]{0,12}",
    ];
    let leaf = prop_oneof![
        Just(serde_json::Value::Null),
        any::<bool>().prop_map(serde_json::Value::from),
        any::<i64>().prop_map(serde_json::Value::from),
        "(19|20)[0-9]{2}-[01][0-9]-[0-3][0-9]".prop_map(serde_json::Value::from),
        "(notice|noc|order|minutes|bn|en|bn\\+en|true|false|[0-9]{1,3}|HER-000[1-9])"
            .prop_map(serde_json::Value::from),
        "\\PC{0,30}".prop_map(serde_json::Value::from),
        vec("[A-Z]{3}-[0-9]{4}", 0..4).prop_map(serde_json::Value::from),
    ];
    let patch =
        vec((key, leaf), 0..6).prop_map(|kv| serde_json::Value::Object(kv.into_iter().collect()));
    let today = time::macros::date!(2026 - 12 - 01);
    fuzz("document fields", patch, |p| {
        let got =
            within(move || DocFields::from_patch(&p, today).map(|f| f.apply(blank("t".into()))))?;
        match got {
            Ok(Ok(m)) => {
                tally.add(true);
                prop_assert!(!m.title.is_empty());
                if let (Some(a), Some(b)) = (&m.issued_on, &m.valid_until) {
                    prop_assert!(a <= b);
                }
            }
            _ => tally.add(false),
        }
        Ok(())
    });
    tally.both_seen("document fields");
}

/// What a searcher types: never a panic, and every query accepted runs in FTS5 (a real
/// index) without a syntax error.
#[test]
fn fuzz_document_query() {
    use heritage_atlas::documents::search::parse;
    let conn = rusqlite::Connection::open_in_memory().unwrap();
    conn.execute_batch(
        "CREATE VIRTUAL TABLE t USING fts5(title, reference, body, tokenize = \"porter unicode61 remove_diacritics 2 categories 'L* N* Co Mc Mn'\");
         INSERT INTO t VALUES ('পুকুরের নোটিশ', 'KMC/EH/2019/17', 'repair of the Park Street house');",
    )
    .unwrap();
    let conn = std::sync::Mutex::new(conn);
    let tally = Tally::default();
    let text = prop_oneof![
        "\\PC{0,60}",
        "[a-z \"*()^:+-]{0,40}",
        "(NEAR|AND|OR|NOT|\"|\\*|-|\\(|\\)|পুকুর|park|\\{|\\}|:| ){0,12}",
    ];
    fuzz("document query", text, |q| {
        let q2 = q.clone();
        let got = within(move || parse(&q2))?;
        match got {
            Ok(Some(f)) => {
                tally.add(true);
                let c = conn.lock().unwrap();
                let r: rusqlite::Result<i64> =
                    c.query_row("SELECT count(*) FROM t WHERE t MATCH ?", [&f.expr], |r| {
                        r.get(0)
                    });
                prop_assert!(r.is_ok(), "{:?} → {} : {:?}", q, f.expr, r);
            }
            _ => tally.add(false),
        }
        Ok(())
    });
    tally.both_seen("document query");
}

#[test]
fn fuzz_complaint_item() {
    use heritage_atlas::model::ComplaintItem;
    let tally = Tally::default();
    let text = prop_oneof![
        "\\PC{0,80}",
        "(description|photo:|note:|/photos/|[0-9a-fA-F]{64}|-?[0-9]{1,22}| |\\.\\./){0,4}",
        // Well-formed ones too, so both answers are seen on every run.
        " ?(description|note:-?[0-9]{1,19}|photo:(/photos/)?[0-9a-fA-F]{64}) ?",
    ];
    fuzz("complaint item", text, |s| {
        let s2 = s.clone();
        match within(move || s2.parse::<ComplaintItem>())? {
            Ok(item) => {
                tally.add(true);
                // What parses names itself canonically, and that parses back to it.
                let canonical = item.to_string();
                prop_assert_eq!(canonical.parse::<ComplaintItem>().ok(), Some(item.clone()));
                match &item {
                    ComplaintItem::Photo(sha) => prop_assert!(
                        sha.len() == 64
                            && sha
                                .bytes()
                                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
                    ),
                    ComplaintItem::Note(_) | ComplaintItem::Description => {}
                }
            }
            Err(e) => {
                tally.add(false);
                prop_assert!(
                    e.to_string().len() < 300,
                    "an error echoes at most 80 characters"
                );
            }
        }
        Ok(())
    });
    tally.both_seen("complaint item");
}

#[test]
fn fuzz_applicant_contact() {
    use heritage_atlas::applications::{contact, Channel};
    let tally = Tally::default();
    let text = prop_oneof![
        "\\PC{0,80}",
        "[ +()\\-.0-9]{0,24}",
        "[a-zA-Z0-9._%+\\-]{0,20}@[a-zA-Z0-9.\\-]{0,20}",
        // Well-formed ones too, so both answers are seen on every run.
        " ?(\\+91 ?)?[6-9][0-9]{9} ?",
        "[a-z]{1,10}@[a-z]{1,10}\\.(org|in|com)",
    ];
    fuzz("applicant contact", text, |s| {
        let s2 = s.clone();
        match within(move || contact(&s2))? {
            Ok((c, ch)) => {
                tally.add(true);
                // One canonical form: it parses back to itself, on the same channel.
                prop_assert_eq!(contact(&c), Ok((c.clone(), ch)));
                match ch {
                    Channel::Email => prop_assert!(
                        c.matches('@').count() == 1 && c == c.to_lowercase() && c.len() <= 254
                    ),
                    Channel::Phone => prop_assert!(
                        c.starts_with("+91")
                            && c.len() == 13
                            && c[1..].bytes().all(|b| b.is_ascii_digit())
                    ),
                }
            }
            Err(e) => {
                tally.add(false);
                prop_assert!(!e.is_empty());
            }
        }
        Ok(())
    });
    tally.both_seen("applicant contact");
}
