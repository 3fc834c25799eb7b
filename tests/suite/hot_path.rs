//! The tile hot path (`http::hot`) answers exactly as the routed application does, header
//! for header and byte for byte, and only where it may: the routed application is the
//! oracle, and a stand-in behind the hot path (answering 418) shows which requests the hot
//! path left to the stack.

use crate::common;

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::Body;
use axum::extract::ConnectInfo;
use axum::http::{Method, Request};
use axum::response::{IntoResponse, Response};
use heritage_atlas::atlas::{Atlas, AtlasOptions};
use heritage_atlas::http::hot::Front;
use heritage_atlas::model::{Layer, NewAsset};
use heritage_atlas::store::EditContext;
use heritage_atlas::tiles::{few_to_draw, LayerSet, TileCoord};
use heritage_atlas::AppState;
use tower::ServiceExt;

/// Status, headers (sorted by name; values of one name in their order) and body.
#[derive(Debug, PartialEq)]
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

async fn answer_of(r: Response) -> Answer {
    let status = r.status().as_u16();
    let mut headers: Vec<(String, String)> = r
        .headers()
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or("?").to_string()))
        .collect();
    headers.sort_by(|a, b| a.0.cmp(&b.0));
    let body = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .unwrap()
        .to_vec();
    Answer {
        status,
        headers,
        body,
    }
}

fn request(method: Method, uri: &str, headers: &[(&str, &str)]) -> Request<Body> {
    let mut b = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        b = b.header(*k, *v);
    }
    let mut r = b.body(Body::empty()).unwrap();
    r.extensions_mut()
        .insert(ConnectInfo(SocketAddr::from(([127, 0, 0, 1], 40_000))));
    r
}

struct Setup {
    routed: axum::Router,
    /// The hot path in front of a stand-in that answers 418: a 418 means "left to the stack".
    hot: Front<tower::util::BoxCloneService<Request<Body>, Response, Infallible>>,
    atlas: Arc<Atlas>,
    _dir: tempfile::TempDir,
}

async fn setup() -> Setup {
    setup_with(AtlasOptions::default().tile_sendfile_min).await
}

/// As [`setup`], with cached tiles of at least `sendfile_min` bytes sent from memory
/// files (0: none).
async fn setup_with(sendfile_min: usize) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("atlas.db");
    let store = common::open_store(&db).await;
    let opts = AtlasOptions {
        load_bundled: true,
        photos_dir: db.with_extension("photos"),
        tile_sendfile_min: sendfile_min,
        ..Default::default()
    };
    let atlas = Arc::new(Atlas::open(store, &opts).await.unwrap());
    let state = AppState::new(atlas.clone());
    let stand_in =
        tower::util::BoxCloneService::new(tower::service_fn(|_req: Request<Body>| async {
            Ok::<_, Infallible>(axum::http::StatusCode::IM_A_TEAPOT.into_response())
        }));
    Setup {
        routed: heritage_atlas::app(state.clone()),
        hot: Front::new(state, stand_in),
        atlas,
        _dir: dir,
    }
}

/// `service`'s answer to one request.
async fn ask<S>(service: S, method: Method, uri: &str, headers: &[(&str, &str)]) -> Answer
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible>,
{
    let Ok(r) = service.oneshot(request(method, uri, headers)).await;
    answer_of(r).await
}

impl Setup {
    async fn routed(&self, method: Method, uri: &str, headers: &[(&str, &str)]) -> Answer {
        ask(self.routed.clone(), method, uri, headers).await
    }

    async fn hot(&self, method: Method, uri: &str, headers: &[(&str, &str)]) -> Answer {
        ask(self.hot.clone(), method, uri, headers).await
    }

    /// Asks both; asserts the hot path answered (not the stand-in) and alike.
    async fn same(&self, uri: &str, headers: &[(&str, &str)]) -> Answer {
        let hot = self.hot(Method::GET, uri, headers).await;
        assert_ne!(hot.status, 418, "{uri} {headers:?}: left to the stack");
        let routed = self.routed(Method::GET, uri, headers).await;
        assert_eq!(hot, routed, "{uri} {headers:?}");
        hot
    }

    async fn left_to_stack(&self, method: Method, uri: &str, headers: &[(&str, &str)]) {
        let hot = self.hot(method.clone(), uri, headers).await;
        assert_eq!(
            hot.status, 418,
            "{method} {uri} {headers:?}: answered by the hot path"
        );
    }
}

