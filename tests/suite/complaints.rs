//! Complaints end to end over real HTTP: intake (JSON and multipart photos), validation,
//! tracking, support, privacy of reporters, staff roles, triage, Open311, rate limits, and
//! the complaints tile layer.

use crate::common;

use common::{add_user, get_as, jpeg_with_exif, png_with_text, post, TestServer};
use geozero::mvt::{Message, Tile};
use heritage_atlas::model::{now_rfc3339, Role};
use heritage_atlas::tiles::TileCoord;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

/// A spot beside Victoria Memorial (bundled heritage asset HER-0001), in ward 79.
const VM: (f64, f64) = (88.3426, 22.5448);

fn complaint(category: &str, description: &str) -> Value {
    let mut v = json!({"lon": VM.0, "lat": VM.1, "category": category, "description": description});
    match category {
        "heritage_damage" => v["attributes"] = json!({"damage_type": "vandalism"}),
        "water_body_filling" => v["attributes"] = json!({"filling_in_progress": "yes"}),
        _ => {}
    }
    v
}

/// A JPEG whose EXIF holds a GPS position and a camera model, and a comment.
fn photo_with_exif() -> Vec<u8> {
    jpeg_with_exif(b"GPSLatitude 22.5726 N; Model Pixel 7", b"taken by Ritu")
}

/// Acts on a complaint as staff (`PATCH /complaints/{ticket}`).
async fn patch_ticket(
    srv: &TestServer,
    token: Option<&str>,
    ticket: &str,
    body: &Value,
) -> (u16, Value) {
    common::patch(srv, &format!("/complaints/{ticket}"), token, body).await
}

/// A fresh register over the bundled data (the server's file lives in the `TempDir`).
async fn server() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("c.db"), true).await;
    (srv, dir)
}

/// Asserts that no complaint was stored (after refused ones), and stops the server.
async fn nothing_was_filed(srv: TestServer) {
    let (_, v) = srv.get("/open311/v2/requests.json").await;
    assert_eq!(v, json!([]), "a refused complaint was stored");
    srv.stop().await;
}

#[tokio::test]
async fn a_citizen_files_tracks_and_supports_a_complaint() {
    let (srv, _dir) = server().await;

    let (status, filed) = post(
        &srv,
        "/complaints",
        None,
        &complaint("heritage_damage", "Graffiti on the plinth"),
    )
    .await;
    assert_eq!(status, 201, "{filed}");
    let ticket = filed["ticket"].as_str().unwrap().to_string();
    let year = &now_rfc3339()[..4];
    assert!(
        ticket.starts_with(&format!("EH-{year}-")) && ticket.len() == 14,
        "{ticket}"
    );
    assert_eq!(filed["ward"], 79);
    assert_eq!(
        filed["asset"]["code"], "HER-0001",
        "linked to the nearest heritage asset"
    );
    assert!(filed["deadline"].as_str().unwrap() > filed["created_at"].as_str().unwrap());
    assert_eq!(filed["possible_duplicates"], json!([]));

    // The same problem again, 10 m away: the first is offered as a duplicate.
    let mut again = complaint("heritage_damage", "Someone painted on it");
    again["lat"] = json!(VM.1 + 0.00009);
    let (_, second) = post(&srv, "/complaints", None, &again).await;
    let dups = second["possible_duplicates"].as_array().unwrap();
    assert_eq!(dups.len(), 1);
    assert_eq!(dups[0]["ticket"], ticket.as_str());
    assert!((dups[0]["distance_m"].as_f64().unwrap() - 10.0).abs() < 1.0);
    // Another category at the same spot is not a duplicate.
    let (_, other) = post(
        &srv,
        "/complaints",
        None,
        &complaint("other", "Broken bench"),
    )
    .await;
    assert_eq!(other["possible_duplicates"], json!([]));

    // Tracking.
    let (status, shown) = srv.get(&format!("/complaints/{ticket}")).await;
    assert_eq!(status, 200);
    assert_eq!(shown["status"], "submitted");
    assert_eq!(shown["description"], "Graffiti on the plinth");
    assert_eq!(shown["asset"]["name"], "Victoria Memorial");
    assert_eq!(shown["timeline"][0]["status"], "submitted");

    // Support counts once per client.
    for _ in 0..2 {
        let (status, v) = post(
            &srv,
            &format!("/complaints/{ticket}/support"),
            None,
            &json!({}),
        )
        .await;
        assert_eq!(status, 200, "{v}");
        assert_eq!(v["supporters"], 1);
    }
    let (status, _) = post(&srv, "/complaints/EH-2026-999999/support", None, &json!({})).await;
    assert_eq!(status, 404);
    let (status, v) = srv.get("/complaints/not-a-ticket").await;
    assert_eq!(status, 404, "{v}");
    srv.stop().await;
}

