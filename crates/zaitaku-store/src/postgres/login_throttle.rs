//! PostgreSQL: password attempts per account and per remembered device (see
//! `crate::login_throttle`). A claim is one transaction that starts by locking
//! the account's row (`FOR UPDATE`): every claim on the account, from any
//! process, waits for the one before it to commit, then reads its count.

use super::PostgresStore;
use crate::codec::{instant, to_instant};
use crate::error::StoreError;
use crate::login_throttle::{AttemptClaim, AttemptCount, AttemptKey, ThrottlePolicy};
use crate::staff::StaffAccount;
use crate::store::LoginThrottleStore;
use async_trait::async_trait;
use sqlx::PgExecutor;
use time::OffsetDateTime;
use zaitaku_domain::{LoginName, StaffId};

async fn counter(db: impl PgExecutor<'_>, code: &str) -> Result<Option<AttemptCount>, StoreError> {
    let row: Option<(i64, i64)> =
        sqlx::query_as("SELECT attempts, next_at FROM login_throttles WHERE key = $1")
            .bind(code)
            .fetch_optional(db)
            .await?;
    row.map(|(attempts, next_at)| {
        Ok(AttemptCount {
            attempts: u32::try_from(attempts).unwrap_or(u32::MAX),
            next_at: to_instant(next_at, "login throttle")?,
        })
    })
    .transpose()
}

#[async_trait]
impl LoginThrottleStore for PostgresStore {
    async fn claim_login_attempt(
        &self,
        key: &AttemptKey,
        at: OffsetDateTime,
        policy: &ThrottlePolicy,
    ) -> Result<AttemptClaim, StoreError> {
        let staff_id = key.staff_id();
        let mut tx = self.pool.begin().await?;
        let locked_until: Option<Option<i64>> =
            sqlx::query_scalar("SELECT locked_until FROM staff WHERE id = $1 FOR UPDATE")
                .bind(staff_id.0)
                .fetch_optional(&mut *tx)
                .await?;
        let Some(locked_until) = locked_until else {
            return Err(StoreError::Database(
                "a login attempt for an account that does not exist".to_owned(),
            ));
        };
        if let Some(until) = locked_until
            .map(|s| to_instant(s, "staff lock"))
            .transpose()?
            && until > at
        {
            return Ok(AttemptClaim::Locked(until));
        }
        let code = key.code();
        let current = counter(&mut *tx, &code).await?;
        if let Some(current) = current
            && current.next_at > at
        {
            return Ok(AttemptClaim::Throttled(current.next_at));
        }
        let attempts = current.map_or(0, |c| c.attempts).saturating_add(1);
        let next_at = at + policy.delay_after(attempts);
        sqlx::query(
            "INSERT INTO login_throttles (key, staff_id, attempts, next_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT (key) DO UPDATE \
             SET attempts = excluded.attempts, next_at = excluded.next_at",
        )
        .bind(&code)
        .bind(staff_id.0)
        .bind(i64::from(attempts))
        .bind(instant(next_at))
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(AttemptClaim::Counted(attempts))
    }

    async fn clear_login_attempts(&self, key: &AttemptKey) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM login_throttles WHERE key = $1")
            .bind(key.code())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn login_attempts(&self, key: &AttemptKey) -> Result<Option<AttemptCount>, StoreError> {
        counter(&self.pool, &key.code()).await
    }

    async fn remember_staff_device(
        &self,
        token_hash: &str,
        staff_id: StaffId,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO staff_devices (token_hash, staff_id, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (token_hash) DO UPDATE SET expires_at = excluded.expires_at \
             WHERE staff_devices.staff_id = excluded.staff_id",
        )
        .bind(token_hash)
        .bind(staff_id.0)
        .bind(instant(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    async fn staff_device(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffId>, StoreError> {
        let id: Option<i64> = sqlx::query_scalar(
            "SELECT staff_id FROM staff_devices WHERE token_hash = $1 AND expires_at > $2",
        )
        .bind(token_hash)
        .bind(instant(now))
        .fetch_optional(&self.pool)
        .await?;
        Ok(id.map(StaffId))
    }

    async fn unlock_staff(&self, login: &LoginName) -> Result<Option<StaffAccount>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE staff SET failed_attempts = 0, locked_until = NULL WHERE login_name = $1 \
             RETURNING id",
        )
        .bind(login.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM login_throttles WHERE staff_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let account = super::staff::by_login(&mut *tx, login).await?;
        tx.commit().await?;
        Ok(account)
    }
}
