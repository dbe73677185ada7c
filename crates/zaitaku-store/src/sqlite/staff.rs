//! Staff accounts, console sessions and the login log.

use super::SqliteStore;
use super::audit;
use super::codec::{self, Columns, is_unique_violation};
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
use rusqlite::{Connection, Row, TransactionBehavior, params};
use time::OffsetDateTime;
use zaitaku_domain::{InstitutionId, LoginName, LoginOutcome, StaffId, StaffStatus};

fn account(row: &Row<'_>) -> Result<StaffAccount, StoreError> {
    rows::account(&mut Columns::new(row))
}

pub fn insert(conn: &Connection, new: &NewStaff) -> Result<StaffAccount, StoreError> {
    let result = conn
        .prepare_cached(
            "INSERT INTO staff (institution_id, login_name, display_name, role, totp_secret, \
             enrolment_token_hash, enrolment_expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        )?
        .execute(params![
            new.institution_id.0,
            new.login_name.as_str(),
            new.display_name,
            new.role.code(),
            new.totp_secret,
            new.enrolment.token_hash,
            instant(new.enrolment.expires_at),
            instant(new.created_at),
        ]);
    match result {
        Ok(_) => {}
        Err(e) if is_unique_violation(&e) => {
            return Err(StoreError::Duplicate {
                what: "a staff account with this login name",
            });
        }
        Err(e) => return Err(e.into()),
    }
    by_id(conn, StaffId(conn.last_insert_rowid()))?.ok_or(StoreError::Corrupt {
        what: "inserted staff account",
    })
}

pub fn by_id(conn: &Connection, id: StaffId) -> Result<Option<StaffAccount>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        account_columns!(),
        " FROM staff WHERE id = ?"
    ))?;
    codec::optional(&mut statement, [id.0], account)
}

pub fn by_login(conn: &Connection, login: &LoginName) -> Result<Option<StaffAccount>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        account_columns!(),
        " FROM staff WHERE login_name = ?"
    ))?;
    codec::optional(&mut statement, [login.as_str()], account)
}

pub fn of_institution(
    conn: &Connection,
    institution: InstitutionId,
) -> Result<Vec<StaffAccount>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        account_columns!(),
        " FROM staff WHERE institution_id = ? ORDER BY login_name"
    ))?;
    codec::all(&mut statement, [institution.0], account)
}

pub fn by_enrolment(
    conn: &Connection,
    token_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<StaffAccount>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        account_columns!(),
        " FROM staff WHERE enrolment_token_hash = ? AND enrolment_expires_at > ?"
    ))?;
    codec::optional(&mut statement, params![token_hash, instant(now)], account)
}

pub fn show_enrolment_secret(
    conn: &mut Connection,
    token_hash: &str,
    shown: &ShownSecret,
    at: OffsetDateTime,
) -> Result<Option<StaffAccount>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed = tx
        .prepare_cached(
            "UPDATE staff SET enrolment_secret = ?, enrolment_secret_session = ? \
             WHERE enrolment_token_hash = ? AND enrolment_expires_at > ? \
             AND enrolment_used_at IS NULL",
        )?
        .execute(params![
            shown.secret,
            shown.session_hash,
            token_hash,
            instant(at)
        ])?;
    if changed == 0 {
        return Ok(None);
    }
    let account = by_enrolment(&tx, token_hash, at)?;
    tx.commit()?;
    Ok(account)
}

pub fn enrolment_link_used(conn: &Connection, token_hash: &str) -> Result<bool, StoreError> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS (SELECT 1 FROM staff WHERE enrolment_token_hash = ? \
             AND enrolment_used_at IS NOT NULL)",
        )?
        .query_row([token_hash], |row| row.get(0))?)
}

pub fn complete_enrolment(conn: &mut Connection, w: &EnrolmentWrite) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    // The token, unused and unexpired, and the secret shown last (when the page
    // is confirmed) are checked in the UPDATE that marks the link used: one use.
    let (secret, session) = match &w.shown {
        Some(shown) => (Some(&shown.secret), Some(&shown.session_hash)),
        None => (None, None),
    };
    let changed = tx
        .prepare_cached(
            "UPDATE staff SET password_hash = ?1, totp_secret = COALESCE(?2, totp_secret), \
             totp_last_step = ?3, failed_attempts = 0, locked_until = NULL, \
             enrolment_expires_at = NULL, enrolment_used_at = ?4, enrolment_secret = NULL, \
             enrolment_secret_session = NULL \
             WHERE id = ?5 AND enrolment_token_hash = ?6 AND enrolment_expires_at > ?4 \
             AND enrolment_used_at IS NULL \
             AND (?2 IS NULL OR (enrolment_secret = ?2 AND enrolment_secret_session = ?7))",
        )?
        .execute(params![
            w.password_hash,
            secret,
            w.totp_step,
            instant(w.at),
            w.staff_id.0,
            w.token_hash,
            session,
        ])?;
    if changed == 0 {
        return Ok(false);
    }
    log_for_account(&tx, w.staff_id, w.at, LoginOutcome::Enrolment)?;
    if let Some(old) = &w.replaces {
        delete_session(&tx, old)?;
    }
    if let Some(session) = &w.session {
        insert_session(&tx, session)?;
    }
    tx.commit()?;
    Ok(true)
}

