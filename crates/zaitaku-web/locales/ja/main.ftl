# Zaitaku's screens, in Japanese. Button labels and screen names follow the
# manual of マイナ在宅受付Web word for word.

## Frame
service-name = マイナ在宅受付Web
skip-to-content = 本文へスキップ
demo-banner = デモ環境です。表示される患者・医療機関・カードはすべて架空のものです。
footer = Zaitaku — マイナ在宅受付Webのオープンな実装
footer-nav-label = サイト内リンク
steps-label = 手続きの流れ
operation-id = 問い合わせ番号
link-restart = 最初からやり直す
link-current-step = 現在の画面へ進む

## The menu at the top of every patient screen (the manual's メニュー一覧, word for word)
menu-button = メニュー
menu-label = メニュー
menu-registration = 同意登録
menu-inquiry = 同意照会・更新
menu-revoke-all = すべての同意を取消す
menu-faq = よくあるご質問

## Steps (the manual's step names)
step-access = 本サービスへアクセス
step-select-clinic = 同意内容、処方箋の発行形態の選択
step-confirm-clinic = 登録内容の確認
step-auth = 本人認証
step-complete-clinic = 資格確認・登録完了
step-select-pharmacy = 同意登録内容の選択、確認
step-complete-pharmacy = 資格確認・同意登録完了

## ① Preparation
prepare-title = 同意登録の準備
prepare-lead = 職員は、必要な準備が整っていることを患者に確認してください。
prepare-needed = ご用意いただくもの
prepare-card-and-pin = マイナンバーカードと数字4桁の暗証番号（利用者証明用電子証明書のパスワード）
prepare-insurance-registration = マイナンバーカードの健康保険証利用の登録
prepare-not-registered-title = 健康保険証利用の登録がお済みでない場合
prepare-not-registered-body = マイナポータルサイトで登録してから、ご利用ください。
mynaportal = マイナポータル（外部サイト）
button-start-registration = 同意登録をする
prepare-own-phone-title = 患者さんご自身のスマートフォンで開くとき
prepare-own-phone-body = この医療機関等のURLを二次元コードで表示します。患者さんがスマートフォンのカメラで読み取ると、同じ画面が開きます。
button-show-qr = 二次元コードを表示する

## The institution URL as a 2D code
qr-title = 二次元コード
qr-heading = 患者さんのスマートフォンで読み取る二次元コード
qr-lead = 患者さんご自身のスマートフォンのカメラで、この二次元コードを読み取ってください。表示されたURLを開くと、この医療機関等の「同意登録の準備」画面が表示されます。
qr-alt = この医療機関等のURLを表す二次元コード
qr-url-label = 読み取ると開くURL
qr-tip = 読み取りにくいときは、画面を明るくし、スマートフォンを画面から20～30cmほど離してかざしてください。
qr-private-title = この医療機関等専用のURLです
qr-private = 患者さんに読み取っていただくためのものです。SNSなどに載せたり、ほかの目的で共有したりしないでください。
qr-back = 同意登録の準備に戻る

## ② Selection
select-title-clinic-eprescription = 同意内容、処方箋の発行形態の選択
select-title-clinic = 同意内容の選択
select-title-pharmacy = 同意登録内容の選択
select-lead = ご自身の健康・医療情報等をこの医療機関等に提供することについて、項目ごとに「同意する」か「同意しない」を選択してください。
select-explain-hint = 項目の内容がわからないときは、ⓘ をタップすると詳しい説明が表示されます。
select-errors-title = 選択されていない項目があります
select-errors-body = すべての項目について選択してから、もう一度お進みください。
select-item-error = 「同意する」か「同意しない」を選択してください。
agree = 同意する
disagree = 同意しない
explain-title = について
explain-YZK = 過去に処方・調剤されたお薬の情報（薬剤名、量、処方・調剤された日、医療機関・薬局の名称）を提供します。飲み合わせや重複を確かめ、安全なお薬の処方・調剤に役立てます。
explain-SRJ = 過去の受診歴や、受けた診療（検査、処置、透析など）の情報を提供します。これまでの経過を踏まえた診療に役立てます。
explain-TKK = 40歳以上の方が受ける特定健診（いわゆるメタボ健診）や後期高齢者健診の結果、質問票の回答を提供します。
explain-SHJ = 過去に受けた手術の情報（手術の名称、日付）を提供します。
explain-TSR = 特定疾病療養受療証（人工透析が必要な慢性腎不全など）の情報を提供します。
prescription-form = 処方箋の発行形態
prescription-form-explain-title = 処方箋の発行形態について
prescription-form-explain = 電子処方箋を選ぶと、処方箋は電子的に登録され、薬局で引換番号やマイナンバーカードで受け取れます。紙の処方箋を選ぶと、これまでどおり紙で発行されます。
prescription-form-error = 電子処方箋か紙の処方箋かを選択してください。
button-confirm-choices = 同意内容を確認する
button-register = 同意内容を登録する

