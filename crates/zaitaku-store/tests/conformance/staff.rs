//! Staff accounts and console sessions.

use super::common::*;

/// An empty store with two institutions, for the staff cases.
async fn staff_store() -> (Guard, Arc<dyn Store>, InstitutionId, InstitutionId) {
    let (dir, store) = fresh_store().await;
    let mut ids = Vec::new();
    for (code, t) in [("1310123458", 'a'), ("3410712362", 'b')] {
        let institution = store
            .insert_institution(&NewInstitution {
                code: InstitutionCode::parse(code).unwrap(),
                name: format!("機関{t}"),
                offered_items: vec![ConsentItem::Medication],
                e_prescription: EPrescriptionUsage::NotUsed,
                consent_validity_days: 365,
                url_token: token(t),
                flows_from: zaitaku_domain::FlowsFrom::Anyone,
            })
            .await
            .unwrap();
        ids.push(institution.id);
    }
    (dir, store, ids[0], ids[1])
}

fn new_staff(institution: InstitutionId, login: &str, token_hash: &str) -> NewStaff {
    let now = OffsetDateTime::now_utc();
    NewStaff {
        institution_id: institution,
        login_name: LoginName::parse(login).unwrap(),
        display_name: format!("{login}さん"),
        role: StaffRole::Staff,
        totp_secret: "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ".into(),
        enrolment: Enrolment {
            token_hash: token_hash.into(),
            expires_at: now + Duration::hours(72),
        },
        created_at: now,
    }
}

/// Add and enrol (no code) an account.
async fn enrolled(store: &Arc<dyn Store>, institution: InstitutionId, login: &str) -> StaffAccount {
    let hash = format!("{login:e<64}");
    let account = store
        .insert_staff(&new_staff(institution, login, &hash))
        .await
        .unwrap();
    assert!(
        store
            .complete_enrolment(&EnrolmentWrite {
                staff_id: account.id,
                token_hash: hash,
                password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
                totp_step: None,
                shown: None,
                replaces: None,
                session: None,
                at: OffsetDateTime::now_utc(),
            })
            .await
            .unwrap()
    );
    store.staff(account.id).await.unwrap().unwrap()
}

fn console_session(
    id: &str,
    staff: Option<StaffId>,
    stage: StaffSessionStage,
) -> StaffSessionRecord {
    let now = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    StaffSessionRecord {
        id_hash: format!("{id:s<64}"),
        staff_id: staff,
        csrf_token: format!("csrf-{id}"),
        stage,
        created_at: now,
        last_seen_at: now,
        expires_at: now + Duration::minutes(30),
    }
}

fn attempt(account: &StaffAccount, outcome: LoginOutcome) -> LoginRecord {
    LoginRecord {
        at: OffsetDateTime::now_utc().replace_nanosecond(0).unwrap(),
        login_name: account.login_name.as_str().into(),
        staff_id: Some(account.id),
        institution_id: Some(account.institution_id),
        outcome,
    }
}

const LOCKOUT: Lockout = Lockout {
    max_failures: 5,
    duration: Duration::minutes(15),
};

async fn staff_accounts_round_trip_and_login_names_are_unique() {
    let (_dir, store, a, b) = staff_store().await;
    let added = store
        .insert_staff(&new_staff(a, "sato", &"1".repeat(64)))
        .await
        .unwrap();
    assert_eq!(added.login_name.as_str(), "sato");
    assert_eq!(added.display_name, "satoさん");
    assert_eq!(added.role, StaffRole::Staff);
    assert!(!added.is_enrolled());
    assert_eq!(added.failed_attempts, 0);
    assert_eq!(added.totp_last_step, None);
    assert!(added.enrolment_expires_at.is_some());
    assert_eq!(store.staff(added.id).await.unwrap(), Some(added.clone()));
    let login = LoginName::parse("sato").unwrap();
    assert_eq!(
        store.staff_by_login(&login).await.unwrap(),
        Some(added.clone())
    );
    assert!(matches!(
        store
            .insert_staff(&new_staff(b, "sato", &"2".repeat(64)))
            .await,
        Err(StoreError::Duplicate { .. })
    ));
    store
        .insert_staff(&new_staff(a, "abe", &"3".repeat(64)))
        .await
        .unwrap();
    store
        .insert_staff(&new_staff(b, "kato", &"4".repeat(64)))
        .await
        .unwrap();
    let of_a: Vec<_> = store
        .staff_of_institution(a)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.login_name.as_str().to_owned())
        .collect();
    assert_eq!(of_a, ["abe", "sato"]);

    // The enrolment token finds the account until it expires.
    let now = OffsetDateTime::now_utc();
    let found = store
        .staff_by_enrolment(&"1".repeat(64), now)
        .await
        .unwrap();
    assert_eq!(found.map(|s| s.id), Some(added.id));
    assert_eq!(
        store
            .staff_by_enrolment(&"1".repeat(64), now + Duration::hours(73))
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .staff_by_enrolment(&"9".repeat(64), now)
            .await
            .unwrap(),
        None
    );
}

