//! Password attempts per account and per remembered device (see
//! `crate::login_throttle`). A claim is one `BEGIN IMMEDIATE` transaction: the
//! lock and the counter are read and the count raised under the one writer.

use super::SqliteStore;
use crate::codec::{instant, to_instant};
use crate::error::StoreError;
use crate::login_throttle::{AttemptClaim, AttemptCount, AttemptKey, ThrottlePolicy};
use crate::staff::StaffAccount;
use crate::store::LoginThrottleStore;
use async_trait::async_trait;
use rusqlite::{Connection, OptionalExtension, TransactionBehavior, params};
use time::OffsetDateTime;
use zaitaku_domain::{LoginName, StaffId};

fn claim(
    conn: &mut Connection,
    key: &AttemptKey,
    at: OffsetDateTime,
    policy: &ThrottlePolicy,
) -> Result<AttemptClaim, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let staff_id = key.staff_id();
    let locked_until: Option<Option<i64>> = tx
        .prepare_cached("SELECT locked_until FROM staff WHERE id = ?")?
        .query_row([staff_id.0], |row| row.get(0))
        .optional()?;
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
    let current = counter(&tx, &code)?;
    if let Some(current) = current
        && current.next_at > at
    {
        return Ok(AttemptClaim::Throttled(current.next_at));
    }
    let attempts = current.map_or(0, |c| c.attempts).saturating_add(1);
    let next_at = at + policy.delay_after(attempts);
    tx.prepare_cached(
        "INSERT INTO login_throttles (key, staff_id, attempts, next_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (key) DO UPDATE SET attempts = excluded.attempts, next_at = excluded.next_at",
    )?
    .execute(params![code, staff_id.0, attempts, instant(next_at)])?;
    tx.commit()?;
    Ok(AttemptClaim::Counted(attempts))
}

fn counter(conn: &Connection, code: &str) -> Result<Option<AttemptCount>, StoreError> {
    let row: Option<(u32, i64)> = conn
        .prepare_cached("SELECT attempts, next_at FROM login_throttles WHERE key = ?")?
        .query_row([code], |row| Ok((row.get(0)?, row.get(1)?)))
        .optional()?;
    row.map(|(attempts, next_at)| {
        Ok(AttemptCount {
            attempts,
            next_at: to_instant(next_at, "login throttle")?,
        })
    })
    .transpose()
}

fn unlock(conn: &mut Connection, login: &LoginName) -> Result<Option<StaffAccount>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed = tx
        .prepare_cached(
            "UPDATE staff SET failed_attempts = 0, locked_until = NULL WHERE login_name = ?",
        )?
        .execute([login.as_str()])?;
    if changed == 0 {
        return Ok(None);
    }
    tx.prepare_cached(
        "DELETE FROM login_throttles WHERE staff_id = (SELECT id FROM staff WHERE login_name = ?)",
    )?
    .execute([login.as_str()])?;
    let account = super::staff::by_login(&tx, login)?;
    tx.commit()?;
    Ok(account)
}

#[async_trait]
impl LoginThrottleStore for SqliteStore {
    // Durable: a count lost in a crash would be guesses given back.
    async fn claim_login_attempt(
        &self,
        key: &AttemptKey,
        at: OffsetDateTime,
        policy: &ThrottlePolicy,
    ) -> Result<AttemptClaim, StoreError> {
        let (key, policy) = (key.clone(), *policy);
        self.write_durable(move |c| claim(c, &key, at, &policy))
            .await
    }

    async fn clear_login_attempts(&self, key: &AttemptKey) -> Result<(), StoreError> {
        let code = key.code();
        self.write(move |c| {
            c.prepare_cached("DELETE FROM login_throttles WHERE key = ?")?
                .execute([code])?;
            Ok(())
        })
        .await
    }

    async fn login_attempts(&self, key: &AttemptKey) -> Result<Option<AttemptCount>, StoreError> {
        let code = key.code();
        self.read(move |c| counter(c, &code)).await
    }

    async fn remember_staff_device(
        &self,
        token_hash: &str,
        staff_id: StaffId,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let token_hash = token_hash.to_owned();
        self.write(move |c| {
            c.prepare_cached(
                "INSERT INTO staff_devices (token_hash, staff_id, expires_at) VALUES (?, ?, ?) \
                 ON CONFLICT (token_hash) DO UPDATE SET expires_at = excluded.expires_at \
                 WHERE staff_devices.staff_id = excluded.staff_id",
            )?
            .execute(params![token_hash, staff_id.0, instant(expires_at)])?;
            Ok(())
        })
        .await
    }

    async fn staff_device(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffId>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| {
            let id: Option<i64> = c
                .prepare_cached(
                    "SELECT staff_id FROM staff_devices WHERE token_hash = ? AND expires_at > ?",
                )?
                .query_row(params![token_hash, instant(now)], |row| row.get(0))
                .optional()?;
            Ok(id.map(StaffId))
        })
        .await
    }

    async fn unlock_staff(&self, login: &LoginName) -> Result<Option<StaffAccount>, StoreError> {
        let login = login.clone();
        self.write_durable(move |c| unlock(c, &login)).await
    }
}
