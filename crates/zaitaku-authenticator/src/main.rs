//! `zaitaku-authenticator`: the desktop authenticator for IC card readers.
//!
//! `zaitaku-authenticator 'zaitaku-auth://authenticate?link=…'` (what a page's
//! 「読み取り開始」 opens) shows who asks and why, reads the My Number card in a
//! PC/SC reader, asks the patient's PIN and answers the page.
//! `install` / `uninstall` register it as this user's handler of those links.

mod app_link;
mod card_source;
mod channels;
mod fonts;
mod install;
mod model;
mod text;
mod ui;
mod worker;

use std::process::ExitCode;
use std::sync::mpsc;

const USAGE: &str = "\
usage: zaitaku-authenticator 'zaitaku-auth://authenticate?link=…'
       zaitaku-authenticator install     register as this user's handler of zaitaku-auth: links (Linux)
       zaitaku-authenticator uninstall   remove that registration";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.as_slice() {
        [command] if command == "install" => install(),
        [command] if command == "uninstall" => uninstall(),
        [command] if command == "--help" || command == "-h" => {
            println!("{USAGE}");
            return ExitCode::SUCCESS;
        }
        [command] if command == "--version" || command == "-V" => {
            println!("zaitaku-authenticator {}", env!("CARGO_PKG_VERSION"));
            return ExitCode::SUCCESS;
        }
        [link] => authenticate(link),
        _ => {
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

/// Where `install` knows how to register the scheme: freedesktop desktops.
fn freedesktop() -> Result<(), String> {
    if cfg!(all(unix, not(target_os = "macos"))) {
        Ok(())
    } else {
        Err("install and uninstall register the handler on Linux (freedesktop) desktops only; the README says what Windows and macOS need".to_owned())
    }
}

fn install() -> Result<(), String> {
    freedesktop()?;
    let program =
        std::env::current_exe().map_err(|e| format!("cannot tell where this program is: {e}"))?;
    let path = install::install(&install::Dirs::from_env()?, &program)?;
    println!(
        "registered {} as the handler of {}: links ({})",
        program.display(),
        app_link::SCHEME,
        path.display()
    );
    Ok(())
}

fn uninstall() -> Result<(), String> {
    freedesktop()?;
    if install::uninstall(&install::Dirs::from_env()?)? {
        println!("removed the handler of {}: links", app_link::SCHEME);
    } else {
        println!("no handler of {}: links was installed", app_link::SCHEME);
    }
    Ok(())
}

fn authenticate(app_link: &str) -> Result<(), String> {
    // Nothing is done with a link that is not ours: no window, no request.
    let link = app_link::parse(app_link)?;
    let font = fonts::find().ok_or(fonts::NONE_FOUND)?;
    let source = card_source::CardSource::from_env();
    let (events_tx, events) = mpsc::channel();
    let (control, control_rx) = mpsc::channel();
    let options = eframe::NativeOptions {
        viewport: eframe::egui::ViewportBuilder::default()
            .with_title(text::TITLE)
            .with_app_id("zaitaku-authenticator")
            .with_inner_size(ui::WINDOW_SIZE),
        renderer: eframe::Renderer::Glow,
        ..Default::default()
    };
    let mut worker = None;
    let shown = eframe::run_native(
        "zaitaku-authenticator",
        options,
        Box::new(|cc| {
            fonts::install(&cc.egui_ctx, font);
            let ctx = cc.egui_ctx.clone();
            let channels = channels::Channels {
                events: events_tx,
                control: control_rx,
                wake: Box::new(move || ctx.request_repaint()),
            };
            worker = Some(std::thread::spawn(move || {
                worker::run(link, source, channels)
            }));
            Ok(Box::new(ui::AuthenticatorApp::new(
                &cc.egui_ctx,
                events,
                control,
            )))
        }),
    );
    // A cancel sent as the window closed is still reported to the page.
    if let Some(worker) = worker {
        let _ = worker.join();
    }
    shown.map_err(|e| format!("cannot open the window: {e}"))
}
