//! The window's state: which step shows, and what the user's input asks of the
//! worker. No drawing here, so every transition is tested without a display.

use std::time::{Duration, Instant};
use zaitaku_card::Pin;

/// A My Number card's user-authentication PIN.
pub const PIN_DIGITS: usize = 4;

/// Long enough to read 「完了しました」, short enough not to be closed by hand.
pub const CLOSE_AFTER_SUCCESS: Duration = Duration::from_secs(4);

/// Who asks, and why: shown before anything is read from the card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    /// The site's host, shown large: the patient and staff check which site asks.
    pub host: String,
    pub origin: String,
    pub institution: String,
    /// 同意登録 / 同意内容の照会 / 同意内容の更新 / すべての同意の取消し
    pub purpose: String,
    /// The page shows the same digits.
    pub matching_code: String,
}

/// What the PC/SC side says while the app waits for a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Readers {
    /// Not asked yet.
    Unknown,
    ServiceNotRunning,
    NoReader,
    /// The connected readers; none holds a usable card yet.
    Waiting(Vec<String>),
    /// The reader reported something else (in English, for the details line).
    Trouble(String),
}

/// Why the card gave no token, when another try may work.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CardProblem {
    WrongPin {
        tries_left: u8,
    },
    CardRemoved,
    NotMyNumberCard,
    /// Anything else the card or reader said (in English, for the details line).
    Other(String),
}

/// Why the authentication ended without success, for good.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// The link's challenge has expired (5 minutes).
    Expired,
    /// Already answered, or another authenticator has it.
    AlreadyUsed,
    AlreadyClaimed,
    UnknownChallenge,
    /// The server checked the card and refused it: the protocol's code.
    Rejected(String),
    /// The server could not be reached or answered nonsense (English details).
    Unreachable(String),
}

/// What the worker thread reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WorkerEvent {
    ChallengeReady(Request),
    Readers(Readers),
    CardFound,
    /// Before the PIN is asked for; not sent for a blocked card.
    TriesLeft(u8),
    PinWanted,
    CardProblem(CardProblem),
    /// The card is blocked; no PIN was (or will be) sent. Whether the page was told.
    Blocked {
        page_told: bool,
    },
    Accepted,
    Refused(Refusal),
    Cancelled {
        page_told: bool,
    },
}

impl WorkerEvent {
    /// The worker's last word: the authentication has ended.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            WorkerEvent::Blocked { .. }
                | WorkerEvent::Accepted
                | WorkerEvent::Refused(_)
                | WorkerEvent::Cancelled { .. }
        )
    }
}

/// What the window asks of the worker.
#[derive(Debug)]
pub enum Control {
    Pin(Pin),
    Retry,
    Cancel,
}

/// The user's input, from the keyboard, the keypad buttons or the mouse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    Digit(u8),
    Backspace,
    Submit,
    Retry,
    Cancel,
    Close,
}

/// What the window must do after an input.
#[derive(Debug)]
pub enum Command {
    Worker(Control),
    Close,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    /// Fetching the challenge behind the link.
    Fetching,
    FindingCard(Readers),
    ReadingCard,
    Pin {
        digits: String,
    },
    /// Signing, then sending the token.
    Working,
    /// Another try may work: 「もう一度」 or 「キャンセル」.
    Problem(CardProblem),
    Success {
        close_at: Instant,
    },
    Blocked {
        page_told: bool,
    },
    Refused(Refusal),
    Cancelling,
    Cancelled {
        page_told: bool,
    },
}

#[derive(Debug)]
pub struct Model {
    pub request: Option<Request>,
    pub step: Step,
    /// The card's PIN tries left, once read.
    pub tries_left: Option<u8>,
}

impl Default for Model {
    fn default() -> Self {
        Model {
            request: None,
            step: Step::Fetching,
            tries_left: None,
        }
    }
}

impl Model {
    pub fn on_worker(&mut self, event: WorkerEvent, now: Instant) {
        // A cancel the user asked for wins over the worker's progress, not over its end.
        if self.step == Step::Cancelling && !event.is_final() {
            if let WorkerEvent::ChallengeReady(request) = event {
                self.request = Some(request);
            }
            return;
        }
        self.step = match event {
            WorkerEvent::ChallengeReady(request) => {
                self.request = Some(request);
                Step::FindingCard(Readers::Unknown)
            }
            WorkerEvent::Readers(readers) => Step::FindingCard(readers),
            WorkerEvent::CardFound => Step::ReadingCard,
            WorkerEvent::TriesLeft(n) => {
                self.tries_left = Some(n);
                return;
            }
            WorkerEvent::PinWanted => Step::Pin {
                digits: String::new(),
            },
            WorkerEvent::CardProblem(problem) => {
                if let CardProblem::WrongPin { tries_left } = problem {
                    self.tries_left = Some(tries_left);
                }
                Step::Problem(problem)
            }
            WorkerEvent::Blocked { page_told } => {
                self.tries_left = Some(0);
                Step::Blocked { page_told }
            }
            WorkerEvent::Accepted => Step::Success {
                close_at: now + CLOSE_AFTER_SUCCESS,
            },
            WorkerEvent::Refused(refusal) => Step::Refused(refusal),
            WorkerEvent::Cancelled { page_told } => Step::Cancelled { page_told },
        };
    }