## ③ Confirmation
confirm-title-clinic = 登録内容の確認
confirm-title-pharmacy = 同意登録内容の確認
confirm-lead = 職員・患者は、選択内容が正しいことを確認してください。修正するときは「選択内容を修正する」をタップしてください。
button-fix-choices = 選択内容を修正する

## ④ Authentication
auth-title = 本人認証
auth-pin-title = マイナンバーカードの暗証番号を入力
auth-pin-body = 市区町村窓口でマイナンバーカードを受け取った際に、利用者証明用電子証明書に設定した数字4桁の暗証番号です。暗証番号は患者ご自身で入力してください。
auth-pin-warning-title = ご注意ください
auth-pin-warning = 暗証番号は、3回連続して間違えるとロックが掛かります。
auth-read-title = マイナンバーカード読み取り
auth-read-body = マイナンバーカードをスマートフォン裏面にかざし、「読み取り開始」をタップしてください。
button-start-reading = 読み取り開始
auth-auto-return = 認証に成功すると、本サービスの画面に自動で戻ります。
auth-link-label = 認証用リンク（認証アプリ、または zaitaku card auth で開きます）
auth-waiting = マイナンバーカードの読み取りを待っています。
auth-check-result = 認証結果を確認する
method-nav-label = マイナンバーカードの読み取り方法
method-phone = この端末で読み取る
method-qr = スマートフォン（二次元コード）認証
method-reader = ICカードリーダライタ認証
auth-qr-title = スマートフォンで二次元コードを読み取る
auth-qr-body = スマートフォンの認証アプリでこの二次元コードを読み取ってください。認証アプリに下と同じ確認コードが表示されていることを確かめてから、患者が暗証番号を入力し、マイナンバーカードをスマートフォン裏面にかざします。読み取りが終わると、この画面は自動で進みます。
auth-qr-alt = この認証の二次元コード
auth-qr-once = この二次元コードは1回だけ、認証の有効期限（5分）まで使えます。
auth-reader-title = ICカードリーダライタで読み取る
auth-reader-body = この端末につないだICカードリーダライタにマイナンバーカードを置き、「読み取り開始」をクリックして認証アプリ（または zaitaku card auth --reader）で下の認証用リンクを開いてください。認証アプリに下と同じ確認コードが表示されていることを確かめてから、患者が暗証番号を入力します。
auth-matching-label = 確認コード
auth-claimed = 認証アプリで読み取られました。認証アプリで暗証番号を入力し、カードを読み取ってください。
auth-timed-out-title = 時間切れです
auth-timed-out-body = 認証の有効期限（5分）が過ぎました。選択内容はそのままです。もう一度認証してください。
auth-cancelled-title = 認証アプリで読み取りが取り消されました
auth-cancelled-body = 認証アプリで「キャンセル」が押されたため、この認証は終了しました。選択内容はそのままです。もう一度認証してください。
button-retry-auth = もう一度認証する
auth-claimed-at = { $time }に読み取られました。
auth-renew-body = 患者さまが読み取っていないのに読み取られたときは、「読み取り直す」を押してください。この認証は使えなくなり、新しい認証に切り替わります。選択内容はそのままです。
button-renew-auth = 読み取り直す
auth-claimed-at-waiting = { $time }に認証アプリで読み取られました。認証アプリで暗証番号を入力し、カードを読み取ってください。患者さまが読み取った時刻と違うときは、別の端末で読み取られています。
auth-reported-title = 読み取った端末から「{ $reported }」と報告されました
auth-refused-title = 読み取った端末から送られたカードを確認できませんでした（{ $reported }）
auth-reported-other-device = 患者さまのスマートフォンで読み取ったものでない場合は、二次元コードが別の端末で読み取られています。この認証だけを終了しました。選択内容はそのままです。もう一度認証してください。
auth-reported-this-device = この認証だけを終了しました。選択内容はそのままです。カードを確かめて、もう一度認証してください。この端末の認証アプリで読み取っていない場合は、認証用リンクが別の端末で読み取られています。

