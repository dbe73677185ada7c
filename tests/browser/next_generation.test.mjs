// The next card generation in a real browser: flow A at the demo's e-prescription
// clinic with the demo's P-384 card (ES384 token, under the demo's P-384 root),
// through the demo card reader.
//
// Run from the repository root (after `cargo build -p zaitaku`):
//   (cd tests/browser && npm ci && npm test)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLINIC, ITEMS, PHONE,
  expectAuthPage, expectH1, expectQualification, expectReader, onDevices, openInstitution, panel,
  pick, radio, readCard, rows, shot, useDemo,
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
