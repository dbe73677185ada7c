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
use qrcode::render::svg;
use qrcode::{EcLevel, QrCode};
use zaitaku_domain::Institution;

/// Shown at 320 CSS pixels (less on screens narrower than that plus margins).
const IMAGE_SIZE: u32 = 320;
/// SVG user units per module; the image scales, this only sets its intrinsic size.
const MODULE_UNITS: u32 = 8;

/// The address the code carries: the institution URL at the public origin.
fn institution_url(state: &AppState, institution: &Institution) -> String {
    format!(
        "{}/i/{}",
        state.origin.as_str(),
        institution.url_token.as_str()
    )
}

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
        url: institution_url(&state, &institution),
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
    let svg = code_svg(&institution_url(&state, &institution))?;
    Ok((
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            // The code is the institution's own URL: keep it out of every cache.
            (header::CACHE_CONTROL, "no-store"),
        ],
        svg,
    ))
}

/// Error correction M (15 %), black on white, with the standard 4-module quiet
/// zone inside the image so it scans on any background.
pub(crate) fn code_svg(text: &str) -> Result<String, PageError> {
    let code = QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| PageError::Internal(format!("2D code: {e}")))?;
    Ok(code
        .render::<svg::Color>()
        .quiet_zone(true)
        .module_dimensions(MODULE_UNITS, MODULE_UNITS)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_origin_still_fits_and_the_quiet_zone_is_there() {
        let url = format!("https://{}.example.jp/i/{}", "a".repeat(60), "A".repeat(43));
        let svg = code_svg(&url).unwrap();
        assert!(svg.contains("<svg"), "{svg}");
        // The white background rect covers the whole image; the first dark module
        // starts 4 modules in.
        let code = QrCode::with_error_correction_level(url.as_bytes(), EcLevel::M).unwrap();
        let side = (code.width() as u32 + 8) * MODULE_UNITS;
        assert!(
            svg.contains(&format!("viewBox=\"0 0 {side} {side}\"")),
            "{svg}"
        );
        assert!(svg.contains(&format!("M{} {}", 4 * MODULE_UNITS, 4 * MODULE_UNITS)));
    }
}
