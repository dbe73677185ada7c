//! The 2D codes the service draws (the institution URL, a challenge's
//! authentication link): QR, error correction M (15 %), black on white, with the
//! standard 4-module quiet zone inside the image so it scans on any background.
//! As SVG for pages, and as PNG (our own small encoder) for download.

mod png;

use crate::error::PageError;
use qrcode::render::svg;
use qrcode::{Color, EcLevel, QrCode};

/// SVG user units per module; the image scales, this only sets its intrinsic size.
const MODULE_UNITS: u32 = 8;
/// Pixels per module in the PNG: 8 gives a print-ready image of about 400 px.
const PNG_MODULE_PX: u32 = 8;
const QUIET_ZONE_MODULES: u32 = 4;

fn code(text: &str) -> Result<QrCode, PageError> {
    QrCode::with_error_correction_level(text.as_bytes(), EcLevel::M)
        .map_err(|e| PageError::Internal(format!("2D code: {e}")))
}

/// The code as an SVG image.
pub fn svg(text: &str) -> Result<String, PageError> {
    let code = code(text)?;
    Ok(code
        .render::<svg::Color>()
        .quiet_zone(true)
        .module_dimensions(MODULE_UNITS, MODULE_UNITS)
        .dark_color(svg::Color("#000000"))
        .light_color(svg::Color("#ffffff"))
        .build())
}

/// The same code as the SVG, as a PNG image.
pub fn png(text: &str) -> Result<Vec<u8>, PageError> {
    let code = code(text)?;
    let modules = code.width() as u32;
    let colors = code.to_colors();
    let side = (modules + 2 * QUIET_ZONE_MODULES) * PNG_MODULE_PX;
    Ok(png::black_and_white(side, side, |x, y| {
        let (mx, my) = (x / PNG_MODULE_PX, y / PNG_MODULE_PX);
        let inside = |m: u32| (QUIET_ZONE_MODULES..QUIET_ZONE_MODULES + modules).contains(&m);
        inside(mx)
            && inside(my)
            && colors[((my - QUIET_ZONE_MODULES) * modules + mx - QUIET_ZONE_MODULES) as usize]
                == Color::Dark
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_origin_still_fits_and_the_quiet_zone_is_there() {
        let url = format!("https://{}.example.jp/i/{}", "a".repeat(60), "A".repeat(43));
        let svg = svg(&url).unwrap();
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