## ⑤ Completion
complete-title-clinic = 資格確認・登録完了
complete-title-pharmacy = 資格確認・同意登録完了
complete-done-clinic = 資格確認・登録が完了しました
complete-done-pharmacy = 資格確認・同意登録が完了しました
complete-staff-check = 職員は、登録内容・資格情報が正しいことを確認し、ブラウザのタブを閉じてください。
complete-consent-title = 登録内容
qualification-title = 資格情報
row-institution = 医療機関等
row-expires = 同意の有効期限
value-none = なし

## Qualification fields
q-name = 氏名
q-kana = 氏名（カナ）
q-birth = 生年月日
q-sex = 性別
q-insurer-number = 保険者番号
q-insurer-name = 保険者名称
q-symbol = 記号
q-number = 番号
q-branch = 枝番
q-relationship = 本人・家族の別
q-burden = 一部負担金割合
q-acquired = 資格取得年月日
q-valid-until = 有効終了日
q-elderly = 高齢受給者証
q-limit = 限度額適用認定証
q-specific-disease = 特定疾病療養受療証

## Outcomes that end a flow
failed-nothing-written = 同意内容は登録されていません。
failure-not-registered-title = 健康保険証利用の登録がありません
failure-not-registered-body = このマイナンバーカードは、健康保険証としての利用登録がされていません。マイナポータルで登録してから、もう一度お試しください。
failure-not-registered-link = マイナポータルで健康保険証利用の登録をする（外部サイト）
failure-qualification-lost-title = 資格が確認できません
failure-qualification-lost-body = 加入している健康保険の資格が無効になっています（資格喪失）。新しい保険に加入している場合は、保険者にご確認ください。
failure-qualification-not-found-title = 資格情報が見つかりません
failure-qualification-not-found-body = このマイナンバーカードに結び付く健康保険の資格情報が見つかりませんでした。加入している保険者にご確認ください。
failure-certificate-expired-title = 電子証明書の有効期限が切れています
failure-certificate-expired-body = マイナンバーカードの利用者証明用電子証明書の有効期限が切れています。お住まいの市区町村の窓口で更新してください。
failure-certificate-revoked-title = 電子証明書が失効しています
failure-certificate-revoked-body = マイナンバーカードの利用者証明用電子証明書が失効しています。お住まいの市区町村の窓口にご相談ください。
failure-revocation-unknown-title = 電子証明書の有効性を確認できません
failure-revocation-unknown-body = 電子証明書の失効情報を確認できないため、このマイナンバーカードの電子証明書が有効かどうかを確認できませんでした。カードに問題があるとは限りません。職員は、時間をおいてもう一度お試しいただくか、保険証または資格確認書で資格をご確認ください。続くときはシステム管理者にお問い合わせください。
failure-certificate-untrusted-title = 電子証明書を確認できません
failure-certificate-untrusted-body = このカードの電子証明書を確認できませんでした。マイナンバーカードをお確かめのうえ、もう一度お試しください。
failure-pin-blocked-title = 暗証番号がロックされています
failure-pin-blocked-body = 暗証番号を3回連続して間違えたため、ロックが掛かっています。お住まいの市区町村の窓口で暗証番号の初期化（再設定）を行ってください。

## The authentication link opened in a browser
auth-link-page-title = 認証アプリで開くリンクです
auth-link-page-body = このリンクは、マイナンバーカードを読み取る認証アプリ（または zaitaku card auth）で開いてください。ブラウザで開いても認証はできません。
demo-reader-open = デモ用カードリーダーで開く

