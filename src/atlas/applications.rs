//! Online applications, the write path and the readings: applicants signing in with a
//! one-time code, drafts and their files, submission with a number, the department's
//! steps stage by stage (who may act is the stage's duty), HCC meetings, decision letters
//! with the heritage lock set in the same transaction, and what each reader sees — the
//! applicant their case, staff everything, the public a tracker and a register that never
//! carry the applicant, the form, the files or a note.
//!
//! The rules come from the type's version the case was submitted under
//! (`applications::AppType`), never from code here.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::{json, Map, Value};
use time::OffsetDateTime;

use super::notify::Notifiers;
use super::{Atlas, HistoryError};
use crate::applications::clock::{self, Pause};
use crate::applications::{self, AppType, Channel, Produces, Refused, Text};
use crate::model::{now_rfc3339, AssetId, Grade, Lang, Layer, Role};
use crate::notify::Plain;
use crate::store::{
    AuditEntry, CaseFile, CaseRow, Closing, CodeCheck, CodeIssue, LockChange, Move, NewStep,
    RequestRow, StageRow, StepRow, StoreError, User,
};

/// How long a one-time code holds, and an applicant's sign-in.
pub const CODE_MINUTES: i64 = 10;
pub const SESSION_HOURS: i64 = 12;
/// Longest text staff or an applicant may give in one step.
pub const MAX_TEXT_CHARS: usize = 8_000;
/// Files one case may hold.
pub const MAX_FILES: usize = 60;
/// Cases the desk lists at once, oldest first.
pub const DESK_MAX: i64 = 2_000;
/// Drafts one applicant may keep.
pub const MAX_DRAFTS: i64 = 20;

/// How sign-in codes and news reach applicants.
#[derive(Default)]
pub struct Senders {
    pub notifiers: Notifiers,
    /// Development only: codes are written to the log when no notifier reaches a contact.
    pub codes_to_log: bool,
}

impl std::fmt::Debug for Senders {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Senders")
            .field("email", &self.notifiers.email)
            .field("webhook", &self.notifiers.webhook)
            .field("codes_to_log", &self.codes_to_log)
            .finish()
    }
}

/// A signed-in applicant.
#[derive(Debug, Clone)]
pub struct Applicant {
    pub id: i64,
    pub contact: String,
    pub channel: String,
}

/// Why an application request cannot be done.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("{field}: {reason}")]
    Field { field: String, reason: String },
    #[error("{0}")]
    NotFound(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Conflict(String),
    #[error(transparent)]
    Refused(#[from] Refused),
    #[error("the application is not complete: it lacks {}", .0.names())]
    Missing(Missing),
    #[error("a code was sent just now; try again in {0} s")]
    Wait(u64),
    #[error("{0}")]
    Unavailable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Document(#[from] HistoryError),
}

fn field(name: &str, reason: impl Into<String>) -> AppError {
    AppError::Field {
        field: name.into(),
        reason: reason.into(),
    }
}

/// What a draft still lacks.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Missing {
    pub fields: Vec<String>,
    pub documents: Vec<String>,
    /// The premises or the work, if not chosen yet.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub choices: Vec<String>,
}

impl Missing {
    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.documents.is_empty() && self.choices.is_empty()
    }
    fn names(&self) -> String {
        let all: Vec<&str> = self
            .choices
            .iter()
            .chain(&self.fields)
            .chain(&self.documents)
            .map(String::as_str)
            .collect();
        all.join(", ")
    }
}

/// A staff member's step on a case.
#[derive(Debug, Clone)]
pub enum StaffAction {
    Forward {
        note: String,
    },
    Request {
        what: String,
        documents: Vec<String>,
    },
    Note {
        text: String,
    },
    Resolution {
        number: String,
        date: String,
        approve: bool,
        text: String,
    },
    Decide {
        approve: bool,
        text: String,
    },
    Issue,
}

