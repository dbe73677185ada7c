//! The HTTP side of docs/auth-protocol.md: fetch the challenge (and its claim),
//! post the token, or post why no token will come; the claim goes back in the
//! `Authorization` header, never in the URL.

use crate::link::AuthLink;
use crate::protocol::{Challenge, shown};
use std::fmt;
use std::time::Duration;
use zaitaku_card::protocol::{
    ErrorAnswer, ErrorReport, TokenAnswer, TokenResult, claim_authorization,
};
use zaitaku_card::{Origin, WebEidToken};

/// Answers are a few hundred bytes; the protocol caps bodies at 16 KiB.
const MAX_ANSWER_BYTES: u64 = 16 * 1024;

/// Per request. The PIN is typed between the two requests, so this does not rush the user.
const HTTP_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a request gave no usable answer. Displayed in plain English for the CLI;
/// the app words it in Japanese from the variant and the server's code.
#[derive(Debug)]
pub enum ClientError {
    /// The server could not be reached, or its answer not read.
    Network(String),
    /// The server answered with an error: what we asked (for the message), the
    /// HTTP status, the protocol's error code when it sent one, and its words.
    Refused {
        context: Option<&'static str>,
        status: u16,
        code: Option<String>,
        description: String,
    },
    /// The answer was not what the protocol says (or named another site).
    Unusable(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::Network(message) | ClientError::Unusable(message) => f.write_str(message),
            ClientError::Refused {
                context: Some(context),
                description,
                ..
            } => write!(f, "{context}: {description}"),
            ClientError::Refused { description, .. } => f.write_str(description),
        }
    }
}

impl std::error::Error for ClientError {}

/// The server's judgement of a token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The card was valid and the flow has gone on.
    Accepted { message: String },
    /// Checked and refused (`error` is the protocol's code); the challenge is used up.
    Rejected { error: String, message: String },
}

/// One HTTP answer, body cut at [`MAX_ANSWER_BYTES`].
struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    /// The server's own words for a failure when it sent them, else the bare status.
    fn refused(&self, context: Option<&'static str>) -> ClientError {
        let (code, description) = match serde_json::from_slice::<ErrorAnswer>(&self.body) {
            Ok(e) => (
                Some(shown(&e.error)),
                format!(
                    "{} ({}, HTTP {})",
                    shown(&e.message),
                    shown(&e.error),
                    self.status
                ),
            ),
            Err(_) => (None, format!("the server answered HTTP {}", self.status)),
        };
        ClientError::Refused {
            context,
            status: self.status,
            code,
            description,
        }
    }
}

pub struct Client {
    agent: ureq::Agent,
}

impl Client {
    /// `app_version` is sent as the User-Agent.
    pub fn new(app_version: &str) -> Self {
        let config = ureq::Agent::config_builder()
            // Error answers carry JSON the user must see.
            .http_status_as_error(false)
            // The protocol has no redirects; following one could carry the token elsewhere.
            .max_redirects(0)
            .timeout_global(Some(HTTP_TIMEOUT))
            .user_agent(app_version)
            .accept("application/json")
            .build();
        Client {
            agent: config.into(),
        }
    }

    /// `GET {link}`: the first fetch claims the challenge for this authenticator.
    pub fn fetch_challenge(&self, link: &AuthLink) -> Result<Challenge, ClientError> {
        let answer = read_answer(self.agent.get(link.url()).call(), link.origin())?;
        if answer.status != 200 {
            return Err(answer.refused(Some("the server refused the link")));
        }
        Challenge::from_answer(&answer.body, link).map_err(ClientError::Unusable)
    }

    /// Post the token; the server's verdict.
    pub fn send_token(
        &self,
        link: &AuthLink,
        token: &WebEidToken,
        challenge: &Challenge,
    ) -> Result<Verdict, ClientError> {
        let request = self
            .agent
            .post(link.url())
            .header("Authorization", claim_authorization(&challenge.claim))
            .header("Content-Type", "application/json")
            .send(token.to_json());
        let answer = read_answer(request, link.origin())?;
        let verdict = serde_json::from_slice::<TokenAnswer>(&answer.body).ok();
        match (answer.status, verdict) {
            (200, Some(v)) if v.result == TokenResult::Accepted => Ok(Verdict::Accepted {
                message: shown(&v.message),
            }),
            (422, Some(v)) if v.result == TokenResult::Rejected => Ok(Verdict::Rejected {
                error: v.error.unwrap_or_default(),
                message: shown(&v.message),
            }),
            (200 | 422, _) => Err(ClientError::Unusable(format!(
                "the server's answer to the token (HTTP {}) could not be read",
                answer.status
            ))),
            _ => Err(answer.refused(Some("the server did not take the token"))),
        }
    }