## Demo
demo-index-title = デモ
demo-index-lead = 医療機関等を選んで同意登録を始めてください。本人認証では、下のデモ用カードと暗証番号を使います。
demo-index-institutions = 医療機関等
demo-index-eprescription = 電子処方箋対応
demo-index-cards = デモ用カード
pin-label = 暗証番号
demo-reader-title = デモ用カードリーダー
demo-reader-claimed = この認証は、すでに別の端末で読み取られています。二次元コードは1回だけ使えます。続けるには、認証画面でもう一度認証をやり直してください。
demo-reader-lead = スマートフォンの認証アプリの代わりです。内容を確かめ、カードを選んで暗証番号を入力してください。
demo-reader-origin = 認証を求めているサイト
demo-reader-institution = 医療機関等
demo-reader-purpose = 目的
demo-reader-card = カード
demo-reader-pin-hint = 数字4桁。3回連続して間違えるとロックが掛かります。
demo-reader-back = マイナ在宅受付Webへ戻る
demo-reader-wrong-pin = 暗証番号が違います。
tries-left = 残り{ $count }回です。
demo-reader-last-try = 次に間違えるとロックが掛かります。
demo-reader-blocked = 暗証番号がロックされています。このカードでは認証できません。
demo-reader-bad-pin = 暗証番号は数字4桁で入力してください。
demo-reader-unknown-card = カードを選択してください。
demo-reader-done = 読み取りが完了しました。マイナ在宅受付Webの画面に戻ってください。
demo-reader-settled = この認証はすでに完了しているか、有効期限が切れています。
demo-reader-card-busy = このカードは別の読み取りで使用中です。少し待ってから、もう一度お試しください。

## よくあるご質問 (for patients and staff)
faq-title = よくあるご質問
faq-lead = マイナ在宅受付Webについて、患者さんと、訪問する医療機関・薬局・訪問看護ステーション（以下「医療機関等」）の職員の方からよくいただくご質問にお答えします。
faq-contents = 目次

faq-group-before = ご利用の前に
faq-needed-q = 利用するには、何が必要ですか？
faq-needed-a = 患者さんには、次のものをご用意いただきます。
faq-needed-staff = 職員は、オンライン資格確認等システムで医療機関等ごとに発行されたURLと、マイナンバーカードを読み取れる端末（「どんな端末で利用できますか？」をご覧ください）を用意してください。健康保険証利用の登録がお済みでない患者さんには、マイナポータルでの登録をご案内ください。
faq-menu-q = 画面上部の「メニュー」からは、何ができますか？
faq-menu-a = 医療機関等のURLから開いた画面では、上部の「メニュー」ボタンをタップするとメニューの一覧が表示されます。手続きの途中の画面からでも、次の手続きを始められます。
faq-menu-registration = 同意内容（病院・診療所では処方箋の発行形態も）を登録します。
faq-menu-inquiry = 登録されている同意内容を確認し、一部の項目を変更します。
faq-menu-revoke = この医療機関等に登録した同意を、すべて取り消します。
faq-menu-faq = このページを表示します。
faq-pin-q = 暗証番号は、どの番号ですか？
faq-pin-a = マイナンバーカードを市区町村の窓口で受け取ったときに、利用者証明用電子証明書に設定した数字4桁の暗証番号です。署名用電子証明書の暗証番号（英数字6～16文字）とは別のものです。
faq-pin-self = 暗証番号は、患者さんご自身で入力してください。職員は、暗証番号を聞き取ったり、代わりに入力したりしないでください。暗証番号は認証アプリに入力し、マイナンバーカード自身が確かめます。本サービスのサーバーには送られません。
faq-pin-lock-q = 暗証番号を間違えると、どうなりますか？ ロックされたときは？
faq-pin-lock-a = 暗証番号を3回連続して間違えると、ロックが掛かり、そのカードでは本人認証ができなくなります。間違えるたびに残りの回数が表示されます。ロックされる前に正しい暗証番号を入力すれば、間違えた回数は元に戻ります。
faq-pin-lock-reset = ロックが掛かったときや暗証番号を忘れたときは、マイナンバーカードを持って、お住まいの市区町村の窓口で暗証番号の初期化（再設定）をしてください。本サービスや医療機関等では解除できません。

