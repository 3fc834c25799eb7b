//! `notify::Smtp` against a real SMTP server: aiosmtpd (`tests/fixtures/smtp_sink.py`)
//! without TLS, with STARTTLS required and with implicit TLS, trusting a CA made by
//! `openssl` for the test; AUTH; refusals; connection reuse; and the point of no return —
//! a failed commit leaves the server with nothing.
//!
//! Python's aiosmtpd and openssl are installed by `scripts/install-deps.sh`. Without them
//! these tests say so and pass, unless `HERITAGE_ATLAS_REQUIRE_TOOLS=1` (as `.ci/run`
//! sets), when they fail.

use crate::common;

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use heritage_atlas::model::{Action, Category, Status};
use heritage_atlas::notify::{render, Lang, Notice, SendError, Smtp, SmtpConfig};

/// Whether a shell check passes; without it a test returns early, loudly, unless tools
/// are required.
fn have(what: &str, check: &str) -> bool {
    let found = Command::new("sh")
        .args(["-c", check])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if !found {
        assert!(
            std::env::var_os("HERITAGE_ATLAS_REQUIRE_TOOLS").is_none(),
            "{what} is not installed: run scripts/install-deps.sh"
        );
        eprintln!("SKIPPED: {what} is not installed (scripts/install-deps.sh installs it)");
    }
    found
}

fn have_sink() -> bool {
    have("python3 with aiosmtpd", "python3 -c 'import aiosmtpd'")
}

/// The running sink; killed (by its own handle) when dropped.
struct Sink {
    child: Child,
    port: u16,
    lines: Arc<Mutex<Vec<String>>>,
}

