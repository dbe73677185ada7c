// Issue 5 in a real browser: a "PC" (a tablet-sized context) in 2D-code mode
// shows this authentication's code; the test decodes it from a screenshot and
// completes the authentication with `zaitaku card auth --card` on the demo's
// virtual card, as a phone's authenticator would; the PC page moves on by
// itself, without a reload. For flows A, B and C. And a second browser as the
// phone: it opens the scanned link, the demo reader claims it, a third is refused.
//
// Run from the repository root (after `cargo build -p zaitaku`):
//   (cd tests/browser && npm ci && npm test)
// The demo, the browser and the helpers are in support.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import {
  CLINIC, ITEMS, PHARMACY, PHONE, SATO, TABLET, YAMADA, ZAITAKU_BIN,
  decodeCodeOnScreen, demoCardFile, expectAuthPage, expectH1, expectReader, menuList, onDevices,
  openInstitution, openMenu, radio, readCard, rows, shot, useDemo,
} from './support.mjs';

useDemo(import.meta.url);

const run = promisify(execFile);

// The phone: its authenticator opens what it scanned, checks the matching code
// against the PC's, and signs with the card and PIN.
async function phoneAuthenticates(link, card, pin, matchingCode) {
  const { stdout, stderr } = await run(ZAITAKU_BIN, ['card', 'auth', '--card', demoCardFile(card), '--pin', pin, link], {
    timeout: 30_000,
  });
  assert.match(stderr, new RegExp(`matching code: ${matchingCode}`), 'the phone shows the PC\'s matching code');
  return JSON.parse(stdout.trim().split('\n').pop());
}

// On the PC's authentication page in 2D-code mode: decode the code, let the
// phone sign, and check the page moves on by itself.
async function authenticateByCode(pc, tag, card, pin) {
  await expectAuthPage(pc);
  assert.equal(await pc.getByRole('img', { name: 'この認証の二次元コード', exact: true }).isVisible(), true, 'in 2D-code mode');
  const matching = (await pc.locator('#matching-code').textContent()).trim();
  assert.match(matching, /^\d{4}$/);
  await shot(pc, `${tag}-qr-page`);
  const link = await decodeCodeOnScreen(pc, 'この認証の二次元コード', `${tag}-qr-code`);
  assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/auth\/[A-Za-z0-9_-]+$/);
  const waitingUrl = pc.url();
  const navigations = [];
  const onNavigated = (frame) => { if (frame === pc.mainFrame()) navigations.push(frame.url()); };
  pc.on('framenavigated', onNavigated);
  const verdict = await phoneAuthenticates(link, card, pin, matching);
  assert.equal(verdict.result, 'accepted');
  // Scanned a second time (another phone): refused.
  await assert.rejects(phoneAuthenticates(link, card, pin, matching), /already read by another device|already answered/);
  await pc.waitForURL((url) => url.href !== waitingUrl, { timeout: 5_000 });
  pc.off('framenavigated', onNavigated);
  assert.ok(navigations.length >= 1 && navigations[0] !== waitingUrl, `the page moved on by itself, not by a reload: ${navigations}`);
}

test('(j) PC + phone by 2D code: register, update and revoke at the e-prescription clinic', () =>
  onDevices([['j/pc', TABLET]], async ([pc]) => {
    await openInstitution(pc, CLINIC);
    // The tablet's menu: the flows once per way of reading the card.
    await openMenu(pc);
    const byCode = menuList(pc).getByRole('list', { name: 'スマートフォン（二次元コード）認証', exact: true });
    const byReader = menuList(pc).getByRole('list', { name: 'ICカードリーダライタ認証', exact: true });
    for (const group of [byCode, byReader]) {
      assert.deepEqual((await group.getByRole('listitem').allTextContents()).map((t) => t.trim()), ['同意登録', '同意照会・更新', 'すべての同意を取消す']);
    }
    await shot(pc, 'j-00-tablet-menu');
    await byCode.getByRole('button', { name: '同意登録', exact: true }).click();
    for (const item of ITEMS) await radio(pc, item, '同意する').check();
    await radio(pc, '処方箋の発行形態', '電子処方箋').check();
    await pc.getByRole('button', { name: '同意内容を確認する', exact: true }).click();
    await pc.getByRole('main').getByRole('button', { name: '同意内容を登録する', exact: true }).click();
    await authenticateByCode(pc, 'j-01-register', 'yamada', YAMADA.pin);
    await expectH1(pc, '資格確認・登録完了');

    // B: the remembered method is used for both cards.
    await openMenu(pc);
    await menuList(pc).getByRole('button', { name: '同意照会・更新', exact: true }).first().tap();
    await authenticateByCode(pc, 'j-02-view', 'yamada', YAMADA.pin); // the method is remembered
    await expectH1(pc, '更新内容の選択');
    await radio(pc, '特定健診情報', '同意しない').check();
    await pc.getByRole('button', { name: '更新内容を確認する', exact: true }).click();
    await pc.getByRole('button', { name: '同意内容を更新する', exact: true }).click();
    await authenticateByCode(pc, 'j-03-update', 'yamada', YAMADA.pin);
    await expectH1(pc, '登録内容の更新完了');
    const updated = await rows(pc.locator('main section').first());
    assert.equal(updated['特定健診情報'], '同意しない');

    // C.
    await openMenu(pc);
    await menuList(pc).getByRole('button', { name: 'すべての同意を取消す', exact: true }).first().tap();
    await pc.getByRole('main').getByRole('button', { name: 'すべての同意を取消す', exact: true }).click();
    await authenticateByCode(pc, 'j-04-revoke', 'yamada', YAMADA.pin);
    await expectH1(pc, '登録内容の取消し完了');
    await shot(pc, 'j-05-revoked');
  }));

