//! Staff accounts, their sessions (bearer tokens kept as SHA-256 hashes) and Open311 API
//! keys (likewise hashed).

use sqlx::Row;

use super::{Result, Store, StoreError};
use crate::model::Role;

/// A staff member.
#[derive(Debug, Clone, serde::Serialize)]
pub struct User {
    pub id: i64,
    pub name: String,
    pub role: Role,
    /// Field staff work in one ward.
    pub ward: Option<i64>,
    /// What they act on in applications (each stage of a type names a duty).
    pub duties: Vec<String>,
    #[serde(skip)]
    pub password_hash: String,
}

/// An Open311 API key's record.
#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: i64,
    pub label: String,
}

fn decode_user(r: &sqlx::any::AnyRow) -> Result<User> {
    let id: i64 = r.try_get("id")?;
    let role: String = r.try_get("role")?;
    Ok(User {
        id,
        name: r.try_get("name")?,
        role: role.parse().map_err(|e| StoreError::Corrupt {
            table: "user",
            id,
            what: format!("role: {e}"),
        })?,
        ward: r.try_get("ward")?,
        duties: r
            .try_get::<Option<String>, _>("duties")?
            .map(|d| d.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        password_hash: r.try_get("password_hash")?,
    })
}

impl Store {
    /// Every staff member who can sign in, by name.
    pub async fn users(&self) -> Result<Vec<User>> {
        let rows = sqlx::query(
            "SELECT id, name, role, ward, password_hash, \
             (SELECT string_agg(duty, ',') FROM staff_duties d WHERE d.user_id = users.id) AS duties FROM users WHERE disabled = 0 ORDER BY name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(decode_user).collect()
    }

    /// Adds a user, or replaces the role, ward and password of an existing one.
    pub async fn put_user(
        &self,
        name: &str,
        role: Role,
        ward: Option<i64>,
        password_hash: &str,
        at: &str,
    ) -> Result<User> {
        let row = sqlx::query(
            "INSERT INTO users (name, role, ward, password_hash, created_at) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT(name) DO UPDATE SET role = excluded.role, ward = excluded.ward, \
             password_hash = excluded.password_hash, disabled = 0 \
             RETURNING id, name, role, ward, password_hash, \
             (SELECT string_agg(duty, ',') FROM staff_duties d WHERE d.user_id = users.id) AS duties",
        )
        .bind(name)
        .bind(role.as_str())
        .bind(ward)
        .bind(password_hash)
        .bind(at)
        .fetch_one(&self.durable)
        .await?;
        decode_user(&row)
    }

    pub async fn user_by_name(&self, name: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT id, name, role, ward, password_hash, \
             (SELECT string_agg(duty, ',') FROM staff_duties d WHERE d.user_id = users.id) AS duties FROM users WHERE name = $1 AND disabled = 0",
        )
        .bind(name)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| decode_user(&r)).transpose()
    }

    pub async fn create_session(
        &self,
        token_sha256: &str,
        user_id: i64,
        at: &str,
        expires_at: &str,
    ) -> Result<()> {
        sqlx::query("INSERT INTO sessions (token_sha256, user_id, created_at, expires_at) VALUES ($1, $2, $3, $4)")
            .bind(token_sha256)
            .bind(user_id)
            .bind(at)
            .bind(expires_at)
            .execute(&self.durable)
            .await?;
        Ok(())
    }

    /// The user a live session token belongs to (`now` in RFC 3339).
    pub async fn session_user(&self, token_sha256: &str, now: &str) -> Result<Option<User>> {
        let row = sqlx::query(
            "SELECT u.id, u.name, u.role, u.ward, u.password_hash, \
             (SELECT string_agg(duty, ',') FROM staff_duties d WHERE d.user_id = u.id) AS duties FROM sessions s \
             JOIN users u ON u.id = s.user_id \
             WHERE s.token_sha256 = $1 AND s.expires_at > $2 AND u.disabled = 0",
        )
        .bind(token_sha256)
        .bind(now)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| decode_user(&r)).transpose()
    }

    /// Ends a session; also sweeps expired ones.
    pub async fn delete_session(&self, token_sha256: &str, now: &str) -> Result<bool> {
        let n = sqlx::query("DELETE FROM sessions WHERE token_sha256 = $1")
            .bind(token_sha256)
            .execute(&self.durable)
            .await?
            .rows_affected();
        sqlx::query("DELETE FROM sessions WHERE expires_at <= $1")
            .bind(now)
            .execute(&self.durable)
            .await?;
        Ok(n > 0)
    }

    pub async fn add_api_key(&self, key_sha256: &str, label: &str, at: &str) -> Result<i64> {
        let id = sqlx::query_scalar(
            "INSERT INTO api_keys (key_sha256, label, created_at) VALUES ($1, $2, $3) RETURNING id",
        )
        .bind(key_sha256)
        .bind(label)
        .bind(at)
        .fetch_one(&self.durable)
        .await?;
        Ok(id)
    }

    pub async fn api_key(&self, key_sha256: &str) -> Result<Option<ApiKey>> {
        let row = sqlx::query(
            "SELECT id, label FROM api_keys WHERE key_sha256 = $1 AND revoked_at IS NULL",
        )
        .bind(key_sha256)
        .fetch_optional(&self.pool)
        .await?;
        Ok(row.map(|r| ApiKey {
            id: r.get("id"),
            label: r.get("label"),
        }))
    }
}
