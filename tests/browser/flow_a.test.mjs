// Flow A in a real browser: headless Debian Chromium, driven by playwright-core,
// clicking through the `zaitaku demo` by visible labels on a phone-sized screen;
// and, from the same first screen, the institution URL's 2D code (decoded from a
// screenshot and opened on a second "phone"), the FAQ behind the footer link,
// flow C from the menu, and the menu itself on a phone with JavaScript off.
//
// Run from the repository root (after `cargo build -p zaitaku`):
//   (cd tests/browser && npm ci && npm test)
// The demo, the browser and the helpers are in support.mjs.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CLINIC, ITEMS, NURSING, PHARMACY, PHONE, SATO, TABLET, YAMADA,
  baseUrl, expectAuthPage, expectH1, expectQualification, expectReader, menuButton, menuList,
  onDevices, openInstitution, openMenu, panel, pick, radio, readCard, readInvitationFromScreen, rows, shot,
  useDemo,
} from './support.mjs';

useDemo(import.meta.url);

// ---------------------------------------------------------------- cases

test('(a) e-prescription clinic: all items, electronic prescription, fix a choice, wrong PIN then success', () =>
  onDevices([['a', PHONE]], async ([page]) => {
    await openInstitution(page, CLINIC);
    await shot(page, 'a-01-prepare');
    await page.getByRole('button', { name: '同意登録をする', exact: true }).click();

    // Selection: answer only the first item, submit, get the error.
    await expectH1(page, '同意内容、処方箋の発行形態の選択');
    await shot(page, 'a-02-select');
    await radio(page, '薬剤情報', '同意する').check();
    await page.getByRole('button', { name: '同意内容を確認する', exact: true }).click();
    await page.getByText('選択されていない項目があります').waitFor();
    await expectH1(page, '同意内容、処方箋の発行形態の選択');
    assert.equal(await radio(page, '薬剤情報', '同意する').isChecked(), true, 'the answered item is kept');
    await shot(page, 'a-03-select-error');

    for (const item of ITEMS) await radio(page, item, '同意する').check();
    await radio(page, '処方箋の発行形態', '電子処方箋').check();
    await page.getByRole('button', { name: '同意内容を確認する', exact: true }).click();

    // Confirmation, then back to fix one answer.
    await expectH1(page, '登録内容の確認');
    assert.deepEqual(await rows(page.locator('main')), {
      薬剤情報: '同意する',
      診療情報: '同意する',
      特定健診情報: '同意する',
      処方箋の発行形態: '電子処方箋',
    });
    await shot(page, 'a-04-confirm');
    await page.getByRole('link', { name: '選択内容を修正する', exact: true }).click();

    await expectH1(page, '同意内容、処方箋の発行形態の選択');
    for (const item of ITEMS) {
      assert.equal(await radio(page, item, '同意する').isChecked(), true, `${item} is still 同意する`);
    }
    assert.equal(await radio(page, '処方箋の発行形態', '電子処方箋').isChecked(), true, '電子処方箋 is still chosen');
    assert.equal(await page.getByText('選択されていない項目があります').count(), 0);
    await shot(page, 'a-05-select-again');
    await radio(page, '特定健診情報', '同意しない').check();
    await page.getByRole('button', { name: '同意内容を確認する', exact: true }).click();

    await expectH1(page, '登録内容の確認');
    assert.deepEqual(await rows(page.locator('main')), {
      薬剤情報: '同意する',
      診療情報: '同意する',
      特定健診情報: '同意しない',
      処方箋の発行形態: '電子処方箋',
    });
    await shot(page, 'a-06-confirm-fixed');
    await page.getByRole('button', { name: '同意内容を登録する', exact: true }).click();

    // Authentication: the demo reader, one wrong PIN, then the right one.
    await expectAuthPage(page);
    await shot(page, 'a-07-authenticate');
    await page.getByRole('link', { name: '読み取り開始', exact: true }).click();
    await expectReader(page, CLINIC);
    await shot(page, 'a-08-reader');
    await readCard(page, YAMADA, '0000');
    await page.getByText('暗証番号が違います。残り2回です。').waitFor();
    await expectReader(page, CLINIC);
    await shot(page, 'a-09-reader-wrong-pin');
    await readCard(page, YAMADA, YAMADA.pin);

    // Back at the service by itself: completion.
    await expectH1(page, '資格確認・登録完了');
    const registered = await rows(panel(page, '登録内容'));
    assert.deepEqual(registered, {
      医療機関等: CLINIC,
      薬剤情報: '同意する',
      診療情報: '同意する',
      特定健診情報: '同意しない',
      処方箋の発行形態: '電子処方箋',
      ...pick(registered, '同意の有効期限'),
    });
    await expectQualification(page, YAMADA);
    await shot(page, 'a-10-complete');
  }));

