//! The page's long-polled status (issue 17): a card accepted while a status
//! request is between its reads is never reported as `expired`. Many
//! settlements, each with a page waiting on its flow and tabs asking back to
//! back while the token is answered.

use crate::common;

use common::flow::{self, ALL_AGREE};
use common::{Kit, qualification, sign};
use std::time::Duration;

/// Settlements in one run (flow B's card that views, which can be repeated).
const SETTLEMENTS: usize = 80;
/// Tabs asking for the status without waiting, per settlement.
const ASKING_TABS: usize = 3;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_accepted_card_is_never_reported_as_expired() {
    let kit = Kit::start().await;
    let card = kit.linked_card("yamada", qualification("山田 太郎")).await;
    flow::register(&mut kit.client(), &kit, &kit.clinic, &card.path, ALL_AGREE).await;

    let mut answers: Vec<String> = Vec::new();
    let mut waited: Vec<String> = Vec::new();
    for _ in 0..SETTLEMENTS {
        let mut page = kit.client();
        let (walk, auth, nonce) = flow::start_inquiry(&mut page, &kit, &kit.clinic).await;
        let token = sign(&card.path, &kit.origin, &nonce).await;
        let status = format!("{}/status", walk.flow);

        // The page waits (long poll) as the built-in page does.
        let waiting = {
            let mut tab = page.fresh_with_cookies();
            let url = format!("{status}?wait=claimed");
            tokio::spawn(async move { tab.get(&url).await.json()["state"].to_string() })
        };
        // Other tabs ask back to back until the flow has moved on.
        let asking: Vec<_> = (0..ASKING_TABS)
            .map(|_| {
                let mut tab = page.fresh_with_cookies();
                let url = status.clone();
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    loop {
                        let answer = tab.get(&url).await;
                        assert_eq!(answer.status, 200, "{}", answer.body);
                        let state = answer.json()["state"].as_str().unwrap().to_owned();
                        let last = state != "claimed";
                        seen.push(state);
                        if last {
                            return seen;
                        }
                    }
                })
            })
            .collect();
        tokio::time::sleep(Duration::from_millis(5)).await;
        let accepted = page.fresh().post_claimed(&auth, &token).await;
        assert_eq!(accepted.status, 200, "{}", accepted.body);

        waited.push(waiting.await.unwrap());
        for tab in asking {
            answers.extend(tab.await.unwrap());
        }
    }

    let expired = answers.iter().filter(|s| *s == "expired").count();
    assert_eq!(
        expired,
        0,
        "{expired} of {} answers said expired for an accepted card",
        answers.len()
    );
    assert!(
        answers.iter().all(|s| s == "claimed" || s == "moved"),
        "{answers:?}"
    );
    assert!(
        waited.iter().all(|s| s == "\"moved\""),
        "every waiting page heard the card was read: {waited:?}"
    );
}
