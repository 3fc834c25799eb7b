//! Applications as cases (see `migrations/0010_applications.sql`): applicants and their
//! one-time codes, drafts, submission with a number, the stages a case passes through,
//! requests to the applicant, what staff record, and HCC meetings.
//!
//! Every move of a case is one [`Move`] applied in one durable transaction with its audit
//! entry, guarded by the state and stage the caller saw: two officers acting on the same
//! case at once cannot both move it ([`Store::move_case`] answers `false` to the second).

use serde_json::{Map, Value};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row};

use super::Sql;

use super::{audit, AuditEntry, Result, Store, StoreError};
use crate::model::AssetId;

/// A case as stored.
#[derive(Debug, Clone)]
pub struct CaseRow {
    pub id: i64,
    pub draft: String,
    pub number: Option<String>,
    pub type_code: String,
    pub type_version: u32,
    pub applicant_id: i64,
    pub applicant_contact: String,
    pub asset_id: Option<AssetId>,
    pub work: Option<String>,
    pub fields: Map<String, Value>,
    pub language: String,
    pub state: String,
    pub path: Vec<String>,
    pub stage: Option<String>,
    pub outcome: Option<String>,
    pub decided_by: Option<String>,
    pub decision_ref: Option<String>,
    pub decision_date: Option<String>,
    pub letter_sha256: Option<String>,
    pub rev: i64,
    pub created_at: String,
    pub updated_at: String,
    pub submitted_at: Option<String>,
    pub decided_at: Option<String>,
}

/// A file an applicant gave.
#[derive(Debug, Clone, serde::Serialize)]
pub struct CaseFile {
    pub doc: String,
    pub sha256: String,
    pub name: Option<String>,
    pub size: i64,
    pub media_type: String,
    pub added_at: String,
    pub request: Option<i64>,
}

/// A stage a case entered.
#[derive(Debug, Clone)]
pub struct StageRow {
    pub stage: String,
    pub limit_days: u32,
    pub started_at: String,
    pub ended_at: Option<String>,
}

/// A request to the applicant.
#[derive(Debug, Clone, serde::Serialize)]
pub struct RequestRow {
    pub id: i64,
    pub stage: String,
    pub what: String,
    pub documents: Vec<String>,
    pub asked_at: String,
    pub answered_at: Option<String>,
    pub answer: Option<String>,
}

/// Something staff recorded.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StepRow {
    pub id: i64,
    pub stage: String,
    pub kind: String,
    pub outcome: Option<String>,
    pub text: Option<String>,
    #[serde(rename = "ref")]
    pub reference: Option<String>,
    pub ref_date: Option<String>,
    pub meeting: Option<i64>,
    pub document: Option<String>,
    pub at: String,
    pub by: Option<String>,
}

/// A step to record.
#[derive(Debug, Clone, Default)]
pub struct NewStep {
    pub kind: &'static str,
    pub outcome: Option<String>,
    pub text: Option<String>,
    pub reference: Option<String>,
    pub ref_date: Option<String>,
    pub meeting: Option<i64>,
    pub document: Option<String>,
}

/// The decision a case closes with.
#[derive(Debug, Clone)]
pub struct Closing {
    pub outcome: &'static str,
    pub decided_by: String,
    pub decision_ref: Option<String>,
    pub decision_date: Option<String>,
    pub letter_sha256: String,
}

/// A heritage lock to set with a move.
#[derive(Debug, Clone)]
pub struct LockChange {
    pub asset: AssetId,
    pub state: &'static str,
    pub application: Option<String>,
    pub reason: String,
}

/// One move of a case, applied whole or not at all.
#[derive(Debug, Clone)]
pub struct Move {
    pub case: i64,
    /// The state and stage the caller saw; the move is refused if either changed.
    pub from_state: &'static str,
    pub from_stage: Option<String>,
    pub to_state: &'static str,
    /// End the open stage and open this one (with its limit), or just end it (`None`
    /// inner) when the case closes.
    pub next_stage: Option<Option<(String, u32)>>,
    pub step: Option<NewStep>,
    pub request: Option<(String, Vec<String>)>,
    /// Answer the open request with this text.
    pub answer: Option<String>,
    pub closing: Option<Closing>,
    pub lock: Option<LockChange>,
    /// Record the recommendation on a meeting's agenda.
    pub agenda: Option<(i64, String)>,
    /// A document (the letter, put on record private) made public with the move.
    pub publish: Option<String>,
    pub actor: Option<i64>,
    pub at: String,
    pub log: AuditEntry,
}

/// What asking for a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeIssue {
    Issued,
    /// Asked again too soon, or too often this hour: seconds to wait.
    Wait(i64),
}

/// What checking a code found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CodeCheck {
    /// Right: the applicant (made now if new).
    Applicant(i64),
    Wrong,
    /// None outstanding, expired, or too many wrong tries.
    NoCode,
}

