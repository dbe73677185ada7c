//! The web origin a token is bound to: `https://host[:port]`, nothing more.

use std::fmt;
use zaitaku_domain::is_loopback_host;

/// A parsed origin. Only `https`, or `http` on a loopback host (where browsers treat the
/// page as a secure context, for local demos), with no path, query, user or fragment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Origin(String);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "invalid origin {given:?}: {why} (expected https://host or https://host:port, no trailing slash)"
)]
pub struct OriginError {
    given: String,
    why: &'static str,
}

impl Origin {
    pub fn parse(input: &str) -> Result<Self, OriginError> {
        let fail = |why| OriginError {
            given: input.chars().take(200).collect(),
            why,
        };
        let (scheme, rest) = input.split_once("://").ok_or_else(|| fail("no scheme"))?;
        if rest.is_empty() {
            return Err(fail("no host"));
        }
        if rest.contains(['/', '?', '#', '@', '\\']) || rest.chars().any(char::is_whitespace) {
            return Err(fail("an origin has no path, query, fragment or user part"));
        }
        let (host, port) = split_host_port(rest).ok_or_else(|| fail("bad port"))?;
        if !valid_host(host) {
            return Err(fail("bad host name"));
        }
        match scheme {
            "https" => {}
            "http" if is_loopback_host(host) => {}
            "http" => return Err(fail("plain http is allowed only on localhost")),
            _ => return Err(fail("scheme must be https")),
        }
        let default_port = if scheme == "https" { 443 } else { 80 };
        match port {
            Some(p) if p == default_port => Err(fail("default port must be left out")),
            Some(p) => Ok(Origin(format!("{scheme}://{host}:{p}"))),
            None => Ok(Origin(format!("{scheme}://{host}"))),
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The host part, without port (for showing the user where they are signing in).
    pub fn host(&self) -> &str {
        let rest = self.0.split_once("://").map_or("", |(_, r)| r);
        split_host_port(rest).map_or(rest, |(h, _)| h)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

fn split_host_port(rest: &str) -> Option<(&str, Option<u16>)> {
    let (host, port) = if let Some(end) = rest.strip_prefix('[').and(rest.find(']')) {
        let host = &rest[..=end];
        match &rest[end + 1..] {
            "" => (host, None),
            p => (host, Some(p.strip_prefix(':')?)),
        }
    } else {
        match rest.split_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (rest, None),
        }
    };
    let port = match port {
        None => None,
        Some(p) if !p.is_empty() && p.len() <= 5 && p.bytes().all(|b| b.is_ascii_digit()) => {
            Some(p.parse::<u16>().ok().filter(|&p| p != 0)?)
        }
        Some(_) => return None,
    };
    Some((host, port))
}

fn valid_host(host: &str) -> bool {
    if let Some(v6) = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')) {
        return v6.parse::<std::net::Ipv6Addr>().is_ok();
    }
    !host.is_empty()
        && host.len() <= 253
        && host.split('.').all(|label| {
            !label.is_empty()
                && label.len() <= 63
                && !label.starts_with('-')
                && !label.ends_with('-')
                && label
                    .bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_plain_origins() {
        for ok in [
            "https://example.jp",
            "https://zaitaku.example.jp:8443",
            "http://localhost:8080",
            "http://127.0.0.1:3000",
            "http://[::1]:8080",
            "http://127.10.0.3:8080",
            "http://127.255.255.254",
            "https://[2001:db8::1]",
        ] {
            assert_eq!(Origin::parse(ok).unwrap().as_str(), ok);
        }
    }

    #[test]
    fn rejects_anything_that_is_not_an_origin() {
        for bad in [
            "",
            "example.jp",
            "https://",
            "https://example.jp/",
            "https://example.jp/path",
            "https://example.jp?x",
            "https://user@example.jp",
            "http://example.jp",
            "http://127.example.jp",
            "http://127.0.0.1.example.jp",
            "http://128.0.0.1:8080",
            "http://[::2]:8080",
            "http://[2001:db8::1]",
            "ftp://example.jp",
            "HTTPS://example.jp",
            "https://Example.jp",
            "https://example.jp:443",
            "https://example.jp:0",
            "https://example.jp:99999",
            "https://example.jp:",
            "https://exa mple.jp",
            "https://-bad.jp",
            "https://a..b",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn host_drops_the_port() {
        assert_eq!(Origin::parse("https://a.jp:8443").unwrap().host(), "a.jp");
        assert_eq!(Origin::parse("http://[::1]:8080").unwrap().host(), "[::1]");
    }
}
