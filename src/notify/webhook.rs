//! A notice as a signed HTTP POST, for a gateway that passes it on as an SMS or a chat
//! message (the body carries the rendered text, ready to send).
//!
//! Signed per Standard Webhooks (<https://www.standardwebhooks.com/>): `webhook-id`,
//! `webhook-timestamp` and `webhook-signature: v1,<base64 HMAC-SHA256 of
//! "{id}.{timestamp}.{body}">`, so a receiver can use that project's libraries to verify
//! us. The id is `ntf_{delivery_id}`, the same on every attempt, so a receiver can drop a
//! repeat; the timestamp is the attempt's, so a captured request goes stale.
//!
//! The secret is given as `whsec_<base64>` (the standard's form: the key is the decoded
//! bytes) or as plain text, whose UTF-8 bytes are the key. A receiver using a Standard
//! Webhooks library with a plain-text secret must be given `whsec_` + base64 of it.
//!
//! `commit` is awaited just before the request goes out. After that, only a definite
//! answer tells us the receiver did not take the notice: a status other than 2xx
//! ([`SendError::NotSent`]), or a connection that never opened; a timeout or a dropped
//! connection once the request was written is [`SendError::Uncertain`].

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use reqwest::header::{HeaderValue, CONTENT_TYPE};
use reqwest::{StatusCode, Url};
use serde_json::json;
use sha2::Sha256;

use super::message::render;
use super::{ConfigError, Notice, Plain, SendError};

/// Shortest key accepted, in bytes: HMAC with a shorter one is guessable offline from one
/// captured request (the standard's own secrets are 24 to 64 bytes).
pub const MIN_KEY_BYTES: usize = 16;

/// The `type` of every event we send.
pub const EVENT_TYPE: &str = "complaint.updated";

/// A webhook sender: one URL, one key, one HTTP client (which keeps connections open).
pub struct Webhook {
    url: Url,
    key: Vec<u8>,
    client: reqwest::Client,
}

impl std::fmt::Debug for Webhook {
    // By hand: the key stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.url.as_str())
            .finish_non_exhaustive()
    }
}

impl Webhook {
    /// Checks the URL (http or https) and the secret (see the module doc). The client
    /// follows no redirects: a signed notice goes where it was configured to, or not at all.
    pub fn new(url: &str, secret: &str, timeout: Duration) -> Result<Webhook, ConfigError> {
        let url = Url::parse(url).map_err(|e| ConfigError::WebhookUrl(e.to_string()))?;
        if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none_or(str::is_empty) {
            return Err(ConfigError::WebhookUrl(format!(
                "{url}: expected an http:// or https:// URL with a host"
            )));
        }
        let key = key_from_secret(secret)?;
        let client = reqwest::Client::builder()
            .use_rustls_tls()
            .timeout(timeout)
            .connect_timeout(timeout)
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("heritage-atlas/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| ConfigError::HttpClient(e.to_string()))?;
        Ok(Webhook { url, key, client })
    }

    /// Posts `n`, awaiting `commit` just before the request is sent. If `commit` fails,
    /// nothing is sent.
    pub async fn send<F, Fut>(&self, n: &Notice, commit: F) -> Result<(), SendError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        let body = payload(n).to_string().into_bytes();
        self.post(format!("ntf_{}", n.delivery_id), body, &n.ticket, commit)
            .await
    }

    /// Posts a message that is not about a complaint: `{type: p.event, timestamp, data:
    /// p.data + {language, contact: {email, phone}, subject, text}}`.
    pub async fn send_plain(&self, p: &Plain) -> Result<(), SendError> {
        let mut data = p.data.clone();
        if !data.is_object() {
            data = json!({});
        }
        data["language"] = json!(p.lang);
        data["contact"] = json!({"email": p.email, "phone": p.phone});
        data["subject"] = json!(p.subject);
        data["text"] = json!(p.text);
        let at = time::OffsetDateTime::now_utc()
            .format(&time::format_description::well_known::Rfc3339)
            .unwrap_or_default();
        let body = json!({"type": p.event, "timestamp": at, "data": data})
            .to_string()
            .into_bytes();
        self.post(p.id.clone(), body, &p.id, || async { Ok(()) })
            .await
    }

