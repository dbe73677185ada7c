//! The institution URL as a 2D code: the staff show it, and the patient opens the
//! same service on their own phone. The page carries the menu, so it has the
//! browser's session (for the menu's CSRF token); the image needs none. Where
//! only the institution's devices may start flows, the code is instead a fresh
//! single-use invitation (`devices::invitation`), drawn into the page itself:
//! only an enrolled device can show one.

use super::institution::institution_by_token;
use crate::devices::gate::{self, Admission};
use crate::devices::invitation;
use crate::error::PageError;
use crate::i18n::Text;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{InvitationCode, Menu, QrPage, time_ja};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;

/// Shown at 320 CSS pixels (less on screens narrower than that plus margins).
const IMAGE_SIZE: u32 = 320;

pub async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(token): Path<String>,
    headers: HeaderMap,
) -> Result<QrPage, PageError> {
    let institution = institution_by_token(&state, &token).await?;
    let invitation = match gate::admit(&state, &headers, &session, &institution).await? {
        Admission::Device(device) => {
            let made = invitation::issue(&state, &institution, &device).await?;
            Some(InvitationCode {
                svg: inline_svg(&made.url)?,
                until: time_ja(made.expires_at),
                url: made.url,
            })
        }
        Admission::Anyone => None,
        // A phone let in by an invitation hands on no invitations of its own.
        Admission::Invited(_) => return Err(PageError::DeviceNotEnrolled),
    };
    let menu = Menu::new(&institution, &session);
    let token = institution.url_token.as_str();
    Ok(QrPage {
        menu,
        t: Text,
        demo: state.demo.is_some(),
        url: state.institution_url(&institution),
        invitation,
        image_src: format!("/i/{token}/qr.svg"),
        image_size: IMAGE_SIZE,
        back_href: format!("/i/{token}"),
        institution_name: institution.name,
    })
}

pub async fn image(
    State(state): State<AppState>,
    Path(token): Path<String>,
) -> Result<impl IntoResponse, PageError> {
    let institution = institution_by_token(&state, &token).await?;
    let svg = crate::code_image::svg(&state.institution_url(&institution))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            // The code is the institution's own URL: keep it out of every cache.
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    ))
}

/// The code as SVG markup to put in the page: the invitation's secret is only
/// ever in this page, never in an image URL another request could fetch.
fn inline_svg(url: &str) -> Result<String, PageError> {
    let svg = crate::code_image::svg(url)?;
    // The XML declaration belongs to a file, not to markup inside HTML.
    Ok(match svg.find("<svg") {
        Some(start) => svg[start..].to_owned(),
        None => svg,
    })
}
