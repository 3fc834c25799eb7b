//! Staff authentication: argon2id password hashes, opaque random bearer tokens stored
//! only as SHA-256 hashes, and a throttle that slows down repeated failed logins.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use sha2::{Digest, Sha256};

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

/// Failed logins per key (a user name, a client address). After a failure the key backs
/// off: the next attempt is refused *before* any password is hashed until a quarter
/// second has passed, doubling with each failure in a row up to a minute; a success or
/// fifteen quiet minutes clear it. And one attempt per key at a time: a second one sent
/// while the first is being checked is refused too, so a burst of parallel guesses costs
/// one hash, not a hundred.
#[derive(Debug, Default)]
pub struct Throttle {
    failures: Mutex<HashMap<String, (u32, Instant)>>,
    in_flight: Mutex<HashSet<String>>,
}

const FORGET_AFTER: Duration = Duration::from_secs(15 * 60);

/// How long `n` failures in a row make a key wait.
fn backoff(n: u32) -> Duration {
    if n == 0 {
        return Duration::ZERO;
    }
    Duration::from_millis(250u64 << (n - 1).min(8)).min(Duration::from_secs(60))
}

/// An attempt being checked; dropping it lets the next one in.
#[derive(Debug)]
pub struct Attempt {
    throttle: Arc<Throttle>,
    keys: Vec<String>,
}

impl Drop for Attempt {
    fn drop(&mut self) {
        let mut m = self
            .throttle
            .in_flight
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for k in &self.keys {
            m.remove(k);
        }
    }
}

impl Throttle {
    /// Records a failed attempt on `key`; returns how long it must now wait.
    pub fn fail(&self, key: &str) -> Duration {
        let mut m = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        if m.len() > 10_000 {
            m.retain(|_, (_, t)| now.duration_since(*t) < FORGET_AFTER);
        }
        let e = m.entry(key.to_string()).or_insert((0, now));
        if now.duration_since(e.1) >= FORGET_AFTER {
            e.0 = 0;
        }
        e.0 = e.0.saturating_add(1);
        e.1 = now;
        backoff(e.0)
    }

    /// How long `key` must still wait before it may try again (`None`: it may now).
    pub fn wait(&self, key: &str) -> Option<Duration> {
        let m = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (n, t) = m.get(key)?;
        let left = backoff(*n).checked_sub(t.elapsed())?;
        (!left.is_zero()).then_some(left)
    }

    /// Failures in a row for `key` (0 when quiet).
    pub fn failures(&self, key: &str) -> u32 {
        let m = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        m.get(key)
            .filter(|(_, t)| t.elapsed() < FORGET_AFTER)
            .map_or(0, |(n, _)| *n)
    }

    pub fn succeed(&self, key: &str) {
        self.failures
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(key);
    }

    /// Starts an attempt on all `keys`, or `None` if any of them has one running.
    pub fn begin(self: &Arc<Self>, keys: &[String]) -> Option<Attempt> {
        let mut m = self.in_flight.lock().unwrap_or_else(|e| e.into_inner());
        if keys.iter().any(|k| m.contains(k)) {
            return None;
        }
        m.extend(keys.iter().cloned());
        Some(Attempt {
            throttle: self.clone(),
            keys: keys.to_vec(),
        })
    }
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
    fn throttle_doubles_and_resets() {
        let t = Arc::new(Throttle::default());
        assert_eq!(t.wait("a"), None);
        assert_eq!(t.fail("a"), Duration::from_millis(250));
        assert_eq!(t.fail("a"), Duration::from_millis(500));
        assert_eq!(t.fail("a"), Duration::from_millis(1000));
        let w = t.wait("a").expect("backing off");
        assert!(w > Duration::from_millis(900) && w <= Duration::from_secs(1));
        assert_eq!(t.failures("a"), 3);
        t.succeed("a");
        assert_eq!(t.failures("a"), 0);
        assert_eq!(t.wait("a"), None);
        for _ in 0..20 {
            t.fail("b");
        }
        assert_eq!(t.fail("b"), Duration::from_secs(60));
        // One attempt per key at a time.
        let keys = ["user:x".to_string(), "client:1".to_string()];
        let first = t.begin(&keys).expect("first attempt");
        assert!(t.begin(&keys[1..]).is_none());
        assert!(t.begin(&["user:y".to_string()]).is_some());
        drop(first);
        assert!(t.begin(&keys).is_some());
    }
}
