// What every browser test file shares: one `zaitaku demo` on a free port with a
// fresh data directory, one headless Debian Chromium driven by playwright-core,
// fresh phone-sized contexts per case with every page watched for errors, and
// helpers that find things by the labels a person sees.
//
// A test file calls `useDemo()` once at its top level.
// Environment: ZAITAKU_BIN (default <repo>/target/debug/zaitaku),
//              CHROMIUM (default /usr/bin/chromium).
// Screenshots: <repo>/target/browser-artifacts/*.png (emptied by `npm test`),
// with each file's demo output in demo-<file>.log next to them.

import { after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createHmac } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, createWriteStream } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import { chromium } from 'playwright-core';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const ZAITAKU_BIN = process.env.ZAITAKU_BIN || join(REPO, 'target/debug/zaitaku');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
export const ARTIFACTS = join(REPO, 'target/browser-artifacts');

export const CLINIC = '在宅ひまわりクリニック'; // e-prescription clinic
export const PHARMACY = 'さくら薬局';
export const NURSING = 'あおぞら訪問看護ステーション';
export const ITEMS = ['薬剤情報', '診療情報', '特定健診情報'];
export const YAMADA = { label: '山田 太郎（有効・3割）', pin: '1234', name: '山田 太郎', share: '3割' };
export const SATO = { label: '佐藤 花子（有効・1割・後期高齢者）', pin: '2345', name: '佐藤 花子', share: '1割' };

let demo; // the `zaitaku demo` child process
/** Every line the demo printed on stdout (its welcome text: URLs, cards, staff login). */
export const demoOutput = [];
export let dataDir;
export let baseUrl;
let browser;

// ---------------------------------------------------------------- setup

// Start the demo and the browser before the file's cases; stop them after.
export function useDemo(testFile) {
  before(() => start(basename(fileURLToPath(testFile)).replace(/\.test\.mjs$/, '')));
  after(stop);
}

async function start(name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'zaitaku-browser-'));

  demo = spawn(ZAITAKU_BIN, ['demo', '--listen', '127.0.0.1:0', '--data-dir', dataDir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const log = createWriteStream(join(ARTIFACTS, `demo-${name}.log`));
  demo.stderr.pipe(log);
  const spawnFailed = once(demo, 'error').then(([e]) => {
    throw new Error(`cannot start ${ZAITAKU_BIN}: ${e.message} (build it with cargo build -p zaitaku, or set ZAITAKU_BIN)`);
  });
  const exited = once(demo, 'exit').then(([code, signal]) => {
    throw new Error(`zaitaku demo exited early (code ${code}, signal ${signal}); see ${join(ARTIFACTS, `demo-${name}.log`)}`);
  });
  const firstLine = new Promise((resolveLine) => {
    const lines = createInterface({ input: demo.stdout });
    let first = true;
    lines.on('line', (line) => {
      log.write(`${line}\n`);
      demoOutput.push(line);
      if (first) {
        first = false;
        resolveLine(line);
      }
    });
  });
  const line = await Promise.race([firstLine, spawnFailed, exited, timeout(60_000, 'the demo URL on stdout')]);
  const m = /^Zaitaku demo: (http:\/\/127\.0\.0\.1:\d+\/)$/.exec(line);
  assert.ok(m, `unexpected first line from zaitaku demo: ${JSON.stringify(line)}`);
  baseUrl = m[1];
  exited.catch(() => {}); // from here on, a dead server shows up as failed page loads
  spawnFailed.catch(() => {});
  await waitUntilServing(baseUrl);

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // Playwright gives every launch a fresh temporary user-data-dir.
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

async function stop() {
  await browser?.close();
  if (demo && demo.exitCode === null && demo.signalCode === null) {
    demo.kill('SIGTERM');
    await Promise.race([once(demo, 'exit'), sleep(5_000)]);
    if (demo.exitCode === null && demo.signalCode === null) demo.kill('SIGKILL');
  }
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
}

function timeout(ms, what) {
  return sleep(ms).then(() => {
    throw new Error(`timed out after ${ms} ms waiting for ${what}`);
  });
}

export function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms).unref());
}

