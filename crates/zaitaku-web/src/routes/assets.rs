//! Static assets, embedded in the binary.

use axum::http::header;
use axum::response::IntoResponse;

const STYLE: &str = include_str!("../../assets/style.css");
const AUTH_SCRIPT: &str = include_str!("../../assets/auth.js");
const ICON: &str = include_str!("../../assets/icon.svg");

/// Assets change only with the binary; an hour of caching is plenty.
const CACHE: &str = "public, max-age=3600";

pub async fn style() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        STYLE,
    )
}

pub async fn auth_script() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, CACHE),
        ],
        AUTH_SCRIPT,
    )
}

pub async fn icon() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "image/svg+xml"),
            (header::CACHE_CONTROL, CACHE),
        ],
        ICON,
    )
}

pub async fn health() -> &'static str {
    "ok"
}
