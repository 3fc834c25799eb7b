//! Moderation writes: an officer hides a piece of a complaint from the public (or shows
//! it again, or approves a held photo), anyone flags a public piece, and a reporter
//! stops the messages about their complaint. Each decision is one transaction with its
//! audit entry; the public answers read the moderation rows on every request, so a
//! hidden piece is gone from all of them when the decision commits.

use super::Atlas;
use crate::complaints::moderation::{Item, ModState};
use crate::complaints::{field_error, ComplaintError, Role};
use crate::model::now_rfc3339;
use crate::store::{AuditEntry, ComplaintRecord, Decision, User};

/// Longest moderation or flag reason, in characters.
pub const MAX_REASON: usize = 500;

/// What an officer decides about a piece.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// Out of public view; the public is shown the reason.
    Hide(String),
    /// Public (again, or for the first time: a held photo approved; flags dismissed).
    Show,
}

/// Whether `item` is a piece of `c` the public could see at all (a note must be on a
/// public step; a photo must be the complaint's or a step's).
fn has_item(c: &ComplaintRecord, item: &Item) -> bool {
    match item {
        Item::Description => true,
        Item::Photo(sha) => {
            c.photos.iter().any(|p| &p.sha256 == sha)
                || c.events
                    .iter()
                    .any(|e| e.public && e.photo_sha256.as_ref() == Some(sha))
        }
        Item::Note(id) => c
            .events
            .iter()
            .any(|e| e.id == *id && e.public && e.note.is_some()),
    }
}

fn reason_text(field: &str, r: Option<String>) -> Result<Option<String>, ComplaintError> {
    let Some(r) = r.map(|r| r.trim().to_string()).filter(|r| !r.is_empty()) else {
        return Ok(None);
    };
    if r.chars().count() > MAX_REASON {
        return Err(field_error(field, format!("at most {MAX_REASON} characters")).into());
    }
    if r.chars().any(|c| c.is_control() && c != '\n') {
        return Err(field_error(field, "contains control characters").into());
    }
    Ok(Some(r))
}

impl Atlas {
    async fn complaint_or_404(&self, ticket: &str) -> Result<ComplaintRecord, ComplaintError> {
        self.store
            .complaint(ticket)
            .await?
            .ok_or_else(|| ComplaintError::NotFound(ticket.to_string()))
    }

    /// An officer's decision on one piece of a complaint. Returns the complaint as it
    /// now stands.
    pub async fn moderate_complaint(
        &self,
        ticket: &str,
        by: &User,
        item: Item,
        verdict: Verdict,
    ) -> Result<ComplaintRecord, ComplaintError> {
        if by.role == Role::FieldStaff {
            return Err(ComplaintError::Forbidden(
                "moderation is for officers and admins".into(),
            ));
        }
        let c = self.complaint_or_404(ticket).await?;
        if !has_item(&c, &item) {
            return Err(field_error(
                "item",
                format!("{ticket} has no public {item} (items: description, photo:<sha256>, note:<step id>)"),
            )
            .into());
        }
        let (state, reason) = match verdict {
            Verdict::Hide(r) => (
                ModState::Hidden,
                Some(reason_text("reason", Some(r))?.ok_or_else(|| {
                    field_error("reason", "hiding needs a reason the public is shown")
                })?),
            ),
            Verdict::Show => (ModState::Shown, None),
        };
        // What was hidden, by hash: the chain shows what the decision was about without
        // carrying it.
        let content = match &item {
            Item::Description => Some(crate::auth::sha256_hex(&c.description)),
            Item::Photo(sha) => Some(sha.clone()),
            Item::Note(id) => c
                .events
                .iter()
                .find(|e| e.id == *id)
                .and_then(|e| e.note.as_deref())
                .map(crate::auth::sha256_hex),
        };
        let at = now_rfc3339();
        let log = AuditEntry {
            actor: by.name.clone(),
            role: Some(by.role.as_str().into()),
            action: format!(
                "complaint.{}",
                if state == ModState::Hidden {
                    "hide"
                } else {
                    "show"
                }
            ),
            subject: c.ticket.clone(),
            public: true,
            detail: serde_json::json!({
                "item": item.to_string(),
                "reason": reason,
                "content_sha256": content,
                "was": c.moderation_of(&item).map(|m| m.state),
            }),
        };
        self.store
            .moderate(
                &Decision {
                    complaint_id: c.id,
                    item,
                    state,
                    reason,
                    actor: by.id,
                    at,
                },
                &log,
            )
            .await?;
        self.complaint_or_404(ticket).await
    }

    /// A client's flag on a public piece; false if it had flagged it already.
    pub async fn flag_complaint(
        &self,
        ticket: &str,
        item: Item,
        client: &str,
        reason: Option<String>,
    ) -> Result<bool, ComplaintError> {
        let c = self.complaint_or_404(ticket).await?;
        if !has_item(&c, &item) || !c.is_public(&item) {
            return Err(
                field_error("item", format!("{ticket} shows no {item} to the public")).into(),
            );
        }
        let reason = reason_text("reason", reason)?;
        Ok(self
            .store
            .flag(c.id, &item, client, reason.as_deref(), &now_rfc3339())
            .await?)
    }

    /// The token of a complaint's stop-messages link.
    pub fn optout_token(&self, ticket: &str) -> String {
        super::notify::optout_token(&self.notify_key, ticket)
    }

    /// Whether `token` is the one of `ticket`'s stop-messages link (compared in constant
    /// time: the page and the stop alike).
    pub fn optout_valid(&self, ticket: &str, token: &str) -> bool {
        crate::auth::constant_time_eq(self.optout_token(ticket).as_bytes(), token.as_bytes())
    }

    /// The reporter stops the messages about their complaint (the link's token checked).
    /// False if they had already.
    pub async fn opt_out(&self, ticket: &str, token: &str) -> Result<bool, ComplaintError> {
        if !self.optout_valid(ticket, token) {
            return Err(ComplaintError::Forbidden(
                "this link is not valid for that complaint".into(),
            ));
        }
        let c = self.complaint_or_404(ticket).await?;
        Ok(self.store.opt_out(c.id, &now_rfc3339()).await?)
    }
}
