// Flows B and C in a real browser, in the order a patient lives them: register,
// view and update from the menu (「同意照会・更新」), revoke everything, then view
// again and be told nothing is registered. Once at the e-prescription clinic on
// the staff's phone, once at the pharmacy on the patient's own phone, opened from
// the 2D code the staff's tablet shows (decoded from a screenshot).
//
// Run from the repository root (after `cargo build -p zaitaku`):
//   (cd tests/browser && npm ci && npm test)
// The demo, the browser and the helpers are in support.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLINIC, ITEMS, PHARMACY, PHONE, SATO, TABLET, YAMADA, baseUrl,
  expectAuthPage, expectH1, expectReader, menuList, onDevices, openInstitution, openMenu, panel,
  pick, radio, readCard, readInvitationFromScreen, rows, shot, useDemo,
} from './support.mjs';

useDemo(import.meta.url);

// A menu entry that starts a flow (a form button in the opened menu).
async function fromMenu(page, entry) {
  await openMenu(page);
  await menuList(page).getByRole('button', { name: entry, exact: true }).tap();
}

// On the authentication page: 「読み取り開始」, then the demo reader with `card`.
async function authenticate(page, institution, card) {
  await expectAuthPage(page);
  await page.getByRole('link', { name: '読み取り開始', exact: true }).click();
  await expectReader(page, institution);
  await readCard(page, card, card.pin);
}

async function checked(page, item) {
  for (const label of ['同意する', '同意しない']) {
    if (await radio(page, item, label).isChecked()) return label;
  }
  return null;
}

// Flow A with every item answered as `answers` (and the form where asked).
async function register(page, institution, card, answers, form) {
  await page.getByRole('button', { name: '同意登録をする', exact: true }).click();
  for (const [item, label] of Object.entries(answers)) await radio(page, item, label).check();
  if (form) await radio(page, '処方箋の発行形態', form).check();
  const clinic = institution === CLINIC;
  await page.getByRole('button', { name: clinic ? '同意内容を確認する' : '同意内容を登録する', exact: true }).click();
  await page.getByRole('main').getByRole('button', { name: '同意内容を登録する', exact: true }).click();
  await authenticate(page, institution, card);
  await expectH1(page, clinic ? '資格確認・登録完了' : '資格確認・同意登録完了');
}

// Register → view and update → revoke → view again, with `wording` for the
// institution's own pages; `tag` names the screenshots.
async function livedSequence(page, tag, institution, card, wording) {
  await register(page, institution, card, { 薬剤情報: '同意する', 診療情報: '同意する', 特定健診情報: '同意しない' }, wording.form && '紙の処方箋');

  // B: the first card shows the registration, pre-selected.
  await fromMenu(page, '同意照会・更新');
  await expectAuthPage(page);
  await page.getByText(wording.select, { exact: true }).first().waitFor(); // step ③ ahead
  await shot(page, `${tag}-01-view-authenticate`);
  await authenticate(page, institution, card);
  await expectH1(page, '更新内容の選択');
  await page.getByText(wording.past).waitFor();
  assert.deepEqual(
    Object.fromEntries(await Promise.all(ITEMS.map(async (item) => [item, await checked(page, item)]))),
    { 薬剤情報: '同意する', 診療情報: '同意する', 特定健診情報: '同意しない' },
  );
  if (wording.form) assert.equal(await radio(page, '処方箋の発行形態', '紙の処方箋').isChecked(), true);
  await shot(page, `${tag}-02-update-select`);

  // Nothing changed: said so, and still here.
  await page.getByRole('button', { name: '更新内容を確認する', exact: true }).click();
  await page.getByText('変更された項目がありません', { exact: false }).waitFor();
  await expectH1(page, '更新内容の選択');

  // Change two answers (and the form), confirm, fix, confirm again.
  await radio(page, '診療情報', '同意しない').check();
  await radio(page, '特定健診情報', '同意する').check();
  if (wording.form) await radio(page, '処方箋の発行形態', '電子処方箋').check();
  await page.getByRole('button', { name: '更新内容を確認する', exact: true }).click();
  await expectH1(page, wording.confirm);
  assert.deepEqual(await rows(page.locator('main')), {
    薬剤情報: '同意する',
    診療情報: '同意しない（変更前：同意する）',
    特定健診情報: '同意する（変更前：同意しない）',
    ...(wording.form ? { 処方箋の発行形態: '電子処方箋（変更前：紙の処方箋）' } : {}),
  });
  await shot(page, `${tag}-03-update-confirm`);
  await page.getByRole('link', { name: '選択内容を修正する', exact: true }).click();
  await expectH1(page, '更新内容の選択');
  assert.equal(await checked(page, '診療情報'), '同意しない', 'the edit is kept');
  await radio(page, '薬剤情報', '同意しない').check();
  await page.getByRole('button', { name: '更新内容を確認する', exact: true }).click();
  await expectH1(page, wording.confirm);
  await page.getByRole('button', { name: '同意内容を更新する', exact: true }).click();

  // The second card saves it.
  await authenticate(page, institution, card);
  await expectH1(page, wording.updated);
  await page.getByText(wording.updatedDone, { exact: true }).waitFor();
  const updated = await rows(panel(page, '登録内容'));
  assert.deepEqual(updated, {
    医療機関等: institution,
    薬剤情報: '同意しない',
    診療情報: '同意しない',
    特定健診情報: '同意する',
    ...(wording.form ? { 処方箋の発行形態: '電子処方箋' } : {}),
    ...pick(updated, '同意の有効期限'),
  });
  assert.equal(await panel(page, '資格情報').count(), 0, 'an update confirms no qualification');
  await shot(page, `${tag}-04-updated`);

  // C: revoke everything, from the menu.
  await fromMenu(page, 'すべての同意を取消す');
  await expectH1(page, wording.revokeConfirm);
  await page.getByRole('main').getByRole('button', { name: 'すべての同意を取消す', exact: true }).click();
  await authenticate(page, institution, card);
  await expectH1(page, wording.revoked);
  await shot(page, `${tag}-05-revoked`);

  // B again: nothing registered, and the way to register.
  await fromMenu(page, '同意照会・更新');
  await authenticate(page, institution, card);
  await expectH1(page, '登録されている同意はありません');
  await page.getByText('同意するときは、同意登録をしてください。', { exact: false }).waitFor();
  await shot(page, `${tag}-06-nothing-registered`);
  await page.getByRole('main').getByRole('button', { name: '同意登録をする', exact: true }).click();
  await expectH1(page, wording.registerSelect);
}

