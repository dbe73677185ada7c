## Invitations: the 2D code an enrolled device shows to a patient's own phone,
## and what an invitation that cannot be opened says; who asks, on the staff's
## authentication page.

invitation-lead = 患者さんご自身のスマートフォンのカメラで、この二次元コードを読み取ってください。読み取ったスマートフォンで、この医療機関等の同意の登録・照会・取消しを始められます（読み取ってから30分間）。
invitation-alt = 患者さんのスマートフォンで開く、1回だけ使える案内の二次元コード
invitation-until-label = 読み取りの有効期限
invitation-once-title = この二次元コードは1回だけ使えます
invitation-once = 最初に読み取った1台のスマートフォンだけが使えます。撮影や転送をされても、使われた後や有効期限（表示から10分）の後は開けません。この画面を開き直すと、新しい二次元コードになります。
error-invitation-used-title = この二次元コードはすでに使われています
error-invitation-used-body = この二次元コードは、別のスマートフォンで読み取られています。医療機関等の職員に、新しい二次元コードを表示してもらってください。何も登録・送信されていません。
error-invitation-expired-title = この二次元コードは有効期限が切れています
error-invitation-expired-body = 二次元コードは表示から10分間だけ使えます。医療機関等の職員に、新しい二次元コードを表示してもらってください。何も登録・送信されていません。
error-invitation-unknown-title = この二次元コードは使えません
error-invitation-unknown-body = 医療機関等の職員に、新しい二次元コードを表示してもらってください。何も登録・送信されていません。
auth-requester-label = 認証アプリに表示される依頼元:
