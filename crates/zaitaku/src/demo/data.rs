//! The demo's insured persons and their medical records: CSV files embedded in
//! the binary, loaded through the very import paths the operator uses
//! (`admin insured import`, `admin records import`), so the demo shows what an
//! import gives.

use crate::setup::CliError;
use crate::setup::import::insured::InsuredImport;
use crate::setup::import::pipeline::{self, Importer, Progress, Rejects};
use crate::setup::import::records::{self, RecordsImport};
use csv::StringRecord;
use std::sync::Arc;
use zaitaku_store::Store;

/// Qualification records, one per demo person, in the order of `PEOPLE`.
pub const INSURED_CSV: &str = include_str!("insured.csv");
/// Medical records of some demo persons; 山田 太郎 has every kind.
pub const RECORDS_CSV: &str = include_str!("records.csv");

/// Import the persons, then their records. Every line must be taken.
pub async fn load(store: &Arc<dyn Store>) -> Result<(), CliError> {
    import(
        INSURED_CSV,
        "the demo's insured.csv",
        store,
        InsuredImport::new,
    )
    .await?;
    let today = records::today();
    import(RECORDS_CSV, "the demo's records.csv", store, |header| {
        RecordsImport::new(header, today)
    })
    .await
}

async fn import<I: Importer>(
    text: &str,
    shown: &str,
    store: &Arc<dyn Store>,
    importer: impl FnOnce(&StringRecord) -> Result<I, String>,
) -> Result<(), CliError> {
    let mut reader = pipeline::reader(text.as_bytes());
    let header = pipeline::header_row(&mut reader, shown)?;
    let importer = importer(&header).map_err(|e| format!("{shown}: line 1: {e}"))?;
    let summary = pipeline::run(
        &importer,
        &mut reader,
        shown,
        store,
        10_000,
        &mut Rejects::Stderr,
        &mut Progress::off(),
    )
    .await?;
    if summary.rejected > 0 {
        return Err(format!(
            "{shown}: {} lines rejected (reported above); the demo data must import whole",
            summary.rejected
        )
        .into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::demo::people::PEOPLE;
    use std::collections::BTreeSet;
    use zaitaku_domain::{PersonId, RecordKind};
    use zaitaku_store::SqliteStore;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn every_demo_person_and_record_imports_and_a_second_load_changes_nothing() {
        let dir = tempfile::tempdir().unwrap();
        let store: Arc<dyn Store> =
            Arc::new(SqliteStore::open(&dir.path().join("db")).await.unwrap());
        load(&store).await.unwrap();
        // The persons come in the order of PEOPLE: the ids the demo always had.
        for (n, person) in PEOPLE.iter().enumerate() {
            let found = store.person_by_key(&person.key()).await.unwrap();
            assert_eq!(
                found.map(|p| p.id),
                Some(PersonId(n as i64 + 1)),
                "{}",
                person.id
            );
        }
        let yamada = store
            .person_by_key(&PEOPLE[0].key())
            .await
            .unwrap()
            .unwrap();
        assert_eq!(yamada.qualification.name, "山田 太郎");
        let records = store.records_of(yamada.id, RecordKind::ALL).await.unwrap();
        let kinds: BTreeSet<RecordKind> = records.iter().map(|r| r.kind()).collect();
        assert_eq!(
            kinds.len(),
            RecordKind::ALL.len(),
            "山田 太郎 has every kind"
        );
        assert!(
            records
                .iter()
                .any(|r| r.name() == "HbA1c" && r.detail() == Some("6.1 %"))
        );

        // Loading again (the same import paths) finds everything already there.
        load(&store).await.unwrap();
        let again = store.records_of(yamada.id, RecordKind::ALL).await.unwrap();
        assert_eq!(again, records);
        store.close().await;
    }
}
