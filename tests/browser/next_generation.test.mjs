// The next card generation in a real browser: flow A at the demo's e-prescription
// clinic with the demo's P-384 card (ES384 token, under the demo's P-384 root),
// through the demo card reader; then flows B (view and update) and C (revoke)
// with the same card at the pharmacy.
//
// Run from the repository root (after `cargo build -p zaitaku`):
//   (cd tests/browser && npm ci && npm test)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLINIC, ITEMS, PHARMACY, PHONE,
  expectAuthPage, expectH1, expectQualification, expectReader, menuList, onDevices, openInstitution,
  openMenu, panel, pick, radio, readCard, rows, shot, useDemo,
} from './support.mjs';

useDemo(import.meta.url);

const NAKAMURA = { label: '中村 陽菜（有効・3割・次世代カード）', pin: '9012', name: '中村 陽菜', share: '3割' };

test('next-generation card (P-384): flow A through the demo reader, one wrong PIN then success', () =>
  onDevices([['ng', PHONE]], async ([page]) => {
    await openInstitution(page, CLINIC);
    await page.getByRole('button', { name: '同意登録をする', exact: true }).click();

    await expectH1(page, '同意内容、処方箋の発行形態の選択');
    for (const item of ITEMS) await radio(page, item, '同意する').check();
    await radio(page, '処方箋の発行形態', '電子処方箋').check();
    await page.getByRole('button', { name: '同意内容を確認する', exact: true }).click();

    await expectH1(page, '登録内容の確認');
    await page.getByRole('button', { name: '同意内容を登録する', exact: true }).click();

    await expectAuthPage(page);
    await page.getByRole('link', { name: '読み取り開始', exact: true }).click();
    await expectReader(page, CLINIC);
    await shot(page, 'ng-01-reader');
    await readCard(page, NAKAMURA, '0000');
    await page.getByText('暗証番号が違います。残り2回です。').waitFor();
    await readCard(page, NAKAMURA, NAKAMURA.pin);

    await expectH1(page, '資格確認・登録完了');
    const registered = await rows(panel(page, '登録内容'));
    assert.deepEqual(registered, {
      医療機関等: CLINIC,
      薬剤情報: '同意する',
      診療情報: '同意する',
      特定健診情報: '同意する',
      処方箋の発行形態: '電子処方箋',
      ...pick(registered, '同意の有効期限'),
    });
    await expectQualification(page, NAKAMURA);
    await shot(page, 'ng-02-complete');
  }));

// On the authentication page: 「読み取り開始」, then the demo reader with the P-384 card.
async function authenticate(page, institution) {
  await expectAuthPage(page);
  await page.getByRole('link', { name: '読み取り開始', exact: true }).click();
  await expectReader(page, institution);
  await readCard(page, NAKAMURA, NAKAMURA.pin);
}

async function fromMenu(page, entry) {
  await openMenu(page);
  await menuList(page).getByRole('button', { name: entry, exact: true }).tap();
}

async function checked(page, item) {
  for (const label of ['同意する', '同意しない']) {
    if (await radio(page, item, label).isChecked()) return label;
  }
  return null;
}

test('next-generation card (P-384): flows B (view, update) and C (revoke) at the pharmacy', () =>
  onDevices([['ng-bc', PHONE]], async ([page]) => {
    await openInstitution(page, PHARMACY);
    // A first, so there is something to view.
    await page.getByRole('button', { name: '同意登録をする', exact: true }).click();
    await radio(page, '薬剤情報', '同意する').check();
    await radio(page, '診療情報', '同意しない').check();
    await radio(page, '特定健診情報', '同意する').check();
    await page.getByRole('button', { name: '同意内容を登録する', exact: true }).click();
    await page.getByRole('main').getByRole('button', { name: '同意内容を登録する', exact: true }).click();
    await authenticate(page, PHARMACY);
    await expectH1(page, '資格確認・同意登録完了');
    await expectQualification(page, NAKAMURA);

    // B: the P-384 card shows the consent, pre-selected as registered.
    await fromMenu(page, '同意照会・更新');
    await authenticate(page, PHARMACY);
    await expectH1(page, '更新内容の選択');
    await page.getByText('過去の同意内容').waitFor();
    assert.deepEqual(
      Object.fromEntries(await Promise.all(ITEMS.map(async (item) => [item, await checked(page, item)]))),
      { 薬剤情報: '同意する', 診療情報: '同意しない', 特定健診情報: '同意する' },
    );
    await shot(page, 'ng-03-update-select');
    await radio(page, '診療情報', '同意する').check();
    await page.getByRole('button', { name: '更新内容を確認する', exact: true }).click();
    await expectH1(page, '同意内容の更新確認');
    assert.deepEqual(await rows(page.locator('main')), {
      薬剤情報: '同意する',
      診療情報: '同意する（変更前：同意しない）',
      特定健診情報: '同意する',
    });
    await page.getByRole('button', { name: '同意内容を更新する', exact: true }).click();
    // The P-384 card saves it.
    await authenticate(page, PHARMACY);
    await expectH1(page, '同意内容の更新完了');
    const updated = await rows(panel(page, '登録内容'));
    assert.deepEqual(updated, {
      医療機関等: PHARMACY,
      薬剤情報: '同意する',
      診療情報: '同意する',
      特定健診情報: '同意する',
      ...pick(updated, '同意の有効期限'),
    });
    await shot(page, 'ng-04-updated');

    // C: revoke everything with the P-384 card.
    await fromMenu(page, 'すべての同意を取消す');
    await expectH1(page, '同意内容の取消し確認');
    await page.getByRole('main').getByRole('button', { name: 'すべての同意を取消す', exact: true }).click();
    await authenticate(page, PHARMACY);
    await expectH1(page, '同意取消しの完了');
    await shot(page, 'ng-05-revoked');

    // B again: nothing registered for this card.
    await fromMenu(page, '同意照会・更新');
    await authenticate(page, PHARMACY);
    await expectH1(page, '登録されている同意はありません');
  }));
