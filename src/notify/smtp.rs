//! Email to a reporter over SMTP, driven command by command so the caller can record the
//! message as sent at the last moment nothing can yet have been delivered.
//!
//! lettre's own `send` runs MAIL, RCPT, DATA and the message in one call; we use its
//! connection ([`AsyncSmtpConnection`]) step by step instead, because the point of no
//! return sits inside that call. A server takes a message only at the final
//! `<CRLF>.<CRLF>`; a connection closed before it cancels the transaction as a RSET
//! would (RFC 5321 §3.8), so the sequence is
//!
//! ```text
//! MAIL FROM → RCPT TO → DATA (354) → commit() → body + final dot → 250
//! ```
//!
//! and any failure before `commit` returned is [`SendError::NotSent`]. After a 354 the
//! server reads everything as message text — RSET and QUIT included — so a failed `commit`
//! abandons the transaction by closing the connection without the dot.
//!
//! The message is built 7-bit clean (lettre picks quoted-printable or base64 for the
//! Bengali body, encoded words for the subject and names), so no server needs 8BITMIME.
//! Connections are kept open between messages (up to [`MAX_IDLE`]) and checked with NOOP
//! before reuse when they sat idle a while; sends at the same time use a connection each
//! (64 status changes at once: 21 messages/s on one shared connection, see BENCHMARKS.md).
//!
//! URL forms (like lettre's `from_url`, but STARTTLS is the default, never optional):
//!
//! | URL | security | default port |
//! |---|---|---|
//! | `smtp://[user:pass@]host[:port][/ehlo-name]` | STARTTLS, required | 587 |
//! | `smtps://[user:pass@]host[:port][/ehlo-name]` | implicit TLS | 465 |
//! | `smtp://host[:port]?tls=none` | none: a relay on this machine only | 25 |
//!
//! Credentials are percent-decoded and sent (AUTH PLAIN or LOGIN) only over TLS. Without a
//! path the EHLO name is the sender address's domain.

use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use lettre::address::Address;
use lettre::message::header::{ContentType, HeaderName, HeaderValue};
use lettre::message::{Mailbox, Message, SinglePart};
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::{AsyncSmtpConnection, Certificate, TlsParameters};
use lettre::transport::smtp::commands::{Data, Mail, Rcpt, Rset};
use lettre::transport::smtp::extension::{ClientId, Extension, MailBodyParameter, MailParameter};
use tokio::sync::Mutex;
use tokio::time::timeout;

use super::message::{one_line, render};
use super::{ConfigError, Notice, Plain, SendError};

/// Where and how to send email.
#[derive(Debug, Clone)]
pub struct SmtpConfig {
    /// `smtp://…` (STARTTLS required), `smtps://…` (implicit TLS) or
    /// `smtp://host:port?tls=none` (a relay on this machine); see the module doc.
    pub url: String,
    /// The sender, e.g. `Heritage Atlas <noreply@kmc.example>`.
    pub from: String,
    /// A PEM file whose certificates are trusted as roots besides the usual public ones
    /// (a department relay with its own CA; tests with a self-signed one).
    pub ca_file: Option<PathBuf>,
    /// Longest wait for any one step: connecting (TLS and AUTH included), each command,
    /// the message and its answer.
    pub timeout: Duration,
}

/// Connections kept open for the next messages, at most.
pub const MAX_IDLE: usize = 8;
/// A connection idle longer than this is checked with NOOP before it is used again.
const FRESH: Duration = Duration::from_secs(10);

/// An email sender keeping reusable connections to the relay.
pub struct Smtp {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
    from: Mailbox,
    /// The sender's domain: the right-hand side of every Message-ID.
    from_domain: String,
    timeout: Duration,
    /// Connections left open by sends that ended in step with the server, with when.
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
}

impl std::fmt::Debug for Smtp {
    // By hand: the credentials stay out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let security = match self.security {
            Security::StartTls(_) => "starttls",
            Security::Implicit(_) => "implicit-tls",
            Security::Plain => "none",
        };
        f.debug_struct("Smtp")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("tls", &security)
            .field("auth", &self.credentials.is_some())
            .field("from", &self.from.to_string())
            .finish_non_exhaustive()
    }
}

