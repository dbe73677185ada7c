//! Demo mode only: the list of demo institutions and cards at `/`, and the demo
//! card reader that stands in for the phone app. The reader signs with a virtual
//! card and posts the token through the very same verification as a real card.

use crate::devices;
use crate::error::PageError;
use crate::handoff;
use crate::i18n::Text;
use crate::limits::ClientAddress;
use crate::session::Session;
use crate::state::{AppState, DemoCard};
use crate::verification::{self, Answerer, SubmitError, TokenOutcome};
use crate::views::{
    DemoCardView, DemoIndexPage, DemoInstitution, DemoReaderPage, DemoStaffView, ReaderCard,
};
use axum::Extension;
use axum::extract::{Form, Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use zaitaku_card::authenticator::sign_challenge;
use zaitaku_card::{
    CardError, ChallengeNonce, JpkiCard, Origin, Pin, PinFormatError, PinStatus, VirtualCard,
    VirtualCardError, WebEidToken,
};
use zaitaku_domain::DeviceName;
use zaitaku_store::{ChallengeRecord, DeviceActor};

const APP_VERSION: &str = concat!("zaitaku-demo-reader/", env!("CARGO_PKG_VERSION"));

/// The demo index. It also enrols the browser that opens it as a device of
/// every demo institution (and says so), so the demo stays two clicks from flow A.
pub async fn index(
    State(state): State<AppState>,
    ClientAddress(client): ClientAddress,
    headers: HeaderMap,
) -> Result<Response, PageError> {
    let Some(demo) = &state.demo else {
        return Err(PageError::NotFound);
    };
    let all = state.store.institutions().await?;
    let secure = state.secure_cookies();
    // A browser enrolled already enrols nothing new; any other (no cookie, or
    // one we never issued) would add a row per institution: counted per client.
    let enrolled = match all.iter().find(|i| i.is_active()) {
        Some(first) => devices::current_device(&state, &headers, first.id)
            .await?
            .is_some(),
        None => true,
    };
    if !enrolled {
        state
            .guards
            .demo_enrolment(client)
            .map_err(|retry_after| PageError::Busy { retry_after })?;
    }
    let credential = devices::Credential::sent_or_new(&headers, secure);
    let name = DeviceName::parse(&Text.get("demo-device-name"))
        .map_err(|e| PageError::Internal(e.to_string()))?;
    for institution in all.iter().filter(|i| i.is_active()) {
        devices::enrol(
            state.store.as_ref(),
            &credential,
            institution.id,
            name.clone(),
            DeviceActor::Demo,
        )
        .await?;
    }
    let institutions = all
        .into_iter()
        .map(|i| DemoInstitution {
            kind: i.kind.label(),
            code: i.code.as_str().to_owned(),
            e_prescription: i.asks_prescription_form(),
            href: format!("/i/{}", i.url_token.as_str()),
            name: i.name,
        })
        .collect();
    let cards = demo
        .cards
        .iter()
        .map(|c| DemoCardView {
            label: c.label.clone(),
            pin: c.pin.clone(),
        })
        .collect();
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let staff = demo
        .staff
        .iter()
        .filter_map(|s| {
            let secret = crate::console::totp::TotpSecret::parse(&s.totp_secret)?;
            Some(DemoStaffView {
                institution_name: s.institution_name.clone(),
                login: s.login.clone(),
                password: s.password.clone(),
                secret: s.totp_secret.clone(),
                code: secret.code_at(now),
            })
        })
        .collect();
    let mut response = DemoIndexPage {
        t: Text,
        demo: true,
        institutions,
        cards,
        staff,
    }
    .into_response();
    credential.set_cookie(&mut response, secure);
    Ok(response)
}

struct ReaderContext {
    challenge: Option<ChallengeRecord>,
    institution_name: String,
    purpose: String,
}

async fn context(state: &AppState, reference: &str) -> Result<ReaderContext, PageError> {
    if !crate::random::is_id(reference) {
        return Err(PageError::NotFound);
    }
    let challenge = state
        .store
        .challenge(reference)
        .await?
        .ok_or(PageError::NotFound)?;
    let context = state
        .store
        .flow_in_context(&challenge.flow_id)
        .await?
        .ok_or(PageError::NotFound)?;
    let device = crate::devices::gate::flow_requester(&context)?;
    let institution = context.institution;
    let live = challenge.state == zaitaku_store::ChallengeState::Pending
        && !challenge.is_expired(time::OffsetDateTime::now_utc());
    Ok(ReaderContext {
        purpose: challenge.purpose.label().to_owned(),
        challenge: live.then_some(challenge),
        // Named as an authenticator names who asks.
        institution_name: zaitaku_card::protocol::requester(&institution.name, device.as_deref()),
    })
}

fn page(
    state: &AppState,
    session: &Session,
    reference: &str,
    ctx: &ReaderContext,
    selected: Option<&str>,
    message: Option<(&'static str, String)>,
) -> DemoReaderPage {
    let cards = state
        .demo
        .as_ref()
        .map(|d| d.cards.as_slice())
        .unwrap_or_default()
        .iter()
        .map(|c| ReaderCard {
            id: c.id.clone(),
            label: c.label.clone(),
            selected: Some(c.id.as_str()) == selected,
        })
        .collect();
    let message = message.or_else(|| {
        ctx.challenge
            .is_none()
            .then(|| ("warning", Text.get("demo-reader-settled")))
    });
    DemoReaderPage {
        t: Text,
        demo: true,
        origin: state.origin.as_str().to_owned(),
        institution_name: ctx.institution_name.clone(),
        purpose: ctx.purpose.clone(),
        cards,
        action: format!("/demo/reader/{reference}"),
        csrf: session.csrf_token.clone(),
        message,
        back_href: None,
        show_form: ctx.challenge.is_some(),
    }
}

/// The demo reader stands in for an authenticator app. In the browser that
/// started the flow it acts for that session; opened in another browser (a
/// phone that scanned the page's 2D code) it must claim the challenge first,
/// like an app, and only one may.
async fn may_answer(
    state: &AppState,
    session: &Session,
    challenge: &ChallengeRecord,
) -> Result<bool, PageError> {
    if challenge.session_hash == session.id_hash {
        return Ok(true);
    }
    let mine = handoff::claim_hash(&format!("demo-reader:{}", session.id_hash));
    match &challenge.claim_hash {
        Some(claimed) => Ok(*claimed == mine),
        None => {
            let now = time::OffsetDateTime::now_utc();
            let claimed = state
                .store
                .claim_challenge(&challenge.reference, &mine, now)
                .await?;
            if claimed {
                state.wakeups.announce(&challenge.flow_id);
            }
            Ok(claimed)
        }
    }
}

pub async fn reader_page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(reference): Path<String>,
) -> Result<DemoReaderPage, PageError> {
    let ctx = context(&state, &reference).await?;
    if let Some(challenge) = &ctx.challenge
        && !may_answer(&state, &session, challenge).await?
    {
        let mut refused = page(&state, &session, &reference, &ctx, None, None);
        refused.message = Some(("error", Text.get("demo-reader-claimed")));
        refused.show_form = false;
        return Ok(refused);
    }
    Ok(page(&state, &session, &reference, &ctx, None, None))
}

#[derive(Deserialize)]
pub struct ReaderForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    card: String,
    #[serde(default)]
    pin: String,
}

