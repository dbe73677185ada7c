//! The app link a page's 「読み取り開始」 opens:
//! `zaitaku-auth://authenticate?link=<the authentication link, percent-encoded>`.

use zaitaku_auth_client::AuthLink;

pub const SCHEME: &str = "zaitaku-auth";

/// The authentication link inside an app link, checked before anything is done
/// with it: only the `authenticate` form with one `link` parameter, and a link
/// to an https origin (or http on a loopback address) of the form `{origin}/auth/{ref}`.
pub fn parse(text: &str) -> Result<AuthLink, String> {
    // The link is not echoed: its reference is a live capability until used.
    let query = text
        .strip_prefix(SCHEME)
        .and_then(|rest| rest.strip_prefix("://authenticate?"))
        .ok_or_else(|| format!("not a {SCHEME}://authenticate?link=… link"))?;
    let mut links = query
        .split('&')
        .filter_map(|pair| pair.strip_prefix("link="));
    let (Some(encoded), None) = (links.next(), links.next()) else {
        return Err("the app link must carry exactly one link= parameter".to_owned());
    };
    if query.split('&').count() != 1 {
        return Err("the app link carries parameters other than link=".to_owned());
    }
    AuthLink::parse(&percent_decode(encoded)?)
}

/// RFC 3986 percent-decoding; the decoded link must be UTF-8 (it is ASCII when valid).
fn percent_decode(text: &str) -> Result<String, String> {
    let bad = || "the link= parameter is not properly percent-encoded".to_owned();
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = text.get(i + 1..i + 3).ok_or_else(bad)?;
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin_of(text: &str) -> Result<String, String> {
        parse(text).map(|link| link.origin().to_string())
    }

    #[test]
    fn the_pages_app_link_gives_its_origin() {
        assert_eq!(
            origin_of(
                "zaitaku-auth://authenticate?link=https%3A%2F%2Fzaitaku.example.jp%2Fauth%2FAb-_9"
            )
            .unwrap(),
            "https://zaitaku.example.jp"
        );
        assert_eq!(
            origin_of("zaitaku-auth://authenticate?link=http%3A%2F%2F127.0.0.1%3A8080%2Fauth%2Fx")
                .unwrap(),
            "http://127.0.0.1:8080"
        );
        // Unencoded is the same link.
        assert_eq!(
            origin_of("zaitaku-auth://authenticate?link=https://zaitaku.example.jp/auth/x")
                .unwrap(),
            "https://zaitaku.example.jp"
        );
    }

    #[test]
    fn anything_else_is_refused() {
        for bad in [
            "",
            "https://zaitaku.example.jp/auth/x",
            "zaitaku-auth://other?link=https%3A%2F%2Fzaitaku.example.jp%2Fauth%2Fx",
            "zaitaku-auth://authenticate",
            "zaitaku-auth://authenticate?",
            "zaitaku-auth://authenticate?link=",
            "zaitaku-auth://authenticate?url=https%3A%2F%2Fzaitaku.example.jp%2Fauth%2Fx",
            "zaitaku-auth://authenticate?link=https%3A%2F%2Fa.example%2Fauth%2Fx&link=https%3A%2F%2Fb.example%2Fauth%2Fy",
            "zaitaku-auth://authenticate?link=https%3A%2F%2Fa.example%2Fauth%2Fx&next=evil",
            // Plain http only on loopback.
            "zaitaku-auth://authenticate?link=http%3A%2F%2Fzaitaku.example.jp%2Fauth%2Fx",
            "zaitaku-auth://authenticate?link=javascript%3Aalert(1)",
            "zaitaku-auth://authenticate?link=https%3A%2F%2Fzaitaku.example.jp%2Fauth%2Fx%2F..",
            "zaitaku-auth://authenticate?link=https%3A%2F%2Fzaitaku.example.jp%2Fauth%2Fx%3Fy",
            "zaitaku-auth://authenticate?link=https%3A%2F%2Fzaitaku.example.jp%2Fauth%2F%G1",
            "zaitaku-auth://authenticate?link=https%3A%2F%2Fzaitaku.example.jp%2Fauth%2Fx%",
            "zaitaku-auth://authenticate?link=https%3A%2F%2Fzaitaku.example.jp%2Fauth%2F%FF",
        ] {
            assert!(origin_of(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn refusals_do_not_echo_the_reference() {
        let err = parse(
            "zaitaku-auth://authenticate?link=https%3A%2F%2Fz.example%2Fauth%2Fsecret-ref%2F",
        )
        .unwrap_err();
        assert!(!err.contains("secret-ref"), "{err}");
    }
}
