//! PostgreSQL: staff accounts, console sessions and the login log.
//!
//! The races are decided by the `staff` row: every write that must happen once
//! (an enrolment link used, a TOTP step accepted, a failure counted) starts with
//! a conditional `UPDATE` of the account, whose row lock holds the other process
//! until this one commits; the other then re-reads the row and finds the token
//! gone, the step used or the count already raised.

use super::PostgresStore;
use super::audit;
use super::columns::Columns;
use super::is_unique_violation;
use crate::audit::{Chain, scope as audit_scope};
use crate::codec::instant;
use crate::error::StoreError;
use crate::rows::{self, account_columns, login_columns, staff_session_columns};
use crate::staff::{ACCOUNT_INSTITUTION, LOGIN_INSERT, LOGIN_INSERT_FOR_ACCOUNT};
use crate::staff::{
    Enrolment, EnrolmentWrite, Lockout, LoginCompletion, LoginRecord, NewStaff, ShownSecret,
    StaffAccount, StaffAction, StaffChange, StaffChangeOutcome, StaffSessionRecord,
    StaffSessionStage, plan_change,
};
use crate::store::{ConsoleSessionStore, StaffStore};
use async_trait::async_trait;
use sqlx::PgExecutor;
use sqlx::postgres::{PgConnection, PgRow};
use time::OffsetDateTime;
use zaitaku_domain::{InstitutionId, LoginName, LoginOutcome, StaffId, StaffStatus};

fn account(row: &PgRow) -> Result<StaffAccount, StoreError> {
    rows::account(&mut Columns::new(row))
}

fn session_record(row: &PgRow) -> Result<StaffSessionRecord, StoreError> {
    rows::staff_session(&mut Columns::new(row))
}

fn login_record(row: &PgRow) -> Result<LoginRecord, StoreError> {
    rows::login(&mut Columns::new(row))
}

#[async_trait]
impl StaffStore for PostgresStore {
    async fn insert_staff(&self, new: &NewStaff) -> Result<StaffAccount, StoreError> {
        let pool = &self.pool;
        let inserted = sqlx::query(concat!(
            "INSERT INTO staff (institution_id, login_name, display_name, role, totp_secret, \
             enrolment_token_hash, enrolment_expires_at, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ",
            account_columns!()
        ))
        .bind(new.institution_id.0)
        .bind(new.login_name.as_str())
        .bind(&new.display_name)
        .bind(new.role.code())
        .bind(&new.totp_secret)
        .bind(&new.enrolment.token_hash)
        .bind(instant(new.enrolment.expires_at))
        .bind(instant(new.created_at))
        .fetch_one(pool)
        .await;
        match inserted {
            Ok(row) => account(&row),
            Err(e) if is_unique_violation(&e) => Err(StoreError::Duplicate {
                what: "a staff account with this login name",
            }),
            Err(e) => Err(e.into()),
        }
    }

