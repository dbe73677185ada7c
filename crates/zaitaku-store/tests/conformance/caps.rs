//! Caps on flows and challenges: counted in the transaction that would write,
//! nothing written over a cap, and a session stored with its first flow.

use crate::common::*;
use zaitaku_store::{CapReached, Caps, ChallengeOpening, SessionRecord};

const CAPS: Caps = Caps {
    live_per_session: 2,
    per_institution_per_minute: 3,
};

fn new_flow(f: &Fixture, id: &str, session: &str) -> FlowRecord {
    let now = OffsetDateTime::now_utc();
    FlowRecord {
        id: id.into(),
        session_hash: session.into(),
        step: FlowStep::Select,
        challenge_ref: None,
        created_at: now,
        expires_at: now + Duration::minutes(30),
        version: 0,
        ..f.flow.clone()
    }
}

fn session(id_hash: &str, created_at: OffsetDateTime, lifetime: Duration) -> SessionRecord {
    SessionRecord {
        id_hash: id_hash.into(),
        csrf_token: format!("token-of-{id_hash}"),
        created_at,
        expires_at: created_at + lifetime,
        auth_method: None,
    }
}

async fn rows(f: &Fixture) -> Vec<(String, i64)> {
    f.store.row_counts().await.unwrap()
}

async fn flows_over_their_caps_write_nothing() {
    // The fixture's flow (session "s") is the institution's first this minute.
    let f = fixture().await;
    let now = OffsetDateTime::now_utc();
    let first = session("a", now, Duration::hours(8));
    let started = f
        .store
        .start_flow(
            &new_flow(&f, "flow-a1-0123456789ab", "a"),
            Some(&first),
            &CAPS,
        )
        .await
        .unwrap();
    assert_eq!(started, Ok(()));
    let stored = f.store.session("a", now).await.unwrap().unwrap();
    assert_eq!(
        stored.csrf_token, "token-of-a",
        "stored with its first flow"
    );
    // The same first session again (two first forms at once): kept as it is.
    let again = SessionRecord {
        csrf_token: "another".into(),
        ..first.clone()
    };
    let second = new_flow(&f, "flow-a2-0123456789ab", "a");
    assert_eq!(
        f.store
            .start_flow(&second, Some(&again), &CAPS)
            .await
            .unwrap(),
        Ok(())
    );
    assert_eq!(
        f.store.session("a", now).await.unwrap().unwrap().csrf_token,
        "token-of-a"
    );
    let before = rows(&f).await;
    let third = new_flow(&f, "flow-a3-0123456789ab", "a");
    assert_eq!(
        f.store.start_flow(&third, None, &CAPS).await.unwrap(),
        Err(CapReached::Session)
    );
    // Session "b" has none, but the institution has had three this minute.
    let fourth = new_flow(&f, "flow-b1-0123456789ab", "b");
    let b = session("b", now, Duration::hours(8));
    assert_eq!(
        f.store.start_flow(&fourth, Some(&b), &CAPS).await.unwrap(),
        Err(CapReached::Institution)
    );
    assert_eq!(rows(&f).await, before, "refused starts wrote nothing");
    assert!(f.store.session("b", now).await.unwrap().is_none());
    assert!(
        f.store
            .flow("flow-b1-0123456789ab")
            .await
            .unwrap()
            .is_none()
    );
}

async fn an_expired_session_of_the_same_id_is_replaced_at_the_first_flow() {
    let f = fixture().await;
    let long_ago = OffsetDateTime::now_utc() - Duration::hours(9);
    f.store
        .insert_session(&session("old", long_ago, Duration::hours(8)))
        .await
        .unwrap();
    let now = OffsetDateTime::now_utc();
    let renewed = session("old", now, Duration::hours(8));
    let flow = new_flow(&f, "flow-old-0123456789ab", "old");
    assert_eq!(
        f.store
            .start_flow(&flow, Some(&renewed), &CAPS)
            .await
            .unwrap(),
        Ok(())
    );
    let stored = f
        .store
        .session("old", now)
        .await
        .unwrap()
        .expect("live again");
    assert!(stored.expires_at > now + Duration::hours(7));
}

async fn challenges_over_their_caps_write_nothing() {
    // The fixture's flow holds one pending challenge of session "s".
    let f = fixture().await;
    let caps = Caps {
        live_per_session: 1,
        per_institution_per_minute: 2,
    };
    let flow = waiting_flow_without_challenge(&f, "flow-c1-0123456789ab", "s").await;
    let before = rows(&f).await;
    let challenge = pending_challenge("challenge-c1-0123456789", &flow, Purpose::Register);
    let mut next = flow.clone();
    next.step = f.flow.step.clone();
    next.challenge_ref = Some(challenge.reference.clone());
    assert_eq!(
        f.store
            .open_challenge(&next, &challenge, &caps)
            .await
            .unwrap(),
        ChallengeOpening::Refused(CapReached::Session)
    );
    assert_eq!(rows(&f).await, before);
    // Another session: the institution's second challenge, then its cap.
    let other = waiting_flow_without_challenge(&f, "flow-c2-0123456789ab", "t").await;
    let challenge = pending_challenge("challenge-c2-0123456789", &other, Purpose::Register);
    let mut next = other.clone();
    next.step = f.flow.step.clone();
    next.challenge_ref = Some(challenge.reference.clone());
    assert_eq!(
        f.store
            .open_challenge(&next, &challenge, &caps)
            .await
            .unwrap(),
        ChallengeOpening::Opened
    );
    let stored = f.store.flow(&other.id).await.unwrap().unwrap();
    assert_eq!(stored.challenge_ref, next.challenge_ref);
    assert_eq!(stored.version, other.version + 1);
    let third = waiting_flow_without_challenge(&f, "flow-c3-0123456789ab", "u").await;
    let challenge = pending_challenge("challenge-c3-0123456789", &third, Purpose::Register);
    let mut next = third.clone();
    next.challenge_ref = Some(challenge.reference.clone());
    let before = rows(&f).await;
    assert_eq!(
        f.store
            .open_challenge(&next, &challenge, &caps)
            .await
            .unwrap(),
        ChallengeOpening::Refused(CapReached::Institution)
    );
    assert_eq!(rows(&f).await, before);
    // Within the caps, a stale version is reported and writes nothing.
    let roomy = Caps {
        live_per_session: 10,
        per_institution_per_minute: 10,
    };
    let stale = FlowRecord {
        version: third.version + 5,
        ..next.clone()
    };
    assert_eq!(
        f.store
            .open_challenge(&stale, &challenge, &roomy)
            .await
            .unwrap(),
        ChallengeOpening::Stale
    );
    assert_eq!(rows(&f).await, before);
}

/// A new flow of `f`'s institution for `session`, at its selection, no challenge.
async fn waiting_flow_without_challenge(f: &Fixture, id: &str, session: &str) -> FlowRecord {
    let flow = new_flow(f, id, session);
    f.store.insert_flow(&flow).await.unwrap();
    flow
}

on_both_backends!(
    flows_over_their_caps_write_nothing,
    an_expired_session_of_the_same_id_is_replaced_at_the_first_flow,
    challenges_over_their_caps_write_nothing,
);
