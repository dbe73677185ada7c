//! The template structs, one per screen.

use super::menu::Menu;
use super::wording::StepView;
use crate::i18n::Text;
use askama::Template;
use askama_web::WebTemplate;

#[derive(Template, WebTemplate)]
#[template(path = "error.html")]
pub struct ErrorPage {
    pub t: Text,
    pub title: String,
    pub body: String,
    pub link: Option<(String, String)>,
    pub op_id: String,
    /// Error pages never show the demo banner: they may come before any state.
    pub demo: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "prepare.html")]
pub struct PreparePage {
    pub t: Text,
    pub demo: bool,
    pub institution_name: String,
    pub menu: Menu,
    pub steps: Vec<StepView>,
    pub action: String,
    pub csrf: String,
    /// The institution's 2D-code page, for the patient's own phone.
    pub qr_href: String,
}

/// The institution URL as a 2D code, shown by the staff to the patient.
#[derive(Template, WebTemplate)]
#[template(path = "qr.html")]
pub struct QrPage {
    pub t: Text,
    pub demo: bool,
    pub institution_name: String,
    pub menu: Menu,
    /// What the code says: `{origin}/i/{token}`.
    pub url: String,
    /// At an institution only its devices may use: the invitation shown instead.
    pub invitation: Option<InvitationCode>,
    pub image_src: String,
    /// The image's size in CSS pixels (it is square); the stylesheet may shrink it.
    pub image_size: u32,
    pub back_href: String,
}

/// A single-use invitation's 2D code, drawn into the page.
pub struct InvitationCode {
    /// `{origin}/v/{secret}`.
    pub url: String,
    /// The code as SVG markup (ours, from `code_image`: no script, no style).
    pub svg: String,
    /// Until when it can be opened, Japan time: `15:14`.
    pub until: String,
}

/// One consent item as the FAQ explains it.
pub struct FaqItem {
    pub label: &'static str,
    pub explanation: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "faq.html")]
pub struct FaqPage {
    pub t: Text,
    pub demo: bool,
    pub items: Vec<FaqItem>,
}

pub struct ItemChoice {
    pub code: &'static str,
    pub label: &'static str,
    pub explain_title: String,
    pub explanation: String,
    pub selected: Option<bool>,
    pub error: bool,
}

pub struct FormOption {
    pub code: &'static str,
    pub label: &'static str,
    pub checked: bool,
}

pub struct PrescriptionChoice {
    pub options: Vec<FormOption>,
    pub error: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "select.html")]
pub struct SelectPage {
    pub t: Text,
    pub demo: bool,
    pub institution_name: String,
    pub menu: Menu,
    pub steps: Vec<StepView>,
    pub heading: String,
    pub lead: String,
    /// Shown above the form: flow B's "nothing changed".
    pub notice: Option<String>,
    pub action: String,
    pub csrf: String,
    pub items: Vec<ItemChoice>,
    pub prescription: Option<PrescriptionChoice>,
    pub submit_label: String,
    pub has_errors: bool,
    /// Flow B's edit screen, which shows the viewed consent: 「閉じる」.
    pub closing: Option<Closing>,
}

#[derive(Template, WebTemplate)]
#[template(path = "confirm.html")]
pub struct ConfirmPage {
    pub t: Text,
    pub demo: bool,
    pub institution_name: String,
    pub menu: Menu,
    pub steps: Vec<StepView>,
    pub heading: String,
    pub lead: String,
    pub rows: Vec<(String, String)>,
    /// 「同意内容を登録する」 (flow A) or 「同意内容を更新する」 (flow B).
    pub submit_label: String,
    pub action: String,
    pub csrf: String,
    pub fingerprint: String,
    pub back_href: String,
    /// Flow B's confirmation, which shows the viewed consent: 「閉じる」.
    pub closing: Option<Closing>,
}

/// The form that asks for a fresh challenge in place of the flow's last one,
/// through the step's own confirmation (the choices kept).
pub struct FreshReading {
    pub action: String,
    pub csrf: String,
    pub fingerprint: String,
}

/// After a time-out, a cancel or a report: why the last challenge ended (and
/// when the device that read it did), and a fresh reading.
pub struct RetryForm {
    pub form: FreshReading,
    pub title: String,
    pub paragraphs: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "authenticate.html")]
pub struct AuthenticatePage {
    pub t: Text,
    pub demo: bool,
    /// Who asks, as the authenticator shows it: the institution and the
    /// enrolled device that started the flow (「…・訪問用タブレット1」).
    pub requester: String,
    pub institution_name: String,
    pub menu: Menu,
    pub steps: Vec<StepView>,
    /// How the card can be read: this smartphone, a 2D code, an IC card reader.
    pub methods: Vec<MethodLink>,
    pub timed_out: Option<RetryForm>,
    pub waiting: Option<Waiting>,
}

pub struct MethodLink {
    pub label: String,
    pub href: String,
    pub current: bool,
}

