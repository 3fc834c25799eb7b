//! The department's documents over real HTTP: records with their metadata, text read by
//! the real workers (our PDF reader as a child process, Tesseract for scans), search
//! checked against a brute-force oracle, changes with versions and audit, revocation seen
//! by verification, stamped copies whose QR code leads to the verification page, and bulk
//! ingest from a manifest.
//!
//! Outside programs (Tesseract, Poppler, Chromium) are installed by
//! `scripts/install-deps.sh`. Without them the tests that need them say so and pass,
//! unless `HERITAGE_ATLAS_REQUIRE_TOOLS=1` (as `.ci/run` sets), when they fail.

use crate::common;

use std::path::Path;

use common::{add_user, bin, get_as, post, sha256_hex, TestServer};
use heritage_atlas::documents::extract::Reader;
use heritage_atlas::model::Role;
use reqwest::header::{ETAG, IF_MATCH};
use serde_json::{json, Value};

/// Whether an outside program is installed; without it a test returns early, loudly,
/// unless tools are required.
fn have(program: &str) -> bool {
    let found = std::process::Command::new("sh")
        .args(["-c", &format!("command -v {program}")])
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("HERITAGE_ATLAS_REQUIRE_TOOLS").is_none(),
            "{program} is not installed: run scripts/install-deps.sh"
        );
        eprintln!("SKIPPED: {program} is not installed (scripts/install-deps.sh installs it)");
    }
    found
}

