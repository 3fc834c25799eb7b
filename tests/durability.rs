//! A complaint acknowledged is a complaint kept: many clients file complaints (some with
//! photos) against the real binary, which is killed with SIGKILL at a random moment;
//! after a restart every ticket that was answered is there, with its text and photos.

mod common;

use std::process::{Child, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use rand::{Rng, SeedableRng};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

#[allow(clippy::zombie_processes)] // the caller kills and waits for it
async fn start(db: &std::path::Path, port: u16) -> Child {
    let child = common::bin()
        .args(["--db", db.to_str().unwrap(), "serve", "--bind"])
        .arg(format!("127.0.0.1:{port}"))
        .args(["--complaints-per-minute", "0"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start server");
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Ok(r) = reqwest::get(format!("http://127.0.0.1:{port}/health")).await {
            if r.status().is_success() {
                return child;
            }
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("server did not come up");
}

#[derive(Debug, Clone)]
struct Acked {
    ticket: String,
    description: String,
    photo: Option<String>,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_complaint_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("durable.db");
    let port = free_port();
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64;
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let acked: Arc<Mutex<Vec<Acked>>> = Arc::default();

    for round in 0..2u64 {
        let mut server = start(&db, port).await;
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let mut clients = Vec::new();
        for c in 0..16u64 {
            let acked = acked.clone();
            let stop = stop.clone();
            clients.push(tokio::spawn(async move {
                let http = reqwest::Client::new();
                let url = format!("http://127.0.0.1:{port}/complaints");
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    i += 1;
                    let n = round * 1_000_000 + c * 10_000 + i;
                    let description = format!("round {round} client {c} complaint {i}");
                    let lon = 88.30 + (n % 97) as f64 * 0.001;
                    let lat = 22.50 + (n % 89) as f64 * 0.001;
                    let with_photo = i.is_multiple_of(4);
                    let req = if with_photo {
                        let form = Form::new()
                            .text("lon", lon.to_string())
                            .text("lat", lat.to_string())
                            .text("category", "other")
                            .text("description", description.clone())
                            .part("photo", Part::bytes(common::jpeg(n)).file_name("p.jpg"));
                        http.post(&url).multipart(form)
                    } else {
                        http.post(&url).json(&json!({
                            "lon": lon, "lat": lat, "category": "other", "description": description,
                        }))
                    };
                    let Ok(r) = req.send().await else { break };
                    if r.status().as_u16() != 201 {
                        break;
                    }
                    let Ok(v) = r.json::<Value>().await else {
                        break;
                    };
                    acked.lock().unwrap().push(Acked {
                        ticket: v["ticket"].as_str().unwrap().to_string(),
                        description,
                        photo: v["photos"][0].as_str().map(str::to_string),
                    });
                }
            }));
        }
        let wait = rng.random_range(300..1500);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        server.kill().unwrap(); // SIGKILL
        server.wait().unwrap();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        for c in clients {
            c.await.unwrap();
        }
        assert!(
            !acked.lock().unwrap().is_empty(),
            "round {round}: nothing was acknowledged before the kill at {wait} ms (seed {seed})"
        );
    }

    let mut server = start(&db, port).await;
    let http = reqwest::Client::new();
    let acked = acked.lock().unwrap().clone();
    let mut tickets = std::collections::HashSet::new();
    for a in &acked {
        assert!(
            tickets.insert(a.ticket.clone()),
            "ticket {} given twice",
            a.ticket
        );
        let r = http
            .get(format!("http://127.0.0.1:{port}/complaints/{}", a.ticket))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status().as_u16(), 200, "{} lost (seed {seed})", a.ticket);
        let v: Value = r.json().await.unwrap();
        assert_eq!(v["description"], a.description.as_str());
        if let Some(p) = &a.photo {
            let r = http
                .get(format!("http://127.0.0.1:{port}{p}"))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status().as_u16(), 200, "photo {p} of {} lost", a.ticket);
            let bytes = r.bytes().await.unwrap();
            assert!(p.ends_with(&common::sha256_hex(&bytes)));
        }
    }
    eprintln!(
        "{} acknowledged complaints ({} with photos) all survived two SIGKILLs (seed {seed})",
        acked.len(),
        acked.iter().filter(|a| a.photo.is_some()).count()
    );
    server.kill().unwrap();
    server.wait().unwrap();
}
