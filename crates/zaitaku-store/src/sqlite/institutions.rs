use super::codec::{code, instant};
use crate::error::StoreError;
use crate::records::NewInstitution;
use sqlx::sqlite::SqliteRow;
use sqlx::{Row, SqlitePool};
use time::OffsetDateTime;
use zaitaku_domain::{
    ConsentItem, EPrescriptionUsage, Institution, InstitutionCode, InstitutionId, InstitutionKind,
    UrlToken,
};

const COLUMNS: &str =
    "id, code, name, offered_items, e_prescription, consent_validity_days, url_token";

pub async fn insert(pool: &SqlitePool, new: &NewInstitution) -> Result<Institution, StoreError> {
    let items: Vec<&str> = new.offered_items.iter().map(|i| i.code()).collect();
    let result = sqlx::query(
        "INSERT INTO institutions (code, name, offered_items, e_prescription, \
         consent_validity_days, url_token, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)",
    )
    .bind(new.code.as_str())
    .bind(&new.name)
    .bind(items.join(","))
    .bind(new.e_prescription.code())
    .bind(i64::from(new.consent_validity_days))
    .bind(new.url_token.as_str())
    .bind(instant(OffsetDateTime::now_utc()))
    .execute(pool)
    .await;
    let id = match result {
        Ok(done) => done.last_insert_rowid(),
        Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
            return Err(StoreError::Duplicate {
                what: "an institution with this code or URL token",
            });
        }
        Err(e) => return Err(e.into()),
    };
    Ok(Institution {
        id: InstitutionId(id),
        code: new.code,
        kind: InstitutionKind::of(&new.code),
        name: new.name.clone(),
        offered_items: new.offered_items.clone(),
        e_prescription: new.e_prescription,
        consent_validity_days: new.consent_validity_days,
        url_token: new.url_token.clone(),
    })
}

pub async fn by_id(
    pool: &SqlitePool,
    id: InstitutionId,
) -> Result<Option<Institution>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM institutions WHERE id = ?"));
    let row = sqlx::query(sql).bind(id.0).fetch_optional(pool).await?;
    row.map(|r| from_row(&r)).transpose()
}

pub async fn by_url_token(
    pool: &SqlitePool,
    token: &UrlToken,
) -> Result<Option<Institution>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM institutions WHERE url_token = ?"
    ));
    let row = sqlx::query(sql)
        .bind(token.as_str())
        .fetch_optional(pool)
        .await?;
    row.map(|r| from_row(&r)).transpose()
}

pub async fn all(pool: &SqlitePool) -> Result<Vec<Institution>, StoreError> {
    let sql = sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM institutions ORDER BY id"));
    let rows = sqlx::query(sql).fetch_all(pool).await?;
    rows.iter().map(from_row).collect()
}

fn from_row(row: &SqliteRow) -> Result<Institution, StoreError> {
    let code_text: String = row.try_get("code")?;
    let institution_code = code(&code_text, "institution code", InstitutionCode::parse)?;
    let items_text: String = row.try_get("offered_items")?;
    let offered_items = items_text
        .split(',')
        .map(|c| code(c, "offered items", ConsentItem::parse))
        .collect::<Result<Vec<_>, _>>()?;
    let usage: String = row.try_get("e_prescription")?;
    let token: String = row.try_get("url_token")?;
    let days: i64 = row.try_get("consent_validity_days")?;
    Ok(Institution {
        id: InstitutionId(row.try_get("id")?),
        code: institution_code,
        kind: InstitutionKind::of(&institution_code),
        name: row.try_get("name")?,
        offered_items,
        e_prescription: code(&usage, "e-prescription usage", EPrescriptionUsage::parse)?,
        consent_validity_days: u32::try_from(days).map_err(|_| StoreError::Corrupt {
            what: "consent validity",
        })?,
        url_token: code(&token, "URL token", UrlToken::parse)?,
    })
}
