//! The institution URL as a 2D code: the staff show it, and the patient opens the
//! same service on their own phone. The page carries the menu, so it has the
//! browser's session (for the menu's CSRF token); the image needs none.

use super::institution::institution_by_token;
use crate::error::PageError;
use crate::i18n::Text;
use crate::session::Session;
use crate::state::AppState;
use crate::views::{Menu, QrPage};
use axum::Extension;
use axum::extract::{Path, State};
use axum::http::header;
use axum::response::IntoResponse;

/// Shown at 320 CSS pixels (less on screens narrower than that plus margins).
const IMAGE_SIZE: u32 = 320;

pub async fn page(
    State(state): State<AppState>,
    Extension(session): Extension<Session>,
    Path(token): Path<String>,
) -> Result<QrPage, PageError> {
    let institution = institution_by_token(&state, &token).await?;
    let menu = Menu::new(&institution, &session);
    let token = institution.url_token.as_str();
    Ok(QrPage {
        menu,
        t: Text,
        demo: state.demo.is_some(),
        url: state.institution_url(&institution),
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
