//! Drawing the model, and turning keys and clicks into [`Input`]s. Every step is
//! decided in `model`; this file only shows it.

use crate::model::{Command, Control, Input, Model, PIN_DIGITS, Readers, Step, WorkerEvent};
use crate::text;
use eframe::egui::{
    self, Align, Button, Color32, Key, Layout, RichText, TextStyle, Ui, ViewportCommand,
    WidgetInfo, WidgetType,
};
use std::sync::mpsc::{Receiver, Sender};
use std::time::Instant;

/// Text is never smaller than this (px): the patients are often elderly.
const SMALLEST_TEXT: f32 = 18.0;
const BODY_TEXT: f32 = 22.0;
const HOST_TEXT: f32 = 36.0;
const PIN_TEXT: f32 = 48.0;
/// The window: the request on the left, the step on the right.
pub const WINDOW_SIZE: [f32; 2] = [960.0, 700.0];
const REQUEST_WIDTH: f32 = 400.0;
const KEY_SIZE: egui::Vec2 = egui::vec2(96.0, 64.0);
const WARNING: Color32 = Color32::from_rgb(0xB0, 0x00, 0x20);
const GOOD: Color32 = Color32::from_rgb(0x00, 0x6B, 0x2E);

pub struct AuthenticatorApp {
    model: Model,
    events: Receiver<WorkerEvent>,
    control: Sender<Control>,
    /// The last progress line logged, so each step is logged once.
    logged: String,
}

impl AuthenticatorApp {
    pub fn new(
        ctx: &egui::Context,
        events: Receiver<WorkerEvent>,
        control: Sender<Control>,
    ) -> Self {
        ctx.set_visuals(egui::Visuals::light());
        ctx.all_styles_mut(|style| {
            use egui::FontFamily::{Monospace, Proportional};
            use egui::FontId;
            style.text_styles = [
                (TextStyle::Small, FontId::new(SMALLEST_TEXT, Proportional)),
                (TextStyle::Body, FontId::new(BODY_TEXT, Proportional)),
                (TextStyle::Button, FontId::new(24.0, Proportional)),
                (TextStyle::Heading, FontId::new(28.0, Proportional)),
                (TextStyle::Monospace, FontId::new(BODY_TEXT, Monospace)),
            ]
            .into();
            style.spacing.button_padding = egui::vec2(16.0, 10.0);
            style.spacing.item_spacing = egui::vec2(12.0, 12.0);
        });
        AuthenticatorApp {
            model: Model::default(),
            events,
            control,
            logged: String::new(),
        }
    }

    fn apply(&mut self, ctx: &egui::Context, input: Input) {
        match self.model.on_input(input) {
            Some(Command::Worker(control)) => {
                // The worker has ended when it no longer listens; nothing is left to tell.
                let _ = self.control.send(control);
            }
            Some(Command::Close) => ctx.send_viewport_cmd(ViewportCommand::Close),
            None => {}
        }
    }
}

impl eframe::App for AuthenticatorApp {
    fn update(&mut self, ctx: &egui::Context, _frame: &mut eframe::Frame) {
        let now = Instant::now();
        while let Ok(event) = self.events.try_recv() {
            self.model.on_worker(event, now);
        }
        // Closing the window while the card is awaited is a cancel the page hears of.
        if ctx.input(|i| i.viewport().close_requested()) && self.model.can_cancel() {
            self.apply(ctx, Input::Cancel);
        }
        let mut inputs = keyboard(ctx);
        // Side by side, so that the keypad fits a 768-pixel-high screen.
        egui::SidePanel::left("request")
            .exact_width(REQUEST_WIDTH)
            .resizable(false)
            .frame(egui::Frame::side_top_panel(&ctx.style()).inner_margin(16.0))
            .show(ctx, |ui| request(ui, &self.model));
        egui::CentralPanel::default()
            .frame(egui::Frame::central_panel(&ctx.style()).inner_margin(16.0))
            .show(ctx, |ui| {
                egui::ScrollArea::vertical().show(ui, |ui| step(ui, &self.model, &mut inputs))
            });
        for input in inputs {
            self.apply(ctx, input);
        }
        let progress = self.model.progress();
        if progress != self.logged {
            eprintln!("zaitaku-authenticator: {progress}");
            self.logged = progress;
            // The step just logged is drawn in the next frame.
            ctx.request_repaint();
        }
        if self.model.closes_by_itself(now) {
            ctx.send_viewport_cmd(ViewportCommand::Close);
        } else if let Step::Success { close_at } = self.model.step {
            ctx.request_repaint_after(close_at.saturating_duration_since(now));
        }
    }
}