faq-group-consent = 同意について
faq-items-q = 同意する項目ごとに、どんな情報が提供されますか？
faq-items-a = 項目ごとに「同意する」か「同意しない」を選べます。その医療機関等に提供されるのは、「同意する」を選んだ項目の情報だけです。画面に表示される項目は、医療機関等ごとに設定されています。
faq-items-prescription = 電子処方箋に対応している病院・診療所では、処方箋の発行形態も選びます。
faq-items-qualification = どの項目を選んでも、本人認証をすると、加入している健康保険の資格情報（保険者、記号・番号、一部負担金割合など）が確認され、登録完了画面に表示されます。
faq-period-q = 同意は、いつまで有効ですか？
faq-period-a = 登録完了画面に表示される「同意の有効期限」まで有効です。期間は医療機関等ごとに設定されています。有効期限の前でも、同意を取り消せば、その時点で終わります。
faq-period-revisit = 有効期間中は、同じ医療機関等が次回以降の訪問で、マイナンバーカードを読み取らずに資格情報や同意した情報を確認することがあります。
faq-period-after = 有効期限が過ぎた後も情報の提供に同意する場合は、もう一度同意登録をしてください（画面上部のメニューの「同意登録」からも始められます）。
faq-revoke-q = 同意を取り消すには、どうすればよいですか？
faq-revoke-institution = 通常は、医療機関等が資格確認端末で取消しを行います。取り消したいときは、医療機関等の職員にお申し出ください。
faq-revoke-self = 患者さんご自身が本サービスで取り消すこともできます。医療機関等のURL（または職員が表示する二次元コード）から本サービスを開き、画面上部のメニューボタンをタップし、「すべての同意を取消す」をタップします。確認画面でもう一度「すべての同意を取消す」をタップして、マイナンバーカードで本人認証をします。
faq-revoke-effect = すべての項目の同意が取り消されます。電子処方箋に対応している病院・診療所では、連携した処方箋の発行形態の情報も取り下げられます。
faq-revoke-update = 一部の項目だけを変えたいときは、画面上部のメニューボタンをタップし、「同意照会・更新」をタップします。マイナンバーカードで本人認証をすると、いま登録されている同意内容が表示されます。変えたい項目を選び直して「更新内容を確認する」をタップし、内容を確かめて「同意内容を更新する」をタップしたら、もう一度マイナンバーカードで本人認証をします。前の内容は履歴として残ります。

faq-group-trouble = 困ったときは
faq-no-card-q = マイナンバーカードを持っていない、または手元にないときは？
faq-no-card-a = 本サービスはマイナンバーカードで本人認証をするため、カードがないと利用できません。その日の資格の確認方法は、医療機関等の職員にご相談ください。
faq-no-card-certificate = マイナンバーカードを健康保険証として利用していない方には、加入している健康保険から「資格確認書」が交付されています。資格確認書をお持ちの方は、職員にお見せください。
faq-no-card-lost = カードをなくしたときは、マイナンバー総合フリーダイヤルに連絡して一時利用停止の手続きをし、お住まいの市区町村の窓口で再交付を申請してください。
faq-not-registered-q = 健康保険証利用の登録をしていないときは？
faq-not-registered-a = 本サービスを使うには、マイナンバーカードの健康保険証利用の登録が必要です。マイナポータル（スマートフォンのアプリやパソコン）で登録できるほか、医療機関・薬局の受付にあるカードリーダーでも登録できます。登録が済んだら、もう一度お試しください。
faq-certificate-q = 「電子証明書の有効期限が切れています」と表示されたときは？
faq-certificate-a = 利用者証明用電子証明書の有効期限は、発行から5回目の誕生日までで、カード本体の有効期限とは異なります。お住まいの市区町村の窓口で更新してください。有効期限が近づくと、地方公共団体情報システム機構（J-LIS）から有効期限通知書が届きます。
faq-certificate-revoked = 「電子証明書が失効しています」と表示されたときも、お住まいの市区町村の窓口にご相談ください。
faq-qualification-q = 「資格が確認できません」「資格情報が見つかりません」と表示されたときは？
faq-qualification-a = 就職・退職や75歳の誕生日などで加入している健康保険が変わり、新しい資格の情報がまだ登録されていないことがあります。加入している保険者（勤務先の健康保険組合、市区町村の国民健康保険の窓口など）にご確認ください。その日の資格の確認方法は、医療機関等の職員にご相談ください。
faq-timeout-q = 認証の後、画面が戻らないときや、時間切れになったときは？
faq-timeout-return = 認証に成功すると、本サービスの画面に自動で戻ります。戻らないときは、ブラウザに切り替えて「認証結果を確認する」をタップしてください。
faq-timeout-a = 本人認証は、認証画面を開いてから5分以内に行ってください。時間切れになっても選択内容はそのままなので、「もう一度認証する」をタップすればやり直せます。操作がないまま30分たつと手続きが終わるため、その場合は医療機関等のURLから始め直してください。