async fn an_enrolment_link_is_used_once_and_logged() {
    let (_dir, store, a, _) = staff_store().await;
    let hash = "7".repeat(64);
    let account = store
        .insert_staff(&new_staff(a, "ito", &hash))
        .await
        .unwrap();
    let form = console_session("form", None, StaffSessionStage::Login);
    store.insert_staff_session(&form).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let write = |n: char| EnrolmentWrite {
        staff_id: account.id,
        token_hash: hash.clone(),
        password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1$c2FsdA${n}"),
        totp_step: Some(1000),
        shown: None,
        replaces: Some(form.id_hash.clone()),
        session: Some(console_session(
            &format!("done{n}"),
            Some(account.id),
            StaffSessionStage::Complete,
        )),
        at: now,
    };
    // Raced: exactly one lands.
    let (wx, wy) = (write('x'), write('y'));
    let (x, y) = tokio::join!(store.complete_enrolment(&wx), store.complete_enrolment(&wy));
    assert!(x.unwrap() ^ y.unwrap());
    let enrolled = store.staff(account.id).await.unwrap().unwrap();
    assert!(enrolled.is_enrolled());
    assert_eq!(enrolled.totp_last_step, Some(1000));
    assert_eq!(enrolled.enrolment_expires_at, None);
    assert_eq!(store.staff_by_enrolment(&hash, now).await.unwrap(), None);
    assert_eq!(store.staff_session(&form.id_hash, now).await.unwrap(), None);
    let winner = if x_won(&enrolled) { "donex" } else { "doney" };
    let session = store
        .staff_session(&format!("{winner:s<64}"), now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(session.stage, StaffSessionStage::Complete);
    assert_eq!(session.staff_id, Some(account.id));
    let log = store.staff_logins(a, 10).await.unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].outcome, LoginOutcome::Enrolment);
    assert_eq!(log[0].login_name, "ito");
    assert_eq!(log[0].staff_id, Some(account.id));

    // An expired token finishes nothing.
    let late = store
        .insert_staff(&new_staff(a, "late", &"8".repeat(64)))
        .await
        .unwrap();
    let mut expired = write('z');
    expired.staff_id = late.id;
    expired.token_hash = "8".repeat(64);
    expired.replaces = None;
    expired.session = None;
    expired.at = now + Duration::hours(73);
    assert!(!store.complete_enrolment(&expired).await.unwrap());
    assert!(!store.staff(late.id).await.unwrap().unwrap().is_enrolled());
}

fn shown(secret: &str, session: &str) -> ShownSecret {
    ShownSecret {
        secret: secret.into(),
        session_hash: format!("{session:s<64}"),
    }
}