async function waitUntilServing(url) {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      const r = await fetch(url);
      if (r.ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer 200 within 60 s`);
    await sleep(200);
  }
}

// A phone: 390×844 CSS pixels at 2× (an iPhone 12–14 class screen), Japanese.
// A tablet: 820×1180 at 2× (an iPad Air class screen in portrait).
export const PHONE = { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };
export const TABLET = { viewport: { width: 820, height: 1180 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true };

async function newPhone(device = PHONE) {
  const context = await browser.newContext({
    ...device,
    locale: 'ja-JP',
    timezoneId: 'Asia/Tokyo',
  });
  context.setDefaultTimeout(10_000);
  // Report CSP violations on the console too (they are also logged by Chromium itself).
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`);
    });
  });
  return context;
}

// Everything a page says that should not be said: uncaught exceptions, console
// errors (CSP violations among them). Chromium also logs every HTTP error status
// as "Failed to load resource"; those are allowed only for documents (a page
// that answers 422 for a form with missing choices is fine, the test checks the
// page itself) and for /favicon.ico (the app serves none; Chromium asks anyway).
function watch(page, label) {
  const problems = [];
  const documents = new Set();
  page.on('response', (r) => {
    if (r.request().resourceType() === 'document') documents.add(r.url());
  });
  page.on('pageerror', (e) => problems.push(`${label}: uncaught ${e.name}: ${e.message}`));
  page.on('console', (msg) => {
    if (msg.type() !== 'error') return;
    const url = msg.location().url || '';
    if (msg.text().startsWith('Failed to load resource')) {
      if (new URL(url, baseUrl).pathname === '/favicon.ico') return;
      if (documents.has(url)) return;
    }
    problems.push(`${label}: console error: ${msg.text()} (${url})`);
  });
  return problems;
}

// ---------------------------------------------------------------- helpers

// One case on fresh browser contexts (a phone unless told otherwise), one page
// each, every page watched: the case fails on any problem any page saw.
// `open(context, label)` opens and watches one more page of a context.
export async function onDevices(devices, run) {
  const contexts = [];
  const problems = [];
  const open = async (context, label) => {
    const page = await context.newPage();
    problems.push(watch(page, label));
    return page;
  };
  try {
    const pages = [];
    for (const [label, device] of devices) {
      const context = await newPhone(device);
      contexts.push(context);
      pages.push(await open(context, label));
    }
    await run(pages, open, contexts);
    assert.deepEqual(problems.flat(), []);
  } finally {
    for (const context of contexts) await context.close();
  }
}


// Save a full-page screenshot, and check the page fits the phone's width.
export async function shot(page, name) {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
  const { scrollWidth, innerWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
  }));
  assert.ok(scrollWidth <= innerWidth, `${name}: the page is ${scrollWidth}px wide on a ${innerWidth}px screen`);
}

export function h1(page, text) {
  return page.getByRole('heading', { level: 1, name: text, exact: true });
}

export async function expectH1(page, text) {
  await h1(page, text).waitFor();
  assert.equal((await page.getByRole('heading', { level: 1 }).textContent()).trim(), text);
}

export function radio(page, legend, label) {
  return page.getByRole('group', { name: legend, exact: true }).getByRole('radio', { name: label, exact: true });
}

// The term → value rows of the first description list inside `scope`.
export async function rows(scope) {
  return scope.locator('dl').first().evaluate((dl) =>
    Object.fromEntries(
      [...dl.querySelectorAll('dt')].map((dt) => [dt.textContent.trim(), dt.nextElementSibling.textContent.trim()]),
    ),
  );
}

export function panel(page, title) {
  return page.locator('section', { has: page.getByRole('heading', { name: title, exact: true }) });
}

export async function openInstitution(page, name) {
  await page.goto(baseUrl);
  await expectH1(page, 'デモ');
  await page.getByRole('link', { name, exact: true }).click();
  await expectH1(page, '同意登録の準備');
  assert.equal(await page.getByText(name, { exact: true }).first().isVisible(), true);
}

// On the demo card reader: choose a card, type a PIN, press 読み取り開始.
export async function readCard(page, card, pin) {
  await page.getByLabel('カード', { exact: true }).selectOption({ label: card.label });
  await page.getByLabel('暗証番号', { exact: true }).fill(pin);
  await page.getByRole('button', { name: '読み取り開始', exact: true }).click();
}

