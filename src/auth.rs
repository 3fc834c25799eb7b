//! Staff authentication: argon2id password hashes, opaque random bearer tokens stored
//! only as SHA-256 hashes, and a throttle that slows down repeated failed logins.

use std::sync::OnceLock;
use std::time::Duration;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

use crate::model::epoch_now;
use crate::store::{Store, StoreError, ThrottleState};

/// How long a login lasts.
pub const SESSION_HOURS: i64 = 12;

/// Password checks that may run at once (argon2id, 19 MiB each): a flood of logins
/// waits for one of these instead of allocating without bound.
pub const PARALLEL_HASHES: usize = 2;

/// Why a password could not be hashed: the salt or argon2 failed, never the password.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HashError {
    #[error("cannot make a salt: {0}")]
    Salt(argon2::password_hash::Error),
    #[error("cannot hash password: {0}")]
    Hash(argon2::password_hash::Error),
}

/// Why a staff account cannot be made as asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NewUserError {
    #[error("a user name is 1 to 100 characters")]
    Name,
    #[error("field staff work in a ward: give --ward N")]
    NoWard,
    #[error("the password (read from standard input) must be at least 8 characters")]
    ShortPassword,
}

/// Checks a new staff account before its password is asked for: a name of 1 to 100
/// characters (trimmed), a ward for field staff. Returns the trimmed name.
pub fn check_account(
    name: &str,
    role: crate::model::Role,
    ward: Option<i64>,
) -> Result<&str, NewUserError> {
    let name = name.trim();
    if name.is_empty() || name.len() > 100 {
        return Err(NewUserError::Name);
    }
    if role == crate::model::Role::FieldStaff && ward.is_none() {
        return Err(NewUserError::NoWard);
    }
    Ok(name)
}

/// A new password is at least 8 characters.
pub fn check_password(password: &str) -> Result<(), NewUserError> {
    if password.chars().count() < 8 {
        return Err(NewUserError::ShortPassword);
    }
    Ok(())
}

/// An argon2id PHC string for `password` (OWASP's parameters: 19 MiB, 2 passes).
pub fn hash_password(password: &str) -> Result<String, HashError> {
    let salt = SaltString::encode_b64(&rand::random::<[u8; 16]>()).map_err(HashError::Salt)?;
    Argon2::default()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(HashError::Hash)
}