test('(b) pharmacy: its own wording, fix a choice, wrong PIN then success', () =>
  onDevices([['b', PHONE]], async ([page]) => {
    await openInstitution(page, PHARMACY);
    await shot(page, 'b-01-prepare');
    await page.getByRole('button', { name: '同意登録をする', exact: true }).click();

    await expectH1(page, '同意登録内容の選択');
    assert.equal(await page.getByRole('group', { name: '処方箋の発行形態' }).count(), 0, 'no prescription form at a pharmacy');
    await radio(page, '診療情報', '同意しない').check();
    await page.getByRole('button', { name: '同意内容を登録する', exact: true }).click();
    await page.getByText('選択されていない項目があります').waitFor();
    assert.equal(await radio(page, '診療情報', '同意しない').isChecked(), true, 'the answered item is kept');
    await shot(page, 'b-02-select-error');

    await radio(page, '薬剤情報', '同意する').check();
    await radio(page, '特定健診情報', '同意する').check();
    await page.getByRole('button', { name: '同意内容を登録する', exact: true }).click();

    await expectH1(page, '同意登録内容の確認');
    assert.deepEqual(await rows(page.locator('main')), {
      薬剤情報: '同意する',
      診療情報: '同意しない',
      特定健診情報: '同意する',
    });
    await shot(page, 'b-03-confirm');
    await page.getByRole('link', { name: '選択内容を修正する', exact: true }).click();

    await expectH1(page, '同意登録内容の選択');
    assert.equal(await radio(page, '薬剤情報', '同意する').isChecked(), true);
    assert.equal(await radio(page, '診療情報', '同意しない').isChecked(), true);
    assert.equal(await radio(page, '特定健診情報', '同意する').isChecked(), true);
    await radio(page, '診療情報', '同意する').check();
    await page.getByRole('button', { name: '同意内容を登録する', exact: true }).click();

    await expectH1(page, '同意登録内容の確認');
    assert.deepEqual(await rows(page.locator('main')), {
      薬剤情報: '同意する',
      診療情報: '同意する',
      特定健診情報: '同意する',
    });
    await shot(page, 'b-04-confirm-fixed');
    await page.getByRole('button', { name: '同意内容を登録する', exact: true }).click();

    await expectAuthPage(page);
    await shot(page, 'b-05-authenticate');
    await page.getByRole('link', { name: '読み取り開始', exact: true }).click();
    await expectReader(page, PHARMACY);
    // The same card as in (a): its right PIN there reset the counter to 3.
    await readCard(page, YAMADA, '9999');
    await page.getByText('暗証番号が違います。残り2回です。').waitFor();
    await shot(page, 'b-06-reader-wrong-pin');
    await readCard(page, YAMADA, YAMADA.pin);

    await expectH1(page, '資格確認・同意登録完了');
    const registered = await rows(panel(page, '登録内容'));
    assert.deepEqual(registered, {
      医療機関等: PHARMACY,
      薬剤情報: '同意する',
      診療情報: '同意する',
      特定健診情報: '同意する',
      ...pick(registered, '同意の有効期限'),
    });
    await expectQualification(page, YAMADA);
    await shot(page, 'b-07-complete');
  }));

