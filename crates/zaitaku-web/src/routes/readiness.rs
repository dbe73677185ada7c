//! `/readyz`: whether this process can serve, for a load balancer or an
//! orchestrator; `/healthz` stays liveness (the process answers) and touches
//! nothing. Ready means the database answers a fresh connection (on SQLite a
//! new connection to the file: a pooled one keeps working after the file is
//! moved away), its schema is the version this program was built for, and,
//! while revocation checking is required, no kept CRL is stale (its cards
//! would all be refused).

use crate::metrics::crl_ages;
use crate::state::AppState;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::{Duration, SystemTime};
use zaitaku_card::validate::RevocationPolicy;
use zaitaku_store::SCHEMA_VERSION;

/// Longer than a healthy database ever takes; a probe must not hang.
const PROBE_TIMEOUT: Duration = Duration::from_secs(5);

pub async fn ready(State(state): State<AppState>) -> Response {
    let (status, text) = match tokio::time::timeout(PROBE_TIMEOUT, check(&state)).await {
        Ok(Ok(())) => (StatusCode::OK, "ready".to_owned()),
        Ok(Err(why)) => (StatusCode::SERVICE_UNAVAILABLE, format!("not ready: {why}")),
        Err(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "not ready: the database did not answer in time".to_owned(),
        ),
    };
    (status, [(header::CACHE_CONTROL, "no-store")], text).into_response()
}

/// `Err` says why not, in words for the operator (no personal data).
async fn check(state: &AppState) -> Result<(), String> {
    let unreachable = |e: zaitaku_store::StoreError| {
        tracing::warn!(error = %e, "readiness: the database is unreachable");
        "the database is unreachable".to_owned()
    };
    let version = state
        .store
        .probe_schema_version()
        .await
        .map_err(unreachable)?;
    if version != SCHEMA_VERSION {
        return Err(format!(
            "the database schema is at version {version}, this program needs {SCHEMA_VERSION}"
        ));
    }
    let required = matches!(
        state.validator.current().config().revocation,
        RevocationPolicy::Required
    );
    if required {
        let stale: Vec<String> = crl_ages(state, SystemTime::now())
            .await
            .map_err(unreachable)?
            .into_iter()
            .filter(|crl| crl.stale)
            .map(|crl| crl.issuer)
            .collect();
        if !stale.is_empty() {
            return Err(format!(
                "a stale CRL while revocation checking is required (issuer {}); \
                 import a newer one with `zaitaku admin crl import`",
                stale.join("; ")
            ));
        }
    }
    Ok(())
}