    async fn staff(&self, id: StaffId) -> Result<Option<StaffAccount>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM staff WHERE id = $1"
        ))
        .bind(id.0)
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(account)
        .transpose()
    }

    async fn staff_by_login(&self, login: &LoginName) -> Result<Option<StaffAccount>, StoreError> {
        let pool = &self.pool;
        by_login(pool, login).await
    }

    async fn staff_of_institution(
        &self,
        institution: InstitutionId,
    ) -> Result<Vec<StaffAccount>, StoreError> {
        let pool = &self.pool;
        // COLLATE "C": byte order, as SQLite's default BINARY collation sorts.
        sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM staff WHERE institution_id = $1 ORDER BY login_name COLLATE \"C\""
        ))
        .bind(institution.0)
        .fetch_all(pool)
        .await?
        .iter()
        .map(account)
        .collect()
    }

    async fn change_staff(&self, change: &StaffChange) -> Result<StaffChangeOutcome, StoreError> {
        let mut tx = self.pool.begin().await?;
        let Some(target) = by_login(&mut *tx, &change.login)
            .await?
            .filter(|a| change.institution.is_none_or(|i| i == a.institution_id))
        else {
            return Ok(StaffChangeOutcome::NotFound);
        };
        // Every account of the institution locked: a concurrent change of a
        // colleague waits, then plans against what this one wrote.
        let colleagues = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM staff WHERE institution_id = $1 ORDER BY id FOR UPDATE"
        ))
        .bind(target.institution_id.0)
        .fetch_all(&mut *tx)
        .await?
        .iter()
        .map(account)
        .collect::<Result<Vec<_>, _>>()?;
        let administrator_remains = match plan_change(change, &colleagues) {
            Ok((after, remains)) => {
                write_change(&mut tx, &after, change.action).await?;
                remains
            }
            Err(refusal) => return Ok(refusal.into()),
        };
        let account = sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM staff WHERE id = $1"
        ))
        .bind(target.id.0)
        .fetch_one(&mut *tx)
        .await
        .map(|row| account(&row))??;
        tx.commit().await?;
        Ok(StaffChangeOutcome::Changed {
            account: Box::new(account),
            administrator_remains,
        })
    }

    async fn staff_by_enrolment(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            account_columns!(),
            " FROM staff WHERE enrolment_token_hash = $1 AND enrolment_expires_at > $2"
        ))
        .bind(token_hash)
        .bind(instant(now))
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(account)
        .transpose()
    }

    async fn show_enrolment_secret(
        &self,
        token_hash: &str,
        shown: &ShownSecret,
        at: OffsetDateTime,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "UPDATE staff SET enrolment_secret = $1, enrolment_secret_session = $2 \
             WHERE enrolment_token_hash = $3 AND enrolment_expires_at > $4 \
             AND enrolment_used_at IS NULL RETURNING ",
            account_columns!()
        ))
        .bind(&shown.secret)
        .bind(&shown.session_hash)
        .bind(token_hash)
        .bind(instant(at))
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(account)
        .transpose()
    }

    async fn enrolment_link_used(&self, token_hash: &str) -> Result<bool, StoreError> {
        let pool = &self.pool;
        Ok(sqlx::query_scalar(
            "SELECT EXISTS (SELECT 1 FROM staff WHERE enrolment_token_hash = $1 \
             AND enrolment_used_at IS NOT NULL)",
        )
        .bind(token_hash)
        .fetch_one(pool)
        .await?)
    }

    async fn complete_enrolment(&self, w: &EnrolmentWrite) -> Result<bool, StoreError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        // Marking the link used in the same UPDATE that checks it (and the secret
        // shown last) makes it single use: a racing process waits for this row and
        // then no longer matches.
        let (secret, session) = match &w.shown {
            Some(shown) => (Some(&shown.secret), Some(&shown.session_hash)),
            None => (None, None),
        };
        let changed = sqlx::query(
            "UPDATE staff SET password_hash = $1, totp_secret = COALESCE($2::text, totp_secret), \
             totp_last_step = $3, failed_attempts = 0, locked_until = NULL, \
             enrolment_expires_at = NULL, enrolment_used_at = $4, enrolment_secret = NULL, \
             enrolment_secret_session = NULL \
             WHERE id = $5 AND enrolment_token_hash = $6 AND enrolment_expires_at > $4 \
             AND enrolment_used_at IS NULL \
             AND ($2::text IS NULL OR (enrolment_secret = $2::text \
                  AND enrolment_secret_session = $7::text))",
        )
        .bind(&w.password_hash)
        .bind(secret)
        .bind(w.totp_step)
        .bind(instant(w.at))
        .bind(w.staff_id.0)
        .bind(&w.token_hash)
        .bind(session)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        log_for_account(&mut tx, w.staff_id, w.at, LoginOutcome::Enrolment).await?;
        if let Some(old) = &w.replaces {
            delete_session(&mut *tx, old).await?;
        }
        if let Some(session) = &w.session {
            insert_session(&mut *tx, session).await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn reset_staff(
        &self,
        login: &LoginName,
        totp_secret: &str,
        enrolment: &Enrolment,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        let id: Option<i64> = sqlx::query_scalar(
            "UPDATE staff SET password_hash = NULL, totp_secret = $1, totp_last_step = NULL, \
             failed_attempts = 0, locked_until = NULL, enrolment_token_hash = $2, \
             enrolment_expires_at = $3, enrolment_used_at = NULL, enrolment_secret = NULL, \
             enrolment_secret_session = NULL WHERE login_name = $4 AND status <> 'removed' RETURNING id",
        )
        .bind(totp_secret)
        .bind(&enrolment.token_hash)
        .bind(instant(enrolment.expires_at))
        .bind(login.as_str())
        .fetch_optional(&mut *tx)
        .await?;
        let Some(id) = id else {
            return Ok(None);
        };
        sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        let account = by_login(&mut *tx, login).await?;
        tx.commit().await?;
        Ok(account)
    }

    async fn record_login(&self, attempt: &LoginRecord) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        record(&mut tx, attempt).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn record_login_failure(
        &self,
        attempt: &LoginRecord,
        lockout: &Lockout,
    ) -> Result<bool, StoreError> {
        let pool = &self.pool;
        let staff_id = attempt.staff_id.ok_or(StoreError::Database(
            "a counted login failure needs the account".to_owned(),
        ))?;
        let mut tx = pool.begin().await?;
        // The increment is atomic and locks the row until commit, so racing failures
        // are each counted and exactly one of them reaches the limit.
        let failures: Option<i64> = sqlx::query_scalar(
            "UPDATE staff SET failed_attempts = failed_attempts + 1 WHERE id = $1 \
             RETURNING failed_attempts",
        )
        .bind(staff_id.0)
        .fetch_optional(&mut *tx)
        .await?;
        let failures = failures.ok_or(StoreError::Database(
            "a counted login failure for an account that does not exist".to_owned(),
        ))?;
        record(&mut tx, attempt).await?;
        let locked = failures >= i64::from(lockout.max_failures);
        if locked {
            sqlx::query("UPDATE staff SET failed_attempts = 0, locked_until = $1 WHERE id = $2")
                .bind(instant(attempt.at + lockout.duration))
                .bind(staff_id.0)
                .execute(&mut *tx)
                .await?;
            sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1 AND stage <> $2")
                .bind(staff_id.0)
                .bind(StaffSessionStage::Complete.code())
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(locked)
    }

    async fn complete_login(&self, w: &LoginCompletion) -> Result<bool, StoreError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        // A racing login with the same step waits on this row, then sees the step
        // used and matches nothing: a code is accepted once.
        let step_taken = sqlx::query(
            "UPDATE staff SET totp_last_step = $1, failed_attempts = 0, locked_until = NULL \
             WHERE id = $2 AND (totp_last_step IS NULL OR totp_last_step < $1)",
        )
        .bind(w.totp_step)
        .bind(w.staff_id.0)
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if step_taken == 0 {
            // Dropping the transaction rolls back.
            return Ok(false);
        }
        let old_gone = sqlx::query(
            "DELETE FROM staff_sessions WHERE id_hash = $1 AND staff_id = $2 AND stage = $3",
        )
        .bind(&w.replaces)
        .bind(w.staff_id.0)
        .bind(StaffSessionStage::PasswordOk.code())
        .execute(&mut *tx)
        .await?
        .rows_affected();
        if old_gone == 0 {
            return Ok(false);
        }
        insert_session(&mut *tx, &w.session).await?;
        log_for_account(&mut tx, w.staff_id, w.at, LoginOutcome::Success).await?;
        tx.commit().await?;
        Ok(true)
    }

    async fn staff_logins(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<LoginRecord>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            login_columns!(),
            " FROM staff_logins WHERE institution_id = $1 ORDER BY at DESC, id DESC LIMIT $2"
        ))
        .bind(institution.0)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?
        .iter()
        .map(login_record)
        .collect()
    }
}