impl Sink {
    fn start(args: &[&str]) -> Sink {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg("-u")
            .arg(script)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start python3");
        let mut out = BufReader::new(child.stdout.take().expect("stdout"));
        let mut first = String::new();
        out.read_line(&mut first)
            .expect("read the sink's first line");
        let port = first
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("the sink said {first:?}"));
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink_lines = Arc::clone(&lines);
        std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                sink_lines.lock().expect("lines").push(line);
            }
        });
        Sink { child, port, lines }
    }

    fn text(&self) -> String {
        self.lines.lock().expect("lines").join("\n")
    }

    fn count(&self, prefix: &str) -> usize {
        let lines = self.lines.lock().expect("lines");
        lines.iter().filter(|l| l.starts_with(prefix)).count()
    }

    /// Waits until the sink has printed `n` messages; the answer to the final dot comes
    /// back before the sink's print is read, so a test waits a little.
    async fn wait_messages(&self, n: usize) {
        for _ in 0..100 {
            if self.count("END MESSAGE") >= n {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the sink has not printed {n} messages:\n{}", self.text());
    }
}

impl Drop for Sink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A CA and a certificate for 127.0.0.1 signed by it, made with the openssl CLI.
struct Certs {
    _dir: tempfile::TempDir,
    ca: std::path::PathBuf,
    cert: String,
    key: String,
}

fn certs() -> Option<Certs> {
    if !have("openssl", "openssl version") {
        return None;
    }
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    std::fs::write(
        d.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n",
    )
    .expect("write ext");
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
    ];
    let steps: [Vec<&str>; 3] = [
        [
            &["req", "-x509"][..],
            &ec[..],
            &[
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
                "-days",
                "2",
                "-subj",
                "/CN=Heritage Atlas test CA",
                "-addext",
                "basicConstraints=critical,CA:TRUE",
                "-addext",
                "keyUsage=critical,keyCertSign",
            ],
        ]
        .concat(),
        [
            &["req"][..],
            &ec[..],
            &[
                "-keyout",
                "leaf.key",
                "-out",
                "leaf.csr",
                "-subj",
                "/CN=127.0.0.1",
            ],
        ]
        .concat(),
        vec![
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    ];
    for args in steps {
        let out = Command::new("openssl")
            .args(&args)
            .current_dir(d)
            .output()
            .expect("run openssl");
        assert!(
            out.status.success(),
            "openssl {args:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Some(Certs {
        ca: d.join("ca.pem"),
        cert: d.join("leaf.pem").display().to_string(),
        key: d.join("leaf.key").display().to_string(),
        _dir: dir,
    })
}

fn notice(delivery_id: i64, email: &str, lang: Lang) -> Notice {
    Notice {
        delivery_id,
        ticket: "EH-2026-000123".into(),
        category: Category::HeritageDamage,
        action: Action::Resolve,
        status: Status::Resolved,
        note: Some("The railing was repaired and repainted.".into()),
        duplicate_of: None,
        at: "2026-01-15T10:30:00Z".into(),
        lang,
        reporter_name: Some("অনিতা সেন".into()),
        email: Some(email.into()),
        phone: None,
        ticket_url: "https://atlas.example/#/track/EH-2026-000123".into(),
        optout_url: "https://atlas.example/notify/stop?t=abc123".into(),
    }
}

fn smtp(url: String, ca_file: Option<&Path>) -> Smtp {
    Smtp::new(SmtpConfig {
        url,
        from: "Heritage Atlas <noreply@kmc.example>".into(),
        ca_file: ca_file.map(Path::to_path_buf),
        timeout: Duration::from_secs(10),
    })
    .expect("smtp config")
}

/// A commit callback that counts its calls and answers `ok`.
fn commit(
    calls: &Arc<Mutex<u32>>,
    ok: bool,
) -> impl FnOnce() -> std::future::Ready<Result<(), String>> {
    let calls = Arc::clone(calls);
    move || {
        *calls.lock().expect("calls") += 1;
        std::future::ready(if ok { Ok(()) } else { Err("disk full".into()) })
    }
}

#[tokio::test]
async fn plain_relay_delivers_once_and_reuses_the_connection() {
    if !have_sink() {
        return;
    }
    let sink = Sink::start(&[]);
    let s = smtp(format!("smtp://127.0.0.1:{}?tls=none", sink.port), None);
    let calls = Arc::new(Mutex::new(0));

    s.send(
        &notice(41, "anita@example.org", Lang::Bn),
        commit(&calls, true),
    )
    .await
    .expect("first");
    s.send(
        &notice(42, "anita@example.org", Lang::En),
        commit(&calls, true),
    )
    .await
    .expect("second");
    sink.wait_messages(2).await;
    assert_eq!(*calls.lock().expect("calls"), 2);

    let text = sink.text();
    assert!(
        text.contains("Message-ID: <notice-41.EH-2026-000123@kmc.example>"),
        "{text}"
    );
    assert!(
        text.contains("Message-ID: <notice-42.EH-2026-000123@kmc.example>"),
        "{text}"
    );
    assert!(text.contains("MESSAGE tls=no auth=-"), "{text}");
    assert!(text.contains("Content-Language: bn"), "{text}");
    assert!(
        text.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
        "{text}"
    );
    assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
    assert_eq!(sink.count("SESSION"), 1, "one connection for both:\n{text}");
    // The Bengali arrived 7-bit (no 8BITMIME asked for), its body in base64 that decodes
    // to the rendered text.
    assert!(text.is_ascii(), "{text}");
    let first = text
        .split("END MESSAGE")
        .next()
        .and_then(|m| m.split_once("\n\n"))
        .map(|(headers, body)| (headers.to_string(), body.to_string()))
        .expect("a message with headers and body");
    assert!(
        first.0.contains("Content-Transfer-Encoding: base64"),
        "{}",
        first.0
    );
    let body = base64::engine::general_purpose::STANDARD
        .decode(first.1.split_whitespace().collect::<String>())
        .expect("base64 body");
    let body = String::from_utf8(body)
        .expect("UTF-8 body")
        .replace("\r\n", "\n");
    let rendered = render(&notice(41, "anita@example.org", Lang::Bn));
    assert_eq!(body, rendered.text);
}

#[tokio::test]
async fn a_failed_commit_leaves_the_server_with_nothing() {
    if !have_sink() {
        return;
    }
    let sink = Sink::start(&[]);
    let s = smtp(format!("smtp://127.0.0.1:{}?tls=none", sink.port), None);
    let calls = Arc::new(Mutex::new(0));

    let err = s
        .send(
            &notice(7, "anita@example.org", Lang::En),
            commit(&calls, false),
        )
        .await
        .expect_err("the commit failed");
    assert!(
        matches!(
            err,
            SendError::NotSent {
                permanent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(*calls.lock().expect("calls"), 1);

    // The next notice goes through on a new connection, and only it arrives.
    s.send(
        &notice(8, "anita@example.org", Lang::En),
        commit(&calls, true),
    )
    .await
    .expect("after a failed commit");
    sink.wait_messages(1).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let text = sink.text();
    assert_eq!(sink.count("END MESSAGE"), 1, "{text}");
    assert!(text.contains("<notice-8."), "{text}");
    assert!(!text.contains("<notice-7."), "{text}");
    assert_eq!(sink.count("SESSION"), 2, "{text}");
}

#[tokio::test]
async fn refused_recipients_are_not_sent_and_not_committed() {
    if !have_sink() {
        return;
    }
    let sink = Sink::start(&[]);
    let s = smtp(format!("smtp://127.0.0.1:{}?tls=none", sink.port), None);
    let calls = Arc::new(Mutex::new(0));

    let err = s
        .send(
            &notice(1, "nobody@example.org", Lang::En),
            commit(&calls, true),
        )
        .await
        .expect_err("550");
    assert!(
        matches!(
            err,
            SendError::NotSent {
                permanent: true,
                ..
            }
        ),
        "{err:?}"
    );
    let err = s
        .send(
            &notice(2, "busy@example.org", Lang::En),
            commit(&calls, true),
        )
        .await
        .expect_err("451");
    assert!(
        matches!(
            err,
            SendError::NotSent {
                permanent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        *calls.lock().expect("calls"),
        0,
        "no commit before a refusal"
    );

    // RSET put the connection back in step: the next message uses it.
    s.send(
        &notice(3, "anita@example.org", Lang::En),
        commit(&calls, true),
    )
    .await
    .expect("after refusals");
    sink.wait_messages(1).await;
    assert_eq!(sink.count("SESSION"), 1, "{}", sink.text());
}

#[tokio::test]
async fn starttls_is_required_and_verified() {
    if !have_sink() {
        return;
    }
    let Some(certs) = certs() else { return };
    let sink = Sink::start(&[
        "--mode",
        "starttls",
        "--cert",
        &certs.cert,
        "--key",
        &certs.key,
        "--auth",
        "atlas@kmc:pa ss/wörd",
    ]);
    let calls = Arc::new(Mutex::new(0));
    let url = format!(
        "smtp://atlas%40kmc:pa%20ss%2Fw%C3%B6rd@127.0.0.1:{}",
        sink.port
    );

    // Without the test CA the certificate is unknown: nothing is sent, nothing committed.
    let err = smtp(url.clone(), None)
        .send(
            &notice(1, "anita@example.org", Lang::En),
            commit(&calls, true),
        )
        .await
        .expect_err("untrusted certificate");
    assert!(
        matches!(
            err,
            SendError::NotSent {
                permanent: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert_eq!(*calls.lock().expect("calls"), 0);

    smtp(url, Some(&certs.ca))
        .send(
            &notice(2, "anita@example.org", Lang::Bn),
            commit(&calls, true),
        )
        .await
        .expect("over STARTTLS with AUTH");
    sink.wait_messages(1).await;
    let text = sink.text();
    assert!(text.contains("MESSAGE tls=yes auth=atlas@kmc"), "{text}");
    assert!(
        text.contains("<notice-2.EH-2026-000123@kmc.example>"),
        "{text}"
    );
}

#[tokio::test]
async fn a_server_without_starttls_is_refused_unless_plain_is_asked_for() {
    if !have_sink() {
        return;
    }
    let sink = Sink::start(&[]);
    let calls = Arc::new(Mutex::new(0));
    let err = smtp(format!("smtp://127.0.0.1:{}", sink.port), None)
        .send(
            &notice(1, "anita@example.org", Lang::En),
            commit(&calls, true),
        )
        .await
        .expect_err("no STARTTLS");
    assert!(
        matches!(&err, SendError::NotSent { permanent: false, message } if message.contains("STARTTLS")),
        "{err:?}"
    );
    assert_eq!(*calls.lock().expect("calls"), 0);
}

#[tokio::test]
async fn implicit_tls_delivers() {
    if !have_sink() {
        return;
    }
    let Some(certs) = certs() else { return };
    let sink = Sink::start(&[
        "--mode",
        "smtps",
        "--cert",
        &certs.cert,
        "--key",
        &certs.key,
    ]);
    let calls = Arc::new(Mutex::new(0));
    smtp(format!("smtps://127.0.0.1:{}", sink.port), Some(&certs.ca))
        .send(
            &notice(5, "anita@example.org", Lang::En),
            commit(&calls, true),
        )
        .await
        .expect("over implicit TLS");
    sink.wait_messages(1).await;
    let text = sink.text();
    assert!(text.contains("MESSAGE tls=yes auth=-"), "{text}");
    assert!(
        text.contains("Subject: Complaint EH-2026-000123: resolved"),
        "{text}"
    );
}

#[tokio::test]
async fn a_connection_the_server_closed_while_idle_is_replaced() {
    if !have_sink() {
        return;
    }
    let sink = Sink::start(&["--idle", "0.5"]);
    let s = smtp(format!("smtp://127.0.0.1:{}?tls=none", sink.port), None);
    let calls = Arc::new(Mutex::new(0));
    s.send(
        &notice(1, "anita@example.org", Lang::En),
        commit(&calls, true),
    )
    .await
    .expect("first");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    s.send(
        &notice(2, "anita@example.org", Lang::En),
        commit(&calls, true),
    )
    .await
    .expect("after the server hung up");
    sink.wait_messages(2).await;
    assert_eq!(sink.count("SESSION"), 2, "{}", sink.text());
    assert!(format!("{s:?}").contains("127.0.0.1"));
}

/// An applicant's one-time code reaches their email through this notifier, and signs
/// them in (issue 17): the whole way, over HTTP, against the sink.
#[tokio::test]
async fn an_applicants_code_arrives_by_email_and_signs_them_in() {
    if !have_sink() {
        return;
    }
    let sink = Sink::start(&[]);
    let dir = tempfile::tempdir().expect("tempdir");
    let srv = common::TestServer::start(&dir.path().join("a.db"), true).await;
    srv.atlas
        .set_senders(heritage_atlas::atlas::applications::Senders {
            notifiers: heritage_atlas::atlas::notify::Notifiers {
                email: Some(Arc::new(smtp(
                    format!("smtp://127.0.0.1:{}?tls=none", sink.port),
                    None,
                ))),
                webhook: None,
            },
            codes_to_log: false,
        });
    let (s, v) = common::post(
        &srv,
        "/applicants/code",
        None,
        &serde_json::json!({"contact": "Ria.Sen@Example.org"}),
    )
    .await;
    assert_eq!(s, 202, "{v}");
    assert_eq!(v["sent_to"], "r***@example.org");
    sink.wait_messages(1).await;
    let text = sink.text();
    assert!(text.contains("Auto-Submitted: auto-generated"), "{text}");
    let code: String = text
        .lines()
        .find_map(|l| l.strip_prefix("Subject: Your code "))
        .unwrap_or_else(|| panic!("a subject with the code:\n{text}"))
        .trim()
        .to_string();
    assert_eq!(code.len(), 6, "{code:?}");
    // A phone number has no notifier here: said plainly, nothing stored.
    let (s, v) = common::post(
        &srv,
        "/applicants/code",
        None,
        &serde_json::json!({"contact": "9830012345"}),
    )
    .await;
    assert_eq!(s, 503, "{v}");
    // Asked again at once: wait.
    let (s, _) = common::post(
        &srv,
        "/applicants/code",
        None,
        &serde_json::json!({"contact": "ria.sen@example.org"}),
    )
    .await;
    assert_eq!(s, 429);
    let (s, v) = common::post(
        &srv,
        "/applicants/session",
        None,
        &serde_json::json!({"contact": "ria.sen@example.org", "code": code}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    let token = v["token"].as_str().expect("token").to_string();
    let (s, v) = common::get_as(&srv, Some(&token), "/applications/mine").await;
    assert_eq!(
        (s, v["contact"].as_str()),
        (200, Some("ria.sen@example.org"))
    );
    srv.stop().await;
}