async fn each_visit_shows_a_new_secret_and_only_the_last_one_enrols() {
    let (_dir, store, a, _) = staff_store().await;
    let hash = "6".repeat(64);
    let account = store
        .insert_staff(&new_staff(a, "oda", &hash))
        .await
        .unwrap();
    assert_eq!(account.enrolment_secret, None, "nothing shown yet");
    let now = OffsetDateTime::now_utc();
    let (first, second) = (
        shown("MFRGGZDFMZTWQ2LKNNWG23TPOA", "first"),
        shown("ONSWG4TFOQYTEMZUGU3DOOBZ", "second"),
    );
    let seen = store
        .show_enrolment_secret(&hash, &first, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.id, account.id);
    assert_eq!(seen.enrolment_secret, Some(first.clone()));
    // A second visit: its secret replaces the first, which can no longer enrol.
    let seen = store
        .show_enrolment_secret(&hash, &second, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.enrolment_secret, Some(second.clone()));
    let write = |shown: ShownSecret| EnrolmentWrite {
        staff_id: account.id,
        token_hash: hash.clone(),
        password_hash: "$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into(),
        totp_step: Some(2000),
        shown: Some(shown),
        replaces: None,
        session: None,
        at: now,
    };
    let crossed = ShownSecret {
        secret: second.secret.clone(),
        session_hash: first.session_hash.clone(),
    };
    for refused in [first.clone(), crossed] {
        assert!(!store.complete_enrolment(&write(refused)).await.unwrap());
    }
    let waiting = store.staff(account.id).await.unwrap().unwrap();
    assert!(!waiting.is_enrolled());
    assert_eq!(waiting.totp_secret, account.totp_secret);
    assert!(!store.enrolment_link_used(&hash).await.unwrap());

    // The secret shown last, to its session, is the one enrolled; then the link is used.
    assert!(
        store
            .complete_enrolment(&write(second.clone()))
            .await
            .unwrap()
    );
    let enrolled = store.staff(account.id).await.unwrap().unwrap();
    assert!(enrolled.is_enrolled());
    assert_eq!(enrolled.totp_secret, second.secret);
    assert_eq!(
        enrolled.enrolment_secret, None,
        "the shown secret is not kept twice"
    );
    assert!(store.enrolment_link_used(&hash).await.unwrap());
    assert!(!store.enrolment_link_used(&"9".repeat(64)).await.unwrap());
    assert_eq!(store.staff_by_enrolment(&hash, now).await.unwrap(), None);
    let third = shown("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", "third");
    assert_eq!(
        store
            .show_enrolment_secret(&hash, &third, now)
            .await
            .unwrap(),
        None,
        "a used link shows nothing"
    );
    assert!(
        !store
            .complete_enrolment(&write(second.clone()))
            .await
            .unwrap()
    );
    assert_eq!(store.staff(account.id).await.unwrap().unwrap(), enrolled);

    // An expired link shows nothing either.
    let late = "5".repeat(64);
    store
        .insert_staff(&new_staff(a, "late", &late))
        .await
        .unwrap();
    let after = now + Duration::hours(73);
    assert_eq!(
        store
            .show_enrolment_secret(&late, &third, after)
            .await
            .unwrap(),
        None
    );

    // A reset forgets the used link and the secret; its new link shows afresh.
    let enrolment = Enrolment {
        token_hash: "4".repeat(64),
        expires_at: now + Duration::hours(72),
    };
    let reset = store
        .reset_staff(&account.login_name, &third.secret, &enrolment)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(reset.enrolment_secret, None);
    assert!(!store.enrolment_link_used(&hash).await.unwrap());
    let seen = store
        .show_enrolment_secret(&enrolment.token_hash, &first, now)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.enrolment_secret, Some(first));
}

fn x_won(account: &StaffAccount) -> bool {
    account
        .password_hash
        .as_deref()
        .is_some_and(|h| h.ends_with('x'))
}

