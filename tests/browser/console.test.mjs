// The institution console in a real browser: after flow A on the patient's
// phone, a staff member logs in on a PC with password and second factor, finds
// the patient, sees the consented medication but not the declined check-up
// data, revokes the consent for the patient, and sees everything hidden.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLINIC, PHONE, YAMADA, baseUrl, demoOutput, expectAuthPage, expectH1, expectQualification, onDevices,
  openInstitution, radio, readCard, rows, shot, totp, useDemo,
} from './support.mjs';

useDemo(import.meta.url);

// A desk PC at the clinic.
const PC = { viewport: { width: 1280, height: 860 }, deviceScaleFactor: 1 };

// The demo prints each institution's administrator login, the shared password
// and the TOTP secret (which the test adds to its "authenticator app").
function demoStaff(institution) {
  const line = demoOutput.find((l) => l.includes(institution) && / login \S+/.test(l));
  assert.ok(line, `the demo prints a staff login for ${institution}:\n${demoOutput.join('\n')}`);
  const text = demoOutput.join('\n');
  const password = /password ([^\s;]+)/.exec(text);
  const secret = /TOTP secret ([A-Z2-7]+)/.exec(text);
  assert.ok(password && secret, `the demo prints the password and TOTP secret:\n${text}`);
  return { login: / login (\S+)/.exec(line)[1], password: password[1], secret: secret[1] };
}

test('(l) staff log in with both factors, see only consented records, revoke, and see them gone', () =>
  onDevices([['l-phone', PHONE], ['l-pc', PC]], async ([phone, pc]) => {
    // Flow A on the patient's phone: medication and clinical yes, check-up no.
    await openInstitution(phone, CLINIC);
    await phone.getByRole('button', { name: '同意登録をする', exact: true }).click();
    await radio(phone, '薬剤情報', '同意する').check();
    await radio(phone, '診療情報', '同意する').check();
    await radio(phone, '特定健診情報', '同意しない').check();
    await radio(phone, '処方箋の発行形態', '電子処方箋').check();
    await phone.getByRole('button', { name: '同意内容を確認する', exact: true }).click();
    await phone.getByRole('button', { name: '同意内容を登録する', exact: true }).click();
    await expectAuthPage(phone);
    await phone.getByRole('link', { name: '読み取り開始', exact: true }).click();
    await readCard(phone, YAMADA, YAMADA.pin);
    await expectH1(phone, '資格確認・登録完了');
    await expectQualification(phone, YAMADA);

    // The staff member logs in: password, then the authenticator app's code.
    const staff = demoStaff(CLINIC);
    await pc.goto(`${baseUrl}console/login`);
    await pc.getByLabel('ログインID', { exact: true }).fill(staff.login);
    await pc.getByLabel('パスワード', { exact: true }).fill(staff.password);
    await shot(pc, 'l-01-login');
    await pc.getByRole('button', { name: 'ログイン', exact: true }).click();
    await pc.getByLabel(/確認コード/).fill(totp(staff.secret));
    await shot(pc, 'l-02-code');
    await pc.getByRole('button', { name: '確認', exact: true }).click();

    // The patient list, narrowed by name.
    await expectH1(pc, '同意取得済み患者一覧');
    await pc.getByLabel('氏名・氏名カナ（一部）', { exact: true }).fill('山田');
    await pc.getByRole('button', { name: '絞り込む', exact: true }).click();
    await shot(pc, 'l-03-patients');
    await pc.getByRole('link', { name: YAMADA.name, exact: true }).click();

    // The patient's page: medication shown, check-up withheld.
    await expectH1(pc, YAMADA.name);
    const consent = await rows(pc.locator('section', { has: pc.getByRole('heading', { name: '同意の状態' }) }));
    assert.equal(consent['状態'], '同意あり');
    const medication = pc.getByRole('region', { name: '薬剤情報' });
    await medication.getByText('アムロジピン錠5mg').first().waitFor();
    const checkup = pc.getByRole('region', { name: '特定健診情報' });
    await checkup.getByText('患者の同意がないため表示できません').waitFor();
    assert.equal(await pc.getByText('HbA1c').count(), 0, 'no check-up data on the page');
    await shot(pc, 'l-04-patient');

    // Revoke for the patient, with confirmation.
    await pc.getByRole('link', { name: 'すべての同意を取消す', exact: true }).click();
    await expectH1(pc, 'すべての同意の取消し確認');
    await shot(pc, 'l-05-revoke-confirm');
    await pc.getByRole('button', { name: 'すべての同意を取消す', exact: true }).click();
    await pc.getByText('すべての同意を取り消しました').waitFor();
    assert.equal(await pc.getByText('アムロジピン錠5mg').count(), 0, 'medication hidden at once');
    assert.equal(await pc.getByRole('region', { name: '薬剤情報' }).count(), 0);
    await pc.getByText('同意が有効でないため').waitFor();
    await shot(pc, 'l-06-revoked');
  }));
