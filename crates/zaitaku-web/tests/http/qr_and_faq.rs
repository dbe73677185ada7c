//! The institution URL as a 2D code (decoded for real from the served SVG), and
//! the FAQ page with its footer link on every screen.

use crate::common;

use common::qr::{Bitmap, attribute};
use common::{Kit, Options, Response};

/// A page every screen shares: strict policy, no inline style or script, and
/// the footer link to the FAQ.
fn assert_frame(page: &Response) {
    let csp = page.header("content-security-policy").expect("a CSP");
    assert!(
        csp.contains("default-src 'none'")
            && csp.contains("img-src 'self'")
            && csp.contains("style-src 'self'")
            && !csp.contains("unsafe-inline"),
        "{csp}"
    );
    assert!(!page.body.contains("style="), "no inline style");
    assert!(!page.body.contains("<style"), "no style element");
    assert!(!page.body.contains("<script>"), "no inline script");
    assert!(
        page.body
            .contains(r#"<a class="site-footer__link" href="/faq">よくあるご質問</a>"#),
        "the footer links to the FAQ"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_2d_code_decodes_to_the_institution_url() {
    let kit = Kit::start().await;
    let mut browser = kit.client();
    // Where anyone may start flows, the code is the institution's own URL (where
    // only its devices may, an invitation: tests/http/invitations.rs).
    for institution in [&kit.clinic_e, &kit.pharmacy, &kit.nursing] {
        let institution = &kit.open_to_anyone(institution).await;
        let url = kit.url(institution);
        let expected = format!("{}{url}", kit.base);

        // The institution's first screen offers the 2D code.
        let prepare = browser.get(&url).await;
        assert_eq!(prepare.status, 200);
        assert!(
            prepare.body.contains(&format!(
                r#"<a class="button button--secondary" href="{url}/qr">二次元コードを表示する</a>"#
            )),
            "{}",
            prepare.body
        );

        let page = browser.get(&format!("{url}/qr")).await;
        assert_eq!(page.status, 200, "{}", page.body);
        assert_frame(&page);
        assert_eq!(page.header("cache-control"), Some("no-store"));
        assert!(
            page.body
                .contains("<title>二次元コード | マイナ在宅受付Web</title>")
        );
        assert!(page.body.contains(
            "<h1 class=\"page-title\">患者さんのスマートフォンで読み取る二次元コード</h1>"
        ));
        assert!(page.body.contains(&institution.name));
        assert!(
            page.body
                .contains(&format!(r#"<span class="qr__url">{expected}</span>"#)),
            "the URL as text"
        );
        assert_eq!(
            attribute(&page.body, "<img", "src"),
            format!("{url}/qr.svg")
        );
        assert!(!attribute(&page.body, "<img", "alt").is_empty());
        let width: u32 = attribute(&page.body, "<img", "width").parse().unwrap();
        let height: u32 = attribute(&page.body, "<img", "height").parse().unwrap();
        assert!(width >= 280 && width == height, "{width}×{height}");
        assert!(
            page.body
                .contains(&format!(r#"href="{url}">同意登録の準備に戻る</a>"#))
        );
        // The page's menu uses the session the first screen started; no new one.
        assert!(
            page.header("set-cookie").is_none(),
            "the 2D code page keeps the browser's session"
        );
        assert!(
            page.body
                .contains("<summary class=\"menu__button\">メニュー</summary>")
        );

        let image = browser.get(&format!("{url}/qr.svg")).await;
        assert_eq!(image.status, 200);
        assert_eq!(image.header("content-type"), Some("image/svg+xml"));
        assert_eq!(image.header("cache-control"), Some("no-store"));
        assert_eq!(image.header("x-content-type-options"), Some("nosniff"));
        assert!(image.header("content-security-policy").is_some());
        assert!(!image.body.contains("<script"), "{}", image.body);

        let bitmap = Bitmap::of_svg(&image.body);
        assert_eq!(bitmap.decode(), expected);
        let module = bitmap.module();
        assert!(module >= 1, "a module is {module} px");
        assert!(
            bitmap.margin() >= 4 * module,
            "quiet zone {} px, module {module} px",
            bitmap.margin()
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_institutions_have_no_2d_code() {
    let kit = Kit::start().await;
    let mut browser = kit.client();
    let unknown = "A".repeat(43);
    for path in [
        format!("/i/{unknown}/qr"),
        format!("/i/{unknown}/qr.svg"),
        "/i/not-a-token/qr".to_owned(),
        "/i/not-a-token/qr.svg".to_owned(),
    ] {
        let page = browser.get(&path).await;
        assert_eq!(page.status, 404, "{path}");
        assert!(page.body.contains("ページが見つかりません"), "{path}");
        assert!(!page.body.contains("<svg"), "{path}");
        assert_frame(&page);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_faq_answers_the_questions_and_every_page_links_to_it() {
    let kit = Kit::start().await;
    let mut browser = kit.client();
    let faq = browser.get("/faq").await;
    assert_eq!(faq.status, 200);
    assert_frame(&faq);
    assert_eq!(faq.header("cache-control"), Some("no-store"));
    assert!(
        faq.body
            .contains("<h1 class=\"page-title\">よくあるご質問</h1>")
    );
    for question in [
        "利用するには、何が必要ですか？",
        "画面上部の「メニュー」からは、何ができますか？",
        "暗証番号は、どの番号ですか？",
        "暗証番号を間違えると、どうなりますか？ ロックされたときは？",
        "同意する項目ごとに、どんな情報が提供されますか？",
        "同意は、いつまで有効ですか？",
        "同意を取り消すには、どうすればよいですか？",
        "マイナンバーカードを持っていない、または手元にないときは？",
        "健康保険証利用の登録をしていないときは？",
        "「電子証明書の有効期限が切れています」と表示されたときは？",
        "どんな端末で利用できますか？",
        "患者さんが自分のスマートフォンで開くことはできますか？",
    ] {
        assert!(
            faq.body
                .contains(&format!("<h3 class=\"faq__q\">{question}</h3>")),
            "the question {question}"
        );
        // And the contents list links to it.
        assert!(
            faq.body.contains(&format!("\">{question}</a></li>")),
            "{question}"
        );
    }
    for answer in [
        "数字4桁の暗証番号",
        "3回連続して間違えると",
        "市区町村の窓口で暗証番号の初期化",
        "マイナポータル",
        "薬剤情報",
        "診療情報",
        "特定健診情報",
        "手術情報",
        "「同意の有効期限」まで有効です",
        "すべての同意を取消す",
        "画面上部のメニューボタンをタップし、「すべての同意を取消す」",
        "「同意照会・更新」",
        "「更新内容を確認する」",
        "「同意内容を更新する」",
        "資格確認書",
        "5回目の誕生日",
        "NFC",
        "ICカードリーダライタ",
        "二次元コードを表示する",
    ] {
        assert!(faq.body.contains(answer), "the answer mentions {answer}");
    }
    assert!(
        !faq.body.contains("「同意照会・更新」は準備中"),
        "the menu's 同意照会・更新 is no longer announced as coming"
    );
    // The demo's stand-in reader is explained only in the demo.
    assert!(!faq.body.contains("デモ用カードリーダー"));
    assert!(faq.header("set-cookie").is_none(), "no session for the FAQ");

    // The footer link is on the flow's screens and on error pages too.
    let prepare = browser.get(&kit.url(&kit.clinic)).await;
    assert_frame(&prepare);
    let missing = browser.get("/nowhere").await;
    assert_eq!(missing.status, 404);
    assert_frame(&missing);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_the_demo_the_faq_explains_the_demo_reader() {
    let kit = Kit::start_with(Options {
        demo: true,
        ..Options::default()
    })
    .await;
    let faq = kit.client().get("/faq").await;
    assert_eq!(faq.status, 200);
    assert!(faq.body.contains("デモ用カードリーダー"));
    assert!(faq.body.contains("class=\"demo-banner\""));
}
