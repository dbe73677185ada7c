# The institution console (医療機関等の職員向け画面), in Japanese.

## 同意取得済み患者一覧
console-patients-title = 同意取得済み患者一覧
console-patients-lead = 本サービスで同意を登録した患者です。新しい登録から順に表示します。
console-filter-title = 絞り込み
console-filter-name = 氏名・氏名カナ（一部）
console-filter-from = 登録日（から）
console-filter-to = 登録日（まで）
console-filter-state = 同意の状態
console-filter-state-all = すべて
console-filter-state-standing = 同意あり
console-filter-state-expired = 同意有効期限切れ
console-filter-state-revoked = 取消し済み
console-filter-submit = 絞り込む
console-filter-clear = 条件をクリア
console-filter-name-too-long = 氏名は50文字以内で入力してください。
console-filter-from-invalid = 登録日（から）を正しい日付で入力してください。
console-filter-to-invalid = 登録日（まで）を正しい日付で入力してください。
console-filter-state-invalid = 同意の状態を一覧から選んでください。
console-filter-range-reversed = 登録日（から）は登録日（まで）より前の日付にしてください。
console-filter-errors-title = 入力内容を確認してください
console-patients-none = 条件に合う患者はいません。
console-patients-none-yet = 本サービスで同意を登録した患者はまだいません。
console-col-name = 氏名
console-col-kana = 氏名カナ
console-col-birth = 生年月日
console-col-state = 同意の状態
console-col-expires = 有効期限
console-col-registered = 登録日時
console-page-previous = 前へ
console-page-next = 次へ

## Consent states
console-state-standing = 同意あり
console-state-expired = 同意有効期限切れ
console-state-revoked = 取消し済み（{ $reason }）

## 患者情報
console-patient-back = 同意取得済み患者一覧へ戻る
console-consent-title = 同意の状態
console-consent-state = 状態
console-consent-expires = 有効期限
console-consent-registered = 登録日時
console-consent-updated = 最終更新日時
console-consent-items-title = 同意内容・処方箋の発行形態
console-qualification-title = 資格情報
console-qualification-checked = 照会日時
console-check-registration = 同意登録時の資格確認
console-check-requery = 再照会
console-requery = 再照会する
console-requery-lead = 現在の資格情報を取得し、前回の照会から変わった項目を表示します。
console-changes-title = 前回の照会からの変更
console-changes-none = 前回の照会から変更はありません。
console-change-item = 項目
console-change-before = 前回
console-change-after = 今回
console-qualification-status = 資格の状態
console-qualification-valid = 有効
console-qualification-lost = 無効
console-qualification-lost-new = 無効（新しい資格あり）
console-qualification-not-found = 該当資格なし
console-q-postal-code = 郵便番号
console-q-address = 住所
console-q-lost = 資格喪失年月日・喪失事由
console-records-title = 閲覧できる情報
console-records-lead = 患者が同意した項目の情報だけを表示します。
console-records-none = 該当する情報はありません。
console-records-not-consented = 患者の同意がないため表示できません。
console-not-standing = 同意が有効でないため、資格情報と薬剤情報等は表示できません。
console-history-title = 同意の履歴
console-history-at = 日時
console-history-actor = 操作者
console-history-channel = 経路
console-history-before = 変更前
console-history-after = 変更後
console-history-card = マイナンバーカードで本人確認
console-actor-patient = 患者本人
console-actor-staff = 職員（{ $login }）
console-channel-patient-web = マイナ在宅受付Web
console-channel-institution = 医療機関等の端末
console-revoke-link = すべての同意を取消す
console-notice-requeried = 再照会しました。
console-notice-requery-refused = 同意が有効でないため、再照会できません。
console-notice-revoked = すべての同意を取り消しました。
console-notice-revoke-conflict = 確認画面を表示した後に同意内容が変わったため、取り消していません。内容を確認してから、もう一度操作してください。
console-notice-not-standing = 取り消す同意はありません。

## 同意の取消し
console-revoke-title = すべての同意の取消し確認
console-revoke-lead = 患者に代わって、この医療機関等へのすべての同意を取り消します。取消しの理由は「医療機関等による取消し」として記録されます。
console-revoke-warning = 取り消すと、資格情報と薬剤情報等は直ちに表示できなくなります。この操作は元に戻せません。
console-revoke-submit = すべての同意を取消す
console-revoke-back = 取り消さずに戻る

## 設定
console-settings-title = 医療機関等の設定
console-settings-institution = 医療機関等
console-settings-code = 医療機関等コード
console-settings-kind = 種別
console-settings-items = 同意項目（患者に表示する項目）
console-settings-usage = 電子処方箋利用区分
console-settings-usage-note = 電子処方箋に対応する病院・診療所では、処方箋の発行形態を患者に選んでいただきます。
console-settings-validity = 同意の有効期間（日）
console-settings-validity-note = 1日から3650日まで。登録・更新の日から数えます。
console-settings-save = 設定を保存する
console-settings-saved = 設定を保存しました。
console-settings-items-empty = 同意項目を1つ以上選んでください。
console-settings-usage-invalid = 電子処方箋利用区分を一覧から選んでください。
console-settings-validity-invalid = 同意の有効期間は1から3650までの日数で入力してください。
console-settings-url-title = 医療機関等のURLと二次元コード
console-settings-url-lead = 訪問先では、このURLを開くか、二次元コードを患者に読み取っていただきます。
console-settings-download-svg = 二次元コードをダウンロード（SVG）
console-settings-download-png = 二次元コードをダウンロード（PNG）
console-settings-qr-alt = 医療機関等のURLの二次元コード
console-settings-rotate-link = URLを再発行する
console-settings-rotated = URLを再発行しました。以前のURLと二次元コードは使えません。
console-rotate-title = URLの再発行
console-rotate-lead = 新しいURLを発行します。現在のURLと、印刷・配布済みの二次元コードは直ちに使えなくなります。
console-rotate-current = 現在のURL
console-rotate-submit = URLを再発行する
console-rotate-back = 再発行せずに戻る

## アクセスログ
console-access-title = アクセスログ
console-access-lead = 患者の情報を表示・再照会・取消しした記録です（新しい順）。
console-access-none = 記録はまだありません。
console-access-at = 日時
console-access-staff = 職員
console-access-patient = 患者
console-access-action = 操作
console-access-view = 患者情報の表示
console-access-requery = 再照会
console-access-revoke = 同意の取消し

## Errors on console pages
error-console-form-rejected-title = 画面の有効期限が切れました
error-console-form-rejected-body = この画面は古いか、別の画面から送信されました。操作は行われていません。画面を開き直してから、もう一度操作してください。
error-console-closed-title = この医療機関等の管理画面は利用停止中です
error-console-closed-body = この医療機関等はマイナ在宅受付Webの利用を停止しているため、管理画面は閉じています。利用を再開するときは、サービスの運用者に依頼してください。
error-console-not-found-title = 患者情報が見つかりません
error-console-not-found-body = この医療機関等で同意を登録した患者ではないか、URLが正しくありません。同意取得済み患者一覧から開いてください。
