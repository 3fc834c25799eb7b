//! Moderation end to end over real HTTP: an officer hides a complaint's description, a
//! photo and a public note; every public answer is crawled for the hidden content (as
//! the reporters' privacy test does) while staff still see it; flags from the public
//! reach the queue once per client; held photos (`--moderate-photos`) stay private until
//! approved. Also the area feed (`/complaints.atom`) against a brute-force oracle, and
//! the outbox rows a status change writes.

use crate::common;

use common::{add_user, get_as, jpeg, post, TestServer};
use heritage_atlas::atlas::{AtlasOptions, Channels};
use heritage_atlas::model::Role;
use heritage_atlas::tiles::TileCoord;
use rand::{Rng, SeedableRng};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

/// Beside Victoria Memorial, in ward 79.
const VM: (f64, f64) = (88.3426, 22.5448);

async fn server_with(
    opts: impl FnOnce(&std::path::Path) -> AtlasOptions,
) -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("m.db");
    let o = opts(&db);
    let srv = TestServer::start_opts(&db, o, |s| s.with_rate_limit(0)).await;
    (srv, dir)
}

fn options(db: &std::path::Path) -> AtlasOptions {
    AtlasOptions {
        load_bundled: true,
        photos_dir: db.with_extension("photos"),
        ..Default::default()
    }
}

/// Files a complaint with one photo (multipart); returns (ticket, photo sha).
async fn file_with_photo(srv: &TestServer, description: &str, n: u64) -> (String, String) {
    let form = Form::new()
        .text("lon", VM.0.to_string())
        .text("lat", VM.1.to_string())
        .text("category", "park_maintenance")
        .text("description", description.to_string())
        .text("email", "reporter@example.org")
        .text("language", "bn")
        .part(
            "photo",
            Part::bytes(jpeg(n))
                .file_name("p.jpg")
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let r = reqwest::Client::new()
        .post(srv.url("/complaints"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 201);
    let v: Value = r.json().await.unwrap();
    let photo = v["photos"][0].as_str().unwrap_or_default().to_string();
    let sha = photo.rsplit('/').next().unwrap_or_default().to_string();
    (v["ticket"].as_str().unwrap().to_string(), sha)
}

async fn text_of(srv: &TestServer, path: &str) -> (u16, String) {
    let r = reqwest::get(srv.url(path)).await.unwrap();
    let status = r.status().as_u16();
    (status, r.text().await.unwrap())
}

/// Every public answer that could carry a complaint's words or photos.
fn public_paths(ticket: &str) -> Vec<String> {
    let t = TileCoord::containing(VM.0, VM.1, 15);
    vec![
        format!("/complaints/{ticket}"),
        format!("/open311/v2/requests/{ticket}.json"),
        format!("/open311/v2/requests/{ticket}.xml"),
        "/open311/v2/requests.json".into(),
        "/open311/v2/requests.xml".into(),
        "/complaints.atom?ward=79".into(),
        format!("/complaints.atom?lon={}&lat={}&radius_m=300", VM.0, VM.1),
        "/complaints.atom".into(),
        format!("/audit?subject={ticket}"),
        "/audit".into(),
        format!("/collections/complaints/items/{ticket}"),
        "/collections/complaints/items?f=json".into(),
        "/collections/complaints/items?f=csv".into(),
        format!("/tiles/complaints/{}/{}/{}.mvt", t.z, t.x, t.y),
    ]
}

#[tokio::test]
async fn hidden_pieces_are_gone_from_every_public_answer_and_kept_for_staff() {
    let (srv, _dir) = server_with(options).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let secret_words = "call Ratna on 98300 12345";
    let (ticket, sha) = file_with_photo(&srv, &format!("Broken swings; {secret_words}"), 7).await;
    assert_eq!(sha.len(), 64);
    let abuse = "the caretaker is a thief";
    let (status, c) = common::patch(
        &srv,
        &format!("/complaints/{ticket}"),
        Some(&officer),
        &json!({"action": "acknowledge", "note": abuse}),
    )
    .await;
    assert_eq!(status, 200, "{c}");
    let note_step = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["note"] == abuse)
        .unwrap()["id"]
        .as_i64()
        .unwrap();

    // Before: all three are public.
    let (_, page) = text_of(&srv, &format!("/complaints/{ticket}")).await;
    assert!(page.contains(secret_words) && page.contains(abuse) && page.contains(&sha));
    let (s, _) = text_of(&srv, &format!("/photos/{sha}")).await;
    assert_eq!(s, 200);

    // Field staff may not moderate; a hide needs a reason; an unknown item is refused.
    let field = add_user(&srv, "field79", Role::FieldStaff, Some(79)).await;
    let path = format!("/complaints/{ticket}/moderation");
    let (s, _) = post(
        &srv,
        &path,
        Some(&field),
        &json!({"item": "description", "decision": "hide", "reason": "x"}),
    )
    .await;
    assert_eq!(s, 403);
    let (s, e) = post(
        &srv,
        &path,
        Some(&officer),
        &json!({"item": "description", "decision": "hide"}),
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("reason")));
    let (s, e) = post(
        &srv,
        &path,
        Some(&officer),
        &json!({"item": "note:999999", "decision": "hide", "reason": "x"}),
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("item")));
    let (s, _) = post(
        &srv,
        &path,
        None,
        &json!({"item": "description", "decision": "hide", "reason": "x"}),
    )
    .await;
    assert_eq!(s, 401);

    let mut staff_view = Value::Null;
    for (item, reason) in [
        ("description".to_string(), "a phone number"),
        (format!("photo:{sha}"), "a face"),
        (format!("note:{note_step}"), "abuse"),
    ] {
        let (s, v) = post(
            &srv,
            &path,
            Some(&officer),
            &json!({"item": item, "decision": "hide", "reason": reason}),
        )
        .await;
        assert_eq!(s, 200, "{item}: {v}");
        staff_view = v;
    }

    for p in public_paths(&ticket) {
        let (s, text) = text_of(&srv, &p).await;
        assert!(s == 200 || s == 204, "{p}: {s}");
        for hidden in [secret_words, abuse, format!("/photos/{sha}").as_str()] {
            assert!(!text.contains(hidden), "{p} still shows {hidden:?}");
        }
    }
    let (s, _) = text_of(&srv, &format!("/photos/{sha}")).await;
    assert_eq!(s, 404, "a hidden photo is not served to the public");

    // The public is told what was removed and why.
    let (_, c) = srv.get(&format!("/complaints/{ticket}")).await;
    assert_eq!(
        c["description"],
        "Removed by the department: a phone number"
    );
    assert_eq!(c["photos"], json!([]));
    let removed: Vec<&str> = c["removed"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["item"].as_str().unwrap())
        .collect();
    assert_eq!(removed, ["description", "photo", "note"]);
    let step = c["timeline"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == note_step)
        .unwrap()
        .clone();
    assert_eq!(step["note"], "Removed by the department: abuse");
    let (_, o) = srv
        .get(&format!("/open311/v2/requests/{ticket}.json"))
        .await;
    assert_eq!(
        o[0]["description"],
        "Removed by the department: a phone number"
    );
    assert!(o[0]["media_url"].is_null());
    assert_eq!(o[0]["status_notes"], "Removed by the department: abuse");

    // Staff still see every piece, and the photo.
    let (_, q) = get_as(&srv, Some(&officer), "/complaints").await;
    let mine = q["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ticket"] == ticket.as_str())
        .unwrap()
        .clone();
    assert!(mine["description"].as_str().unwrap().contains(secret_words));
    // The decision's answer is the staff view, with the whole timeline.
    assert!(
        staff_view["timeline"].to_string().contains(abuse),
        "{staff_view}"
    );
    assert!(staff_view["description"]
        .as_str()
        .unwrap()
        .contains(secret_words));
    assert_eq!(staff_view["removed"].as_array().unwrap().len(), 3);
    assert_eq!(mine["moderation"].as_array().unwrap().len(), 3);
    let r = reqwest::Client::new()
        .get(srv.url(&format!("/photos/{sha}")))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "private, no-store");

    // The record itself, asked with a staff token: everything, never to be cached.
    let r = reqwest::Client::new()
        .get(srv.url(&format!("/complaints/{ticket}")))
        .bearer_auth(&officer)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "private, no-store");
    assert_eq!(r.headers()["vary"], "Authorization");
    let v: Value = r.json().await.unwrap();
    assert!(v["description"].as_str().unwrap().contains(secret_words));
    assert!(v["timeline"].to_string().contains(abuse));
    assert_eq!(v["reporter"]["email"], "reporter@example.org");

    // Field staff of another ward get the public record.
    let other = add_user(&srv, "field12", Role::FieldStaff, Some(12)).await;
    let r = reqwest::Client::new()
        .get(srv.url(&format!("/complaints/{ticket}")))
        .bearer_auth(&other)
        .send()
        .await
        .unwrap();
    assert_eq!(r.headers()["cache-control"], "no-cache");
    let v: Value = r.json().await.unwrap();
    assert!(!v.to_string().contains(secret_words) && v.get("reporter").is_none());

    // Each decision is in the audit chain, publicly, and the chain still verifies.
    let (_, audit) = srv.get(&format!("/audit?subject={ticket}")).await;
    let actions: Vec<&str> = audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions.iter().filter(|a| **a == "complaint.hide").count(),
        3,
        "{actions:?}"
    );
    let (_, check) = srv.get("/audit/verify").await;
    assert_eq!(check["ok"], true, "{check}");

    // Shown again, it is public again at once.
    let (s, _) = post(
        &srv,
        &path,
        Some(&officer),
        &json!({"item": "description", "decision": "show"}),
    )
    .await;
    assert_eq!(s, 200);
    let (_, page) = text_of(&srv, &format!("/complaints/{ticket}")).await;
    assert!(page.contains(secret_words));
    srv.stop().await;
}

#[tokio::test]
async fn flags_reach_the_queue_once_per_client_until_reviewed() {
    let (srv, _dir) = server_with(options).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let (ticket, sha) = file_with_photo(&srv, "Overgrown hedge", 11).await;
    let flag = format!("/complaints/{ticket}/flag");
    let (s, v) = post(
        &srv,
        &flag,
        None,
        &json!({"item": "description", "reason": "spam"}),
    )
    .await;
    assert_eq!((s, v["flagged"].as_bool()), (201, Some(true)), "{v}");
    let (s, v) = post(
        &srv,
        &flag,
        None,
        &json!({"item": "description", "reason": "again"}),
    )
    .await;
    assert_eq!(
        (s, v["flagged"].as_bool()),
        (200, Some(false)),
        "a client flags a piece once"
    );
    let (s, _) = post(&srv, &flag, None, &json!({"item": format!("photo:{sha}")})).await;
    assert_eq!(s, 201);
    // Nothing that is not public can be flagged; bodies are checked.
    let (s, _) = post(&srv, &flag, None, &json!({"item": "note:1"})).await;
    assert_eq!(s, 400);
    let (s, _) = post(
        &srv,
        &flag,
        None,
        &json!({"item": "description", "extra": 1}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = post(
        &srv,
        &flag,
        None,
        &json!({"item": "description", "reason": "x".repeat(501)}),
    )
    .await;
    assert_eq!(s, 400);
    let (s, _) = post(
        &srv,
        "/complaints/EH-2026-999999/flag",
        None,
        &json!({"item": "description"}),
    )
    .await;
    assert_eq!(s, 404);

    let (s, _) = get_as(&srv, None, "/moderation").await;
    assert_eq!(s, 401);
    let (_, q) = get_as(&srv, Some(&officer), "/moderation").await;
    let items: Vec<(&str, i64)> = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| {
            (
                i["item"].as_str().unwrap(),
                i["open_flags"].as_i64().unwrap(),
            )
        })
        .collect();
    assert_eq!(items.len(), 2, "{q}");
    let desc = q["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["item"] == "description")
        .unwrap_or_else(|| panic!("{q}"));
    assert_eq!(desc["open_flags"], 1);
    assert_eq!(desc["flag_reasons"], json!(["spam"]));
    assert_eq!(desc["content"], "Overgrown hedge");

    // Kept: it leaves the queue; hidden: it shows under state=hidden.
    let m = format!("/complaints/{ticket}/moderation");
    post(
        &srv,
        &m,
        Some(&officer),
        &json!({"item": "description", "decision": "show"}),
    )
    .await;
    post(
        &srv,
        &m,
        Some(&officer),
        &json!({"item": format!("photo:{sha}"), "decision": "hide", "reason": "a face"}),
    )
    .await;
    let (_, q) = get_as(&srv, Some(&officer), "/moderation").await;
    assert_eq!(q["numberReturned"], 0, "{q}");
    let (_, h) = get_as(&srv, Some(&officer), "/moderation?state=hidden").await;
    assert_eq!(h["items"][0]["item"], format!("photo:{sha}"));
    let (s, _) = get_as(&srv, Some(&officer), "/moderation?state=bogus").await;
    assert_eq!(s, 400);
    srv.stop().await;
}

#[tokio::test]
async fn held_photos_are_private_until_an_officer_approves_them() {
    let (srv, _dir) = server_with(|db| AtlasOptions {
        moderate_photos: true,
        ..options(db)
    })
    .await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let (ticket, _) = file_with_photo(&srv, "Broken bench", 21).await;
    let (_, c) = srv.get(&format!("/complaints/{ticket}")).await;
    assert_eq!(c["photos"], json!([]), "{c}");
    assert_eq!(c["photos_held"], 1);
    assert_eq!(
        c["description"], "Broken bench",
        "the complaint itself is public at once"
    );
    let (_, q) = get_as(&srv, Some(&officer), "/moderation").await;
    let item = q["items"][0]["item"]
        .as_str()
        .unwrap_or_else(|| panic!("{q}"))
        .to_string();
    assert_eq!(q["items"][0]["state"], "held");
    let sha = item.strip_prefix("photo:").unwrap().to_string();
    let (s, _) = text_of(&srv, &format!("/photos/{sha}")).await;
    assert_eq!(s, 404);
    let (s, _) = post(
        &srv,
        &format!("/complaints/{ticket}/moderation"),
        Some(&officer),
        &json!({"item": item, "decision": "show"}),
    )
    .await;
    assert_eq!(s, 200);
    let (_, c) = srv.get(&format!("/complaints/{ticket}")).await;
    assert_eq!(c["photos"], json!([format!("/photos/{sha}")]));
    let r = reqwest::get(srv.url(&format!("/photos/{sha}")))
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert_eq!(r.headers()["cache-control"], "public, no-cache");
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let r = reqwest::Client::new()
        .get(srv.url(&format!("/photos/{sha}")))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 304);
    srv.stop().await;
}

/// The `<entry>` ids of a feed (a string scan: the real parser is feedparser, in
/// scripts/notify_check.py).
fn entry_tickets(feed: &str) -> Vec<String> {
    feed.split("<entry>")
        .skip(1)
        .filter_map(|e| {
            let id = e.split("<id>").nth(1)?.split("</id>").next()?;
            Some(
                id.split("/complaints/")
                    .nth(1)?
                    .split('#')
                    .next()?
                    .to_string(),
            )
        })
        .collect()
}

#[tokio::test]
async fn the_area_feed_holds_exactly_the_complaints_in_the_circle() {
    let (srv, _dir) = server_with(options).await;
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(16);
    let mut filed = Vec::new();
    for i in 0..40 {
        let lon = VM.0 + rng.random_range(-0.01..0.01);
        let lat = VM.1 + rng.random_range(-0.01..0.01);
        let (s, v) = post(&srv, "/complaints", None, &json!({"lon": lon, "lat": lat, "category": "park_maintenance", "description": format!("Feed test {i}")})).await;
        assert_eq!(s, 201, "{v}");
        filed.push((
            v["ticket"].as_str().unwrap().to_string(),
            lon,
            lat,
            v["ward"].as_i64(),
        ));
    }
    let radius = 600.0;
    let (s, feed) = text_of(
        &srv,
        &format!(
            "/complaints.atom?lon={}&lat={}&radius_m={radius}&limit=200",
            VM.0, VM.1
        ),
    )
    .await;
    assert_eq!(s, 200);
    assert!(feed.starts_with("<?xml") && feed.contains("xmlns=\"http://www.w3.org/2005/Atom\""));
    let mut got = entry_tickets(&feed);
    got.sort();
    use geo::Distance;
    let mut want: Vec<String> = filed
        .iter()
        .filter(|(_, lon, lat, _)| {
            geo::Haversine.distance(geo::Point::new(VM.0, VM.1), geo::Point::new(*lon, *lat))
                <= radius
        })
        .map(|(t, ..)| t.clone())
        .collect();
    want.sort();
    assert!(
        want.len() > 5 && want.len() < filed.len(),
        "a circle that splits the set: {}",
        want.len()
    );
    assert_eq!(got, want);

    // A small page: the newest steps in the circle, read past the box's corners page by
    // page (each complaint here has one step, so newest step = last filed).
    let (_, feed) = text_of(
        &srv,
        &format!(
            "/complaints.atom?lon={}&lat={}&radius_m={radius}&limit=3",
            VM.0, VM.1
        ),
    )
    .await;
    let newest: Vec<String> = filed
        .iter()
        .rev()
        .filter(|(_, lon, lat, _)| {
            geo::Haversine.distance(geo::Point::new(VM.0, VM.1), geo::Point::new(*lon, *lat))
                <= radius
        })
        .take(3)
        .map(|(t, ..)| t.clone())
        .collect();
    assert_eq!(entry_tickets(&feed), newest);

    let ward = filed[0].3.unwrap();
    let (_, feed) = text_of(&srv, &format!("/complaints.atom?ward={ward}&limit=200")).await;
    let mut got = entry_tickets(&feed);
    got.sort();
    let mut want: Vec<String> = filed
        .iter()
        .filter(|f| f.3 == Some(ward))
        .map(|f| f.0.clone())
        .collect();
    want.sort();
    assert!(!want.is_empty());
    assert_eq!(got, want);

    // Conditional GET: the same feed is a 304.
    let r = reqwest::get(srv.url("/complaints.atom")).await.unwrap();
    let etag = r.headers()["etag"].to_str().unwrap().to_string();
    let r = reqwest::Client::new()
        .get(srv.url("/complaints.atom"))
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 304);
    for bad in [
        "ward=63&lon=88.3",
        "lon=88.3",
        "lon=88.3&lat=22.5&radius_m=1e9",
        "limit=0",
        "category=potholes",
        "extra=1",
    ] {
        let (s, _) = text_of(&srv, &format!("/complaints.atom?{bad}")).await;
        assert_eq!(s, 400, "{bad}");
    }
    srv.stop().await;
}