/// A one-page PDF with the lines in Helvetica (a real text layer).
fn text_pdf(lines: &[&str]) -> Vec<u8> {
    let esc = |s: &str| {
        s.replace('\\', "\\\\")
            .replace('(', "\\(")
            .replace(')', "\\)")
    };
    let mut content = String::from("BT /F1 12 Tf 72 720 Td 16 TL\n");
    for l in lines {
        content += &format!("({}) Tj T*\n", esc(l));
    }
    content += "ET";
    let objects = [
        "<< /Type /Catalog /Pages 2 0 R >>".to_string(),
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_string(),
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>".to_string(),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>".to_string(),
        format!("<< /Length {} >>\nstream\n{content}\nendstream", content.len()),
    ];
    let mut out = b"%PDF-1.4\n".to_vec();
    let mut offsets = Vec::new();
    for (i, o) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n{o}\nendobj\n", i + 1).as_bytes());
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for o in offsets {
        out.extend_from_slice(format!("{o:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

/// Reads the text of every queued document with the real workers.
async fn read_all(srv: &TestServer) {
    let worker = srv.atlas.text_worker(Reader::new(Some(
        env!("CARGO_BIN_EXE_heritage-atlas").into(),
    )));
    while worker.step().await.expect("text job") {}
}

async fn upload(
    srv: &TestServer,
    token: &str,
    bytes: Vec<u8>,
    fields: &[(&str, &str)],
) -> (u16, Value) {
    let mut form = reqwest::multipart::Form::new().part(
        "file",
        reqwest::multipart::Part::bytes(bytes).file_name("f.pdf"),
    );
    for (k, v) in fields {
        form = form.text(k.to_string(), v.to_string());
    }
    let r = reqwest::Client::new()
        .post(srv.url("/documents"))
        .bearer_auth(token)
        .multipart(form)
        .send()
        .await
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// The SHA-256s a search answers, in order.
async fn found(srv: &TestServer, token: Option<&str>, query: &str) -> Vec<String> {
    let (s, v) = get_as(srv, token, &format!("/documents?{query}")).await;
    assert_eq!(s, 200, "{query}: {v}");
    v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["sha256"].as_str().unwrap().to_string())
        .collect()
}

/// A document to upload: title, lines of text, form fields.
type Spec = (
    &'static str,
    &'static [&'static str],
    &'static [(&'static str, &'static str)],
);

struct Doc {
    sha: String,
    words: Vec<String>,
    kind: &'static str,
    issued_on: &'static str,
    assets: Vec<&'static str>,
    ward: Option<i64>,
    public: bool,
}

#[tokio::test]
async fn documents_are_found_by_words_and_metadata() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("d.db"), true).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let specs: [Spec; 5] = [
        (
            "NOC for the repair of the Park Street house",
            &[
                "Permission is granted for the repair of railings",
                "at the Park Street house, ward 63.",
            ],
            &[
                ("type", "noc"),
                ("reference", "KMC/EH/2019/17"),
                ("issued_on", "2019-03-04"),
                ("assets", "HER-0002"),
            ],
        ),
        (
            "Order against filling of the pond at Kasba",
            &[
                "Filling of the pond is an offence under the West Bengal Act.",
                "Restore the water body within thirty days.",
            ],
            &[
                ("type", "order"),
                ("issued_on", "2021-07-01"),
                ("assets", "WAT-0012"),
            ],
        ),
        (
            "Minutes of the Heritage Conservation Committee",
            &[
                "The committee considered repairs to Park Street houses",
                "and the restoration of the Town Hall facade.",
            ],
            &[
                ("type", "minutes"),
                ("issued_on", "2022-11-20"),
                ("assets", "HER-0001;HER-0002"),
            ],
        ),
        (
            "Survey of water bodies in ward 108 (Kolkātā)",
            &["Survey of ponds and tanks; encroachment noted at two sites."],
            &[
                ("type", "survey"),
                ("issued_on", "2020-01-15"),
                ("ward", "108"),
            ],
        ),
        (
            "Legal opinion on the encroachment",
            &["Confidential advice on the encroachment of the Kasba pond."],
            &[
                ("type", "other"),
                ("issued_on", "2023-05-05"),
                ("public", "false"),
                ("assets", "WAT-0012"),
            ],
        ),
    ];
    let mut docs = Vec::new();
    for (title, lines, fields) in specs {
        let bytes = text_pdf(lines);
        let mut f = fields.to_vec();
        f.push(("title", title));
        let (s, v) = upload(&srv, &officer, bytes.clone(), &f).await;
        assert_eq!(s, 201, "{v}");
        assert_eq!(v["text"]["state"], "queued");
        let field = |k: &str| fields.iter().find(|(n, _)| *n == k).map(|(_, v)| *v);
        docs.push(Doc {
            sha: sha256_hex(&bytes),
            words: format!("{title} {}", lines.join(" "))
                .to_lowercase()
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .map(str::to_string)
                .collect(),
            kind: match field("type").unwrap() {
                "noc" => "noc",
                "order" => "order",
                "minutes" => "minutes",
                "survey" => "survey",
                _ => "other",
            },
            issued_on: field("issued_on").unwrap(),
            assets: field("assets")
                .map(|a| a.split(';').collect())
                .unwrap_or_default(),
            ward: field("ward").map(|w| w.parse().unwrap()),
            public: field("public") != Some("false"),
        });
    }
    read_all(&srv).await;
    let (_, rec) = get_as(
        &srv,
        Some(&officer),
        &format!("/documents/{}/record", docs[0].sha),
    )
    .await;
    assert_eq!(rec["text"]["state"], "done", "{rec}");
    assert_eq!(rec["text"]["source"], "pdf", "{rec}");

    // Words: every document holding all the words (or their English plurals: the index
    // stems), by brute force; private ones only for staff.
    let bundled = found(&srv, Some(&officer), "limit=100").await.len() - docs.len();
    for q in [
        "railings",
        "pond",
        "park street",
        "encroachment",
        "facade",
        "town hall",
        "kasba pond",
    ] {
        let words: Vec<&str> = q.split(' ').collect();
        for (token, staff) in [(None, false), (Some(officer.as_str()), true)] {
            let mut want: Vec<&str> = docs
                .iter()
                .filter(|d| {
                    (d.public || staff)
                        && words.iter().all(|w| {
                            d.words
                                .iter()
                                .any(|x| x == w || *x == format!("{w}s") || *x == format!("{w}es"))
                        })
                })
                .map(|d| d.sha.as_str())
                .collect();
            let mut got = found(&srv, token, &format!("q={}&limit=50", q.replace(' ', "+"))).await;
            got.retain(|s| docs.iter().any(|d| &d.sha == s));
            want.sort();
            got.sort();
            assert_eq!(got, want, "q={q} staff={staff}");
        }
    }
    // A phrase holds its words in order; a prefix; English stems; Latin diacritics.
    assert_eq!(
        found(&srv, None, "q=%22street+park%22").await,
        Vec::<String>::new()
    );
    assert_eq!(
        found(&srv, None, "q=%22railings+of+repair%22").await.len(),
        0
    );
    assert_eq!(
        found(&srv, None, "q=%22repair+of+the+park+street%22").await,
        [docs[0].sha.clone()]
    );
    let restor = found(&srv, None, "q=restor*").await;
    assert!(
        restor.contains(&docs[1].sha) && restor.contains(&docs[2].sha),
        "{restor:?}"
    );
    assert!(found(&srv, None, "q=repairing")
        .await
        .contains(&docs[0].sha));
    assert_eq!(
        found(&srv, None, "q=kolkata+survey").await,
        [docs[3].sha.clone()]
    );
    assert_eq!(
        found(&srv, None, "q=KMC/EH/2019/17").await,
        [docs[0].sha.clone()]
    );
    assert_eq!(
        found(&srv, None, "q=pond+-kasba").await,
        [docs[3].sha.clone()]
    );
    // Ranking: the word in the title outranks the word once in the text.
    let minutes = found(&srv, None, "q=committee").await;
    assert_eq!(minutes.first(), Some(&docs[2].sha), "{minutes:?}");
    // Snippets mark the words found, escaped.
    let (_, v) = get_as(&srv, None, "/documents?q=railings").await;
    let html = v["documents"][0]["snippet_html"].as_str().unwrap();
    assert!(html.contains("<mark>railings</mark>"), "{html}");

    // Metadata filters against the oracle (a document is in a ward by its own field or
    // by an asset it concerns).
    let mut ward_of = std::collections::HashMap::new();
    for code in ["HER-0001", "HER-0002", "WAT-0012"] {
        let (_, a) = srv.get(&format!("/assets/{code}")).await;
        ward_of.insert(code, a["properties"]["ward"].as_i64());
    }
    let ward_of = &ward_of;
    for (query, keep) in [
        (
            "type=noc",
            Box::new(|d: &Doc| d.kind == "noc") as Box<dyn Fn(&Doc) -> bool>,
        ),
        ("type=minutes", Box::new(|d: &Doc| d.kind == "minutes")),
        (
            "from=2020-01-01&to=2021-12-31",
            Box::new(|d: &Doc| ("2020-01-01".."2021-12-32").contains(&d.issued_on)),
        ),
        (
            "asset=HER-0002",
            Box::new(|d: &Doc| d.assets.contains(&"HER-0002")),
        ),
        (
            "asset=WAT-0012",
            Box::new(|d: &Doc| d.assets.contains(&"WAT-0012")),
        ),
        (
            "ward=108",
            Box::new(move |d: &Doc| {
                d.ward == Some(108) || d.assets.iter().any(|a| ward_of[a] == Some(108))
            }),
        ),
        (
            "ward=63",
            Box::new(move |d: &Doc| {
                d.ward == Some(63) || d.assets.iter().any(|a| ward_of[a] == Some(63))
            }),
        ),
    ] {
        for (token, staff) in [(None, false), (Some(officer.as_str()), true)] {
            let mut want: Vec<String> = docs
                .iter()
                .filter(|d| (d.public || staff) && keep(d))
                .map(|d| d.sha.clone())
                .collect();
            let mut got = found(&srv, token, &format!("{query}&limit=100")).await;
            got.retain(|s| docs.iter().any(|d| &d.sha == s));
            want.sort();
            got.sort();
            assert_eq!(got, want, "{query} staff={staff}");
        }
    }
    assert_eq!(found(&srv, None, "limit=100").await.len(), bundled + 4);

    // What a client may not send.
    for (query, status) in [
        ("q=-only", 400),
        ("q=%22", 400),
        ("q=NEAR(a+b)+OR+%22", 200),
        ("q='%3B+DROP+TABLE+documents%3B--", 200),
        ("limit=1000", 400),
        ("type=memo", 400),
        ("from=yesterday", 400),
        ("asset=NOPE-1", 400),
        ("colour=red", 400),
    ] {
        let (s, v) = get_as(&srv, None, &format!("/documents?{query}")).await;
        assert_eq!(s, status, "{query}: {v}");
    }
    let long = "x".repeat(400);
    assert_eq!(
        get_as(&srv, None, &format!("/documents?q={long}")).await.0,
        400
    );
    srv.stop().await;
}

#[tokio::test]
async fn records_change_in_versions_and_revocation_is_verified() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("d.db"), true).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let field = add_user(&srv, "field79", Role::FieldStaff, Some(79)).await;
    let bytes = text_pdf(&["Notice: the tank at Lake Gardens is protected."]);
    let sha = sha256_hex(&bytes);
    let (s, v) = upload(
        &srv,
        &officer,
        bytes.clone(),
        &[("title", "Notice on the tank"), ("type", "notice")],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let (s, v) = upload(&srv, &officer, bytes.clone(), &[("title", "again")]).await;
    assert_eq!(s, 409, "{v}");
    let (s, _) = upload(
        &srv,
        &field,
        text_pdf(&["x"]),
        &[("title", "by field staff")],
    )
    .await;
    assert_eq!(s, 403);

    let client = reqwest::Client::new();
    let record = format!("/documents/{sha}/record");
    let etag = client.get(srv.url(&record)).send().await.unwrap().headers()[ETAG]
        .to_str()
        .unwrap()
        .to_string();
    assert_eq!(etag, "\"doc.1\"");
    let patch = |tag: &str, body: Value| {
        client
            .patch(srv.url(&record))
            .bearer_auth(&officer)
            .header(IF_MATCH, tag.to_string())
            .json(&body)
            .send()
    };
    let r = patch(&etag, json!({"title": "Notice protecting the Lake Gardens tank", "reference": "KMC/EH/2024/9", "assets": ["WAT-0003"], "note": "title as issued"})).await.unwrap();
    assert_eq!(r.status(), 200);
    let v: Value = r.json().await.unwrap();
    assert_eq!(
        (v["version"].as_i64(), v["assets"][0]["code"].as_str()),
        (Some(2), Some("WAT-0003"))
    );
    // A change made against version 1 now is stale.
    let r = patch(&etag, json!({"title": "late"})).await.unwrap();
    assert_eq!(r.status(), 412);
    let r = client
        .patch(srv.url(&record))
        .bearer_auth(&field)
        .json(&json!({"title": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let r = patch("\"doc.2\"", json!({"type": "memo"})).await.unwrap();
    assert_eq!(r.status(), 400);
    // The index follows the record.
    assert_eq!(
        found(&srv, None, "q=KMC/EH/2024/9").await,
        vec![sha.clone()]
    );
    assert_eq!(found(&srv, None, "asset=WAT-0003").await, vec![sha.clone()]);

    // Revoked: with a reason, which verification reports, by hash and by the bytes.
    let (s, v) = post(
        &srv,
        &format!("/documents/{sha}/status"),
        Some(&officer),
        &json!({"status": "revoked"}),
    )
    .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("reason")));
    let (s, v) = post(
        &srv,
        &format!("/documents/{sha}/status"),
        Some(&officer),
        &json!({"status": "superseded", "superseded_by": "0".repeat(64), "reason": "r"}),
    )
    .await;
    assert_eq!((s, v["field"].as_str()), (400, Some("superseded_by")));
    let (s, v) = post(
        &srv,
        &format!("/documents/{sha}/status"),
        Some(&officer),
        &json!({"status": "revoked", "reason": "issued in error"}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let (_, v) = post(&srv, "/documents/verify", None, &json!({"sha256": sha})).await;
    assert_eq!(
        (v["status"].as_str(), v["status_reason"].as_str()),
        (Some("revoked"), Some("issued in error"))
    );
    let v: Value = client
        .post(srv.url("/documents/verify"))
        .body(bytes.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["status"], "revoked");
    let (s, v) = get_as(&srv, None, &format!("/verify/{sha}?f=json")).await;
    assert_eq!((s, v["status"].as_str()), (200, Some("revoked")));
    let r = client
        .get(srv.url(&format!("/verify/{sha}")))
        .header("accept", "text/html")
        .send()
        .await
        .unwrap();
    assert!(r.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert_eq!(found(&srv, None, "status=revoked").await, vec![sha.clone()]);

    // Every version is kept, each with its audit entry; the chain holds.
    let (s, v) = get_as(&srv, Some(&officer), &format!("/documents/{sha}/versions")).await;
    assert_eq!(s, 200);
    let versions = v["versions"].as_array().unwrap();
    let actions: Vec<&str> = versions
        .iter()
        .map(|x| x["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["document.add", "document.edit", "document.revoke"]
    );
    assert_eq!(versions[0]["record"]["title"], "Notice on the tank");
    assert_eq!(versions[1]["note"], "title as issued");
    assert_eq!(versions[2]["record"]["status"], "revoked");
    assert!(versions.iter().all(|x| x["audit_seq"].is_i64()));
    let check = srv.atlas.store().verify_audit().await.unwrap();
    assert!(check.ok);
    srv.stop().await;
}

#[tokio::test]
async fn a_stamped_copy_leads_to_its_verification_page() {
    if !have("pdftoppm") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("d.db"), true).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let bytes = text_pdf(&["Permission for restoration of the facade."]);
    let sha = sha256_hex(&bytes);
    let (s, _) = upload(
        &srv,
        &officer,
        bytes,
        &[("title", "Permission"), ("type", "noc")],
    )
    .await;
    assert_eq!(s, 201);
    let r = reqwest::get(srv.url(&format!("/documents/{sha}/stamped.pdf")))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["content-type"], "application/pdf");
    let stamped = r.bytes().await.unwrap().to_vec();
    // The same bytes every time: that is how a stamped copy is verified.
    let again = reqwest::get(srv.url(&format!("/documents/{sha}/stamped.pdf")))
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap();
    assert_eq!(stamped, again.to_vec());

    // Printed and scanned back (rendered), its QR code names the verification page.
    let pdf = dir.path().join("stamped.pdf");
    std::fs::write(&pdf, &stamped).unwrap();
    let prefix = dir.path().join("page");
    let ok = std::process::Command::new("pdftoppm")
        .args(["-r", "150", "-png", "-singlefile"])
        .arg(&pdf)
        .arg(&prefix)
        .status()
        .unwrap();
    assert!(ok.success());
    let img = image::open(prefix.with_extension("png"))
        .unwrap()
        .to_luma8();
    let mut prepared = rqrr::PreparedImage::prepare(img);
    let grids = prepared.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code on the page");
    let (_, url) = grids[0].decode().unwrap();
    assert_eq!(url, srv.url(&format!("/verify/{sha}")));
    let (s, v) = get_as(&srv, None, &format!("/verify/{sha}?f=json")).await;
    assert_eq!(
        (s, v["title"].as_str(), v["status"].as_str()),
        (200, Some("Permission"), Some("current"))
    );

    // The stamped copy itself verifies as a copy of the original; an altered one does not.
    let client = reqwest::Client::new();
    let v: Value = client
        .post(srv.url("/documents/verify"))
        .body(stamped.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(
        (
            v["on_record"].as_bool(),
            v["copy"].as_str(),
            v["sha256"].as_str()
        ),
        (Some(true), Some("stamped"), Some(sha.as_str()))
    );
    // A server that has made no copy yet (as after a restart) checks it by stamping the
    // original again.
    let base = srv.url("");
    let second =
        TestServer::start_with(&dir.path().join("d.db"), true, |s| s.with_public_url(&base)).await;
    let v: Value = client
        .post(second.url("/documents/verify"))
        .body(stamped.clone())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["copy"], "stamped", "{v}");
    second.stop().await;
    let mut altered = stamped.clone();
    let n = altered.len();
    altered[n / 2] ^= 1;
    let v: Value = client
        .post(srv.url("/documents/verify"))
        .body(altered)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(v["on_record"], false);
    srv.stop().await;
}

/// Renders HTML to a PNG with Chromium (a "scan" made in the test).
fn screenshot(html: &str, out: &Path) -> bool {
    let page = out.with_extension("html");
    std::fs::write(&page, html).unwrap();
    std::process::Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            "--window-size=1400,500",
        ])
        .arg(format!("--screenshot={}", out.display()))
        .arg(format!("file://{}", page.display()))
        .output()
        .is_ok_and(|o| o.status.success())
        && out.exists()
}

#[tokio::test]
async fn ocr_reads_a_scan_in_bengali_and_english() {
    if !have("tesseract") || !have("chromium") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("scan.png");
    let html = "<html><body style='font-size:40px;font-family:\"Noto Sans Bengali\",\"Lohit Bengali\",sans-serif;margin:40px'>\
        <p>রবীন্দ্র সরোবরের জলাশয় ভরাট নিষিদ্ধ</p><p>Notice: filling of Rabindra Sarobar is forbidden</p></body></html>";
    assert!(screenshot(html, &png), "chromium made no screenshot");
    let srv = TestServer::start(&dir.path().join("d.db"), true).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let bytes = std::fs::read(&png).unwrap();
    let sha = sha256_hex(&bytes);
    let (s, v) = upload(
        &srv,
        &officer,
        bytes,
        &[
            ("title", "Scanned notice"),
            ("type", "notice"),
            ("language", "bn+en"),
        ],
    )
    .await;
    assert_eq!(s, 201, "{v}");
    read_all(&srv).await;
    let (_, rec) = get_as(&srv, None, &format!("/documents/{sha}/record")).await;
    assert_eq!(
        (
            rec["text"]["state"].as_str(),
            rec["text"]["source"].as_str()
        ),
        (Some("done"), Some("ocr")),
        "{rec}"
    );
    // Found by an English word, a Bengali word, and a Bengali word's other form.
    for q in ["forbidden", "sarobar", "জলাশয়", "নিষিদ্ধ", "সরোবর"]
    {
        assert_eq!(
            found(&srv, None, &format!("q={}", common::enc(q))).await,
            vec![sha.clone()],
            "q={q}"
        );
    }
    srv.stop().await;
}

/// A document whose text is longer than a full-text index entry can hold (PostgreSQL's
/// tsvector: 1 MB) is still read and found by its words; its job does not fail.
#[tokio::test]
async fn a_very_long_text_is_indexed_not_failed() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("d.db"), false).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let bytes = text_pdf(&["A register of tanks."]);
    let sha = sha256_hex(&bytes);
    let (s, _) = upload(&srv, &officer, bytes, &[("title", "tank register")]).await;
    assert_eq!(s, 201);
    let store = srv.atlas.store().clone();
    let now = heritage_atlas::model::now_rfc3339();
    let job = store.claim_text_job(&now).await.unwrap().expect("a job");
    // 100,000 distinct 32-letter words (3.3 MB), a known one first.
    let mut text = String::from("Chitpur tank, ward 7.\n");
    for i in 0..100_000u32 {
        text.push_str(&format!(
            "{:032x} ",
            u128::from(i).wrapping_mul(0x9e37_79b9_7f4a_7c15)
        ));
    }
    store
        .finish_text_job(
            job.document_id,
            heritage_atlas::documents::TextSource::Pdf,
            400,
            &text,
            &now,
        )
        .await
        .expect("the text is kept");
    assert_eq!(found(&srv, None, "q=chitpur").await, [sha]);
    srv.stop().await;
}

