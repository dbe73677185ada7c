//! よくあるご質問: answers for patients and staff. All text is in the catalogue;
//! the consent items reuse the explanations the selection screen shows.

use crate::i18n::Text;
use crate::state::AppState;
use crate::views::{FaqItem, FaqPage, explanation};
use axum::extract::State;
use zaitaku_domain::ConsentItem;

/// The items the manual and the national interface name for home visits.
const ITEMS: [ConsentItem; 4] = [
    ConsentItem::Medication,
    ConsentItem::Clinical,
    ConsentItem::HealthCheckup,
    ConsentItem::Surgery,
];

pub async fn page(State(state): State<AppState>) -> FaqPage {
    FaqPage {
        t: Text,
        demo: state.demo.is_some(),
        items: ITEMS
            .into_iter()
            .map(|item| FaqItem {
                label: item.label(),
                explanation: explanation(item),
            })
            .collect(),
    }
}
