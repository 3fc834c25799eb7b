//! Telling reporters of progress: which channels a step is told through (rows written
//! into the outbox with the step, [`Channels::for_reporter`]), the key of their
//! stop-messages links, and the worker that sends the outbox.
//!
//! The worker's promise is *at most once, and retried until then*: a row is claimed
//! (`sending`), marked `committing` at the sender's point of no return (SMTP: after the
//! server accepted DATA, before the final dot; webhook: before the request leaves), then
//! `sent`. A failure before the point of no return is retried with backoff; one after it
//! (or a stop between it and `sent`) leaves the row `uncertain` for staff, since the
//! receiver may have the message. See [`crate::notify`] for the senders.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::Atlas;
use crate::complaints::moderation::Public;
use crate::model::{now_rfc3339, rfc3339, Action};
use crate::notify::smtp::Smtp;
use crate::notify::webhook::Webhook;
use crate::notify::{Notice, SendError};
use crate::store::{Claimed, ComplaintRecord, Store, StoreError};

/// `meta` key of the stop-messages link key.
const KEY: &str = "notify_key";

/// Which notifiers are configured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Channels {
    pub email: bool,
    pub webhook: bool,
}

impl Channels {
    /// The channels a step of `c` is told through: email to an email address; the
    /// webhook (an SMS gateway, the e-KMC messaging service) for any reporter we can
    /// reach.
    pub fn for_reporter(&self, c: &ComplaintRecord) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.email && c.reporter_email.is_some() {
            out.push("email");
        }
        if self.webhook && (c.reporter_phone.is_some() || c.reporter_email.is_some()) {
            out.push("webhook");
        }
        out
    }
}

/// The key of the stop-messages links: made once, kept in the database, so links in
/// messages already sent stay valid across restarts.
pub(super) async fn key(store: &Store) -> Result<Arc<[u8]>, StoreError> {
    if let Some(k) = store.meta_get(KEY).await? {
        if let Ok(bytes) = hex::decode(k.trim()) {
            if bytes.len() >= 32 {
                return Ok(bytes.into());
            }
        }
    }
    let k = crate::auth::new_secret();
    let bytes = crate::auth::sha256_hex(&k);
    store.meta_set(KEY, &bytes).await?;
    Ok(hex::decode(bytes).unwrap_or_default().into())
}

