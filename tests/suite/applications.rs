//! Online applications, first part, over real HTTP: the types as data, and the grade's
//! rules applied before anything is filed (a Grade I demolition refused with the reason,
//! a Grade III case skipping the Heritage Conservation Committee, a water body never
//! filled). Also: a definition changed under the same version stops the start.

use crate::common;

use common::{asset, post, rect_polygon, TestServer};
use heritage_atlas::applications::AppType;
use heritage_atlas::model::{Grade, Kind, Layer};
use heritage_atlas::store::EditContext;
use serde_json::{json, Value};

async fn server() -> (TestServer, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("a.db"), true).await;
    (srv, dir)
}

#[tokio::test]
async fn the_types_are_served_as_data_in_both_languages() {
    let (srv, _dir) = server().await;
    let (s, v) = srv.get("/application-types").await;
    assert_eq!(s, 200);
    let types = v["types"].as_array().unwrap();
    let codes: Vec<&str> = types.iter().map(|t| t["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["heritage_sanction", "water_body_works"]);
    let hs = &types[0];
    assert_eq!(hs["rules"]["I"]["works"], json!(["repair", "restoration"]));
    assert_eq!(hs["stages"]["hcc"]["produces"], "recommendation");
    assert!(hs["documents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["code"] == "drawings" && d["required"] == true));
    assert!(hs["name"]["bn"]
        .as_str()
        .unwrap()
        .chars()
        .any(|c| ('\u{0980}'..='\u{09ff}').contains(&c)));

    let (s, one) = srv.get("/application-types/heritage_sanction").await;
    assert_eq!(s, 200);
    assert_eq!(one["versions"][0]["version"], 1);
    let (s, _) = srv
        .get("/application-types/heritage_sanction?version=1")
        .await;
    assert_eq!(s, 200);
    let (s, _) = common::get_as(&srv, None, "/application-types/heritage_sanction?version=9").await;
    assert_eq!(s, 404);
    let (s, _) = common::get_as(&srv, None, "/application-types/building_plan").await;
    assert_eq!(s, 404);
    srv.stop().await;
}

#[tokio::test]
async fn the_grades_rules_apply_before_anything_is_filed() {
    let (srv, _dir) = server().await;
    // A Grade III building beside the bundled ones.
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

    let check = |asset: &'static str, work: &'static str| {
        let body = json!({"asset": asset, "work": work});
        let srv = &srv;
        async move {
            let path = if asset.starts_with("WAT") {
                "/application-types/water_body_works/check"
            } else {
                "/application-types/heritage_sanction/check"
            };
            post(srv, path, None, &body).await
        }
    };
    // HER-0001 (Victoria Memorial) is Grade I: demolition refused at entry, with the reason.
    let (s, v) = check("HER-0001", "demolition").await;
    assert_eq!((s, v["allowed"].as_bool()), (200, Some(false)), "{v}");
    assert!(v["reason"]["en"]
        .as_str()
        .unwrap()
        .contains("repair and restoration only"));
    assert!(v["reason"]["bn"].as_str().unwrap().contains("শ্রেণি I"));
    let (_, v) = check("HER-0001", "repair").await;
    let stages: Vec<&str> = v["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stage"].as_str().unwrap())
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
    assert_eq!(v["days"], 15 + 15 + 45 + 30 + 7);
    // Grade III: decided by KMC officials, no HCC, no MIC.
    let (_, v) = check("HER-9301", "demolition").await;
    assert_eq!(v["allowed"], true, "{v}");
    assert_eq!(v["grade"], "III");
    let stages: Vec<&str> = v["path"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["stage"].as_str().unwrap())
        .collect();
    assert_eq!(
        stages,
        [
            "eh_scrutiny",
            "building_scrutiny",
            "officer_decision",
            "communication"
        ]
    );
    // Ungraded premises are not under the regime.
    let (_, v) = check("HER-0014", "repair").await;
    assert_eq!(v["allowed"], false);
    // A water body is never filled.
    let (_, v) = check("WAT-0001", "filling").await;
    assert_eq!(v["allowed"], false);
    assert!(v["reason"]["en"].as_str().unwrap().contains("offence"));
    let (_, v) = check("WAT-0001", "desilting").await;
    assert_eq!(v["allowed"], true);

    // Wrong premises, unknown works and bodies are 4xx, naming the field.
    for (body, field) in [
        (json!({"asset": "WAT-0001", "work": "repair"}), "asset"),
        (json!({"asset": "HER-0000", "work": "repair"}), "asset"),
        (json!({"asset": "HER-0001"}), "work"),
        (json!({"asset": "HER-0001", "work": 7}), "work"),
        (json!({"asset": "HER-0001", "work": "repair", "x": 1}), "x"),
    ] {
        let (s, v) = post(
            &srv,
            "/application-types/heritage_sanction/check",
            None,
            &body,
        )
        .await;
        assert_eq!((s, v["field"].as_str()), (400, Some(field)), "{body}: {v}");
    }
    let (_, v): (u16, Value) = check("HER-0001", "painting").await;
    assert_eq!(v["allowed"], false);
    srv.stop().await;
}

#[tokio::test]
async fn a_changed_definition_needs_a_new_version() {
    let dir = tempfile::tempdir().unwrap();
    let store = common::open_store(&dir.path().join("v.db")).await;
    let types = AppType::bundled().unwrap();
    let at = "2026-12-01T00:00:00Z";
    assert_eq!(
        store
            .sync_application_types(&types, at)
            .await
            .unwrap()
            .len(),
        2
    );
    assert!(
        store
            .sync_application_types(&types, at)
            .await
            .unwrap()
            .is_empty(),
        "loaded once"
    );

    let mut changed = types[0].clone();
    changed.stages.get_mut("hcc").unwrap().days = 60;
    let e = store
        .sync_application_types(std::slice::from_ref(&changed), at)
        .await
        .unwrap_err();
    assert!(e.to_string().contains("needs a new version"), "{e}");

    changed.version = 2;
    let added = store
        .sync_application_types(std::slice::from_ref(&changed), at)
        .await
        .unwrap();
    assert_eq!(added, [("heritage_sanction".to_string(), 2)]);
    // A case started under version 1 still reads version 1.
    let v1 = store
        .application_type("heritage_sanction", 1)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(v1.stages["hcc"].days, 45);
    assert_eq!(
        store
            .application_type("heritage_sanction", 2)
            .await
            .unwrap()
            .unwrap()
            .stages["hcc"]
            .days,
        60
    );
    assert_eq!(
        store
            .application_type_versions("heritage_sanction")
            .await
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn the_heritage_lock_is_read_by_anyone_and_set_by_officers() {
    let (srv, _dir) = server().await;
    // HER-0001 is Grade I: locked until a decision says otherwise.
    let (s, v) = srv.get("/assets/HER-0001/heritage-lock").await;
    assert_eq!(s, 200);
    assert_eq!(
        (v["state"].as_str(), v["plans_may_proceed"].as_bool()),
        (Some("locked"), Some(false))
    );
    let (_, v) = srv.get("/assets/HER-0014/heritage-lock").await;
    assert_eq!(v["state"], "not_applicable", "ungraded");
    let (s, _) = common::get_as(&srv, None, "/assets/HER-9999/heritage-lock").await;
    assert_eq!(s, 404);

    let officer =
        common::add_user(&srv, "officer1", heritage_atlas::model::Role::Officer, None).await;
    let field = common::add_user(
        &srv,
        "field79",
        heritage_atlas::model::Role::FieldStaff,
        Some(79),
    )
    .await;
    let put = |token: Option<String>, body: Value| {
        let srv = &srv;
        async move {
            let mut r = reqwest::Client::new()
                .put(srv.url("/assets/HER-0001/heritage-lock"))
                .json(&body);
            if let Some(t) = token {
                r = r.bearer_auth(t);
            }
            let r = r.send().await.unwrap();
            (
                r.status().as_u16(),
                r.json::<Value>().await.unwrap_or(Value::Null),
            )
        }
    };
    let cleared = json!({"state": "cleared", "application": "HS-2026-000001", "reason": "MIC resolution 123/2026"});
    assert_eq!(put(None, cleared.clone()).await.0, 401);
    assert_eq!(put(Some(field.clone()), cleared.clone()).await.0, 403);
    let (s, e) = put(
        Some(officer.clone()),
        json!({"state": "cleared", "reason": "x"}),
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("application")));
    let (s, e) = put(
        Some(officer.clone()),
        json!({"state": "open", "reason": "x"}),
    )
    .await;
    assert_eq!((s, e["field"].as_str()), (400, Some("state")));
    let (s, v) = put(Some(officer.clone()), cleared).await;
    assert_eq!(s, 200, "{v}");
    assert_eq!(
        (v["state"].as_str(), v["plans_may_proceed"].as_bool()),
        (Some("cleared"), Some(true))
    );
    let (_, v) = srv.get("/assets/HER-0001/heritage-lock").await;
    assert_eq!(v["recorded"]["application"], "HS-2026-000001");
    assert_eq!(v["recorded"]["by"], "officer1");
    // In the public audit chain.
    let (_, audit) = srv.get("/audit?subject=HER-0001").await;
    assert!(audit["entries"]
        .as_array()
        .unwrap()
        .iter()
        .any(|e| e["action"] == "asset.heritage_lock" && e["detail"]["to"] == "cleared"));
    // An ungraded building has no lock to set.
    let r = reqwest::Client::new()
        .put(srv.url("/assets/HER-0014/heritage-lock"))
        .bearer_auth(&officer)
        .json(&json!({"state": "released", "reason": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 409);
    srv.stop().await;
}
