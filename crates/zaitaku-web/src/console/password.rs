//! Password hashing: argon2id with the `argon2` crate's default parameters
//! (19 MiB, 2 passes, 1 lane: OWASP's minimum for argon2id), stored as PHC
//! strings, so stronger parameters later still verify old hashes. Each hash runs
//! on the blocking pool, and at most two at once: 2 × 19 MiB on top of the
//! serving process's 13–14 MiB stays within the 64 MiB budget however many
//! logins arrive together.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::OnceLock;
use tokio::sync::Semaphore;
use zaitaku_domain::NewPassword;

static HASHING: Semaphore = Semaphore::const_new(2);

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Argon2(String),
    #[error("password hashing was cancelled")]
    Cancelled,
}

/// The PHC string of `password`, with a fresh random salt.
pub async fn hash(password: &NewPassword) -> Result<String, HashError> {
    let password = password.as_str().to_owned();
    limited(move || hash_now(&password)).await?
}

fn hash_now(password: &str) -> Result<String, HashError> {
    Argon2::default()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| HashError::Argon2(e.to_string()))
}

/// Whether `password` matches `phc`. With no hash (no such account, or one not
/// enrolled) the same work is done against a hash of a random password, so the
/// answer takes as long and is false: response times do not tell which login
/// names exist.
pub async fn verify(password: &str, phc: Option<&str>) -> Result<bool, HashError> {
    let password = password.to_owned();
    let (phc, real) = match phc {
        Some(phc) => (phc.to_owned(), true),
        None => (decoy().await?, false),
    };
    let matches = limited(move || {
        Argon2::default()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok()
    })
    .await?;
    Ok(real && matches)
}

/// The hash compared when there is no account: made once, of a random password.
async fn decoy() -> Result<String, HashError> {
    static DECOY: OnceLock<String> = OnceLock::new();
    if let Some(phc) = DECOY.get() {
        return Ok(phc.clone());
    }
    let phc = limited(|| hash_now(&crate::random::secret256())).await??;
    Ok(DECOY.get_or_init(|| phc).clone())
}

async fn limited<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    let _permit = HASHING.acquire().await.map_err(|_| HashError::Cancelled)?;
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|_| HashError::Cancelled)
}

#[cfg(test)]
mod tests {
    use super::*;
    use zaitaku_domain::LoginName;

    #[tokio::test]
    async fn a_hash_verifies_its_password_only() {
        let login = LoginName::parse("sato").unwrap();
        let password = NewPassword::parse("correct horse battery", &login).unwrap();
        let phc = hash(&password).await.unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{phc}");
        assert!(verify("correct horse battery", Some(&phc)).await.unwrap());
        assert!(!verify("correct horse battery!", Some(&phc)).await.unwrap());
        assert!(!verify("correct horse battery", None).await.unwrap());
        assert!(!verify("x", Some("not a phc string")).await.unwrap());
    }
}