/// An HCC meeting with its agenda.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Meeting {
    pub id: i64,
    pub date: String,
    pub state: String,
    pub minutes: Option<String>,
    pub created_at: String,
    pub agenda: Vec<AgendaItem>,
}

/// A case on a meeting's agenda.
#[derive(Debug, Clone, serde::Serialize)]
pub struct AgendaItem {
    #[serde(skip)]
    pub case: i64,
    #[serde(skip)]
    pub asset_id: Option<AssetId>,
    pub number: String,
    /// The premises, filled in by the atlas (code, names, grade).
    pub asset: Option<Value>,
    pub work: Option<String>,
    pub position: i64,
    pub recommendation: Option<String>,
}

/// A stage as the statistics count it.
#[derive(Debug, Clone)]
pub struct StageSpan {
    pub case: i64,
    pub type_code: String,
    pub stage: String,
    pub limit_days: u32,
    pub started_at: String,
    pub ended_at: Option<String>,
}

const CASE_COLUMNS: &str = "c.id, c.draft, c.number, c.type_code, c.type_version, c.applicant_id, \
     a.contact, c.asset_id, c.work, c.fields, c.language, c.state, c.path, c.stage, c.outcome, \
     c.decided_by, c.decision_ref, c.decision_date, c.letter_sha256, c.rev, c.created_at, c.updated_at, \
     c.submitted_at, c.decided_at";

fn corrupt(id: i64, what: String) -> StoreError {
    StoreError::Corrupt {
        table: "application",
        id,
        what,
    }
}

fn decode_case(r: &AnyRow) -> Result<CaseRow> {
    let id: i64 = r.try_get("id")?;
    let fields: String = r.try_get("fields")?;
    let fields = match serde_json::from_str(&fields) {
        Ok(Value::Object(m)) => m,
        _ => return Err(corrupt(id, "fields are not a JSON object".into())),
    };
    let path: Option<String> = r.try_get("path")?;
    let path = match path {
        Some(p) => serde_json::from_str(&p).map_err(|e| corrupt(id, format!("path: {e}")))?,
        None => Vec::new(),
    };
    Ok(CaseRow {
        id,
        draft: r.try_get("draft")?,
        number: r.try_get("number")?,
        type_code: r.try_get("type_code")?,
        type_version: r.try_get::<i64, _>("type_version")? as u32,
        applicant_id: r.try_get("applicant_id")?,
        applicant_contact: r.try_get("contact")?,
        asset_id: r.try_get::<Option<i64>, _>("asset_id")?.map(AssetId),
        work: r.try_get("work")?,
        fields,
        language: r.try_get("language")?,
        state: r.try_get("state")?,
        path,
        stage: r.try_get("stage")?,
        outcome: r.try_get("outcome")?,
        decided_by: r.try_get("decided_by")?,
        decision_ref: r.try_get("decision_ref")?,
        decision_date: r.try_get("decision_date")?,
        letter_sha256: r.try_get("letter_sha256")?,
        rev: r.try_get("rev")?,
        created_at: r.try_get("created_at")?,
        updated_at: r.try_get("updated_at")?,
        submitted_at: r.try_get("submitted_at")?,
        decided_at: r.try_get("decided_at")?,
    })
}

fn seconds_between(a: &str, b: &str) -> i64 {
    let parse = |s: &str| {
        time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok()
    };
    match (parse(a), parse(b)) {
        (Some(a), Some(b)) => (b - a).whole_seconds(),
        _ => i64::MAX,
    }
}

/// Seconds between two sends of a code to one contact, and codes an hour.
pub const CODE_GAP_S: i64 = 30;
pub const CODES_PER_HOUR: i64 = 5;
pub const CODES_PER_DAY: i64 = 10;
/// Wrong tries a code allows.
pub const CODE_TRIES: i64 = 5;

