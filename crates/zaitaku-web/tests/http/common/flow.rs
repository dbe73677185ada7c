//! Walking flow A over HTTP the way a browser does.

use super::{Claimed, Client, Kit, Response};
use zaitaku_domain::Institution;

pub struct Walk {
    /// `/f/{id}`
    pub flow: String,
    pub csrf: String,
}

pub const ALL_AGREE: &[(&str, &str)] = &[("YZK", "1"), ("SRJ", "1"), ("TKK", "1")];

pub async fn start(client: &mut Client, kit: &Kit, institution: &Institution) -> Walk {
    let url = kit.url(institution);
    let page = client.get(&url).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let csrf = page.input("csrf");
    let started = client
        .post_form(&format!("{url}/registration"), &[("csrf", &csrf)])
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let flow = started.location().trim_end_matches("/select").to_owned();
    Walk { flow, csrf }
}

pub async fn choose(client: &mut Client, walk: &Walk, answers: &[(&str, &str)]) -> Response {
    let mut pairs = vec![("csrf", walk.csrf.as_str())];
    pairs.extend_from_slice(answers);
    client
        .post_form(&format!("{}/select", walk.flow), &pairs)
        .await
}

pub async fn confirm(client: &mut Client, walk: &Walk) -> Response {
    let page = client.get(&format!("{}/confirm", walk.flow)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let fingerprint = page.input("choices");
    client
        .post_form(
            &format!("{}/confirm", walk.flow),
            &[("csrf", &walk.csrf), ("choices", &fingerprint)],
        )
        .await
}

/// Fetch the challenge behind the page's authentication link as an authenticator
/// does, claiming it. Returns where to answer it with which claim, and its nonce.
pub async fn challenge(client: &mut Client, walk: &Walk) -> (Claimed, String) {
    let path = auth_link(client, walk).await;
    let described = client.fresh().get_json(&path).await;
    assert_eq!(described.status, 200, "{}", described.body);
    let json = described.json();
    let nonce = json["nonce"].as_str().unwrap().to_owned();
    let claim = json["claim"].as_str().expect("the fetch claims it");
    let claimed = Claimed {
        path,
        claim: claim.to_owned(),
    };
    (claimed, nonce)
}

/// The authentication link's path (`/auth/{ref}`) the page shows, unfetched.
pub async fn auth_link(client: &mut Client, walk: &Walk) -> String {
    let page = client.get(&format!("{}/authenticate", walk.flow)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let start = page.body.find("/auth/").expect("an authentication link");
    let end = page.body[start..].find('<').unwrap() + start;
    page.body[start..end].to_owned()
}

/// Start, choose, confirm: a flow waiting for its card.
pub async fn until_authentication(
    client: &mut Client,
    kit: &Kit,
    institution: &Institution,
    answers: &[(&str, &str)],
) -> (Walk, Claimed, String) {
    let walk = start(client, kit, institution).await;
    let chosen = choose(client, &walk, answers).await;
    assert_eq!(chosen.status, 303, "{}", chosen.body);
    let confirmed = confirm(client, &walk).await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    let (auth, nonce) = challenge(client, &walk).await;
    (walk, auth, nonce)
}

/// Flow C's start: the menu's 「すべての同意を取消す」 on the institution page.
/// Returns the flow and its confirmation page.
pub async fn start_revocation(
    client: &mut Client,
    kit: &Kit,
    institution: &Institution,
) -> (Walk, Response) {
    let url = kit.url(institution);
    let page = client.get(&url).await;
    assert!(
        page.body.contains(&format!(
            r#"<form class="menu__form" method="post" action="{url}/revocation">"#
        )),
        "the menu starts flow C"
    );
    let csrf = page.input("csrf");
    let started = client
        .post_form(&format!("{url}/revocation"), &[("csrf", &csrf)])
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let flow = started.location().trim_end_matches("/revoke").to_owned();
    let confirm = client.get(started.location()).await;
    assert_eq!(confirm.status, 200, "{}", confirm.body);
    (Walk { flow, csrf }, confirm)
}

/// 「すべての同意を取消す」 on flow C's confirmation screen.
pub async fn confirm_revocation(client: &mut Client, walk: &Walk) -> Response {
    client
        .post_form(&format!("{}/revoke", walk.flow), &[("csrf", &walk.csrf)])
        .await
}

/// Flow C up to its card. Returns the flow and its challenge.
pub async fn revoke_until_authentication(
    client: &mut Client,
    kit: &Kit,
    institution: &Institution,
) -> (Walk, Claimed, String) {
    let (walk, _) = start_revocation(client, kit, institution).await;
    let confirmed = confirm_revocation(client, &walk).await;
    assert_eq!(confirmed.status, 303, "{}", confirmed.body);
    let (auth, nonce) = challenge(client, &walk).await;
    (walk, auth, nonce)
}

/// Flow A from start to its accepted card: `card` registers `answers`.
pub async fn register(
    client: &mut Client,
    kit: &Kit,
    institution: &Institution,
    card: &std::path::Path,
    answers: &[(&str, &str)],
) {
    let (_, auth, nonce) = until_authentication(client, kit, institution, answers).await;
    let token = super::sign(card, &kit.origin, &nonce).await;
    let accepted = client.fresh().post_claimed(&auth, &token).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
}

/// Flow B's start: 「同意照会・更新」 goes straight to the card that views.
/// Returns the flow and its challenge.
pub async fn start_inquiry(
    client: &mut Client,
    kit: &Kit,
    institution: &Institution,
) -> (Walk, Claimed, String) {
    let url = kit.url(institution);
    let page = client.get(&url).await;
    let csrf = page.input("csrf");
    let started = client
        .post_form(&format!("{url}/inquiry"), &[("csrf", &csrf)])
        .await;
    assert_eq!(started.status, 303, "{}", started.body);
    let flow = started
        .location()
        .trim_end_matches("/authenticate")
        .to_owned();
    let walk = Walk { flow, csrf };
    let (auth, nonce) = challenge(client, &walk).await;
    (walk, auth, nonce)
}

/// Flow B up to the edit screen: `card` views its consent. Returns the flow and
/// the edit screen.
pub async fn view(
    client: &mut Client,
    kit: &Kit,
    institution: &Institution,
    card: &std::path::Path,
) -> (Walk, Response) {
    let (walk, auth, nonce) = start_inquiry(client, kit, institution).await;
    let token = super::sign(card, &kit.origin, &nonce).await;
    let accepted = client.fresh().post_claimed(&auth, &token).await;
    assert_eq!(accepted.status, 200, "{}", accepted.body);
    let status = client.get(&format!("{}/status", walk.flow)).await.json();
    assert_eq!(status["next"], format!("{}/update", walk.flow));
    let edit = client.get(&format!("{}/update", walk.flow)).await;
    assert_eq!(edit.status, 200, "{}", edit.body);
    (walk, edit)
}

/// 「更新内容を確認する」 with `answers`.
pub async fn revise(client: &mut Client, walk: &Walk, answers: &[(&str, &str)]) -> Response {
    let mut pairs = vec![("csrf", walk.csrf.as_str())];
    pairs.extend_from_slice(answers);
    client
        .post_form(&format!("{}/update", walk.flow), &pairs)
        .await
}

/// 「同意内容を更新する」 on flow B's confirmation screen; returns the new challenge.
pub async fn confirm_update(client: &mut Client, walk: &Walk) -> (Claimed, String) {
    let page = client.get(&format!("{}/update/confirm", walk.flow)).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let fingerprint = page.input("choices");
    let confirmed = client
        .post_form(
            &format!("{}/update/confirm", walk.flow),
            &[("csrf", &walk.csrf), ("choices", &fingerprint)],
        )
        .await;
    assert_eq!(
        confirmed.location(),
        format!("{}/authenticate", walk.flow),
        "{}",
        confirmed.body
    );
    challenge(client, walk).await
}