    async fn post<F, Fut>(
        &self,
        id: String,
        body: Vec<u8>,
        what: &str,
        commit: F,
    ) -> Result<(), SendError>
    where
        F: FnOnce() -> Fut,
        Fut: std::future::Future<Output = Result<(), String>>,
    {
        commit().await.map_err(|e| {
            SendError::temporary(format!("not sent: recording the send failed: {e}"))
        })?;

        // Signed after `commit`, which may take a while, so the timestamp is the sending's.
        let ts = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        let signature = sign(&self.key, &id, ts, &body);
        let result = self
            .client
            .post(self.url.clone())
            .header(CONTENT_TYPE, HeaderValue::from_static("application/json"))
            .header("webhook-id", id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", signature)
            .body(body)
            .send()
            .await;
        match result {
            Ok(response) if response.status().is_success() => Ok(()),
            Ok(response) => {
                let status = response.status();
                Err(SendError::NotSent {
                    message: format!("{what}: answered {status}"),
                    permanent: refusal_is_permanent(status),
                })
            }
            // The connection never opened (refused, DNS, TLS handshake): nothing was sent.
            Err(e) if e.is_connect() => {
                Err(SendError::temporary(format!("{what}: {}", describe(&e))))
            }
            Err(e) => Err(SendError::Uncertain(format!(
                "{what}: after the request was sent: {}",
                describe(&e)
            ))),
        }
    }
}

/// Whether trying again cannot help: the receiver said the endpoint is gone (410) or the
/// request itself is wrong (4xx), except for "too slow" (408) and "too many" (429).
fn refusal_is_permanent(status: StatusCode) -> bool {
    status == StatusCode::GONE
        || (status.is_client_error()
            && status != StatusCode::REQUEST_TIMEOUT
            && status != StatusCode::TOO_MANY_REQUESTS)
}

/// reqwest's error with its causes, which say what actually went wrong.
fn describe(e: &reqwest::Error) -> String {
    let mut s = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        s += &format!(": {cause}");
        source = cause.source();
    }
    s
}

/// The HMAC key a secret stands for: the base64 after `whsec_`, or the text's own bytes.
pub fn key_from_secret(secret: &str) -> Result<Vec<u8>, ConfigError> {
    let key = match secret.strip_prefix("whsec_") {
        Some(b64) => BASE64
            .decode(b64.trim())
            .map_err(|e| ConfigError::WebhookSecret(format!("whsec_ then not base64: {e}")))?,
        None => secret.as_bytes().to_vec(),
    };
    if key.len() < MIN_KEY_BYTES {
        return Err(ConfigError::WebhookSecret(format!(
            "the key is {} bytes; at least {MIN_KEY_BYTES} are needed",
            key.len()
        )));
    }
    Ok(key)
}