pub fn reset(
    conn: &mut Connection,
    login: &LoginName,
    totp_secret: &str,
    enrolment: &Enrolment,
) -> Result<Option<StaffAccount>, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let changed = tx
        .prepare_cached(
            "UPDATE staff SET password_hash = NULL, totp_secret = ?, totp_last_step = NULL, \
             failed_attempts = 0, locked_until = NULL, enrolment_token_hash = ?, \
             enrolment_expires_at = ?, enrolment_used_at = NULL, enrolment_secret = NULL, \
             enrolment_secret_session = NULL WHERE login_name = ? AND status <> 'removed'",
        )?
        .execute(params![
            totp_secret,
            enrolment.token_hash,
            instant(enrolment.expires_at),
            login.as_str(),
        ])?;
    if changed == 0 {
        return Ok(None);
    }
    tx.prepare_cached(
        "DELETE FROM staff_sessions WHERE staff_id = (SELECT id FROM staff WHERE login_name = ?)",
    )?
    .execute([login.as_str()])?;
    let account = by_login(&tx, login)?;
    tx.commit()?;
    Ok(account)
}

pub fn change(
    conn: &mut Connection,
    change: &StaffChange,
) -> Result<StaffChangeOutcome, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let Some(target) = by_login(&tx, &change.login)?
        .filter(|a| change.institution.is_none_or(|i| i == a.institution_id))
    else {
        return Ok(StaffChangeOutcome::NotFound);
    };
    let colleagues = of_institution(&tx, target.institution_id)?;
    let administrator_remains = match plan_change(change, &colleagues) {
        Ok((after, remains)) => {
            write_change(&tx, &after, change.action)?;
            remains
        }
        Err(refusal) => return Ok(refusal.into()),
    };
    let account = by_id(&tx, target.id)?.ok_or(StoreError::Corrupt {
        what: "changed staff account",
    })?;
    tx.commit()?;
    Ok(StaffChangeOutcome::Changed {
        account: Box::new(account),
        administrator_remains,
    })
}

fn write_change(
    conn: &Connection,
    after: &StaffAccount,
    action: StaffAction,
) -> Result<(), StoreError> {
    conn.prepare_cached("UPDATE staff SET status = ?, role = ? WHERE id = ?")?
        .execute(params![after.status.code(), after.role.code(), after.id.0])?;
    if after.status != StaffStatus::Active {
        conn.prepare_cached("DELETE FROM staff_sessions WHERE staff_id = ?")?
            .execute([after.id.0])?;
    }
    if action == StaffAction::Remove {
        conn.prepare_cached(
            "UPDATE staff SET password_hash = NULL, totp_secret = '', totp_last_step = NULL, \
             failed_attempts = 0, locked_until = NULL, enrolment_token_hash = NULL, \
             enrolment_expires_at = NULL WHERE id = ?",
        )?
        .execute([after.id.0])?;
        conn.prepare_cached("DELETE FROM login_throttles WHERE staff_id = ?")?
            .execute([after.id.0])?;
        conn.prepare_cached("DELETE FROM staff_devices WHERE staff_id = ?")?
            .execute([after.id.0])?;
    }
    Ok(())
}

pub fn record(conn: &Connection, a: &LoginRecord) -> Result<(), StoreError> {
    let id: i64 = conn.prepare_cached(LOGIN_INSERT)?.query_row(
        params![
            instant(a.at),
            a.login_name,
            a.staff_id.map(|s| s.0),
            a.institution_id.map(|i| i.0),
            a.outcome.code(),
        ],
        |row| row.get(0),
    )?;
    audit::append(conn, Chain::StaffLogins, audit_scope(a.institution_id), id)
}

