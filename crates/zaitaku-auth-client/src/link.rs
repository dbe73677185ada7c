//! The authentication link `{origin}/auth/{ref}` a page shows.

use zaitaku_card::Origin;

/// An authentication link, taken apart. Never logged or echoed: its reference is a
/// live capability until used.
#[derive(Debug, Clone)]
pub struct AuthLink {
    origin: Origin,
    url: String,
}

impl AuthLink {
    /// The origin is taken from the link itself: it is what the card signs for.
    /// Only https origins, or http on a loopback address (what [`Origin`] accepts).
    pub fn parse(text: &str) -> Result<Self, String> {
        let bad = |why: &str| format!("the link must look like https://host/auth/REF: {why}");
        let authority = text.find("://").ok_or_else(|| bad("no scheme"))? + 3;
        let path = text[authority..]
            .find('/')
            .map(|i| authority + i)
            .ok_or_else(|| bad("no /auth/ path"))?;
        let origin = Origin::parse(&text[..path]).map_err(|e| bad(&e.to_string()))?;
        let reference = text[path..]
            .strip_prefix("/auth/")
            .ok_or_else(|| bad("the path must be /auth/REF"))?;
        let reference_ok = !reference.is_empty()
            && reference.len() <= 128
            && reference
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !reference_ok {
            return Err(bad(
                "REF must be letters, digits, '-' or '_', with nothing after it",
            ));
        }
        Ok(AuthLink {
            url: format!("{origin}/auth/{reference}"),
            origin,
        })
    }

    /// The site that asks, and the origin the card signs for.
    pub fn origin(&self) -> &Origin {
        &self.origin
    }

    /// The whole link, for requests only.
    pub(crate) fn url(&self) -> &str {
        &self.url
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn link(text: &str) -> Result<String, String> {
        AuthLink::parse(text).map(|l| format!("{} {}", l.origin, l.url))
    }

    #[test]
    fn links_give_their_origin() {
        assert_eq!(
            link("https://zaitaku.example.jp/auth/Ab-_9").unwrap(),
            "https://zaitaku.example.jp https://zaitaku.example.jp/auth/Ab-_9"
        );
        assert_eq!(
            link("http://127.0.0.1:8080/auth/x").unwrap(),
            "http://127.0.0.1:8080 http://127.0.0.1:8080/auth/x"
        );
    }

    #[test]
    fn anything_else_is_not_a_link() {
        for bad in [
            "zaitaku.example.jp/auth/x",
            "https://zaitaku.example.jp",
            "https://zaitaku.example.jp/",
            "https://zaitaku.example.jp/auth/",
            "https://zaitaku.example.jp/auth/x/",
            "https://zaitaku.example.jp/auth/x?y=1",
            "https://zaitaku.example.jp/auth/x#f",
            "https://zaitaku.example.jp/login/x",
            "https://zaitaku.example.jp/auth/x/error",
            "http://zaitaku.example.jp/auth/x",
            "https://user@zaitaku.example.jp/auth/x",
            "https://zaitaku.example.jp:443/auth/x",
            "ftp://zaitaku.example.jp/auth/x",
        ] {
            assert!(link(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn bad_links_are_not_echoed() {
        let err = link("https://zaitaku.example.jp/auth/secret-ref/").unwrap_err();
        assert!(!err.contains("secret-ref"), "{err}");
    }
}