    pub fn on_input(&mut self, input: Input) -> Option<Command> {
        match (&mut self.step, input) {
            (Step::Pin { digits }, Input::Digit(d)) if d <= 9 && digits.len() < PIN_DIGITS => {
                digits.push(char::from(b'0' + d));
                None
            }
            (Step::Pin { digits }, Input::Backspace) => {
                digits.pop();
                None
            }
            (Step::Pin { digits }, Input::Submit) if digits.len() == PIN_DIGITS => {
                let pin = Pin::parse(digits).ok()?;
                digits.clear();
                self.step = Step::Working;
                Some(Command::Worker(Control::Pin(pin)))
            }
            (Step::Problem(_), Input::Retry | Input::Submit) => {
                self.step = Step::FindingCard(Readers::Unknown);
                Some(Command::Worker(Control::Retry))
            }
            (
                Step::Fetching
                | Step::FindingCard(_)
                | Step::ReadingCard
                | Step::Pin { .. }
                | Step::Problem(_),
                Input::Cancel,
            ) => {
                self.step = Step::Cancelling;
                Some(Command::Worker(Control::Cancel))
            }
            (
                Step::Success { .. }
                | Step::Blocked { .. }
                | Step::Refused(_)
                | Step::Cancelled { .. },
                Input::Close | Input::Cancel | Input::Submit,
            ) => Some(Command::Close),
            _ => None,
        }
    }

    /// Whether the window closes itself now (a few seconds after success).
    pub fn closes_by_itself(&self, now: Instant) -> bool {
        matches!(self.step, Step::Success { close_at } if now >= close_at)
    }

    /// The one try left before the card locks: warn before the PIN is typed.
    pub fn last_try(&self) -> bool {
        self.tries_left == Some(1)
    }

    /// Whether the user can still cancel (not while signing or sending, nor after the end).
    pub fn can_cancel(&self) -> bool {
        matches!(
            self.step,
            Step::Fetching
                | Step::FindingCard(_)
                | Step::ReadingCard
                | Step::Pin { .. }
                | Step::Problem(_)
        )
    }

    /// The step in one English line for the log (standard error): what a support
    /// person or a test needs, never the PIN or the link.
    pub fn progress(&self) -> String {
        match &self.step {
            Step::Fetching => "fetching the challenge".into(),
            Step::FindingCard(Readers::ServiceNotRunning) => {
                "waiting for a card: the PC/SC service is not running".into()
            }
            Step::FindingCard(Readers::NoReader) => "waiting for a card: no reader".into(),
            Step::FindingCard(Readers::Trouble(why)) => format!("waiting for a card: {why}"),
            Step::FindingCard(_) => "waiting for a card".into(),
            Step::ReadingCard => "reading the card".into(),
            Step::Pin { .. } => format!(
                "waiting for the PIN ({} tries left)",
                self.tries_left.unwrap_or_default()
            ),
            Step::Working => "signing and sending the token".into(),
            Step::Problem(problem) => format!("card problem: {problem:?}"),
            Step::Success { .. } => "accepted".into(),
            Step::Blocked { page_told } => format!("PIN blocked (page told: {page_told})"),
            Step::Refused(refusal) => format!("refused: {refusal:?}"),
            Step::Cancelling => "cancelling".into(),
            Step::Cancelled { page_told } => format!("cancelled (page told: {page_told})"),
        }
    }

