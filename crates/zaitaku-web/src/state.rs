use std::collections::BTreeSet;
use std::path::PathBuf;
use std::sync::{Arc, PoisonError, RwLock};
use zaitaku_card::{Origin, Validator};
use zaitaku_store::Store;

/// What every handler can reach. Holds no flow state: that is all in the store.
#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub validator: ValidatorHandle,
    /// The origin browsers see; tokens must be signed for exactly this origin.
    pub origin: Origin,
    /// Present in demo mode only; the demo routes do not exist otherwise.
    pub demo: Option<Arc<DemoSetup>>,
    pub lifetimes: Lifetimes,
    /// The pages of this process waiting on a flow's authentication.
    pub wakeups: crate::Wakeups,
    /// The caps and rates of this process (`Guards::default()`: the README's defaults).
    pub guards: crate::Guards,
    /// This process's counters, read by `/metrics` and the console's status page.
    pub metrics: crate::Metrics,
}

/// The validator in use. `zaitaku serve` swaps in a new one when trust anchors or
/// CRLs change; a check in progress keeps the one it started with.
///
/// It also knows which of its anchors came from the database (fingerprints):
/// a token under one of them is accepted only while the anchor is still stored
/// (one look-up per token), so `admin trust remove` stops its cards at once on
/// every process, before the next reload.
#[derive(Clone)]
pub struct ValidatorHandle(Arc<RwLock<Trusted>>);

#[derive(Clone)]
struct Trusted {
    validator: Arc<Validator>,
    stored_anchors: Arc<BTreeSet<String>>,
}

impl ValidatorHandle {
    /// A validator whose anchors were all given directly (none from the database).
    pub fn new(validator: Validator) -> Self {
        Self::with_stored_anchors(validator, BTreeSet::new())
    }

    /// A validator some of whose anchors, by these fingerprints, came from the database.
    pub fn with_stored_anchors(validator: Validator, stored_anchors: BTreeSet<String>) -> Self {
        ValidatorHandle(Arc::new(RwLock::new(Trusted {
            validator: Arc::new(validator),
            stored_anchors: Arc::new(stored_anchors),
        })))
    }

    pub fn current(&self) -> Arc<Validator> {
        Arc::clone(&self.read().validator)
    }

    /// Whether the anchor with this fingerprint came from the database.
    pub fn is_stored_anchor(&self, fingerprint: &str) -> bool {
        self.read().stored_anchors.contains(fingerprint)
    }

    pub fn replace(&self, validator: Validator, stored_anchors: BTreeSet<String>) {
        *self.0.write().unwrap_or_else(PoisonError::into_inner) = Trusted {
            validator: Arc::new(validator),
            stored_anchors: Arc::new(stored_anchors),
        };
    }

    fn read(&self) -> Trusted {
        // The lock guards a swap of two pointers only; a poisoned one still holds a whole value.
        self.0
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// How long things live. The defaults are the product's; tests shorten them.
#[derive(Debug, Clone, Copy)]
pub struct Lifetimes {
    /// A patient-side browser session: a visiting day; it never outlives it.
    pub session: time::Duration,
    /// A flow left alone this long is over; each step renews it.
    pub flow: time::Duration,
    /// Web eID's bound: a challenge is good for five minutes.
    pub challenge: time::Duration,
    /// A console session unused this long is over.
    pub console_idle: time::Duration,
    /// A console session is over this long after login, used or not.
    pub console_absolute: time::Duration,
    /// How long wrong codes lock a console account (`console::login::lockout`).
    pub lockout: time::Duration,
    /// How long a finished flow's page (資格情報, the consent) is shown after it
    /// finished; 「閉じる」 ends it sooner. Less is left on a shared device.
    pub result: time::Duration,
}

impl Default for Lifetimes {
    fn default() -> Self {
        Lifetimes {
            session: time::Duration::hours(8),
            flow: time::Duration::minutes(30),
            challenge: time::Duration::minutes(5),
            console_idle: time::Duration::minutes(30),
            console_absolute: time::Duration::hours(12),
            lockout: time::Duration::minutes(15),
            result: time::Duration::minutes(10),
        }
    }
}

impl AppState {
    /// Cookies are `Secure` (and `__Host-`) whenever the service is on https.
    pub fn secure_cookies(&self) -> bool {
        self.origin.as_str().starts_with("https://")
    }

    /// The institution's URL at the public origin: what its 2D code carries.
    pub fn institution_url(&self, institution: &zaitaku_domain::Institution) -> String {
        format!(
            "{}/i/{}",
            self.origin.as_str(),
            institution.url_token.as_str()
        )
    }
}

/// The demo's virtual cards, offered by the demo card reader.
#[derive(Debug, Clone)]
pub struct DemoSetup {
    pub cards: Vec<DemoCard>,
    /// Console logins the demo made; shown on the demo index with their current code.
    pub staff: Vec<DemoStaffLogin>,
}

/// A demo console account. Shown openly: it is a demo, like the cards' PINs.
#[derive(Debug, Clone)]
pub struct DemoStaffLogin {
    pub institution_name: String,
    pub login: String,
    pub password: String,
    /// Base32, as authenticator apps take it.
    pub totp_secret: String,
}

#[derive(Debug, Clone)]
pub struct DemoCard {
    /// Short stable name used in forms, e.g. `yamada`.
    pub id: String,
    /// Who it belongs to and what it shows, e.g. 「山田 太郎（有効・3割）」.
    pub label: String,
    /// Shown on the demo index: demo cards are not secrets.
    pub pin: String,
    pub path: PathBuf,
}

impl DemoSetup {
    pub fn card(&self, id: &str) -> Option<&DemoCard> {
        self.cards.iter().find(|c| c.id == id)
    }
}