impl Store {
    /// Records a new code for `contact` unless one was sent too recently.
    pub async fn issue_applicant_code(
        &self,
        contact: &str,
        code_sha256: &str,
        now: &str,
        expires_at: &str,
    ) -> Result<CodeIssue> {
        let mut tx = self.write_tx(&self.durable).await?;
        let row = sqlx::query(
            "SELECT sent_at, hour_start, hour_count, day_start, day_count FROM applicant_codes \
             WHERE contact = $1",
        )
        .bind(contact)
        .fetch_optional(&mut *tx)
        .await?;
        let now_s = now.to_string();
        let ((hour_start, hour_count), (day_start, day_count)) = match row {
            Some(r) => {
                let sent: String = r.try_get("sent_at")?;
                let since = seconds_between(&sent, now);
                if since < CODE_GAP_S {
                    return Ok(CodeIssue::Wait(CODE_GAP_S - since.max(0)));
                }
                // A window of `span` seconds holding at most `max` codes.
                let window = |start: String, count: i64, span: i64, max: i64| {
                    let gone = seconds_between(&start, now);
                    if gone >= span {
                        Ok((now_s.clone(), 1))
                    } else if count >= max {
                        Err(CodeIssue::Wait(span - gone.max(0)))
                    } else {
                        Ok((start, count + 1))
                    }
                };
                let hour = window(
                    r.try_get("hour_start")?,
                    r.try_get("hour_count")?,
                    3600,
                    CODES_PER_HOUR,
                );
                let day = window(
                    r.try_get("day_start")?,
                    r.try_get("day_count")?,
                    86_400,
                    CODES_PER_DAY,
                );
                match (hour, day) {
                    (Ok(h), Ok(d)) => (h, d),
                    (Err(w), _) | (_, Err(w)) => return Ok(w),
                }
            }
            None => ((now_s.clone(), 1), (now_s.clone(), 1)),
        };
        sqlx::query(
            "INSERT INTO applicant_codes (contact, code_sha256, expires_at, tries, sent_at, \
             hour_start, hour_count, day_start, day_count) VALUES ($1, $2, $3, 0, $4, $5, $6, $7, $8) \
             ON CONFLICT (contact) DO UPDATE SET code_sha256 = $2, expires_at = $3, tries = 0, \
             sent_at = $4, hour_start = $5, hour_count = $6, day_start = $7, day_count = $8",
        )
        .bind(contact)
        .bind(code_sha256)
        .bind(expires_at)
        .bind(now)
        .bind(&hour_start)
        .bind(hour_count)
        .bind(&day_start)
        .bind(day_count)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(CodeIssue::Issued)
    }

    /// Forgets the code outstanding for `contact` (it could not be sent); the sending
    /// limits still count it.
    pub async fn clear_applicant_code(&self, contact: &str) -> Result<()> {
        sqlx::query("UPDATE applicant_codes SET code_sha256 = '' WHERE contact = $1")
            .bind(contact)
            .execute(&self.durable)
            .await?;
        Ok(())
    }

    /// An applicant's drafts.
    pub async fn draft_count(&self, applicant: i64) -> Result<i64> {
        Ok(sqlx::query_scalar(
            "SELECT count(*) FROM applications WHERE applicant_id = $1 AND state = 'draft'",
        )
        .bind(applicant)
        .fetch_one(&self.pool)
        .await?)
    }

