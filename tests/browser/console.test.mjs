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

test('(m) the administrator enrols a tablet by activation code, and the tablet runs flow A', () =>
  onDevices([['m-pc', PC], ['m-tablet', PHONE]], async ([pc, tablet]) => {
    // The institution's URL, as printed by the demo.
    const index = demoOutput.findIndex((l) => l.trim().startsWith(CLINIC));
    const institutionUrl = demoOutput[index + 1].trim();
    assert.match(institutionUrl, /\/i\/[A-Za-z0-9_-]{43}$/);

    // A tablet that is no device of the clinic is told so, and what to do.
    await tablet.goto(institutionUrl);
    await expectH1(tablet, 'この端末は登録されていません');
    await tablet.getByText('端末登録コード').first().waitFor();
    await shot(tablet, 'm-01-not-enrolled');

    // The administrator issues a one-time code on the 端末 page.
    const staff = demoStaff(CLINIC);
    await pc.goto(`${baseUrl}console/login`);
    await pc.getByLabel('ログインID', { exact: true }).fill(staff.login);
    await pc.getByLabel('パスワード', { exact: true }).fill(staff.password);
    await pc.getByRole('button', { name: 'ログイン', exact: true }).click();
    // The next step's code (accepted one step ahead): case (l) may have used
    // this step's, and a code is good once.
    await pc.getByLabel(/確認コード/).fill(totp(staff.secret, Date.now() + 30_000));
    await pc.getByRole('button', { name: '確認', exact: true }).click();
    await expectH1(pc, '同意取得済み患者一覧');
    await pc.getByRole('link', { name: '端末', exact: true }).click();
    await expectH1(pc, '端末の管理');
    await pc.getByLabel(/^端末名/).fill('訪問用タブレット1');
    await pc.getByRole('button', { name: '登録コードを発行', exact: true }).click();
    const code = (await pc.getByTestId('activation-code').textContent()).trim();
    assert.match(code, /^[0-9A-HJKMNP-TV-Z]{4}-[0-9A-HJKMNP-TV-Z]{4}$/);
    await shot(pc, 'm-02-code-issued');

    // The tablet types it at /device, from the link on the refusal page.
    await tablet.getByRole('link', { name: '端末の登録へ', exact: true }).click();
    await expectH1(tablet, '端末の登録');
    await tablet.getByLabel(/^端末登録コード/).fill(code.toLowerCase());
    await tablet.getByRole('button', { name: 'この端末を登録する', exact: true }).click();
    await expectH1(tablet, 'この端末を登録しました');
    assert.equal((await tablet.getByTestId('device-name').textContent()).trim(), '訪問用タブレット1');
    await shot(tablet, 'm-03-enrolled');

    // Flow A on the tablet, to the end.
    await tablet.getByRole('link', { name: '医療機関等の画面を開く', exact: true }).click();
    await expectH1(tablet, '同意登録の準備');
    await tablet.getByRole('button', { name: '同意登録をする', exact: true }).click();
    await radio(tablet, '薬剤情報', '同意する').check();
    await radio(tablet, '診療情報', '同意する').check();
    await radio(tablet, '特定健診情報', '同意する').check();
    await radio(tablet, '処方箋の発行形態', '電子処方箋').check();
    await tablet.getByRole('button', { name: '同意内容を確認する', exact: true }).click();
    await tablet.getByRole('button', { name: '同意内容を登録する', exact: true }).click();
    await expectAuthPage(tablet);
    await tablet.getByRole('link', { name: '読み取り開始', exact: true }).click();
    await readCard(tablet, YAMADA, YAMADA.pin);
    await expectH1(tablet, '資格確認・登録完了');

    // The console lists it, with who enrolled it; the same code is dead now.
    await pc.getByRole('link', { name: '端末', exact: true }).click();
    await pc.getByRole('cell', { name: '訪問用タブレット1', exact: true }).waitFor();
    await shot(pc, 'm-04-devices');
  }));