pub fn record_failure(
    conn: &mut Connection,
    attempt: &LoginRecord,
    lockout: &Lockout,
) -> Result<bool, StoreError> {
    let staff_id = attempt.staff_id.ok_or(StoreError::Database(
        "a counted login failure needs the account".to_owned(),
    ))?;
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    record(&tx, attempt)?;
    let failures: i64 = tx
        .prepare_cached(
            "UPDATE staff SET failed_attempts = failed_attempts + 1 WHERE id = ? \
             RETURNING failed_attempts",
        )?
        .query_row([staff_id.0], |row| row.get(0))?;
    let locked = failures >= i64::from(lockout.max_failures);
    if locked {
        tx.prepare_cached("UPDATE staff SET failed_attempts = 0, locked_until = ? WHERE id = ?")?
            .execute(params![instant(attempt.at + lockout.duration), staff_id.0])?;
        tx.prepare_cached("DELETE FROM staff_sessions WHERE staff_id = ? AND stage <> ?")?
            .execute(params![staff_id.0, StaffSessionStage::Complete.code()])?;
    }
    tx.commit()?;
    Ok(locked)
}

pub fn complete_login(conn: &mut Connection, w: &LoginCompletion) -> Result<bool, StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    let step_taken = tx
        .prepare_cached(
            "UPDATE staff SET totp_last_step = ?, failed_attempts = 0, locked_until = NULL \
             WHERE id = ? AND (totp_last_step IS NULL OR totp_last_step < ?)",
        )?
        .execute(params![w.totp_step, w.staff_id.0, w.totp_step])?;
    let old_gone = tx
        .prepare_cached(
            "DELETE FROM staff_sessions WHERE id_hash = ? AND staff_id = ? AND stage = ?",
        )?
        .execute(params![
            w.replaces,
            w.staff_id.0,
            StaffSessionStage::PasswordOk.code()
        ])?;
    if step_taken == 0 || old_gone == 0 {
        // Dropping the transaction rolls back.
        return Ok(false);
    }
    insert_session(&tx, &w.session)?;
    log_for_account(&tx, w.staff_id, w.at, LoginOutcome::Success)?;
    tx.commit()?;
    Ok(true)
}

fn log_for_account(
    conn: &Connection,
    staff_id: StaffId,
    at: OffsetDateTime,
    outcome: LoginOutcome,
) -> Result<(), StoreError> {
    let institution: i64 = conn
        .prepare_cached(ACCOUNT_INSTITUTION)?
        .query_row([staff_id.0], |row| row.get(0))?;
    let id: i64 = conn
        .prepare_cached(LOGIN_INSERT_FOR_ACCOUNT)?
        .query_row(params![instant(at), outcome.code(), staff_id.0], |row| {
            row.get(0)
        })?;
    audit::append(conn, Chain::StaffLogins, institution, id)
}

pub fn insert_session(conn: &Connection, s: &StaffSessionRecord) -> Result<(), StoreError> {
    conn.prepare_cached(
        "INSERT INTO staff_sessions (id_hash, staff_id, csrf_token, stage, created_at, \
         last_seen_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )?
    .execute(params![
        s.id_hash,
        s.staff_id.map(|id| id.0),
        s.csrf_token,
        s.stage.code(),
        instant(s.created_at),
        instant(s.last_seen_at),
        instant(s.expires_at),
    ])?;
    Ok(())
}

pub fn replace_session(
    conn: &mut Connection,
    old_hash: &str,
    new: &StaffSessionRecord,
) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
    delete_session(&tx, old_hash)?;
    insert_session(&tx, new)?;
    tx.commit()?;
    Ok(())
}

pub fn session(
    conn: &Connection,
    id_hash: &str,
    now: OffsetDateTime,
) -> Result<Option<StaffSessionRecord>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        staff_session_columns!(),
        " FROM staff_sessions WHERE id_hash = ? AND expires_at > ?"
    ))?;
    codec::optional(&mut statement, params![id_hash, instant(now)], |row| {
        rows::staff_session(&mut Columns::new(row))
    })
}

pub fn touch_session(
    conn: &Connection,
    id_hash: &str,
    at: OffsetDateTime,
    expires_at: OffsetDateTime,
) -> Result<(), StoreError> {
    conn.prepare_cached(
        "UPDATE staff_sessions SET last_seen_at = ?, expires_at = ? WHERE id_hash = ?",
    )?
    .execute(params![instant(at), instant(expires_at), id_hash])?;
    Ok(())
}

pub fn delete_session(conn: &Connection, id_hash: &str) -> Result<(), StoreError> {
    conn.prepare_cached("DELETE FROM staff_sessions WHERE id_hash = ?")?
        .execute([id_hash])?;
    Ok(())
}

pub fn logins(
    conn: &Connection,
    institution: InstitutionId,
    limit: u32,
) -> Result<Vec<LoginRecord>, StoreError> {
    let mut statement = conn.prepare_cached(concat!(
        "SELECT ",
        login_columns!(),
        " FROM staff_logins WHERE institution_id = ? ORDER BY at DESC, id DESC LIMIT ?"
    ))?;
    codec::all(&mut statement, params![institution.0, limit], |row| {
        rows::login(&mut Columns::new(row))
    })
}

