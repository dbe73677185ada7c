//! The tamper-evident chains: every write of the consent history, the access
//! log and the login log joins its institution's chain; two stores appending
//! at once leave one chain; the retention purge leaves a checkpoint the chain
//! verifies from. (Edits, deletions and reorders made directly in the
//! database are the CLI tests', `crates/zaitaku/tests/cli/audit.rs`.)

use super::backend::second_store;
use super::common::*;
use zaitaku_store::audit::verify_chain;
use zaitaku_store::{Chain, ChainSnapshot, Finding, RetentionPolicy};

fn staff() -> StaffActor {
    StaffActor {
        id: StaffId(7),
        login: "hanako".into(),
        name: "看護 花子".into(),
    }
}

fn entry(f: &Fixture, at: OffsetDateTime, action: AccessAction) -> AccessEntry {
    AccessEntry {
        at,
        institution: Some(f.write.institution_id),
        actor: AccessActor::Staff(staff()),
        person: None,
        action,
        device_name: Some("訪問用タブレット1".into()),
        detail: Some("条件なし".into()),
    }
}

fn chain(
    snapshots: &[ChainSnapshot],
    chain: Chain,
    institution: Option<InstitutionId>,
) -> &ChainSnapshot {
    snapshots
        .iter()
        .find(|s| s.chain == chain && s.institution == institution)
        .unwrap_or_else(|| panic!("no {chain:?} chain of {institution:?}"))
}

fn assert_intact(snapshots: &[ChainSnapshot]) {
    for s in snapshots {
        let finding = verify_chain(s, None);
        assert!(finding.intact(), "{:?}: {}", s.chain, finding.describe());
    }
}

async fn every_log_write_joins_its_institutions_chain() {
    let f = fixture().await;
    let at = f.write.at;
    f.store.settle_registration(&f.write).await.unwrap();
    for action in [AccessAction::Search, AccessAction::SettingsChange] {
        f.store.record_access(&entry(&f, at, action)).await.unwrap();
    }
    for institution_id in [Some(f.write.institution_id), None] {
        f.store
            .record_login(&LoginRecord {
                at,
                login_name: "who".into(),
                staff_id: None,
                institution_id,
                outcome: LoginOutcome::UnknownLogin,
            })
            .await
            .unwrap();
    }
    let all = f.store.audit_snapshot(None).await.unwrap();
    assert_intact(&all);
    let here = Some(f.write.institution_id);
    let history = chain(&all, Chain::ConsentHistory, here);
    assert_eq!(history.entries.len(), 1);
    let access = chain(&all, Chain::AccessLog, here);
    let seqs: Vec<_> = access.entries.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, [Some(1), Some(2)]);
    assert_eq!(access.head.as_ref().unwrap().head_seq, 2);
    assert_eq!(chain(&all, Chain::StaffLogins, here).entries.len(), 1);
    // The login log's entries without an institution: a chain of their own.
    assert_eq!(chain(&all, Chain::StaffLogins, None).entries.len(), 1);
    // One institution's chains only.
    let mine = f.store.audit_snapshot(here).await.unwrap();
    assert_eq!(mine.len(), 3);
    assert!(mine.iter().all(|s| s.institution == here));
    // The access log reads the new columns back.
    let lines = f
        .store
        .access_log(f.write.institution_id, 10)
        .await
        .unwrap();
    assert_eq!(lines[0].entry.action, AccessAction::SettingsChange);
    assert_eq!(lines[0].entry.person, None);
    assert_eq!(lines[0].person_name, None);
    assert_eq!(lines[0].entry.detail.as_deref(), Some("条件なし"));
}

async fn two_stores_appending_at_once_leave_one_chain() {
    let f = fixture().await;
    let other = second_store(&f._dir).await;
    let at = f.write.at;
    let mut tasks = Vec::new();
    for store in [f.store.clone(), other] {
        let e = entry(&f, at, AccessAction::Search);
        tasks.push(tokio::spawn(async move {
            for _ in 0..20 {
                store.record_access(&e).await.unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let all = f.store.audit_snapshot(None).await.unwrap();
    assert_intact(&all);
    let access = chain(&all, Chain::AccessLog, Some(f.write.institution_id));
    assert_eq!(access.entries.len(), 40);
    assert_eq!(access.head.as_ref().unwrap().head_seq, 40);
}

async fn a_purge_leaves_a_checkpoint_the_chain_verifies_from() {
    let f = fixture().await;
    let now = f.write.at;
    let long_ago = now - Duration::days(i64::from(RetentionPolicy::DEFAULT.access_log_days) + 1);
    for at in [long_ago, long_ago, now] {
        f.store
            .record_access(&entry(&f, at, AccessAction::View))
            .await
            .unwrap();
    }
    let policy = RetentionPolicy::DEFAULT;
    let done = f.store.purge(&policy.cutoffs(now), false).await.unwrap();
    let deleted = done.iter().find(|c| c.table == "access_log").unwrap().rows;
    assert_eq!(deleted, 2);
    let all = f.store.audit_snapshot(None).await.unwrap();
    assert_intact(&all);
    let access = chain(&all, Chain::AccessLog, Some(f.write.institution_id));
    let head = access.head.as_ref().unwrap();
    assert_eq!((head.start_seq, head.head_seq), (3, 3));
    assert_eq!(access.entries.len(), 1);
    // Appends go on from the head; the chain still verifies.
    f.store
        .record_access(&entry(&f, now, AccessAction::View))
        .await
        .unwrap();
    let all = f.store.audit_snapshot(None).await.unwrap();
    assert_intact(&all);
    // The checkpoint does not excuse a gap after it.
    let mut cut = chain(&all, Chain::AccessLog, Some(f.write.institution_id)).clone();
    cut.entries.remove(0);
    assert_eq!(
        verify_chain(&cut, None),
        Finding::Deleted {
            seq: 3,
            after: None
        }
    );
}

async fn a_verification_is_kept_for_the_console() {
    let f = fixture().await;
    let here = f.write.institution_id;
    assert!(
        f.store
            .last_audit_verification(here)
            .await
            .unwrap()
            .is_none()
    );
    let at = OffsetDateTime::from_unix_timestamp(1_790_000_000).unwrap();
    for (i, intact) in [true, false].into_iter().enumerate() {
        f.store
            .record_audit_verification(&zaitaku_store::AuditVerification {
                at: at + Duration::seconds(i as i64),
                institution: None,
                intact,
                chains: 3,
                findings: if intact { String::new() } else { "x".into() },
            })
            .await
            .unwrap();
    }
    let last = f
        .store
        .last_audit_verification(here)
        .await
        .unwrap()
        .unwrap();
    assert!(!last.intact);
    assert_eq!(last.at, at + Duration::seconds(1));
}

on_both_backends!(
    every_log_write_joins_its_institutions_chain,
    two_stores_appending_at_once_leave_one_chain,
    a_purge_leaves_a_checkpoint_the_chain_verifies_from,
    a_verification_is_kept_for_the_console,
);
