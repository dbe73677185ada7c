## Enrolled devices: the /device page, the refusal at an institution that only
## its devices may use, and the console's 端末 page.

device-title = 端末の登録
device-lead = 医療機関等の管理者から受け取った「端末登録コード」（8文字、例: ABCD-1234）を入力してください。コードは1回だけ、発行から10分間使えます。
device-code-label = 端末登録コード
device-code-hint = 大文字・小文字、ハイフンの有無は問いません。
device-submit = この端末を登録する
device-code-malformed = 端末登録コードは8文字の英数字です（例: ABCD-1234）。入力内容を確かめてください。
device-code-unknown = この端末登録コードは正しくありません。入力内容を確かめるか、管理者に新しいコードの発行を依頼してください。
device-code-used = この端末登録コードはすでに使われています。管理者に新しいコードの発行を依頼してください。
device-code-expired = この端末登録コードは有効期限（発行から10分）が切れています。管理者に新しいコードの発行を依頼してください。
device-enrolled-title = この端末を登録しました
device-already-title = この端末はすでに登録されています
device-name = 端末名
device-institution = 医療機関等
device-enrolled-body = この端末（ブラウザ）から、この医療機関等の同意の手続きを始められます。ブラウザのCookieを削除すると、登録をやり直す必要があります。
device-open-institution = 医療機関等の画面を開く
device-link = 端末の登録へ
error-device-not-enrolled-title = この端末は登録されていません
error-device-not-enrolled-body = この医療機関等では、登録された端末だけが同意の手続きを始められます。医療機関等の管理者に「端末登録コード」の発行を依頼し、「端末の登録」画面でコードを入力してください。何も登録・送信されていません。
console-settings-flows-from = 同意の手続きを始められる端末
console-settings-flows-from-note = 「登録した端末のみ」: この医療機関等の「端末」画面で登録した端末（ブラウザ）だけが、医療機関URLから同意の登録・照会・取消しを始められます。「すべての端末」: 医療機関URLを知っている人なら誰でも、自分の端末から手続きを始められます（URLや2次元コードを転送された第三者も含みます）。
console-settings-flows-from-invalid = 同意の手続きを始められる端末を選んでください。
demo-device-name = デモ端末
demo-index-device = このブラウザをデモ医療機関の端末として登録しました。デモ医療機関では、登録した端末だけが同意の手続きを始められます（本番では、医療機関等の管理者が端末を登録します）。
