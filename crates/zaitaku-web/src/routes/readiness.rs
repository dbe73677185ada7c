//! `/readyz`: whether this process can serve, for a load balancer or an
//! orchestrator; `/healthz` stays liveness (the process answers) and touches
//! nothing. Ready means the database answers a fresh connection (on SQLite a
//! new connection to the file: a pooled one keeps working after the file is
//! moved away) and its schema is the version this program was built for.

use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;
use zaitaku_store::SCHEMA_VERSION;

/// Longer than a healthy database ever takes; a probe must not hang.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn ready(State(state): State<AppState>) -> Response {
    let probe = tokio::time::timeout(PROBE_TIMEOUT, state.store.probe_schema_version()).await;
    let (status, text) = match probe {
        Ok(Ok(version)) if version == SCHEMA_VERSION => (StatusCode::OK, "ready".to_owned()),
        Ok(Ok(version)) => (
            StatusCode::SERVICE_UNAVAILABLE,
            format!(
                "not ready: the database schema is at version {version}, this program needs {SCHEMA_VERSION}"
            ),
        ),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "readiness: the database is unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                "not ready: the database is unreachable".to_owned(),
            )
        }
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the database did not answer in time".to_owned(),
        ),
    };
    (status, [(header::CACHE_CONTROL, "no-store")], text).into_response()
}
