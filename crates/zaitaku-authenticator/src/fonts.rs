//! The Japanese font. Taken from the system rather than built in: every Japanese
//! Windows and macOS has one (Yu Gothic / Meiryo, Hiragino), a Linux desktop gets
//! Noto Sans CJK from its package manager, and a built-in CJK font would add
//! megabytes to the binary for what the machine already has.

use std::path::Path;

/// Known places of a Japanese sans-serif font, best first, with the face to use
/// inside a collection (.ttc): Noto Sans CJK's first face is the Japanese one.
const CANDIDATES: &[(&str, u32)] = &[
    // Debian, Ubuntu (fonts-noto-cjk)
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", 0),
    // Fedora (google-noto-sans-cjk-fonts), Arch (noto-fonts-cjk)
    (
        "/usr/share/fonts/google-noto-sans-cjk-fonts/NotoSansCJK-Regular.ttc",
        0,
    ),
    ("/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc", 0),
    // Debian, Ubuntu (fonts-ipafont-gothic)
    ("/usr/share/fonts/opentype/ipafont-gothic/ipag.ttf", 0),
    // Windows
    ("C:\\Windows\\Fonts\\YuGothM.ttc", 0),
    ("C:\\Windows\\Fonts\\meiryo.ttc", 0),
    ("C:\\Windows\\Fonts\\msgothic.ttc", 0),
    // macOS
    ("/System/Library/Fonts/ヒラギノ角ゴシック W4.ttc", 0),
    ("/System/Library/Fonts/Hiragino Sans GB.ttc", 0),
];

/// Said (in English: no Japanese can be drawn) when no font is found.
pub const NONE_FOUND: &str = "no Japanese font found; install one (Debian/Ubuntu: sudo apt install fonts-noto-cjk; Fedora: sudo dnf install google-noto-sans-cjk-fonts)";

pub struct JapaneseFont {
    pub bytes: Vec<u8>,
    pub index: u32,
}

pub fn find() -> Option<JapaneseFont> {
    find_in(
        CANDIDATES
            .iter()
            .map(|&(path, index)| (Path::new(path), index)),
    )
}

fn find_in<'a>(candidates: impl Iterator<Item = (&'a Path, u32)>) -> Option<JapaneseFont> {
    candidates
        .filter_map(|(path, index)| Some((std::fs::read(path).ok()?, index)))
        .map(|(bytes, index)| JapaneseFont { bytes, index })
        .next()
}

/// The window's fonts: the Japanese font for all text (it has Latin letters too).
pub fn install(ctx: &eframe::egui::Context, font: JapaneseFont) {
    use eframe::egui::{FontData, FontDefinitions, FontFamily};
    let mut fonts = FontDefinitions::empty();
    let mut data = FontData::from_owned(font.bytes);
    data.index = font.index;
    fonts
        .font_data
        .insert("japanese".to_owned(), std::sync::Arc::new(data));
    for family in [FontFamily::Proportional, FontFamily::Monospace] {
        fonts.families.insert(family, vec!["japanese".to_owned()]);
    }
    ctx.set_fonts(fonts);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_readable_candidate_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let present = dir.path().join("font.ttc");
        std::fs::write(&present, b"font bytes").unwrap();
        let missing = dir.path().join("missing.ttc");
        let found = find_in([(missing.as_path(), 0), (present.as_path(), 2)].into_iter()).unwrap();
        assert_eq!(found.bytes, b"font bytes");
        assert_eq!(found.index, 2);
        assert!(find_in([(missing.as_path(), 0)].into_iter()).is_none());
    }
}
