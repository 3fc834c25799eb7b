//! A complaint acknowledged is a complaint kept: many clients file complaints (some with
//! photos) against the real binary, which is killed with SIGKILL at a moment drawn from a
//! seeded RNG; after each restart every ticket that was answered is there, with its text
//! and photos.
//!
//! The seed is printed; `DURABILITY_SEED=N cargo test --test suite durability::` replays a run's
//! kill moments, or tries others.

use crate::common;

use std::process::{Child, Stdio};
use std::sync::Arc;
use std::time::Duration;

use rand::{Rng, SeedableRng};
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};

/// The default seed: fixed, so a run is repeatable as far as a kill moment can be.
const SEED: u64 = 0x5EED_D00A;

/// SIGKILLs per run, each followed by a restart and a check.
const ROUNDS: u64 = 2;

/// `DURABILITY_SEED` if set, else [`SEED`].
fn seed() -> u64 {
    match std::env::var("DURABILITY_SEED") {
        Ok(v) => v
            .trim()
            .parse()
            .unwrap_or_else(|_| panic!("DURABILITY_SEED={v:?} is not an unsigned integer")),
        Err(_) => SEED,
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The server process, SIGKILLed and reaped when dropped (so a failed assertion leaves
/// no server behind).
struct Server(Child);

impl Server {
    fn kill(&mut self) {
        let _ = self.0.kill(); // SIGKILL
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

async fn start(db: &std::path::Path, port: u16) -> Server {
    let child = Server(
        common::bin()
            .args(["--db", common::db_arg(db).as_str(), "serve", "--bind"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["--complaints-per-minute", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start server"),
    );
    let health = format!("http://127.0.0.1:{port}/health");
    let health = &health;
    common::eventually(
        "the server to come up",
        Duration::from_secs(60),
        || async move {
            let r = reqwest::get(health).await.ok()?;
            r.status().is_success().then_some(())
        },
    )
    .await;
    child
}

#[derive(Debug, Clone)]
struct Acked {
    /// The round in which the server answered 201.
    round: u64,
    ticket: String,
    description: String,
    photo: Option<String>,
}

/// Starts 16 clients filing complaints until the server stops answering or `stop` is
/// set; each returns what was acknowledged to it.
fn file_until_killed(
    round: u64,
    port: u16,
    stop: Arc<std::sync::atomic::AtomicBool>,
) -> Vec<tokio::task::JoinHandle<Vec<Acked>>> {
    (0..16u64)
        .map(|c| {
            let stop = stop.clone();
            tokio::spawn(async move {
                let mut acked = Vec::new();
                let http = reqwest::Client::new();
                let url = format!("http://127.0.0.1:{port}/complaints");
                let mut i = 0u64;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    i += 1;
                    let n = round * 1_000_000 + c * 10_000 + i;
                    let description = format!("round {round} client {c} complaint {i}");
                    let lon = 88.30 + (n % 97) as f64 * 0.001;
                    let lat = 22.50 + (n % 89) as f64 * 0.001;
                    let req = if i.is_multiple_of(4) {
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
                    acked.push(Acked {
                        round,
                        ticket: v["ticket"].as_str().unwrap().to_string(),
                        description,
                        photo: v["photos"][0].as_str().map(str::to_string),
                    });
                }
                acked
            })
        })
        .collect()
}

/// Checks, on the restarted server, every complaint acknowledged so far; `after` names
/// the kill it has just survived.
async fn check_survivors(port: u16, acked: &[Acked], after: &str) {
    let http = reqwest::Client::new();
    for a in acked {
        let round = a.round;
        let r = http
            .get(format!("http://127.0.0.1:{port}/complaints/{}", a.ticket))
            .send()
            .await
            .unwrap();
        assert_eq!(
            r.status().as_u16(),
            200,
            "{after}: {} (acknowledged in round {round}) is lost",
            a.ticket
        );
        let v: Value = r.json().await.unwrap();
        assert_eq!(
            v["description"],
            a.description.as_str(),
            "{after}: {} (acknowledged in round {round}) changed",
            a.ticket
        );
        if let Some(p) = &a.photo {
            let r = http
                .get(format!("http://127.0.0.1:{port}{p}"))
                .send()
                .await
                .unwrap();
            assert_eq!(
                r.status().as_u16(),
                200,
                "{after}: photo {p} of {} (acknowledged in round {round}) is lost",
                a.ticket
            );
            let bytes = r.bytes().await.unwrap();
            assert!(
                p.ends_with(&common::sha256_hex(&bytes)),
                "{after}: photo {p} of {} (acknowledged in round {round}) has other bytes",
                a.ticket
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_complaint_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("durable.db");
    let port = free_port();
    let seed = seed();
    eprintln!("durability: seed {seed} (DURABILITY_SEED={seed} to replay)");
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(seed);
    let mut acked: Vec<Acked> = Vec::new();
    let mut tickets = std::collections::HashSet::new();

    let mut server = start(&db, port).await;
    for round in 0..ROUNDS {
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let clients = file_until_killed(round, port, stop.clone());
        let wait = rng.random_range(300..1500);
        tokio::time::sleep(Duration::from_millis(wait)).await;
        server.kill();
        stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let before = acked.len();
        for c in clients {
            acked.extend(c.await.unwrap());
        }
        let this_round = &acked[before..];
        let after = format!("round {round}, after the SIGKILL at {wait} ms (seed {seed})");
        assert!(
            !this_round.is_empty(),
            "{after}: nothing was acknowledged before the kill"
        );
        for a in this_round {
            assert!(
                tickets.insert(a.ticket.clone()),
                "{after}: ticket {} was given twice",
                a.ticket
            );
        }
        // Restarted on the same file: this round's complaints and every earlier one.
        server = start(&db, port).await;
        check_survivors(port, &acked, &after).await;
        eprintln!(
            "{after}: {} acknowledged ({} with photos), all there after the restart",
            this_round.len(),
            this_round.iter().filter(|a| a.photo.is_some()).count()
        );
    }
}
