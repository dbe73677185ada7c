//! A small HTTP/1.1 client over a tokio socket: one request per connection,
//! redirects not followed, cookies kept like a browser would (by name).

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A challenge as the authenticator that claimed it holds it: the path to
/// answer on (`/auth/{ref}`) and the claim its fetch got, which goes back in
/// the `Authorization` header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimed {
    pub path: String,
    pub claim: String,
}

impl Claimed {
    /// Where the same authenticator reports an error (`/auth/{ref}/error`).
    pub fn error(&self) -> Claimed {
        Claimed {
            path: format!("{}/error", self.path),
            claim: self.claim.clone(),
        }
    }

    /// Another path with the same claim.
    pub fn with_path(&self, path: &str) -> Claimed {
        Claimed {
            path: path.to_owned(),
            claim: self.claim.clone(),
        }
    }

    /// The same path with another claim.
    pub fn with_claim(&self, claim: &str) -> Claimed {
        Claimed {
            path: self.path.clone(),
            claim: claim.to_owned(),
        }
    }

    pub fn authorization(&self) -> String {
        zaitaku_card::protocol::claim_authorization(&self.claim)
    }
}

pub struct Client {
    host: String,
    /// Name and value of each cookie set.
    cookies: Vec<(String, String)>,
}

#[derive(Debug)]
pub struct Response {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: String,
    /// The body as sent, for images.
    pub bytes: Vec<u8>,
}

impl Response {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    pub fn location(&self) -> &str {
        self.header("location").expect("a redirect")
    }

    /// The value of the first `<input … name="NAME" value="…">` on the page.
    pub fn input(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self
            .body
            .find(&marker)
            .unwrap_or_else(|| panic!("no input {name} in {}", self.body))
            + marker.len();
        let end = self.body[start..].find('"').unwrap() + start;
        unescape(&self.body[start..end])
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).expect("a JSON body")
    }
}

fn unescape(text: &str) -> String {
    text.replace("&#x3d;", "=")
        .replace("&#61;", "=")
        .replace("&#x3b;", ";")
        .replace("&#59;", ";")
        .replace("&#x2c;", ",")
        .replace("&#44;", ",")
        .replace("&quot;", "\"")
        .replace("&#x27;", "'")
        .replace("&#39;", "'")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&amp;", "&")
}

pub fn form_encode(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| {
        let mut out = String::new();
        for b in s.bytes() {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                out.push(b as char);
            } else {
                out.push_str(&format!("%{b:02X}"));
            }
        }
        out
    };
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

/// The enrolled device's cookie (`zaitaku_device`; `__Host-zaitaku_device` on https).
pub const DEVICE_COOKIE: &str = "zaitaku_device";

impl Client {
    pub fn new(base: &str) -> Client {
        Client {
            host: base.trim_start_matches("http://").to_owned(),
            cookies: Vec::new(),
        }
    }

    /// A second browser: same server, no session cookie. It is an enrolled
    /// device where this one is (the kit's device cookie is kept); a browser
    /// that is no institution's device is [`Client::stranger`].
    pub fn fresh(&self) -> Client {
        Client {
            host: self.host.clone(),
            cookies: self
                .cookies
                .iter()
                .filter(|(name, _)| name.ends_with(DEVICE_COOKIE))
                .cloned()
                .collect(),
        }
    }

    /// A browser with no cookie at all: no institution's enrolled device.
    pub fn stranger(&self) -> Client {
        Client {
            host: self.host.clone(),
            cookies: Vec::new(),
        }
    }

    /// The same browser holding `secret` as its device cookie (both names:
    /// plain http and `__Host-` on https origins).
    pub fn with_device(mut self, secret: &str) -> Client {
        self.cookies
            .retain(|(name, _)| !name.ends_with(DEVICE_COOKIE));
        for name in [DEVICE_COOKIE.to_owned(), format!("__Host-{DEVICE_COOKIE}")] {
            self.cookies.push((name, secret.to_owned()));
        }
        self
    }

    /// The same browser without its device cookie (console and session kept).
    pub fn without_device(mut self) -> Client {
        self.cookies
            .retain(|(name, _)| !name.ends_with(DEVICE_COOKIE));
        self
    }

    /// The device cookie's value, if the browser has one.
    pub fn device_secret(&self) -> Option<String> {
        self.cookies
            .iter()
            .find(|(name, _)| name == DEVICE_COOKIE || name == &format!("__Host-{DEVICE_COOKIE}"))
            .map(|(_, value)| value.clone())
    }

    /// Another tab of the same browser: same cookie.
    pub fn fresh_with_cookies(&self) -> Client {
        Client {
            host: self.host.clone(),
            cookies: self.cookies.clone(),
        }
    }

    pub async fn get(&mut self, path: &str) -> Response {
        self.request("GET", path, None, b"", &[]).await
    }

    pub async fn get_json(&mut self, path: &str) -> Response {
        self.request("GET", path, None, b"", &[("Accept", "application/json")])
            .await
    }

    pub async fn post_form(&mut self, path: &str, pairs: &[(&str, &str)]) -> Response {
        let body = form_encode(pairs);
        self.request(
            "POST",
            path,
            Some("application/x-www-form-urlencoded"),
            body.as_bytes(),
            &[],
        )
        .await
    }

    pub async fn post_json(&mut self, path: &str, body: &str) -> Response {
        self.request("POST", path, Some("application/json"), body.as_bytes(), &[])
            .await
    }

    /// `POST` as the authenticator holding `at`'s claim: in the `Authorization` header.
    pub async fn post_claimed(&mut self, at: &Claimed, body: &str) -> Response {
        let credential = at.authorization();
        let headers = [("Authorization", credential.as_str())];
        self.request(
            "POST",
            &at.path,
            Some("application/json"),
            body.as_bytes(),
            &headers,
        )
        .await
    }

    /// `GET` (JSON) as the authenticator holding `at`'s claim: a retry of its fetch.
    pub async fn get_claimed(&mut self, at: &Claimed) -> Response {
        let credential = at.authorization();
        let headers = [
            ("Accept", "application/json"),
            ("Authorization", credential.as_str()),
        ];
        self.request("GET", &at.path, None, b"", &headers).await
    }

    pub async fn request(
        &mut self,
        method: &str,
        path: &str,
        content_type: Option<&str>,
        body: &[u8],
        extra: &[(&str, &str)],
    ) -> Response {
        let mut stream = TcpStream::connect(&self.host).await.unwrap();
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: {}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.host,
            body.len()
        );
        if let Some(ct) = content_type {
            head.push_str(&format!("Content-Type: {ct}\r\n"));
        }
        if !self.cookies.is_empty() {
            let pairs: Vec<String> = self
                .cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect();
            head.push_str(&format!("Cookie: {}\r\n", pairs.join("; ")));
        }
        for (k, v) in extra {
            head.push_str(&format!("{k}: {v}\r\n"));
        }
        head.push_str("\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        stream.write_all(body).await.unwrap();
        let mut raw = Vec::new();
        stream.read_to_end(&mut raw).await.unwrap();
        let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
        let head = String::from_utf8(raw[..split].to_vec()).unwrap();
        let mut body = raw[split + 4..].to_vec();
        let mut lines = head.split("\r\n");
        let status: u16 = lines
            .next()
            .unwrap()
            .split(' ')
            .nth(1)
            .unwrap()
            .parse()
            .unwrap();
        let headers: Vec<(String, String)> = lines
            .filter_map(|l| l.split_once(':'))
            .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
            .collect();
        let chunked = headers.iter().any(|(k, v)| {
            k.eq_ignore_ascii_case("transfer-encoding") && v.eq_ignore_ascii_case("chunked")
        });
        if chunked {
            body = dechunk(&body);
        }
        for (k, v) in &headers {
            if k.eq_ignore_ascii_case("set-cookie") {
                self.keep_cookie(v);
            }
        }
        Response {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
            bytes: body,
        }
    }
}

impl Client {
    /// A `Set-Cookie` header: replaces the cookie of that name, or forgets it
    /// when emptied (`Max-Age=0`).
    fn keep_cookie(&mut self, header: &str) {
        let Some((name, value)) = header.split(';').next().and_then(|p| p.split_once('=')) else {
            return;
        };
        let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
        let expired = header
            .split(';')
            .any(|a| a.trim().eq_ignore_ascii_case("max-age=0"));
        self.cookies.retain(|(k, _)| *k != name);
        if !value.is_empty() && !expired {
            self.cookies.push((name, value));
        }
    }
}

fn dechunk(mut data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let line_end = data.windows(2).position(|w| w == b"\r\n").unwrap();
        let size_text = std::str::from_utf8(&data[..line_end]).unwrap();
        let size = usize::from_str_radix(size_text.split(';').next().unwrap().trim(), 16).unwrap();
        data = &data[line_end + 2..];
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size + 2..];
    }
}

impl Client {
    /// The same browser (cookie kept) talking to a restarted server.
    pub fn moved_to(self, base: &str) -> Client {
        Client {
            host: base.trim_start_matches("http://").to_owned(),
            cookies: self.cookies,
        }
    }
}