    /// Checks a code; a right one is used up and the applicant made if new.
    pub async fn check_applicant_code(
        &self,
        contact: &str,
        channel: &str,
        language: &str,
        code_sha256: &str,
        now: &str,
    ) -> Result<CodeCheck> {
        let mut tx = self.write_tx(&self.durable).await?;
        let row = sqlx::query(
            "SELECT code_sha256, expires_at, tries FROM applicant_codes WHERE contact = $1",
        )
        .bind(contact)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(r) = row else {
            return Ok(CodeCheck::NoCode);
        };
        let stored: String = r.try_get("code_sha256")?;
        let expires: String = r.try_get("expires_at")?;
        let tries: i64 = r.try_get("tries")?;
        if stored.is_empty() || tries >= CODE_TRIES || seconds_between(now, &expires) <= 0 {
            return Ok(CodeCheck::NoCode);
        }
        if !crate::auth::constant_time_eq(stored.as_bytes(), code_sha256.as_bytes()) {
            sqlx::query("UPDATE applicant_codes SET tries = tries + 1 WHERE contact = $1")
                .bind(contact)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            return Ok(CodeCheck::Wrong);
        }
        // Used up, but the row stays: it carries the sending limits.
        sqlx::query("UPDATE applicant_codes SET code_sha256 = '' WHERE contact = $1")
            .bind(contact)
            .execute(&mut *tx)
            .await?;
        sqlx::query(
            "INSERT INTO applicants (contact, channel, language, created_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (contact) DO NOTHING",
        )
        .bind(contact)
        .bind(channel)
        .bind(language)
        .bind(now)
        .execute(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar("SELECT id FROM applicants WHERE contact = $1")
            .bind(contact)
            .fetch_one(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(CodeCheck::Applicant(id))
    }

    pub async fn create_applicant_session(
        &self,
        token_sha256: &str,
        applicant: i64,
        now: &str,
        expires_at: &str,
    ) -> Result<()> {
        sqlx::query(
            "INSERT INTO applicant_sessions (token_sha256, applicant_id, created_at, expires_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(token_sha256)
        .bind(applicant)
        .bind(now)
        .bind(expires_at)
        .execute(&self.durable)
        .await?;
        Ok(())
    }

    /// The applicant a live token belongs to: (id, contact, channel).
    pub async fn applicant_session(
        &self,
        token_sha256: &str,
        now: &str,
    ) -> Result<Option<(i64, String, String)>> {
        let row = sqlx::query(
            "SELECT a.id, a.contact, a.channel FROM applicant_sessions s \
             JOIN applicants a ON a.id = s.applicant_id \
             WHERE s.token_sha256 = $1 AND s.expires_at > $2",
        )
        .bind(token_sha256)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok((
                r.try_get("id")?,
                r.try_get("contact")?,
                r.try_get("channel")?,
            ))
        })
        .transpose()
    }

    pub async fn delete_applicant_session(&self, token_sha256: &str) -> Result<bool> {
        let done = sqlx::query("DELETE FROM applicant_sessions WHERE token_sha256 = $1")
            .bind(token_sha256)
            .execute(&self.durable)
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Replaces a staff member's duties.
    pub async fn set_duties(&self, user: i64, duties: &[String]) -> Result<()> {
        let mut tx = self.write_tx(&self.durable).await?;
        sqlx::query("DELETE FROM staff_duties WHERE user_id = $1")
            .bind(user)
            .execute(&mut *tx)
            .await?;
        for d in duties {
            sqlx::query(
                "INSERT INTO staff_duties (user_id, duty) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            )
            .bind(user)
            .bind(d)
            .execute(&mut *tx)
            .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn duties(&self, user: i64) -> Result<Vec<String>> {
        Ok(
            sqlx::query_scalar("SELECT duty FROM staff_duties WHERE user_id = $1 ORDER BY duty")
                .bind(user)
                .fetch_all(&self.pool)
                .await?,
        )
    }

    /// A new draft; returns its row.
    #[allow(clippy::too_many_arguments)]
    pub async fn create_draft(
        &self,
        draft: &str,
        type_code: &str,
        type_version: u32,
        applicant: i64,
        asset: Option<AssetId>,
        work: Option<&str>,
        fields: &Map<String, Value>,
        language: &str,
        now: &str,
    ) -> Result<CaseRow> {
        sqlx::query(
            "INSERT INTO applications (draft, type_code, type_version, applicant_id, asset_id, work, \
             fields, language, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
        )
        .bind(draft)
        .bind(type_code)
        .bind(i64::from(type_version))
        .bind(applicant)
        .bind(asset.map(|a| a.0))
        .bind(work)
        .bind(Value::Object(fields.clone()).to_string())
        .bind(language)
        .bind(now)
        .bind(now)
        .execute(&self.durable)
        .await?;
        self.case_by_key(draft)
            .await?
            .ok_or_else(|| corrupt(0, "a draft vanished after insert".into()))
    }

    /// A case by its number or draft id.
    pub async fn case_by_key(&self, key: &str) -> Result<Option<CaseRow>> {
        let row = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM applications c JOIN applicants a ON a.id = c.applicant_id \
             WHERE c.number = $1 OR c.draft = $1"
        ))
        .bind(key)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(decode_case).transpose()
    }

    /// An applicant's cases, newest first.
    pub async fn cases_of(&self, applicant: i64) -> Result<Vec<CaseRow>> {
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM applications c JOIN applicants a ON a.id = c.applicant_id \
             WHERE c.applicant_id = $1 ORDER BY c.id DESC LIMIT 200"
        ))
        .bind(applicant)
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_case).collect()
    }

    /// Cases open at any of `stages` (type code, stage), oldest first, and whether each
    /// is on a scheduled meeting's agenda.
    pub async fn open_cases(
        &self,
        stages: &[(String, String)],
        limit: i64,
    ) -> Result<Vec<(CaseRow, bool)>> {
        if stages.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(format!(
            "SELECT {CASE_COLUMNS}, EXISTS (SELECT 1 FROM hcc_agenda g JOIN hcc_meetings m \
               ON m.id = g.meeting_id WHERE g.application_id = c.id AND m.state = 'scheduled' \
               AND g.recommendation IS NULL) AS on_agenda \
             FROM applications c JOIN applicants a ON a.id = c.applicant_id \
             WHERE c.state IN ('open', 'awaiting_applicant') \
               AND c.type_code || '/' || c.stage IN ("
        ));
        let mut each = q.separated(", ");
        for (t, s) in stages {
            each.push_bind(format!("{t}/{s}"));
        }
        q.push(") ORDER BY c.submitted_at, c.id LIMIT ");
        q.push_bind(limit);
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter()
            .map(|r| Ok((decode_case(r)?, super::flag(r, "on_agenda")?)))
            .collect()
    }