fn path(layers: &str, t: TileCoord) -> String {
    format!("/tiles/{layers}/{}/{}/{}.mvt", t.z, t.x, t.y)
}

const GZIP: (&str, &str) = ("accept-encoding", "gzip");

#[tokio::test(flavor = "multi_thread")]
async fn plain_tile_requests_are_answered_before_routing_exactly_as_the_router_answers() {
    let s = setup().await;
    let vm = TileCoord::containing(88.3426, 22.5448, 15); // Victoria Memorial
    let all = path("heritage,water_bodies,parks", vm);

    // Not cached yet: drawn by the hot path (few features: on the worker), then cached;
    // the router's answer from the cache is the same.
    assert!(few_to_draw(
        s.atlas.index(),
        LayerSet::parse("heritage,water_bodies,parks").unwrap(),
        vm
    ));
    let first = s.same(&all, &[GZIP]).await;
    assert_eq!(first.status, 200);
    assert!(first.body.len() > 100, "a drawn tile");

    // Cached: gzip (made when drawn) and identity (always ready).
    let gz = s.same(&all, &[GZIP]).await;
    assert!(gz
        .headers
        .contains(&("content-encoding".into(), "gzip".into())));
    assert_eq!(gz.body, first.body);
    let raw = s.same(&all, &[]).await;
    let mut unzipped = Vec::new();
    std::io::Read::read_to_end(
        &mut flate2::read::GzDecoder::new(&gz.body[..]),
        &mut unzipped,
    )
    .unwrap();
    assert_eq!(raw.body, unzipped, "identity is the tile gzip holds");
    // `v` is the web app's cache-buster; the cache serves it.
    s.same(&format!("{all}?v=7"), &[GZIP]).await;
    s.same(&all.replace(".mvt", ".pbf"), &[GZIP]).await;
    // Brotli, not made when drawn: compressed on first demand, then kept.
    let br = ("accept-encoding", "br, gzip");
    let brotli = s.same(&all, &[br]).await;
    assert!(brotli
        .headers
        .contains(&("content-encoding".into(), "br".into())));

    // A tile many features could be in is drawn on the blocking pool: alike too.
    let everything = LayerSet::parse("wards,heritage,water_bodies,parks").unwrap();
    let heavy = (4..=16)
        .rev()
        .map(|z| TileCoord::containing(88.3426, 22.5448, z))
        .find(|t| !few_to_draw(s.atlas.index(), everything, *t))
        .expect("a tile over the city with more than a few candidates");
    let heavy = path("wards,heritage,water_bodies,parks", heavy);
    assert_eq!(s.same(&heavy, &[GZIP]).await.status, 200);
    s.same(&heavy, &[GZIP]).await;

    // 304 for the client's own copy, with the same headers.
    let etag = gz
        .headers
        .iter()
        .find(|(k, _)| k == "etag")
        .map(|(_, v)| v.clone())
        .unwrap();
    let not_modified = s.same(&all, &[GZIP, ("if-none-match", &etag)]).await;
    assert_eq!(not_modified.status, 304);
    assert!(not_modified.body.is_empty());

    // An empty tile (the Bay of Bengal): 204 alike.
    let sea = path("heritage", TileCoord::containing(89.5, 21.0, 12));
    assert_eq!(s.same(&sea, &[GZIP]).await.status, 204);

    // Complaints' tiles carry their own, shorter max-age.
    let with_pins = path("heritage,complaints", vm);
    let pins = s.same(&with_pins, &[GZIP]).await;
    assert_eq!(pins.status, 200);
    assert_ne!(
        pins.headers.iter().find(|(k, _)| k == "cache-control"),
        gz.headers.iter().find(|(k, _)| k == "cache-control"),
    );

    // What the hot path leaves to the stack, though the tile is cached.
    for (m, uri, h) in [
        (Method::HEAD, all.clone(), vec![GZIP]),
        (Method::POST, all.clone(), vec![GZIP]),
        (Method::GET, format!("{all}?as_of=2026-01-01"), vec![GZIP]),
        (Method::GET, format!("{all}?v=1&w=2"), vec![GZIP]),
        (Method::GET, format!("{all}?w=2"), vec![GZIP]),
        (Method::GET, all.replace(',', "%2C"), vec![GZIP]),
        (Method::GET, path("heritage,nowhere", vm), vec![GZIP]),
        (Method::GET, format!("{all}/extra"), vec![GZIP]),
        (
            Method::GET,
            "/tiles/heritage/15/99999999/1.mvt".into(),
            vec![GZIP],
        ),
        (
            Method::GET,
            all.clone(),
            vec![GZIP, ("content-length", "0")],
        ),
        (Method::GET, "/tiles/heritage.json".into(), vec![GZIP]),
    ] {
        s.left_to_stack(m, &uri, &h).await;
    }
    let huge = "x".repeat(40 << 10);
    s.left_to_stack(Method::GET, &all, &[GZIP, ("x-padding", &huge)])
        .await;

    // An edit drops the tiles it touched: the next request is the stack's, and fresh.
    rename_victoria_memorial(&s.atlas).await;
    let fresh = s.same(&all, &[GZIP]).await;
    assert_ne!(fresh.body, first.body, "the edit shows");
}

