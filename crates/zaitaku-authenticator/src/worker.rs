//! The authentication, off the window's thread: fetch the challenge, find the
//! card, run the shared card session, post the token or the reason there is none.

use crate::card_source::{CardSource, Found};
use crate::channels::Channels;
use crate::model::{CardProblem, Control, Refusal, Request, WorkerEvent};
use zaitaku_auth_client::{
    AuthLink, Challenge, Client, ClientError, DESKTOP_APP_VERSION, SessionError, SessionEvents,
    Verdict, shown, sign_with_card,
};
use zaitaku_card::{CardError, Pin};

/// Runs one authentication to its end. Returns when the window is closed too.
pub fn run(link: AuthLink, source: CardSource, channels: Channels) {
    let client = Client::new(DESKTOP_APP_VERSION);
    let challenge = match client.fetch_challenge(&link) {
        Ok(challenge) => challenge,
        Err(err) => return channels.send(WorkerEvent::Refused(refusal(&err))),
    };
    channels.send(WorkerEvent::ChallengeReady(request(&link, &challenge)));
    let report = |code: &str| client.report_error(&link, &challenge, code).is_ok();
    loop {
        let transport = match source.wait_for_card(&channels) {
            Found::Card(transport) => transport,
            Found::Cancelled => {
                let page_told = report("cancelled");
                return channels.send(WorkerEvent::Cancelled { page_told });
            }
            Found::WindowClosed => return,
        };
        channels.send(WorkerEvent::CardFound);
        let mut window = Window {
            channels: &channels,
            cancelled: false,
        };
        let signed = sign_with_card(
            transport,
            link.origin(),
            &challenge.nonce,
            DESKTOP_APP_VERSION,
            &mut window,
        );
        if window.cancelled {
            let page_told = report("cancelled");
            return channels.send(WorkerEvent::Cancelled { page_told });
        }
        match signed {
            Ok(token) => {
                let event = match client.send_token(&link, &token, &challenge) {
                    Ok(Verdict::Accepted { .. }) => WorkerEvent::Accepted,
                    Ok(Verdict::Rejected { error, .. }) => {
                        WorkerEvent::Refused(Refusal::Rejected(shown(&error)))
                    }
                    Err(err) => WorkerEvent::Refused(refusal(&err)),
                };
                return channels.send(event);
            }
            Err(SessionError::NoPin(_)) => return, // the window closed mid-prompt
            Err(err) => {
                if let Some(code) = err.page_error() {
                    // A blocked card: the page settles the challenge with that screen.
                    let page_told = report(code);
                    return channels.send(WorkerEvent::Blocked { page_told });
                }
                channels.send(WorkerEvent::CardProblem(card_problem(err)));
                // Wrong PIN, card removed…: the challenge stays open for another try.
                match channels.control.recv() {
                    Ok(Control::Retry) => continue,
                    Ok(Control::Cancel) => {
                        let page_told = report("cancelled");
                        return channels.send(WorkerEvent::Cancelled { page_told });
                    }
                    Ok(Control::Pin(_)) | Err(_) => return,
                }
            }
        }
    }
}

/// The session's events, told to the window.
struct Window<'a> {
    channels: &'a Channels,
    cancelled: bool,
}

impl SessionEvents for Window<'_> {
    fn tries_left(&mut self, tries_left: u8) {
        self.channels.send(WorkerEvent::TriesLeft(tries_left));
    }

    fn pin(&mut self) -> Result<Pin, String> {
        self.channels.send(WorkerEvent::PinWanted);
        loop {
            match self.channels.control.recv() {
                Ok(Control::Pin(pin)) => return Ok(pin),
                Ok(Control::Cancel) => {
                    self.cancelled = true;
                    return Err("cancelled".to_owned());
                }
                // A retry belongs to an earlier problem screen.
                Ok(Control::Retry) => continue,
                Err(_) => return Err("the window was closed".to_owned()),
            }
        }
    }
}

fn request(link: &AuthLink, challenge: &Challenge) -> Request {
    let origin = link.origin().to_string();
    let host = origin
        .split_once("://")
        .map_or(origin.as_str(), |(_, host)| host)
        .to_owned();
    Request {
        host,
        origin,
        institution: shown(&challenge.institution.requester()),
        purpose: shown(&challenge.purpose_label),
        matching_code: shown(&challenge.matching_code),
    }
}

fn refusal(err: &ClientError) -> Refusal {
    match err {
        ClientError::Refused {
            code: Some(code), ..
        } => match code.as_str() {
            "expired" => Refusal::Expired,
            "already_used" => Refusal::AlreadyUsed,
            "already_claimed" => Refusal::AlreadyClaimed,
            "unknown_challenge" => Refusal::UnknownChallenge,
            _ => Refusal::Unreachable(err.to_string()),
        },
        _ => Refusal::Unreachable(err.to_string()),
    }
}

fn card_problem(err: SessionError) -> CardProblem {
    match err {
        SessionError::WrongPin { tries_left } => CardProblem::WrongPin { tries_left },
        SessionError::CardRemoved => CardProblem::CardRemoved,
        SessionError::Card(CardError::NotJpkiCard) => CardProblem::NotMyNumberCard,
        other => CardProblem::Other(other.to_string()),
    }
}
