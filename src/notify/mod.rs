//! Placeholder senders until the SMTP and webhook senders land (branch `notify`): they
//! send nothing and say so, so every message stays in the outbox, pending.
pub use crate::model::{Action, Category, Lang, Status};
#[derive(Debug, Clone)]
pub struct Notice {
    pub delivery_id: i64,
    pub ticket: String,
    pub category: Category,
    pub action: Action,
    pub status: Status,
    pub note: Option<String>,
    pub duplicate_of: Option<String>,
    pub at: String,
    pub lang: Lang,
    pub reporter_name: Option<String>,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub ticket_url: String,
    pub optout_url: String,
}
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("{message}")]
    NotSent { message: String, permanent: bool },
    #[error("{0}")]
    Uncertain(String),
}
pub mod smtp {
    use super::*;
    pub struct SmtpConfig {
        pub url: String,
        pub from: String,
        pub ca_file: Option<std::path::PathBuf>,
        pub timeout: std::time::Duration,
    }
    pub struct Smtp;
    impl Smtp {
        pub fn new(_c: SmtpConfig) -> Result<Smtp, std::io::Error> {
            Ok(Smtp)
        }
        pub async fn send<F, Fut>(&self, _n: &Notice, commit: F) -> Result<(), SendError>
        where
            F: FnOnce() -> Fut,
            Fut: std::future::Future<Output = Result<(), String>>,
        {
            let _ = commit;
            Err(SendError::NotSent {
                message: "this build has no sender yet".into(),
                permanent: false,
            })
        }
    }
}
pub mod webhook {
    use super::*;
    pub struct Webhook;
    impl Webhook {
        pub fn new(_u: &str, _s: &str, _t: std::time::Duration) -> Result<Webhook, std::io::Error> {
            Ok(Webhook)
        }
        pub async fn send<F, Fut>(&self, _n: &Notice, commit: F) -> Result<(), SendError>
        where
            F: FnOnce() -> Fut,
            Fut: std::future::Future<Output = Result<(), String>>,
        {
            let _ = commit;
            Err(SendError::NotSent {
                message: "this build has no sender yet".into(),
                permanent: false,
            })
        }
    }
}