test('(c) visiting nursing: the card reads on another page, the waiting page moves on by itself', () =>
  onDevices([['c', PHONE]], async ([page], open, [context]) => {
    const statusPolls = [];
    page.on('request', (r) => {
      if (/\/f\/[^/]+\/status$/.test(new URL(r.url()).pathname)) statusPolls.push(r.url());
    });
    await openInstitution(page, NURSING);
    await page.getByRole('button', { name: '同意登録をする', exact: true }).click();
    await expectH1(page, '同意登録内容の選択');
    for (const item of ITEMS) await radio(page, item, '同意する').check();
    await page.getByRole('button', { name: '同意内容を登録する', exact: true }).click();
    await expectH1(page, '同意登録内容の確認');
    await page.getByRole('button', { name: '同意内容を登録する', exact: true }).click();

    await expectAuthPage(page);
    await shot(page, 'c-01-authenticate');
    const waitingUrl = page.url();
    const readerHref = await page.getByRole('link', { name: '読み取り開始', exact: true }).getAttribute('href');
    const authLink = (await page.locator('.auth-box__link').textContent()).trim();
    const ref = new URL(authLink).pathname.replace(/^\/auth\//, '');
    assert.equal(new URL(readerHref, baseUrl).pathname, `/demo/reader/${ref}`, 'the reader is for the shown auth link');

    // Meanwhile, on another page of the same browser (think: a second tab).
    const reader = await open(context, 'c/reader');
    await reader.goto(new URL(readerHref, baseUrl).href);
    await expectReader(reader, NURSING);
    await shot(reader, 'c-02-reader-other-page');
    await readCard(reader, SATO, SATO.pin);
    await expectH1(reader, '資格確認・同意登録完了');
    await shot(reader, 'c-03-reader-page-after');

    // The first page was never touched: its script notices and moves on.
    await expectH1(page, '資格確認・同意登録完了');
    assert.notEqual(page.url(), waitingUrl);
    assert.ok(statusPolls.length > 0, 'the waiting page polled its status URL');
    const registered = await rows(panel(page, '登録内容'));
    assert.deepEqual(registered, {
      医療機関等: NURSING,
      薬剤情報: '同意する',
      診療情報: '同意する',
      特定健診情報: '同意する',
      ...pick(registered, '同意の有効期限'),
    });
    await expectQualification(page, SATO);
    await shot(page, 'c-04-complete-by-itself');
  }));

test('(d) the patient\'s 2D code: a single-use invitation, decoded from the screen, opened on the patient\'s own phone', () =>
  // The patient's phone is another device: no cookies shared.
  onDevices([['d', PHONE], ['d/patient', PHONE], ['d/tablet', TABLET]], async ([page, patient, tablet]) => {
    await openInstitution(page, NURSING);
    const institutionUrl = page.url();
    assert.match(institutionUrl, /^http:\/\/127\.0\.0\.1:\d+\/i\/[A-Za-z0-9_-]{43}$/);
    await page.getByRole('link', { name: '二次元コードを表示する', exact: true }).click();

    // The demo's institutions let only their devices start flows, so the code
    // an enrolled device shows is an invitation, not the institution's URL.
    await expectH1(page, '患者さんのスマートフォンで読み取る二次元コード');
    assert.equal(await page.title(), '二次元コード | マイナ在宅受付Web');
    assert.equal(await page.getByText(NURSING, { exact: true }).first().isVisible(), true);
    await page.getByText('この二次元コードは1回だけ使えます', { exact: true }).waitFor();
    assert.match((await page.getByTestId('invitation-until').textContent()).trim(), /^\d{2}:\d{2}$/);
    await shot(page, 'd-01-qr-page');
    const decoded = await readInvitationFromScreen(page, 'd-02-qr-code', 280);
    assert.match(decoded, new RegExp(`^${baseUrl}v/[A-Za-z0-9_-]{43}$`));
    assert.notEqual(decoded, institutionUrl);

    // The same page on an enrolled tablet shows it larger, with a code of its own.
    await tablet.goto(baseUrl);
    await tablet.goto(new URL(new URL(page.url()).pathname, baseUrl).href);
    await expectH1(tablet, '患者さんのスマートフォンで読み取る二次元コード');
    await shot(tablet, 'd-03-qr-page-tablet');
    const tablets = await readInvitationFromScreen(tablet, 'd-04-qr-code-tablet', 360);
    assert.match(tablets, new RegExp(`^${baseUrl}v/`));
    assert.notEqual(tablets, decoded, 'each showing is a new invitation');

    // The patient's phone, enrolled nowhere, opens what it read and can start there.
    await patient.goto(decoded);
    await expectH1(patient, '同意登録の準備');
    assert.equal(patient.url(), institutionUrl);
    assert.equal(await patient.getByText(NURSING, { exact: true }).first().isVisible(), true);
    await shot(patient, 'd-05-patient-phone-prepare');
    await patient.getByRole('button', { name: '同意登録をする', exact: true }).click();
    await expectH1(patient, '同意登録内容の選択');

    // And back on the staff's screen, the way back to the first screen.
    await page.getByRole('link', { name: '同意登録の準備に戻る', exact: true }).click();
    await expectH1(page, '同意登録の準備');
    assert.equal(page.url(), institutionUrl);
  }));

test('(e) the FAQ, from the footer of the first screen', () =>
  onDevices([['e', PHONE]], async ([page]) => {
    await openInstitution(page, CLINIC);
    await page.getByRole('contentinfo').getByRole('link', { name: 'よくあるご質問', exact: true }).click();
    await expectH1(page, 'よくあるご質問');
    const questions = await page.getByRole('heading', { level: 3 }).allTextContents();
    for (const q of [
      '利用するには、何が必要ですか？',
      '暗証番号を間違えると、どうなりますか？ ロックされたときは？',
      '同意する項目ごとに、どんな情報が提供されますか？',
      '同意は、いつまで有効ですか？',
      '同意を取り消すには、どうすればよいですか？',
      'マイナンバーカードを持っていない、または手元にないときは？',
      'どんな端末で利用できますか？',
    ]) {
      assert.ok(questions.map((t) => t.trim()).includes(q), `the FAQ asks ${q}`);
    }
    // The contents list leads to an answer.
    await page.getByRole('navigation', { name: '目次' }).getByRole('link', { name: '同意を取り消すには、どうすればよいですか？' }).click();
    assert.equal(new URL(page.url()).hash, '#faq-revoke');
    await page.locator('#faq-revoke').getByText('メニューボタンをタップし、「すべての同意を取消す」', { exact: false }).waitFor();
    await page.getByText('デモ用カードリーダー', { exact: false }).first().waitFor(); // the demo's own answer
    await shot(page, 'e-01-faq');
  }));

test('(f) revoke all consent at the e-prescription clinic registered in (a), from the menu', () =>
  onDevices([['f', PHONE]], async ([page]) => {
    await openInstitution(page, CLINIC);
    await openMenu(page);
    await menuList(page).getByRole('button', { name: 'すべての同意を取消す', exact: true }).tap();
    await expectH1(page, '登録内容の取消し確認');
    await page.getByText('連携した処方箋の発行形態の情報は取り下げられます').waitFor();
    await shot(page, 'f-01-revoke-confirm');
    await page.getByRole('main').getByRole('button', { name: 'すべての同意を取消す', exact: true }).click();
    await expectAuthPage(page);
    await page.getByRole('link', { name: '読み取り開始', exact: true }).click();
    await expectReader(page, CLINIC);
    await readCard(page, YAMADA, YAMADA.pin);
    await expectH1(page, '登録内容の取消し完了');
    const after = await rows(panel(page, '取消し後の内容'));
    assert.deepEqual(after, {
      医療機関等: CLINIC,
      薬剤情報: '同意しない（取消し済み）',
      診療情報: '同意しない（取消し済み）',
      特定健診情報: '同意しない（取消し済み）',
      処方箋の発行形態: '取り下げ済み',
    });
    await shot(page, 'f-02-revoked');
  }));

test('(g) the menu on a phone with JavaScript off: tap 「メニュー」, four entries, flow C starts', () =>
  onDevices([['g', { ...PHONE, javaScriptEnabled: false }]], async ([page]) => {
    await openInstitution(page, PHARMACY);
    assert.equal(await menuButton(page).isVisible(), true, 'the menu button is in the header');
    assert.equal(await menuList(page).isVisible(), false, 'the list is closed at first');
    await shot(page, 'g-01-menu-closed');

    await openMenu(page);
    const items = (await menuList(page).getByRole('listitem').allTextContents()).map((t) => t.trim());
    assert.deepEqual(items, ['同意登録', '同意照会・更新', 'すべての同意を取消す', 'よくあるご質問']);
    for (const name of ['同意登録', '同意照会・更新', 'すべての同意を取消す']) {
      assert.equal(await menuList(page).getByRole('button', { name, exact: true }).isVisible(), true, name);
    }
    const faq = menuList(page).getByRole('link', { name: 'よくあるご質問', exact: true });
    assert.equal(await faq.getAttribute('href'), '/faq');
    // Buttons and link alike: full-width rows inside the screen, at least 44 px
    // tall, the label at the left.
    const viewport = page.viewportSize();
    const entries = [
      ...['同意登録', '同意照会・更新', 'すべての同意を取消す'].map((name) => menuList(page).getByRole('button', { name, exact: true })),
      faq,
    ];
    for (const entry of entries) {
      const name = (await entry.textContent()).trim();
      const box = await entry.boundingBox();
      assert.ok(box.x >= 0 && box.x + box.width <= viewport.width, `${name} fits the screen`);
      assert.ok(box.width > viewport.width * 0.9, `${name} is a full-width row (${box.width}px)`);
      assert.ok(box.height >= 44, `${name} is ${box.height}px tall`);
      const style = await entry.evaluate((el) => {
        const s = getComputedStyle(el);
        return { border: s.borderTopWidth, align: s.textAlign, justify: s.justifyContent, weight: s.fontWeight, size: s.fontSize };
      });
      assert.equal(style.border, '0px', `${name} has no border`);
      assert.ok(['start', 'left'].includes(style.align) && ['normal', 'flex-start', 'start'].includes(style.justify), `${name} is left aligned: ${JSON.stringify(style)}`);
      assert.equal(style.weight, '700', `${name} is bold like the others`);
      assert.equal(style.size, '16px', `${name} has the page's font size`);
    }
    await shot(page, 'g-02-menu-open');

    await menuList(page).getByRole('button', { name: 'すべての同意を取消す', exact: true }).tap();
    await expectH1(page, '同意内容の取消し確認');
    assert.equal(await page.getByText(PHARMACY, { exact: true }).first().isVisible(), true);
    assert.equal(await menuList(page).isVisible(), false, 'the next screen starts with the menu closed');
    await shot(page, 'g-03-revoke-confirm');
  }));
