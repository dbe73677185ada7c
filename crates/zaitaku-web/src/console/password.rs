//! Password hashing: argon2id with the `argon2` crate's default parameters
//! (19 MiB, 2 passes, 1 lane: OWASP's minimum for argon2id), stored as PHC
//! strings, so stronger parameters later still verify old hashes. Each hash runs
//! on the blocking pool, and at most two at once: 2 × 19 MiB on top of the
//! serving process's 13–14 MiB stays within the 64 MiB budget however many
//! logins arrive together. A slot is held until its hash ends, even when the
//! request that asked for it has gone (time-out, closed connection). The queue
//! is first come, first served, and at most `MAX_WAITING` requests of the
//! shared lane wait in it: more are turned away at once (`Busy`), so a flood
//! cannot make the queue ahead of a staff member's own device (the priority
//! lane, never turned away) longer than that.

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, LazyLock};
use tokio::sync::{OnceCell, Semaphore};
use zaitaku_domain::NewPassword;

/// Hashes at once.
pub const SLOTS: usize = 2;
/// Requests of the shared lane waiting for or holding a slot, at most.
pub const MAX_WAITING: usize = 32;

static HASHING: LazyLock<Arc<Semaphore>> = LazyLock::new(|| Arc::new(Semaphore::new(SLOTS)));
static SHARED_IN_QUEUE: AtomicUsize = AtomicUsize::new(0);

/// Which queue a hash waits in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lane {
    /// Everyone: at most `MAX_WAITING` in the queue, then `Busy`.
    Shared,
    /// A counted attempt from a device where the account logged in before:
    /// never turned away, so it waits behind at most `MAX_WAITING` others.
    Priority,
}

#[derive(Debug, thiserror::Error)]
pub enum HashError {
    #[error("password hashing failed: {0}")]
    Argon2(String),
    #[error("password hashing was cancelled")]
    Cancelled,
    #[error("too many password checks are waiting")]
    Busy,
}

/// The PHC string of `password`, with a fresh random salt.
pub async fn hash(password: &NewPassword) -> Result<String, HashError> {
    let password = password.as_str().to_owned();
    limited(Lane::Priority, move || hash_now(&password)).await?
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
///
/// `place` is this request's place in the queue, taken before anything else
/// about the attempt is done (`queue`).
pub async fn verify(place: Place, password: &str, phc: Option<&str>) -> Result<bool, HashError> {
    let password = password.to_owned();
    let (phc, real) = match phc {
        Some(phc) => (phc.to_owned(), true),
        None => (decoy().await?, false),
    };
    let matches = run(place, move || {
        Argon2::default()
            .verify_password(password.as_bytes(), phc.as_str())
            .is_ok()
    })
    .await?;
    Ok(real && matches)
}

/// The hash compared when there is no account: made once, of a random
/// password (requests arriving meanwhile wait for that one hash).
async fn decoy() -> Result<String, HashError> {
    static DECOY: OnceCell<String> = OnceCell::const_new();
    DECOY
        .get_or_try_init(|| async {
            limited(Lane::Priority, || hash_now(&crate::random::secret256())).await?
        })
        .await
        .cloned()
}

/// A request's place in the hashing queue: in the shared lane, one of at most
/// `MAX_WAITING`, given back when dropped (the request gave up before its hash
/// started, or its hash ended).
pub struct Place {
    _shared: Option<Shared>,
}

struct Shared;

impl Drop for Shared {
    fn drop(&mut self) {
        SHARED_IN_QUEUE.fetch_sub(1, Ordering::AcqRel);
    }
}

/// A place in `lane`, or `Busy` when the shared lane is full.
pub fn queue(lane: Lane) -> Result<Place, HashError> {
    if lane == Lane::Priority {
        return Ok(Place { _shared: None });
    }
    SHARED_IN_QUEUE
        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| {
            (n < MAX_WAITING).then_some(n + 1)
        })
        .map(|_| Place {
            _shared: Some(Shared),
        })
        .map_err(|_| HashError::Busy)
}

async fn limited<T: Send + 'static>(
    lane: Lane,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    run(queue(lane)?, work).await
}

async fn run<T: Send + 'static>(
    place: Place,
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, HashError> {
    // Tokio's semaphore serves waiters in order of arrival.
    let permit = Arc::clone(&HASHING)
        .acquire_owned()
        .await
        .map_err(|_| HashError::Cancelled)?;
    // The slot and the place go with the work: released when the hash ends,
    // not when the request is dropped.
    tokio::task::spawn_blocking(move || {
        let result = work();
        drop((place, permit));
        result
    })
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
        let place = || queue(Lane::Priority).unwrap();
        assert!(
            verify(place(), "correct horse battery", Some(&phc))
                .await
                .unwrap()
        );
        assert!(
            !verify(place(), "correct horse battery!", Some(&phc))
                .await
                .unwrap()
        );
        assert!(
            !verify(place(), "correct horse battery", None)
                .await
                .unwrap()
        );
        assert!(
            !verify(place(), "x", Some("not a phc string"))
                .await
                .unwrap()
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_slot_is_held_until_the_hash_ends_and_the_shared_queue_is_bounded() {
        // Requests that give up while hashing: their slots stay taken until
        // the hashes end, so nothing new starts in the meantime.
        let started = std::time::Instant::now();
        for _ in 0..SLOTS {
            let request = limited(Lane::Shared, || {
                std::thread::sleep(std::time::Duration::from_millis(400))
            });
            let _ = tokio::time::timeout(std::time::Duration::from_millis(50), request).await;
        }
        limited(Lane::Priority, || ()).await.unwrap();
        assert!(
            started.elapsed() >= std::time::Duration::from_millis(350),
            "the next hash waited for the abandoned ones: {:?}",
            started.elapsed()
        );
        // The other abandoned hash ends too, and gives its place back.
        while SHARED_IN_QUEUE.load(Ordering::Acquire) > 0 {
            assert!(started.elapsed() < std::time::Duration::from_secs(5));
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        // Fill the shared lane: the next shared request is turned away, a
        // priority one still gets its turn.
        let held: Vec<Place> = (0..MAX_WAITING)
            .map(|_| queue(Lane::Shared).unwrap())
            .collect();
        assert!(matches!(
            limited(Lane::Shared, || ()).await,
            Err(HashError::Busy)
        ));
        limited(Lane::Priority, || ()).await.unwrap();
        // Places given back (requests that gave up waiting) free the lane.
        drop(held);
        assert_eq!(SHARED_IN_QUEUE.load(Ordering::Acquire), 0);
        limited(Lane::Shared, || ()).await.unwrap();
    }
}