faq-group-devices = 利用できる端末
faq-devices-q = どんな端末で利用できますか？
faq-devices-a = 職員は、医療機関等のスマートフォン、タブレット、パソコンで本サービスを開きます。マイナンバーカードは、次のいずれかの方法で読み取ります。
faq-devices-phone-term = スマートフォン
faq-devices-phone = NFC（近距離無線通信）に対応したスマートフォンで、カードを端末の裏面にかざして読み取ります。
faq-devices-qr-term = タブレット・パソコン＋スマートフォン
faq-devices-qr = 本人認証の画面で「スマートフォン（二次元コード）認証」を選ぶと、その認証だけの二次元コードと4桁の確認コードが表示されます。スマートフォンの認証アプリで二次元コードを読み取り、アプリに同じ確認コードが出ていることを確かめてから、スマートフォンでカードを読み取ります。二次元コードは1回だけ、5分以内に使えます。タブレット・パソコンのメニューからは、認証方法ごとに手続きを始められます。
faq-devices-reader-term = タブレット・パソコン＋ICカードリーダライタ
faq-devices-reader = 端末につないだICカードリーダライタにカードを置いて読み取ります（ICカードリーダライタ認証）。
faq-devices-browser = カードを読み取る端末には、マイナンバーカードを読み取る認証アプリを入れておいてください。本サービスの画面は、一般的なブラウザ（Safari、Chrome、Edge などの最新版）で表示できます。
faq-devices-demo-title = デモ環境では
faq-devices-demo = 実際のマイナンバーカードは使いません。「読み取り開始」をタップすると開く「デモ用カードリーダー」で架空のカードを選び、そのカードの暗証番号を入力します。デモ用カードリーダーは認証アプリの代わりをする本サービスの画面のため、デモでは暗証番号がサーバーに送られます。
faq-own-phone-q = 患者さんが自分のスマートフォンで開くことはできますか？
faq-own-phone-a = できます。職員が「同意登録の準備」画面で「二次元コードを表示する」をタップすると、その医療機関等のURLが二次元コードで表示されます。患者さんがご自身のスマートフォンのカメラで読み取ると、同じサービスが開きます。

## Errors
error-not-found-title = ページが見つかりません
error-not-found-body = URLをお確かめください。医療機関等ごとのURLからアクセスしてください。
error-flow-not-found-title = 手続きが見つかりません
error-flow-not-found-body = この手続きは、別のブラウザで始められたか、すでに削除されています。医療機関等のURLから始めてください。
error-flow-expired-title = 手続きの有効期限が切れました
error-flow-expired-body = 一定時間操作がなかったため、手続きを終了しました。同意内容は登録されていません。最初からやり直してください。
error-form-rejected-title = 画面の有効期限が切れました
error-form-rejected-body = この画面は古いか、別の画面から送信されました。同意内容は登録されていません。医療機関等のURLから開き直してください。
error-stale-form-title = 選択内容が変わっています
error-stale-form-body = 別の画面で選択内容が変更されたか、すでに送信済みです。何も登録していません。現在の画面で内容をお確かめください。
error-too-many-open-title = 開いている手続きが多すぎます
error-too-many-open-body = このブラウザで始めた手続きや読み取りが短い時間に多すぎるため、新しく始められませんでした。同意内容は登録されていません。途中の手続きを続けるか、しばらくしてから、もう一度お試しください。
error-busy-title = ただいま混み合っています
error-busy-body = 短い時間に多くのご利用があったため、受け付けられませんでした。同意内容は登録されていません。1分ほど待ってから、もう一度お試しください。
error-institution-closed-title = この医療機関等は受付を終了しました
error-institution-closed-body = この医療機関等では、マイナ在宅受付Webでの同意の登録・照会・取消しを受け付けていません。手続き中の内容は登録されていません。詳しくは医療機関等にお問い合わせください。
error-url-changed-title = このURLは無効になりました
error-url-changed-body = 医療機関等のURLが変更されたため、変更前のURLで始めた手続きは続けられません。同意の登録・照会・取消しは、医療機関等の新しいURLから始めてください。
error-result-closed-title = 表示を終了しました
error-result-closed-body = 端末に個人情報を残さないため、この手続きの結果の表示を終了しました。登録・更新・取消しの内容は変わりません。
link-institution-page = 最初の画面に戻る
result-shown-until = この画面は{ $time }まで表示されます。
result-close-body = この時刻を過ぎるか「閉じる」を押すと、この画面の内容は表示されなくなります。確認が終わったら「閉じる」を押してください。
button-close-result = 閉じる
error-internal-title = ただいま処理できません
error-internal-body = システムで問題が発生しました。同意内容は登録されていません。しばらくしてから、もう一度お試しください。