/// The `webhook-signature` value: `v1,` and the base64 HMAC-SHA256 of `{id}.{ts}.{body}`.
pub fn sign(key: &[u8], id: &str, ts: i64, body: &[u8]) -> String {
    // HMAC takes a key of any length, so this cannot fail.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC accepts any key length");
    mac.update(id.as_bytes());
    mac.update(b".");
    mac.update(ts.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    format!("v1,{}", BASE64.encode(mac.finalize().into_bytes()))
}

/// The JSON body for `n`: the step, the reporter's contacts, and the message already
/// rendered in the reporter's language.
pub fn payload(n: &Notice) -> serde_json::Value {
    let text = render(n);
    json!({
        "type": EVENT_TYPE,
        "timestamp": n.at,
        "data": {
            "delivery_id": n.delivery_id,
            "ticket": n.ticket,
            "url": n.ticket_url,
            "category": n.category,
            "action": n.action,
            "status": n.status,
            "note": n.note,
            "duplicate_of": n.duplicate_of,
            "language": n.lang,
            "reporter": {
                "name": n.reporter_name,
                "phone": n.phone,
                "email": n.email,
            },
            "message": { "subject": text.subject, "text": text.text },
            "optout_url": n.optout_url,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Action;
    use crate::notify::tests::notice;
    use crate::notify::Lang;

    #[test]
    fn signs_the_standards_own_example() {
        // libraries/rust/src/lib.rs `test_sign` in github.com/standard-webhooks/standard-webhooks.
        let key = key_from_secret("whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD").expect("key");
        assert_eq!(
            sign(
                &key,
                "msg_27UH4WbU6Z5A5EzD8u03UvzRbpk",
                1649367553,
                br#"{"email":"test@example.com","username":"test_user"}"#
            ),
            "v1,tZ1I4/hDygAJgO5TYxiSd6Sd0kDW6hPenDe+bTa3Kkw="
        );
    }

    #[test]
    fn signs_a_plain_secret_as_python_does() {
        // python3 -c 'import hmac,hashlib,base64;print(base64.b64encode(hmac.new(
        //   b"heritage-atlas-test-secret",
        //   b"ntf_42.1767225600.{\"type\":\"complaint.updated\"}",
        //   hashlib.sha256).digest()).decode())'
        let key = key_from_secret("heritage-atlas-test-secret").expect("key");
        assert_eq!(
            sign(
                &key,
                "ntf_42",
                1767225600,
                br#"{"type":"complaint.updated"}"#
            ),
            "v1,bK1jQQ7hV1ukrU6NC/wdkH1vKLDh7UT5QnbwwPHOr4o="
        );
    }

    #[test]
    fn secrets_are_checked() {
        assert_eq!(
            key_from_secret("whsec_MDEyMzQ1Njc4OWFiY2RlZg==").expect("16 bytes"),
            b"0123456789abcdef"
        );
        for bad in [
            "",
            "short secret",
            "whsec_MDEyMzQ1Njc4OWFi",
            "whsec_not*base64*at*all!!",
        ] {
            assert!(
                matches!(key_from_secret(bad), Err(ConfigError::WebhookSecret(_))),
                "{bad}"
            );
        }
    }

    #[test]
    fn urls_are_checked() {
        let t = Duration::from_secs(5);
        let secret = "heritage-atlas-test-secret";
        assert!(Webhook::new("https://sms.kmc.example/hook", secret, t).is_ok());
        assert!(Webhook::new("http://127.0.0.1:9000/hook", secret, t).is_ok());
        for bad in [
            "ftp://sms.kmc.example/",
            "sms.kmc.example/hook",
            "https://",
            "",
        ] {
            assert!(
                matches!(
                    Webhook::new(bad, secret, t),
                    Err(ConfigError::WebhookUrl(_))
                ),
                "{bad}"
            );
        }
    }

    #[test]
    fn refusals_sort_into_permanent_and_not() {
        for (code, permanent) in [
            (410, true),
            (400, true),
            (404, true),
            (422, true),
            (408, false),
            (429, false),
            (500, false),
            (503, false),
            (302, false),
        ] {
            let status = StatusCode::from_u16(code).expect("status");
            assert_eq!(refusal_is_permanent(status), permanent, "{code}");
        }
    }

    #[test]
    fn the_payload_carries_the_step_and_the_rendered_text() {
        let n = notice(Action::Reject, Lang::Bn);
        let p = payload(&n);
        assert_eq!(p["type"], "complaint.updated");
        assert_eq!(p["timestamp"], "2026-01-15T10:30:00Z");
        let d = &p["data"];
        assert_eq!(d["delivery_id"], 42);
        assert_eq!(d["ticket"], "EH-2026-000123");
        assert_eq!(d["url"], n.ticket_url.as_str());
        assert_eq!(d["category"], "water_body_filling");
        assert_eq!(d["action"], "reject");
        assert_eq!(d["status"], "rejected");
        assert_eq!(d["note"], "The pond is on private land outside KMC.");
        assert_eq!(d["duplicate_of"], serde_json::Value::Null);
        assert_eq!(d["language"], "bn");
        assert_eq!(d["reporter"]["phone"], "+919800000000");
        assert_eq!(d["optout_url"], n.optout_url.as_str());
        let r = render(&n);
        assert_eq!(d["message"]["subject"], r.subject.as_str());
        assert_eq!(d["message"]["text"], r.text.as_str());
    }
}