impl ReaderForm {
    /// The PIN typed on the demo reader.
    pub fn pin(&self) -> Result<Pin, PinFormatError> {
        Pin::parse(&self.pin)
    }
}

/// What the virtual card did with the PIN.
enum CardResult {
    Signed(WebEidToken),
    WrongPin { tries_left: u8 },
    Blocked,
    Busy,
}

fn read_card(
    card: &DemoCard,
    pin: &Pin,
    origin: &Origin,
    nonce: &ChallengeNonce,
) -> Result<CardResult, String> {
    let virtual_card = match VirtualCard::open(&card.path) {
        Ok(c) => c,
        Err(VirtualCardError::InUse { .. }) => return Ok(CardResult::Busy),
        Err(e) => return Err(e.to_string()),
    };
    let mut jpki = JpkiCard::open(virtual_card).map_err(|e| e.to_string())?;
    // Like a careful app: never send a PIN to a blocked card.
    if jpki.pin_status().map_err(|e| e.to_string())? == PinStatus::Blocked {
        return Ok(CardResult::Blocked);
    }
    match sign_challenge(&mut jpki, pin, origin, nonce, APP_VERSION) {
        Ok(token) => Ok(CardResult::Signed(token)),
        Err(CardError::WrongPin { tries_left: 0 }) | Err(CardError::PinBlocked) => {
            Ok(CardResult::Blocked)
        }
        Err(CardError::WrongPin { tries_left }) => Ok(CardResult::WrongPin { tries_left }),
        Err(e) => Err(e.to_string()),
    }
}