#[tokio::test]
async fn a_status_change_writes_the_reporters_messages_in_its_transaction() {
    let (srv, _dir) = server_with(|db| AtlasOptions {
        channels: Channels {
            email: true,
            webhook: true,
        },
        ..options(db)
    })
    .await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let (ticket, _) = file_with_photo(&srv, "Lights out", 31).await;
    // A reporter with no contact gets no messages.
    let (_, anon) = post(
        &srv,
        "/complaints",
        None,
        &json!({"lon": VM.0, "lat": VM.1, "category": "other", "description": "anonymous"}),
    )
    .await;
    let anon = anon["ticket"].as_str().unwrap().to_string();
    for (t, action) in [
        (&ticket, "acknowledge"),
        (&ticket, "note"),
        (&ticket, "start"),
        (&anon, "acknowledge"),
    ] {
        let mut body = json!({"action": action});
        if action == "note" {
            body["note"] = json!("internal");
            body["public"] = json!(false);
        }
        let (s, v) = common::patch(&srv, &format!("/complaints/{t}"), Some(&officer), &body).await;
        assert_eq!(s, 200, "{v}");
    }
    let (_, out) = get_as(
        &srv,
        Some(&officer),
        &format!("/notifications?ticket={ticket}"),
    )
    .await;
    let rows: Vec<(String, String, String)> = out["notifications"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            (
                n["action"].as_str().unwrap().into(),
                n["channel"].as_str().unwrap().into(),
                n["state"].as_str().unwrap().into(),
            )
        })
        .collect();
    // No worker runs in this test: the rows wait, pending.
    assert_eq!(
        rows,
        [
            ("start".into(), "webhook".into(), "pending".into()),
            ("start".into(), "email".into(), "pending".into()),
            ("acknowledge".into(), "webhook".into(), "pending".into()),
            ("acknowledge".into(), "email".into(), "pending".into()),
        ]
    );
    let (_, none) = get_as(
        &srv,
        Some(&officer),
        &format!("/notifications?ticket={anon}"),
    )
    .await;
    assert_eq!(none["numberReturned"], 0);

    // The stop-messages link: the page asks, the POST stops, pending messages are cancelled.
    let token = srv.atlas.optout_token(&ticket);
    let (s, page) = text_of(&srv, &format!("/complaints/{ticket}/optout?t={token}")).await;
    assert_eq!(s, 200);
    assert!(page.contains("<form method=\"post\""));
    let (s, _) = text_of(
        &srv,
        &format!("/complaints/{ticket}/optout?t={}", "0".repeat(32)),
    )
    .await;
    assert_eq!(s, 403);
    let r = reqwest::Client::new()
        .post(srv.url(&format!("/complaints/{ticket}/optout?t={token}")))
        .header("content-type", "application/x-www-form-urlencoded")
        .body("List-Unsubscribe=One-Click")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 200);
    let (_, out) = get_as(
        &srv,
        Some(&officer),
        &format!("/notifications?ticket={ticket}&state=cancelled"),
    )
    .await;
    assert_eq!(out["numberReturned"], 4);
    common::patch(
        &srv,
        &format!("/complaints/{ticket}"),
        Some(&officer),
        &json!({"action": "resolve", "note": "fixed"}),
    )
    .await;
    let (_, out) = get_as(
        &srv,
        Some(&officer),
        &format!("/notifications?ticket={ticket}"),
    )
    .await;
    assert_eq!(out["numberReturned"], 4, "no message after opting out");
    let (_, staff_view) = get_as(&srv, Some(&officer), "/complaints").await;
    let c = staff_view["complaints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["ticket"] == ticket.as_str())
        .unwrap()
        .clone();
    assert_eq!(
        (c["language"].as_str(), c["opted_out"].as_bool()),
        (Some("bn"), Some(true))
    );
    let (s, _) = get_as(&srv, Some(&officer), "/notifications?state=lost").await;
    assert_eq!(s, 400);
    srv.stop().await;
}