/// A live challenge, as the chosen method presents it.
pub struct Waiting {
    /// `phone`, `qr` or `reader`.
    pub method: &'static str,
    /// 「読み取り開始」: the app link (the demo reader in the demo).
    pub reader_href: String,
    pub auth_link: String,
    pub matching_code: String,
    pub qr_src: String,
    /// An authenticator has already fetched the challenge: when, as shown.
    pub claimed: Option<String>,
    pub status_url: String,
    pub check_href: String,
    /// 「読み取り直す」 once the challenge is claimed: a new challenge in its place
    /// (shown by the page's script when the status turns `claimed`).
    pub renew: Option<FreshReading>,
}

#[derive(Template, WebTemplate)]
#[template(path = "complete.html")]
pub struct CompletePage {
    pub t: Text,
    pub demo: bool,
    pub institution_name: String,
    pub menu: Menu,
    pub steps: Vec<StepView>,
    pub heading: String,
    pub done_message: String,
    /// What the staff check before closing the tab.
    pub staff_check: String,
    pub consent_rows: Vec<(String, String)>,
    /// Empty after flow B: an update confirms no qualification.
    pub qualification_rows: Vec<(String, String)>,
    pub closing: Closing,
}

/// A finished flow's 「閉じる」 (a POST with CSRF) and until when its page is shown.
pub struct Closing {
    pub action: String,
    pub csrf: String,
    /// 「この画面は15:14まで表示されます。」
    pub shown_until: String,
}

/// A button on a result screen that starts another flow (a POST with CSRF).
pub struct OfferForm {
    pub action: String,
    pub csrf: String,
    pub label: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "failed.html")]
pub struct FailedPage {
    pub t: Text,
    pub demo: bool,
    pub institution_name: String,
    pub menu: Menu,
    pub title: String,
    pub body: String,
    pub guidance: Option<(String, String)>,
    /// The consent as it now stands, where that explains the failure (a conflict).
    pub consent_rows: Vec<(String, String)>,
    /// What to do instead (register when nothing is registered, view again after a conflict).
    pub offer: Option<OfferForm>,
    /// What was left unchanged ("同意内容は登録されていません。" and the like).
    pub nothing_written: String,
    pub restart_href: String,
    pub closing: Closing,
}

#[derive(Template, WebTemplate)]
#[template(path = "auth_link.html")]
pub struct AuthLinkPage {
    pub t: Text,
    pub demo: bool,
    pub demo_reader: Option<String>,
}

pub struct DemoInstitution {
    pub name: String,
    pub kind: &'static str,
    pub code: String,
    pub e_prescription: bool,
    pub href: String,
}

pub struct DemoCardView {
    pub label: String,
    pub pin: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "demo_index.html")]
pub struct DemoIndexPage {
    pub t: Text,
    pub demo: bool,
    pub institutions: Vec<DemoInstitution>,
    pub cards: Vec<DemoCardView>,
    pub staff: Vec<DemoStaffView>,
}

/// A demo console login with its code of the moment.
pub struct DemoStaffView {
    pub institution_name: String,
    pub login: String,
    pub password: String,
    pub secret: String,
    pub code: String,
}

pub struct ReaderCard {
    pub id: String,
    pub label: String,
    pub selected: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "demo_reader.html")]
pub struct DemoReaderPage {
    pub t: Text,
    pub demo: bool,
    pub origin: String,
    pub institution_name: String,
    pub purpose: String,
    pub cards: Vec<ReaderCard>,
    pub action: String,
    pub csrf: String,
    /// (notice kind: error, warning, success; text)
    pub message: Option<(&'static str, String)>,
    /// The way back to the service, where there is one.
    pub back_href: Option<String>,
    /// False once the challenge is settled or expired: nothing left to sign.
    pub show_form: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "revoke_confirm.html")]
pub struct RevokeConfirmPage {
    pub t: Text,
    pub demo: bool,
    pub institution_name: String,
    pub menu: Menu,
    pub steps: Vec<StepView>,
    pub heading: String,
    pub withdraws_form: bool,
    pub action: String,
    pub csrf: String,
    pub back_href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "revoked.html")]
pub struct RevokedPage {
    pub t: Text,
    pub demo: bool,
    pub institution_name: String,
    pub menu: Menu,
    pub steps: Vec<StepView>,
    pub heading: String,
    pub rows: Vec<(String, String)>,
    pub closing: Closing,
}

/// `/device`: the activation code form, or what it enrolled.
#[derive(Template, WebTemplate)]
#[template(path = "device.html")]
pub struct DevicePage {
    pub t: Text,
    pub demo: bool,
    pub csrf: String,
    /// What was typed, kept after a refusal.
    pub code: String,
    pub error: Option<String>,
    pub enrolled: Option<DeviceEnrolled>,
}

/// The browser is now (or already was) an institution's device.
pub struct DeviceEnrolled {
    pub heading: String,
    pub device_name: String,
    pub institution_name: String,
    pub institution_href: String,
}