pub async fn reader_submit(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(reference): Path<String>,
    Form(form): Form<ReaderForm>,
) -> Result<Response, PageError> {
    session.check_csrf(&form.csrf)?;
    let ctx = context(&state, &reference).await?;
    let Some(challenge) = &ctx.challenge else {
        return Ok(page(&state, &session, &reference, &ctx, None, None).into_response());
    };
    if !may_answer(&state, &session, challenge).await? {
        let mut refused = page(&state, &session, &reference, &ctx, None, None);
        refused.message = Some(("error", Text.get("demo-reader-claimed")));
        refused.show_form = false;
        return Ok(refused.into_response());
    }
    let render = |message: (&'static str, String)| {
        page(
            &state,
            &session,
            &reference,
            &ctx,
            Some(&form.card),
            Some(message),
        )
        .into_response()
    };
    let Some(card) = state
        .demo
        .as_ref()
        .and_then(|d| d.card(&form.card))
        .cloned()
    else {
        return Ok(render(("error", Text.get("demo-reader-unknown-card"))));
    };
    let Ok(pin) = form.pin() else {
        return Ok(render(("error", Text.get("demo-reader-bad-pin"))));
    };
    let nonce = ChallengeNonce::parse(&challenge.nonce)
        .map_err(|_| PageError::Internal("stored nonce is malformed".into()))?;
    let origin = state.origin.clone();
    let result = tokio::task::spawn_blocking(move || read_card(&card, &pin, &origin, &nonce))
        .await
        .map_err(|e| PageError::Internal(e.to_string()))?
        .map_err(PageError::Internal)?;
    let token = match result {
        CardResult::Signed(token) => token,
        CardResult::Busy => return Ok(render(("warning", Text.get("demo-reader-card-busy")))),
        CardResult::WrongPin { tries_left } => {
            let mut text = format!(
                "{}{}",
                Text.get("demo-reader-wrong-pin"),
                Text.with("tries-left", "count", tries_left)
            );
            if tries_left == 1 {
                text.push_str(&Text.get("demo-reader-last-try"));
            }
            return Ok(render(("error", text)));
        }
        CardResult::Blocked => {
            let blocked = Some(zaitaku_domain::FailureReason::PinBlocked);
            match verification::report(&state, &reference, Answerer::DemoReader, blocked).await {
                Ok(()) | Err(SubmitError::AlreadyUsed) | Err(SubmitError::Expired) => {}
                Err(e) => return Err(submit_error(e)),
            }
            return Ok(back_to_service(
                &state, &session, &reference, &ctx, challenge,
            ));
        }
    };
    let json = token.to_json();
    match verification::submit_token(&state, &reference, Answerer::DemoReader, json.as_bytes())
        .await
    {
        Ok(TokenOutcome::Accepted) | Ok(TokenOutcome::Rejected { .. }) => Ok(back_to_service(
            &state, &session, &reference, &ctx, challenge,
        )),
        Err(e) => Err(submit_error(e)),
    }
}

fn submit_error(e: SubmitError) -> PageError {
    match e {
        SubmitError::Internal(cause) => PageError::Internal(cause),
        SubmitError::UrlChanged => PageError::UrlChanged,
        other => PageError::Internal(format!("demo reader: {other:?}")),
    }
}

/// Same browser as the flow: go straight back, as the phone app returns to the
/// service page. Another browser: say it is done; the flow's page moves on by itself.
fn back_to_service(
    state: &AppState,
    session: &Session,
    reference: &str,
    ctx: &ReaderContext,
    challenge: &ChallengeRecord,
) -> Response {
    if challenge.session_hash == session.id_hash {
        return Redirect::to(&format!("/f/{}/authenticate", challenge.flow_id)).into_response();
    }
    let mut done = page(
        state,
        session,
        reference,
        ctx,
        None,
        Some(("success", Text.get("demo-reader-done"))),
    );
    done.show_form = false;
    done.into_response()
}
