//! Per-client limits and the login throttle, kept in the database so that every server
//! on it counts a client once: behind a load balancer, two replicas each keeping their own
//! count would let a client through at twice its rate (issue 19). The policies (how many,
//! how long) are the callers' (`http::guard`, `auth`); this holds their state.
//!
//! Times are seconds since 1970 as `f64`, from the calling server's clock (replicas keep
//! theirs in step with NTP; a skew of milliseconds moves a limit by as much). The tables
//! hold the state of the moment, not records: on PostgreSQL they are `UNLOGGED`, and
//! [`Store::limits_sweep`] drops the rows whose time has passed.

use sqlx::Row;

use super::{Result, Store};

/// An attempt's record in the login throttle, as [`Store::throttle_begin`] found it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ThrottleState {
    /// Failed attempts in a row.
    pub failures: u32,
    /// When the last of them was.
    pub last_failure: Option<f64>,
}

impl Store {
    /// Takes `cost` from the bucket `key`, a generic cell rate algorithm (GCRA) bucket
    /// that holds `window` seconds and refills one unit every `per_unit` seconds: the
    /// bucket's state is one time, `tat`, and a request fits if, moved on by its cost,
    /// `tat` is at most `window` ahead of now. One statement, atomic on both databases.
    ///
    /// `None`: taken. `Some(s)`: refused, and it would fit in `s` seconds (unless others
    /// take first). A cost larger than the window never fits: the caller refuses it first.
    pub async fn limit_take(
        &self,
        key: &str,
        now: f64,
        per_unit: f64,
        cost: f64,
        window: f64,
    ) -> Result<Option<f64>> {
        let step = per_unit * cost;
        let taken = sqlx::query(
            "INSERT INTO rate_limits (key, tat) VALUES ($1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE \
               SET tat = (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 \
               WHERE (CASE WHEN rate_limits.tat > $2 THEN rate_limits.tat ELSE $2 END) + $3 \
                     <= $2 + $4 \
             RETURNING tat",
        )
        .bind(key)
        .bind(now)
        .bind(step)
        .bind(window)
        .fetch_optional(self.limits().await?)
        .await?;
        if taken.is_some() {
            return Ok(None);
        }
        let tat: Option<f64> = sqlx::query_scalar("SELECT tat FROM rate_limits WHERE key = $1")
            .bind(key)
            .fetch_optional(self.limits().await?)
            .await?;
        // Gone meanwhile (swept, its time passed): it fits now.
        Ok(Some(
            tat.map_or(0.0, |t| (t + step - window - now).max(0.0)),
        ))
    }

    /// Drops the buckets that have refilled (indistinguishable from no bucket) and the
    /// throttle records no one is checking whose last failure is older than
    /// `forget_after` seconds; returns how many rows went.
    pub async fn limits_sweep(&self, now: f64, forget_after: f64) -> Result<u64> {
        let buckets = sqlx::query("DELETE FROM rate_limits WHERE tat <= $1")
            .bind(now)
            .execute(self.limits().await?)
            .await?
            .rows_affected();
        let throttled = sqlx::query(
            "DELETE FROM login_throttle \
             WHERE (busy_until IS NULL OR busy_until < $1) \
               AND (last_failure IS NULL OR last_failure < $1 - $2)",
        )
        .bind(now)
        .bind(forget_after)
        .execute(self.limits().await?)
        .await?
        .rows_affected();
        Ok(buckets + throttled)
    }

    /// Starts a login attempt on `key`, holding it for `lease` seconds (or until
    /// [`Store::throttle_release`], [`Store::throttle_fail`] or [`Store::throttle_clear`]):
    /// the key's record as it was, or `None` when an attempt on it is already running
    /// (on this server or another).
    pub async fn throttle_begin(
        &self,
        key: &str,
        now: f64,
        lease: f64,
    ) -> Result<Option<ThrottleState>> {
        let row = sqlx::query(
            "INSERT INTO login_throttle (key, busy_until) VALUES ($1, $2 + $3) \
             ON CONFLICT (key) DO UPDATE SET busy_until = $2 + $3 \
               WHERE login_throttle.busy_until IS NULL OR login_throttle.busy_until < $2 \
             RETURNING failures, last_failure",
        )
        .bind(key)
        .bind(now)
        .bind(lease)
        .fetch_optional(self.limits().await?)
        .await?;
        row.map(|r| {
            let failures: i64 = r.try_get("failures")?;
            Ok(ThrottleState {
                failures: u32::try_from(failures).unwrap_or(u32::MAX),
                last_failure: r.try_get("last_failure")?,
            })
        })
        .transpose()
    }

    /// Ends the attempt on `key` with nothing to record.
    pub async fn throttle_release(&self, key: &str) -> Result<()> {
        sqlx::query("UPDATE login_throttle SET busy_until = NULL WHERE key = $1")
            .bind(key)
            .execute(self.limits().await?)
            .await?;
        Ok(())
    }

    /// Ends the attempt on `key` with a failure: one more in a row, or the first if the
    /// last was more than `forget_after` seconds ago. Returns the failures in a row.
    pub async fn throttle_fail(&self, key: &str, now: f64, forget_after: f64) -> Result<u32> {
        let n: i64 = sqlx::query_scalar(
            "INSERT INTO login_throttle (key, failures, last_failure) VALUES ($1, 1, $2) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN login_throttle.last_failure IS NULL \
                                 OR login_throttle.last_failure < $2 - $3 \
                               THEN 1 ELSE login_throttle.failures + 1 END, \
               last_failure = $2, busy_until = NULL \
             RETURNING failures",
        )
        .bind(key)
        .bind(now)
        .bind(forget_after)
        .fetch_one(self.limits().await?)
        .await?;
        Ok(u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Ends the attempt on `key` with a success: its failures are forgotten.
    pub async fn throttle_clear(&self, key: &str) -> Result<()> {
        sqlx::query("DELETE FROM login_throttle WHERE key = $1")
            .bind(key)
            .execute(self.limits().await?)
            .await?;
        Ok(())
    }
}

#[cfg(test)]
impl Store {
    /// The buckets held in the database.
    pub async fn count_rate_limits(&self) -> Result<i64> {
        Ok(sqlx::query_scalar("SELECT count(*) FROM rate_limits")
            .fetch_one(self.limits().await?)
            .await?)
    }
}