#[tokio::test(flavor = "multi_thread")]
async fn hot_answers_are_counted_under_the_tile_route() {
    let s = setup().await;
    let t = path("heritage", TileCoord::containing(88.3426, 22.5448, 14));
    s.routed(Method::GET, &t, &[GZIP]).await;
    for _ in 0..5 {
        s.same(&t, &[GZIP]).await;
    }
    let m = s.routed(Method::GET, "/metrics", &[]).await;
    let text = String::from_utf8(m.body).unwrap();
    let line = text
        .lines()
        .find(|l| {
            l.starts_with("heritage_atlas_http_requests_total{")
                && l.contains(r#"route="/tiles/{layers}/{z}/{x}/{y}""#)
                && l.contains(r#"status="2xx""#)
        })
        .unwrap_or_else(|| panic!("no tile series in {text}"));
    // One routed draw, then five routed and five hot answers from `same`.
    assert!(line.ends_with(" 11"), "{line}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_tile_is_few_to_draw_exactly_when_at_most_the_bound_of_entries_meet_it() {
    let s = setup().await;
    let index = s.atlas.index();
    let (mut few, mut many) = (0, 0);
    for layers in [
        "heritage",
        "wards,heritage,water_bodies,parks",
        "heritage,complaints",
    ] {
        let set = LayerSet::parse(layers).unwrap();
        for z in 8..=16u8 {
            for (lon, lat) in [(88.3426, 22.5448), (88.3639, 22.5726), (88.40, 22.50)] {
                let t = TileCoord::containing(lon, lat, z);
                let q = t.lonlat_bounds(heritage_atlas::tiles::BUFFER);
                // The brute-force count: every entry of every layer, and every pin.
                let mut n: usize = set
                    .layers()
                    .map(|l| index.read(l).candidates(&q).count())
                    .sum();
                if set.has_complaints() {
                    n += index.complaints().in_rect(&q).count();
                }
                let expected = n <= heritage_atlas::tiles::CHEAP_CANDIDATES;
                assert_eq!(few_to_draw(index, set, t), expected, "{layers} {t:?}: {n}");
                if expected {
                    few += 1
                } else {
                    many += 1
                }
            }
        }
    }
    assert!(
        few > 5 && many > 5,
        "both sides tried: {few} few, {many} many"
    );
}

/// A server on loopback running `app` (with its front door, if it has one).
async fn start<S>(app: S) -> (SocketAddr, tokio::sync::oneshot::Sender<()>)
where
    S: tower::Service<Request<Body>, Response = Response, Error = Infallible>
        + heritage_atlas::http::serve::Doorway
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    tokio::spawn(heritage_atlas::http::serve::serve(
        listener,
        app,
        Default::default(),
        async {
            let _ = stopped.await;
        },
    ));
    (addr, stop)
}

/// Reads one HTTP/1.1 answer off `conn` (its length from `Content-Length`; none for a
/// 204 or 304, nor to a `HEAD`), with the `Date` value blanked: the bytes as they came,
/// `extra` what was read past it.
async fn read_answer(
    conn: &mut tokio::net::TcpStream,
    extra: &mut Vec<u8>,
    head_only: bool,
) -> Vec<u8> {
    use tokio::io::AsyncReadExt;
    let mut buf = std::mem::take(extra);
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let mut chunk = [0u8; 65536];
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(
            n > 0,
            "closed mid-answer: {:?}",
            String::from_utf8_lossy(&buf)
        );
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8(buf[..head_end].to_vec()).unwrap();
    let length: usize = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length: "))
        .map_or(0, |n| n.trim().parse().unwrap())
        * usize::from(!head_only);
    while buf.len() < head_end + length {
        let mut chunk = [0u8; 65536];
        let n = conn.read(&mut chunk).await.unwrap();
        assert!(n > 0, "closed mid-body");
        buf.extend_from_slice(&chunk[..n]);
    }
    *extra = buf.split_off(head_end + length);
    let head: String = head
        .split("\r\n")
        .map(|l| match l.strip_prefix("date: ") {
            Some(_) => "date: (now)",
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\r\n");
    let mut answer = head.into_bytes();
    answer.extend_from_slice(&buf[head_end..head_end + length]);
    answer
}

/// Sends `requests` (raw request heads) on one connection to `addr`, all at once, and
/// reads as many answers.
async fn exchange(addr: SocketAddr, requests: &[String]) -> Vec<Vec<u8>> {
    use tokio::io::AsyncWriteExt;
    let mut conn = tokio::net::TcpStream::connect(addr).await.unwrap();
    conn.write_all(requests.concat().as_bytes()).await.unwrap();
    let mut extra = Vec::new();
    let mut answers = Vec::new();
    for r in requests {
        answers.push(read_answer(&mut conn, &mut extra, r.starts_with("HEAD ")).await);
    }
    answers
}

fn get(target: &str, headers: &[(&str, &str)]) -> String {
    let mut r = format!("GET {target} HTTP/1.1\r\nhost: test\r\n");
    for (k, v) in headers {
        r.push_str(&format!("{k}: {v}\r\n"));
    }
    r.push_str("\r\n");
    r
}

/// Tiles answered at the front door, from `/metrics`.
async fn door_answers(addr: SocketAddr) -> u64 {
    let text = reqwest::get(format!("http://{addr}/metrics"))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    text.lines()
        .find_map(|l| l.strip_prefix("heritage_atlas_tile_door_answers_total "))
        .unwrap_or_else(|| panic!("no door counter in {text}"))
        .parse()
        .unwrap()
}

/// Renames Victoria Memorial (HER-0001) through the atlas, the one write path: the tiles
/// it lies in are dropped from the cache.
async fn rename_victoria_memorial(atlas: &Atlas) {
    let vm = atlas
        .store()
        .get_asset_by_code("HER-0001")
        .await
        .unwrap()
        .unwrap();
    let mut edit = NewAsset {
        layer: Layer::Heritage,
        code: Some(vm.code.clone()),
        kind: vm.kind,
        attrs: vm.attrs.clone(),
        geometry: vm.geometry.clone(),
    };
    edit.attrs.name = Some("Victoria Memorial Hall".into());
    atlas
        .upsert(&edit, &EditContext::import("test"))
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn the_front_door_writes_the_bytes_hyper_writes_for_the_router() {
    door_against_router(0).await;
}

/// The same with every cached tile sent from its memory file with `sendfile`, as big
/// tiles are.
#[tokio::test(flavor = "multi_thread")]
async fn the_front_door_sends_big_tiles_from_memory_files_as_hyper_sends_them() {
    door_against_router(1).await;
}

async fn door_against_router(sendfile_min: usize) {
    let s = setup_with(sendfile_min).await;
    let state = AppState::new(s.atlas.clone());
    let (door, _stop_door) = start(heritage_atlas::http::front(state.clone())).await;
    let (router, _stop_router) = start(heritage_atlas::app(state)).await;
    let vm = TileCoord::containing(88.3426, 22.5448, 15);
    let all = path("heritage,water_bodies,parks", vm);
    let sea = path("heritage", TileCoord::containing(89.5, 21.0, 12));
    let pins = path("heritage,complaints", vm);
    let keep = ("connection", "keep-alive");
    let asks = [
        get(&all, &[GZIP]),
        get(&all, &[]),
        get(&all, &[("accept-encoding", "br, gzip")]),
        get(&format!("{all}?v=7"), &[("Accept-Encoding", "GZIP"), keep]),
        get(&all.replace(".mvt", ".pbf"), &[GZIP]),
        get(&sea, &[GZIP]),
        get(&pins, &[GZIP]),
    ];
    // Drawn by the door (few features) or by the router on first asking; then cached.
    let first = exchange(router, &asks).await;
    let before = door_answers(door).await;
    let at_door = exchange(door, &asks).await;
    assert_eq!(
        door_answers(door).await - before,
        asks.len() as u64,
        "every one answered at the door"
    );
    let routed = exchange(router, &asks).await;
    for ((ask, d), r) in asks.iter().zip(&at_door).zip(&routed) {
        assert_eq!(
            String::from_utf8_lossy(d),
            String::from_utf8_lossy(r),
            "{ask}"
        );
    }
    assert_eq!(first, routed, "cached as drawn");
    assert!(String::from_utf8_lossy(&at_door[5]).starts_with("HTTP/1.1 204 No Content\r\n"));
    // Sent from memory files (each coding of each non-empty tile: identity, gzip and
    // brotli of `all`, gzip of `pins`), or not at all.
    let files = s.atlas.tiles().stats().sendfile_files;
    if sendfile_min > 0 {
        assert_eq!(files, 4, "spilled");
    } else {
        assert_eq!(files, 0);
    }

    // What the door hands to hyper, on the same connection after a tile it answered:
    // hyper's answers are the router's, and the door answered only the first.
    let etag = String::from_utf8_lossy(&at_door[0])
        .lines()
        .find_map(|l| l.strip_prefix("etag: ").map(str::to_string))
        .unwrap();
    for handed in [
        format!("HEAD {all} HTTP/1.1\r\nhost: test\r\n\r\n"),
        get(&all, &[GZIP, ("if-none-match", &etag)]),
        get(&all, &[GZIP, ("connection", "close")]),
        format!("GET {all} HTTP/1.0\r\nhost: test\r\n\r\n"),
        get(&format!("{all}?as_of=2026-01-01"), &[GZIP]),
        get(&all.replace(',', "%2C"), &[GZIP]),
        get("/tiles/heritage/15/99999999/1.mvt", &[GZIP]),
        get("/health", &[]),
        format!("POST {all} HTTP/1.1\r\nhost: test\r\ncontent-length: 2\r\n\r\n{{}}"),
        get(&all, &[GZIP, ("x-padding", &"x".repeat(40 << 10))]),
    ] {
        let asks = [get(&all, &[GZIP]), handed.clone(), get(&all, &[GZIP])];
        let before = door_answers(door).await;
        let d = exchange(
            door,
            &asks[..if handed.contains("close") || handed.contains("HTTP/1.0") {
                2
            } else {
                3
            }],
        )
        .await;
        assert_eq!(door_answers(door).await - before, 1, "{handed}");
        let r = exchange(router, &asks[..d.len()]).await;
        let lossy = |v: &Vec<Vec<u8>>| {
            v.iter()
                .map(|a| String::from_utf8_lossy(a).into_owned())
                .collect::<Vec<_>>()
        };
        for (a, b) in lossy(&d).iter().zip(lossy(&r)) {
            let head = |x: &str| x.split("\r\n\r\n").next().unwrap_or_default().to_string();
            assert_eq!(head(a), head(&b), "{handed}");
        }
        assert_eq!(lossy(&d), lossy(&r), "{handed}");
    }

    // A head that arrives in pieces is hyper's too.
    {
        use tokio::io::AsyncWriteExt;
        let before = door_answers(door).await;
        let mut conn = tokio::net::TcpStream::connect(door).await.unwrap();
        let ask = get(&all, &[GZIP]);
        let (a, b) = ask.split_at(20);
        conn.write_all(a.as_bytes()).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        conn.write_all(b.as_bytes()).await.unwrap();
        let answer = read_answer(&mut conn, &mut Vec::new(), false).await;
        assert_eq!(answer, at_door[0]);
        assert_eq!(door_answers(door).await, before);
    }

    // An edit shows at the door on the next request.
    rename_victoria_memorial(&s.atlas).await;
    let fresh = exchange(door, &[get(&all, &[GZIP])]).await;
    assert_ne!(fresh[0], at_door[0], "the edit shows");
    assert_eq!(fresh, exchange(router, &[get(&all, &[GZIP])]).await);
}
