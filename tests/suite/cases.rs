//! Online applications end to end over real HTTP: applicants sign in with a code that
//! reaches them through the webhook notifier (a receiver in this process), apply, and
//! the department takes a heritage sanction through scrutiny, the Heritage Conservation
//! Committee and the Mayor-in-Council to the letter and the lock cleared; a Grade III case
//! that skips the committee; a Grade I demolition refused at entry; the clock stopped
//! while the applicant is asked for more; who may act at each stage; the letter verified
//! by its QR code; the tracker and the register crawled for anything personal.

use crate::common;

use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::routing::post;
use axum::Router;
use common::{asset, get_as, post as post_json, rect_polygon, TestServer};
use heritage_atlas::atlas::applications::Senders;
use heritage_atlas::atlas::notify::Notifiers;
use heritage_atlas::model::{Grade, Kind, Layer, Role};
use heritage_atlas::notify::Webhook;
use heritage_atlas::store::EditContext;
use serde_json::{json, Value};

const STAGE_DUTIES: [&str; 5] = [
    "eh_scrutiny",
    "building_scrutiny",
    "hcc_secretary",
    "mic_clerk",
    "eh_decision",
];

type Inbox = Arc<Mutex<Vec<Value>>>;

async fn receive(State(inbox): State<Inbox>, body: axum::body::Bytes) -> &'static str {
    if let Ok(v) = serde_json::from_slice(&body) {
        inbox.lock().unwrap().push(v);
    }
    "ok"
}

/// A server whose phone messages go to a receiver here; the receiver's inbox.
async fn server() -> (TestServer, Inbox, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("a.db"), true).await;
    let inbox: Inbox = Arc::default();
    let app = Router::new()
        .route("/hook", post(receive))
        .with_state(inbox.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let hook = Webhook::new(
        &format!("http://{addr}/hook"),
        "whsec_aGVyaXRhZ2UtYXRsYXMtd2ViaG9vay10ZXN0LWtleSE=",
        std::time::Duration::from_secs(5),
    )
    .unwrap();
    srv.atlas.set_senders(Senders {
        notifiers: Notifiers {
            email: None,
            webhook: Some(Arc::new(hook)),
        },
        codes_to_log: false,
    });
    (srv, inbox, dir)
}

/// A staff member with these duties, signed in.
async fn staff(srv: &TestServer, name: &str, role: Role, duties: &[&str]) -> String {
    common::put_user(srv, name, role, (role == Role::FieldStaff).then_some(79)).await;
    let u = srv.atlas.store().user_by_name(name).await.unwrap().unwrap();
    let duties: Vec<String> = duties.iter().map(|d| d.to_string()).collect();
    srv.atlas.store().set_duties(u.id, &duties).await.unwrap();
    common::login(srv, name).await
}

