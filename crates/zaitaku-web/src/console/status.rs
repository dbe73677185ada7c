//! `/console/status`: the 管理者's quick look at the numbers `--metrics-listen`
//! gives Prometheus, read from the same snapshot (`crate::metrics`). The counts
//! are this process's; they are not per institution (no institution's number
//! is shown apart from the others).

use super::views::{CountRow, CrlRow, RequestRow, StatusPage};
use super::{ConsoleFrame, StaffUser};
use crate::error::PageError;
use crate::i18n::Text;
use crate::metrics::{Snapshot, kind_named};
use crate::state::AppState;
use axum::extract::State;
use zaitaku_domain::Purpose;

pub async fn page(State(state): State<AppState>, user: StaffUser) -> Result<StatusPage, PageError> {
    user.require_administrator()?;
    let snapshot = Snapshot::take(&state).await?;
    let kind =
        |label: &str| kind_named(label).map_or_else(|| label.to_owned(), |k| k.label().to_owned());
    let counters = snapshot.counters();
    Ok(StatusPage {
        t: Text,
        frame: ConsoleFrame::of(&state, &user).await?,
        flows_started: counters
            .flows_started
            .iter()
            .map(|((purpose, k), n)| CountRow {
                what: Purpose::parse(purpose)
                    .map_or(*purpose, Purpose::label)
                    .to_owned(),
                kind: kind(k),
                count: *n,
            })
            .collect(),
        flows_finished: counters
            .flows_finished
            .iter()
            .map(|((outcome, k), n)| CountRow {
                what: (*outcome).to_owned(),
                kind: kind(k),
                count: *n,
            })
            .collect(),
        token_checks: counters
            .token_checks
            .iter()
            .map(|(result, n)| CountRow {
                what: (*result).to_owned(),
                kind: String::new(),
                count: *n,
            })
            .collect(),
        requests: counters
            .requests
            .iter()
            .map(|(key, latency)| RequestRow {
                route: key.route.clone(),
                method: key.method,
                status: key.status,
                count: latency.count,
                mean_ms: format!(
                    "{:.1}",
                    latency.sum_seconds * 1000.0 / latency.count.max(1) as f64
                ),
            })
            .collect(),
        crls: snapshot
            .crls
            .iter()
            .map(|crl| CrlRow {
                issuer: crl.issuer.clone(),
                partition: crl.partition.clone().unwrap_or_default(),
                age_hours: crl.age_seconds / 3600,
                stale: crl.stale,
            })
            .collect(),
        pool_open: snapshot.pool.open,
        pool_in_use: snapshot.pool.in_use,
        pool_max: snapshot.pool.max,
        memory_mib: snapshot
            .resident_bytes
            .map(|b| format!("{:.1}", b as f64 / (1024.0 * 1024.0))),
    })
}