test('(k) PC + phone by 2D code, the phone a second browser: the demo reader claims the code, a third device is refused', () =>
  onDevices([['k/pc', TABLET], ['k/phone', PHONE], ['k/other', PHONE]], async ([pc, phone, other]) => {
    await openInstitution(pc, PHARMACY);
    await openMenu(pc);
    await menuList(pc).getByRole('list', { name: 'スマートフォン（二次元コード）認証', exact: true })
      .getByRole('button', { name: '同意登録', exact: true }).click();
    for (const item of ITEMS) await radio(pc, item, '同意する').check();
    await pc.getByRole('button', { name: '同意内容を登録する', exact: true }).click();
    await pc.getByRole('main').getByRole('button', { name: '同意内容を登録する', exact: true }).click();
    await expectAuthPage(pc);
    const matching = (await pc.locator('#matching-code').textContent()).trim();
    const link = await decodeCodeOnScreen(pc, 'この認証の二次元コード', 'k-01-qr-code');
    const waitingUrl = pc.url();

    // The phone's camera opens the link; in the demo, the demo reader stands in
    // for the authenticator app, and reading it claims the challenge.
    await phone.goto(link);
    await expectH1(phone, '認証アプリで開くリンクです');
    await phone.getByRole('link', { name: 'デモ用カードリーダーで開く', exact: true }).click();
    await expectReader(phone, PHARMACY);
    await pc.getByText('認証アプリで読み取られました', { exact: false }).waitFor();
    await shot(pc, 'k-02-pc-claimed');

    // A third device scanning the same code is refused.
    await other.goto(link.replace('/auth/', '/demo/reader/'));
    await other.getByText('すでに別の端末で読み取られています', { exact: false }).waitFor();
    assert.equal(await other.getByLabel('暗証番号', { exact: true }).count(), 0, 'no PIN field on the refused device');
    await shot(other, 'k-03-other-refused');

    await readCard(phone, SATO, SATO.pin);
    await phone.getByText('読み取りが完了しました', { exact: false }).waitFor();
    await shot(phone, 'k-04-phone-done');
    await expectH1(pc, '資格確認・同意登録完了');
    assert.notEqual(pc.url(), waitingUrl);
    assert.match(matching, /^\d{4}$/);
    await shot(pc, 'k-05-pc-complete');
  }));

// Issue 16, part 3 and 4: a stranger's phone reads the PC's code first and
// reports a blocked PIN. The PC page says so by itself (when the code was read,
// what was reported), reads again with the choices kept, and the finished page
// is closed with 「閉じる」.
test('(m) PC + phone by 2D code: a stranger claims the code and reports a blocked PIN, the PC reads again and closes the result', () =>
  onDevices([['m/pc', TABLET]], async ([pc]) => {
    await openInstitution(pc, PHARMACY);
    await openMenu(pc);
    await menuList(pc).getByRole('list', { name: 'スマートフォン（二次元コード）認証', exact: true })
      .getByRole('button', { name: '同意登録', exact: true }).click();
    for (const item of ITEMS) await radio(pc, item, '同意する').check();
    await pc.getByRole('button', { name: '同意内容を登録する', exact: true }).click();
    await pc.getByRole('main').getByRole('button', { name: '同意内容を登録する', exact: true }).click();
    await expectAuthPage(pc);
    const link = await decodeCodeOnScreen(pc, 'この認証の二次元コード', 'm-01-qr-code');

    // The stranger's authenticator claims the challenge; the PC shows when, and 「読み取り直す」.
    const described = await fetch(link, { headers: { Accept: 'application/json' } });
    assert.equal(described.status, 200);
    const { claim } = await described.json();
    await pc.getByText('に認証アプリで読み取られました', { exact: false }).waitFor();
    assert.equal(await pc.getByRole('button', { name: '読み取り直す', exact: true }).isVisible(), true);
    await shot(pc, 'm-02-pc-claimed');

    // It reports a blocked PIN: the PC page turns to the notice by itself.
    const reported = await fetch(`${link}/error`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${claim}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({ code: 'pin_blocked' }),
    });
    assert.equal(reported.status, 200);
    await pc.getByText('「暗証番号がロックされています」と報告されました', { exact: false }).waitFor();
    await pc.getByText('二次元コードが別の端末で読み取られています', { exact: false }).waitFor();
    await shot(pc, 'm-03-pc-reported');

    // 「もう一度認証する」: a new code, the choices kept; the patient's phone reads it.
    await pc.getByRole('button', { name: 'もう一度認証する', exact: true }).click();
    await expectAuthPage(pc);
    const matching = (await pc.locator('#matching-code').textContent()).trim();
    const fresh = await decodeCodeOnScreen(pc, 'この認証の二次元コード', 'm-04-qr-code');
    assert.notEqual(fresh, link, 'a new code');
    const verdict = await phoneAuthenticates(fresh, 'sato', SATO.pin, matching);
    assert.equal(verdict.result, 'accepted');
    await expectH1(pc, '資格確認・同意登録完了');
    await pc.getByText('まで表示されます', { exact: false }).waitFor();
    await shot(pc, 'm-05-pc-complete');

    // 「閉じる」: the result is no longer shown.
    await pc.getByRole('button', { name: '閉じる', exact: true }).click();
    await expectH1(pc, '表示を終了しました');
    assert.equal(await pc.getByText(SATO.name, { exact: false }).count(), 0, 'no name left on screen');
    await shot(pc, 'm-06-pc-closed');
  }));