/// Whether `password` matches `hash`. A malformed hash never matches.
pub fn verify_password(hash: &str, password: &str) -> bool {
    PasswordHash::new(hash)
        .map(|h| {
            Argon2::default()
                .verify_password(password.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// Verifies against a throwaway hash, so an unknown user name costs as much time as a
/// wrong password and timing does not reveal which names exist.
pub fn verify_nobody(password: &str) {
    static DUMMY: OnceLock<String> = OnceLock::new();
    let h = DUMMY.get_or_init(|| hash_password("not a real account").unwrap_or_default());
    let _ = verify_password(h, password);
}

/// A new secret: 32 random bytes, hex (bearer tokens, API keys, Open311 tokens).
pub fn new_secret() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Whether two secrets (or their hashes) are equal, compared in constant time.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The stored form of a secret: its SHA-256, as 64 lower-case hex digits.
pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// Quiet time after which a key's failures are forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

/// How long an attempt holds its keys at most, should its server die while checking.
const LEASE: Duration = Duration::from_secs(30);

/// How long `n` failures in a row make a key wait.
fn backoff(n: u32) -> Duration {
    if n == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(250u64 << (n - 1).min(8)).min(Duration::from_secs(60))
}

/// How long a key whose record is `state` must still wait at `now` (`None`: not at all).
fn still_to_wait(state: ThrottleState, now: f64) -> Option<Duration> {
    let last = state.last_failure?;
    let since = (now - last).max(0.0);
    if since >= FORGET_AFTER.as_secs_f64() {
        return None;
    }
    let left = backoff(state.failures).as_secs_f64() - since;
    (left > 0.0).then(|| Duration::from_secs_f64(left))
}

/// Whether a login attempt may go on ([`begin_attempt`]).
#[derive(Debug)]
pub enum Admission {
    /// Check the password, then say how it went ([`Attempt::fail`], [`Attempt::succeed`]).
    Go(Attempt),
    /// A key is backing off after failures, for this long yet.
    Wait(Duration),
    /// An attempt on one of the keys is being checked.
    Busy,
}

/// An attempt being checked, holding its keys; dropped without a verdict (an error on
/// the way), it lets them go.
#[derive(Debug)]
pub struct Attempt {
    store: Store,
    keys: Vec<String>,
    open: bool,
}

impl Attempt {
    /// The password was wrong: each key's failures go up by one.
    pub async fn fail(mut self) -> Result<(), StoreError> {
        self.open = false;
        let now = epoch_now();
        for k in &self.keys {
            self.store
                .throttle_fail(k, now, FORGET_AFTER.as_secs_f64())
                .await?;
        }
        Ok(())
    }

    /// The password was right: each key's failures are forgotten.
    pub async fn succeed(mut self) -> Result<(), StoreError> {
        self.open = false;
        for k in &self.keys {
            self.store.throttle_clear(k).await?;
        }
        Ok(())
    }

    async fn release(mut self) -> Result<(), StoreError> {
        self.open = false;
        for k in &self.keys {
            self.store.throttle_release(k).await?;
        }
        Ok(())
    }
}

impl Drop for Attempt {
    fn drop(&mut self) {
        if !self.open {
            return;
        }
        let (store, keys) = (self.store.clone(), std::mem::take(&mut self.keys));
        // Without a runtime (never, in the server) the lease runs out by itself.
        if let Ok(rt) = tokio::runtime::Handle::try_current() {
            rt.spawn(async move {
                for k in &keys {
                    if let Err(e) = store.throttle_release(k).await {
                        tracing::warn!("releasing a login attempt: {e}");
                    }
                }
            });
        }
    }
}

/// Starts a login attempt on all `keys`: refused while any of them backs off or has an
/// attempt running, on this server or another.
///
/// The throttle counts failed logins per key (a user name, a client address). After a failure the key backs
/// off: the next attempt is refused *before* any password is hashed until a quarter
/// second has passed, doubling with each failure in a row up to a minute; a success or
/// fifteen quiet minutes clear it. And one attempt per key at a time: a second one sent
/// while the first is being checked is refused too, so a burst of parallel guesses costs
/// one hash, not a hundred.
///
/// The counts live in the database (`Store::throttle_begin` …), so that every server on
/// it sees the same failures: guesses spread over two replicas back off as fast as
/// guesses sent to one.
pub async fn begin_attempt(store: &Store, keys: &[String]) -> Result<Admission, StoreError> {
    let now = epoch_now();
    let mut attempt = Attempt {
        store: store.clone(),
        keys: Vec::with_capacity(keys.len()),
        open: true,
    };
    let mut wait: Option<Duration> = None;
    let mut busy = false;
    // Taken in one order, stopping at the first held by another attempt: two attempts
    // each taking one key first and finding the other's held would both be refused, and
    // a flood of them could leave no attempt ever checked.
    let mut ordered: Vec<&String> = keys.iter().collect();
    ordered.sort_unstable();
    ordered.dedup();
    for k in ordered {
        match store.throttle_begin(k, now, LEASE.as_secs_f64()).await? {
            Some(state) => {
                attempt.keys.push(k.clone());
                wait = wait.max(still_to_wait(state, now));
            }
            None => {
                busy = true;
                break;
            }
        }
    }
    if let Some(w) = wait {
        attempt.release().await?;
        return Ok(Admission::Wait(w));
    }
    if busy {
        attempt.release().await?;
        return Ok(Admission::Busy);
    }
    Ok(Admission::Go(attempt))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_verify_only_themselves() {
        let h = hash_password("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify_password(&h, "correct horse"));
        assert!(!verify_password(&h, "correct horse "));
        assert!(!verify_password("garbage", "x"));
    }

    #[test]
    fn backoff_doubles_to_a_minute_and_is_forgotten() {
        assert_eq!(backoff(0), Duration::ZERO);
        assert_eq!(backoff(1), Duration::from_millis(250));
        assert_eq!(backoff(3), Duration::from_millis(1000));
        assert_eq!(backoff(20), Duration::from_secs(60));
        let three = ThrottleState {
            failures: 3,
            last_failure: Some(1000.0),
        };
        let w = still_to_wait(three, 1000.1).expect("backing off");
        assert!((w.as_secs_f64() - 0.9).abs() < 1e-6, "{w:?}");
        assert_eq!(still_to_wait(three, 1001.0), None);
        let many = ThrottleState {
            failures: 50,
            last_failure: Some(1000.0),
        };
        assert!(still_to_wait(many, 1059.0).is_some());
        assert_eq!(still_to_wait(many, 1000.0 + 15.0 * 60.0), None);
        let none = ThrottleState {
            failures: 0,
            last_failure: None,
        };
        assert_eq!(still_to_wait(none, 0.0), None);
    }

    /// Two servers' handles on one database count the same failures and hold the same
    /// attempts.
    #[tokio::test]
    async fn the_throttle_is_shared_by_every_server_on_the_database() {
        let store = Store::open(":memory:").await.unwrap();
        let (a, b) = (store.clone(), store);
        let keys = ["user:x".to_string(), "client:1".to_string()];
        let Admission::Go(first) = begin_attempt(&a, &keys).await.unwrap() else {
            panic!("the first attempt goes on")
        };
        // One attempt per key at a time, whichever server it reaches.
        let busy = begin_attempt(&b, &keys[1..]).await.unwrap();
        assert!(matches!(busy, Admission::Busy), "{busy:?}");
        let other = begin_attempt(&b, &["user:y".to_string()]).await.unwrap();
        assert!(matches!(other, Admission::Go(_)), "{other:?}");
        first.fail().await.unwrap();
        // The failure holds back the other server too: a quarter second.
        match begin_attempt(&b, &keys[..1]).await.unwrap() {
            Admission::Wait(w) => assert!(w <= Duration::from_millis(250), "{w:?}"),
            other => panic!("{other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
        let Admission::Go(second) = begin_attempt(&b, &keys).await.unwrap() else {
            panic!("the wait is over")
        };
        second.fail().await.unwrap();
        // Two in a row: half a second.
        match begin_attempt(&a, &keys[1..]).await.unwrap() {
            Admission::Wait(w) => assert!(w > Duration::from_millis(250), "{w:?}"),
            other => panic!("{other:?}"),
        }
        tokio::time::sleep(Duration::from_millis(550)).await;
        let Admission::Go(third) = begin_attempt(&a, &keys).await.unwrap() else {
            panic!("the wait is over")
        };
        third.succeed().await.unwrap();
        // A success forgets the failures; an attempt dropped without a verdict lets go.
        let Admission::Go(dropped) = begin_attempt(&b, &keys).await.unwrap() else {
            panic!("no failures left")
        };
        drop(dropped);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let after = begin_attempt(&a, &keys).await.unwrap();
        assert!(matches!(after, Admission::Go(_)), "{after:?}");
    }
}
