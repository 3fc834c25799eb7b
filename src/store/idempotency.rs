//! Requests made with an `Idempotency-Key` and their answers (`http::idempotency` has the
//! policy; migration 0016 the table). Times are seconds since 1970.

use sqlx::Row;

use super::{Result, Store};

/// An answer as kept for replay.
#[derive(Clone, Debug, PartialEq)]
pub struct KeptAnswer {
    pub status: u16,
    /// The headers worth replaying (type, location, ETag …), as pairs.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// What [`Store::idempotency_begin`] found for a key.
#[derive(Debug, PartialEq)]
pub enum KeyState {
    /// Not seen (or its earlier request died unanswered): this request is the one, and
    /// must end with [`Store::idempotency_finish`] or [`Store::idempotency_forget`], given
    /// this claim time.
    New(f64),
    /// Answered before: the answer to give again.
    Answered(KeptAnswer),
    /// Another request with this key is being answered now.
    InFlight,
    /// The key was used for a different request.
    Mismatch,
}

impl Store {
    /// Claims `(scope, key)` for a request whose fingerprint is `fingerprint`, or says why
    /// not. A claim unanswered since before `stale_before` belonged to a request that
    /// died with its server: it is taken over.
    pub async fn idempotency_begin(
        &self,
        scope: &str,
        key: &str,
        fingerprint: &str,
        now: f64,
        stale_before: f64,
    ) -> Result<KeyState> {
        let claimed = sqlx::query(
            "INSERT INTO idempotency_keys (scope, key, fingerprint, created_at) \
             VALUES ($1, $2, $3, $4) \
             ON CONFLICT (scope, key) DO UPDATE SET created_at = $4 \
               WHERE idempotency_keys.status IS NULL \
                 AND idempotency_keys.created_at < $5 \
                 AND idempotency_keys.fingerprint = $3 \
             RETURNING created_at",
        )
        .bind(scope)
        .bind(key)
        .bind(fingerprint)
        .bind(now)
        .bind(stale_before)
        .fetch_optional(&self.pool)
        .await?;
        if claimed.is_some() {
            return Ok(KeyState::New(now));
        }
        let Some(row) = sqlx::query(
            "SELECT fingerprint, status, headers, body FROM idempotency_keys \
             WHERE scope = $1 AND key = $2",
        )
        .bind(scope)
        .bind(key)
        .fetch_optional(&self.pool)
        .await?
        else {
            // Swept between the two statements: a request that long ago is not this one's
            // first, but nothing is kept of it either.
            return Ok(KeyState::InFlight);
        };
        if row.try_get::<String, _>(0)? != fingerprint {
            return Ok(KeyState::Mismatch);
        }
        let Some(status) = row.try_get::<Option<i32>, _>(1)? else {
            return Ok(KeyState::InFlight);
        };
        let headers: Option<String> = row.try_get(2)?;
        let headers = headers
            .and_then(|h| serde_json::from_str(&h).ok())
            .unwrap_or_default();
        let body: Option<Vec<u8>> = row.try_get(3)?;
        Ok(KeyState::Answered(KeptAnswer {
            status: u16::try_from(status).unwrap_or(500),
            headers,
            body: body.unwrap_or_default(),
        }))
    }

    /// Keeps the answer to the request that claimed `(scope, key)` at `claimed_at`.
    /// Durable before the answer is sent, as the write it answers for is.
    pub async fn idempotency_finish(
        &self,
        scope: &str,
        key: &str,
        claimed_at: f64,
        answer: &KeptAnswer,
    ) -> Result<()> {
        let headers = serde_json::to_string(&answer.headers).unwrap_or_else(|_| "[]".into());
        sqlx::query(
            "UPDATE idempotency_keys SET status = $3, headers = $4, body = $5 \
             WHERE scope = $1 AND key = $2 AND created_at = $6",
        )
        .bind(scope)
        .bind(key)
        .bind(i32::from(answer.status))
        .bind(headers)
        .bind(&answer.body[..])
        .bind(claimed_at)
        .execute(&self.durable)
        .await?;
        Ok(())
    }

    /// Lets go of the claim made at `claimed_at`, whose request was not answered for good
    /// (a 5xx, a 429): a retry runs it again. A claim taken over since is left alone.
    pub async fn idempotency_forget(&self, scope: &str, key: &str, claimed_at: f64) -> Result<()> {
        sqlx::query(
            "DELETE FROM idempotency_keys \
             WHERE scope = $1 AND key = $2 AND created_at = $3 AND status IS NULL",
        )
        .bind(scope)
        .bind(key)
        .bind(claimed_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Drops the keys first used before `before`.
    pub async fn idempotency_sweep(&self, before: f64) -> Result<u64> {
        let r = sqlx::query("DELETE FROM idempotency_keys WHERE created_at < $1")
            .bind(before)
            .execute(&self.pool)
            .await?;
        Ok(r.rows_affected())
    }
}