    /// Decided cases per type and outcome.
    pub async fn decision_counts(&self) -> Result<Vec<(String, String, i64)>> {
        let rows = sqlx::query(
            "SELECT type_code, outcome, count(*) AS n FROM applications \
             WHERE state = 'decided' GROUP BY type_code, outcome",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("type_code")?,
                    r.try_get("outcome")?,
                    r.try_get("n")?,
                ))
            })
            .collect()
    }

    /// Decided cases, newest first, with how many there are.
    pub async fn decided_cases(
        &self,
        type_code: Option<&str>,
        limit: i64,
        offset: i64,
    ) -> Result<(Vec<CaseRow>, i64)> {
        let rows = sqlx::query(&format!(
            "SELECT {CASE_COLUMNS} FROM applications c JOIN applicants a ON a.id = c.applicant_id \
             WHERE c.state = 'decided' AND ($1 IS NULL OR c.type_code = $1) \
             ORDER BY c.decided_at DESC NULLS LAST, c.id DESC LIMIT $2 OFFSET $3"
        ))
        .bind(type_code)
        .bind(limit)
        .bind(offset)
        .fetch_all(&self.pool)
        .await?;
        let n: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM applications WHERE state = 'decided' AND ($1 IS NULL OR type_code = $1)",
        )
        .bind(type_code)
        .fetch_one(&self.pool)
        .await?;
        Ok((rows.iter().map(decode_case).collect::<Result<_>>()?, n))
    }

    /// Changes a draft's premises, work, fields and language if it is still a draft at
    /// revision `rev`; false otherwise.
    #[allow(clippy::too_many_arguments)]
    pub async fn update_draft(
        &self,
        id: i64,
        rev: i64,
        asset: Option<AssetId>,
        work: Option<&str>,
        fields: &Map<String, Value>,
        language: &str,
        now: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE applications SET asset_id = $1, work = $2, fields = $3, language = $4, updated_at = $5, \
             rev = rev + 1 WHERE id = $6 AND state = 'draft' AND rev = $7",
        )
        .bind(asset.map(|a| a.0))
        .bind(work)
        .bind(Value::Object(fields.clone()).to_string())
        .bind(language)
                .bind(now)
        .bind(id)
        .bind(rev)
        .execute(&self.durable)
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Links a file to a case: to a draft, or (`request`) while that request is open; at
    /// most `max` files a case. False if the case is no longer where the caller saw it,
    /// or full.
    pub async fn add_case_file(&self, case: i64, f: &CaseFile, max: i64) -> Result<bool> {
        let mut tx = self.write_tx(&self.durable).await?;
        let open: bool = sqlx::query_scalar::<_, super::Flag>(
            "SELECT EXISTS (SELECT 1 FROM applications c WHERE c.id = $1 AND \
               (($2 IS NULL AND c.state = 'draft') OR ($2 IS NOT NULL AND c.state = 'awaiting_applicant' \
                 AND EXISTS (SELECT 1 FROM application_requests r WHERE r.id = $2 \
                             AND r.application_id = c.id AND r.answered_at IS NULL))) \
               AND (SELECT count(*) FROM application_files WHERE application_id = c.id) < $3)",
        )
        .bind(case)
        .bind(f.request)
        .bind(max)
        .fetch_one(&mut *tx)
        .await?.0;
        if !open {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO application_files \
             (application_id, doc, sha256, name, size, media_type, added_at, request_id) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING",
        )
        .bind(case)
        .bind(&f.doc)
        .bind(&f.sha256)
        .bind(&f.name)
        .bind(f.size)
        .bind(&f.media_type)
        .bind(&f.added_at)
        .bind(f.request)
        .execute(&mut *tx)
        .await?;
        sqlx::query("UPDATE applications SET rev = rev + 1, updated_at = $1 WHERE id = $2")
            .bind(&f.added_at)
            .bind(case)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Unlinks a file from a draft.
    pub async fn remove_case_file(&self, case: i64, doc: &str, sha256: &str) -> Result<bool> {
        let mut tx = self.write_tx(&self.durable).await?;
        let done = sqlx::query(
            "DELETE FROM application_files WHERE application_id = $1 AND doc = $2 AND sha256 = $3 \
             AND (SELECT state FROM applications WHERE id = application_id) = 'draft'",
        )
        .bind(case)
        .bind(doc)
        .bind(sha256)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query("UPDATE applications SET rev = rev + 1 WHERE id = $1")
            .bind(case)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(true)
    }

    /// Whether a case holds a file with this hash (any document).
    pub async fn case_file(&self, case: i64, doc: &str, sha256: &str) -> Result<Option<CaseFile>> {
        Ok(self
            .case_files(case)
            .await?
            .into_iter()
            .find(|f| f.doc == doc && f.sha256 == sha256))
    }

    pub async fn case_files(&self, case: i64) -> Result<Vec<CaseFile>> {
        let rows = sqlx::query(
            "SELECT doc, sha256, name, size, media_type, added_at, request_id \
             FROM application_files WHERE application_id = $1 ORDER BY added_at, doc",
        )
        .bind(case)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(CaseFile {
                    doc: r.try_get("doc")?,
                    sha256: r.try_get("sha256")?,
                    name: r.try_get("name")?,
                    size: r.try_get("size")?,
                    media_type: r.try_get("media_type")?,
                    added_at: r.try_get("added_at")?,
                    request: r.try_get("request_id")?,
                })
            })
            .collect()
    }

    pub async fn case_stages(&self, case: i64) -> Result<Vec<StageRow>> {
        let rows = sqlx::query(
            "SELECT stage, limit_days, started_at, ended_at FROM application_stages \
             WHERE application_id = $1 ORDER BY id",
        )
        .bind(case)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StageRow {
                    stage: r.try_get("stage")?,
                    limit_days: r.try_get::<i64, _>("limit_days")? as u32,
                    started_at: r.try_get("started_at")?,
                    ended_at: r.try_get("ended_at")?,
                })
            })
            .collect()
    }

    pub async fn case_requests(&self, case: i64) -> Result<Vec<RequestRow>> {
        let rows = sqlx::query(
            "SELECT id, stage, what, documents, asked_at, answered_at, answer \
             FROM application_requests WHERE application_id = $1 ORDER BY id",
        )
        .bind(case)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                let id: i64 = r.try_get("id")?;
                let docs: String = r.try_get("documents")?;
                Ok(RequestRow {
                    id,
                    stage: r.try_get("stage")?,
                    what: r.try_get("what")?,
                    documents: serde_json::from_str(&docs)
                        .map_err(|e| corrupt(id, format!("request documents: {e}")))?,
                    asked_at: r.try_get("asked_at")?,
                    answered_at: r.try_get("answered_at")?,
                    answer: r.try_get("answer")?,
                })
            })
            .collect()
    }

    pub async fn case_steps(&self, case: i64) -> Result<Vec<StepRow>> {
        let rows = sqlx::query(
            "SELECT s.id, s.stage, s.kind, s.outcome, s.text, s.ref, s.ref_date, s.meeting_id, \
             s.document, s.at, u.name AS by_name FROM application_steps s \
             LEFT JOIN users u ON u.id = s.actor WHERE s.application_id = $1 ORDER BY s.id",
        )
        .bind(case)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StepRow {
                    id: r.try_get("id")?,
                    stage: r.try_get("stage")?,
                    kind: r.try_get("kind")?,
                    outcome: r.try_get("outcome")?,
                    text: r.try_get("text")?,
                    reference: r.try_get("ref")?,
                    ref_date: r.try_get("ref_date")?,
                    meeting: r.try_get("meeting_id")?,
                    document: r.try_get("document")?,
                    at: r.try_get("at")?,
                    by: r.try_get("by_name")?,
                })
            })
            .collect()
    }

    /// Every stage of every submitted case, for the statistics.
    pub async fn stage_spans(&self) -> Result<Vec<StageSpan>> {
        let rows = sqlx::query(
            "SELECT s.application_id, c.type_code, s.stage, s.limit_days, s.started_at, s.ended_at \
             FROM application_stages s JOIN applications c ON c.id = s.application_id \
             ORDER BY s.application_id, s.id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok(StageSpan {
                    case: r.try_get("application_id")?,
                    type_code: r.try_get("type_code")?,
                    stage: r.try_get("stage")?,
                    limit_days: r.try_get::<i64, _>("limit_days")? as u32,
                    started_at: r.try_get("started_at")?,
                    ended_at: r.try_get("ended_at")?,
                })
            })
            .collect()
    }

    /// Every request of every case: (case, asked, answered), for the statistics' clocks.
    pub async fn request_spans(&self) -> Result<Vec<(i64, String, Option<String>)>> {
        let rows = sqlx::query(
            "SELECT application_id, asked_at, answered_at FROM application_requests ORDER BY id",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|r| {
                Ok((
                    r.try_get("application_id")?,
                    r.try_get("asked_at")?,
                    r.try_get("answered_at")?,
                ))
            })
            .collect()
    }

    /// Submits a draft: gives it the next number of its prefix and year, fixes its path,
    /// opens the first stage, with its audit entry. `None` if it was no longer a draft.
    #[allow(clippy::too_many_arguments)]
    pub async fn submit_case(
        &self,
        case: i64,
        rev: i64,
        prefix: &str,
        year: i32,
        path: &[String],
        first: (&str, u32),
        now: &str,
        log: &AuditEntry,
    ) -> Result<Option<String>> {
        let mut tx = self.write_tx(&self.durable).await?;
        // The draft as it was checked: not submitted meanwhile, nor changed.
        let same: bool = sqlx::query_scalar::<_, super::Flag>(
            "SELECT EXISTS (SELECT 1 FROM applications WHERE id = $1 AND state = 'draft' AND rev = $2)",
        )
        .bind(case)
        .bind(rev)
        .fetch_one(&mut *tx)
        .await?.0;
        if !same {
            return Ok(None);
        }
        let seq: i64 = sqlx::query_scalar(
            "INSERT INTO application_numbers (prefix, year, last) VALUES ($1, $2, 1) \
             ON CONFLICT (prefix, year) DO UPDATE SET last = application_numbers.last + 1 RETURNING last",
        )
        .bind(prefix)
        .bind(year)
        .fetch_one(&mut *tx)
        .await?;
        let number = crate::applications::format_number(prefix, year, seq);
        sqlx::query(
            "UPDATE applications SET number = $1, state = 'open', path = $2, stage = $3, \
             submitted_at = $4, updated_at = $5 WHERE id = $6",
        )
        .bind(&number)
        .bind(serde_json::to_string(path).map_err(|e| StoreError::Encode(e.to_string()))?)
        .bind(first.0)
        .bind(now)
        .bind(now)
        .bind(case)
        .execute(&mut *tx)
        .await?;
        open_stage(&mut tx, case, first.0, first.1, now).await?;
        let mut log = log.clone();
        log.subject = number.clone();
        audit::append(&mut tx, &log, now).await?;
        tx.commit().await?;
        Ok(Some(number))
    }

    /// Applies one move; false if the case was no longer where the caller saw it.
    pub async fn move_case(&self, m: &Move) -> Result<bool> {
        let mut tx = self.write_tx(&self.durable).await?;
        let row = sqlx::query("SELECT state, stage FROM applications WHERE id = $1")
            .bind(m.case)
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            return Ok(false);
        };
        let state: String = row.try_get("state")?;
        let stage: Option<String> = row.try_get("stage")?;
        if state != m.from_state || stage != m.from_stage {
            return Ok(false);
        }
        let stage_now = stage.clone().unwrap_or_default();
        if let Some(s) = &m.step {
            sqlx::query(
                "INSERT INTO application_steps (application_id, stage, kind, outcome, text, ref, \
                 ref_date, meeting_id, document, at, actor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
            )
            .bind(m.case)
            .bind(&stage_now)
            .bind(s.kind)
            .bind(&s.outcome)
            .bind(&s.text)
            .bind(&s.reference)
            .bind(&s.ref_date)
            .bind(s.meeting)
            .bind(&s.document)
            .bind(&m.at)
            .bind(m.actor)
            .execute(&mut *tx)
            .await?;
        }
        if let Some((what, docs)) = &m.request {
            sqlx::query(
                "INSERT INTO application_requests (application_id, stage, what, documents, asked_at, asked_by) \
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(m.case)
            .bind(&stage_now)
            .bind(what)
            .bind(serde_json::to_string(docs).map_err(|e| StoreError::Encode(e.to_string()))?)
            .bind(&m.at)
            .bind(m.actor)
            .execute(&mut *tx)
            .await?;
        }
        if let Some(answer) = &m.answer {
            let done = sqlx::query(
                "UPDATE application_requests SET answered_at = $1, answer = $2 \
                 WHERE application_id = $3 AND answered_at IS NULL",
            )
            .bind(&m.at)
            .bind(answer)
            .bind(m.case)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
        }
        let mut next = stage.clone();
        if let Some(step) = &m.next_stage {
            sqlx::query(
                "UPDATE application_stages SET ended_at = $1 WHERE application_id = $2 AND ended_at IS NULL",
            )
            .bind(&m.at)
            .bind(m.case)
            .execute(&mut *tx)
            .await?;
            next = None;
            if let Some((s, days)) = step {
                open_stage(&mut tx, m.case, s, *days, &m.at).await?;
                next = Some(s.clone());
            }
        }
        sqlx::query(
            "UPDATE applications SET state = $1, stage = $2, updated_at = $3 WHERE id = $4",
        )
        .bind(m.to_state)
        .bind(&next)
        .bind(&m.at)
        .bind(m.case)
        .execute(&mut *tx)
        .await?;
        if let Some(c) = &m.closing {
            sqlx::query(
                "UPDATE applications SET outcome = $1, decided_by = $2, decision_ref = $3, \
                 decision_date = $4, letter_sha256 = $5, decided_at = $6 WHERE id = $7",
            )
            .bind(c.outcome)
            .bind(&c.decided_by)
            .bind(&c.decision_ref)
            .bind(&c.decision_date)
            .bind(&c.letter_sha256)
            .bind(&m.at)
            .bind(m.case)
            .execute(&mut *tx)
            .await?;
        }
        if let Some((meeting, rec)) = &m.agenda {
            let done = sqlx::query(
                "UPDATE hcc_agenda SET recommendation = $1 WHERE meeting_id = $2 AND application_id = $3",
            )
            .bind(rec)
            .bind(meeting)
            .bind(m.case)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() != 1 {
                return Ok(false);
            }
        }
        if let Some(sha) = &m.publish {
            sqlx::query("UPDATE documents SET public = 1 WHERE sha256 = $1")
                .bind(sha)
                .execute(&mut *tx)
                .await?;
        }
        let seq = audit::append(&mut tx, &m.log, &m.at).await?;
        if let Some(l) = &m.lock {
            sqlx::query(
                "INSERT INTO heritage_locks (asset_id, state, application, reason, at, actor) \
                 VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (asset_id) DO UPDATE SET \
                 state = $2, application = $3, reason = $4, at = $5, actor = $6",
            )
            .bind(l.asset.0)
            .bind(l.state)
            .bind(&l.application)
            .bind(&l.reason)
            .bind(&m.at)
            .bind(m.actor)
            .execute(&mut *tx)
            .await?;
            let entry = AuditEntry {
                actor: m.log.actor.clone(),
                role: m.log.role.clone(),
                action: "asset.heritage_lock".into(),
                subject: m.log.detail["asset"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string(),
                public: true,
                detail: serde_json::json!({
                    "to": l.state, "application": l.application, "reason": l.reason, "after": seq,
                }),
            };
            audit::append(&mut tx, &entry, &m.at).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    /// A meeting for `date` whose agenda is every case at the `hcc` stage not on another
    /// scheduled meeting's agenda, in the order they reached the stage.
    pub async fn create_meeting(
        &self,
        date: &str,
        stage: &str,
        by: i64,
        now: &str,
        log: &AuditEntry,
    ) -> Result<i64> {
        let mut tx = self.write_tx(&self.durable).await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO hcc_meetings (date, created_at, created_by) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(date)
        .bind(now)
        .bind(by)
        .fetch_one(&mut *tx)
        .await?;
        sqlx::query(
            "INSERT INTO hcc_agenda (meeting_id, application_id, position) \
             SELECT $1, c.id, row_number() OVER (ORDER BY st.started_at, c.id) \
             FROM applications c JOIN application_stages st \
               ON st.application_id = c.id AND st.ended_at IS NULL \
             WHERE c.state IN ('open', 'awaiting_applicant') AND c.stage = $2 \
               AND NOT EXISTS (SELECT 1 FROM hcc_agenda g JOIN hcc_meetings m ON m.id = g.meeting_id \
                               WHERE g.application_id = c.id AND m.state = 'scheduled' \
                               AND g.recommendation IS NULL AND m.id != $1)",
        )
        .bind(id)
        .bind(stage)
        .execute(&mut *tx)
        .await?;
        let mut log = log.clone();
        log.subject = format!("hcc-{id}");
        audit::append(&mut tx, &log, now).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn meetings(&self) -> Result<Vec<Meeting>> {
        let ids: Vec<i64> =
            sqlx::query_scalar("SELECT id FROM hcc_meetings ORDER BY date DESC, id DESC LIMIT 100")
                .fetch_all(&self.pool)
                .await?;
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(m) = self.meeting(id).await? {
                out.push(m);
            }
        }
        Ok(out)
    }

    pub async fn meeting(&self, id: i64) -> Result<Option<Meeting>> {
        let row = sqlx::query(
            "SELECT id, date, state, minutes, created_at FROM hcc_meetings WHERE id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let Some(r) = row else {
            return Ok(None);
        };
        let agenda = sqlx::query(
            "SELECT g.application_id, c.number, c.asset_id, c.work, g.position, g.recommendation FROM hcc_agenda g \
             JOIN applications c ON c.id = g.application_id WHERE g.meeting_id = $1 ORDER BY g.position",
        )
        .bind(id)
        .fetch_all(&self.pool)
        .await?
        .iter()
        .map(|a| {
            Ok(AgendaItem {
                case: a.try_get("application_id")?,
                asset_id: a.try_get::<Option<i64>, _>("asset_id")?.map(AssetId),
                number: a.try_get::<Option<String>, _>("number")?.unwrap_or_default(),
                asset: None,
                work: a.try_get("work")?,
                position: a.try_get("position")?,
                recommendation: a.try_get("recommendation")?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
        Ok(Some(Meeting {
            id: r.try_get("id")?,
            date: r.try_get("date")?,
            state: r.try_get("state")?,
            minutes: r.try_get("minutes")?,
            created_at: r.try_get("created_at")?,
            agenda,
        }))
    }

    /// Records a meeting's minutes (a document's SHA-256); the meeting is held.
    pub async fn meeting_minutes(
        &self,
        id: i64,
        sha256: &str,
        now: &str,
        log: &AuditEntry,
    ) -> Result<bool> {
        let mut tx = self.write_tx(&self.durable).await?;
        let done =
            sqlx::query("UPDATE hcc_meetings SET minutes = $1, state = 'held' WHERE id = $2")
                .bind(sha256)
                .bind(id)
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        audit::append(&mut tx, log, now).await?;
        tx.commit().await?;
        Ok(true)
    }
}

async fn open_stage(
    conn: &mut AnyConnection,
    case: i64,
    stage: &str,
    days: u32,
    at: &str,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO application_stages (application_id, stage, limit_days, started_at) VALUES ($1, $2, $3, $4)",
    )
    .bind(case)
    .bind(stage)
    .bind(i64::from(days))
    .bind(at)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