#[tokio::test]
async fn bad_complaint_fields_get_a_400_naming_the_field() {
    let (srv, _dir) = server().await;
    let ok = complaint("park_maintenance", "Swings broken");
    let cases: Vec<(Value, &str)> = vec![
        (
            json!({"lat": VM.1, "category": "other", "description": "x"}),
            "lon",
        ),
        (
            {
                let mut v = ok.clone();
                v["lon"] = json!("east");
                v
            },
            "lon",
        ),
        (
            {
                let mut v = ok.clone();
                v["lat"] = json!(95.0);
                v
            },
            "lat",
        ),
        (
            {
                let mut v = ok.clone();
                v["lon"] = json!(77.2);
                v["lat"] = json!(28.6);
                v
            },
            "location",
        ),
        (
            {
                let mut v = ok.clone();
                v["category"] = json!("potholes");
                v
            },
            "category",
        ),
        (
            {
                let mut v = ok.clone();
                v["description"] = json!("   ");
                v
            },
            "description",
        ),
        (
            {
                let mut v = ok.clone();
                v["description"] = json!("x".repeat(4001));
                v
            },
            "description",
        ),
        (
            {
                let mut v = ok.clone();
                v["email"] = json!("not-an-address");
                v
            },
            "email",
        ),
        (
            {
                let mut v = ok.clone();
                v["colour"] = json!("red");
                v
            },
            "colour",
        ),
        (
            complaint("water_body_filling", "Trucks dumping soil")
                .as_object()
                .map(|m| {
                    let mut m = m.clone();
                    m.remove("attributes");
                    Value::Object(m)
                })
                .unwrap(),
            "attributes.filling_in_progress",
        ),
    ];
    // Every case is tried and every wrong answer reported, not just the first.
    let mut wrong = Vec::new();
    for (body, field) in cases {
        let (status, v) = post(&srv, "/complaints", None, &body).await;
        if (status, &v["code"], &v["field"]) != (400, &json!("invalid_field"), &json!(field)) {
            wrong.push(format!(
                "{body}\n  -> {status} {v}, not a 400 naming {field}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    nothing_was_filed(srv).await;
}

#[tokio::test]
async fn a_body_not_json_or_of_another_type_is_refused() {
    let (srv, _dir) = server().await;
    // Not JSON, not a JSON object, an unsupported type.
    let c = reqwest::Client::new();
    let r = c
        .post(srv.url("/complaints"))
        .header("content-type", "application/json")
        .body("{\"lon\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = c
        .post(srv.url("/complaints"))
        .header("content-type", "application/json")
        .body("[1, 2]")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["code"], "bad_request");
    let r = c
        .post(srv.url("/complaints"))
        .header("content-type", "text/plain")
        .body("hello")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 415);
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "unsupported_media_type"
    );
    nothing_was_filed(srv).await;
}

#[tokio::test]
async fn bad_photos_are_refused_naming_the_photo() {
    let (srv, _dir) = server().await;
    let c = reqwest::Client::new();
    // Photos: a GIF is refused by its bytes whatever its name; six photos are too many;
    // one over 10 MB is refused.
    let form = |photos: Vec<(Vec<u8>, &str)>| {
        let mut f = Form::new()
            .text("lon", VM.0.to_string())
            .text("lat", VM.1.to_string())
            .text("category", "park_maintenance")
            .text("description", "Overgrown");
        for (bytes, name) in photos {
            f = f.part(
                "photo",
                Part::bytes(bytes)
                    .file_name(name.to_string())
                    .mime_str("image/jpeg")
                    .unwrap(),
            );
        }
        f
    };
    let r = c
        .post(srv.url("/complaints"))
        .multipart(form(vec![(b"GIF89a-not-a-photo".to_vec(), "photo.jpg")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "photos[0]");
    let six = (0..6).map(|_| (photo_with_exif(), "p.jpg")).collect();
    let r = c
        .post(srv.url("/complaints"))
        .multipart(form(six))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "photos");
    let mut big = photo_with_exif();
    big.resize(10 * 1024 * 1024 + 1, 0);
    let r = c
        .post(srv.url("/complaints"))
        .multipart(form(vec![(big, "big.jpg")]))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert_eq!(r.json::<Value>().await.unwrap()["field"], "photos[0]");

    nothing_was_filed(srv).await;
}

#[tokio::test]
async fn photos_are_stored_without_exif_under_their_hash() {
    let (srv, _dir) = server().await;
    // A PNG with a text chunk naming the phone.
    let png = png_with_text(b"Author\0Ritu's phone");
    let form = Form::new()
        .text("lon", VM.0.to_string())
        .text("lat", VM.1.to_string())
        .text("category", "heritage_damage")
        .text("attributes[damage_type]", "structural")
        .text("description", "A crack in the dome")
        .part(
            "photo",
            Part::bytes(photo_with_exif()).file_name("IMG_1.JPG"),
        )
        .part("photo", Part::bytes(png).file_name("whatever.bin"));
    let r = reqwest::Client::new()
        .post(srv.url("/complaints"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let filed: Value = r.json().await.unwrap();
    let photos = filed["photos"].as_array().unwrap();
    assert_eq!(photos.len(), 2);
    for (url, mime) in photos.iter().zip(["image/jpeg", "image/png"]) {
        let r = reqwest::get(srv.url(url.as_str().unwrap())).await.unwrap();
        assert_eq!(r.status().as_u16(), 200);
        assert_eq!(r.headers()["content-type"], mime);
        let bytes = r.bytes().await.unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for secret in ["GPSLatitude", "Pixel 7", "taken by", "Ritu"] {
            assert!(!text.contains(secret), "{secret} survived in {url}");
        }
        let sha = common::sha256_hex(&bytes);
        assert!(url.as_str().unwrap().ends_with(&sha), "content-addressed");
    }
    // Lists carry each complaint's own photos (read for the whole list at once): a
    // complaint without photos beside it keeps none of them.
    let (s, bare) = post(
        &srv,
        "/complaints",
        None,
        &complaint("park_maintenance", "Broken swing"),
    )
    .await;
    assert_eq!(s, 201, "{bare}");
    let (_, list) = srv.get("/open311/v2/requests.json").await;
    let media = |ticket: &str| {
        list.as_array()
            .unwrap()
            .iter()
            .find(|r| r["service_request_id"] == ticket)
            .map(|r| r["media_url"].clone())
            .unwrap()
    };
    let first = photos[0].as_str().unwrap();
    assert!(media(filed["ticket"].as_str().unwrap())
        .as_str()
        .unwrap()
        .ends_with(first));
    assert!(media(bare["ticket"].as_str().unwrap()).is_null());
    // A hash nobody filed is not served.
    let (status, _) = srv.get(&format!("/photos/{}", "ab".repeat(32))).await;
    assert_eq!(status, 404);
    srv.stop().await;
}

#[tokio::test]
async fn no_public_answer_carries_a_reporters_contact_details() {
    let (srv, _dir) = server().await;
    let mut body = complaint("water_body_filling", "Lorries tipping rubble into the pond");
    body["name"] = json!("Sudeshna Quarterfield");
    body["phone"] = json!("+91 98311 23457");
    body["email"] = json!("sudeshna.q@example.org");
    let (_, filed) = post(&srv, "/complaints", None, &body).await;
    let ticket = filed["ticket"].as_str().unwrap().to_string();
    let secrets = ["Quarterfield", "98311", "sudeshna.q@example.org"];
    assert!(!filed.to_string().contains("Quarterfield"));
    let t = TileCoord::containing(VM.0, VM.1, 15);
    let paths = vec![
        format!("/complaints/{ticket}"),
        format!("/open311/v2/requests/{ticket}.json"),
        format!("/open311/v2/requests/{ticket}.xml"),
        "/open311/v2/requests.json".to_string(),
        "/open311/v2/requests.xml".to_string(),
        format!("/tiles/complaints/{}/{}/{}.mvt", t.z, t.x, t.y),
        format!(
            "/tiles/heritage,water_bodies,parks,wards,complaints/{}/{}/{}.mvt",
            t.z, t.x, t.y
        ),
        format!("/nearby?lon={}&lat={}", VM.0, VM.1),
        format!("/at?lon={}&lat={}", VM.0, VM.1),
        "/search?q=Sudeshna".to_string(),
    ];
    for p in paths {
        let r = reqwest::get(srv.url(&p)).await.unwrap();
        assert!(r.status().is_success(), "{p}: {}", r.status());
        let bytes = r.bytes().await.unwrap();
        let text = String::from_utf8_lossy(&bytes);
        for s in secrets {
            assert!(!text.contains(s), "{p} leaks {s}");
        }
    }
    // Staff (an officer) can reach the reporter.
    let token = add_user(&srv, "officer1", Role::Officer, None).await;
    let (_, q) = get_as(&srv, Some(&token), "/complaints").await;
    assert_eq!(q["complaints"][0]["reporter"]["phone"], "+91 98311 23457");
    srv.stop().await;
}

#[tokio::test]
async fn every_staff_endpoint_answers_each_role_as_it_should() {
    let (srv, _dir) = server().await;
    let field_here = add_user(&srv, "field79", Role::FieldStaff, Some(79)).await;
    let field_there = add_user(&srv, "field12", Role::FieldStaff, Some(12)).await;
    let officer = add_user(&srv, "officer", Role::Officer, None).await;
    let admin = add_user(&srv, "admin", Role::Admin, None).await;
    let mut tickets = Vec::new();
    for i in 0..8 {
        let (_, v) = post(
            &srv,
            "/complaints",
            None,
            &complaint("other", &format!("complaint {i}")),
        )
        .await;
        tickets.push(v["ticket"].as_str().unwrap().to_string());
    }
    let who = [
        ("anonymous", None),
        ("field staff of ward 79", Some(field_here.as_str())),
        ("field staff of ward 12", Some(field_there.as_str())),
        ("officer", Some(officer.as_str())),
        ("admin", Some(admin.as_str())),
    ];
    // The queue.
    let expect_queue = [401, 200, 200, 200, 200];
    for ((name, tok), want) in who.iter().zip(expect_queue) {
        let (status, v) = get_as(&srv, *tok, "/complaints?status=submitted").await;
        assert_eq!(status, want, "{name}: {v}");
        if status == 200 {
            let n = v["complaints"].as_array().unwrap().len();
            let expect = if *name == "field staff of ward 12" {
                0
            } else {
                8
            };
            assert_eq!(n, expect, "{name} sees {n}");
            let has_reporter = v["complaints"]
                .as_array()
                .unwrap()
                .iter()
                .any(|c| c.get("reporter").is_some());
            assert_eq!(has_reporter, n > 0 && !name.starts_with("field"), "{name}");
        }
    }
    let (status, _) = get_as(&srv, Some(&field_here), "/complaints?ward=12").await;
    assert_eq!(status, 403, "field staff cannot list another ward");
    // Field staff with no ward have no queue: not every ward's.
    let field_nowhere = add_user(&srv, "field_none", Role::FieldStaff, None).await;
    let (status, v) = get_as(&srv, Some(&field_nowhere), "/complaints?status=submitted").await;
    assert_eq!(
        (status, v["numberReturned"].as_u64()),
        (200, Some(0)),
        "{v}"
    );
    let (status, _) = get_as(&srv, Some(&field_nowhere), "/complaints?ward=79").await;
    assert_eq!(status, 403, "nor another ward's");
    // /auth/me
    for ((name, tok), want) in who.iter().zip([401, 200, 200, 200, 200]) {
        let (status, _) = get_as(&srv, *tok, "/auth/me").await;
        assert_eq!(status, want, "{name}");
    }
    // Acknowledge: field staff only in their own ward.
    for (i, ((name, tok), want)) in who.iter().zip([401, 200, 403, 200, 200]).enumerate() {
        let (status, v) =
            patch_ticket(&srv, *tok, &tickets[i], &json!({"action": "acknowledge"})).await;
        assert_eq!(status, want, "{name}: {v}");
    }
    // Reject (an officer's call): field staff may not, even in their ward.
    for (i, ((name, tok), want)) in who.iter().zip([401, 403, 403, 200, 200]).enumerate() {
        let (status, v) = patch_ticket(
            &srv,
            *tok,
            &tickets[3 + i.min(4)],
            &json!({"action": "reject", "note": "Not our department"}),
        )
        .await;
        assert_eq!(status, want, "{name}: {v}");
    }
    // Logout ends the session.
    let r = reqwest::Client::new()
        .post(srv.url("/auth/logout"))
        .bearer_auth(&admin)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 204);
    let (status, _) = get_as(&srv, Some(&admin), "/complaints").await;
    assert_eq!(status, 401);
    let r = reqwest::Client::new()
        .post(srv.url("/auth/logout"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 401);
    // A wrong password is refused; another try at once is refused before any hashing
    // (the client backs off), and after the wait the right one still works.
    let (status, v) = post(
        &srv,
        "/auth/login",
        None,
        &json!({"name": "officer", "password": "guess"}),
    )
    .await;
    assert_eq!(status, 401, "{v}");
    let (status, v) = post(
        &srv,
        "/auth/login",
        None,
        &json!({"name": "nobody", "password": "guess"}),
    )
    .await;
    assert_eq!(status, 429, "{v}");
    // Once the back-off runs out (a refusal does not extend it) the guess is checked,
    // and fails; after the next, longer, back-off the right password still works.
    let (status, v) = common::login_once_allowed(&srv, "nobody", "guess").await;
    assert_eq!(status, 401, "{v}");
    let (status, v) = common::login_once_allowed(&srv, "officer", common::PASSWORD).await;
    assert_eq!(status, 200, "{v}");
    srv.stop().await;
}

#[tokio::test]
async fn triage_moves_a_complaint_through_its_statuses_on_a_public_timeline() {
    let (srv, _dir) = server().await;
    let officer = add_user(&srv, "officer", Role::Officer, None).await;
    add_user(&srv, "field79", Role::FieldStaff, Some(79)).await;
    let (_, a) = post(
        &srv,
        "/complaints",
        None,
        &complaint("heritage_damage", "Broken railing"),
    )
    .await;
    let (_, b) = post(
        &srv,
        "/complaints",
        None,
        &complaint("heritage_damage", "Railing broken, again"),
    )
    .await;
    let (ta, tb) = (a["ticket"].as_str().unwrap(), b["ticket"].as_str().unwrap());

    let steps = [
        (
            json!({"action": "assign", "assignee": "field79", "note": "Sent to the ward 79 team"}),
            200,
            "acknowledged",
        ),
        (
            json!({"action": "note", "note": "Contractor's phone 98300 11111", "public": false}),
            200,
            "acknowledged",
        ),
        (json!({"action": "start"}), 200, "in_progress"),
        (json!({"action": "resolve"}), 400, "in_progress"),
        (
            json!({"action": "resolve", "note": "Railing welded and painted"}),
            200,
            "resolved",
        ),
        (json!({"action": "start"}), 409, "resolved"),
    ];
    for (body, want, status_after) in steps {
        let (status, v) = patch_ticket(&srv, Some(&officer), ta, &body).await;
        assert_eq!(status, want, "{body}: {v}");
        let (_, shown) = srv.get(&format!("/complaints/{ta}")).await;
        assert_eq!(shown["status"], status_after, "after {body}");
    }
    let (_, shown) = srv.get(&format!("/complaints/{ta}")).await;
    let timeline: Vec<&str> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["status"].as_str().unwrap())
        .collect();
    assert_eq!(
        timeline,
        ["submitted", "acknowledged", "in_progress", "resolved"]
    );
    assert!(
        !shown.to_string().contains("Contractor"),
        "internal notes stay internal"
    );
    assert!(shown.to_string().contains("Railing welded"));
    // Staff see the internal note and who wrote it, and the assignee.
    let (_, q) = get_as(&srv, Some(&officer), "/complaints?status=resolved").await;
    assert_eq!(q["complaints"][0]["assigned_to"], "field79");
    // Unknown assignee, unknown action, unknown field, duplicate rules.
    let (s1, v1) = patch_ticket(
        &srv,
        Some(&officer),
        tb,
        &json!({"action": "assign", "assignee": "ghost"}),
    )
    .await;
    assert_eq!((s1, v1["field"].as_str()), (400, Some("assignee")));
    let (s2, v2) = patch_ticket(&srv, Some(&officer), tb, &json!({"action": "close"})).await;
    assert_eq!((s2, v2["field"].as_str()), (400, Some("action")));
    let (s3, v3) = patch_ticket(
        &srv,
        Some(&officer),
        tb,
        &json!({"action": "start", "colour": 1}),
    )
    .await;
    assert_eq!((s3, v3["field"].as_str()), (400, Some("colour")));
    let (s4, _) = patch_ticket(
        &srv,
        Some(&officer),
        tb,
        &json!({"action": "duplicate", "duplicate_of": tb}),
    )
    .await;
    assert_eq!(s4, 400);
    let (s5, v5) = patch_ticket(
        &srv,
        Some(&officer),
        tb,
        &json!({"action": "duplicate", "duplicate_of": ta}),
    )
    .await;
    assert_eq!(s5, 200, "{v5}");
    assert_eq!(v5["status"], "duplicate");
    assert_eq!(v5["duplicate_of"], ta);
    let (s6, _) = patch_ticket(
        &srv,
        Some(&officer),
        "EH-2026-999999",
        &json!({"action": "start"}),
    )
    .await;
    assert_eq!(s6, 404);
    // Overdue filter: nothing open here is overdue yet.
    let (_, q) = get_as(&srv, Some(&officer), "/complaints?overdue=true").await;
    assert_eq!(q["numberReturned"], 0);
    let (status, _) = get_as(&srv, Some(&officer), "/complaints?status=lost").await;
    assert_eq!(status, 400);
    srv.stop().await;
}

/// A register with an Open311 API key for a citizen app; returns the key too.
async fn open311_server() -> (TestServer, tempfile::TempDir, String) {
    let (srv, dir) = server().await;
    let key = "k".repeat(64);
    srv.atlas
        .store()
        .add_api_key(
            &heritage_atlas::auth::sha256_hex(&key),
            "test app",
            &now_rfc3339(),
        )
        .await
        .unwrap();
    (srv, dir, key)
}

/// An Open311 request form: a pond by the memorial being filled, with the reporter's
/// name and email, sent with `key`.
fn open311_form(key: &str) -> Vec<(&'static str, String)> {
    vec![
        ("api_key", key.to_string()),
        ("service_code", "water_body_filling".into()),
        ("lat", VM.1.to_string()),
        ("long", VM.0.to_string()),
        (
            "description",
            "Pond near the memorial being filled at night".into(),
        ),
        ("attribute[filling_in_progress]", "yes".into()),
        ("first_name", "Anil".into()),
        ("last_name", "Brightwater".into()),
        ("email", "anil@example.org".into()),
    ]
}

/// Files [`open311_form`] through Open311; returns its (service_request_id, token).
async fn file_open311(srv: &TestServer, key: &str) -> (String, String) {
    let r = reqwest::Client::new()
        .post(srv.url("/open311/v2/requests.json"))
        .form(&open311_form(key))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let v: Value = r.json().await.unwrap();
    (
        v[0]["service_request_id"].as_str().unwrap().to_string(),
        v[0]["token"].as_str().unwrap().to_string(),
    )
}

#[tokio::test]
async fn open311_discovery_and_services_in_json_and_xml() {
    let (srv, _dir) = server().await;
    let (status, d) = srv.get("/open311/v2/discovery.json").await;
    assert_eq!(status, 200);
    assert!(d["endpoints"][0]["url"]
        .as_str()
        .unwrap()
        .ends_with("/open311/v2"));
    let (_, services) = srv.get("/open311/v2/services.json").await;
    let codes: Vec<&str> = services
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["service_code"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "water_body_filling",
            "water_body_pollution",
            "heritage_damage",
            "heritage_unauthorized_construction",
            "park_maintenance",
            "tree_felling",
            "other"
        ]
    );
    assert_eq!(services[0]["group"], "Water bodies");
    let (_, def) = srv
        .get("/open311/v2/services/water_body_filling.json")
        .await;
    assert_eq!(def["attributes"][0]["code"], "filling_in_progress");
    assert_eq!(def["attributes"][0]["required"], true);
    let r = reqwest::get(srv.url("/open311/v2/services.xml"))
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/xml"));
    let xml = r.text().await.unwrap();
    assert!(
        xml.starts_with("<?xml")
            && xml.contains("<services><service><service_code>water_body_filling</service_code>")
    );
    srv.stop().await;
}

#[tokio::test]
async fn open311_requests_need_a_valid_key_and_every_required_attribute() {
    let (srv, _dir, key) = open311_server().await;
    let c = reqwest::Client::new();
    // Without a valid key: 403 in the spec's error format.
    for k in ["", "wrong"] {
        let r = c
            .post(srv.url("/open311/v2/requests.json"))
            .form(&open311_form(k))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 403);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v[0]["code"], 403);
    }
    let r = c
        .post(srv.url("/open311/v2/requests.xml"))
        .form(&open311_form("wrong"))
        .send()
        .await
        .unwrap();
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("<errors><error><code>403</code>"));
    // A missing required attribute is named.
    let mut f = open311_form(&key);
    f.retain(|(k, _)| *k != "attribute[filling_in_progress]");
    let r = c
        .post(srv.url("/open311/v2/requests.json"))
        .form(&f)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 400);
    assert!(r
        .text()
        .await
        .unwrap()
        .contains("attribute[filling_in_progress]"));
    nothing_was_filed(srv).await;
}