/// Keys that work anywhere: digits (also full-width), Backspace, Escape = cancel,
/// Enter = the step's main button unless a focused button takes it.
fn keyboard(ctx: &egui::Context) -> Vec<Input> {
    let button_focused = ctx.memory(|m| m.focused().is_some());
    ctx.input(|i| {
        let mut inputs = Vec::new();
        for event in &i.events {
            match event {
                egui::Event::Text(typed) => inputs.extend(typed.chars().filter_map(digit)),
                egui::Event::Key {
                    key, pressed: true, ..
                } => match key {
                    Key::Backspace | Key::Delete => inputs.push(Input::Backspace),
                    Key::Escape => inputs.push(Input::Cancel),
                    Key::Enter if !button_focused => inputs.push(Input::Submit),
                    _ => {}
                },
                _ => {}
            }
        }
        inputs
    })
}

fn digit(c: char) -> Option<Input> {
    let value = match c {
        '0'..='9' => c as u32 - '0' as u32,
        '０'..='９' => c as u32 - '０' as u32,
        _ => return None,
    };
    Some(Input::Digit(value as u8))
}

/// Who asks and why, shown from the moment the challenge is known.
fn request(ui: &mut Ui, model: &Model) {
    ui.heading(text::TITLE);
    let Some(request) = &model.request else {
        return;
    };
    ui.label(text::ASKS);
    ui.label(RichText::new(&request.host).size(HOST_TEXT).strong());
    ui.label(RichText::new(&request.origin).size(SMALLEST_TEXT));
    egui::Grid::new("request")
        .num_columns(2)
        .spacing([24.0, 8.0])
        .show(ui, |ui| {
            ui.label(text::INSTITUTION);
            ui.label(RichText::new(&request.institution).strong());
            ui.end_row();
            ui.label(text::PURPOSE);
            ui.label(RichText::new(&request.purpose).strong());
            ui.end_row();
            ui.label(text::MATCHING_CODE);
            ui.label(RichText::new(&request.matching_code).size(32.0).strong());
            ui.end_row();
        });
    ui.label(RichText::new(text::MATCHING_CODE_HINT).size(SMALLEST_TEXT));
}