async fn the_fifth_failure_in_a_row_locks_and_ends_half_logged_in_sessions() {
    let (_dir, store, a, _) = staff_store().await;
    let account = enrolled(&store, a, "ueda").await;
    let half = console_session("half", Some(account.id), StaffSessionStage::PasswordOk);
    let whole = console_session("whole", Some(account.id), StaffSessionStage::Complete);
    store.insert_staff_session(&half).await.unwrap();
    store.insert_staff_session(&whole).await.unwrap();
    for n in 1..=4 {
        let outcome = if n % 2 == 0 {
            LoginOutcome::WrongCode
        } else {
            LoginOutcome::WrongPassword
        };
        assert!(
            !store
                .record_login_failure(&attempt(&account, outcome), &LOCKOUT)
                .await
                .unwrap()
        );
        let now = store.staff(account.id).await.unwrap().unwrap();
        assert_eq!(now.failed_attempts, n);
        assert!(!now.is_locked(OffsetDateTime::now_utc()));
    }
    let fifth = attempt(&account, LoginOutcome::WrongPassword);
    assert!(store.record_login_failure(&fifth, &LOCKOUT).await.unwrap());
    let locked = store.staff(account.id).await.unwrap().unwrap();
    assert_eq!(locked.locked_until, Some(fifth.at + Duration::minutes(15)));
    assert!(locked.is_locked(fifth.at + Duration::minutes(14)));
    assert!(!locked.is_locked(fifth.at + Duration::minutes(15)));
    assert_eq!(locked.failed_attempts, 0, "the count starts again");
    let now = OffsetDateTime::now_utc();
    assert_eq!(store.staff_session(&half.id_hash, now).await.unwrap(), None);
    assert!(
        store
            .staff_session(&whole.id_hash, now)
            .await
            .unwrap()
            .is_some()
    );
    let log = store.staff_logins(a, 100).await.unwrap();
    // The enrolment and five failures.
    assert_eq!(log.len(), 6);
    assert_eq!(log[0].outcome, LoginOutcome::WrongPassword);

    // A success clears the count.
    store
        .record_login_failure(&attempt(&account, LoginOutcome::WrongPassword), &LOCKOUT)
        .await
        .unwrap();
    let half = console_session("half2", Some(account.id), StaffSessionStage::PasswordOk);
    store.insert_staff_session(&half).await.unwrap();
    assert!(
        store
            .complete_login(&LoginCompletion {
                staff_id: account.id,
                totp_step: 5,
                replaces: half.id_hash.clone(),
                session: console_session("in", Some(account.id), StaffSessionStage::Complete),
                at: now,
            })
            .await
            .unwrap()
    );
    let cleared = store.staff(account.id).await.unwrap().unwrap();
    assert_eq!(cleared.failed_attempts, 0);
    assert_eq!(cleared.locked_until, None);
}

async fn a_code_step_logs_in_once_even_when_raced() {
    let (_dir, store, a, _) = staff_store().await;
    let account = enrolled(&store, a, "endo").await;
    let completion = |half: &StaffSessionRecord, step: i64, new: &str| LoginCompletion {
        staff_id: account.id,
        totp_step: step,
        replaces: half.id_hash.clone(),
        session: console_session(new, Some(account.id), StaffSessionStage::Complete),
        at: OffsetDateTime::now_utc(),
    };
    let one = console_session("one", Some(account.id), StaffSessionStage::PasswordOk);
    let two = console_session("two", Some(account.id), StaffSessionStage::PasswordOk);
    store.insert_staff_session(&one).await.unwrap();
    store.insert_staff_session(&two).await.unwrap();
    let (c1, c2) = (completion(&one, 100, "in1"), completion(&two, 100, "in2"));
    let (x, y) = tokio::join!(store.complete_login(&c1), store.complete_login(&c2));
    assert!(x.unwrap() ^ y.unwrap(), "one step, one login");
    assert_eq!(
        store
            .staff(account.id)
            .await
            .unwrap()
            .unwrap()
            .totp_last_step,
        Some(100)
    );
    // The loser's half session is still there, and an earlier step does not help it.
    let loser = if store
        .staff_session(&one.id_hash, OffsetDateTime::now_utc())
        .await
        .unwrap()
        .is_some()
    {
        one.clone()
    } else {
        two.clone()
    };
    assert!(
        !store
            .complete_login(&completion(&loser, 99, "in3"))
            .await
            .unwrap()
    );
    assert!(
        store
            .complete_login(&completion(&loser, 101, "in4"))
            .await
            .unwrap()
    );
    // A session that is not half logged in cannot be completed.
    let login_form = console_session("form", None, StaffSessionStage::Login);
    store.insert_staff_session(&login_form).await.unwrap();
    assert!(
        !store
            .complete_login(&completion(&login_form, 200, "in5"))
            .await
            .unwrap()
    );
    let successes = store
        .staff_logins(a, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|l| l.outcome == LoginOutcome::Success)
        .count();
    assert_eq!(successes, 2);
}

