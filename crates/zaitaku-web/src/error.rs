//! What a person sees when a request cannot be served: a clear Japanese page, with
//! an operation id that matches the log line holding the cause (never personal data).

use crate::i18n::Text;
use crate::random;
use crate::views::ErrorPage;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use zaitaku_store::{SettleError, StoreError};

#[derive(Debug)]
pub enum PageError {
    NotFound,
    /// No such flow, or it belongs to another browser session.
    FlowNotFound,
    /// The flow ran out of time; start again from the institution page.
    FlowExpired {
        restart: String,
    },
    /// The flow was started from an institution URL that has since been rotated
    /// away: it goes no further, and its pages show nothing of the new URL.
    UrlChanged,
    /// A finished flow's result (資格情報, the consent) is no longer shown: closed
    /// with 「閉じる」, or past `Lifetimes::result`.
    ResultClosed {
        restart: String,
    },
    /// A staff enrolment link that has expired or never existed.
    EnrolmentLinkDead,
    /// A staff enrolment link that an account was enrolled with.
    EnrolmentLinkUsed,
    /// A console page for administrators, asked for by 職員.
    Forbidden,
    /// A form without this session's CSRF token: forged, or from an old session.
    FormRejected,
    /// The same, on a console page: nothing was done; open the console again.
    ConsoleFormRejected,
    /// A console page that is not, or not for this staff member's institution.
    ConsoleNotFound,
    /// The institution no longer accepts patients (`admin institution deactivate`):
    /// its URL starts nothing and its running flows are over.
    InstitutionClosed,
    /// The institution lets only its enrolled devices start flows, and this
    /// browser is not one (or was revoked): nothing is started, no session
    /// row and no session cookie.
    DeviceNotEnrolled,
    /// An invitation's 2D code that someone opened already: it admits no one else.
    InvitationUsed,
    /// An invitation's 2D code past its ten minutes.
    InvitationExpired,
    /// No such invitation, or the device that showed it was revoked since.
    InvitationUnknown,
    /// The staff member's institution is deactivated: its console is closed.
    ConsoleClosed,
    /// The form was made for a state the flow has left (another tab, a double submit).
    StaleForm {
        current: String,
    },
    /// A cap on what one browser session may have open was reached (flows or
    /// challenges started in a loop): nothing was written.
    TooManyOpen,
    /// A cap per institution, or a rate per client, was reached: nothing was
    /// done; `429` with `Retry-After`.
    Busy {
        retry_after: std::time::Duration,
    },
    Internal(String),
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        PageError::Internal(e.to_string())
    }
}

impl From<SettleError> for PageError {
    fn from(e: SettleError) -> Self {
        PageError::Internal(e.to_string())
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let op_id = random::id128();
        let retry_after = match &self {
            PageError::TooManyOpen => Some(crate::limits::retry_after_seconds(
                std::time::Duration::from_secs(60),
            )),
            PageError::Busy { retry_after } => {
                Some(crate::limits::retry_after_seconds(*retry_after))
            }
            _ => None,
        };
        let starts_nothing = matches!(
            self,
            PageError::DeviceNotEnrolled
                | PageError::InvitationUsed
                | PageError::InvitationExpired
                | PageError::InvitationUnknown
        );
        let (status, key, link) = match self {
            PageError::NotFound => (StatusCode::NOT_FOUND, "error-not-found", None),
            PageError::FlowNotFound => (StatusCode::NOT_FOUND, "error-flow-not-found", None),
            PageError::FlowExpired { restart } => (
                StatusCode::GONE,
                "error-flow-expired",
                Some((restart, "link-restart")),
            ),
            PageError::UrlChanged => (StatusCode::GONE, "error-url-changed", None),
            PageError::ResultClosed { restart } => (
                StatusCode::GONE,
                "error-result-closed",
                Some((restart, "link-institution-page")),
            ),
            PageError::FormRejected => (StatusCode::FORBIDDEN, "error-form-rejected", None),
            PageError::ConsoleFormRejected => (
                StatusCode::FORBIDDEN,
                "error-console-form-rejected",
                Some(("/console/patients".to_owned(), "console-patients-title")),
            ),
            PageError::ConsoleNotFound => (
                StatusCode::NOT_FOUND,
                "error-console-not-found",
                Some(("/console/patients".to_owned(), "console-patients-title")),
            ),
            PageError::Forbidden => (StatusCode::FORBIDDEN, "error-forbidden", None),
            PageError::InstitutionClosed => (StatusCode::GONE, "error-institution-closed", None),
            PageError::ConsoleClosed => (StatusCode::FORBIDDEN, "error-console-closed", None),
            PageError::DeviceNotEnrolled => (
                StatusCode::FORBIDDEN,
                "error-device-not-enrolled",
                Some(("/device".to_owned(), "device-link")),
            ),
            PageError::InvitationUsed => (StatusCode::GONE, "error-invitation-used", None),
            PageError::InvitationExpired => (StatusCode::GONE, "error-invitation-expired", None),
            PageError::InvitationUnknown => {
                (StatusCode::NOT_FOUND, "error-invitation-unknown", None)
            }
            PageError::EnrolmentLinkDead => (
                StatusCode::GONE,
                "error-enrolment-link",
                Some(("/console/login".to_owned(), "console-login-title")),
            ),
            PageError::EnrolmentLinkUsed => (
                StatusCode::GONE,
                "error-enrolment-used",
                Some(("/console/login".to_owned(), "console-login-title")),
            ),
            PageError::StaleForm { current } => (
                StatusCode::CONFLICT,
                "error-stale-form",
                Some((current, "link-current-step")),
            ),
            PageError::TooManyOpen => (StatusCode::TOO_MANY_REQUESTS, "error-too-many-open", None),
            PageError::Busy { .. } => (StatusCode::TOO_MANY_REQUESTS, "error-busy", None),
            PageError::Internal(cause) => {
                tracing::error!(op_id = %op_id, cause = %cause, "request failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "error-internal", None)
            }
        };
        if status != StatusCode::INTERNAL_SERVER_ERROR {
            tracing::info!(op_id = %op_id, status = status.as_u16(), kind = key, "request refused");
        }
        let page = ErrorPage {
            t: Text,
            title: Text.get(&format!("{key}-title")),
            body: Text.get(&format!("{key}-body")),
            link: link.map(|(href, label)| (href, Text.get(label))),
            op_id,
            demo: false,
        };
        let mut response = (status, page).into_response();
        if starts_nothing {
            response
                .extensions_mut()
                .insert(crate::session::NoNewSession);
        }
        if let Some(seconds) = retry_after {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from(seconds),
            );
        }
        response
    }
}