#[async_trait]
impl StaffStore for SqliteStore {
    async fn insert_staff(&self, new: &NewStaff) -> Result<StaffAccount, StoreError> {
        let new = new.clone();
        self.write_durable(move |c| insert(c, &new)).await
    }

    async fn staff(&self, id: StaffId) -> Result<Option<StaffAccount>, StoreError> {
        self.read(move |c| by_id(c, id)).await
    }

    async fn staff_by_login(&self, login: &LoginName) -> Result<Option<StaffAccount>, StoreError> {
        let login = login.clone();
        self.read(move |c| by_login(c, &login)).await
    }

    async fn staff_of_institution(
        &self,
        institution: InstitutionId,
    ) -> Result<Vec<StaffAccount>, StoreError> {
        self.read(move |c| of_institution(c, institution)).await
    }

    async fn staff_by_enrolment(
        &self,
        token_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| by_enrolment(c, &token_hash, now)).await
    }

    async fn show_enrolment_secret(
        &self,
        token_hash: &str,
        shown: &ShownSecret,
        at: OffsetDateTime,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let (token_hash, shown) = (token_hash.to_owned(), shown.clone());
        // Bookkeeping: a secret lost with the power is only a page to load again.
        self.write(move |c| show_enrolment_secret(c, &token_hash, &shown, at))
            .await
    }

    async fn enrolment_link_used(&self, token_hash: &str) -> Result<bool, StoreError> {
        let token_hash = token_hash.to_owned();
        self.read(move |c| enrolment_link_used(c, &token_hash))
            .await
    }

    async fn complete_enrolment(&self, write: &EnrolmentWrite) -> Result<bool, StoreError> {
        let write = write.clone();
        self.write_durable(move |c| complete_enrolment(c, &write))
            .await
    }

    async fn reset_staff(
        &self,
        login: &LoginName,
        totp_secret: &str,
        enrolment: &Enrolment,
    ) -> Result<Option<StaffAccount>, StoreError> {
        let (login, secret, enrolment) = (login.clone(), totp_secret.to_owned(), enrolment.clone());
        self.write_durable(move |c| reset(c, &login, &secret, &enrolment))
            .await
    }

    async fn change_staff(&self, change: &StaffChange) -> Result<StaffChangeOutcome, StoreError> {
        let change = change.clone();
        self.write_durable(move |c| self::change(c, &change)).await
    }

    // The login log is an audit trail: its writes are durable.
    async fn record_login(&self, attempt: &LoginRecord) -> Result<(), StoreError> {
        let attempt = attempt.clone();
        self.write_durable(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            record(&tx, &attempt)?;
            tx.commit()?;
            Ok(())
        })
        .await
    }

    async fn record_login_failure(
        &self,
        attempt: &LoginRecord,
        lockout: &Lockout,
    ) -> Result<bool, StoreError> {
        let (attempt, lockout) = (attempt.clone(), *lockout);
        self.write_durable(move |c| record_failure(c, &attempt, &lockout))
            .await
    }

    async fn complete_login(&self, write: &LoginCompletion) -> Result<bool, StoreError> {
        let write = write.clone();
        self.write_durable(move |c| complete_login(c, &write)).await
    }

    async fn staff_logins(
        &self,
        institution: InstitutionId,
        limit: u32,
    ) -> Result<Vec<LoginRecord>, StoreError> {
        self.read(move |c| logins(c, institution, limit)).await
    }
}

#[async_trait]
impl ConsoleSessionStore for SqliteStore {
    async fn insert_staff_session(&self, session: &StaffSessionRecord) -> Result<(), StoreError> {
        let session = session.clone();
        self.write(move |c| insert_session(c, &session)).await
    }

    async fn replace_staff_session(
        &self,
        old_hash: &str,
        new: &StaffSessionRecord,
    ) -> Result<(), StoreError> {
        let (old_hash, new) = (old_hash.to_owned(), new.clone());
        self.write(move |c| replace_session(c, &old_hash, &new))
            .await
    }

    async fn staff_session(
        &self,
        id_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<StaffSessionRecord>, StoreError> {
        let id_hash = id_hash.to_owned();
        self.read(move |c| session(c, &id_hash, now)).await
    }

    async fn touch_staff_session(
        &self,
        id_hash: &str,
        at: OffsetDateTime,
        expires_at: OffsetDateTime,
    ) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        self.write(move |c| touch_session(c, &id_hash, at, expires_at))
            .await
    }

    async fn delete_staff_session(&self, id_hash: &str) -> Result<(), StoreError> {
        let id_hash = id_hash.to_owned();
        self.write(move |c| delete_session(c, &id_hash)).await
    }
}