async fn a_reset_clears_the_factors_unlocks_and_ends_every_session() {
    let (_dir, store, a, _) = staff_store().await;
    let account = enrolled(&store, a, "mori").await;
    for _ in 0..5 {
        store
            .record_login_failure(&attempt(&account, LoginOutcome::WrongCode), &LOCKOUT)
            .await
            .unwrap();
    }
    let session = console_session("in", Some(account.id), StaffSessionStage::Complete);
    store.insert_staff_session(&session).await.unwrap();
    let now = OffsetDateTime::now_utc();
    let enrolment = Enrolment {
        token_hash: "5".repeat(64),
        expires_at: now + Duration::hours(72),
    };
    let reset = store
        .reset_staff(
            &account.login_name,
            "MFRGGZDFMZTWQ2LKNNWG23TPOA",
            &enrolment,
        )
        .await
        .unwrap()
        .unwrap();
    assert!(!reset.is_enrolled());
    assert_eq!(reset.totp_secret, "MFRGGZDFMZTWQ2LKNNWG23TPOA");
    assert_eq!(reset.totp_last_step, None);
    assert_eq!(reset.failed_attempts, 0);
    assert_eq!(reset.locked_until, None);
    assert_eq!(
        store.staff_session(&session.id_hash, now).await.unwrap(),
        None
    );
    assert_eq!(
        store
            .staff_by_enrolment(&enrolment.token_hash, now)
            .await
            .unwrap()
            .map(|s| s.id),
        Some(account.id)
    );
    let nobody = LoginName::parse("nobody").unwrap();
    assert_eq!(
        store.reset_staff(&nobody, "X", &enrolment).await.unwrap(),
        None
    );
}

