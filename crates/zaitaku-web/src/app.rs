//! The application: routes, the layers around them, and serving on a listener.

use crate::error::PageError;
use crate::security;
use crate::server::{self, ServerLimits};
use crate::state::AppState;
use crate::{console, routes};
use axum::Router;
use axum::middleware::{from_fn, from_fn_with_state};
use std::future::Future;
use std::time::Duration;
use tokio::net::TcpListener;
use tower_http::limit::RequestBodyLimitLayer;
use tower_http::timeout::TimeoutLayer;

/// Forms and tokens are small; a token is at most 12 KiB.
const BODY_LIMIT: usize = 16 * 1024;

pub fn router(state: AppState) -> Router {
    router_with(state, &ServerLimits::default())
}

fn router_with(state: AppState, limits: &ServerLimits) -> Router {
    let host_check = from_fn_with_state(state.clone(), security::host_and_hsts);
    Router::new()
        .merge(routes::all(&state))
        .merge(console::routes())
        .fallback(not_found)
        .route_layer(from_fn(security::log_requests))
        .route_layer(from_fn_with_state(
            state.clone(),
            crate::metrics::count_requests,
        ))
        .with_state(state)
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            limits.request_timeout,
        ))
        .layer(host_check)
        // Outermost, so the answers of the layers inside (413 for a body over the
        // limit, 408 for a request over time) carry the security headers too.
        .layer(from_fn(security::headers))
}

async fn not_found() -> PageError {
    PageError::NotFound
}

/// Serve with the default limits until `shutdown` resolves.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    serve_with(listener, state, ServerLimits::default(), shutdown).await
}

/// Serve until `shutdown` resolves, within `limits`. Expired sessions, flows and
/// challenges are purged every minute meanwhile. Tests pass a listener bound to port 0.
pub async fn serve_with(
    listener: TcpListener,
    state: AppState,
    limits: ServerLimits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let store = state.store.clone();
    let purger = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        loop {
            tick.tick().await;
            if let Err(e) = store.purge_expired(time::OffsetDateTime::now_utc()).await {
                tracing::warn!(error = %e, "purging expired flows failed");
            }
        }
    });
    let result = server::run(listener, router_with(state, &limits), limits, shutdown).await;
    purger.abort();
    result
}