#[tokio::test]
async fn a_broken_pdf_fails_its_job_not_the_server() {
    let dir = tempfile::tempdir().unwrap();
    let srv = TestServer::start(&dir.path().join("d.db"), false).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let mut broken = b"%PDF-1.7\n1 0 obj << /Type /Catalog /Pages 9 0 R".to_vec();
    broken.extend(std::iter::repeat_n(b'(', 5000));
    let sha = sha256_hex(&broken);
    let (s, _) = upload(&srv, &officer, broken, &[("title", "broken")]).await;
    assert_eq!(s, 201);
    let worker = srv.atlas.text_worker(Reader::new(Some(
        env!("CARGO_BIN_EXE_heritage-atlas").into(),
    )));
    assert!(worker.step().await.unwrap());
    let (_, rec) = get_as(&srv, Some(&officer), &format!("/documents/{sha}/record")).await;
    // Unreadable by our reader and by Poppler: retried later, with why.
    let state = rec["text"]["state"].as_str().unwrap();
    assert!(state == "queued" || state == "done", "{rec}");
    if state == "queued" {
        assert!(rec["text"]["error"].is_string(), "{rec}");
    }
    assert_eq!(srv.get("/health").await.0, 200);

    // A job cut short (claimed, then the server stopped) runs again after a restart.
    let store = srv.atlas.store().clone();
    let add = async |line: &str, title: &str| {
        let bytes = text_pdf(&[line]);
        let (s, _) = upload(&srv, &officer, bytes.clone(), &[("title", title)]).await;
        assert_eq!(s, 201);
        sha256_hex(&bytes)
    };
    let read_and_find = async |query: &str, sha: &str| {
        assert!(worker.step().await.unwrap());
        assert_eq!(found(&srv, Some(&officer), query).await, [sha]);
    };
    let sha = add("Another notice about the Maidan.", "another").await;
    let now = heritage_atlas::model::now_rfc3339();
    let job = store.claim_text_job(&now).await.unwrap().expect("a job");
    assert_eq!(job.sha256, sha);
    assert!(
        store.claim_text_job(&now).await.unwrap().is_none(),
        "a running job is not claimed twice"
    );
    // Another server starting on the database leaves it alone (its reader may be at
    // work on it); this one starting again under its name takes it back.
    let other = store.clone().named("another-server:8080");
    assert_eq!(other.requeue_text_jobs(&now, true).await.unwrap(), 0);
    assert_eq!(other.requeue_text_jobs(&now, false).await.unwrap(), 0);
    assert_eq!(store.requeue_text_jobs(&now, true).await.unwrap(), 1);
    read_and_find("q=maidan", &sha).await;
    // A claim untouched for longer than STALE_CLAIM is any server's to take back: its
    // server is gone.
    let sha = add("A third notice, about the Esplanade.", "third").await;
    let long_ago = heritage_atlas::model::rfc3339(
        time::OffsetDateTime::now_utc()
            - heritage_atlas::store::STALE_CLAIM
            - time::Duration::minutes(1),
    );
    store
        .claim_text_job(&long_ago)
        .await
        .unwrap()
        .expect("a job");
    assert_eq!(other.requeue_text_jobs(&now, false).await.unwrap(), 1);
    read_and_find("q=esplanade", &sha).await;
    // A clean stop gives back what this server was reading, and only that.
    let sha = add("A fourth notice, about the Strand.", "fourth").await;
    store.claim_text_job(&now).await.unwrap().expect("a job");
    assert_eq!(other.release_text_jobs(&now).await.unwrap(), 0);
    assert_eq!(store.release_text_jobs(&now).await.unwrap(), 1);
    read_and_find("q=strand", &sha).await;
    srv.stop().await;
}