test('(h) e-prescription clinic: register, view and update, revoke, view again', () =>
  onDevices([['h', PHONE]], async ([page]) => {
    await openInstitution(page, CLINIC);
    await livedSequence(page, 'h', CLINIC, YAMADA, {
      form: true,
      select: '登録内容の照会、更新内容の選択・確認',
      past: '過去の登録内容',
      confirm: '登録内容の更新確認',
      updated: '登録内容の更新完了',
      updatedDone: '登録内容の更新が完了しました',
      revokeConfirm: '登録内容の取消し確認',
      revoked: '登録内容の取消し完了',
      registerSelect: '同意内容、処方箋の発行形態の選択',
    });
  }));

test('(i) pharmacy, on the patient\'s own phone from the 2D code: register, view and update, revoke, view again; a third phone is refused', () =>
  // The staff's tablet (an enrolled device) shows the code; the patient's phone
  // is another device, enrolled nowhere; so is a third that photographed it.
  onDevices([['i/tablet', TABLET], ['i/patient', PHONE], ['i/third', PHONE]], async ([tablet, patient, third]) => {
    await openInstitution(tablet, PHARMACY);
    const institutionUrl = tablet.url();
    await tablet.getByRole('link', { name: '二次元コードを表示する', exact: true }).click();
    const decoded = await readInvitationFromScreen(tablet, 'i-00-qr-code', 360);
    assert.match(decoded, new RegExp(`^${baseUrl}v/`));

    await patient.goto(decoded);
    await expectH1(patient, '同意登録の準備');
    assert.equal(patient.url(), institutionUrl);

    // The same code, opened by a third phone after the patient's: refused, and
    // the institution's URL starts nothing there either.
    await third.goto(decoded);
    await expectH1(third, 'この二次元コードはすでに使われています');
    await shot(third, 'i-00-third-refused');
    await third.goto(institutionUrl);
    await expectH1(third, 'この端末は登録されていません');
    await livedSequence(patient, 'i', PHARMACY, SATO, {
      form: false,
      select: '同意内容の照会、更新内容の選択・確認',
      past: '過去の同意内容',
      confirm: '同意内容の更新確認',
      updated: '同意内容の更新完了',
      updatedDone: '同意内容の更新が完了しました',
      revokeConfirm: '同意内容の取消し確認',
      revoked: '同意取消しの完了',
      registerSelect: '同意登録内容の選択',
    });
  }));