impl StaffAction {
    fn name(&self) -> &'static str {
        match self {
            StaffAction::Forward { .. } => "forward",
            StaffAction::Request { .. } => "request",
            StaffAction::Note { .. } => "note",
            StaffAction::Resolution { .. } => "resolution",
            StaffAction::Decide { .. } => "decide",
            StaffAction::Issue => "issue",
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct TypeRef {
    pub code: String,
    pub version: u32,
    pub name: Text,
}

#[derive(Debug, Clone, Serialize)]
pub struct AssetRef {
    pub code: String,
    pub name: Option<String>,
    pub name_bn: Option<String>,
    pub grade: Option<Grade>,
}

#[derive(Debug, Clone, Serialize)]
pub struct StageView {
    pub stage: String,
    pub name: Text,
    pub started_at: String,
    pub ended_at: Option<String>,
    pub limit_days: u32,
    /// Days the clock ran (stopped while the applicant was asked for more).
    pub days_used: f64,
    pub within_limit: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct LetterRef {
    pub sha256: String,
    pub verify_url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct DecisionView {
    pub decision: String,
    /// `mic` or `officials`.
    pub by: String,
    pub resolution_no: Option<String>,
    pub date: Option<String>,
    pub letter: Option<LetterRef>,
}

/// What anyone with the number sees.
#[derive(Debug, Clone, Serialize)]
pub struct TrackView {
    pub number: String,
    #[serde(rename = "type")]
    pub kind: TypeRef,
    pub asset: Option<AssetRef>,
    pub work: Option<String>,
    pub work_name: Option<Text>,
    pub state: String,
    pub stage: Option<String>,
    pub outcome: Option<String>,
    pub submitted_at: Option<String>,
    pub decided_at: Option<String>,
    pub awaiting_applicant_since: Option<String>,
    pub stages: Vec<StageView>,
    /// The stages still ahead, by the case's path.
    pub next_stages: Vec<String>,
    pub decision: Option<DecisionView>,
}

/// A case as the applicant, or staff, sees it.
#[derive(Debug, Clone, Serialize)]
pub struct CaseView {
    pub key: String,
    pub number: Option<String>,
    pub draft: String,
    #[serde(rename = "type")]
    pub kind: TypeRef,
    pub asset: Option<AssetRef>,
    pub work: Option<String>,
    pub fields: Map<String, Value>,
    pub files: Vec<CaseFile>,
    pub language: String,
    pub state: String,
    pub stage: Option<String>,
    pub outcome: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    pub submitted_at: Option<String>,
    pub decided_at: Option<String>,
    pub stages: Vec<StageView>,
    pub next_stages: Vec<String>,
    pub requests: Vec<RequestRow>,
    pub decision: Option<DecisionView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missing: Option<Missing>,
    /// Staff only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applicant: Option<Value>,
    /// Staff only: every note, recommendation, resolution and decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub steps: Option<Vec<StepRow>>,
}

/// A case on the desk.
#[derive(Debug, Clone, Serialize)]
pub struct DeskItem {
    pub number: String,
    #[serde(rename = "type")]
    pub kind: String,
    pub asset: Option<AssetRef>,
    pub work: Option<String>,
    pub stage: String,
    pub stage_name: Text,
    pub duty: String,
    pub started_at: String,
    pub limit_days: u32,
    pub days_used: f64,
    pub overdue: bool,
    pub awaiting_applicant: bool,
    /// On a scheduled HCC meeting's agenda, its recommendation not yet recorded.
    pub on_agenda: bool,
}

/// A decided case in the public register.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterItem {
    pub number: String,
    #[serde(rename = "type")]
    pub kind: TypeRef,
    pub asset: Option<AssetRef>,
    pub work: Option<String>,
    pub work_name: Option<Text>,
    pub submitted_at: Option<String>,
    pub decided_at: Option<String>,
    #[serde(flatten)]
    pub decision: DecisionView,
}

/// How long one stage of one type takes.
#[derive(Debug, Clone, Serialize)]
pub struct StageStats {
    pub stage: String,
    pub name: Text,
    pub limit_days: u32,
    pub done: usize,
    pub median_days: Option<f64>,
    pub within_limit_share: Option<f64>,
    pub open: usize,
    pub overdue: usize,
}

#[derive(Debug, Clone, Serialize)]
pub struct TypeStats {
    #[serde(rename = "type")]
    pub kind: String,
    pub submitted: usize,
    pub decided: usize,
    pub approved: usize,
    pub stages: Vec<StageStats>,
}

fn parse_time(s: &str) -> Option<OffsetDateTime> {
    OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
}

use crate::model::rfc3339;

/// Kolkata's offset: an application's year and an order's date are the city's.
const IST: time::UtcOffset = time::macros::offset!(+5:30);

fn pauses(requests: &[(String, Option<String>)]) -> Vec<Pause> {
    requests
        .iter()
        .filter_map(|(a, b)| {
            Some(Pause {
                from: parse_time(a)?,
                until: b.as_deref().and_then(parse_time),
            })
        })
        .collect()
}

/// The clock of one stage: (days used, within its limit).
fn stage_clock(s: &StageRow, pauses: &[Pause], now: OffsetDateTime) -> (f64, bool) {
    let (Some(start), end) = (
        parse_time(&s.started_at),
        s.ended_at.as_deref().and_then(parse_time),
    ) else {
        return (0.0, true);
    };
    let end = end.unwrap_or(now);
    let days = clock::running_days(start, end, pauses);
    let within = !clock::overdue(start, s.limit_days, pauses, end);
    (days, within)
}

/// The applicant's log name: no personal detail reaches the audit chain.
const APPLICANT: &str = "applicant";

fn applicant_entry(action: &str, subject: &str, detail: Value) -> AuditEntry {
    AuditEntry {
        actor: APPLICANT.into(),
        role: Some(APPLICANT.into()),
        action: action.into(),
        subject: subject.into(),
        public: true,
        detail,
    }
}

fn staff_entry(by: &User, action: &str, subject: &str, public: bool, detail: Value) -> AuditEntry {
    AuditEntry {
        actor: by.name.clone(),
        role: Some(by.role.as_str().into()),
        action: action.into(),
        subject: subject.into(),
        public,
        detail,
    }
}

fn bounded(name: &str, v: &str, max: usize) -> Result<String, AppError> {
    let v = v.trim();
    if v.is_empty() {
        return Err(field(name, "required"));
    }
    if v.chars().count() > max {
        return Err(field(name, format!("at most {max} characters")));
    }
    if v.chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
    {
        return Err(field(name, "control characters are not allowed"));
    }
    Ok(v.to_string())
}

/// Whether `by` may act where `duty` is needed: admins everywhere, officers with the duty.
pub fn may_act(by: &User, duty: &str) -> bool {
    match by.role {
        Role::Admin => true,
        Role::Officer => by.duties.iter().any(|d| d == duty),
        Role::FieldStaff => false,
    }
}

impl Atlas {
    /// Gives the application service its senders (at start, once).
    pub fn set_senders(&self, s: Senders) {
        let _ = self.senders.set(s);
    }

    fn senders(&self) -> Option<&Senders> {
        self.senders.get()
    }

    /// The current version of a type.
    pub fn application_type(&self, code: &str) -> Result<&AppType, AppError> {
        self.app_types
            .iter()
            .find(|t| t.code == code)
            .ok_or_else(|| field("type", format!("no application type {code:?}")))
    }

    /// The version of a type a case was submitted under.
    async fn type_of(&self, c: &CaseRow) -> Result<AppType, AppError> {
        if let Some(t) = self
            .app_types
            .iter()
            .find(|t| t.code == c.type_code && t.version == c.type_version)
        {
            return Ok(t.clone());
        }
        self.store
            .application_type(&c.type_code, c.type_version)
            .await?
            .ok_or_else(|| {
                AppError::Store(StoreError::Corrupt {
                    table: "application",
                    id: c.id,
                    what: format!(
                        "type {} version {} is not on record",
                        c.type_code, c.type_version
                    ),
                })
            })
    }

    // ---- signing in ----------------------------------------------------------------

    /// Sends a one-time code to `contact`. Returns (canonical contact, channel).
    pub async fn send_code(
        &self,
        contact: &str,
        lang: Lang,
    ) -> Result<(String, Channel), AppError> {
        let (contact, channel) = applications::contact(contact).map_err(|e| field("contact", e))?;
        let senders = self.senders();
        let to_log = senders.is_some_and(|s| s.codes_to_log);
        let reachable = match channel {
            Channel::Email => senders.is_some_and(|s| s.notifiers.email.is_some()),
            Channel::Phone => senders.is_some_and(|s| s.notifiers.webhook.is_some()),
        };
        if !reachable && !to_log {
            return Err(AppError::Unavailable(format!(
                "codes cannot be sent to {} just now: this server has no {} notifier",
                if channel == Channel::Email {
                    "email addresses"
                } else {
                    "phone numbers"
                },
                if channel == Channel::Email {
                    "SMTP"
                } else {
                    "SMS (webhook)"
                },
            )));
        }
        let code = format!("{:06}", rand::random::<u32>() % 1_000_000);
        let now = OffsetDateTime::now_utc();
        let expires = now + time::Duration::minutes(CODE_MINUTES);
        match self
            .store
            .issue_applicant_code(
                &contact,
                &code_hash(&contact, &code),
                &rfc3339(now),
                &rfc3339(expires),
            )
            .await?
        {
            CodeIssue::Issued => {}
            CodeIssue::Wait(s) => return Err(AppError::Wait(s.max(1) as u64)),
        }
        if !reachable {
            tracing::warn!(
                "one-time code for {contact}: {code} (--codes-to-log: development only)"
            );
            return Ok((contact, channel));
        }
        let (subject, text) = match lang {
            Lang::Bn => (
                format!("আপনার কোড {code}"),
                format!(
                    "কলকাতা পুরসভা, পরিবেশ ও ঐতিহ্য বিভাগ: আবেদনে প্রবেশের কোড {code}। {CODE_MINUTES} মিনিট বৈধ। আপনি না চাইলে এই বার্তা উপেক্ষা করুন।"
                ),
            ),
            Lang::En => (
                format!("Your code {code}"),
                format!(
                    "Kolkata Municipal Corporation, Environment & Heritage: your code to sign in to your applications is {code}. It holds for {CODE_MINUTES} minutes. If you did not ask for it, ignore this message."
                ),
            ),
        };
        let p = Plain {
            id: format!("code-{}", hex::encode(rand::random::<[u8; 8]>())),
            email: (channel == Channel::Email).then(|| contact.clone()),
            phone: (channel == Channel::Phone).then(|| contact.clone()),
            lang,
            subject,
            text,
            event: "applicant.code",
            data: json!({"code": code, "expires_in_s": CODE_MINUTES * 60}),
        };
        let sent = match (channel, senders) {
            (
                Channel::Email,
                Some(Senders {
                    notifiers: Notifiers { email: Some(m), .. },
                    ..
                }),
            ) => m.send_plain(&p).await,
            (
                Channel::Phone,
                Some(Senders {
                    notifiers:
                        Notifiers {
                            webhook: Some(h), ..
                        },
                    ..
                }),
            ) => h.send_plain(&p).await,
            _ => Ok(()),
        };
        if let Err(e) = sent {
            // The gateway's or mail server's words stay in our log: they may name it.
            tracing::warn!(error = %e, "a sign-in code was not sent");
            if !matches!(e, crate::notify::SendError::Uncertain(_)) {
                self.store.clear_applicant_code(&contact).await?;
            }
            return Err(AppError::Unavailable(
                "the code could not be sent just now; try again in a few minutes".into(),
            ));
        }
        Ok((contact, channel))
    }

    /// Checks a code; a right one signs the applicant in: (token, expires at, applicant).
    pub async fn sign_in(
        &self,
        contact: &str,
        code: &str,
        lang: Lang,
    ) -> Result<(String, String, Applicant), AppError> {
        let (contact, channel) = applications::contact(contact).map_err(|e| field("contact", e))?;
        let code = code.trim();
        if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(field("code", "the six digits sent to you"));
        }
        let now = OffsetDateTime::now_utc();
        let id = match self
            .store
            .check_applicant_code(
                &contact,
                channel.as_str(),
                lang.as_str(),
                &code_hash(&contact, code),
                &rfc3339(now),
            )
            .await?
        {
            CodeCheck::Applicant(id) => id,
                        // One answer for both, so it does not tell whether a code is waiting.
            CodeCheck::Wrong | CodeCheck::NoCode => {
                return Err(AppError::Unauthorized(
                    "that code is not right, or no longer holds (10 minutes, 5 tries): ask for a new one"
                        .into(),
                ))
            }
        };
        let token = format!("ap_{}", crate::auth::new_secret());
        let expires = rfc3339(now + time::Duration::hours(SESSION_HOURS));
        self.store
            .create_applicant_session(
                &crate::auth::sha256_hex(&token),
                id,
                &rfc3339(now),
                &expires,
            )
            .await?;
        Ok((
            token,
            expires,
            Applicant {
                id,
                contact,
                channel: channel.as_str().into(),
            },
        ))
    }

    /// The applicant a token belongs to.
    pub async fn applicant(&self, token: &str) -> Result<Option<Applicant>, StoreError> {
        if !token.starts_with("ap_") {
            return Ok(None);
        }
        Ok(self
            .store
            .applicant_session(&crate::auth::sha256_hex(token), &now_rfc3339())
            .await?
            .map(|(id, contact, channel)| Applicant {
                id,
                contact,
                channel,
            }))
    }

    pub async fn sign_out_applicant(&self, token: &str) -> Result<bool, StoreError> {
        self.store
            .delete_applicant_session(&crate::auth::sha256_hex(token))
            .await
    }

    // ---- the applicant's case ------------------------------------------------------

    async fn own_case(&self, who: &Applicant, key: &str) -> Result<CaseRow, AppError> {
        match self.store.case_by_key(key.trim()).await? {
            Some(c) if c.applicant_id == who.id => Ok(c),
            _ => Err(AppError::NotFound(format!("no application {key} of yours"))),
        }
    }

    async fn asset_on_layer(
        &self,
        t: &AppType,
        code: &str,
    ) -> Result<std::sync::Arc<crate::model::Asset>, AppError> {
        let a = self
            .asset_by_code(code.trim())
            .await?
            .ok_or_else(|| field("asset", format!("no asset {code}")))?;
        if a.layer != t.asset_layer {
            return Err(field(
                "asset",
                format!(
                    "{} is not on the {} layer this application is for",
                    a.code, t.asset_layer
                ),
            ));
        }
        Ok(a)
    }

    /// The rule's answer for the premises and work chosen (both, or nothing to check).
    fn entry_check(
        &self,
        t: &AppType,
        asset: Option<&crate::model::Asset>,
        work: Option<&str>,
    ) -> Result<(), AppError> {
        if let Some(w) = work {
            if !t.works.contains_key(w) {
                return Err(field(
                    "work",
                    format!(
                        "{w:?} is not a work this application offers ({})",
                        t.works.keys().cloned().collect::<Vec<_>>().join(", ")
                    ),
                ));
            }
        }
        if let (Some(a), Some(w)) = (asset, work) {
            t.path_for(grade_of(a), w)?;
        }
        Ok(())
    }

    fn check_fields(t: &AppType, fields: &Map<String, Value>) -> Result<(), AppError> {
        for (k, v) in fields {
            let def = t.fields.iter().find(|f| &f.code == k).ok_or_else(|| {
                field(
                    "fields",
                    format!(
                        "{k:?} is not a field of this form ({})",
                        t.fields
                            .iter()
                            .map(|f| f.code.as_str())
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
            let Value::String(s) = v else {
                return Err(field(&format!("fields.{k}"), "a text"));
            };
            if s.chars().count() > def.max_chars {
                return Err(field(
                    &format!("fields.{k}"),
                    format!("at most {} characters", def.max_chars),
                ));
            }
            if s.chars()
                .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
            {
                return Err(field(
                    &format!("fields.{k}"),
                    "control characters are not allowed",
                ));
            }
        }
        Ok(())
    }

    /// A new draft. A work the premises' grade does not allow is refused at once, with the
    /// rule's reason, and no draft is made.
    pub async fn create_draft(
        &self,
        who: &Applicant,
        type_code: &str,
        patch: &Map<String, Value>,
    ) -> Result<CaseView, AppError> {
        let t = self.application_type(type_code)?.clone();
        if self.store.draft_count(who.id).await? >= MAX_DRAFTS {
            return Err(AppError::Conflict(format!(
                "you have {MAX_DRAFTS} drafts: submit or finish one first"
            )));
        }
        let (asset, work, fields, lang) = self.draft_patch(&t, None, patch).await?;
        let draft = format!("D{}", hex::encode(rand::random::<[u8; 8]>()).to_uppercase());
        let c = self
            .store
            .create_draft(
                &draft,
                &t.code,
                t.version,
                who.id,
                asset,
                work.as_deref(),
                &fields,
                &lang,
                &now_rfc3339(),
            )
            .await?;
        self.case_view(&c, false).await
    }

    /// Changes a draft (`asset`, `work`, `fields` merged — `null` removes one — and
    /// `language`).
    pub async fn patch_draft(
        &self,
        who: &Applicant,
        key: &str,
        patch: &Map<String, Value>,
    ) -> Result<CaseView, AppError> {
        // A patch merges into the draft as read; another saved meanwhile (two tabs, two
        // fields saved at once) is read again and merged into, never overwritten.
        for _ in 0..8 {
            let c = self.own_case(who, key).await?;
            if c.state != "draft" {
                return Err(AppError::Conflict(format!(
                    "{} is submitted: it can no longer be changed",
                    c.number.as_deref().unwrap_or(&c.draft)
                )));
            }
            let t = self.type_of(&c).await?;
            let (asset, work, fields, lang) = self.draft_patch(&t, Some(&c), patch).await?;
            if self
                .store
                .update_draft(
                    c.id,
                    c.rev,
                    asset,
                    work.as_deref(),
                    &fields,
                    &lang,
                    &now_rfc3339(),
                )
                .await?
            {
                let c = self.own_case(who, &c.draft).await?;
                return self.case_view(&c, false).await;
            }
        }
        Err(AppError::Conflict(
            "the draft is being changed elsewhere at this moment; try again".into(),
        ))
    }

    async fn draft_patch(
        &self,
        t: &AppType,
        c: Option<&CaseRow>,
        patch: &Map<String, Value>,
    ) -> Result<(Option<AssetId>, Option<String>, Map<String, Value>, String), AppError> {
        for k in patch.keys() {
            if !matches!(
                k.as_str(),
                "type" | "asset" | "work" | "fields" | "language"
            ) {
                return Err(field(k, "unknown field (asset, work, fields, language)"));
            }
        }
        let text = |k: &str| -> Result<Option<Option<String>>, AppError> {
            match patch.get(k) {
                None => Ok(None),
                Some(Value::Null) => Ok(Some(None)),
                Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(None)),
                Some(Value::String(s)) if s.len() <= 100 => Ok(Some(Some(s.trim().to_string()))),
                Some(_) => Err(field(k, "a short text")),
            }
        };
        let mut asset = c.and_then(|c| c.asset_id);
        let mut asset_row = None;
        if let Some(code) = text("asset")? {
            asset = None;
            if let Some(code) = code {
                let a = self.asset_on_layer(t, &code).await?;
                asset = Some(a.id);
                asset_row = Some(a);
            }
        } else if let Some(id) = asset {
            asset_row = self.index.get(id);
        }
        let work = match text("work")? {
            Some(w) => w,
            None => c.and_then(|c| c.work.clone()),
        };
        self.entry_check(t, asset_row.as_deref(), work.as_deref())?;
        let mut fields = c.map(|c| c.fields.clone()).unwrap_or_default();
        match patch.get("fields") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    if v.is_null() {
                        fields.remove(k);
                    } else {
                        fields.insert(k.clone(), v.clone());
                    }
                }
            }
            Some(_) => return Err(field("fields", "an object of the form's fields")),
        }
        Self::check_fields(t, &fields)?;
        let lang = match text("language")? {
            Some(Some(l)) => l
                .parse::<Lang>()
                .map_err(|e| field("language", e.to_string()))?
                .as_str()
                .to_string(),
            _ => c.map_or_else(|| "en".to_string(), |c| c.language.clone()),
        };
        Ok((asset, work, fields, lang))
    }

    /// Adds a file for one of the type's documents: on a draft, or while a request for
    /// more is open. The bytes go to the document store (private), by SHA-256.
    pub async fn add_case_file(
        &self,
        who: &Applicant,
        key: &str,
        doc: &str,
        bytes: Vec<u8>,
        name: Option<String>,
    ) -> Result<CaseFile, AppError> {
        let c = self.own_case(who, key).await?;
        let (request, asked) = match c.state.as_str() {
            "draft" => (None, Vec::new()),
            "awaiting_applicant" => self
                .store
                .case_requests(c.id)
                .await?
                .into_iter()
                .rfind(|r| r.answered_at.is_none())
                .map_or((None, Vec::new()), |r| (Some(r.id), r.documents)),
            _ => {
                return Err(AppError::Conflict(
                    "files are added to a draft, or in answer to a request for more".into(),
                ))
            }
        };
        let t = self.type_of(&c).await?;
        if !t.documents.iter().any(|d| d.code == doc) {
            return Err(field(
                "doc",
                format!(
                    "{doc:?} is not a document this application takes ({})",
                    t.documents
                        .iter()
                        .map(|d| d.code.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
        if !asked.is_empty() && !asked.iter().any(|d| d == doc) {
            return Err(field(
                "doc",
                format!("the request asks for {}, not {doc:?}", asked.join(", ")),
            ));
        }
        let name = name
            .map(|n| {
                n.trim()
                    .chars()
                    .filter(|c| !c.is_control())
                    .take(200)
                    .collect::<String>()
            })
            .filter(|n| !n.is_empty());
        let (sha256, media_type, size) = self.put_applicant_file(bytes).await?;
        let f = CaseFile {
            doc: doc.to_string(),
            sha256,
            name,
            size,
            media_type,
            added_at: now_rfc3339(),
            request,
        };
        if !self.store.add_case_file(c.id, &f, MAX_FILES as i64).await? {
            return Err(AppError::Conflict(format!(
                "files are added to a draft or in answer to the open request, at most {MAX_FILES} an application; this one moved meanwhile or is full"
            )));
        }
        Ok(f)
    }

    /// Keeps an applicant's file in the document store's files, by SHA-256, but not as a
    /// document of the register: it is read only through its case (the applicant, and
    /// officers), never searched, read for text or made public. (sha256, type, size).
    async fn put_applicant_file(&self, bytes: Vec<u8>) -> Result<(String, String, i64), AppError> {
        let media_type = super::documents::checked_file(&bytes)?;
        let sha256 = crate::history::sha256_hex(&bytes);
        let size = bytes.len() as i64;
        self.store_file(&sha256, bytes).await?;
        Ok((sha256, media_type.into(), size))
    }

    /// An applicant's file, to them or to officers: (media type, bytes).
    pub async fn case_file_bytes(
        &self,
        reader: Result<&Applicant, &User>,
        key: &str,
        doc: &str,
        sha256: &str,
    ) -> Result<(String, Vec<u8>), AppError> {
        let c = match reader {
            Ok(who) => self.own_case(who, key).await?,
            Err(by) => {
                if by.role == Role::FieldStaff {
                    return Err(AppError::Forbidden(
                        "applications are handled by officers".into(),
                    ));
                }
                self.submitted(key).await?
            }
        };
        let f = self
            .store
            .case_file(c.id, doc, sha256)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no file {sha256} for {doc} on {key}")))?;
        let bytes = self.document_bytes(&f.sha256).await?;
        Ok((f.media_type, bytes))
    }

    async fn put_document_bytes(
        &self,
        bytes: Vec<u8>,
        title: &str,
        asset: Option<AssetId>,
        public: bool,
        kind: crate::documents::DocKind,
        actor: &str,
    ) -> Result<(String, String, i64), AppError> {
        let media_type = super::documents::checked_file(&bytes)?;
        let sha256 = crate::history::sha256_hex(&bytes);
        let size = bytes.len() as i64;
        if self.store.document(&sha256).await?.is_none() {
            self.store_file(&sha256, bytes).await?;
            let mut meta = crate::documents::form::blank(title.to_string());
            meta.public = public;
            meta.kind = kind;
            meta.assets = asset.into_iter().collect();
            let d = crate::store::NewDocument {
                sha256: sha256.clone(),
                media_type: media_type.into(),
                size,
                meta,
            };
            let entry = AuditEntry {
                actor: actor.into(),
                role: None,
                action: "document.add".into(),
                subject: sha256.clone(),
                public,
                detail: json!({"title": title, "media_type": media_type, "size": size}),
            };
            if self
                .store
                .add_document(&d, &now_rfc3339(), &entry)
                .await?
                .is_some()
            {
                self.doc_wake.notify_one();
            }
        }
        Ok((sha256, media_type.into(), size))
    }

    /// Takes a file off a draft.
    pub async fn remove_case_file(
        &self,
        who: &Applicant,
        key: &str,
        doc: &str,
        sha256: &str,
    ) -> Result<(), AppError> {
        let c = self.own_case(who, key).await?;
        if !self.store.remove_case_file(c.id, doc, sha256).await? {
            return Err(AppError::NotFound(format!(
                "no file {sha256} for {doc} on this draft (files of a submitted application stay)"
            )));
        }
        Ok(())
    }

    fn missing(t: &AppType, c: &CaseRow, files: &[CaseFile]) -> Missing {
        let fields: BTreeMap<String, String> = c
            .fields
            .iter()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        let docs: BTreeSet<String> = files.iter().map(|f| f.doc.clone()).collect();
        let lacking = t.missing(&fields, &docs);
        let mut m = Missing::default();
        for code in lacking {
            if t.fields.iter().any(|f| f.code == code) {
                m.fields.push(code.to_string());
            } else {
                m.documents.push(code.to_string());
            }
        }
        if c.asset_id.is_none() {
            m.choices.push("asset".into());
        }
        if c.work.is_none() {
            m.choices.push("work".into());
        }
        m
    }

    /// Submits a complete draft: its number, its path fixed by the rule of its premises'
    /// grade, the first stage's clock started.
    pub async fn submit(&self, who: &Applicant, key: &str) -> Result<CaseView, AppError> {
        let c = self.own_case(who, key).await?;
        if c.state != "draft" {
            return Err(AppError::Conflict(format!(
                "{} is already submitted",
                c.number.as_deref().unwrap_or(&c.draft)
            )));
        }
        let t = self.type_of(&c).await?;
        let files = self.store.case_files(c.id).await?;
        let missing = Self::missing(&t, &c, &files);
        if !missing.is_empty() {
            return Err(AppError::Missing(missing));
        }
        let asset = c
            .asset_id
            .and_then(|id| self.index.get(id))
            .ok_or_else(|| field("asset", "the premises chosen are no longer on the register"))?;
        let work = c.work.clone().unwrap_or_default();
        let path = t.path_for(grade_of(&asset), &work)?.to_vec();
        let first = path
            .first()
            .and_then(|s| t.stages.get(s).map(|d| (s.as_str(), d.days)))
            .ok_or_else(|| field("type", "this type has no stages"))?;
        let now = OffsetDateTime::now_utc();
        let year = now.to_offset(IST).year();
        let log = applicant_entry(
            "application.submit",
            "",
            json!({"type": t.code, "version": t.version, "asset": asset.code, "work": work, "path": path}),
        );
        let number = self
            .store
            .submit_case(
                c.id,
                c.rev,
                &t.number_prefix,
                year,
                &path,
                first,
                &rfc3339(now),
                &log,
            )
            .await?
            .ok_or_else(|| {
                AppError::Conflict(
                    "the draft changed or was submitted meanwhile: check it and submit again"
                        .into(),
                )
            })?;
        let c = self.own_case(who, &number).await?;
        self.case_view(&c, false).await
    }

    /// Answers the open request for more; the clock starts again.
    pub async fn answer(
        &self,
        who: &Applicant,
        key: &str,
        request: i64,
        text: &str,
    ) -> Result<CaseView, AppError> {
        let c = self.own_case(who, key).await?;
        let open = self
            .store
            .case_requests(c.id)
            .await?
            .into_iter()
            .find(|r| r.answered_at.is_none());
        let Some(open) = open.filter(|r| r.id == request) else {
            return Err(AppError::Conflict(format!(
                "request {request} is not open on this application"
            )));
        };
        let given: BTreeSet<String> = self
            .store
            .case_files(c.id)
            .await?
            .into_iter()
            .filter(|f| f.request == Some(open.id))
            .map(|f| f.doc)
            .collect();
        let lacking: Vec<String> = open
            .documents
            .iter()
            .filter(|d| !given.contains(*d))
            .cloned()
            .collect();
        if !lacking.is_empty() {
            return Err(AppError::Missing(Missing {
                documents: lacking,
                ..Missing::default()
            }));
        }
        let text = bounded("text", text, MAX_TEXT_CHARS)?;
        let number = c.number.clone().unwrap_or_default();
        let m = Move {
            case: c.id,
            from_state: "awaiting_applicant",
            from_stage: c.stage.clone(),
            to_state: "open",
            next_stage: None,
            step: Some(NewStep {
                kind: "answer",
                text: Some(text.clone()),
                ..NewStep::default()
            }),
            request: None,
            answer: Some(text),
            closing: None,
            lock: None,
            agenda: None,
            publish: None,
            actor: None,
            at: now_rfc3339(),
            log: applicant_entry("application.answer", &number, json!({"request": open.id})),
        };
        if !self.store.move_case(&m).await? {
            return Err(AppError::Conflict(
                "the application moved meanwhile; reload it".into(),
            ));
        }
        let c = self.own_case(who, key).await?;
        self.case_view(&c, false).await
    }

    pub async fn my_cases(&self, who: &Applicant) -> Result<Vec<CaseView>, AppError> {
        let mut out = Vec::new();
        for c in self.store.cases_of(who.id).await? {
            out.push(self.case_view(&c, false).await?);
        }
        Ok(out)
    }

    pub async fn my_case(&self, who: &Applicant, key: &str) -> Result<CaseView, AppError> {
        let c = self.own_case(who, key).await?;
        self.case_view(&c, false).await
    }

    // ---- the department ------------------------------------------------------------

    async fn submitted(&self, number: &str) -> Result<CaseRow, AppError> {
        match self.store.case_by_key(number.trim()).await? {
            Some(c) if c.number.as_deref() == Some(number.trim()) => Ok(c),
            _ => Err(AppError::NotFound(format!("no application {number}"))),
        }
    }

    /// The staff record of a case.
    pub async fn staff_case(&self, by: &User, number: &str) -> Result<CaseView, AppError> {
        if by.role == Role::FieldStaff {
            return Err(AppError::Forbidden(
                "applications are handled by officers".into(),
            ));
        }
        let c = self.submitted(number).await?;
        self.case_view(&c, true).await
    }

    /// One step on a case by the holder of its stage's duty (or an admin).
    pub async fn act(
        &self,
        by: &User,
        number: &str,
        action: StaffAction,
        base_url: &str,
    ) -> Result<CaseView, AppError> {
        let c = self.submitted(number).await?;
        let t = self.type_of(&c).await?;
        let stage = c.stage.clone().ok_or_else(|| {
            AppError::Conflict(format!(
                "{number} is {}: nothing is left to do on it",
                c.state
            ))
        })?;
        let def = t.stages.get(&stage).ok_or_else(|| {
            AppError::Store(StoreError::Corrupt {
                table: "application",
                id: c.id,
                what: format!("stage {stage} is not in its type"),
            })
        })?;
        if !may_act(by, &def.duty) {
            return Err(AppError::Forbidden(format!(
                "{number} is at {}: that needs the duty {}",
                def.name.en, def.duty
            )));
        }
        let awaiting = c.state == "awaiting_applicant";
        let at = now_rfc3339();
        let next = || -> Option<(String, u32)> {
            let i = c.path.iter().position(|s| *s == stage)?;
            let s = c.path.get(i + 1)?;
            Some((s.clone(), t.stages.get(s)?.days))
        };
        let asset = c.asset_id.and_then(|id| self.index.get(id));
        let asset_code = asset.as_ref().map(|a| a.code.clone()).unwrap_or_default();
        let base = |kind: &'static str| Move {
            case: c.id,
            from_state: if awaiting {
                "awaiting_applicant"
            } else {
                "open"
            },
            from_stage: Some(stage.clone()),
            to_state: if awaiting {
                "awaiting_applicant"
            } else {
                "open"
            },
            next_stage: None,
            step: Some(NewStep {
                kind,
                ..NewStep::default()
            }),
            request: None,
            answer: None,
            closing: None,
            lock: None,
            agenda: None,
            publish: None,
            actor: Some(by.id),
            at: at.clone(),
            log: staff_entry(
                by,
                "application.note",
                number,
                false,
                json!({"stage": stage, "asset": asset_code}),
            ),
        };
        // Only a request or a note is taken while the applicant is asked for more.
        let moving = || -> Result<(), AppError> {
            if awaiting {
                return Err(AppError::Conflict(format!(
                    "{number} is waiting for the applicant's answer; it moves on once they answer"
                )));
            }
            Ok(())
        };
        let wrong_stage = |what: &str| {
            AppError::Conflict(format!(
                "{number} is at {} ({}); {what}",
                def.name.en, stage
            ))
        };
        let mut notice: Option<(String, String)> = None;
        let m = match &action {
            StaffAction::Note { text } => {
                let text = bounded("text", text, MAX_TEXT_CHARS)?;
                let mut m = base("note");
                m.log.detail["text_sha256"] = json!(crate::auth::sha256_hex(&text));
                if let Some(s) = m.step.as_mut() {
                    s.text = Some(text);
                }
                m
            }
            StaffAction::Forward { note } => {
                if def.produces != Produces::ScrutinyNote {
                    return Err(wrong_stage("a scrutiny note moves only a scrutiny stage"));
                }
                let note = bounded("note", note, MAX_TEXT_CHARS)?;
                let mut m = base("scrutiny_note");
                moving()?;
                let n = next();
                m.log = staff_entry(
                    by,
                    "application.forward",
                    number,
                    true,
                    json!({"stage": stage, "to": n.as_ref().map(|x| &x.0), "asset": asset_code}),
                );
                if let Some(s) = m.step.as_mut() {
                    s.text = Some(note);
                }
                m.next_stage = Some(n);
                m
            }
            StaffAction::Request { what, documents } => {
                if awaiting {
                    return Err(AppError::Conflict(format!(
                        "{number} already waits for the applicant's answer to a request"
                    )));
                }
                let what = bounded("what", what, MAX_TEXT_CHARS)?;
                for d in documents {
                    if !t.documents.iter().any(|x| &x.code == d) {
                        return Err(field(
                            "documents",
                            format!("{d:?} is not a document of this type"),
                        ));
                    }
                }
                let mut m = base("request");
                m.to_state = "awaiting_applicant";
                m.request = Some((what.clone(), documents.clone()));
                m.log = staff_entry(
                    by,
                    "application.request",
                    number,
                    true,
                    json!({"stage": stage, "documents": documents, "asset": asset_code}),
                );
                if let Some(s) = m.step.as_mut() {
                    s.text = Some(what.clone());
                }
                notice = Some(request_notice(&c, &t, &what, documents));
                m
            }
            StaffAction::Resolution {
                number: no,
                date,
                approve,
                text,
            } => {
                if def.produces != Produces::Resolution {
                    return Err(wrong_stage(
                        "a resolution is recorded at the Mayor-in-Council stage",
                    ));
                }
                let no = bounded("resolution_no", no, 100)?;
                let date = check_date(date)?;
                let text = bounded("text", text, MAX_TEXT_CHARS)?;
                let mut m = base("resolution");
                moving()?;
                let outcome = if *approve { "approve" } else { "refuse" };
                m.log = staff_entry(
                    by,
                    "application.resolution",
                    number,
                    true,
                    json!({"stage": stage, "resolution_no": no, "date": date, "decision": outcome, "asset": asset_code}),
                );
                m.step = Some(NewStep {
                    kind: "resolution",
                    outcome: Some(outcome.into()),
                    text: Some(text),
                    reference: Some(no),
                    ref_date: Some(date),
                    ..NewStep::default()
                });
                m.next_stage = Some(next());
                m
            }
            StaffAction::Decide { approve, text } => {
                if def.produces != Produces::Decision {
                    return Err(wrong_stage(
                        "a decision is recorded at the officials' decision stage",
                    ));
                }
                let text = bounded("text", text, MAX_TEXT_CHARS)?;
                let mut m = base("decision");
                moving()?;
                let outcome = if *approve { "approve" } else { "refuse" };
                m.log = staff_entry(
                    by,
                    "application.decision",
                    number,
                    true,
                    json!({"stage": stage, "decision": outcome, "asset": asset_code}),
                );
                m.step = Some(NewStep {
                    kind: "decision",
                    outcome: Some(outcome.into()),
                    text: Some(text),
                    reference: Some(format!("{number}/D")),
                    ref_date: Some(OffsetDateTime::now_utc().to_offset(IST).date().to_string()),
                    ..NewStep::default()
                });
                m.next_stage = Some(next());
                m
            }
            StaffAction::Issue => {
                if def.produces != Produces::Letter {
                    return Err(wrong_stage(
                        "the letter is issued at the communication stage",
                    ));
                }
                let m0 = base("letter");
                moving()?;
                let steps = self.store.case_steps(c.id).await?;
                let decisive = steps
                    .iter()
                    .rev()
                    .find(|s| matches!(s.kind.as_str(), "resolution" | "decision"))
                    .cloned()
                    .ok_or_else(|| {
                        wrong_stage("no resolution or decision is recorded to communicate")
                    })?;
                let approve = decisive.outcome.as_deref() == Some("approve");
                let letter =
                    super::letters::decision_letter(&t, &c, asset.as_deref(), &decisive, &steps)?;
                let title = format!(
                    "{number}: {} ({})",
                    if approve { "approval" } else { "refusal" },
                    t.name.en
                );
                let (sha, _, _) = self
                    .put_document_bytes(
                        letter,
                        &title,
                        c.asset_id,
                        false,
                        crate::documents::DocKind::Order,
                        &by.name,
                    )
                    .await?;
                let mut m = m0;
                // On record private until the move commits; public with it.
                m.publish = Some(sha.clone());
                m.to_state = "decided";
                m.next_stage = Some(None);
                m.step = Some(NewStep {
                    kind: "letter",
                    outcome: decisive.outcome.clone(),
                    document: Some(sha.clone()),
                    ..NewStep::default()
                });
                m.closing = Some(Closing {
                    outcome: if approve { "approved" } else { "refused" },
                    decided_by: if decisive.kind == "resolution" {
                        "mic"
                    } else {
                        "officials"
                    }
                    .into(),
                    decision_ref: decisive.reference.clone(),
                    decision_date: decisive.ref_date.clone(),
                    letter_sha256: sha.clone(),
                });
                m.log = staff_entry(
                    by,
                    "application.decided",
                    number,
                    true,
                    json!({"decision": if approve { "approved" } else { "refused" }, "letter": sha, "asset": asset_code,
                           "ref": decisive.reference, "date": decisive.ref_date}),
                );
                let graded = asset
                    .as_ref()
                    .is_some_and(|a| a.layer == Layer::Heritage && a.attrs.grade.is_some());
                let released = match c.asset_id {
                    Some(id) => self
                        .store
                        .heritage_lock(id)
                        .await?
                        .is_some_and(|l| l.state == "released"),
                    None => false,
                };
                // A released building stays released: an approval never locks it again.
                if approve && graded && !released {
                    m.lock = Some(LockChange {
                        asset: c.asset_id.unwrap_or(AssetId(0)),
                        state: "cleared",
                        application: Some(number.to_string()),
                        reason: format!(
                            "{number} approved: {} {}",
                            if decisive.kind == "resolution" {
                                "MIC resolution"
                            } else {
                                "order"
                            },
                            decisive.reference.clone().unwrap_or_default()
                        ),
                    });
                }
                notice = Some(decision_notice(
                    &c,
                    &t,
                    approve,
                    &format!("{base_url}/verify/{sha}"),
                    &format!("{base_url}/#application/{number}"),
                ));
                m
            }
        };
        if !self.store.move_case(&m).await? {
            return Err(AppError::Conflict(format!(
                "{number} moved meanwhile (someone else acted on it); reload it"
            )));
        }
        if let Some(l) = &m.lock {
            self.lock_recorded(
                l.asset,
                crate::model::LockMark::new(l.state, l.application.clone()),
            );
        }
        if let Some((subject, text)) = notice {
            self.tell_applicant(&c, action.name(), subject, text);
        }
        let c = self.submitted(number).await?;
        self.case_view(&c, true).await
    }

    /// Tells the applicant, after the step is committed; a message that cannot be sent
    /// is logged (the applicant also sees every request and decision in their account).
    fn tell_applicant(&self, c: &CaseRow, what: &'static str, subject: String, text: String) {
        let Some(senders) = self.senders() else {
            return;
        };
        let email = c.applicant_contact.contains('@');
        let p = Plain {
            id: format!(
                "app-{}-{}",
                c.number.as_deref().unwrap_or(&c.draft),
                hex::encode(rand::random::<[u8; 4]>())
            ),
            email: email.then(|| c.applicant_contact.clone()),
            phone: (!email).then(|| c.applicant_contact.clone()),
            lang: c.language.parse().unwrap_or(Lang::En),
            subject,
            text,
            event: "application.updated",
            data: json!({"number": c.number, "what": what}),
        };
        let (mail, hook) = (
            senders.notifiers.email.clone(),
            senders.notifiers.webhook.clone(),
        );
        tokio::spawn(async move {
            let sent = match (email, mail, hook) {
                (true, Some(m), _) => m.send_plain(&p).await,
                (false, _, Some(h)) => h.send_plain(&p).await,
                _ => return,
            };
            if let Err(e) = sent {
                tracing::warn!(id = p.id, error = %e, "an applicant was not told of a step");
            }
        });
    }

    /// The cases at the stages `by`'s duties cover (admins: all), oldest first.
    pub async fn desk(
        &self,
        by: &User,
        stage: Option<&str>,
        type_code: Option<&str>,
    ) -> Result<Vec<DeskItem>, AppError> {
        if by.role == Role::FieldStaff {
            return Err(AppError::Forbidden("the desk is for officers".into()));
        }
        let now = OffsetDateTime::now_utc();
        // The stages of every type the user's duties cover, filtered as asked.
        let mut covered = Vec::new();
        for t in &self.app_types {
            if type_code.is_some_and(|x| x != t.code) {
                continue;
            }
            for (code, def) in &t.stages {
                if may_act(by, &def.duty) && stage.is_none_or(|s| s == code) {
                    covered.push((t.code.clone(), code.clone()));
                }
            }
        }
        let mut out = Vec::new();
        for (c, on_agenda) in self.store.open_cases(&covered, DESK_MAX).await? {
            let t = self.type_of(&c).await?;
            let Some(st) = c.stage.clone() else { continue };
            let Some(def) = t.stages.get(&st) else {
                continue;
            };
            if !may_act(by, &def.duty) {
                continue;
            }
            let stages = self.store.case_stages(c.id).await?;
            let Some(open) = stages.iter().rfind(|s| s.ended_at.is_none()) else {
                continue;
            };
            let p = self.case_pauses(c.id).await?;
            let (days, within) = stage_clock(open, &p, now);
            out.push(DeskItem {
                number: c.number.clone().unwrap_or_default(),
                kind: c.type_code.clone(),
                asset: self.asset_ref(c.asset_id),
                work: c.work.clone(),
                stage: st,
                stage_name: def.name.clone(),
                duty: def.duty.clone(),
                started_at: open.started_at.clone(),
                limit_days: open.limit_days,
                days_used: days,
                overdue: !within,
                awaiting_applicant: c.state == "awaiting_applicant",
                on_agenda,
            });
        }
        Ok(out)
    }

    async fn case_pauses(&self, case: i64) -> Result<Vec<Pause>, StoreError> {
        let r: Vec<(String, Option<String>)> = self
            .store
            .case_requests(case)
            .await?
            .into_iter()
            .map(|r| (r.asked_at, r.answered_at))
            .collect();
        Ok(pauses(&r))
    }

    // ---- HCC meetings --------------------------------------------------------------

    fn hcc_stage(&self) -> Option<(String, String)> {
        self.app_types.iter().find_map(|t| {
            t.stages
                .iter()
                .find(|(_, d)| d.produces == Produces::Recommendation)
                .map(|(code, d)| (code.clone(), d.duty.clone()))
        })
    }

    fn hcc_duty(&self, by: &User) -> Result<String, AppError> {
        let (stage, duty) = self.hcc_stage().ok_or_else(|| {
            AppError::NotFound("no application type has a committee stage".into())
        })?;
        if !may_act(by, &duty) {
            return Err(AppError::Forbidden(format!(
                "the committee's business needs the duty {duty}"
            )));
        }
        Ok(stage)
    }

    pub async fn create_meeting(
        &self,
        by: &User,
        date: &str,
    ) -> Result<crate::store::Meeting, AppError> {
        let stage = self.hcc_duty(by)?;
        let date = check_date(date)?;
        let log = staff_entry(by, "hcc.meeting", "", true, json!({"date": date}));
        let id = self
            .store
            .create_meeting(&date, &stage, by.id, &now_rfc3339(), &log)
            .await?;
        self.meeting(by, id).await
    }

    pub async fn meetings(&self, by: &User) -> Result<Vec<crate::store::Meeting>, AppError> {
        if by.role == Role::FieldStaff {
            return Err(AppError::Forbidden("meetings are for officers".into()));
        }
        let mut all = self.store.meetings().await?;
        for m in &mut all {
            self.name_premises(m);
        }
        Ok(all)
    }

    /// Each agenda item's premises, as the register names them.
    fn name_premises(&self, m: &mut crate::store::Meeting) {
        for item in &mut m.agenda {
            item.asset = self
                .asset_ref(item.asset_id)
                .and_then(|a| serde_json::to_value(a).ok());
        }
    }

    pub async fn meeting(&self, by: &User, id: i64) -> Result<crate::store::Meeting, AppError> {
        if by.role == Role::FieldStaff {
            return Err(AppError::Forbidden("meetings are for officers".into()));
        }
        let mut m = self
            .store
            .meeting(id)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("no meeting {id}")))?;
        self.name_premises(&mut m);
        Ok(m)
    }

    /// Records the committee's recommendation on a case of a meeting's agenda; the case
    /// moves to the next stage (the Mayor-in-Council).
    pub async fn recommend(
        &self,
        by: &User,
        meeting: i64,
        number: &str,
        approve: bool,
        text: &str,
    ) -> Result<CaseView, AppError> {
        let stage = self.hcc_duty(by)?;
        let m = self.meeting(by, meeting).await?;
        if m.state != "scheduled" {
            return Err(AppError::Conflict(format!(
                "meeting {meeting} is {}: its minutes are on record",
                m.state
            )));
        }
        let c = self.submitted(number).await?;
        let item = m.agenda.iter().find(|a| a.case == c.id).ok_or_else(|| {
            AppError::Conflict(format!(
                "{number} is not on the agenda of meeting {meeting}"
            ))
        })?;
        if item.recommendation.is_some() {
            return Err(AppError::Conflict(format!(
                "the recommendation on {number} is already recorded"
            )));
        }
        if c.stage.as_deref() != Some(stage.as_str()) || c.state != "open" {
            return Err(AppError::Conflict(format!(
                "{number} is not waiting for the committee (it is {} at {})",
                c.state,
                c.stage.as_deref().unwrap_or("no stage")
            )));
        }
        let t = self.type_of(&c).await?;
        let text = bounded("text", text, MAX_TEXT_CHARS)?;
        let next = c
            .path
            .iter()
            .position(|s| *s == stage)
            .and_then(|i| c.path.get(i + 1))
            .and_then(|s| Some((s.clone(), t.stages.get(s)?.days)));
        let outcome = if approve { "approve" } else { "refuse" };
        let asset_code = self
            .asset_ref(c.asset_id)
            .map(|a| a.code)
            .unwrap_or_default();
        let mv = Move {
            case: c.id,
            from_state: "open",
            from_stage: Some(stage.clone()),
            to_state: "open",
            next_stage: Some(next),
            step: Some(NewStep {
                kind: "recommendation",
                outcome: Some(outcome.into()),
                text: Some(text),
                meeting: Some(meeting),
                reference: Some(format!("HCC meeting {meeting}")),
                ref_date: Some(m.date.clone()),
                ..NewStep::default()
            }),
            request: None,
            answer: None,
            closing: None,
            lock: None,
            agenda: Some((meeting, outcome.into())),
            publish: None,
            actor: Some(by.id),
            at: now_rfc3339(),
            log: staff_entry(
                by,
                "application.recommendation",
                number,
                true,
                json!({"meeting": meeting, "date": m.date, "recommendation": outcome, "asset": asset_code}),
            ),
        };
        if !self.store.move_case(&mv).await? {
            return Err(AppError::Conflict(format!(
                "{number} moved meanwhile; reload it"
            )));
        }
        let c = self.submitted(number).await?;
        self.case_view(&c, true).await
    }

    /// The minutes of a meeting, put in the document store (public); the meeting is held.
    pub async fn meeting_minutes(
        &self,
        by: &User,
        meeting: i64,
        bytes: Vec<u8>,
    ) -> Result<crate::store::Meeting, AppError> {
        self.hcc_duty(by)?;
        let m = self.meeting(by, meeting).await?;
        if m.minutes.is_some() {
            return Err(AppError::Conflict(format!(
                "the minutes of meeting {meeting} are on record: /documents/{}",
                m.minutes.as_deref().unwrap_or_default()
            )));
        }
        if crate::history::document_type(&bytes) != Some("application/pdf") {
            return Err(AppError::Document(HistoryError::Unsupported(
                "the minutes are a PDF".into(),
            )));
        }
        let title = format!(
            "Heritage Conservation Committee: minutes of the meeting of {}",
            m.date
        );
        let (sha, _, _) = self
            .put_document_bytes(
                bytes,
                &title,
                None,
                true,
                crate::documents::DocKind::Minutes,
                &by.name,
            )
            .await?;
        let log = staff_entry(
            by,
            "hcc.minutes",
            &format!("hcc-{meeting}"),
            true,
            json!({"minutes": sha}),
        );
        self.store
            .meeting_minutes(meeting, &sha, &now_rfc3339(), &log)
            .await?;
        self.meeting(by, meeting).await
    }

    // ---- readings ------------------------------------------------------------------

    fn asset_ref(&self, id: Option<AssetId>) -> Option<AssetRef> {
        let a = self.index.get(id?)?;
        Some(AssetRef {
            code: a.code.clone(),
            name: a.attrs.name.clone(),
            name_bn: a.attrs.name_bn.clone(),
            grade: grade_of(&a),
        })
    }

    fn stage_views(
        t: &AppType,
        stages: &[StageRow],
        p: &[Pause],
        now: OffsetDateTime,
    ) -> Vec<StageView> {
        stages
            .iter()
            .map(|s| {
                let (days, within) = stage_clock(s, p, now);
                StageView {
                    stage: s.stage.clone(),
                    name: t
                        .stages
                        .get(&s.stage)
                        .map(|d| d.name.clone())
                        .unwrap_or_else(|| Text {
                            en: s.stage.clone(),
                            bn: s.stage.clone(),
                        }),
                    started_at: s.started_at.clone(),
                    ended_at: s.ended_at.clone(),
                    limit_days: s.limit_days,
                    days_used: days,
                    within_limit: within,
                }
            })
            .collect()
    }

    fn decision_view(c: &CaseRow) -> Option<DecisionView> {
        let outcome = c.outcome.clone()?;
        Some(DecisionView {
            decision: outcome,
            by: c.decided_by.clone().unwrap_or_default(),
            resolution_no: c.decision_ref.clone(),
            date: c.decision_date.clone(),
            letter: c.letter_sha256.clone().map(|sha| LetterRef {
                verify_url: format!("/verify/{sha}"),
                sha256: sha,
            }),
        })
    }

    fn next_stages(c: &CaseRow) -> Vec<String> {
        if c.state == "decided" || c.state == "withdrawn" {
            return Vec::new();
        }
        let Some(cur) = &c.stage else {
            return Vec::new();
        };
        c.path
            .iter()
            .skip_while(|s| *s != cur)
            .skip(1)
            .cloned()
            .collect()
    }

    async fn case_view(&self, c: &CaseRow, staff: bool) -> Result<CaseView, AppError> {
        let t = self.type_of(c).await?;
        let files = self.store.case_files(c.id).await?;
        let stages = self.store.case_stages(c.id).await?;
        let requests = self.store.case_requests(c.id).await?;
        let p = pauses(
            &requests
                .iter()
                .map(|r| (r.asked_at.clone(), r.answered_at.clone()))
                .collect::<Vec<_>>(),
        );
        let now = OffsetDateTime::now_utc();
        let missing = (c.state == "draft").then(|| Self::missing(&t, c, &files));
        Ok(CaseView {
            key: c.number.clone().unwrap_or_else(|| c.draft.clone()),
            number: c.number.clone(),
            draft: c.draft.clone(),
            kind: TypeRef {
                code: t.code.clone(),
                version: t.version,
                name: t.name.clone(),
            },
            asset: self.asset_ref(c.asset_id),
            work: c.work.clone(),
            fields: c.fields.clone(),
            files,
            language: c.language.clone(),
            state: c.state.clone(),
            stage: c.stage.clone(),
            outcome: c.outcome.clone(),
            created_at: c.created_at.clone(),
            updated_at: c.updated_at.clone(),
            submitted_at: c.submitted_at.clone(),
            decided_at: c.decided_at.clone(),
            stages: Self::stage_views(&t, &stages, &p, now),
            next_stages: Self::next_stages(c),
            requests,
            decision: Self::decision_view(c),
            missing,
            applicant: staff.then(|| json!({"contact": c.applicant_contact})),
            steps: if staff {
                Some(self.store.case_steps(c.id).await?)
            } else {
                None
            },
        })
    }

    /// What anyone with the number sees: never the applicant, the form, files or notes.
    pub async fn track(&self, number: &str) -> Result<TrackView, AppError> {
        let c = self.submitted(number).await?;
        let t = self.type_of(&c).await?;
        let stages = self.store.case_stages(c.id).await?;
        let requests = self.store.case_requests(c.id).await?;
        let p = pauses(
            &requests
                .iter()
                .map(|r| (r.asked_at.clone(), r.answered_at.clone()))
                .collect::<Vec<_>>(),
        );
        Ok(TrackView {
            number: c.number.clone().unwrap_or_default(),
            kind: TypeRef {
                code: t.code.clone(),
                version: t.version,
                name: t.name.clone(),
            },
            asset: self.asset_ref(c.asset_id),
            work_name: c.work.as_ref().and_then(|w| t.works.get(w).cloned()),
            work: c.work.clone(),
            state: c.state.clone(),
            stage: c.stage.clone(),
            outcome: c.outcome.clone(),
            submitted_at: c.submitted_at.clone(),
            decided_at: c.decided_at.clone(),
            awaiting_applicant_since: requests
                .iter()
                .rfind(|r| r.answered_at.is_none())
                .map(|r| r.asked_at.clone()),
            stages: Self::stage_views(&t, &stages, &p, OffsetDateTime::now_utc()),
            next_stages: Self::next_stages(&c),
            decision: Self::decision_view(&c),
        })
    }

    /// The public register of decisions, newest first, and how many there are.
    pub async fn decisions(
        &self,
        type_code: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<RegisterItem>, i64), AppError> {
        let (rows, n) = self.store.decided_cases(type_code, limit, offset).await?;
        let mut out = Vec::with_capacity(rows.len());
        for c in rows {
            let t = self.type_of(&c).await?;
            let Some(decision) = Self::decision_view(&c) else {
                continue;
            };
            out.push(RegisterItem {
                number: c.number.clone().unwrap_or_default(),
                kind: TypeRef {
                    code: t.code.clone(),
                    version: t.version,
                    name: t.name.clone(),
                },
                asset: self.asset_ref(c.asset_id),
                work_name: c.work.as_ref().and_then(|w| t.works.get(w).cloned()),
                work: c.work.clone(),
                submitted_at: c.submitted_at.clone(),
                decided_at: c.decided_at.clone(),
                decision,
            });
        }
        Ok((out, n))
    }

    /// Per type and stage: how many stages ended, their median days and the share within
    /// the limit; how many are open and overdue now.
    pub async fn application_stats(&self) -> Result<Vec<TypeStats>, AppError> {
        let spans = self.store.stage_spans().await?;
        let mut by_case: BTreeMap<i64, Vec<(String, Option<String>)>> = BTreeMap::new();
        for (case, a, b) in self.store.request_spans().await? {
            by_case.entry(case).or_default().push((a, b));
        }
        let now = OffsetDateTime::now_utc();
        let counts = self.store.decision_counts().await?;
        let mut out = Vec::new();
        for t in &self.app_types {
            let mut stages = Vec::new();
            let mut cases = BTreeSet::new();
            for (code, def) in &t.stages {
                let mut done = Vec::new();
                let (mut open, mut overdue) = (0, 0);
                for s in spans
                    .iter()
                    .filter(|s| s.type_code == t.code && &s.stage == code)
                {
                    cases.insert(s.case);
                    let p = pauses(by_case.get(&s.case).map_or(&[][..], Vec::as_slice));
                    let row = StageRow {
                        stage: s.stage.clone(),
                        limit_days: s.limit_days,
                        started_at: s.started_at.clone(),
                        ended_at: s.ended_at.clone(),
                    };
                    let (days, within) = stage_clock(&row, &p, now);
                    if s.ended_at.is_some() {
                        done.push((days, within));
                    } else {
                        open += 1;
                        overdue += usize::from(!within);
                    }
                }
                done.sort_by(|a, b| a.0.total_cmp(&b.0));
                let median = (!done.is_empty()).then(|| {
                    let n = done.len();
                    if n % 2 == 1 {
                        done[n / 2].0
                    } else {
                        ((done[n / 2 - 1].0 + done[n / 2].0) / 2.0 * 10.0).round() / 10.0
                    }
                });
                let share = (!done.is_empty()).then(|| {
                    let w = done.iter().filter(|d| d.1).count();
                    (w as f64 / done.len() as f64 * 1000.0).round() / 1000.0
                });
                stages.push(StageStats {
                    stage: code.clone(),
                    name: def.name.clone(),
                    limit_days: def.days,
                    done: done.len(),
                    median_days: median,
                    within_limit_share: share,
                    open,
                    overdue,
                });
            }
            let of = |outcome: Option<&str>| -> usize {
                counts
                    .iter()
                    .filter(|(ty, o, _)| *ty == t.code && outcome.is_none_or(|x| x == o))
                    .map(|(_, _, n)| *n as usize)
                    .sum()
            };
            out.push(TypeStats {
                kind: t.code.clone(),
                submitted: cases.len(),
                decided: of(None),
                approved: of(Some("approved")),
                stages,
            });
        }
        Ok(out)
    }
}

fn grade_of(a: &crate::model::Asset) -> Option<Grade> {
    (a.layer == Layer::Heritage)
        .then_some(a.attrs.grade)
        .flatten()
}

fn code_hash(contact: &str, code: &str) -> String {
    crate::auth::sha256_hex(&format!("{contact}\n{code}"))
}

fn check_date(d: &str) -> Result<String, AppError> {
    let d = d.trim();
    time::Date::parse(
        d,
        &time::macros::format_description!("[year]-[month]-[day]"),
    )
    .map(|_| d.to_string())
    .map_err(|_| field("date", format!("{d:?} is not a date (YYYY-MM-DD)")))
}

fn request_notice(c: &CaseRow, t: &AppType, what: &str, docs: &[String]) -> (String, String) {
    let number = c.number.as_deref().unwrap_or_default();
    let labels = |bn: bool| {
        docs.iter()
            .filter_map(|d| t.documents.iter().find(|x| &x.code == d))
            .map(|d| {
                if bn {
                    d.label.bn.clone()
                } else {
                    d.label.en.clone()
                }
            })
            .collect::<Vec<_>>()
            .join("; ")
    };
    if c.language == "bn" {
        (
            format!("{number}: আরও নথি চাওয়া হয়েছে"),
            format!("আপনার আবেদন {number}-এর জন্য বিভাগ জানতে চেয়েছে: {what}\n{}\nউত্তর না দেওয়া পর্যন্ত সময় গোনা বন্ধ থাকবে। আপনার আবেদনের পাতায় উত্তর দিন।", labels(true)),
        )
    } else {
        (
            format!("{number}: more is asked of you"),
            format!("The department asks, on your application {number}: {what}\n{}\nThe clock stops until you answer. Answer on your application's page.", labels(false)),
        )
    }
}

fn decision_notice(
    c: &CaseRow,
    t: &AppType,
    approve: bool,
    verify: &str,
    track: &str,
) -> (String, String) {
    let number = c.number.as_deref().unwrap_or_default();
    if c.language == "bn" {
        let d = if approve {
            "অনুমোদিত"
        } else {
            "নামঞ্জুর"
        };
        (
            format!("{number}: {d}"),
            format!(
                "আপনার আবেদন {number} ({}) {d}। সিদ্ধান্তপত্র যাচাই করুন: {verify}\n{track}",
                t.name.bn
            ),
        )
    } else {
        let d = if approve { "approved" } else { "refused" };
        (
            format!("{number}: {d}"),
            format!("Your application {number} ({}) is {d}. The decision letter, to verify: {verify}\n{track}", t.name.en),
        )
    }
}
