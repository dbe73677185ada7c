//! The menu at the top of every patient screen (the manual: 「職員は画面上部にある
//! メニューボタンをタップしてください。」). Its entries that start a flow are forms
//! posting this session's CSRF token to the institution's own URL, so the menu
//! works without JavaScript; 「よくあるご質問」 is a plain link. On a tablet or PC
//! (a wide screen, by the stylesheet) the flows are offered once per way of
//! reading the card, as the manual's tablet/PC pages describe; the choice is
//! then remembered for the session.

use crate::i18n::Text;
use crate::session::Session;
use zaitaku_domain::{AuthMethod, Institution};

/// What `_menu.html` shows: where each entry goes, for one institution.
#[derive(Debug, Clone)]
pub struct Menu {
    /// 「同意登録」: starts flow A.
    pub registration_action: String,
    /// 「同意照会・更新」: starts flow B.
    pub inquiry_action: String,
    /// 「すべての同意を取消す」: starts flow C.
    pub revocation_action: String,
    /// 「よくあるご質問」.
    pub faq_href: &'static str,
    pub csrf: String,
    /// Tablet/PC: the flows again under each way of reading that needs one.
    pub methods: Vec<MenuGroup>,
}

#[derive(Debug, Clone)]
pub struct MenuGroup {
    /// The `method` the group's forms post.
    pub code: &'static str,
    pub label: String,
}

impl Menu {
    pub fn new(institution: &Institution, session: &Session) -> Menu {
        let base = format!("/i/{}", institution.url_token.as_str());
        Menu {
            registration_action: format!("{base}/registration"),
            inquiry_action: format!("{base}/inquiry"),
            revocation_action: format!("{base}/revocation"),
            faq_href: "/faq",
            csrf: session.csrf_token.clone(),
            methods: [
                (AuthMethod::QrCode, "method-qr"),
                (AuthMethod::CardReader, "method-reader"),
            ]
            .into_iter()
            .map(|(method, key)| MenuGroup {
                code: method.code(),
                label: Text.get(key),
            })
            .collect(),
        }
    }
}
