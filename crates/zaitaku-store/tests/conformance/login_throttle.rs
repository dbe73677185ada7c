//! Password attempts counted before the password is checked (issue 17): parallel
//! claims pass no more often than the policy allows, a device counts apart from
//! the account's unknown browsers, a locked account passes none, unlock clears.

use super::common::*;
use zaitaku_store::{AttemptClaim, AttemptKey, ThrottlePolicy};

const POLICY: ThrottlePolicy = ThrottlePolicy {
    free_attempts: 5,
    first_delay: Duration::minutes(1),
    max_delay: Duration::hours(1),
};

async fn one_account() -> (Guard, Arc<dyn Store>, StaffAccount) {
    let (dir, store) = fresh_store().await;
    let institution = store
        .insert_institution(&NewInstitution {
            code: InstitutionCode::parse("1310123458").unwrap(),
            name: "機関".into(),
            offered_items: vec![ConsentItem::Medication],
            e_prescription: EPrescriptionUsage::NotUsed,
            consent_validity_days: 365,
            url_token: UrlToken::parse(&"t".repeat(43)).unwrap(),
            flows_from: zaitaku_domain::FlowsFrom::Anyone,
        })
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let account = store
        .insert_staff(&NewStaff {
            institution_id: institution.id,
            login_name: LoginName::parse("ueda").unwrap(),
            display_name: "上田".into(),
            role: StaffRole::Staff,
            totp_secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into(),
            enrolment: Enrolment {
                token_hash: "e".repeat(64),
                expires_at: now + Duration::hours(72),
            },
            created_at: now,
        })
        .await
        .unwrap();
    (dir, store, account)
}

fn at() -> OffsetDateTime {
    OffsetDateTime::now_utc().replace_nanosecond(0).unwrap()
}

async fn fifty_parallel_claims_pass_only_the_free_attempts_then_the_delay_grows() {
    let (_dir, store, account) = one_account().await;
    let key = AttemptKey::Account(account.id);
    let now = at();
    let claims: Vec<_> = (0..50)
        .map(|_| {
            let (store, key) = (store.clone(), key.clone());
            tokio::spawn(async move { store.claim_login_attempt(&key, now, &POLICY).await })
        })
        .collect();
    let mut counted = Vec::new();
    for claim in claims {
        match claim.await.unwrap().unwrap() {
            AttemptClaim::Counted(n) => counted.push(n),
            AttemptClaim::Throttled(until) => assert_eq!(until, now + Duration::minutes(1)),
            AttemptClaim::Locked(_) => panic!("nothing locked the account"),
        }
    }
    counted.sort_unstable();
    assert_eq!(counted, [1, 2, 3, 4, 5], "each free attempt counted once");
    let count = store.login_attempts(&key).await.unwrap().unwrap();
    assert_eq!(count.attempts, 5);
    assert_eq!(count.next_at, now + Duration::minutes(1));
    // Still waiting a second before the time: refused, and nothing counted.
    let early = now + Duration::seconds(59);
    assert!(matches!(
        store
            .claim_login_attempt(&key, early, &POLICY)
            .await
            .unwrap(),
        AttemptClaim::Throttled(_)
    ));
    // Then one attempt, and the next wait is twice as long.
    let later = now + Duration::minutes(1);
    assert_eq!(
        store
            .claim_login_attempt(&key, later, &POLICY)
            .await
            .unwrap(),
        AttemptClaim::Counted(6)
    );
    let count = store.login_attempts(&key).await.unwrap().unwrap();
    assert_eq!(count.next_at, later + Duration::minutes(2));
    // The wait stops growing at an hour.
    assert_eq!(POLICY.delay_after(11), Duration::hours(1));
    assert_eq!(POLICY.delay_after(1000), Duration::hours(1));
    assert_eq!(POLICY.delay_after(4), Duration::ZERO);
    // A completed login starts the counter again.
    store.clear_login_attempts(&key).await.unwrap();
    assert_eq!(store.login_attempts(&key).await.unwrap(), None);
    assert_eq!(
        store
            .claim_login_attempt(&key, later, &POLICY)
            .await
            .unwrap(),
        AttemptClaim::Counted(1)
    );
}

async fn a_remembered_device_counts_apart_and_a_lock_stops_every_counter() {
    let (_dir, store, account) = one_account().await;
    let now = at();
    let device_hash = "d".repeat(64);
    store
        .remember_staff_device(&device_hash, account.id, now + Duration::days(90))
        .await
        .unwrap();
    assert_eq!(
        store.staff_device(&device_hash, now).await.unwrap(),
        Some(account.id)
    );
    assert_eq!(
        store
            .staff_device(&device_hash, now + Duration::days(90))
            .await
            .unwrap(),
        None,
        "expired"
    );
    assert_eq!(
        store.staff_device(&"x".repeat(64), now).await.unwrap(),
        None
    );

    // A stranger uses up the account's unknown browsers' attempts…
    let stranger = AttemptKey::Account(account.id);
    for _ in 0..5 {
        assert!(matches!(
            store
                .claim_login_attempt(&stranger, now, &POLICY)
                .await
                .unwrap(),
            AttemptClaim::Counted(_)
        ));
    }
    assert!(matches!(
        store
            .claim_login_attempt(&stranger, now, &POLICY)
            .await
            .unwrap(),
        AttemptClaim::Throttled(_)
    ));
    // …the staff member's own device still has its own.
    let device = AttemptKey::Device {
        staff_id: account.id,
        token_hash: device_hash,
    };
    assert_eq!(
        store
            .claim_login_attempt(&device, now, &POLICY)
            .await
            .unwrap(),
        AttemptClaim::Counted(1)
    );

    // Wrong codes (after a right password) lock the account: no counter passes.
    for _ in 0..5 {
        store
            .record_login_failure(
                &LoginRecord {
                    at: now,
                    login_name: "ueda".into(),
                    staff_id: Some(account.id),
                    institution_id: Some(account.institution_id),
                    outcome: LoginOutcome::WrongCode,
                },
                &Lockout {
                    max_failures: 5,
                    duration: Duration::minutes(15),
                },
            )
            .await
            .unwrap();
    }
    assert_eq!(
        store
            .claim_login_attempt(&device, now, &POLICY)
            .await
            .unwrap(),
        AttemptClaim::Locked(now + Duration::minutes(15))
    );
    let counted = store.login_attempts(&device).await.unwrap().unwrap();
    assert_eq!(counted.attempts, 1, "a refused claim counts nothing");

    // Unlock clears the lock and every counter of the account.
    let login = LoginName::parse("ueda").unwrap();
    let unlocked = store.unlock_staff(&login).await.unwrap().unwrap();
    assert!(!unlocked.is_locked(now));
    assert_eq!(unlocked.failed_attempts, 0);
    assert_eq!(store.login_attempts(&stranger).await.unwrap(), None);
    assert_eq!(store.login_attempts(&device).await.unwrap(), None);
    assert_eq!(
        store
            .claim_login_attempt(&stranger, now, &POLICY)
            .await
            .unwrap(),
        AttemptClaim::Counted(1)
    );
    assert!(
        store
            .unlock_staff(&LoginName::parse("nobody").unwrap())
            .await
            .unwrap()
            .is_none()
    );
}

on_both_backends!(
    fifty_parallel_claims_pass_only_the_free_attempts_then_the_delay_grows,
    a_remembered_device_counts_apart_and_a_lock_stops_every_counter,
);