enum Security {
    StartTls(TlsParameters),
    Implicit(TlsParameters),
    Plain,
}

/// Why a step before the point of no return failed.
enum Failure {
    /// The server answered no (4xx/5xx): the connection is still in step with it.
    Refused(lettre::transport::smtp::Error),
    /// No usable answer (network, timeout, garbage): the connection is done for.
    Broken(String),
}

impl Smtp {
    /// Checks the URL, the sender and the CA file, so a mistake stops the server at start.
    /// Connects to nothing yet.
    pub fn new(cfg: SmtpConfig) -> Result<Smtp, ConfigError> {
        let bad = |m: &str| ConfigError::SmtpUrl(m.to_string());
        let url = url::Url::parse(&cfg.url).map_err(|e| ConfigError::SmtpUrl(e.to_string()))?;
        let host = url
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("no host"))?;
        // `host_str` keeps an IPv6 address's brackets; connecting and TLS want it bare.
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_string();

        let mut tls_param = None;
        for (k, v) in url.query_pairs() {
            match (k.as_ref(), tls_param.is_none()) {
                ("tls", true) => tls_param = Some(v.into_owned()),
                _ => return Err(bad(&format!("unexpected query parameter {k:?}"))),
            }
        }

        let from = Mailbox::from_str(cfg.from.trim()).map_err(|e| ConfigError::Sender {
            from: cfg.from.clone(),
            reason: e.to_string(),
        })?;
        if !AsRef::<str>::as_ref(&from.email).is_ascii() {
            // The envelope sender of every message would need SMTPUTF8, which a relay may lack.
            return Err(ConfigError::Sender {
                from: cfg.from.clone(),
                reason: "the address must be ASCII".into(),
            });
        }
        let from_domain = from.email.domain().to_string();

        let mut roots = Vec::new();
        if let Some(path) = &cfg.ca_file {
            let ca_err = |reason: String| ConfigError::CaFile {
                path: path.display().to_string(),
                reason,
            };
            let pem = std::fs::read(path).map_err(|e| ca_err(e.to_string()))?;
            // lettre's parser accepts a file without a certificate as an empty list, which
            // would trust nothing extra and fail only at the first send.
            if !String::from_utf8_lossy(&pem).contains("-----BEGIN CERTIFICATE-----") {
                return Err(ca_err("no PEM certificate in it".into()));
            }
            roots.push(Certificate::from_pem(&pem).map_err(|e| ca_err(e.to_string()))?);
        }
        let tls = |host: &str| -> Result<TlsParameters, ConfigError> {
            let mut b = TlsParameters::builder(host.to_string());
            for c in &roots {
                b = b.add_root_certificate(c.clone());
            }
            b.build_rustls().map_err(|e| ConfigError::CaFile {
                path: cfg
                    .ca_file
                    .as_ref()
                    .map_or_else(|| "(none)".into(), |p| p.display().to_string()),
                reason: e.to_string(),
            })
        };

        let (security, default_port) = match (url.scheme(), tls_param.as_deref()) {
            ("smtp", None | Some("required")) => (Security::StartTls(tls(&host)?), 587),
            ("smtps", None) => (Security::Implicit(tls(&host)?), 465),
            ("smtp", Some("none")) => {
                if cfg.ca_file.is_some() {
                    return Err(bad("a CA file was given for a connection without TLS"));
                }
                tracing::warn!(
                    host,
                    "SMTP without TLS (?tls=none): use this only for a relay on this machine"
                );
                (Security::Plain, 25)
            }
            (scheme, tls) => {
                return Err(bad(&format!(
                    "scheme {scheme:?} with tls={tls:?}: expected smtp://, smtps:// or \
                     smtp://…?tls=none"
                )))
            }
        };

