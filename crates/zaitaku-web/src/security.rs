//! Headers every response carries, and the refusal of cross-site form posts.

use crate::state::AppState;
use axum::extract::{MatchedPath, Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// No inline script or style anywhere; everything comes from our own origin.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; \
     style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; \
     frame-ancestors 'none'; base-uri 'none'";

pub async fn headers(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let h = response.headers_mut();
    let set = |h: &mut axum::http::HeaderMap, name, value: &'static str| {
        h.insert(name, HeaderValue::from_static(value));
    };
    set(h, header::CONTENT_SECURITY_POLICY, CONTENT_SECURITY_POLICY);
    set(h, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    set(h, header::X_FRAME_OPTIONS, "DENY");
    set(h, header::REFERRER_POLICY, "no-referrer");
    set(
        h,
        header::HeaderName::from_static("permissions-policy"),
        "camera=(), microphone=(), geolocation=()",
    );
    set(
        h,
        header::HeaderName::from_static("cross-origin-opener-policy"),
        "same-origin",
    );
    if !h.contains_key(header::CACHE_CONTROL) {
        // Pages carry personal data and one-time links: never cache them.
        set(h, header::CACHE_CONTROL, "no-store");
    }
    response
}

/// One year: browsers keep to https for the origin once they have seen it.
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

/// The `Host` a request names must be the public origin's (a request for another
/// name, e.g. through DNS rebinding or a stray virtual host, gets `421` and a plain
/// message), and answers on an https origin carry HSTS. On a loopback origin any
/// loopback name with the same port will do (`localhost:8080` for
/// `http://127.0.0.1:8080`). `/healthz` answers whatever the host, for probes.
pub async fn host_and_hsts(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let https = state.origin.as_str().starts_with("https://");
    let mut response = if request.uri().path() == "/healthz" || host_matches(&state, &request) {
        next.run(request).await
    } else {
        (
            StatusCode::MISDIRECTED_REQUEST,
            "このアドレスではご利用いただけません。\nThis service does not answer for that host name.\n",
        )
            .into_response()
    };
    if https {
        response.headers_mut().insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(STRICT_TRANSPORT_SECURITY),
        );
    }
    response
}

fn host_matches(state: &AppState, request: &Request) -> bool {
    // An absolute request target names the host itself; otherwise the Host header.
    let named = match request.uri().authority() {
        Some(authority) => Some(authority.as_str()),
        None => request
            .headers()
            .get(header::HOST)
            .and_then(|v| v.to_str().ok()),
    };
    let Some(named) = named else {
        return false;
    };
    let named = named.trim_end_matches('.').to_ascii_lowercase();
    let origin = state.origin.as_str();
    let (scheme, authority) = origin.split_once("://").unwrap_or(("", origin));
    let default_port = if scheme == "https" { "443" } else { "80" };
    let (host, port) = split_authority(&named);
    let (origin_host, origin_port) = split_authority(authority);
    // A loopback origin is one machine: any loopback name and port reaches it
    // (several processes behind a local proxy, each on its own port). DNS
    // rebinding needs a stranger's name, which is refused all the same.
    if zaitaku_domain::is_loopback_host(origin_host) {
        return zaitaku_domain::is_loopback_host(host);
    }
    host == origin_host && port.unwrap_or(default_port) == origin_port.unwrap_or(default_port)
}

/// `host[:port]`, the host of an IPv6 address in brackets.
fn split_authority(authority: &str) -> (&str, Option<&str>) {
    if authority.starts_with('[') {
        return match authority.find(']') {
            Some(end) => {
                let port = authority[end + 1..].strip_prefix(':');
                (&authority[..=end], port)
            }
            None => (authority, None),
        };
    }
    match authority.rsplit_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    }
}

/// Browsers say where a request comes from (Fetch Metadata); a form posted from
/// another site is refused before any handler runs. The session CSRF token is
/// checked as well, for browsers that do not send the header.
pub async fn refuse_cross_site_posts(request: Request, next: Next) -> Response {
    if request.method() == Method::POST {
        let site = request
            .headers()
            .get("sec-fetch-site")
            .and_then(|v| v.to_str().ok());
        if site == Some("cross-site") {
            return (StatusCode::FORBIDDEN, "cross-site form posts are refused").into_response();
        }
    }
    next.run(request).await
}

/// One debug line per request: method, the route's pattern (never the real path,
/// which holds institution tokens, flow ids and challenge references), status, time.
pub async fn log_requests(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "(unmatched)".to_owned());
    let started = std::time::Instant::now();
    let response = next.run(request).await;
    tracing::debug!(
        %method,
        route,
        status = response.status().as_u16(),
        micros = started.elapsed().as_micros() as u64,
        "request"
    );
    response
}

#[cfg(test)]
mod tests {
    use super::split_authority;

    #[test]
    fn authorities_split_into_host_and_port() {
        assert_eq!(split_authority("a.jp"), ("a.jp", None));
        assert_eq!(split_authority("a.jp:8443"), ("a.jp", Some("8443")));
        assert_eq!(split_authority("[::1]:8080"), ("[::1]", Some("8080")));
        assert_eq!(split_authority("[::1]"), ("[::1]", None));
    }
}