// The demo reader names who asks as an authenticator does: the institution and
// the enrolled device that started the flow (the demo index enrols browsers as
// 「デモ端末」).
export async function expectReader(page, institution, device = 'デモ端末') {
  await expectH1(page, 'デモ用カードリーダー');
  const r = await rows(page.locator('main'));
  assert.equal(r['認証を求めているサイト'], new URL(baseUrl).origin);
  assert.equal(r['医療機関等'], `${institution}・${device}`);
}

export async function expectAuthPage(page) {
  await expectH1(page, '本人認証');
  await page.getByText('3回連続して間違えるとロックが掛かります').waitFor();
}

export async function expectQualification(page, card) {
  const q = await rows(panel(page, '資格情報'));
  assert.equal(q['氏名'], card.name);
  assert.equal(q['一部負担金割合'], card.share);
}

// The 2D code on screen: wait for the image, check its size, screenshot just the
// image and decode that PNG with jsQR, as a phone camera would read the screen.
export async function readQrFromScreen(page, name, minWidth, label = 'この医療機関等のURLを表す二次元コード') {
  const img = page.getByRole('img', { name: label, exact: true });
  await img.waitFor();
  await page.waitForFunction((el) => el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0), await img.elementHandle());
  const box = await img.boundingBox();
  assert.ok(box.width >= minWidth && Math.abs(box.width - box.height) < 1, `${name}: the code is ${box.width}×${box.height} CSS px`);
  const viewport = page.viewportSize();
  assert.ok(Math.abs(box.x + box.width / 2 - viewport.width / 2) < 2, `${name}: the code is centred`);
  return decodeCodeOnScreen(page, label, name);
}

// The single-use invitation an enrolled device shows where only the
// institution's devices may start flows (drawn into the page, not an <img>).
export function readInvitationFromScreen(page, name, minWidth) {
  return readQrFromScreen(page, name, minWidth, '患者さんのスマートフォンで開く、1回だけ使える案内の二次元コード');
}

// The menu at the top of the screen: tap 「メニュー」 (a <details> summary, so no
// script is needed), and the list of entries opens under the header.
export function menuButton(page) {
  return page.getByRole('banner').getByText('メニュー', { exact: true });
}

export function menuList(page) {
  return page.getByRole('navigation', { name: 'メニュー', exact: true });
}

export async function openMenu(page) {
  await menuButton(page).tap();
  await menuList(page).waitFor();
}

// { key: obj[key] } when present: for rows whose value depends on today's date.
export function pick(obj, key) {
  assert.match(obj[key] ?? '', /^\d{4}年\d{1,2}月\d{1,2}日$/, `${key} is a date`);
  return { [key]: obj[key] };
}

// The demo's virtual card file for `id` (e.g. yamada), from its manifest.
export function demoCardFile(id) {
  const manifest = JSON.parse(readFileSync(join(dataDir, 'demo.json'), 'utf8'));
  const card = manifest.cards.find((c) => c.id === id);
  assert.ok(card, `no demo card ${id}`);
  return join(dataDir, 'cards', card.file);
}

// A 2D code on screen, found by its accessible name: screenshot just the image
// and decode that PNG with jsQR, as a phone camera would read the screen.
export async function decodeCodeOnScreen(page, name, shotName) {
  const img = page.getByRole('img', { name, exact: true });
  await img.waitFor();
  await page.waitForFunction((el) => el.tagName !== 'IMG' || (el.complete && el.naturalWidth > 0), await img.elementHandle());
  const png = PNG.sync.read(await img.screenshot({ path: join(ARTIFACTS, `${shotName}.png`) }));
  const code = jsQR(new Uint8ClampedArray(png.data.buffer, png.data.byteOffset, png.data.length), png.width, png.height);
  assert.ok(code, `${shotName}: jsQR found no 2D code in the ${png.width}×${png.height} screenshot`);
  return code.data;
}

// ---------------------------------------------------------------- staff second factor

// The current RFC 6238 code (SHA-1, 30 s, 6 digits) of a base32 secret, as an
// authenticator app on the staff member's phone would show it.
export function totp(secretBase32, at = Date.now()) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const c of secretBase32.replace(/[\s=]/g, '').toUpperCase()) {
    const v = alphabet.indexOf(c);
    assert.ok(v >= 0, `not base32: ${c}`);
    bits += v.toString(2).padStart(5, '0');
  }
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 1000 / 30)));
  const mac = createHmac('sha1', key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0x0f;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1_000_000;
  return String(code).padStart(6, '0');
}
