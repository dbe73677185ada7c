//! The Prometheus text format (version 0.0.4) of a [`Snapshot`].

use super::Snapshot;
use super::counters::LATENCY_BUCKETS;
use std::fmt::Write;

pub fn render(s: &Snapshot) -> String {
    let mut out = String::new();
    let c = s.counters();

    family(
        &mut out,
        "zaitaku_http_request_duration_seconds",
        "histogram",
        "Requests by route pattern, method and status, and how long each took to answer.",
    );
    for (key, latency) in &c.requests {
        let labels = format!(
            "route=\"{}\",method=\"{}\",status=\"{}\"",
            escape(&key.route),
            key.method,
            key.status
        );
        for (bound, count) in LATENCY_BUCKETS.iter().zip(latency.buckets) {
            line(
                &mut out,
                "zaitaku_http_request_duration_seconds_bucket",
                &format!("{labels},le=\"{bound}\""),
                count,
            );
        }
        line(
            &mut out,
            "zaitaku_http_request_duration_seconds_bucket",
            &format!("{labels},le=\"+Inf\""),
            latency.count,
        );
        line(
            &mut out,
            "zaitaku_http_request_duration_seconds_sum",
            &labels,
            latency.sum_seconds,
        );
        line(
            &mut out,
            "zaitaku_http_request_duration_seconds_count",
            &labels,
            latency.count,
        );
    }

    family(
        &mut out,
        "zaitaku_flows_started_total",
        "counter",
        "Flows patients started, by purpose and institution kind.",
    );
    for ((purpose, kind), n) in &c.flows_started {
        let labels = format!("purpose=\"{purpose}\",institution_kind=\"{kind}\"");
        line(&mut out, "zaitaku_flows_started_total", &labels, n);
    }

    family(
        &mut out,
        "zaitaku_flows_finished_total",
        "counter",
        "Card steps of flows that reached an outcome, by outcome and institution kind.",
    );
    for ((outcome, kind), n) in &c.flows_finished {
        let labels = format!("outcome=\"{outcome}\",institution_kind=\"{kind}\"");
        line(&mut out, "zaitaku_flows_finished_total", &labels, n);
    }

    family(
        &mut out,
        "zaitaku_token_validations_total",
        "counter",
        "Authentication tokens checked, by result (accepted or the refusal's code).",
    );
    for (result, n) in &c.token_checks {
        line(
            &mut out,
            "zaitaku_token_validations_total",
            &format!("result=\"{result}\""),
            n,
        );
    }

    family(
        &mut out,
        "zaitaku_crl_age_seconds",
        "gauge",
        "Seconds since the thisUpdate of each CRL kept in the database.",
    );
    for crl in &s.crls {
        line(
            &mut out,
            "zaitaku_crl_age_seconds",
            &crl_labels(crl),
            crl.age_seconds,
        );
    }
    family(
        &mut out,
        "zaitaku_crl_stale",
        "gauge",
        "1 for a kept CRL past its nextUpdate (or --crl-max-age): its cards are refused while revocation is required.",
    );
    for crl in &s.crls {
        line(
            &mut out,
            "zaitaku_crl_stale",
            &crl_labels(crl),
            u8::from(crl.stale),
        );
    }

    family(
        &mut out,
        "zaitaku_db_pool_connections",
        "gauge",
        "Database connections the pool holds open, and of those the ones in use.",
    );
    line(
        &mut out,
        "zaitaku_db_pool_connections",
        "state=\"open\"",
        s.pool.open,
    );
    line(
        &mut out,
        "zaitaku_db_pool_connections",
        "state=\"in_use\"",
        s.pool.in_use,
    );
    family(
        &mut out,
        "zaitaku_db_pool_max_connections",
        "gauge",
        "The most connections the pool opens.",
    );
    line(&mut out, "zaitaku_db_pool_max_connections", "", s.pool.max);

    if let Some(bytes) = s.resident_bytes {
        family(
            &mut out,
            "process_resident_memory_bytes",
            "gauge",
            "Resident memory of this process (VmRSS).",
        );
        line(&mut out, "process_resident_memory_bytes", "", bytes);
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

fn line(out: &mut String, name: &str, labels: &str, value: impl std::fmt::Display) {
    if labels.is_empty() {
        let _ = writeln!(out, "{name} {value}");
    } else {
        let _ = writeln!(out, "{name}{{{labels}}} {value}");
    }
}

fn crl_labels(crl: &super::CrlAge) -> String {
    format!(
        "issuer=\"{}\",partition=\"{}\"",
        escape(&crl.issuer),
        escape(crl.partition.as_deref().unwrap_or(""))
    )
}

/// A label value's escapes: backslash, double quote and line feed.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

#[cfg(test)]
mod tests {
    #[test]
    fn label_values_escape_quotes_backslashes_and_newlines() {
        assert_eq!(super::escape("CN=\"a\\b\"\n"), "CN=\\\"a\\\\b\\\"\\n");
    }
}