#[tokio::test]
async fn open311_a_request_is_found_by_id_and_token_without_its_reporter() {
    let (srv, _dir, key) = open311_server().await;
    let (id, token) = file_open311(&srv, &key).await;
    let (_, t) = srv.get(&format!("/open311/v2/tokens/{token}.json")).await;
    assert_eq!(t[0]["service_request_id"], id.as_str());
    let (_, one) = srv.get(&format!("/open311/v2/requests/{id}.json")).await;
    let req = &one[0];
    assert_eq!(req["status"], "open");
    assert_eq!(req["service_code"], "water_body_filling");
    assert!(req["agency_responsible"]
        .as_str()
        .unwrap()
        .contains("Ward 79"));
    assert!(
        req["expected_datetime"].as_str().unwrap() > req["requested_datetime"].as_str().unwrap()
    );
    assert!(!one.to_string().contains("Brightwater") && !one.to_string().contains("anil@"));
    srv.stop().await;
}

#[tokio::test]
async fn open311_request_lists_filter_by_status_service_and_date() {
    let (srv, _dir, key) = open311_server().await;
    let (id, _) = file_open311(&srv, &key).await;
    // Resolve it; the list filters follow.
    let officer = add_user(&srv, "officer", Role::Officer, None).await;
    let (status, v) = patch_ticket(
        &srv,
        Some(&officer),
        &id,
        &json!({"action": "resolve", "note": "Filling stopped; FIR lodged"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    let (_, open) = srv.get("/open311/v2/requests.json?status=open").await;
    assert_eq!(open, json!([]));
    let (_, closed) = srv
        .get("/open311/v2/requests.json?status=closed&service_code=water_body_filling")
        .await;
    assert_eq!(closed[0]["service_request_id"], id.as_str());
    assert_eq!(closed[0]["status_notes"], "Filling stopped; FIR lodged");
    let (_, none) = srv
        .get("/open311/v2/requests.json?start_date=2099-01-01T00:00:00Z")
        .await;
    assert_eq!(none, json!([]));
    let (status, v) = srv.get("/open311/v2/requests.json?colour=red").await;
    assert_eq!(status, 400, "{v}");
    let (status, _) = srv
        .get("/open311/v2/requests.json?start_date=yesterday")
        .await;
    assert_eq!(status, 400);
    let (status, _) = srv.get("/open311/v2/requests/EH-2026-999999.json").await;
    assert_eq!(status, 404);
    srv.stop().await;
}

#[tokio::test]
async fn a_client_over_its_rate_is_told_when_to_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let srv =
        TestServer::start_with(&dir.path().join("c.db"), true, |s| s.with_rate_limit(2)).await;
    for _ in 0..2 {
        let (status, _) = post(&srv, "/complaints", None, &complaint("other", "Litter")).await;
        assert_eq!(status, 201);
    }
    let r = reqwest::Client::new()
        .post(srv.url("/complaints"))
        .json(&complaint("other", "Litter"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 429);
    let retry: u64 = r.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(
        r.json::<Value>().await.unwrap()["code"],
        "too_many_requests"
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_complaint_shows_on_the_map_at_once_with_a_short_cache_life() {
    let (srv, _dir) = server().await;
    let t = TileCoord::containing(VM.0, VM.1, 16);
    let path = format!("/tiles/complaints/{}/{}/{}.mvt", t.z, t.x, t.y);
    let r = reqwest::get(srv.url(&path)).await.unwrap();
    assert_eq!(r.status().as_u16(), 204, "no complaints yet");
    assert_eq!(r.headers()["cache-control"], "public, max-age=10");
    let r = reqwest::get(srv.url(&format!("/tiles/heritage/{}/{}/{}.mvt", t.z, t.x, t.y)))
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "public, max-age=300");

    let (_, filed) = post(
        &srv,
        "/complaints",
        None,
        &complaint("heritage_damage", "Cracked plinth"),
    )
    .await;
    let r = reqwest::get(srv.url(&path)).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let tile = Tile::decode(r.bytes().await.unwrap()).unwrap();
    let layer = tile.layers.iter().find(|l| l.name == "complaints").unwrap();
    assert_eq!(layer.features.len(), 1);
    let keys: Vec<&str> = layer.keys.iter().map(String::as_str).collect();
    assert_eq!(keys, ["ticket", "category", "status", "created_at"]);
    assert_eq!(
        layer.values[0].string_value.as_deref(),
        filed["ticket"].as_str()
    );

    // Resolving it recolours the pin at once.
    let officer = add_user(&srv, "officer", Role::Officer, None).await;
    patch_ticket(
        &srv,
        Some(&officer),
        filed["ticket"].as_str().unwrap(),
        &json!({"action": "resolve", "note": "Repaired"}),
    )
    .await;
    let r = reqwest::get(srv.url(&path)).await.unwrap();
    let tile = Tile::decode(r.bytes().await.unwrap()).unwrap();
    let layer = tile.layers.iter().find(|l| l.name == "complaints").unwrap();
    assert!(layer
        .values
        .iter()
        .any(|v| v.string_value.as_deref() == Some("resolved")));

    let (_, tj) = srv.get("/tiles/heritage,complaints.json").await;
    let ids: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["heritage", "labels", "complaints"]);
    srv.stop().await;
}

#[tokio::test]
async fn staff_accounts_and_api_keys_come_from_the_command_line() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("c.db");
    let run = |args: &[&str], stdin: &str| {
        let mut child = common::bin()
            .arg("--db")
            .arg(common::db_arg(&db))
            .args(args)
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        // A command refused on its arguments exits before reading: the pipe may be closed.
        let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
        child.wait_with_output().unwrap()
    };
    let out = run(
        &["user", "add", "mitra", "--role", "officer"],
        "a long password\n",
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["user", "add", "short", "--role", "admin"], "short\n");
    assert!(!out.status.success(), "short passwords are refused");
    let out = run(
        &["user", "add", "f", "--role", "field_staff"],
        "a long password\n",
    );
    assert!(!out.status.success(), "field staff need a ward");
    let out = run(
        &["user", "add", "x", "--role", "mayor"],
        "a long password\n",
    );
    assert!(!out.status.success());
    let out = run(&["apikey", "add", "citizen app"], "");
    assert!(out.status.success());
    let key = String::from_utf8(out.stdout).unwrap().trim().to_string();
    assert_eq!(key.len(), 64);

    let srv = TestServer::start(&db, true).await;
    let (status, v) = post(
        &srv,
        "/auth/login",
        None,
        &json!({"name": "mitra", "password": "a long password"}),
    )
    .await;
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["user"]["role"], "officer");
    assert!(v.get("password_hash").is_none() && !v.to_string().contains("argon2"));
    let r = reqwest::Client::new()
        .post(srv.url("/open311/v2/requests.json"))
        .form(&[
            ("api_key", key.as_str()),
            ("service_code", "other"),
            ("lat", "22.5448"),
            ("long", "88.3426"),
            ("description", "Filed with a key from the command line"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    srv.stop().await;
}

#[tokio::test]
async fn a_resolution_can_carry_a_photo_on_the_public_timeline() {
    let (srv, _dir) = server().await;
    let officer = add_user(&srv, "officer", Role::Officer, None).await;
    let (_, filed) = post(
        &srv,
        "/complaints",
        None,
        &complaint("heritage_damage", "Broken lamp"),
    )
    .await;
    let ticket = filed["ticket"].as_str().unwrap();
    let form = Form::new()
        .text("action", "resolve")
        .text("note", "Lamp replaced")
        .part(
            "photo",
            Part::bytes(photo_with_exif()).file_name("after.jpg"),
        );
    let r = reqwest::Client::new()
        .patch(srv.url(&format!("/complaints/{ticket}")))
        .bearer_auth(&officer)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, shown) = srv.get(&format!("/complaints/{ticket}")).await;
    let last = shown["timeline"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (last["status"].as_str(), last["note"].as_str()),
        (Some("resolved"), Some("Lamp replaced"))
    );
    let photo = last["photo"]
        .as_str()
        .expect("the resolution photo is on the timeline");
    let r = reqwest::get(srv.url(photo)).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(!String::from_utf8_lossy(&r.bytes().await.unwrap()).contains("GPSLatitude"));
    srv.stop().await;
}

#[tokio::test]
async fn an_internal_note_on_a_step_hides_the_note_not_the_step() {
    let (srv, _dir) = server().await;
    let officer = add_user(&srv, "officer", Role::Officer, None).await;
    let (_, a) = post(
        &srv,
        "/complaints",
        None,
        &complaint("park_maintenance", "Broken bench"),
    )
    .await;
    let t = a["ticket"].as_str().unwrap();
    for body in [
        json!({"action": "acknowledge", "note": "FIR lodged with Lake PS", "public": false}),
        json!({"action": "note", "note": "Contractor's phone 98300 11111", "public": false}),
        json!({"action": "start", "note": "Crew sent", "public": true}),
    ] {
        let (status, v) = patch_ticket(&srv, Some(&officer), t, &body).await;
        assert_eq!(status, 200, "{body}: {v}");
    }
    let (_, shown) = srv.get(&format!("/complaints/{t}")).await;
    let text = shown.to_string();
    assert!(
        !text.contains("FIR lodged") && !text.contains("98300"),
        "{text}"
    );
    let steps: Vec<(&str, Option<&str>)> = shown["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["status"].as_str().unwrap(), e["note"].as_str()))
        .collect();
    assert!(steps.contains(&("acknowledged", None)), "{steps:?}");
    assert!(
        steps.contains(&("in_progress", Some("Crew sent"))),
        "{steps:?}"
    );
    srv.stop().await;
}