async fn write_change(
    tx: &mut PgConnection,
    after: &StaffAccount,
    action: StaffAction,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE staff SET status = $1, role = $2 WHERE id = $3")
        .bind(after.status.code())
        .bind(after.role.code())
        .bind(after.id.0)
        .execute(&mut *tx)
        .await?;
    if after.status != StaffStatus::Active {
        sqlx::query("DELETE FROM staff_sessions WHERE staff_id = $1")
            .bind(after.id.0)
            .execute(&mut *tx)
            .await?;
    }
    if action == StaffAction::Remove {
        sqlx::query(
            "UPDATE staff SET password_hash = NULL, totp_secret = '', totp_last_step = NULL, \
             failed_attempts = 0, locked_until = NULL, enrolment_token_hash = NULL, \
             enrolment_expires_at = NULL WHERE id = $1",
        )
        .bind(after.id.0)
        .execute(&mut *tx)
        .await?;
        for table in [
            "DELETE FROM login_throttles WHERE staff_id = $1",
            "DELETE FROM staff_devices WHERE staff_id = $1",
        ] {
            sqlx::query(table)
                .bind(after.id.0)
                .execute(&mut *tx)
                .await?;
        }
    }
    Ok(())
}

pub(super) async fn by_login(
    db: impl PgExecutor<'_>,
    login: &LoginName,
) -> Result<Option<StaffAccount>, StoreError> {
    sqlx::query(concat!(
        "SELECT ",
        account_columns!(),
        " FROM staff WHERE login_name = $1"
    ))
    .bind(login.as_str())
    .fetch_optional(db)
    .await?
    .as_ref()
    .map(account)
    .transpose()
}