## C. Revoking all consent (the manual's C pages)
step-revoke-confirm-clinic = 登録内容の取消し確認
step-revoke-complete-clinic = 登録内容の取消し完了
step-revoke-confirm-pharmacy = 同意内容の取消し確認
step-revoke-complete-pharmacy = 同意取消しの完了
revoke-title-clinic = 登録内容の取消し確認
revoke-title-pharmacy = 同意内容の取消し確認
revoke-lead = 「すべての同意を取消す」をタップし、マイナンバーカードで本人認証をすると、この医療機関等に登録した同意内容が取り消されます。
revoke-warning-title = すべての項目の同意が取り消されます
revoke-warning = 全ての項目についての同意が「同意しない」になります。ふたたび同意するときは、もう一度同意登録をしてください。
revoke-warning-prescription = 連携した処方箋の発行形態の情報は取り下げられます。
button-revoke-all = すべての同意を取消す
button-revoke-cancel = 取り消さずに戻る
revoked-done = 取消しが完了しました
revoked-staff-check = 職員は画面を確認し、ブラウザのタブを閉じてください。
revoked-state-title = 取消し後の内容
revoked-item = 同意しない（取消し済み）
revoked-form = 取り下げ済み
failure-nothing-registered-title = 登録されている同意はありません
failure-nothing-registered-body = この医療機関等に、このマイナンバーカードで登録された同意はありません。取り消すものがないため、何も変更していません。
## B. Inquiry and update (the manual's B pages)
step-update-select-clinic = 登録内容の照会、更新内容の選択・確認
step-update-select-pharmacy = 同意内容の照会、更新内容の選択・確認
step-update-complete-clinic = 登録内容の更新完了
step-update-complete-pharmacy = 同意内容の更新完了
update-select-title = 更新内容の選択
update-select-lead-clinic = 照会結果に基づいて、過去の登録内容が表示されています。更新したい項目を選び直し、「更新内容を確認する」をタップしてください。
update-select-lead-pharmacy = 照会結果に基づいて、過去の同意内容が表示されています。更新したい項目を選び直し、「更新内容を確認する」をタップしてください。
update-unchanged = 変更された項目がありません。更新したい項目の選択を変えてから「更新内容を確認する」をタップしてください。何も保存していません。
button-confirm-update = 更新内容を確認する
update-confirm-title-clinic = 登録内容の更新確認
update-confirm-title-pharmacy = 同意内容の更新確認
update-confirm-lead = 更新内容が正しく選択されていることを確認し、「同意内容を更新する」をタップしてください。保存するため、もう一度マイナンバーカードで本人認証をします。修正するときは「選択内容を修正する」をタップしてください。
button-update = 同意内容を更新する
changed-from = （変更前：{ $old }）
updated-done-clinic = 登録内容の更新が完了しました
updated-done-pharmacy = 同意内容の更新が完了しました
updated-staff-check = 職員は更新情報が正しいことを確認し、ブラウザのタブを閉じてください。
failure-nothing-registered-inquiry-body = この医療機関等に、このマイナンバーカードで登録されている同意はありません。取り消した同意や、有効期限が過ぎた同意は、照会・更新できません。同意するときは、同意登録をしてください。
failure-different-person-title = 照会したときと異なるマイナンバーカードです
failure-different-person-body = 同意内容の更新は、照会のときに本人認証をした方と同じマイナンバーカードで行ってください。
failure-update-conflict-title = 同意内容がほかの画面で変更されました
failure-update-conflict-body = 照会した後に、別のタブや端末でこの医療機関等への同意内容が変更または取り消されました。今回の更新は保存していません。変更するときは、もう一度照会からやり直してください。
failed-current-consent = 現在の同意内容
failed-update-not-saved = 今回の更新は保存していません。同意内容は変更されていません。
button-inquiry-again = もう一度照会する