    /// Whether the authentication has ended and the window only waits to be closed.
    pub fn finished(&self) -> bool {
        matches!(
            self.step,
            Step::Success { .. } | Step::Blocked { .. } | Step::Refused(_) | Step::Cancelled { .. }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> Request {
        Request {
            host: "zaitaku.example.jp".into(),
            origin: "https://zaitaku.example.jp".into(),
            institution: "在宅ひまわりクリニック".into(),
            purpose: "同意登録".into(),
            matching_code: "0427".into(),
        }
    }

    /// A model at the PIN step with `tries` tries left.
    fn at_pin(tries: u8) -> Model {
        let now = Instant::now();
        let mut model = Model::default();
        model.on_worker(WorkerEvent::ChallengeReady(request()), now);
        model.on_worker(WorkerEvent::CardFound, now);
        model.on_worker(WorkerEvent::TriesLeft(tries), now);
        model.on_worker(WorkerEvent::PinWanted, now);
        model
    }

    fn typed(model: &Model) -> &str {
        match &model.step {
            Step::Pin { digits } => digits,
            other => panic!("not at the PIN: {other:?}"),
        }
    }

    #[test]
    fn the_request_is_shown_before_the_card_is_read() {
        let mut model = Model::default();
        assert_eq!(model.step, Step::Fetching);
        model.on_worker(WorkerEvent::ChallengeReady(request()), Instant::now());
        assert_eq!(model.request, Some(request()));
        assert_eq!(model.step, Step::FindingCard(Readers::Unknown));
        model.on_worker(
            WorkerEvent::Readers(Readers::ServiceNotRunning),
            Instant::now(),
        );
        assert_eq!(model.step, Step::FindingCard(Readers::ServiceNotRunning));
        assert!(model.can_cancel());
    }

    #[test]
    fn the_pin_takes_four_digits_and_nothing_else() {
        let mut model = at_pin(3);
        assert!(!model.last_try());
        for d in [1, 2, 3] {
            assert!(model.on_input(Input::Digit(d)).is_none());
        }
        assert!(
            model.on_input(Input::Submit).is_none(),
            "three digits are not a PIN"
        );
        assert!(model.on_input(Input::Digit(10)).is_none());
        assert_eq!(typed(&model), "123");
        model.on_input(Input::Digit(4));
        model.on_input(Input::Digit(5));
        assert_eq!(typed(&model), "1234", "a fifth digit is dropped");
        model.on_input(Input::Backspace);
        model.on_input(Input::Digit(9));
        match model.on_input(Input::Submit) {
            Some(Command::Worker(Control::Pin(pin))) => {
                assert_eq!(pin, Pin::parse("1239").unwrap())
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(model.step, Step::Working);
        assert!(!model.can_cancel(), "too late once the card signs");
        assert!(model.on_input(Input::Cancel).is_none());
    }

    #[test]
    fn one_try_left_is_warned_about() {
        let model = at_pin(1);
        assert!(model.last_try());
    }

    #[test]
    fn a_wrong_pin_can_be_tried_again_with_the_tries_left_shown() {
        let mut model = at_pin(3);
        model.on_worker(
            WorkerEvent::CardProblem(CardProblem::WrongPin { tries_left: 1 }),
            Instant::now(),
        );
        assert!(model.last_try());
        assert!(matches!(
            model.on_input(Input::Retry),
            Some(Command::Worker(Control::Retry))
        ));
        assert_eq!(model.step, Step::FindingCard(Readers::Unknown));
    }

    #[test]
    fn a_blocked_card_never_reaches_the_pin_step() {
        let mut model = Model::default();
        model.on_worker(WorkerEvent::ChallengeReady(request()), Instant::now());
        model.on_worker(WorkerEvent::CardFound, Instant::now());
        model.on_worker(WorkerEvent::Blocked { page_told: true }, Instant::now());
        assert_eq!(model.step, Step::Blocked { page_told: true });
        assert_eq!(model.tries_left, Some(0));
        assert!(model.on_input(Input::Digit(1)).is_none());
        assert!(
            model
                .on_input(Input::Submit)
                .is_some_and(|c| matches!(c, Command::Close))
        );
    }

    #[test]
    fn cancel_is_told_to_the_worker_and_waits_for_its_report() {
        let mut model = at_pin(3);
        model.on_input(Input::Digit(1));
        assert!(matches!(
            model.on_input(Input::Cancel),
            Some(Command::Worker(Control::Cancel))
        ));
        assert_eq!(model.step, Step::Cancelling);
        // Progress the worker made meanwhile does not undo the cancel.
        model.on_worker(WorkerEvent::PinWanted, Instant::now());
        assert_eq!(model.step, Step::Cancelling);
        model.on_worker(WorkerEvent::Cancelled { page_told: true }, Instant::now());
        assert_eq!(model.step, Step::Cancelled { page_told: true });
        assert!(model.finished());
    }

    #[test]
    fn success_closes_the_window_a_few_seconds_later() {
        let mut model = at_pin(3);
        let now = Instant::now();
        model.on_worker(WorkerEvent::Accepted, now);
        assert!(!model.closes_by_itself(now));
        assert!(model.closes_by_itself(now + CLOSE_AFTER_SUCCESS));
        assert!(!model.can_cancel());
    }

    #[test]
    fn a_refusal_is_final() {
        let mut model = at_pin(3);
        model.on_worker(
            WorkerEvent::Refused(Refusal::Rejected("not_registered".into())),
            Instant::now(),
        );
        assert!(model.finished());
        assert!(!model.closes_by_itself(Instant::now() + CLOSE_AFTER_SUCCESS * 10));
        assert!(model.on_input(Input::Retry).is_none());
        assert!(matches!(model.on_input(Input::Close), Some(Command::Close)));
    }
}
