//! What every console page shows around its content (`templates/console_layout.html`):
//! who is logged in, at which institution, the navigation and the logout form.
//! A console page's template struct has `t: Text` and `frame: ConsoleFrame`.

use super::StaffUser;
use crate::error::PageError;
use crate::state::AppState;

#[derive(Debug, Clone)]
pub struct ConsoleFrame {
    pub staff_name: String,
    pub institution_name: String,
    pub is_administrator: bool,
    pub csrf_token: String,
}

impl ConsoleFrame {
    pub async fn of(state: &AppState, user: &StaffUser) -> Result<Self, PageError> {
        let institution = state
            .store
            .institution(user.institution_id)
            .await?
            .ok_or_else(|| PageError::Internal("staff member's institution is gone".into()))?;
        Ok(ConsoleFrame {
            staff_name: user.display_name.clone(),
            institution_name: institution.name,
            is_administrator: user.is_administrator(),
            csrf_token: user.csrf_token.clone(),
        })
    }
}