/// Signs an applicant in by phone, reading the code from the receiver.
async fn applicant(srv: &TestServer, inbox: &Inbox, phone: &str) -> String {
    let (s, v) = post_json(srv, "/applicants/code", None, &json!({"contact": phone})).await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["channel"], "phone");
    let digits: String = phone.chars().filter(char::is_ascii_digit).collect();
    assert!(
        !v["sent_to"]
            .as_str()
            .unwrap()
            .contains(&digits[digits.len() - 8..]),
        "masked: {v}"
    );
    let code = {
        let inbox = inbox.lock().unwrap();
        let m = inbox
            .iter()
            .rev()
            .find(|m| m["type"] == "applicant.code")
            .expect("a code message");
        assert!(m["data"]["contact"]["phone"]
            .as_str()
            .unwrap()
            .ends_with(&digits[digits.len() - 10..]));
        m["data"]["code"].as_str().unwrap().to_string()
    };
    let (s, v) = post_json(
        srv,
        "/applicants/session",
        None,
        &json!({"contact": phone, "code": "000000"}),
    )
    .await;
    if code != "000000" {
        assert_eq!(s, 401, "a wrong code: {v}");
    }
    let (s, v) = post_json(
        srv,
        "/applicants/session",
        None,
        &json!({"contact": phone, "code": code}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    // A code is good once.
    let (s, _) = post_json(
        srv,
        "/applicants/session",
        None,
        &json!({"contact": phone, "code": code}),
    )
    .await;
    assert_eq!(s, 401);
    v["token"].as_str().unwrap().to_string()
}

async fn put_file(
    srv: &TestServer,
    token: &str,
    key: &str,
    doc: &str,
    bytes: Vec<u8>,
) -> (u16, Value) {
    let r = reqwest::Client::new()
        .put(srv.url(&format!("/applications/{key}/files/{doc}?name={doc}.pdf")))
        .bearer_auth(token)
        .body(bytes)
        .send()
        .await
        .unwrap();
    (r.status().as_u16(), r.json().await.unwrap_or(Value::Null))
}

/// A small PDF that differs by `n`.
fn pdf(n: u32) -> Vec<u8> {
    format!(
        "%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n% {n}\ntrailer<</Root 1 0 R>>\n%%EOF\n"
    )
    .into_bytes()
}

const FIELDS: [(&str, &str); 5] = [
    ("premises_no", "1A Queens Way"),
    ("owner_name", "Secret Owner Name"),
    (
        "description_of_work",
        "Repair of the cornice and the roof parapet",
    ),
    ("materials_and_method", "Lime mortar, like for like"),
    ("present_use", "Museum"),
];

/// A complete application for `asset` and `work`, submitted; its number.
async fn apply(
    srv: &TestServer,
    token: &str,
    t: &str,
    asset: &str,
    work: &str,
    seed: u32,
) -> String {
    let (s, v) = post_json(
        srv,
        "/applications",
        Some(token),
        &json!({"type": t, "asset": asset, "work": work}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let key = v["key"].as_str().unwrap().to_string();
    let ty = srv.get(&format!("/application-types/{t}")).await.1;
    let mut fields = serde_json::Map::new();
    for f in ty["fields"].as_array().unwrap() {
        let code = f["code"].as_str().unwrap();
        let v = FIELDS
            .iter()
            .find(|(k, _)| *k == code)
            .map_or("Secret value", |(_, v)| v);
        fields.insert(code.into(), json!(v));
    }
    let (s, v) = common::patch(
        srv,
        &format!("/applications/{key}"),
        Some(token),
        &json!({"fields": fields}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    for (i, d) in ty["documents"].as_array().unwrap().iter().enumerate() {
        let (s, v) = put_file(
            srv,
            token,
            &key,
            d["code"].as_str().unwrap(),
            pdf(seed * 100 + i as u32),
        )
        .await;
        assert_eq!(s, 201, "{v}");
    }
    let (s, v) = post_json(
        srv,
        &format!("/applications/{key}/submit"),
        Some(token),
        &json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    v["number"].as_str().unwrap().to_string()
}

/// The message to the applicant about `what` (a request, the issue) on case `number`,
/// once the webhook has it (it is sent after the commit).
async fn told(inbox: &Inbox, number: &str, what: &str) -> Value {
    common::eventually(
        &format!("the {what} message"),
        std::time::Duration::from_secs(10),
        || async move {
            inbox
                .lock()
                .unwrap()
                .iter()
                .find(|m| {
                    m["type"] == "application.updated"
                        && m["data"]["number"] == number
                        && m["data"]["what"] == what
                })
                .cloned()
        },
    )
    .await
}

async fn act(srv: &TestServer, token: &str, number: &str, body: Value) -> (u16, Value) {
    post_json(
        srv,
        &format!("/applications/{number}/actions"),
        Some(token),
        &body,
    )
    .await
}

async fn track(srv: &TestServer, number: &str) -> Value {
    let (s, v) = srv.get(&format!("/applications/{number}/track")).await;
    assert_eq!(s, 200, "{v}");
    v
}

#[tokio::test]
async fn a_heritage_sanction_goes_from_submission_to_the_lock_cleared() {
    let (srv, inbox, dir) = server().await;
    let officer = staff(&srv, "officer1", Role::Officer, &STAGE_DUTIES).await;
    let ap = applicant(&srv, &inbox, "98300 12345").await;

    // A draft, saved and incomplete: what is missing is named, nothing is lost.
    let (s, v) = post_json(
        &srv,
        "/applications",
        Some(&ap),
        &json!({"type": "heritage_sanction", "asset": "HER-0001", "work": "repair", "fields": {"premises_no": "1A Queens Way"}}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let draft = v["key"].as_str().unwrap().to_string();
    assert_eq!(v["state"], "draft");
    let (s, v) = post_json(
        &srv,
        &format!("/applications/{draft}/submit"),
        Some(&ap),
        &json!({}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["missing"]["fields"]
        .as_array()
        .unwrap()
        .contains(&json!("owner_name")));
    assert!(v["missing"]["documents"]
        .as_array()
        .unwrap()
        .contains(&json!("drawings")));
    // Fields saved at once, each on its own: every one is kept.
    let saves = FIELDS.iter().map(|(k, v)| {
        let (srv, ap, draft) = (&srv, &ap, &draft);
        async move {
            common::patch(
                srv,
                &format!("/applications/{draft}"),
                Some(ap),
                &json!({"fields": {*k: v}}),
            )
            .await
        }
    });
    for (s, v) in futures_util::future::join_all(saves).await {
        assert_eq!(s, 200, "{v}");
    }
    let (_, mine) = get_as(&srv, Some(&ap), "/applications/mine").await;
    for (k, v) in FIELDS {
        assert_eq!(mine["items"][0]["fields"][k], v, "{k} kept");
    }
    assert_eq!(mine["items"][0]["key"], draft.as_str(), "the draft is kept");
    assert_eq!(mine["items"][0]["fields"]["premises_no"], "1A Queens Way");

    let number = apply(&srv, &ap, "heritage_sanction", "HER-0001", "repair", 1).await;
    assert!(
        number.starts_with("HS-2026-") || number.starts_with("HS-20"),
        "{number}"
    );
    let t = track(&srv, &number).await;
    assert_eq!(
        (t["state"].as_str(), t["stage"].as_str()),
        (Some("open"), Some("eh_scrutiny"))
    );
    assert_eq!(
        t["next_stages"],
        json!(["building_scrutiny", "hcc", "mic", "communication"])
    );

    // The desk shows it to the duty holder.
    let (s, desk) = get_as(&srv, Some(&officer), "/desk").await;
    assert_eq!(s, 200);
    assert!(desk["items"]
        .as_array()
        .unwrap()
        .iter()
        .any(|i| i["number"] == number.as_str()
            && i["stage"] == "eh_scrutiny"
            && i["overdue"] == false));

    let (s, v) = act(
        &srv,
        &officer,
        &number,
        json!({"action": "forward", "note": "Complete; history well documented"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["stage"], "building_scrutiny");
    let (s, v) = act(&srv, &officer, &number, json!({"action": "resolution", "resolution_no": "1", "date": "2026-12-01", "decision": "approve", "text": "x"})).await;
    assert_eq!(s, 409, "a resolution is not for this stage: {v}");
    let (s, _) = act(
        &srv,
        &officer,
        &number,
        json!({"action": "forward", "note": "Plans in order"}),
    )
    .await;
    assert_eq!(s, 200);

    // The committee: a meeting's agenda holds the case; its recommendation moves it on.
    let (s, m) = post_json(
        &srv,
        "/hcc/meetings",
        Some(&officer),
        &json!({"date": "2026-12-10"}),
    )
    .await;
    assert_eq!(s, 201, "{m}");
    assert_eq!(m["agenda"][0]["number"], number.as_str());
    assert_eq!(
        (
            m["agenda"][0]["asset"]["code"].as_str(),
            m["agenda"][0]["work"].as_str()
        ),
        (Some("HER-0001"), Some("repair"))
    );
    assert_eq!(
        (
            m["agenda"][0]["asset"]["code"].as_str(),
            m["agenda"][0]["work"].as_str()
        ),
        (Some("HER-0001"), Some("repair"))
    );
    let meeting = m["id"].as_i64().unwrap();
    let (s, _) = act(
        &srv,
        &officer,
        &number,
        json!({"action": "forward", "note": "x"}),
    )
    .await;
    assert_eq!(
        s, 409,
        "the committee's stage moves only by its recommendation"
    );
    let (s, v) = post_json(
        &srv,
        &format!("/hcc/meetings/{meeting}/recommendations"),
        Some(&officer),
        &json!({"application": number, "recommendation": "approve", "text": "Approve, with lime mortar only"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["stage"], "mic");
    let (s, v) = reqwest::Client::new()
        .put(srv.url(&format!("/hcc/meetings/{meeting}/minutes")))
        .bearer_auth(&officer)
        .body(pdf(9999))
        .send()
        .await
        .map(|r| (r.status().as_u16(), r))
        .unwrap();
    assert_eq!(s, 200, "{:?}", v.text().await);
    let (_, m) = get_as(&srv, Some(&officer), &format!("/hcc/meetings/{meeting}")).await;
    assert_eq!(
        (
            m["state"].as_str(),
            m["agenda"][0]["recommendation"].as_str()
        ),
        (Some("held"), Some("approve"))
    );

    let (s, v) = act(&srv, &officer, &number, json!({"action": "resolution", "resolution_no": "MIC/412/2026", "date": "2026-12-20", "decision": "approve", "text": "Approved on the committee's terms"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["stage"], "communication");
    let (_, lock) = srv.get("/assets/HER-0001/heritage-lock").await;
    assert_eq!(lock["state"], "locked", "not before the letter");

    let (s, v) = act(&srv, &officer, &number, json!({"action": "issue"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["outcome"].as_str()),
        (Some("decided"), Some("approved"))
    );
    let (_, lock) = srv.get("/assets/HER-0001/heritage-lock").await;
    assert_eq!(
        (
            lock["state"].as_str(),
            lock["recorded"]["application"].as_str(),
            lock["plans_may_proceed"].as_bool()
        ),
        (Some("cleared"), Some(number.as_str()), Some(true))
    );
    // The OGC collection carries the lock too, for systems that read the register there.
    let (_, items) = srv
        .get("/collections/heritage/items?filter=heritage_lock%3D%27cleared%27")
        .await;
    let found: Vec<&str> = items["features"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["properties"]["code"].as_str().unwrap())
        .collect();
    assert_eq!(found, ["HER-0001"], "{items}");
    assert_eq!(
        items["features"][0]["properties"]["heritage_lock_application"],
        number.as_str()
    );
    let (_, other) = srv
        .get("/collections/heritage/items?filter=code%3D%27HER-0002%27")
        .await;
    assert_eq!(
        other["features"][0]["properties"]["heritage_lock"],
        "locked"
    );
    let t = track(&srv, &number).await;
    assert_eq!(t["decision"]["resolution_no"], "MIC/412/2026");
    let stages: Vec<&str> = t["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "eh_scrutiny",
            "building_scrutiny",
            "hcc",
            "mic",
            "communication"
        ]
    );
    assert!(t["stages"]
        .as_array()
        .unwrap()
        .iter()
        .all(|s| s["ended_at"].is_string()));

    // The register lists it with the letter's verification link.
    let (_, reg) = srv.get("/register/decisions").await;
    let item = &reg["items"][0];
    assert_eq!(
        (
            item["number"].as_str(),
            item["decision"].as_str(),
            item["by"].as_str()
        ),
        (Some(number.as_str()), Some("approved"), Some("mic"))
    );
    assert_eq!(item["asset"]["grade"], "I");
    let sha = item["letter"]["sha256"].as_str().unwrap().to_string();
    // The statistics count it: every stage done once, at once, within its limit.
    let (_, stats) = srv.get("/applications/stats").await;
    let hs = stats["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "heritage_sanction")
        .unwrap();
    assert_eq!(
        (
            hs["submitted"].as_u64(),
            hs["decided"].as_u64(),
            hs["approved"].as_u64()
        ),
        (Some(1), Some(1), Some(1)),
        "{hs}"
    );
    for st in hs["stages"].as_array().unwrap() {
        if st["stage"] == "officer_decision" {
            assert_eq!(st["done"], 0, "{st}");
            continue;
        }
        assert_eq!(
            (
                st["done"].as_u64(),
                st["open"].as_u64(),
                st["within_limit_share"].as_f64()
            ),
            (Some(1), Some(0), Some(1.0)),
            "{st}"
        );
        assert!(st["median_days"].as_f64().unwrap() < 0.1, "{st}");
    }

    // The applicant was told (after the commit, by the webhook).
    let told = told(&inbox, &number, "issue").await;
    assert!(told["data"]["text"]
        .as_str()
        .unwrap()
        .contains(&format!("/verify/{sha}")));

    // The letter: its text in both languages, and its stamped copy's QR code names its
    // verification page.
    let letter = reqwest::get(srv.url(&format!("/documents/{sha}")))
        .await
        .unwrap();
    assert_eq!(letter.status(), 200);
    let bytes = letter.bytes().await.unwrap().to_vec();
    assert_eq!(common::sha256_hex(&bytes), sha);
    let text = heritage_atlas::documents::pdf::extract_text(&bytes)
        .unwrap()
        .pages
        .join("\n");
    for want in [number.as_str(), "MIC/412/2026", "Victoria", "approved"] {
        assert!(text.contains(want), "{want:?} in the letter: {text}");
    }
    assert!(
        !text.contains("Secret Owner Name"),
        "the letter names no applicant or owner"
    );
    let stamped = reqwest::get(srv.url(&format!("/documents/{sha}/stamped.pdf")))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    let path = dir.path().join("letter.pdf");
    std::fs::write(&path, &stamped).unwrap();
    let prefix = dir.path().join("letter");
    let ok = std::process::Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-f", "1", "-l", "1", "-singlefile"])
        .arg(&path)
        .arg(&prefix)
        .status();
    match ok {
        Ok(st) if st.success() => {
            let img = image::open(prefix.with_extension("png"))
                .unwrap()
                .to_luma8();
            let mut prepared = rqrr::PreparedImage::prepare(img);
            let grids = prepared.detect_grids();
            assert_eq!(grids.len(), 1, "one QR code on the letter's first page");
            let (_, url) = grids[0].decode().unwrap();
            assert_eq!(url, srv.url(&format!("/verify/{sha}")));
            let (s, v) = srv.get(&format!("/verify/{sha}?f=json")).await;
            assert_eq!((s, v["status"].as_str()), (200, Some("current")), "{v}");
        }
        _ => assert!(
            std::env::var("HERITAGE_ATLAS_REQUIRE_TOOLS").is_err(),
            "pdftoppm (poppler-utils) is needed to read the letter's QR code"
        ),
    }

    // Every step is in the audit chain, the applicant under no name.
    let (_, audit) = srv.get(&format!("/audit?subject={number}")).await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    for a in [
        "application.submit",
        "application.forward",
        "application.recommendation",
        "application.resolution",
        "application.decided",
    ] {
        assert!(actions.contains(&a), "{a} in {actions:?}");
    }
    srv.stop().await;
}

#[tokio::test]
async fn a_grade_iii_case_skips_the_committee_and_a_grade_i_demolition_is_refused() {
    let (srv, inbox, _dir) = server().await;
    let mut a = asset(
        Layer::Heritage,
        Kind::Building,
        "HER-9301".into(),
        rect_polygon(88.35, 22.56, 0.0004, 0.0004, 0.0),
    );
    a.attrs.grade = Some(Grade::III);
    srv.atlas
        .upsert(&a, &EditContext::import("test"))
        .await
        .unwrap();
    let officer = staff(&srv, "officer1", Role::Officer, &STAGE_DUTIES).await;
    let ap = applicant(&srv, &inbox, "+91 98300 22222").await;

    // Refused at entry, with the reason in both languages; no draft made.
    let (s, v) = post_json(
        &srv,
        "/applications",
        Some(&ap),
        &json!({"type": "heritage_sanction", "asset": "HER-0001", "work": "demolition"}),
    )
    .await;
    assert_eq!(s, 422, "{v}");
    assert!(v["refused"]["en"]
        .as_str()
        .unwrap()
        .contains("repair and restoration only"));
    assert!(v["refused"]["bn"].as_str().unwrap().contains("শ্রেণি I"));
    // Choosing the work later on a draft is checked the same way.
    let (_, d) = post_json(
        &srv,
        "/applications",
        Some(&ap),
        &json!({"type": "heritage_sanction", "asset": "HER-0001"}),
    )
    .await;
    let key = d["key"].as_str().unwrap();
    let (s, v) = common::patch(
        &srv,
        &format!("/applications/{key}"),
        Some(&ap),
        &json!({"work": "demolition"}),
    )
    .await;
    assert_eq!((s, v["refused"]["en"].is_string()), (422, true), "{v}");
    let (_, mine) = get_as(&srv, Some(&ap), "/applications/mine").await;
    assert_eq!(
        mine["items"].as_array().unwrap().len(),
        1,
        "only the draft without a work"
    );
    // A water body is never filled.
    let (s, v) = post_json(
        &srv,
        "/applications",
        Some(&ap),
        &json!({"type": "water_body_works", "asset": "WAT-0001", "work": "filling"}),
    )
    .await;
    assert_eq!(
        (
            s,
            v["refused"]["en"].as_str().map(|r| r.contains("offence"))
        ),
        (422, Some(true)),
        "{v}"
    );

    let number = apply(&srv, &ap, "heritage_sanction", "HER-9301", "demolition", 2).await;
    assert_eq!(
        track(&srv, &number).await["next_stages"],
        json!(["building_scrutiny", "officer_decision", "communication"])
    );
    for note in ["E&H: in order", "Building: in order"] {
        let (s, v) = act(
            &srv,
            &officer,
            &number,
            json!({"action": "forward", "note": note}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
    }
    let (s, m) = post_json(
        &srv,
        "/hcc/meetings",
        Some(&officer),
        &json!({"date": "2026-12-11"}),
    )
    .await;
    assert_eq!(s, 201);
    assert!(
        m["agenda"].as_array().unwrap().is_empty(),
        "a Grade III case never reaches the committee"
    );
    let (s, v) = act(
        &srv,
        &officer,
        &number,
        json!({"action": "decide", "decision": "refuse", "text": "The facade is to be kept"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (s, v) = act(&srv, &officer, &number, json!({"action": "issue"})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["outcome"], "refused");
    let (_, lock) = srv.get("/assets/HER-9301/heritage-lock").await;
    assert_eq!(lock["state"], "locked", "a refusal leaves the lock on");
    let (_, reg) = srv.get("/register/decisions").await;
    assert_eq!(
        (
            reg["items"][0]["by"].as_str(),
            reg["items"][0]["decision"].as_str()
        ),
        (Some("officials"), Some("refused"))
    );

    // Water-body works: E&H scrutiny and an officer's decision only.
    let number = apply(&srv, &ap, "water_body_works", "WAT-0001", "desilting", 3).await;
    let t = track(&srv, &number).await;
    assert_eq!(
        t["next_stages"],
        json!(["officer_decision", "communication"])
    );
    srv.stop().await;
}

#[tokio::test]
async fn the_clock_stops_while_the_applicant_is_asked_for_more() {
    let (srv, inbox, dir) = server().await;
    let officer = staff(&srv, "officer1", Role::Officer, &STAGE_DUTIES).await;
    let ap = applicant(&srv, &inbox, "9830033333").await;
    let number = apply(&srv, &ap, "heritage_sanction", "HER-0002", "restoration", 4).await;

    let (s, v) = act(&srv, &officer, &number, json!({"action": "request", "what": "A clearer drawing of the north elevation", "documents": ["drawings"]})).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "awaiting_applicant");
    let (s, _) = act(
        &srv,
        &officer,
        &number,
        json!({"action": "forward", "note": "x"}),
    )
    .await;
    assert_eq!(s, 409, "nothing moves while the applicant is asked");
    let t = track(&srv, &number).await;
    assert!(t["awaiting_applicant_since"].is_string());
    // The applicant is told what is asked, in their message.
    let asked = told(&inbox, &number, "request").await;
    assert!(
        asked["data"]["text"]
            .as_str()
            .unwrap()
            .contains("A clearer drawing of the north elevation"),
        "{asked}"
    );

    // Put the stage 10 days back and the request 8 days back: the clock has run 2 days.
    let pool = common::raw_pool(&dir.path().join("a.db")).await;
    let ago = |d: i64| {
        (time::OffsetDateTime::now_utc() - time::Duration::days(d))
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap()
    };
    sqlx::query("UPDATE application_stages SET started_at = $1 WHERE ended_at IS NULL")
        .bind(ago(10))
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query("UPDATE application_requests SET asked_at = $1")
        .bind(ago(8))
        .execute(&pool)
        .await
        .unwrap();
    let days = |t: &Value| t["stages"][0]["days_used"].as_f64().unwrap();
    let t = track(&srv, &number).await;
    assert!(
        (days(&t) - 2.0).abs() < 0.11,
        "2 days before the request: {t}"
    );
    tokio::time::sleep(std::time::Duration::from_millis(1200)).await;
    assert!(
        (days(&track(&srv, &number).await) - 2.0).abs() < 0.11,
        "stopped while asked"
    );

    // The applicant answers with the file asked for; the clock runs again.
    let mine = get_as(&srv, Some(&ap), &format!("/applications/{number}"))
        .await
        .1;
    let request = mine["requests"][0]["id"].as_i64().unwrap();
    assert_eq!(
        mine["requests"][0]["what"],
        "A clearer drawing of the north elevation"
    );
    let (s, v) = post_json(
        &srv,
        &format!("/applications/{number}/answers"),
        Some(&ap),
        &json!({"request": request, "text": "Attached"}),
    )
    .await;
    assert_eq!(
        (s, &v["missing"]["documents"]),
        (422, &json!(["drawings"])),
        "{v}"
    );
    let (s, v) = put_file(&srv, &ap, &number, "ownership", pdf(4445)).await;
    assert_eq!(s, 400, "only what the request asks for: {v}");
    let (s, f) = put_file(&srv, &ap, &number, "drawings", pdf(4444)).await;
    assert_eq!((s, f["request"].as_i64()), (201, Some(request)), "{f}");
    let (s, v) = post_json(
        &srv,
        &format!("/applications/{number}/answers"),
        Some(&ap),
        &json!({"request": request, "text": "Attached"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["state"], "open");
    // Answered 8 days after it was asked, pretend 3 days ago: 2 + 3 days ran.
    sqlx::query("UPDATE application_requests SET answered_at = $1")
        .bind(ago(3))
        .execute(&pool)
        .await
        .unwrap();
    let t = track(&srv, &number).await;
    assert!((days(&t) - 5.0).abs() < 0.11, "{t}");
    assert_eq!(t["stages"][0]["within_limit"], true);
    // Past the 15-day limit once the clock has run 16 days: overdue on the desk.
    sqlx::query("UPDATE application_stages SET started_at = $1 WHERE ended_at IS NULL")
        .bind(ago(21))
        .execute(&pool)
        .await
        .unwrap();
    let (_, desk) = get_as(&srv, Some(&officer), "/desk").await;
    let item = desk["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["number"] == number.as_str())
        .unwrap()
        .clone();
    assert_eq!(item["overdue"], true, "{item}");
    assert!((item["days_used"].as_f64().unwrap() - 16.0).abs() < 0.11);
    let (_, stats) = srv.get("/applications/stats").await;
    let hs = stats["types"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["type"] == "heritage_sanction")
        .unwrap();
    let eh = hs["stages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["stage"] == "eh_scrutiny")
        .unwrap();
    assert_eq!(
        (eh["open"].as_u64(), eh["overdue"].as_u64()),
        (Some(1), Some(1)),
        "{eh}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn each_stage_is_acted_on_by_its_duty_only() {
    let (srv, inbox, _dir) = server().await;
    let admin = staff(&srv, "admin1", Role::Admin, &[]).await;
    let field = staff(&srv, "field79", Role::FieldStaff, &STAGE_DUTIES).await;
    let mut by_duty = std::collections::BTreeMap::new();
    for d in STAGE_DUTIES {
        by_duty.insert(
            d,
            staff(&srv, &format!("officer_{d}"), Role::Officer, &[d]).await,
        );
    }
    let bare = staff(&srv, "officer_none", Role::Officer, &[]).await;
    let ap = applicant(&srv, &inbox, "9830044444").await;
    let other = applicant(&srv, &inbox, "9830055555").await;
    let number = apply(&srv, &ap, "heritage_sanction", "HER-0003", "repair", 5).await;

    // Another applicant sees none of it; the public sees only the tracker.
    assert_eq!(
        get_as(&srv, Some(&other), &format!("/applications/{number}"))
            .await
            .0,
        404
    );
    assert_eq!(
        get_as(&srv, None, &format!("/applications/{number}"))
            .await
            .0,
        401
    );
    assert_eq!(
        get_as(&srv, Some(&ap), "/desk").await.0,
        401,
        "an applicant's token is not staff's"
    );
    assert_eq!(get_as(&srv, Some(&field), "/desk").await.0, 403);

    // The stage, the action that moves it, and the duty it needs.
    let steps: [(&str, &str, Value); 5] = [
        (
            "eh_scrutiny",
            "eh_scrutiny",
            json!({"action": "forward", "note": "ok"}),
        ),
        (
            "building_scrutiny",
            "building_scrutiny",
            json!({"action": "forward", "note": "ok"}),
        ),
        ("hcc", "hcc_secretary", json!(null)),
        (
            "mic",
            "mic_clerk",
            json!({"action": "resolution", "resolution_no": "MIC/1/2026", "date": "2026-12-02", "decision": "approve", "text": "ok"}),
        ),
        (
            "communication",
            "eh_scrutiny",
            json!({"action": "note", "text": "letter next"}),
        ),
    ];
    for (stage, duty, body) in steps {
        assert_eq!(track(&srv, &number).await["stage"], stage);
        let probe = if body.is_null() {
            json!({"action": "note", "text": "x"})
        } else {
            body.clone()
        };
        for (d, token) in &by_duty {
            if *d == duty {
                continue;
            }
            let (s, v) = act(&srv, token, &number, probe.clone()).await;
            assert_eq!(s, 403, "{d} at {stage}: {v}");
        }
        for token in [&bare, &field] {
            assert_eq!(
                act(&srv, token, &number, probe.clone()).await.0,
                403,
                "at {stage}"
            );
        }
        assert_eq!(
            act(&srv, &ap, &number, probe.clone()).await.0,
            401,
            "an applicant at {stage}"
        );
        if stage == "hcc" {
            assert_eq!(
                post_json(
                    &srv,
                    "/hcc/meetings",
                    Some(&by_duty["mic_clerk"]),
                    &json!({"date": "2026-12-03"})
                )
                .await
                .0,
                403
            );
            let (s, m) = post_json(
                &srv,
                "/hcc/meetings",
                Some(&by_duty["hcc_secretary"]),
                &json!({"date": "2026-12-03"}),
            )
            .await;
            assert_eq!(s, 201);
            let url = format!("/hcc/meetings/{}/recommendations", m["id"]);
            let rec = json!({"application": number, "recommendation": "approve", "text": "ok"});
            assert_eq!(
                post_json(&srv, &url, Some(&by_duty["eh_scrutiny"]), &rec)
                    .await
                    .0,
                403
            );
            assert_eq!(
                post_json(&srv, &url, Some(&by_duty["hcc_secretary"]), &rec)
                    .await
                    .0,
                200
            );
        } else if stage == "communication" {
            // An admin acts at every stage.
            assert_eq!(act(&srv, &admin, &number, body).await.0, 200);
        } else {
            let (s, v) = act(&srv, &by_duty[duty], &number, body).await;
            assert_eq!(s, 200, "{duty} at {stage}: {v}");
        }
    }
    srv.stop().await;
}

/// Every public answer about applications, crawled: none carries the applicant's contact,
/// a field of the form, a file or a note.
#[tokio::test]
async fn the_tracker_and_the_register_carry_nothing_personal() {
    let (srv, inbox, _dir) = server().await;
    let officer = staff(&srv, "officer1", Role::Officer, &STAGE_DUTIES).await;
    let phone = "9830066666";
    let ap = applicant(&srv, &inbox, phone).await;
    let open = apply(&srv, &ap, "heritage_sanction", "HER-0002", "repair", 6).await;
    let (s, _) = act(
        &srv,
        &officer,
        &open,
        json!({"action": "note", "text": "Internal: owner disputes title"}),
    )
    .await;
    assert_eq!(s, 200);
    let (s, _) = act(
        &srv,
        &officer,
        &open,
        json!({"action": "request", "what": "Private request text"}),
    )
    .await;
    assert_eq!(s, 200);
    let decided = apply(&srv, &ap, "water_body_works", "WAT-0001", "fencing", 7).await;
    for body in [
        json!({"action": "forward", "note": "Scrutiny note secret"}),
        json!({"action": "decide", "decision": "approve", "text": "Fence to be low"}),
        json!({"action": "issue"}),
    ] {
        let (s, v) = act(&srv, &officer, &decided, body).await;
        assert_eq!(s, 200, "{v}");
    }
    let mine = get_as(&srv, Some(&ap), &format!("/applications/{open}"))
        .await
        .1;
    let file_sha = mine["files"][0]["sha256"].as_str().unwrap().to_string();
    let secrets = [
        "98300",
        "66666",
        "Secret",
        "owner disputes",
        "Private request",
        "Scrutiny note secret",
        file_sha.as_str(),
        "1A Queens Way",
    ];
    let mut pages = vec![
        format!("/applications/{open}/track"),
        format!("/applications/{decided}/track"),
        "/register/decisions".to_string(),
        "/applications/stats".to_string(),
        format!("/audit?subject={open}"),
        format!("/audit?subject={decided}"),
    ];
    let (_, reg) = srv.get("/register/decisions").await;
    let sha = reg["items"][0]["letter"]["sha256"]
        .as_str()
        .unwrap()
        .to_string();
    pages.push(format!("/verify/{sha}?f=json"));
    pages.push(format!("/documents/{sha}/text"));
    let mut crawled = 0;
    for p in &pages {
        let r = reqwest::get(srv.url(p)).await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        if status != 200 {
            continue;
        }
        crawled += 1;
        for s in secrets {
            assert!(!text.contains(s), "{p} carries {s:?}: {text}");
        }
    }
    assert!(
        crawled >= 6,
        "the crawl read the public answers ({crawled})"
    );
    // The applicant's files are no documents of the register: read through their case,
    // by the applicant and by officers only.
    assert_eq!(
        get_as(&srv, None, &format!("/documents/{file_sha}"))
            .await
            .0,
        404
    );
    assert_eq!(
        get_as(&srv, Some(&officer), &format!("/documents/{file_sha}"))
            .await
            .0,
        404
    );
    let (_, hits) = get_as(&srv, Some(&officer), "/documents?q=Secret").await;
    assert_eq!(hits["numberMatched"], 0, "{hits}");
    let doc = mine["files"][0]["doc"].as_str().unwrap().to_string();
    let url = format!("/applications/{open}/files/{doc}/{file_sha}");
    let field = staff(&srv, "field79", Role::FieldStaff, &[]).await;
    let other = applicant(&srv, &inbox, "9830077777").await;
    for (who, token, want) in [
        ("the public", None, 401),
        ("field staff", Some(field.as_str()), 403),
        ("another applicant", Some(other.as_str()), 404),
        ("the applicant", Some(ap.as_str()), 200),
        ("an officer", Some(officer.as_str()), 200),
    ] {
        let mut r = reqwest::Client::new().get(srv.url(&url));
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        let r = r.send().await.unwrap();
        assert_eq!(r.status().as_u16(), want, "{who}");
        if want == 200 {
            assert_eq!(r.headers()["cache-control"], "private, no-store");
            let bytes = r.bytes().await.unwrap();
            assert_eq!(common::sha256_hex(&bytes), file_sha, "{who}");
        }
    }
    srv.stop().await;
}
