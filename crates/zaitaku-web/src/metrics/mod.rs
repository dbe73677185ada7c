//! The service's numbers: requests by route pattern, method and status with
//! their latency, flows started and finished, token checks by result
//! (`counters.rs`, counted in this process since it started), and what is read
//! when asked: CRL ages, the store's connection pool, the process's memory
//! (`snapshot.rs`). The same snapshot feeds the Prometheus text of
//! `--metrics-listen` (`exposition.rs`) and the console's status page.
//!
//! The Prometheus text is written by hand rather than with a crate: a few
//! counter families and one histogram whose labels all come from closed sets,
//! about a hundred lines, with no dependency to track. Labels never carry
//! personal data: routes are patterns (`/i/{token}`, never the token), the
//! rest are codes.

mod counters;
mod exposition;
mod process;
mod snapshot;

pub use counters::{
    Counters, LATENCY_BUCKETS, Latency, Metrics, RequestKey, kind_label, kind_named,
};
pub use exposition::render;
pub use snapshot::{CrlAge, Snapshot, crl_ages};

use crate::state::AppState;
use axum::Router;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// Count every routed request under its route pattern (a `route_layer`: the
/// pattern is known there).
pub async fn count_requests(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let method = counters::method_label(request.method());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    state.metrics.request(
        RequestKey {
            route,
            method,
            status: response.status().as_u16(),
        },
        started.elapsed(),
    );
    response
}

/// The metrics listener's one route, `/metrics`. Only for the operator's
/// network: it tells how busy each institution kind is and which CRLs are old.
pub fn router(state: AppState) -> Router {
    Router::new()
        .route("/metrics", get(metrics_text))
        .with_state(state)
}

/// Serve [`router`] on `listener` with the default server limits, until the
/// runtime stops.
pub async fn serve(listener: tokio::net::TcpListener, state: AppState) -> std::io::Result<()> {
    crate::server::run(
        listener,
        router(state),
        crate::ServerLimits::default(),
        std::future::pending(),
    )
    .await
}

async fn metrics_text(State(state): State<AppState>) -> Response {
    match Snapshot::take(&state).await {
        Ok(snapshot) => (
            [
                (
                    header::CONTENT_TYPE,
                    "text/plain; version=0.0.4; charset=utf-8",
                ),
                (header::CACHE_CONTROL, "no-store"),
            ],
            render(&snapshot),
        )
            .into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "metrics: reading the database failed");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "the database is unreachable",
            )
                .into_response()
        }
    }
}
