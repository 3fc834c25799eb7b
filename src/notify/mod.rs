//! Telling a complaint's reporter about progress: the words of each message
//! ([`message`]), and the two ways they travel — email over SMTP ([`smtp`]) and a signed
//! webhook a gateway turns into an SMS or a chat message ([`webhook`]).
//!
//! Nothing here knows HTTP handlers or SQL. The worker that owns the outbox hands a
//! [`Notice`] to a sender together with a `commit` callback, and the sender awaits that
//! callback at its *point of no return*: the last moment at which nothing can yet have
//! reached the receiver. If the callback fails, the sender stops without delivering. So
//! a durable "sent" mark written by the callback can only be missing for a message that
//! was never delivered, and a process killed between sending and recording cannot make
//! the worker send the same message twice. What the senders promise in exchange:
//!
//! * before `commit` returns, nothing is delivered: every failure there is
//!   [`SendError::NotSent`];
//! * after it, a failure is [`SendError::Uncertain`] unless the receiver answered that it
//!   did not take the message (an HTTP status other than 2xx), which is `NotSent` again.

pub mod message;
pub mod smtp;
pub mod webhook;

pub use crate::model::{Action, Category, Lang, Status};
pub use message::{render, Rendered};
pub use smtp::{Smtp, SmtpConfig};
pub use webhook::Webhook;

/// One thing to tell one reporter: a step taken on their complaint.
#[derive(Debug, Clone)]
pub struct Notice {
    /// The outbox row's id: the same on every attempt (Message-ID, webhook-id), so a
    /// receiver can recognise a message it has already seen.
    pub delivery_id: i64,
    pub ticket: String,
    pub category: Category,
    /// Never [`Action::Note`]: a note alone is not news a reporter is told about.
    pub action: Action,
    /// The status after the action.
    pub status: Status,
    /// The public note of the step (what was done, why it was rejected); `None` if the
    /// step had none or it was internal.
    pub note: Option<String>,
    /// Ticket of the original, for [`Action::Duplicate`].
    pub duplicate_of: Option<String>,
    /// RFC 3339 instant of the step.
    pub at: String,
    pub lang: Lang,
    pub reporter_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Absolute link to the complaint's page, e.g. `https://host/#/track/EH-2026-000123`.
    pub ticket_url: String,
    /// Absolute link that stops messages about this complaint.
    pub optout_url: String,
}

/// A message that is not about a complaint: a sign-in code, news of an application.
#[derive(Debug, Clone)]
pub struct Plain {
    /// Unique per message (the email's Message-ID, the webhook-id).
    pub id: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub lang: Lang,
    pub subject: String,
    pub text: String,
    /// The webhook's event type, e.g. `applicant.code`.
    pub event: &'static str,
    /// What the webhook carries besides the text.
    pub data: serde_json::Value,
}

/// How a send ended short of success.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Nothing can have been delivered (refused before the point of no return, or the
    /// commit callback failed): safe to try again later. `permanent`: trying again will
    /// not help (5xx on RCPT, webhook 410...).
    #[error("{message}")]
    NotSent { message: String, permanent: bool },
    /// Failed after the point of no return: the receiver may or may not have it.
    #[error("{0}")]
    Uncertain(String),
}

impl SendError {
    pub(crate) fn temporary(message: impl Into<String>) -> SendError {
        SendError::NotSent {
            message: message.into(),
            permanent: false,
        }
    }

    pub(crate) fn permanent(message: impl Into<String>) -> SendError {
        SendError::NotSent {
            message: message.into(),
            permanent: true,
        }
    }
}

/// A sender's settings refused at start-up, so a bad address or secret stops the server
/// instead of failing every message later.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("SMTP URL: {0}")]
    SmtpUrl(String),
    #[error("sender address {from:?}: {reason}")]
    Sender { from: String, reason: String },
    #[error("CA file {path}: {reason}")]
    CaFile { path: String, reason: String },
    #[error("webhook URL: {0}")]
    WebhookUrl(String),
    #[error("webhook secret: {0}")]
    WebhookSecret(String),
    #[error("HTTP client: {0}")]
    HttpClient(String),
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A notice with every field filled, for the senders' and renderer's tests.
    pub(crate) fn notice(action: Action, lang: Lang) -> Notice {
        let status = match action {
            Action::Acknowledge | Action::Assign | Action::Note => Status::Acknowledged,
            Action::Start => Status::InProgress,
            Action::Resolve => Status::Resolved,
            Action::Reject => Status::Rejected,
            Action::Duplicate => Status::Duplicate,
        };
        Notice {
            delivery_id: 42,
            ticket: "EH-2026-000123".into(),
            category: Category::WaterBodyFilling,
            action,
            status,
            note: match action {
                Action::Resolve => Some("Dumping stopped; the debris was removed.".into()),
                Action::Reject => Some("The pond is on private land outside KMC.".into()),
                _ => None,
            },
            duplicate_of: (action == Action::Duplicate).then(|| "EH-2026-000100".into()),
            at: "2026-01-15T10:30:00Z".into(),
            lang,
            reporter_name: Some("Anita Sen".into()),
            email: Some("anita@example.org".into()),
            phone: Some("+919800000000".into()),
            ticket_url: "https://atlas.example/#/track/EH-2026-000123".into(),
            optout_url: "https://atlas.example/notify/stop?t=abc123".into(),
        }
    }

    #[test]
    fn lang_round_trips() {
        for l in [Lang::En, Lang::Bn] {
            assert_eq!(l.as_str().parse::<Lang>().ok(), Some(l));
            assert_eq!(
                serde_json::to_string(&l).ok(),
                Some(format!("\"{}\"", l.as_str()))
            );
        }
        assert_eq!(" BN ".parse::<Lang>().ok(), Some(Lang::Bn));
        assert!("hi".parse::<Lang>().is_err());
    }
}