#[tokio::test]
async fn a_folder_is_ingested_once_with_a_report_of_what_failed() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("d.db");
    // A register to link to.
    TestServer::start(&db, true).await.stop().await;
    let scans = dir.path().join("scans");
    std::fs::create_dir_all(scans.join("1987")).unwrap();
    let files = [
        (
            "1987/a.pdf",
            text_pdf(&["Listing of the Writers' Building, 1987."]),
        ),
        (
            "b.pdf",
            text_pdf(&["Committee minutes on the Dalhousie Square tanks."]),
        ),
        ("c.pdf", text_pdf(&["Survey of the Tollygunge ponds."])),
        (
            "copy-of-b.pdf",
            text_pdf(&["Committee minutes on the Dalhousie Square tanks."]),
        ),
        ("notes.txt", b"not a document".to_vec()),
    ];
    for (name, bytes) in &files {
        std::fs::write(scans.join(name), bytes).unwrap();
    }
    let manifest = dir.path().join("files.csv");
    std::fs::write(
        &manifest,
        "file,type,reference,date,assets,public\n\
         1987/a.pdf,notice,KMC/H/1987/1,1987-02-03,HER-0001,true\n\
         b.pdf,committee minutes,HCC/2020/4,2020-10-10,HER-0001;WAT-0012,true\n\
         c.pdf,survey,,2021-01-01,,false\n\
         copy-of-b.pdf,minutes,HCC/2020/4,2020-10-10,,true\n\
         notes.txt,other,,,,true\n\
         missing.pdf,other,,,,true\n\
         c.pdf,order,,2021-01-01,NOPE-9,true\n\
         ../d.db,other,,,,true\n",
    )
    .unwrap();
    let run = |args: &[&str]| {
        let out = bin()
            .arg("--db")
            .arg(common::db_arg(&db))
            .args(["documents"])
            .args(args)
            .output()
            .unwrap();
        let summary: Value = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
        (
            out.status.success(),
            summary,
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (manifest_s, scans_s) = (manifest.to_str().unwrap(), scans.to_str().unwrap());
    let report = dir.path().join("failed.csv");
    let (ok, v, err) = run(&[
        "ingest",
        scans_s,
        "--manifest",
        manifest_s,
        "--report",
        report.to_str().unwrap(),
    ]);
    assert!(!ok, "failed lines make the run fail");
    assert_eq!(
        (
            v["added"].as_u64(),
            v["already_on_record"].as_u64(),
            v["failed"].as_u64()
        ),
        (Some(3), Some(1), Some(4)),
        "{v} {err}"
    );
    let failed = std::fs::read_to_string(&report).unwrap();
    for why in [
        "not a PDF",
        "cannot read",
        "no asset NOPE-9",
        "inside the folder",
    ] {
        assert!(failed.contains(why), "{why}: {failed}");
    }
    // Again: nothing new.
    let (_, v, _) = run(&["ingest", scans_s, "--manifest", manifest_s]);
    assert_eq!(
        (v["added"].as_u64(), v["already_on_record"].as_u64()),
        (Some(0), Some(4)),
        "{v}"
    );
    let (ok, _, err) = run(&["extract", "--workers", "2"]);
    assert!(ok, "{err}");

    let srv = TestServer::start(&db, true).await;
    let officer = add_user(&srv, "officer1", Role::Officer, None).await;
    let sha_b = sha256_hex(&files[1].1);
    assert_eq!(found(&srv, None, "q=dalhousie").await, vec![sha_b.clone()]);
    assert_eq!(found(&srv, None, "q=tollygunge").await.len(), 0, "private");
    assert_eq!(found(&srv, Some(&officer), "q=tollygunge").await.len(), 1);
    let (_, rec) = get_as(&srv, None, &format!("/documents/{sha_b}/record")).await;
    assert_eq!(rec["type"], "minutes");
    assert_eq!(rec["assets"].as_array().unwrap().len(), 2);
    assert_eq!(rec["issued_on"], "2020-10-10");
    // The asset's record lists it, with its type and reference.
    let (_, her) = srv.get("/assets/HER-0001").await;
    assert!(her["documents"]
        .as_array()
        .unwrap()
        .iter()
        .any(|d| d["sha256"] == sha_b.as_str() && d["reference"] == "HCC/2020/4"));
    assert!(srv.atlas.store().verify_audit().await.unwrap().ok);
    srv.stop().await;
}
