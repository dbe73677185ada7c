//! Everything the window says, in Japanese: one place for the wording.

use crate::model::{CardProblem, Readers, Refusal};

pub const TITLE: &str = "マイナンバーカードによる本人確認";
pub const ASKS: &str = "次のサイトからの本人確認の依頼です";
pub const INSTITUTION: &str = "医療機関";
pub const PURPOSE: &str = "目的";
pub const MATCHING_CODE: &str = "照合番号";
pub const MATCHING_CODE_HINT: &str = "元の画面の照合番号と同じであることを確かめてください。";

pub const FETCHING: &str = "依頼の内容を確認しています…";
pub const PLACE_CARD: &str = "マイナンバーカードをカードリーダーに置いてください。";
pub const READERS: &str = "接続されているカードリーダー";
pub const NO_SERVICE: &str =
    "カードリーダーのサービス（PC/SC）が動いていません。パソコンの管理者に連絡してください。";
pub const NO_READER: &str =
    "カードリーダーが接続されていません。カードリーダーをパソコンにつないでください。";
pub const READER_TROUBLE: &str = "カードリーダーを使えません。";
pub const READING: &str = "カードを読み取っています。カードを動かさないでください。";

pub const PIN_PROMPT: &str = "利用者証明用電子証明書の暗証番号（数字4桁）を入力してください。";
pub const PIN_BY_PATIENT: &str = "暗証番号は患者ご自身で入力してください。";
pub const LAST_TRY: &str = "残り1回です。次に間違えるとカードがロックされ、市区町村の窓口で暗証番号の再設定を受けるまで使えなくなります。";
pub const WORKING: &str = "カードで署名し、送信しています…";
pub const CANCELLING: &str = "キャンセルしています…";

pub const SUCCESS: &str = "本人確認が完了しました。";
pub const SUCCESS_NEXT: &str = "元の画面にお戻りください。この画面は自動的に閉じます。";
pub const BLOCKED: &str = "暗証番号がロックされています。";
pub const BLOCKED_MEANS: &str = "暗証番号を3回続けて間違えたため、このカードでは本人確認ができません。暗証番号は入力していません（入力しても使えません）。お住まいの市区町村の窓口で暗証番号の再設定を受けてください。";
pub const CANCELLED: &str = "キャンセルしました。元の画面から、もう一度やり直せます。";
pub const PAGE_TOLD: &str = "元の画面にもお知らせしました。";
pub const PAGE_NOT_TOLD: &str = "元の画面にはお知らせできませんでした。";

pub const CANCEL: &str = "キャンセル";
pub const RETRY: &str = "もう一度";
pub const CLOSE: &str = "閉じる";
pub const ERASE: &str = "消す";
pub const ENTER: &str = "決定";
pub const DETAILS: &str = "詳細";

pub fn tries_left(n: u8) -> String {
    format!("暗証番号の残り回数: {n}回")
}

pub fn pin_field(typed: usize) -> String {
    format!("暗証番号 {typed}桁入力済み（4桁）")
}

/// What the waiting screen says; and English details where the reader gave any.
pub fn readers(readers: &Readers) -> (&'static str, Option<&str>) {
    match readers {
        Readers::Unknown | Readers::Waiting(_) => (PLACE_CARD, None),
        Readers::ServiceNotRunning => (NO_SERVICE, None),
        Readers::NoReader => (NO_READER, None),
        Readers::Trouble(details) => (READER_TROUBLE, Some(details)),
    }
}

pub fn card_problem(problem: &CardProblem) -> (String, Option<&str>) {
    match problem {
        CardProblem::WrongPin { tries_left } => (
            format!("暗証番号が違います。残り{tries_left}回です。"),
            None,
        ),
        CardProblem::CardRemoved => (
            "カードが外されました。カードをカードリーダーに置いて、もう一度お試しください。".into(),
            None,
        ),
        CardProblem::NotMyNumberCard => (
            "このカードはマイナンバーカードではないか、読み取れません。マイナンバーカードを置いてください。".into(),
            None,
        ),
        CardProblem::Other(details) => ("カードを読み取れませんでした。".into(), Some(details)),
    }
}

pub fn refusal(refusal: &Refusal) -> (String, Option<&str>) {
    let again = "元の画面で最初からやり直してください。";
    match refusal {
        Refusal::Expired => (format!("この依頼は有効期限（5分）が切れました。{again}"), None),
        Refusal::AlreadyUsed => (format!("この依頼はすでに使われています。{again}"), None),
        Refusal::AlreadyClaimed => (
            format!("この依頼は別の端末が読み取りを始めています。{again}"),
            None,
        ),
        Refusal::UnknownChallenge => (format!("この依頼は見つかりません。{again}"), None),
        Refusal::Rejected(code) => (rejection(code), None),
        Refusal::Unreachable(details) => (
            "サーバーと通信できませんでした。ネットワークを確かめて、元の画面でやり直してください。".into(),
            Some(details),
        ),
    }
}

/// The server's refusal of a card it checked (docs/auth-protocol.md's codes).
fn rejection(code: &str) -> String {
    let said = match code {
        "not_registered" => "このマイナンバーカードは健康保険証としての利用登録がされていません。",
        "qualification_lost" => "健康保険の資格が有効ではありません（資格喪失）。",
        "qualification_not_found" => "健康保険の資格情報が見つかりませんでした。",
        "certificate_expired" => {
            "カードの利用者証明用電子証明書の有効期限が切れています。市区町村の窓口で更新してください。"
        }
        "certificate_revoked" => "カードの利用者証明用電子証明書は失効しています。",
        _ => "このカードによる本人確認ができませんでした。",
    };
    format!("{said}（コード: {code}）")
}
