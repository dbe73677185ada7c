// The IC-reader way in a real browser: the page on a tablet in Chromium, the card
// a demo card put in vsmartcard's virtual reader with `zaitaku card present`, read
// through pcscd by `zaitaku card auth --reader`; the page moves on by itself.
// Flow A first, then flows B (view and update) and C (revoke) for the same card,
// in the e-prescription clinic's wording (登録内容の…).
//
// Needs pcscd with vsmartcard-vpcd: scripts/test starts them and sets
// ZAITAKU_TEST_PCSC=1. Without it the case is skipped, and says so.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { promisify } from 'node:util';
import {
  CLINIC, ITEMS, TABLET, YAMADA, ZAITAKU_BIN,
  demoCardFile, expectAuthPage, expectH1, expectQualification, menuList, onDevices, openInstitution, openMenu,
  radio, rows, shot, sleep, useDemo,
} from './support.mjs';

const run = promisify(execFile);
const skip = process.env.ZAITAKU_TEST_PCSC
  ? false
  : 'SKIPPED: needs pcscd with vsmartcard-vpcd; run scripts/test, which starts them and sets ZAITAKU_TEST_PCSC=1';

useDemo(import.meta.url);

// `zaitaku card present` with the card, once pcscd shows it in the virtual reader.
async function present(card) {
  const child = spawn(ZAITAKU_BIN, ['card', 'present', '--card', card], { stdio: 'ignore' });
  const deadline = Date.now() + 60_000;
  for (;;) {
    const { stdout } = await run(ZAITAKU_BIN, ['card', 'readers']).catch((e) => e);
    if (/^card +Virtual PCD/m.test(stdout ?? '')) return child;
    assert.ok(Date.now() < deadline, `pcscd never showed the card: ${stdout}`);
    await sleep(200);
  }
}

test('flow A on a tablet, the card read from the IC reader by `card auth --reader`', { skip }, () =>
  onDevices([['ic', TABLET]], async ([page]) => {
    const presented = await present(demoCardFile('yamada'));
    try {
      await openInstitution(page, CLINIC);
      await page.getByRole('button', { name: '同意登録をする', exact: true }).click();
      for (const item of ITEMS) await radio(page, item, '同意する').check();
      await radio(page, '処方箋の発行形態', '紙の処方箋').check();
      await page.getByRole('button', { name: '同意内容を確認する', exact: true }).click();
      await page.getByRole('main').getByRole('button', { name: '同意内容を登録する', exact: true }).click();
      await expectAuthPage(page);

      // The link the page hands the authenticator app; the staff's PC runs it.
      const link = (await page.locator('code', { hasText: '/auth/' }).first().textContent()).trim();
      assert.match(link, /^http:\/\/127\.0\.0\.1:\d+\/auth\/[\w-]+$/);
      await shot(page, 'ic-01-authenticate');
      const { stdout, stderr } = await run(
        ZAITAKU_BIN, ['card', 'auth', '--reader', '--wait', '60', '--pin', YAMADA.pin, link],
      );
      assert.match(stderr, /card reader: Virtual PCD/);
      assert.match(stdout, /"accepted"/);

      // No click: the page notices and moves on.
      await expectH1(page, '資格確認・登録完了');
      await expectQualification(page, YAMADA);
      await shot(page, 'ic-02-complete');
    } finally {
      presented.kill('SIGTERM');
      await once(presented, 'exit');
    }
  }));

// The authentication page's link read by `card auth --reader` (the staff PC's
// authenticator); the page then moves on by itself.
async function readFromReader(page, pin) {
  await expectAuthPage(page);
  const link = (await page.locator('code', { hasText: '/auth/' }).first().textContent()).trim();
  const { stdout } = await run(ZAITAKU_BIN, ['card', 'auth', '--reader', '--wait', '60', '--pin', pin, link]);
  assert.match(stdout, /"accepted"/);
}

async function fromMenu(page, entry) {
  await openMenu(page);
  // The tablet's width shows the menu's entries more than once; the visible one is tapped.
  await menuList(page).getByRole('button', { name: entry, exact: true }).filter({ visible: true }).first().click();
}

test('flows B (view, update) and C (revoke) on the tablet, each read from the IC reader', { skip }, () =>
  onDevices([['ic-bc', TABLET]], async ([page]) => {
    const presented = await present(demoCardFile('yamada'));
    try {
      // Flow B: the consent registered above, shown for update.
      await openInstitution(page, CLINIC);
      await fromMenu(page, '同意照会・更新');
      await readFromReader(page, YAMADA.pin);
      await expectH1(page, '更新内容の選択');
      // Pre-selected as registered in the test above.
      for (const item of ITEMS) assert.ok(await radio(page, item, '同意する').isChecked(), item);
      await radio(page, '診療情報', '同意しない').check();
      await page.getByRole('button', { name: '更新内容を確認する', exact: true }).click();
      await expectH1(page, '登録内容の更新確認');
      assert.equal((await rows(page.locator('main')))['診療情報'], '同意しない（変更前：同意する）');
      await page.getByRole('button', { name: '同意内容を更新する', exact: true }).click();
      await readFromReader(page, YAMADA.pin);
      await expectH1(page, '登録内容の更新完了');
      await shot(page, 'ic-03-updated');

      // Flow C: revoke everything; then B finds nothing.
      await fromMenu(page, 'すべての同意を取消す');
      await expectH1(page, '登録内容の取消し確認');
      await page.getByRole('main').getByRole('button', { name: 'すべての同意を取消す', exact: true }).click();
      await readFromReader(page, YAMADA.pin);
      await expectH1(page, '登録内容の取消し完了');
      await shot(page, 'ic-04-revoked');
      await fromMenu(page, '同意照会・更新');
      await readFromReader(page, YAMADA.pin);
      await expectH1(page, '登録されている同意はありません');
    } finally {
      presented.kill('SIGTERM');
      await once(presented, 'exit');
    }
  }));