async fn console_sessions_expire_are_kept_alive_rotated_and_purged() {
    let (_dir, store, a, _) = staff_store().await;
    let account = enrolled(&store, a, "noda").await;
    let s = console_session("live", None, StaffSessionStage::Login);
    store.insert_staff_session(&s).await.unwrap();
    assert_eq!(
        store.staff_session(&s.id_hash, s.created_at).await.unwrap(),
        Some(s.clone())
    );
    assert_eq!(
        store.staff_session(&s.id_hash, s.expires_at).await.unwrap(),
        None
    );
    let later = s.created_at + Duration::minutes(20);
    store
        .touch_staff_session(&s.id_hash, later, later + Duration::minutes(30))
        .await
        .unwrap();
    let touched = store
        .staff_session(&s.id_hash, s.expires_at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(touched.last_seen_at, later);
    assert_eq!(touched.expires_at, later + Duration::minutes(30));

    let next = console_session("next", Some(account.id), StaffSessionStage::PasswordOk);
    store
        .replace_staff_session(&s.id_hash, &next)
        .await
        .unwrap();
    assert_eq!(store.staff_session(&s.id_hash, later).await.unwrap(), None);
    assert_eq!(
        store.staff_session(&next.id_hash, later).await.unwrap(),
        Some(next.clone())
    );
    store.delete_staff_session(&next.id_hash).await.unwrap();
    assert_eq!(
        store.staff_session(&next.id_hash, later).await.unwrap(),
        None
    );

    let old = console_session("old", None, StaffSessionStage::Login);
    store.insert_staff_session(&old).await.unwrap();
    assert!(store.purge_expired(old.expires_at).await.unwrap() >= 1);
    assert_eq!(
        store
            .staff_session(&old.id_hash, old.created_at)
            .await
            .unwrap(),
        None
    );
}

async fn the_login_log_lists_an_institutions_own_staff_newest_first() {
    let (_dir, store, a, b) = staff_store().await;
    let at_a = enrolled(&store, a, "aoki").await;
    let at_b = enrolled(&store, b, "baba").await;
    let base = OffsetDateTime::now_utc().replace_nanosecond(0).unwrap();
    for (n, (account, outcome)) in [
        (&at_a, LoginOutcome::WrongPassword),
        (&at_b, LoginOutcome::Locked),
        (&at_a, LoginOutcome::Locked),
    ]
    .into_iter()
    .enumerate()
    {
        let mut line = attempt(account, outcome);
        line.at = base + Duration::seconds(n as i64 + 1);
        store.record_login(&line).await.unwrap();
    }
    store
        .record_login(&LoginRecord {
            at: base + Duration::seconds(10),
            login_name: "who?".into(),
            staff_id: None,
            institution_id: None,
            outcome: LoginOutcome::UnknownLogin,
        })
        .await
        .unwrap();
    let log = store.staff_logins(a, 100).await.unwrap();
    let outcomes: Vec<_> = log.iter().map(|l| l.outcome).collect();
    assert_eq!(
        outcomes,
        [
            LoginOutcome::Locked,
            LoginOutcome::WrongPassword,
            LoginOutcome::Enrolment
        ]
    );
    assert!(log.iter().all(|l| l.institution_id == Some(a)));
    assert_eq!(log[0].at, base + Duration::seconds(3));
    assert_eq!(store.staff_logins(a, 1).await.unwrap().len(), 1);
    let of_b = store.staff_logins(b, 100).await.unwrap();
    assert_eq!(of_b.len(), 2);
    assert!(of_b.iter().all(|l| l.login_name == "baba"));
}

fn change(login: &LoginName, action: StaffAction) -> StaffChange {
    StaffChange {
        login: login.clone(),
        action,
        institution: None,
        keep_an_administrator: false,
    }
}

/// The account and whether an administrator remains, or the refusal.
async fn changed(store: &Arc<dyn Store>, c: &StaffChange) -> (StaffAccount, bool) {
    match store.change_staff(c).await.unwrap() {
        StaffChangeOutcome::Changed {
            account,
            administrator_remains,
        } => (*account, administrator_remains),
        other => panic!("{c:?} refused: {other:?}"),
    }
}

async fn disabling_ends_sessions_and_enabling_brings_the_account_back() {
    let (_dir, store, a, b) = staff_store().await;
    let staff = enrolled(&store, a, "ueno").await;
    let session = console_session("ueno", Some(staff.id), StaffSessionStage::Complete);
    store.insert_staff_session(&session).await.unwrap();
    let now = session.created_at;

    // Another institution's console cannot reach it.
    let mut elsewhere = change(&staff.login_name, StaffAction::Disable);
    elsewhere.institution = Some(b);
    assert_eq!(
        store.change_staff(&elsewhere).await.unwrap(),
        StaffChangeOutcome::NotFound
    );
    assert_eq!(
        store.staff_session(&session.id_hash, now).await.unwrap(),
        Some(session.clone())
    );

    let (disabled, _) = changed(&store, &change(&staff.login_name, StaffAction::Disable)).await;
    assert_eq!(disabled.status, StaffStatus::Disabled);
    assert!(disabled.is_enrolled() && !disabled.may_log_in());
    assert_eq!(store.staff(staff.id).await.unwrap(), Some(disabled.clone()));
    assert_eq!(
        store.staff_session(&session.id_hash, now).await.unwrap(),
        None
    );
    assert_eq!(
        store.staff_of_institution(a).await.unwrap(),
        std::slice::from_ref(&disabled),
        "listed while disabled"
    );

    let (enabled, _) = changed(&store, &change(&staff.login_name, StaffAction::Enable)).await;
    assert_eq!(enabled.status, StaffStatus::Active);
    assert!(enabled.may_log_in());
    assert_eq!(
        enabled.password_hash, staff.password_hash,
        "nothing else changed"
    );

    let nobody = LoginName::parse("nobody").unwrap();
    assert_eq!(
        store
            .change_staff(&change(&nobody, StaffAction::Disable))
            .await
            .unwrap(),
        StaffChangeOutcome::NotFound
    );
}

async fn the_console_cannot_leave_an_institution_without_an_administrator() {
    let (_dir, store, a, _) = staff_store().await;
    let admin = enrolled(&store, a, "kato").await;
    let helper = enrolled(&store, a, "sano").await;
    let (admin, remains) = changed(
        &store,
        &change(
            &admin.login_name,
            StaffAction::SetRole(StaffRole::Administrator),
        ),
    )
    .await;
    assert!(remains && admin.role == StaffRole::Administrator);

    let guarded = |login: &LoginName, action| StaffChange {
        keep_an_administrator: true,
        institution: Some(a),
        ..change(login, action)
    };
    for action in [
        StaffAction::Disable,
        StaffAction::Remove,
        StaffAction::SetRole(StaffRole::Staff),
    ] {
        assert_eq!(
            store
                .change_staff(&guarded(&admin.login_name, action))
                .await
                .unwrap(),
            StaffChangeOutcome::LastAdministrator,
            "{action:?}"
        );
    }
    assert_eq!(
        store.staff(admin.id).await.unwrap(),
        Some(admin.clone()),
        "nothing written"
    );

    // With a second administrator, the first may step down.
    changed(
        &store,
        &guarded(
            &helper.login_name,
            StaffAction::SetRole(StaffRole::Administrator),
        ),
    )
    .await;
    let (stepped_down, remains) = changed(
        &store,
        &guarded(&admin.login_name, StaffAction::SetRole(StaffRole::Staff)),
    )
    .await;
    assert!(remains);
    assert_eq!(stepped_down.role, StaffRole::Staff);
    assert_eq!(
        store
            .change_staff(&guarded(&helper.login_name, StaffAction::Disable))
            .await
            .unwrap(),
        StaffChangeOutcome::LastAdministrator
    );

    // The operator may, and is told.
    let (_, remains) = changed(&store, &change(&helper.login_name, StaffAction::Disable)).await;
    assert!(!remains);
}

async fn a_removed_account_keeps_its_name_and_its_trail_and_nothing_else() {
    let (_dir, store, a, _) = staff_store().await;
    let gone = enrolled(&store, a, "iida").await;
    store
        .record_login(&attempt(&gone, LoginOutcome::Success))
        .await
        .unwrap();
    let session = console_session("iida", Some(gone.id), StaffSessionStage::Complete);
    store.insert_staff_session(&session).await.unwrap();
    let now = OffsetDateTime::now_utc();
    store
        .remember_staff_device(&"d".repeat(64), gone.id, now + Duration::days(90))
        .await
        .unwrap();

    let (removed, _) = changed(&store, &change(&gone.login_name, StaffAction::Remove)).await;
    assert_eq!(removed.status, StaffStatus::Removed);
    assert_eq!(removed.password_hash, None);
    assert_eq!(removed.totp_secret, "");
    assert_eq!(removed.enrolment_expires_at, None);
    assert_eq!(
        store.staff_session(&session.id_hash, now).await.unwrap(),
        None
    );
    assert_eq!(
        store.staff_device(&"d".repeat(64), now).await.unwrap(),
        None
    );
    // The trail still names the account.
    let logins = store.staff_logins(a, 10).await.unwrap();
    assert!(
        logins
            .iter()
            .any(|l| l.login_name == "iida" && l.staff_id == Some(gone.id)),
        "{logins:?}"
    );
    // The name stays taken; nothing brings the account back.
    assert!(matches!(
        store
            .insert_staff(&new_staff(a, "iida", &"9".repeat(64)))
            .await,
        Err(StoreError::Duplicate { .. })
    ));
    let enrolment = Enrolment {
        token_hash: "8".repeat(64),
        expires_at: now + Duration::hours(72),
    };
    assert_eq!(
        store
            .reset_staff(&gone.login_name, "X", &enrolment)
            .await
            .unwrap(),
        None
    );
    for action in [
        StaffAction::Enable,
        StaffAction::Disable,
        StaffAction::Remove,
        StaffAction::SetRole(StaffRole::Administrator),
    ] {
        assert_eq!(
            store
                .change_staff(&change(&gone.login_name, action))
                .await
                .unwrap(),
            StaffChangeOutcome::Removed,
            "{action:?}"
        );
    }
    assert_eq!(store.staff(gone.id).await.unwrap(), Some(removed));
}

on_both_backends!(
    staff_accounts_round_trip_and_login_names_are_unique,
    an_enrolment_link_is_used_once_and_logged,
    each_visit_shows_a_new_secret_and_only_the_last_one_enrols,
    the_fifth_failure_in_a_row_locks_and_ends_half_logged_in_sessions,
    a_code_step_logs_in_once_even_when_raced,
    a_reset_clears_the_factors_unlocks_and_ends_every_session,
    console_sessions_expire_are_kept_alive_rotated_and_purged,
    the_login_log_lists_an_institutions_own_staff_newest_first,
    disabling_ends_sessions_and_enabling_brings_the_account_back,
    the_console_cannot_leave_an_institution_without_an_administrator,
    a_removed_account_keeps_its_name_and_its_trail_and_nothing_else,
);
