//! Plain HTTP with cookies, as a patient's or the staff's browser, and flow A
//! walked with it up to the card. Institutions let only their enrolled devices
//! start flows: a staff browser is enrolled first, by the demo index
//! ([`Browser::demo_device`]) or an activation code ([`Browser::enrol`]).

/// Plain HTTP with cookies (kept by name), following no redirect.
pub struct Browser {
    agent: ureq::Agent,
    base: String,
    /// `name=value` of each cookie set.
    cookies: Vec<(String, String)>,
}

/// One answer: its status, where it redirects, its body.
pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub body: String,
}

impl Page {
    /// The value of the form field `name`.
    pub fn input(&self, name: &str) -> String {
        input(&self.body, name)
    }

    pub fn location(&self) -> &str {
        self.location.as_deref().expect("a redirect")
    }
}

/// The value of the form field `name` in `body`, unescaped.
pub fn input(body: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = body.find(&marker).unwrap_or_else(|| panic!("no {name}")) + marker.len();
    let end = body[start..].find('"').unwrap() + start;
    body[start..end]
        .replace("&#x3d;", "=")
        .replace("&#61;", "=")
        .replace("&#x3b;", ";")
        .replace("&#59;", ";")
        .replace("&#x2c;", ",")
        .replace("&#44;", ",")
}

impl Browser {
    pub fn new(base: &str) -> Browser {
        let agent = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .build()
            .new_agent();
        Browser {
            agent,
            base: base.to_owned(),
            cookies: Vec::new(),
        }
    }

    /// A browser at a running demo, enrolled as a device of every demo
    /// institution by opening the demo index, as a visitor does first.
    pub fn demo_device(base: &str) -> Browser {
        let mut browser = Browser::new(base);
        let index = browser.get("/");
        assert_eq!(index.status, 200, "{}", index.body);
        assert!(
            index.body.contains("端末として登録しました"),
            "the demo index enrols the browser: {}",
            index.body
        );
        browser
    }

    /// Enrol this browser with a one-time activation code (`zaitaku admin
    /// device add` prints one), typed at `/device`.
    pub fn enrol(&mut self, code: &str) {
        let form = self.get("/device");
        assert_eq!(form.status, 200, "{}", form.body);
        let csrf = form.input("csrf");
        let done = self.post("/device", &[("csrf", &csrf), ("code", code)]);
        assert_eq!(done.status, 200, "{}", done.body);
        assert!(
            done.body.contains("この端末を登録しました"),
            "{}",
            done.body
        );
    }

    /// The cookies (`name=value; …`) the server set, if any.
    pub fn cookie(&self) -> Option<String> {
        (!self.cookies.is_empty()).then(|| {
            self.cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ")
        })
    }

    fn finish(&mut self, response: ureq::http::Response<ureq::Body>) -> Page {
        for header in response.headers().get_all("set-cookie") {
            let text = header.to_str().unwrap();
            let Some((name, value)) = text.split(';').next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let (name, value) = (name.trim().to_owned(), value.trim().to_owned());
            self.cookies.retain(|(k, _)| *k != name);
            if !value.is_empty() && !text.contains("Max-Age=0") {
                self.cookies.push((name, value));
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().unwrap().to_owned());
        let body = response.into_body().read_to_string().unwrap();
        Page {
            status,
            location,
            body,
        }
    }

    pub fn get(&mut self, path: &str) -> Page {
        let mut request = self.agent.get(format!("{}{path}", self.base));
        if let Some(c) = self.cookie() {
            request = request.header("Cookie", c);
        }
        let response = request.call().unwrap();
        self.finish(response)
    }

    pub fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Page {
        let mut request = self.agent.post(format!("{}{path}", self.base));
        if let Some(c) = self.cookie() {
            request = request.header("Cookie", c);
        }
        let response = request.send_form(form.iter().copied()).unwrap();
        self.finish(response)
    }
}

/// Start flow A at `institution` and stop at the authentication step; returns
/// the flow path and the authentication link the page shows.
pub fn until_authentication(browser: &mut Browser, institution: &str) -> (String, String) {
    let prepare = browser.get(institution);
    assert!(prepare.body.contains("同意登録をする"));
    let csrf = input(&prepare.body, "csrf");
    let started = browser.post(&format!("{institution}/registration"), &[("csrf", &csrf)]);
    let select = started.location.unwrap();
    let flow = select.trim_end_matches("/select").to_owned();
    let page = browser.get(&select);
    let mut answers = vec![
        ("csrf", csrf.as_str()),
        ("YZK", "1"),
        ("SRJ", "1"),
        ("TKK", "0"),
    ];
    if page.body.contains("prescription_form") {
        answers.push(("prescription_form", "2"));
    }
    assert_eq!(browser.post(&select, &answers).status, 303);
    let confirm = browser.get(&format!("{flow}/confirm"));
    let choices = input(&confirm.body, "choices");
    let confirmed = browser.post(
        &format!("{flow}/confirm"),
        &[("csrf", &csrf), ("choices", &choices)],
    );
    assert_eq!(confirmed.status, 303);
    let auth = browser.get(&format!("{flow}/authenticate"));
    let start = auth.body.find("<code>http").unwrap() + "<code>".len();
    let end = auth.body[start..].find('<').unwrap() + start;
    (flow, auth.body[start..end].to_owned())
}