        let credentials = if url.username().is_empty() && url.password().is_none() {
            None
        } else {
            let decode = |s: &str| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8()
                    .map(|c| c.into_owned())
                    .map_err(|_| bad("user or password is not UTF-8 once percent-decoded"))
            };
            if matches!(security, Security::Plain) {
                return Err(bad("credentials are sent only over TLS, not with tls=none"));
            }
            Some(Credentials::new(
                decode(url.username())?,
                decode(url.password().unwrap_or_default())?,
            ))
        };

        let path = url.path().trim_matches('/');
        let hello = ClientId::Domain(if path.is_empty() {
            from_domain.clone()
        } else {
            path.to_string()
        });

        Ok(Smtp {
            host,
            port: url.port().unwrap_or(default_port),
            security,
            credentials,
            hello,
            from,
            from_domain,
            timeout: cfg.timeout,
            idle: Mutex::new(Vec::new()),
        })
    }

    /// Sends `n` to its reporter's email address, awaiting `commit` at the point of no
    /// return (after the server's 354 to DATA, before the message text). If `commit`
    /// fails, the transaction is abandoned and nothing is delivered.
    pub async fn send<F, Fut>(&self, n: &Notice, commit: F) -> Result<(), SendError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        self.transact(self.message(n)?, commit).await
    }

    /// Sends a message that is not about a complaint (a sign-in code, news of an
    /// application), with nothing to record at the point of no return.
    pub async fn send_plain(&self, p: &Plain) -> Result<(), SendError> {
        self.transact(self.plain(p)?, || async { Ok(()) }).await
    }

    /// The email for `p`.
    pub(crate) fn plain(&self, p: &Plain) -> Result<Message, SendError> {
        let email = p
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .ok_or_else(|| SendError::permanent(format!("{}: no email address", p.id)))?;
        let address = Address::from_str(email)
            .map_err(|e| SendError::permanent(format!("{}: bad email address: {e}", p.id)))?;
        let id: String =
            p.id.chars()
                .filter(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '.')
                .collect();
        Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(None, address))
            .subject(one_line(&p.subject))
            .message_id(Some(format!("<{id}@{}>", self.from_domain)))
            .raw_header(header("Content-Language", p.lang.as_str()))
            .raw_header(header("Auto-Submitted", "auto-generated"))
            .singlepart(
                SinglePart::builder()
                    .header(ContentType::TEXT_PLAIN)
                    .body(p.text.clone()),
            )
            .map_err(|e| SendError::permanent(format!("{}: building the email: {e}", p.id)))
    }

    /// One SMTP transaction for `message`, awaiting `commit` at the point of no return.
    async fn transact<F, Fut>(&self, message: Message, commit: F) -> Result<(), SendError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        let to = message
            .envelope()
            .to()
            .first()
            .cloned()
            .ok_or_else(|| SendError::permanent("no recipient"))?;
        let bytes = message.formatted();

        let idle = self.idle.lock().await.pop();
        let reused = idle.is_some();
        let mut conn = self.ready(idle).await?;

        let mut mail_params = Vec::new();
        if !AsRef::<str>::as_ref(&to).is_ascii() {
            // An internationalised address (RFC 6531): only a server that says SMTPUTF8
            // may be handed it, as lettre's own `send` does.
            if !conn.server_info().supports_feature(Extension::SmtpUtfEight) {
                self.keep(conn).await;
                return Err(SendError::permanent(format!(
                    "{to}: a non-ASCII address, and the server does not offer SMTPUTF8"
                )));
            }
            mail_params.push(MailParameter::SmtpUtfEight);
        }
        if !bytes.is_ascii() {
            // Not expected (the builder encodes to 7 bits), but then the body must be
            // declared or refused, not sent as if it were 7-bit.
            if !conn.server_info().supports_feature(Extension::EightBitMime) {
                self.keep(conn).await;
                return Err(SendError::permanent(
                    "the message is not 7-bit and the server does not offer 8BITMIME",
                ));
            }
            mail_params.push(MailParameter::Body(MailBodyParameter::EightBitMime));
        }

        let from = Some(self.from.email.clone());
        let steps: [(&str, String); 3] = [
            ("MAIL FROM", Mail::new(from, mail_params).to_string()),
            ("RCPT TO", Rcpt::new(to.clone(), vec![]).to_string()),
            ("DATA", Data.to_string()),
        ];
        for (what, command) in steps {
            let mut answer = self.step(conn.command(&command)).await;
            if what == "MAIL FROM" && reused && matches!(answer, Err(Failure::Broken(_))) {
                // A kept connection the server closed meanwhile (nothing was said on it
                // yet): a new one, once.
                conn = self.ready(None).await?;
                answer = self.step(conn.command(&command)).await;
            }
            match answer {
                Ok(_) => {}
                Err(Failure::Refused(e)) => {
                    // Still in step: clear the transaction and keep the connection.
                    if self.step(conn.command(Rset)).await.is_ok() {
                        self.keep(conn).await;
                    }
                    // A refused sender is our configuration, not this message: try later.
                    let permanent = e.is_permanent() && what != "MAIL FROM";
                    return Err(SendError::NotSent {
                        message: format!("{what} <{to}> refused: {e}"),
                        permanent,
                    });
                }
                Err(Failure::Broken(e)) => {
                    return Err(SendError::temporary(format!("{what} <{to}>: {e}")));
                }
            }
        }

        // The point of no return. Dropping `conn` closes it without the final dot.
        if let Err(e) = commit().await {
            return Err(SendError::temporary(format!(
                "not sent: recording the send failed: {e}"
            )));
        }

        match timeout(self.timeout, conn.message(&bytes)).await {
            Ok(Ok(_)) => {
                self.keep(conn).await;
                Ok(())
            }
            // A definite no to the final dot: the server did not take the message
            // (RFC 5321 §4.2.5), and the transaction is over with the connection in step.
            Ok(Err(e)) if e.status().is_some() => {
                self.keep(conn).await;
                Err(SendError::NotSent {
                    message: format!("message to <{to}> refused: {e}"),
                    permanent: e.is_permanent(),
                })
            }
            Ok(Err(e)) => Err(SendError::Uncertain(format!(
                "message to <{to}>, after the point of no return: {e}"
            ))),
            Err(_) => Err(SendError::Uncertain(format!(
                "message to <{to}>: no answer to its end within {:?}",
                self.timeout
            ))),
        }
    }

    /// The email for `n`, 7-bit clean, or why there can be none.
    pub(crate) fn message(&self, n: &Notice) -> Result<Message, SendError> {
        let email = n
            .email
            .as_deref()
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .ok_or_else(|| SendError::permanent(format!("{}: no email address", n.ticket)))?;
        let address = Address::from_str(email)
            .map_err(|e| SendError::permanent(format!("{}: bad email address: {e}", n.ticket)))?;
        let name = n
            .reporter_name
            .as_deref()
            .map(one_line)
            .filter(|s| !s.is_empty());
        let text = render(n);
        // Message-ID from the outbox row, so every attempt at one notice carries the same
        // id and a receiving system can fold a repeat into the first (RFC 5322 §3.6.4:
        // an id-left of letters, digits, dots and hyphens is a dot-atom).
        let ticket: String = n
            .ticket
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
            .collect();
        let id = format!("<notice-{}.{ticket}@{}>", n.delivery_id, self.from_domain);

        let mut b = Message::builder()
            .from(self.from.clone())
            .to(Mailbox::new(name, address))
            .subject(text.subject)
            .message_id(Some(id))
            .raw_header(header("Content-Language", n.lang.as_str()))
            // RFC 3834: an automatic message, so auto-responders stay quiet.
            .raw_header(header("Auto-Submitted", "auto-generated"));
        // RFC 2369 and RFC 8058 one-click: mail clients show an unsubscribe button that
        // POSTs to the link. A link that is not plain ASCII would be mangled into an
        // encoded word, so it is left to the body's last line.
        if n.optout_url.is_ascii() && !n.optout_url.contains(['<', '>', ' ', '\r', '\n']) {
            b = b
                .raw_header(header("List-Unsubscribe", &format!("<{}>", n.optout_url)))
                .raw_header(header(
                    "List-Unsubscribe-Post",
                    "List-Unsubscribe=One-Click",
                ));
        }
        b.singlepart(
            SinglePart::builder()
                .header(ContentType::TEXT_PLAIN)
                .body(text.text),
        )
        .map_err(|e| SendError::permanent(format!("{}: building the email: {e}", n.ticket)))
    }

    /// A connection in step with the server, for the next message.
    async fn keep(&self, conn: AsyncSmtpConnection) {
        let mut idle = self.idle.lock().await;
        if idle.len() < MAX_IDLE {
            idle.push((conn, Instant::now()));
        }
    }

    /// An idle connection if it is fresh or still answers NOOP, else a new one.
    async fn ready(
        &self,
        idle: Option<(AsyncSmtpConnection, Instant)>,
    ) -> Result<AsyncSmtpConnection, SendError> {
        if let Some((mut c, since)) = idle {
            // Servers close sessions left idle for minutes; NOOP finds out before MAIL does.
            if !c.has_broken()
                && (since.elapsed() < FRESH
                    || matches!(timeout(self.timeout, c.test_connected()).await, Ok(true)))
            {
                return Ok(c);
            }
        }
        self.connect().await.map_err(|e| {
            SendError::temporary(format!("connecting to {}:{}: {e}", self.host, self.port))
        })
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, String> {
        let work = async {
            let implicit = match &self.security {
                Security::Implicit(tls) => Some(tls.clone()),
                _ => None,
            };
            let mut c = AsyncSmtpConnection::connect_tokio1(
                (self.host.as_str(), self.port),
                Some(self.timeout),
                &self.hello,
                implicit,
                None,
            )
            .await
            .map_err(|e| e.to_string())?;
            if let Security::StartTls(tls) = &self.security {
                if !c.can_starttls() {
                    c.abort().await;
                    return Err(
                        "the server does not offer STARTTLS, which the URL requires \
                                (use ?tls=none only for a relay on this machine)"
                            .to_string(),
                    );
                }
                c.starttls(tls.clone(), &self.hello)
                    .await
                    .map_err(|e| format!("STARTTLS: {e}"))?;
            }
            if let Some(credentials) = &self.credentials {
                if let Err(e) = c
                    .auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                    .await
                {
                    c.abort().await;
                    return Err(format!("AUTH: {e}"));
                }
            }
            Ok(c)
        };
        timeout(self.timeout, work)
            .await
            .unwrap_or_else(|_| Err(format!("no session within {:?}", self.timeout)))
    }

    /// One command's answer within the timeout, sorted into refused and broken.
    async fn step<T>(
        &self,
        fut: impl std::future::Future<Output = Result<T, lettre::transport::smtp::Error>>,
    ) -> Result<T, Failure> {
        match timeout(self.timeout, fut).await {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(e)) if e.status().is_some() => Err(Failure::Refused(e)),
            Ok(Err(e)) => Err(Failure::Broken(e.to_string())),
            Err(_) => Err(Failure::Broken(format!(
                "no answer within {:?}",
                self.timeout
            ))),
        }
    }
}