fn step(ui: &mut Ui, model: &Model, inputs: &mut Vec<Input>) {
    match &model.step {
        Step::Fetching => waiting(ui, text::FETCHING),
        Step::FindingCard(readers) => {
            let (said, details) = text::readers(readers);
            waiting(ui, said);
            if let Readers::Waiting(names) = readers {
                ui.label(RichText::new(text::READERS).size(SMALLEST_TEXT));
                for name in names {
                    ui.label(RichText::new(format!("・{name}")).size(SMALLEST_TEXT));
                }
            }
            details_line(ui, details);
        }
        Step::ReadingCard => waiting(ui, text::READING),
        Step::Pin { digits } => pin(ui, model, digits, inputs),
        Step::Working => waiting(ui, text::WORKING),
        Step::Problem(problem) => {
            let (said, details) = text::card_problem(problem);
            ui.label(RichText::new(said).color(WARNING).strong());
            tries_left(ui, model);
            details_line(ui, details);
            if big_button(ui, text::RETRY).clicked() {
                inputs.push(Input::Retry);
            }
        }
        Step::Success { .. } => {
            ui.label(RichText::new(text::SUCCESS).size(30.0).color(GOOD).strong());
            ui.label(text::SUCCESS_NEXT);
        }
        Step::Blocked { page_told } => {
            ui.label(
                RichText::new(text::BLOCKED)
                    .size(30.0)
                    .color(WARNING)
                    .strong(),
            );
            ui.label(text::BLOCKED_MEANS);
            page_told_line(ui, *page_told);
        }
        Step::Refused(refusal) => {
            let (said, details) = text::refusal(refusal);
            ui.label(RichText::new(said).color(WARNING).strong());
            details_line(ui, details);
        }
        Step::Cancelling => waiting(ui, text::CANCELLING),
        Step::Cancelled { page_told } => {
            ui.label(RichText::new(text::CANCELLED).strong());
            page_told_line(ui, *page_told);
        }
    }
    ui.add_space(8.0);
    ui.with_layout(Layout::right_to_left(Align::Min), |ui| {
        if model.can_cancel() && big_button(ui, text::CANCEL).clicked() {
            inputs.push(Input::Cancel);
        }
        if model.finished() && big_button(ui, text::CLOSE).clicked() {
            inputs.push(Input::Close);
        }
    });
}

fn pin(ui: &mut Ui, model: &Model, digits: &str, inputs: &mut Vec<Input>) {
    tries_left(ui, model);
    ui.label(RichText::new(text::PIN_PROMPT).strong());
    ui.label(text::PIN_BY_PATIENT);
    let dots: String = (0..PIN_DIGITS)
        .map(|i| if i < digits.len() { '●' } else { '○' })
        .collect();
    let field = ui.label(RichText::new(dots).size(PIN_TEXT));
    // A screen reader hears how many digits are in, never which.
    let said = text::pin_field(digits.len());
    field.widget_info(|| WidgetInfo::labeled(WidgetType::Label, true, &said));
    egui::Grid::new("keypad")
        .spacing([10.0, 10.0])
        .show(ui, |ui| {
            for row in [[1, 2, 3], [4, 5, 6], [7, 8, 9]] {
                for d in row {
                    if key(ui, &d.to_string()).clicked() {
                        inputs.push(Input::Digit(d));
                    }
                }
                ui.end_row();
            }
            if key(ui, text::ERASE).clicked() {
                inputs.push(Input::Backspace);
            }
            if key(ui, "0").clicked() {
                inputs.push(Input::Digit(0));
            }
            let ready = digits.len() == PIN_DIGITS;
            if ui
                .add_enabled(
                    ready,
                    Button::new(RichText::new(text::ENTER).size(28.0)).min_size(KEY_SIZE),
                )
                .clicked()
            {
                inputs.push(Input::Submit);
            }
            ui.end_row();
        });
}

fn tries_left(ui: &mut Ui, model: &Model) {
    if let Some(n) = model.tries_left {
        ui.label(RichText::new(text::tries_left(n)).strong());
    }
    if model.last_try() {
        ui.label(RichText::new(text::LAST_TRY).color(WARNING).strong());
    }
}

fn waiting(ui: &mut Ui, said: &str) {
    ui.horizontal(|ui| {
        ui.spinner();
        ui.label(RichText::new(said).strong());
    });
}

fn details_line(ui: &mut Ui, details: Option<&str>) {
    if let Some(details) = details {
        ui.label(RichText::new(format!("{}: {details}", text::DETAILS)).size(SMALLEST_TEXT));
    }
}

fn page_told_line(ui: &mut Ui, told: bool) {
    ui.label(if told {
        text::PAGE_TOLD
    } else {
        text::PAGE_NOT_TOLD
    });
}

fn key(ui: &mut Ui, label: &str) -> egui::Response {
    ui.add(Button::new(RichText::new(label).size(32.0)).min_size(KEY_SIZE))
}

fn big_button(ui: &mut Ui, label: &str) -> egui::Response {
    ui.add(Button::new(RichText::new(label).size(24.0)).min_size(egui::vec2(140.0, 52.0)))
}