    /// `POST {link}/error`: the authenticator could not produce a token. `code` is
    /// `pin_blocked` (settles the challenge and ends the flow) or `cancelled` (ends
    /// the challenge only; the page offers a new one with the choices kept).
    pub fn report_error(
        &self,
        link: &AuthLink,
        challenge: &Challenge,
        code: &str,
    ) -> Result<(), ClientError> {
        let request = self
            .agent
            .post(format!("{}/error", link.url()))
            .header("Authorization", claim_authorization(&challenge.claim))
            .header("Content-Type", "application/json")
            .send(report_body(code));
        let answer = read_answer(request, link.origin())?;
        if answer.status == 200 {
            Ok(())
        } else {
            Err(answer.refused(None))
        }
    }
}

/// The body of `POST {link}/error`.
fn report_body(code: &str) -> String {
    let report = ErrorReport {
        code: code.to_owned(),
    };
    // Serialising a struct of one string cannot fail.
    serde_json::to_string(&report).unwrap_or_default()
}

fn read_answer(
    sent: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    origin: &Origin,
) -> Result<Answer, ClientError> {
    // Name the origin, never the link: its reference is not for logs.
    let failed = |e: ureq::Error| ClientError::Network(format!("could not talk to {origin}: {e}"));
    let mut response = sent.map_err(failed)?;
    let status = response.status().as_u16();
    let body = response
        .body_mut()
        .with_config()
        .limit(MAX_ANSWER_BYTES)
        .read_to_vec()
        .map_err(failed)?;
    Ok(Answer { status, body })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{BufRead, BufReader, Read, Write};
    use std::net::TcpListener;
    use std::sync::mpsc;
    use zaitaku_card::ChallengeNonce;

    const CLAIM: &str = "Zm9vYmFy-_claim";

    /// A server answering `answers(origin)` in turn, one request per connection;
    /// reports each request's line and `Authorization` header.
    fn server(
        answers: impl FnOnce(&str) -> Vec<String>,
    ) -> (String, mpsc::Receiver<(String, Option<String>)>) {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let origin = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
        let answers = answers(&origin);
        let (tx, seen) = mpsc::channel();
        std::thread::spawn(move || {
            for body in answers {
                let (mut stream, _) = listener.accept().unwrap();
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                reader.read_line(&mut line).unwrap();
                let (mut authorization, mut length) = (None, 0);
                loop {
                    let mut header = String::new();
                    reader.read_line(&mut header).unwrap();
                    let Some((name, value)) = header.trim_end().split_once(':') else {
                        break;
                    };
                    match name.to_ascii_lowercase().as_str() {
                        "authorization" => authorization = Some(value.trim().to_owned()),
                        "content-length" => length = value.trim().parse().unwrap(),
                        _ => {}
                    }
                }
                reader.read_exact(&mut vec![0; length]).unwrap();
                tx.send((line.trim_end().to_owned(), authorization))
                    .unwrap();
                write!(
                    stream,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n\
                     Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                )
                .unwrap();
            }
        });
        (origin, seen)
    }

    #[test]
    fn the_claim_goes_back_in_the_authorization_header_never_in_the_url() {
        let (origin, seen) = server(|origin| {
            let challenge = serde_json::json!({
                "protocol": crate::protocol::PROTOCOL,
                "origin": origin,
                "institution": { "name": "在宅ひまわりクリニック", "code": "1310123450" },
                "purpose": "register",
                "purposeLabel": "同意登録",
                "nonce": ChallengeNonce::generate().unwrap().as_str(),
                "matchingCode": "0427",
                "claim": CLAIM,
                "expiresAt": "2026-11-24T09:00:00Z",
            });
            vec![
                challenge.to_string(),
                r#"{"result":"accepted","message":"ok"}"#.to_owned(),
                r#"{"result":"recorded"}"#.to_owned(),
            ]
        });
        let link = AuthLink::parse(&format!("{origin}/auth/Zr3fOpaqueReference0123")).unwrap();
        let client = Client::new("test/1");
        let challenge = client.fetch_challenge(&link).unwrap();
        let token = WebEidToken {
            unverified_certificate: "MIIB".into(),
            algorithm: "RS256".into(),
            signature: "c2ln".into(),
            format: "web-eid:1.0".into(),
            app_version: "test/1".into(),
        };
        let verdict = client.send_token(&link, &token, &challenge).unwrap();
        assert!(matches!(verdict, Verdict::Accepted { .. }));
        client.report_error(&link, &challenge, "cancelled").unwrap();
        let bearer = Some(format!("Bearer {CLAIM}"));
        let requests: Vec<_> = seen.iter().take(3).collect();
        assert_eq!(
            requests,
            [
                (
                    "GET /auth/Zr3fOpaqueReference0123 HTTP/1.1".to_owned(),
                    None
                ),
                (
                    "POST /auth/Zr3fOpaqueReference0123 HTTP/1.1".to_owned(),
                    bearer.clone()
                ),
                (
                    "POST /auth/Zr3fOpaqueReference0123/error HTTP/1.1".to_owned(),
                    bearer
                ),
            ]
        );
    }
}
