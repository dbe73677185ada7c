//! `install` / `uninstall`: this user's handler of `zaitaku-auth:` links on a
//! freedesktop desktop (Linux): a .desktop entry in ~/.local/share/applications
//! with `MimeType=x-scheme-handler/zaitaku-auth`, made the default with xdg-mime.

use crate::app_link::SCHEME;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const DESKTOP_FILE: &str = "zaitaku-authenticator.desktop";

fn mime_type() -> String {
    format!("x-scheme-handler/{SCHEME}")
}

/// Where this user's desktop entries and default applications live (XDG base dirs).
pub struct Dirs {
    pub applications: PathBuf,
    pub mimeapps_list: PathBuf,
}

impl Dirs {
    pub fn from_env() -> Result<Self, String> {
        let home = || {
            std::env::var_os("HOME")
                .filter(|h| !h.is_empty())
                .map(PathBuf::from)
                .ok_or_else(|| "HOME is not set".to_owned())
        };
        // XDG: relative values are to be ignored.
        let xdg = |var: &str, fallback: &str| -> Result<PathBuf, String> {
            match std::env::var_os(var).map(PathBuf::from) {
                Some(dir) if dir.is_absolute() => Ok(dir),
                _ => Ok(home()?.join(fallback)),
            }
        };
        Ok(Dirs {
            applications: xdg("XDG_DATA_HOME", ".local/share")?.join("applications"),
            mimeapps_list: xdg("XDG_CONFIG_HOME", ".config")?.join("mimeapps.list"),
        })
    }
}

/// The desktop entry that runs `program` with the link (`%u`).
///
/// The path is written unquoted, so it may hold none of the characters the
/// Desktop Entry spec reserves (nor `%`): xdg-open's generic mode (no desktop
/// environment) splits Exec at the first space and ignores quotes.
pub fn desktop_entry(program: &Path) -> Result<String, String> {
    let program = program
        .to_str()
        .filter(|p| {
            !p.chars().any(|c| {
                c.is_control() || c.is_whitespace() || "\"'\\><~|&;$*?#()`%=".contains(c)
            })
        })
        .ok_or_else(|| {
            format!(
                "cannot register {}: its path has spaces or special characters that xdg-open cannot pass on; move it to a plain path such as ~/.local/bin",
                program.display()
            )
        })?;
    Ok(format!(
        "[Desktop Entry]\n\
         Type=Application\n\
         Name=Zaitaku Authenticator\n\
         Name[ja]=在宅 マイナンバーカード認証\n\
         Comment=Reads the My Number card in an IC card reader for Zaitaku's pages\n\
         Comment[ja]=在宅の画面の「読み取り開始」で、カードリーダーのマイナンバーカードを読み取ります\n\
         Exec={program} %u\n\
         Terminal=false\n\
         NoDisplay=true\n\
         MimeType={};\n\
         Categories=Utility;\n",
        mime_type()
    ))
}

/// Writes the entry and makes it the default for `zaitaku-auth:` links.
pub fn install(dirs: &Dirs, program: &Path) -> Result<PathBuf, String> {
    let entry = desktop_entry(program)?;
    std::fs::create_dir_all(&dirs.applications)
        .map_err(|e| format!("cannot create {}: {e}", dirs.applications.display()))?;
    let path = dirs.applications.join(DESKTOP_FILE);
    std::fs::write(&path, entry).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    run(
        Command::new("xdg-mime").args(["default", DESKTOP_FILE, &mime_type()]),
        "xdg-mime (Debian/Ubuntu: sudo apt install xdg-utils)",
    )?;
    refresh_cache(dirs);
    Ok(path)
}

/// Removes the entry and this user's default for `zaitaku-auth:` links, if ours.
pub fn uninstall(dirs: &Dirs) -> Result<bool, String> {
    let path = dirs.applications.join(DESKTOP_FILE);
    let removed = match std::fs::remove_file(&path) {
        Ok(()) => true,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => false,
        Err(e) => return Err(format!("cannot remove {}: {e}", path.display())),
    };
    if let Ok(list) = std::fs::read_to_string(&dirs.mimeapps_list) {
        let kept = without_our_default(&list);
        if kept != list {
            std::fs::write(&dirs.mimeapps_list, kept)
                .map_err(|e| format!("cannot write {}: {e}", dirs.mimeapps_list.display()))?;
        }
    }
    refresh_cache(dirs);
    Ok(removed)
}

/// mimeapps.list without the lines that make this app the scheme's default.
fn without_our_default(list: &str) -> String {
    let ours = format!("{}={DESKTOP_FILE}", mime_type());
    list.lines()
        .filter(|line| {
            let line = line.trim();
            line != ours && line != format!("{ours};")
        })
        .map(|line| format!("{line}\n"))
        .collect()
}

/// update-desktop-database keeps the MIME cache of older desktops in step; where
/// it is missing, xdg-mime's mimeapps.list is enough.
fn refresh_cache(dirs: &Dirs) {
    let _ = Command::new("update-desktop-database")
        .arg(&dirs.applications)
        .status();
}

fn run(command: &mut Command, what: &str) -> Result<(), String> {
    match command.status() {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(format!("{what} failed ({status})")),
        Err(e) => Err(format!("cannot run {what}: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_entry_handles_the_scheme_with_the_link_as_argument() {
        let entry =
            desktop_entry(Path::new("/home/staff/.local/bin/zaitaku-authenticator")).unwrap();
        assert!(entry.starts_with("[Desktop Entry]\n"));
        assert!(entry.contains("\nExec=/home/staff/.local/bin/zaitaku-authenticator %u\n"));
        assert!(entry.contains("\nMimeType=x-scheme-handler/zaitaku-auth;\n"));
    }

    #[test]
    fn paths_a_desktop_entry_cannot_quote_are_refused() {
        for bad in [
            "/opt/$x/app",
            "/opt/a\"b/app",
            "/opt/100%/app",
            "/opt/a\\b/app",
            "/opt/a\nb",
            "/home/John Smith/app",
        ] {
            assert!(desktop_entry(Path::new(bad)).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn uninstall_removes_only_our_default() {
        let list = "[Default Applications]\nx-scheme-handler/zaitaku-auth=zaitaku-authenticator.desktop\ntext/html=firefox.desktop\nx-scheme-handler/zaitaku-auth=other.desktop\n";
        assert_eq!(
            without_our_default(list),
            "[Default Applications]\ntext/html=firefox.desktop\nx-scheme-handler/zaitaku-auth=other.desktop\n"
        );
    }
}