/// The token of a complaint's stop-messages link: an HMAC of its ticket, so the link
/// needs no row and cannot be made for another ticket.
pub fn optout_token(key: &[u8], ticket: &str) -> String {
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(b"optout:");
    mac.update(ticket.as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// The configured senders.
#[derive(Clone, Default)]
pub struct Notifiers {
    pub email: Option<Arc<Smtp>>,
    pub webhook: Option<Arc<Webhook>>,
}

impl Notifiers {
    pub fn channels(&self) -> Channels {
        Channels {
            email: self.email.is_some(),
            webhook: self.webhook.is_some(),
        }
    }
}

/// The point-of-no-return marks, group-committed: one task owns them, and whatever
/// workers asked while the last `synchronous=FULL` commit was on its way to disk goes into
/// the next (as complaint intake does). 16 workers sending at once pay a few fsyncs, not
/// 16, and the mark is still on disk before each message's final dot.
#[derive(Debug, Clone)]
pub struct Committer {
    tx: tokio::sync::mpsc::Sender<(i64, tokio::sync::oneshot::Sender<Result<bool, String>>)>,
}

impl Committer {
    /// Starts the committing task on the current runtime.
    pub fn start(store: Store) -> Committer {
        type Job = (i64, tokio::sync::oneshot::Sender<Result<bool, String>>);
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Job>(1024);
        tokio::spawn(async move {
            while let Some(first) = rx.recv().await {
                let mut jobs = vec![first];
                while let Ok(j) = rx.try_recv() {
                    jobs.push(j);
                }
                let ids: Vec<i64> = jobs.iter().map(|(id, _)| *id).collect();
                match store.mark_committing(&ids, &now_rfc3339()).await {
                    Ok(done) => {
                        for (id, reply) in jobs {
                            let _ = reply.send(Ok(done.contains(&id)));
                        }
                    }
                    Err(e) => {
                        for (_, reply) in jobs {
                            let _ = reply.send(Err(format!("recording the send: {e}")));
                        }
                    }
                }
            }
        });
        Committer { tx }
    }

    /// Marks one claimed row as past the point of no return, once it is on disk. False if
    /// the row was no longer this worker's.
    pub async fn commit(&self, id: i64) -> Result<bool, String> {
        let (reply, wait) = tokio::sync::oneshot::channel();
        let gone = || "the notification committer has stopped".to_string();
        self.tx.send((id, reply)).await.map_err(|_| gone())?;
        wait.await.map_err(|_| gone())?
    }
}

/// Attempts before a message is given up (`failed`).
pub const MAX_ATTEMPTS: i64 = 6;

/// Sends the outbox. Several may run at once: a row is owned by the one that claimed it.
pub struct NotifyWorker {
    store: Store,
    notifiers: Notifiers,
    public_url: String,
    key: Arc<[u8]>,
    wake: Arc<tokio::sync::Notify>,
    /// The first retry's delay; each next one is four times longer.
    backoff: Duration,
    committer: Committer,
}

impl Atlas {
    /// A worker sending the outbox through `notifiers`, with links to `public_url`.
    pub fn notify_worker(
        &self,
        notifiers: Notifiers,
        public_url: &str,
        backoff: Duration,
    ) -> NotifyWorker {
        let committer = self
            .notify_committer
            .get_or_init(|| Committer::start(self.store.clone()))
            .clone();
        NotifyWorker {
            committer,
            store: self.store.clone(),
            notifiers,
            public_url: public_url.trim_end_matches('/').to_string(),
            key: self.notify_key.clone(),
            wake: self.notify_wake.clone(),
            backoff,
        }
    }
}

impl Atlas {
    /// Wakes a notification worker: a message is due.
    pub fn wake_notifier(&self) {
        self.notify_wake.notify_one();
    }
}

/// How long to wait for the next due row when there is none.
const POLL: Duration = Duration::from_secs(2);

impl NotifyWorker {
    pub async fn run(self) {
        loop {
            match self.step().await {
                Ok(true) => {}
                Ok(false) => {
                    tokio::select! {
                        _ = self.wake.notified() => {}
                        _ = tokio::time::sleep(POLL) => {}
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "notification worker: store error; retrying");
                    tokio::time::sleep(POLL).await;
                }
            }
        }
    }

    /// Sends the next due message, if any; false when none was due.
    pub async fn step(&self) -> Result<bool, StoreError> {
        let Some(job) = self.store.claim_notification(&now_rfc3339()).await? else {
            return Ok(false);
        };
        // There may be more: another worker starts on the next while this one sends.
        self.wake.notify_one();
        let outcome = self.send(&job).await;
        let now = now_rfc3339();
        let (from, to, not_before, error) = match outcome {
            Outcome::Sent => ("committing", "sent", None, None),
            Outcome::Skip(why) => ("sending", "cancelled", None, Some(why)),
            Outcome::NotSent {
                committed,
                message,
                permanent,
            } => {
                let from = if committed { "committing" } else { "sending" };
                if permanent || job.attempts >= MAX_ATTEMPTS {
                    (from, "failed", None, Some(message))
                } else {
                    let wait = self.backoff * 4u32.saturating_pow(job.attempts as u32 - 1);
                    let at = time::OffsetDateTime::now_utc()
                        + time::Duration::try_from(wait).unwrap_or(time::Duration::HOUR);
                    (from, "pending", Some(rfc3339(at)), Some(message))
                }
            }
            Outcome::Uncertain(message) => ("committing", "uncertain", None, Some(message)),
        };
        if !self
            .store
            .mark_notification(
                job.id,
                from,
                to,
                &now,
                not_before.as_deref(),
                error.as_deref(),
            )
            .await?
        {
            tracing::warn!(id = job.id, from, to, "notification moved under the worker");
        }
        match to {
            "sent" => tracing::debug!(id = job.id, channel = job.channel, "notification sent"),
            "uncertain" | "failed" => tracing::warn!(
                id = job.id,
                channel = job.channel,
                state = to,
                error = error.as_deref().unwrap_or(""),
                "notification not delivered"
            ),
            _ => {}
        }
        Ok(true)
    }

    async fn send(&self, job: &Claimed) -> Outcome {
        let notice = match self.notice(job).await {
            Ok(Ok(n)) => n,
            Ok(Err(skip)) => return Outcome::Skip(skip),
            Err(e) => {
                return Outcome::NotSent {
                    committed: false,
                    message: format!("reading the complaint: {e}"),
                    permanent: false,
                }
            }
        };
        let committed = Arc::new(AtomicBool::new(false));
        let (committer, id, flag) = (self.committer.clone(), job.id, committed.clone());
        let commit = move || async move {
            match committer.commit(id).await {
                Ok(true) => {
                    flag.store(true, Ordering::SeqCst);
                    Ok(())
                }
                Ok(false) => Err("the message was moved by someone else".to_string()),
                Err(e) => Err(e),
            }
        };
        let sent = match job.channel.as_str() {
            "email" => match &self.notifiers.email {
                Some(smtp) => smtp.send(&notice, commit).await,
                None => Err(unconfigured("email", "--smtp-url")),
            },
            "webhook" => match &self.notifiers.webhook {
                Some(hook) => hook.send(&notice, commit).await,
                None => Err(unconfigured("webhook", "--notify-webhook")),
            },
            other => Err(SendError::NotSent {
                message: format!("unknown channel {other:?}"),
                permanent: true,
            }),
        };
        let committed = committed.load(Ordering::SeqCst);
        match sent {
            Ok(()) if committed => Outcome::Sent,
            Ok(()) => Outcome::NotSent {
                committed,
                message: "the sender returned without passing its point of no return".into(),
                permanent: false,
            },
            Err(SendError::NotSent { message, permanent }) => Outcome::NotSent {
                committed,
                message,
                permanent,
            },
            Err(SendError::Uncertain(m)) if committed => Outcome::Uncertain(m),
            Err(SendError::Uncertain(m)) => Outcome::NotSent {
                committed,
                message: m,
                permanent: false,
            },
        }
    }

    /// What to tell, read afresh at send time: an opt-out or a note hidden since the
    /// step was taken is respected. `Ok(Err(why))`: nothing to send.
    async fn notice(&self, job: &Claimed) -> Result<Result<Notice, String>, StoreError> {
        let Some(ticket) = self.store.ticket_of(job.complaint_id).await? else {
            return Ok(Err("the complaint is gone".into()));
        };
        let Some(c) = self.store.complaint(&ticket).await? else {
            return Ok(Err("the complaint is gone".into()));
        };
        if c.opted_out {
            return Ok(Err("the reporter opted out".into()));
        }
        let Some(e) = c.events.iter().find(|e| e.id == job.event_id) else {
            return Ok(Err("the step is gone".into()));
        };
        let Ok(action) = e.action.parse::<Action>() else {
            return Ok(Err(format!("step {:?} is not told", e.action)));
        };
        let public = Public::of(&c);
        let note = public.note(e).map(|n| n.into_owned());
        Ok(Ok(Notice {
            delivery_id: job.id,
            ticket: c.ticket.clone(),
            category: c.category,
            action,
            status: e.status,
            note,
            duplicate_of: c.duplicate_of.clone(),
            at: e.at.clone(),
            lang: c.language,
            reporter_name: c.reporter_name.clone(),
            email: c.reporter_email.clone(),
            phone: c.reporter_phone.clone(),
            ticket_url: format!("{}/#track/{}", self.public_url, c.ticket),
            optout_url: format!(
                "{}/complaints/{}/optout?t={}",
                self.public_url,
                c.ticket,
                optout_token(&self.key, &c.ticket)
            ),
        }))
    }
}

fn unconfigured(channel: &str, flag: &str) -> SendError {
    SendError::NotSent {
        message: format!("no {channel} notifier is configured ({flag})"),
        permanent: false,
    }
}

enum Outcome {
    Sent,
    Skip(String),
    NotSent {
        committed: bool,
        message: String,
        permanent: bool,
    },
    Uncertain(String),
}
