// The IC-reader way in a real browser: the page on a tablet in Chromium, the card
// a demo card put in vsmartcard's virtual reader with `zaitaku card present`, read
// through pcscd by `zaitaku card auth --reader`; the page moves on by itself.
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
  demoCardFile, expectAuthPage, expectH1, expectQualification, onDevices, openInstitution, radio, shot,
  sleep, useDemo,
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
