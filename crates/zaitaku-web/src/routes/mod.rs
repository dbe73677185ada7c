//! The routers, one module per area. Pages that carry flow state or the menu get
//! a session; the authenticator API, static assets, the 2D code image and the FAQ
//! do not.

mod assets;
mod auth_api;
mod authentication_page;
mod authentication_step;
mod demo;
mod faq;
mod flow_pages;
mod institution;
mod qr;
mod readiness;
mod registration;
mod revocation;
mod update;

// The posted forms, for `crate::forms`.
pub use authentication_step::ConfirmForm;
pub use demo::ReaderForm;
pub use institution::StartForm;
pub use registration::PostedAnswers;

use crate::state::AppState;
use crate::{security, session};
use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::get;

/// The patient screens, the authenticator API and the open pages; the app adds
/// the console beside them.
pub fn all(state: &AppState) -> Router<AppState> {
    let mut pages = Router::new()
        .route("/i/{token}", get(institution::prepare))
        .route(
            "/i/{token}/registration",
            axum::routing::post(institution::start_registration),
        )
        .route(
            "/i/{token}/inquiry",
            axum::routing::post(institution::start_inquiry),
        )
        .route(
            "/i/{token}/revocation",
            axum::routing::post(institution::start_revocation),
        )
        .route("/i/{token}/qr", get(qr::page))
        .route("/v/{secret}", get(crate::devices::invitation::open))
        .route(
            "/device",
            get(crate::devices::activation::form).post(crate::devices::activation::submit),
        )
        .route("/f/{flow}", get(flow_pages::resume))
        .route(
            "/f/{flow}/revoke",
            get(revocation::revoke_page).post(revocation::revoke_submit),
        )
        .route(
            "/f/{flow}/select",
            get(registration::select_page).post(registration::select_submit),
        )
        .route(
            "/f/{flow}/confirm",
            get(registration::confirm_page).post(registration::confirm_submit),
        )
        .route("/f/{flow}/inquiry", axum::routing::post(update::retry_view))
        .route(
            "/f/{flow}/update",
            get(update::edit_page).post(update::edit_submit),
        )
        .route(
            "/f/{flow}/update/confirm",
            get(update::confirm_page).post(update::confirm_submit),
        )
        .route("/f/{flow}/authenticate", get(authentication_page::page))
        .route(
            "/f/{flow}/authenticate/code.svg",
            get(authentication_page::code_image),
        )
        .route("/f/{flow}/status", get(authentication_page::status))
        .route("/f/{flow}/complete", get(flow_pages::complete_page))
        .route(
            "/f/{flow}/close",
            axum::routing::post(flow_pages::close_result),
        );
    if state.demo.is_some() {
        pages = pages.route(
            "/demo/reader/{reference}",
            get(demo::reader_page).post(demo::reader_submit),
        );
    }
    let pages = pages
        .layer(from_fn_with_state(state.clone(), session::load_or_start))
        .layer(from_fn(security::refuse_cross_site_posts));
    let api = Router::new()
        .route(
            "/auth/{reference}",
            get(auth_api::describe).post(auth_api::submit),
        )
        .route(
            "/auth/{reference}/error",
            axum::routing::post(auth_api::report_error),
        )
        .layer(from_fn(auth_api::refuse_claim_in_url));
    let open = Router::new()
        .route("/", get(demo::index))
        .route("/faq", get(faq::page))
        .route("/i/{token}/qr.svg", get(qr::image))
        .route("/assets/style.css", get(assets::style))
        .route("/assets/auth.js", get(assets::auth_script))
        .route("/assets/icon.svg", get(assets::icon))
        .route("/favicon.ico", get(assets::icon))
        .route("/healthz", get(assets::health))
        .route("/readyz", get(readiness::ready));
    Router::new().merge(pages).merge(api).merge(open)
}
