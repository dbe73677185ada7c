//! The service's cookies, the browser session of the patient screens, the
//! console session, the staff's remembered device and the institution's
//! enrolled device, under one rule: `__Host-` and `Secure` whenever the service is
//! on https, always `HttpOnly` and `Path=/`, and a value only ever one of our
//! random ids.

use crate::random;
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::Response;

pub struct Cookie {
    /// The name on plain http (a loopback origin in development and tests).
    plain: &'static str,
    /// The name on https: the `__Host-` prefix pins it to this host and path `/`.
    host_only: &'static str,
    same_site: &'static str,
}

/// The patient screens' session. `Lax`: the institution URL is opened from a 2D
/// code or a link, and must find its session on that first navigation.
pub const SESSION: Cookie = Cookie {
    plain: "zaitaku_session",
    host_only: "__Host-zaitaku_session",
    same_site: "Lax",
};

/// The staff console's session. `Strict`: nothing outside the console links into it.
pub const CONSOLE: Cookie = Cookie {
    plain: "zaitaku_console",
    host_only: "__Host-zaitaku_console",
    same_site: "Strict",
};

/// A browser where a staff account completed a login (a remembered device): its
/// password attempts count apart from unknown browsers'. `Strict`, like the console.
pub const STAFF_DEVICE: Cookie = Cookie {
    plain: "zaitaku_staff_device",
    host_only: "__Host-zaitaku_staff_device",
    same_site: "Strict",
};

/// A browser enrolled as a device of one or more institutions: one random
/// secret, whose SHA-256 each enrolment stores. `Lax`, like the session: the
/// institution URL is opened from a link or a 2D code and must find it.
pub const DEVICE: Cookie = Cookie {
    plain: "zaitaku_device",
    host_only: "__Host-zaitaku_device",
    same_site: "Lax",
};

/// How long the device cookie lasts: about the longest browsers keep one (400 days).
pub const DEVICE_MAX_AGE_SECONDS: i64 = 400 * 24 * 60 * 60;

impl Cookie {
    fn name(&self, secure: bool) -> &'static str {
        if secure { self.host_only } else { self.plain }
    }

    /// The id the browser sent, if it looks like one of ours.
    pub fn read<'a>(&self, headers: &'a HeaderMap, secure: bool) -> Option<&'a str> {
        let name = self.name(secure);
        headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
            .filter(|v| random::is_id(v))
    }

    /// Sets the cookie to `id` for `max_age_seconds`.
    pub fn set(&self, response: &mut Response, secure: bool, id: &str, max_age_seconds: i64) {
        self.append(response, secure, id, max_age_seconds);
    }

    /// Tells the browser to forget the cookie.
    pub fn clear(&self, response: &mut Response, secure: bool) {
        self.append(response, secure, "", 0);
    }

    fn append(&self, response: &mut Response, secure: bool, value: &str, max_age: i64) {
        let secure_attr = if secure { "; Secure" } else { "" };
        let cookie = format!(
            "{}={value}; Path=/; HttpOnly; SameSite={}; Max-Age={max_age}{secure_attr}",
            self.name(secure),
            self.same_site,
        );
        if let Ok(value) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, HeaderValue::from_str(cookie).unwrap());
        h
    }

    #[test]
    fn only_our_ids_under_the_right_name_are_read() {
        let id = random::secret256();
        let h = headers(&format!("other=1; zaitaku_session={id}"));
        assert_eq!(SESSION.read(&h, false), Some(id.as_str()));
        assert_eq!(SESSION.read(&h, true), None, "https needs the __Host- name");
        assert_eq!(CONSOLE.read(&h, false), None);
        let h = headers("zaitaku_session=not-an-id");
        assert_eq!(SESSION.read(&h, false), None);
    }

    #[test]
    fn https_cookies_are_host_only_and_secure() {
        let mut response = Response::new(axum::body::Body::empty());
        CONSOLE.set(&mut response, true, "abc", 60);
        let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert!(set.starts_with("__Host-zaitaku_console=abc; Path=/; HttpOnly; SameSite=Strict"));
        assert!(set.ends_with("; Secure"), "{set}");
    }

    #[test]
    fn the_device_cookie_is_lax_and_lasts_about_400_days() {
        let mut response = Response::new(axum::body::Body::empty());
        DEVICE.set(&mut response, true, "abc", DEVICE_MAX_AGE_SECONDS);
        let set = response.headers()[header::SET_COOKIE].to_str().unwrap();
        assert_eq!(
            set,
            "__Host-zaitaku_device=abc; Path=/; HttpOnly; SameSite=Lax; Max-Age=34560000; Secure"
        );
        let id = random::secret256();
        let h = headers(&format!("__Host-zaitaku_device={id}"));
        assert_eq!(DEVICE.read(&h, true), Some(id.as_str()));
        assert_eq!(SESSION.read(&h, true), None);
    }
}
