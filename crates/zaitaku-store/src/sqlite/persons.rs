use super::codec::{code, date, instant, to_date, to_opt_date};
use crate::error::StoreError;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;
use zaitaku_domain::{
    BurdenRatio, ElderlyCertificate, InsuredPerson, InsurerNumber, LimitCertificate, PersonId,
    Qualification, QualificationValidity, Relationship, Sex,
};

pub async fn insert(pool: &SqlitePool, q: &Qualification) -> Result<PersonId, StoreError> {
    let done = sqlx::query(
        "INSERT INTO insured_persons (insurer_number, insurer_name, symbol, number, branch, \
         relationship, name, name_kana, sex, birth_date, address, postal_code, acquired_on, \
         lost_on, loss_reason, valid_from, valid_until, burden_ratio, elderly_valid_from, \
         elderly_valid_until, elderly_burden_ratio, limit_category, limit_applied_category, \
         specific_disease, validity) \
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(q.insurer_number.as_str())
    .bind(&q.insurer_name)
    .bind(&q.symbol)
    .bind(&q.number)
    .bind(&q.branch)
    .bind(q.relationship.code())
    .bind(&q.name)
    .bind(&q.name_kana)
    .bind(q.sex.code())
    .bind(date(q.birth_date))
    .bind(&q.address)
    .bind(&q.postal_code)
    .bind(date(q.acquired_on))
    .bind(q.lost_on.map(date))
    .bind(&q.loss_reason)
    .bind(q.valid_from.map(date))
    .bind(q.valid_until.map(date))
    .bind(q.burden_ratio.map(|r| r.code()))
    .bind(q.elderly.as_ref().map(|e| date(e.valid_from)))
    .bind(q.elderly.as_ref().and_then(|e| e.valid_until.map(date)))
    .bind(q.elderly.as_ref().map(|e| e.burden_ratio.code()))
    .bind(q.limit.as_ref().map(|l| l.category.clone()))
    .bind(q.limit.as_ref().map(|l| l.applied_category.clone()))
    .bind(&q.specific_disease)
    .bind(q.validity.code())
    .execute(pool)
    .await?;
    Ok(PersonId(done.last_insert_rowid()))
}

pub async fn by_id(pool: &SqlitePool, id: PersonId) -> Result<Option<InsuredPerson>, StoreError> {
    let row = sqlx::query("SELECT * FROM insured_persons WHERE id = ?")
        .bind(id.0)
        .fetch_optional(pool)
        .await?;
    row.map(|r| from_row(&r)).transpose()
}

pub async fn link_certificate(
    pool: &SqlitePool,
    issuer: &str,
    serial: &str,
    person: PersonId,
    at: OffsetDateTime,
) -> Result<(), StoreError> {
    // A renewed link replaces the old one: a certificate belongs to one person.
    sqlx::query(
        "INSERT INTO certificate_links (issuer, serial, person_id, linked_at) VALUES (?, ?, ?, ?) \
         ON CONFLICT (issuer, serial) DO UPDATE SET person_id = excluded.person_id, \
         linked_at = excluded.linked_at",
    )
    .bind(issuer)
    .bind(serial)
    .bind(person.0)
    .bind(instant(at))
    .execute(pool)
    .await?;
    Ok(())
}

pub async fn by_certificate(
    pool: &SqlitePool,
    issuer: &str,
    serial: &str,
) -> Result<Option<InsuredPerson>, StoreError> {
    let row = sqlx::query(
        "SELECT p.* FROM insured_persons p JOIN certificate_links l ON l.person_id = p.id \
         WHERE l.issuer = ? AND l.serial = ?",
    )
    .bind(issuer)
    .bind(serial)
    .fetch_optional(pool)
    .await?;
    row.map(|r| from_row(&r)).transpose()
}

fn from_row(row: &SqliteRow) -> Result<InsuredPerson, StoreError> {
    let text = |name: &str| -> Result<String, StoreError> { Ok(row.try_get(name)?) };
    let opt = |name: &str| -> Result<Option<String>, StoreError> { Ok(row.try_get(name)?) };
    let ratio = |value: Option<String>| {
        value
            .map(|v| code(&v, "burden ratio", BurdenRatio::parse))
            .transpose()
    };
    let elderly = match opt("elderly_valid_from")? {
        None => None,
        Some(from) => Some(ElderlyCertificate {
            valid_from: to_date(&from, "elderly certificate")?,
            valid_until: to_opt_date(opt("elderly_valid_until")?, "elderly certificate")?,
            burden_ratio: ratio(opt("elderly_burden_ratio")?)?.ok_or(StoreError::Corrupt {
                what: "elderly certificate",
            })?,
        }),
    };
    let limit = match (opt("limit_category")?, opt("limit_applied_category")?) {
        (Some(category), Some(applied_category)) => Some(LimitCertificate {
            category,
            applied_category,
        }),
        _ => None,
    };
    let qualification = Qualification {
        insurer_number: code(
            &text("insurer_number")?,
            "insurer number",
            InsurerNumber::parse,
        )?,
        insurer_name: text("insurer_name")?,
        symbol: opt("symbol")?,
        number: text("number")?,
        branch: opt("branch")?,
        relationship: code(&text("relationship")?, "relationship", Relationship::parse)?,
        name: text("name")?,
        name_kana: text("name_kana")?,
        sex: code(&text("sex")?, "sex", Sex::parse)?,
        birth_date: to_date(&text("birth_date")?, "birth date")?,
        address: text("address")?,
        postal_code: text("postal_code")?,
        acquired_on: to_date(&text("acquired_on")?, "acquisition date")?,
        lost_on: to_opt_date(opt("lost_on")?, "loss date")?,
        loss_reason: opt("loss_reason")?,
        valid_from: to_opt_date(opt("valid_from")?, "validity start")?,
        valid_until: to_opt_date(opt("valid_until")?, "validity end")?,
        burden_ratio: ratio(opt("burden_ratio")?)?,
        elderly,
        limit,
        specific_disease: opt("specific_disease")?,
        validity: code(&text("validity")?, "validity", QualificationValidity::parse)?,
    };
    Ok(InsuredPerson {
        id: PersonId(row.try_get("id")?),
        qualification,
    })
}