fn header(name: &'static str, value: &str) -> HeaderValue {
    HeaderValue::new(HeaderName::new_from_ascii_str(name), value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::notify::tests::notice;
    use crate::notify::Lang;

    fn cfg(url: &str) -> SmtpConfig {
        SmtpConfig {
            url: url.into(),
            from: "Heritage Atlas <noreply@kmc.example>".into(),
            ca_file: None,
            timeout: Duration::from_secs(5),
        }
    }

    #[test]
    fn urls_choose_security_and_port() {
        let s = Smtp::new(cfg("smtp://mail.kmc.example")).expect("starttls");
        assert!(matches!(s.security, Security::StartTls(_)));
        assert_eq!((s.host.as_str(), s.port), ("mail.kmc.example", 587));
        assert_eq!(s.hello, ClientId::Domain("kmc.example".into()));

        let s = Smtp::new(cfg(
            "smtps://u%40kmc:p%2Fw%20d@mail.kmc.example/atlas.kmc.example",
        ))
        .expect("smtps");
        assert!(matches!(s.security, Security::Implicit(_)));
        assert_eq!(s.port, 465);
        assert_eq!(s.hello, ClientId::Domain("atlas.kmc.example".into()));
        assert!(!format!("{s:?}").contains("p/w d"), "the password in {s:?}");
        assert_eq!(
            s.credentials,
            Some(Credentials::new("u@kmc".into(), "p/w d".into()))
        );

        let s = Smtp::new(cfg("smtp://127.0.0.1:2525?tls=none")).expect("plain");
        assert!(matches!(s.security, Security::Plain));
        assert_eq!(s.port, 2525);

        let s = Smtp::new(cfg("smtp://[::1]:2525?tls=required")).expect("ipv6");
        assert_eq!(s.host, "::1");
    }

    #[test]
    fn bad_settings_stop_the_start() {
        for url in [
            "http://mail.kmc.example",
            "smtp://",
            "mail.kmc.example:25",
            "smtp://mail.kmc.example?tls=opportunistic",
            "smtps://mail.kmc.example?tls=none",
            "smtp://mail.kmc.example?tls=none&tls=none",
            "smtp://mail.kmc.example?port=25",
            // Passwords never travel in the clear.
            "smtp://u:p@127.0.0.1:25?tls=none",
        ] {
            assert!(
                matches!(Smtp::new(cfg(url)), Err(ConfigError::SmtpUrl(_))),
                "{url}"
            );
        }
        for from in ["", "noreply", "Atlas <noreply@>", "<নোটিস@kmc.example>"] {
            let mut c = cfg("smtp://mail.kmc.example");
            c.from = from.into();
            assert!(
                matches!(Smtp::new(c), Err(ConfigError::Sender { .. })),
                "{from:?}"
            );
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let empty = dir.path().join("empty.pem");
        std::fs::write(&empty, "not a certificate").expect("write");
        for path in [empty, dir.path().join("missing.pem")] {
            let mut c = cfg("smtp://mail.kmc.example");
            c.ca_file = Some(path);
            assert!(matches!(Smtp::new(c), Err(ConfigError::CaFile { .. })));
        }
    }

    #[test]
    fn the_email_is_7bit_with_stable_id_and_list_headers() {
        let s = Smtp::new(cfg("smtp://mail.kmc.example")).expect("smtp");
        let n = notice(Action::Resolve, Lang::Bn);
        let m = s.message(&n).expect("message");
        let raw = m.formatted();
        assert!(raw.is_ascii(), "8BITMIME would be needed");
        let text = String::from_utf8_lossy(&raw);
        for want in [
            "Message-ID: <notice-42.EH-2026-000123@kmc.example>",
            "From: \"Heritage Atlas\" <noreply@kmc.example>",
            "Content-Language: bn",
            "Auto-Submitted: auto-generated",
            "List-Unsubscribe: <https://atlas.example/notify/stop?t=abc123>",
            "List-Unsubscribe-Post: List-Unsubscribe=One-Click",
            "Content-Type: text/plain; charset=utf-8",
        ] {
            assert!(text.contains(want), "{want} missing from\n{text}");
        }
        assert!(text.contains("Subject: =?utf-8?"), "{text}");
        assert!(text.contains("<anita@example.org>"), "{text}");
        // Every attempt at the same notice carries the same id.
        let again = String::from_utf8_lossy(&s.message(&n).expect("again").formatted())
            .lines()
            .find(|l| l.starts_with("Message-ID:"))
            .map(str::to_string);
        assert_eq!(
            again.as_deref(),
            Some("Message-ID: <notice-42.EH-2026-000123@kmc.example>")
        );
    }

    #[test]
    fn no_usable_address_is_a_permanent_no() {
        let s = Smtp::new(cfg("smtp://mail.kmc.example")).expect("smtp");
        for email in [None, Some(""), Some("not an address"), Some("a@")] {
            let mut n = notice(Action::Start, Lang::En);
            n.email = email.map(str::to_string);
            assert!(
                matches!(
                    s.message(&n),
                    Err(SendError::NotSent {
                        permanent: true,
                        ..
                    })
                ),
                "{email:?}"
            );
        }
    }
}