async fn record(conn: &mut PgConnection, a: &LoginRecord) -> Result<(), StoreError> {
    let scope = audit_scope(a.institution_id);
    let head = audit::lock(conn, Chain::StaffLogins, scope).await?;
    let id: i64 = sqlx::query_scalar(LOGIN_INSERT)
        .bind(instant(a.at))
        .bind(&a.login_name)
        .bind(a.staff_id.map(|s| s.0))
        .bind(a.institution_id.map(|i| i.0))
        .bind(a.outcome.code())
        .fetch_one(&mut *conn)
        .await?;
    audit::seal(conn, Chain::StaffLogins, scope, &head, id).await
}

async fn log_for_account(
    conn: &mut PgConnection,
    staff_id: StaffId,
    at: OffsetDateTime,
    outcome: LoginOutcome,
) -> Result<(), StoreError> {
    let scope: i64 = sqlx::query_scalar(ACCOUNT_INSTITUTION)
        .bind(staff_id.0)
        .fetch_one(&mut *conn)
        .await?;
    let head = audit::lock(conn, Chain::StaffLogins, scope).await?;
    let id: i64 = sqlx::query_scalar(LOGIN_INSERT_FOR_ACCOUNT)
        .bind(instant(at))
        .bind(outcome.code())
        .bind(staff_id.0)
        .fetch_one(&mut *conn)
        .await?;
    audit::seal(conn, Chain::StaffLogins, scope, &head, id).await
}

#[async_trait]
impl ConsoleSessionStore for PostgresStore {
    async fn insert_staff_session(&self, session: &StaffSessionRecord) -> Result<(), StoreError> {
        let pool = &self.pool;
        insert_session(pool, session).await
    }

    async fn replace_staff_session(
        &self,
        old_hash: &str,
        new: &StaffSessionRecord,
    ) -> Result<(), StoreError> {
        let pool = &self.pool;
        let mut tx = pool.begin().await?;
        delete_session(&mut *tx, old_hash).await?;
        insert_session(&mut *tx, new).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn staff_session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffSessionRecord>, StoreError> {
        let pool = &self.pool;
        sqlx::query(concat!(
            "SELECT ",
            staff_session_columns!(),
            " FROM staff_sessions WHERE id_hash = $1 AND expires_at > $2"
        ))
        .bind(id_hash)
        .bind(instant(now))
        .fetch_optional(pool)
        .await?
        .as_ref()
        .map(session_record)
        .transpose()
    }

    async fn touch_staff_session(
        &self,
        id_hash: &str,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let pool = &self.pool;
        sqlx::query(
            "UPDATE staff_sessions SET last_seen_at = $1, expires_at = $2 WHERE id_hash = $3",
        )
        .bind(instant(at))
        .bind(instant(expires_at))
        .bind(id_hash)
        .execute(pool)
        .await?;
        Ok(())
    }

    async fn delete_staff_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let pool = &self.pool;
        delete_session(pool, id_hash).await
    }
}

async fn insert_session(db: impl PgExecutor<'_>, s: &StaffSessionRecord) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO staff_sessions (id_hash, staff_id, csrf_token, stage, created_at, \
         last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&s.id_hash)
    .bind(s.staff_id.map(|id| id.0))
    .bind(&s.csrf_token)
    .bind(s.stage.code())
    .bind(instant(s.created_at))
    .bind(instant(s.last_seen_at))
    .bind(instant(s.expires_at))
    .execute(db)
    .await?;
    Ok(())
}

async fn delete_session(db: impl PgExecutor<'_>, id_hash: &str) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM staff_sessions WHERE id_hash = $1")
        .bind(id_hash)
        .execute(db)
        .await?;
    Ok(())
}
