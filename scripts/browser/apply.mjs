// End-to-end checks of online applications for permission in Debian's Chromium
// (playwright-core) against a running server started with `--codes-to-log`: an applicant
// signs in with the one-time code the server wrote to its log, picks a Grade I building
// (HER-0001) on the map, sees demolition refused with the type's reason, chooses repair,
// fills the form, is told what is missing, uploads the documents (small PDFs and a PNG made
// here: the SHA-256 shown is the file's), finds the draft again after a reload, submits,
// and follows the number on the public tracker; staff forward the case from the desk and
// the tracker shows the next stage. Then the rest of the path — the Building department's
// scrutiny, an HCC meeting and its recommendation, the Mayor-in-Council's resolution, the
// letter — ends in the register of decisions with the letter's verification link. Along the
// way: no console errors, no request off the server, WCAG 2.1 A/AA with axe-core and no
// sideways scrolling on every view, at 1280 and 360 px, in English and Bengali, with
// screenshots.
//
// Usage: SERVER_LOG=/path/to/server.log STAFF_USER=officer1 STAFF_PASSWORD='…' \
//   node apply.mjs http://127.0.0.1:PORT OUTDIR
// The staff member needs every duty of the heritage sanction's path (eh_scrutiny,
// building_scrutiny, hcc_secretary, mic_clerk, eh_decision) or the admin role.
import { chromium } from 'playwright-core';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { deflateSync } from 'node:zlib';
import path from 'node:path';
import { inSight, toolOverlaps } from './layout.mjs';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const [base, outdir] = process.argv.slice(2);
const { SERVER_LOG, STAFF_USER, STAFF_PASSWORD } = process.env;
if (!base || !outdir || !SERVER_LOG || !STAFF_USER || !STAFF_PASSWORD) {
  console.error('usage: SERVER_LOG=… STAFF_USER=… STAFF_PASSWORD=… node apply.mjs URL OUTDIR');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });

let passed = 0;
let failed = 0;
const check = (name, ok, detail = '') => {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
};
const info = (line) => console.log(`info ${line}`);

async function run(name, fn) {
  try {
    await fn();
  } catch (e) {
    check(`${name} (no exception)`, false, e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : String(e));
  }
}

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});

const errors = [];
const offsite = [];
async function newPage(viewport = { width: 1280, height: 800 }, options = {}, { lang = null, init = null } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, ...(viewport.width < 700 ? { hasTouch: true, isMobile: true } : {}), ...options });
  if (lang) await context.addInitScript((l) => window.localStorage.setItem('atlas.lang', JSON.stringify(l)), lang);
  if (init) await context.addInitScript(init.fn, init.arg);
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${viewport.width}px: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`${viewport.width}px: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !/^(data|blob|chrome|chrome-extension):/.test(u)) offsite.push(u);
  });
  return { context, page };
}

/** Drops the console's lines about refusals a check provoked on purpose (since `from`). */
function forgive(from, statuses) {
  const re = new RegExp(`status of (${statuses.join('|')})`);
  const kept = errors.slice(from).filter((e) => !re.test(e));
  errors.splice(from, errors.length - from, ...kept);
}

const mapIdle = (page) => page.waitForFunction(
  () => window.map && typeof window.map.loaded === 'function' && window.map.loaded() && window.map.areTilesLoaded(), null, { timeout: 30000 },
).then(() => true, () => false);

async function api(pathname, { method = 'GET', json, token, body, type } = {}) {
  const headers = { Accept: 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (json !== undefined) headers['Content-Type'] = 'application/json';
  if (type) headers['Content-Type'] = type;
  const res = await fetch(`${base}${pathname}`, { method, headers, body: json !== undefined ? JSON.stringify(json) : body });
  const text = await res.text();
  let data = null;
  try { data = JSON.parse(text); } catch { data = text; }
  return { status: res.status, body: data };
}

// ---- test files (as app.mjs makes them): a one-page PDF, a 1×1 PNG, each new on every run ----

function tinyPdf(lines) {
  const esc = (s) => s.replace(/[\\()]/g, (c) => `\\${c}`);
  const text = lines.map((l, i) => `BT /F1 ${i ? 14 : 24} Tf 60 ${740 - i * 40} Td (${esc(l)}) Tj ET`).join('\n');
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>',
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
    `<< /Length ${Buffer.byteLength(text)} >>\nstream\n${text}\nendstream`,
  ];
  let out = '%PDF-1.4\n';
  const offsets = [];
  objs.forEach((o, i) => { offsets.push(Buffer.byteLength(out)); out += `${i + 1} 0 obj\n${o}\nendobj\n`; });
  const xref = Buffer.byteLength(out);
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n${offsets.map((n) => `${String(n).padStart(10, '0')} 00000 n \n`).join('')}`;
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`;
  return Buffer.from(out, 'latin1');
}

function pngOf([r, g, b]) {
  const table = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const x of buf) c = table[(c ^ x) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (kind, data) => {
    const body = Buffer.concat([Buffer.from(kind, 'latin1'), data]);
    const out = Buffer.alloc(body.length + 8);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc(body), body.length + 4);
    return out;
  };
  const ihdr = Buffer.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0]);
  return Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.from([0, r, g, b]))), chunk('IEND', Buffer.alloc(0))]);
}

const sha256 = (buf) => createHash('sha256').update(buf).digest('hex');

// ---- accessibility (as app.mjs section 11) ------------------------------------------------------

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
async function axeViolations(p) {
  if (!(await p.evaluate(() => typeof window.axe === 'object'))) await p.evaluate(AXE_SOURCE);
  return p.evaluate(async (values) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations', 'incomplete'] });
    const out = r.violations.map((v) => `${v.id} ×${v.nodes.length} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')})`);
    const rgba = (c) => {
      const m = (c.match(/[\d.]+/g) || []).map(Number);
      return m.length < 3 ? [0, 0, 0, 0] : [m[0], m[1], m[2], m.length > 3 ? m[3] : 1];
    };
    const over = (top, under) => {
      const a = top[3] + under[3] * (1 - top[3]);
      return a ? [0, 1, 2].map((i) => (top[i] * top[3] + under[i] * under[3] * (1 - top[3])) / a).concat(a) : [0, 0, 0, 0];
    };
    const lum = (c) => {
      const [R, G, B] = c.slice(0, 3).map((v) => { const x = v / 255; return x <= 0.03928 ? x / 12.92 : ((x + 0.055) / 1.055) ** 2.4; });
      return 0.2126 * R + 0.7152 * G + 0.0722 * B;
    };
    const low = [];
    const undecided = r.incomplete.find((v) => v.id === 'color-contrast');
    for (const n of undecided ? undecided.nodes : []) {
      const el = n.target.length === 1 ? document.querySelector(n.target[0]) : null;
      if (!el || el.closest(':disabled') || !/[\p{L}\p{N}]/u.test(el.textContent)) continue;
      let bg = [0, 0, 0, 0];
      for (let e = el; e && bg[3] < 0.999; e = e.parentElement) bg = over(bg, rgba(getComputedStyle(e).backgroundColor));
      bg = over(bg, [255, 255, 255, 1]);
      const cs = getComputedStyle(el);
      const fg = over(rgba(cs.color), bg);
      const [hi, lo] = [lum(fg), lum(bg)].sort((x, y) => y - x);
      const ratio = (hi + 0.05) / (lo + 0.05);
      const size = parseFloat(cs.fontSize);
      const large = size >= 24 || (size >= 18.66 && Number(cs.fontWeight) >= 700);
      if (ratio < (large ? 3 : 4.5)) low.push(`${n.target[0]} ${ratio.toFixed(2)}:1`);
    }
    if (low.length) out.push(`color-contrast (undecided by axe, checked here) ×${low.length} (${low.slice(0, 3).join(', ')})`);
    return out;
  }, AXE_TAGS);
}

const sideways = (p) => p.evaluate(() => {
  const b = document.querySelector('#panel-body');
  return Math.max(document.documentElement.scrollWidth - window.innerWidth, b.hidden ? 0 : b.scrollWidth - b.clientWidth);
});

/** axe, no sideways scrolling, and nothing under the ← ↕ ✕ buttons. */
async function a11y(p, name) {
  await p.evaluate(() => document.fonts.ready);
  const v = await axeViolations(p);
  check(`axe: no WCAG 2.1 A/AA violations, ${name}`, v.length === 0, v.join('; '));
  const over = await sideways(p);
  check(`${name}: no sideways scrolling`, over <= 0, `+${over} px`);
  const o = await toolOverlaps(p);
  check(`${name}: the ← ↕ ✕ buttons cover nothing`, o.length === 0, o.slice(0, 3).join('; '));
}

// ---- the applicant's code, from the server's log --------------------------------------------------

const stripAnsi = (s) => s.replace(/\x1b\[[0-9;]*m/g, '');

/** The newest 6-digit code the server logged for `contact` (it logs "one-time code for X: 123456"). */
async function codeFor(contact, after = 0) {
  // A phone number is logged as the server writes it (+91…): compare its last 10 digits.
  const key = (c) => (c.includes('@') ? c.toLowerCase() : c.replace(/\D/g, '').slice(-10));
  const want = key(contact);
  for (let i = 0; i < 100; i++) {
    const text = stripAnsi(readFileSync(SERVER_LOG).subarray(after).toString('utf8'));
    const found = [...text.matchAll(/one-time code for (\S+?):? (\d{6})\b/g)].filter((m) => key(m[1]) === want);
    if (found.length) return found[found.length - 1][2];
    await new Promise((r) => setTimeout(r, 100));
  }
  return null;
}
const logSize = () => readFileSync(SERVER_LOG).length;

/** Signs an applicant in through the form whose ids start with `prefix` (apply, mine). */
async function signInApplicant(p, prefix, contact, shot = null) {
  const from = logSize();
  await p.fill(`#${prefix}-contact`, contact);
  await p.click(`#${prefix}-send-code`);
  await p.waitForSelector(`#${prefix}-code`, { timeout: 15000 });
  check('the code field takes focus, and the page says where the code went', await p.evaluate((id) => document.activeElement?.id === id, `${prefix}-code`)
    && /sent a code to .*@example\.com by email/.test(await p.textContent(`#${prefix}-sent`)));
  if (shot) {
    await a11y(p, '1280 px EN: the code asked for');
    await p.screenshot({ path: path.join(outdir, shot) });
  }
  const code = await codeFor(contact, from);
  check(`the server logged a 6-digit code for ${contact}`, !!code);
  await p.fill(`#${prefix}-code`, code || '000000');
  await p.click(`#${prefix}-signin-button`);
  await p.waitForSelector(`#${prefix}-who`, { timeout: 15000 });
}

/** An applicant's token by the API (for drafts made to look at, and screenshots). */
async function applicantToken(contact) {
  const from = logSize();
  const sent = await api('/applicants/code', { method: 'POST', json: { contact } });
  if (sent.status !== 202) throw new Error(`POST /applicants/code: ${sent.status} ${JSON.stringify(sent.body)}`);
  const code = await codeFor(contact, from);
  const s = await api('/applicants/session', { method: 'POST', json: { contact, code } });
  if (s.status !== 200) throw new Error(`POST /applicants/session: ${s.status} ${JSON.stringify(s.body)}`);
  return s.body;
}

const apiAs = (token, method, pathname, json) => api(pathname, { method, token, json });

async function staffLogin() {
  const r = await api('/auth/login', { method: 'POST', json: { name: STAFF_USER, password: STAFF_PASSWORD } });
  if (r.status !== 200) throw new Error(`staff login: ${r.status}`);
  return r.body;
}

// ---- files --------------------------------------------------------------------------------------

const stamp = Date.now();
const heritage = (await api('/application-types/heritage_sanction')).body;
check('GET /application-types/heritage_sanction has documents and fields', Array.isArray(heritage.documents) && heritage.documents.length > 0 && Array.isArray(heritage.fields));
const files = Object.fromEntries((heritage.documents || []).map((d, i) => [d.code, d.code === 'photographs'
  ? { name: `photo-${stamp}.png`, mimeType: 'image/png', buffer: pngOf([stamp % 256, (stamp >> 8) % 256, i * 40]) }
  : { name: `${d.code}-${stamp}.pdf`, mimeType: 'application/pdf', buffer: tinyPdf([d.label.en, `Browser test ${stamp}`, `HER-0001 ${d.code}`]) }]));
const FIELDS = {
  premises_no: '1 Queen’s Way',
  owner_name: 'Victoria Memorial Hall (test)',
  description_of_work: `Repair of the lime plaster of the east façade (browser test ${stamp}).`,
  materials_and_method: 'Lime mortar matched to the original; no cement.',
  present_use: 'Museum since 1921.',
};

const contact = `applicant-${stamp}@example.com`;
let draftKey = null;
let number = null;
let applicantSession = null;

// ---- 1. applying, as the applicant --------------------------------------------------------------

const { context: deskCtx, page } = await newPage();
await run('apply', async () => {
  await page.goto(`${base}/#apply`);
  await page.waitForSelector('#apply-contact', { timeout: 30000 });
  await mapIdle(page);
  await a11y(page, '1280 px EN: the applicant\'s sign-in');
  await page.screenshot({ path: path.join(outdir, 'apply-1280-signin.png') });

  // A wrong contact is marked at the field, nothing sent.
  const asked = [];
  page.on('request', (r) => { if (r.url().endsWith('/applicants/code')) asked.push(r.url()); });
  await page.fill('#apply-contact', 'not a contact');
  await page.click('#apply-send-code');
  await page.waitForSelector('#apply-contact[aria-invalid="true"]', { timeout: 5000 });
  check('a contact that is neither an email nor a phone is marked, and no code is asked for', asked.length === 0);

  await signInApplicant(page, 'apply', contact, 'apply-1280-code.png');
  applicantSession = await page.evaluate(() => JSON.parse(window.sessionStorage.getItem('atlas.applicant')));
  check('signed in: the applicant\'s token starts ap_ and is kept in this tab', /^ap_/.test(applicantSession && applicantSession.token || ''));
  check('the page says who is signed in', (await page.textContent('#apply-who')).includes(contact));

  await page.check('#apply-type-choice input[value="heritage_sanction"]');
  await page.click('#apply-start');
  await page.waitForFunction(() => /^#apply\/D[0-9a-f]{16}$/i.test(window.location.hash), null, { timeout: 10000 });
  draftKey = decodeURIComponent((await page.evaluate(() => window.location.hash)).slice(7));
  check(`a draft is made and the URL names it (${draftKey})`, /^D[0-9a-f]{16}$/i.test(draftKey));
  await page.waitForSelector('#apply-find', { timeout: 10000 });

  // Pick Victoria Memorial on the map.
  const vm = (await api('/assets/HER-0001')).body;
  const bbox = vm.bbox || (() => {
    const b = [180, 90, -180, -90];
    const walk = (c) => { if (typeof c[0] === 'number') { b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]); b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]); } else c.forEach(walk); };
    walk(vm.geometry.coordinates);
    return b;
  })();
  await page.evaluate((b) => window.map.jumpTo({ center: [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2], zoom: 17.5 }), bbox);
  await mapIdle(page);
  await page.waitForTimeout(300);
  const xy = await page.evaluate((b) => {
    const m = window.map;
    const r = m.getContainer().getBoundingClientRect();
    for (let i = 1; i < 10; i++) for (let j = 1; j < 10; j++) {
      const c = [b[0] + (b[2] - b[0]) * i / 10, b[1] + (b[3] - b[1]) * j / 10];
      const p = m.project(c);
      const hits = m.queryRenderedFeatures([[p.x - 8, p.y - 8], [p.x + 8, p.y + 8]]);
      const top = hits.find((f) => f.sourceLayer === 'complaints' || f.sourceLayer === 'heritage');
      const x = r.left + p.x;
      const under = document.elementFromPoint(x, r.top + p.y);
      if (top && top.sourceLayer === 'heritage' && top.properties.code === 'HER-0001' && under && under.closest('#map')) return { x, y: r.top + p.y };
    }
    return null;
  }, bbox);
  check('a point of HER-0001 is on the map and clear of the panel', !!xy);
  if (xy) await page.mouse.click(xy.x, xy.y);
  const picked = await page.waitForFunction(() => /HER-0001/.test(document.querySelector('#apply-asset')?.textContent || ''), null, { timeout: 10000 }).then(() => true, () => false);
  check('a click on Victoria Memorial makes HER-0001 the premises (no asset panel opens)', picked && !(await page.evaluate(() => window.location.hash.startsWith('#asset'))));
  check('the grade is shown: Grade I', (await page.textContent('#apply-asset .badge.grade')) === 'Grade I');
  await page.waitForSelector('#apply-refused-demolition', { timeout: 10000 });
  const refusedText = await page.textContent('#apply-refused-demolition');
  check('demolition is refused with the type\'s reason', refusedText.includes('Grade I heritage premises allow repair and restoration only'), refusedText);
  const offered = await page.$$eval('#apply-work input[type="radio"]', (rs) => rs.map((r) => r.value));
  check(`only repair and restoration are offered for Grade I (${offered.join(', ')})`, JSON.stringify(offered.sort()) === JSON.stringify(['repair', 'restoration']));
  const check1 = await api('/application-types/heritage_sanction/check', { method: 'POST', json: { asset: 'HER-0001', work: 'demolition' } });
  check('…as POST /application-types/heritage_sanction/check says', check1.body && check1.body.allowed === false && refusedText.includes(check1.body.reason.en), JSON.stringify(check1.body));
  // The server refuses the work too (422 with `refused`), as the page would show it.
  const refused = await api(`/applications/${draftKey}`, { method: 'PATCH', token: applicantSession.token, json: { work: 'demolition' } });
  check('PATCH {work: demolition} on a Grade I draft is a 422 with `refused` in both languages', refused.status === 422 && refused.body.refused && refused.body.refused.en && refused.body.refused.bn, `${refused.status} ${JSON.stringify(refused.body)}`);

  await page.check('#apply-work-repair');
  await page.waitForSelector('#apply-path li', { timeout: 10000 });
  check('repair: the stages and days it goes through are listed', (await page.$$('#apply-path li')).length === 5);
  await a11y(page, '1280 px EN: the draft with the refused works');
  await page.screenshot({ path: path.join(outdir, 'apply-1280-work.png') });

  // The fields, saved as they are typed: one PATCH at a time (the server merges a draft's
  // fields into what it read, so two at once could each write over the other's).
  let patching = 0;
  let most = 0;
  let patches = 0;
  const isPatch = (r) => r.method() === 'PATCH' && r.url().includes(`/applications/${draftKey}`);
  page.on('request', (r) => { if (isPatch(r)) { patches++; most = Math.max(most, ++patching); } });
  for (const ev of ['requestfinished', 'requestfailed']) page.on(ev, (r) => { if (isPatch(r)) patching--; });
  for (const [code, value] of Object.entries(FIELDS)) await page.fill(`#apply-field-${code}`, value);
  await page.waitForFunction(() => /^Draft saved/.test(document.querySelector('#apply-save')?.textContent || ''), null, { timeout: 10000 }).catch(() => {});
  const saved = await api(`/applications/${draftKey}`, { token: applicantSession.token });
  check('the fields are saved to the draft as they are typed (PATCH, debounced)', Object.entries(FIELDS).every(([k, v]) => saved.body.fields && saved.body.fields[k] === v), JSON.stringify(saved.body.fields));
  check('the draft keeps the premises and the work', saved.body.asset && saved.body.asset.code === 'HER-0001' && saved.body.work === 'repair');
  check(`the draft's saves never overlap (${patches} PATCHes, at most ${most} at once)`, patches > 0 && most === 1);

  // Two documents, then Submit: the rest is listed as missing.
  const docs = heritage.documents.map((d) => d.code);
  await page.evaluate(() => {
    window.__sawProgress = false;
    new MutationObserver(() => { if (document.querySelector('#view-apply progress')) window.__sawProgress = true; })
      .observe(document.querySelector('#view-apply'), { childList: true, subtree: true });
  });
  for (const code of docs.slice(0, 2)) {
    await page.setInputFiles(`#apply-doc-${code}`, files[code]);
    await page.waitForSelector(`#apply-doc-${code}-files li[data-sha256="${sha256(files[code].buffer)}"]`, { timeout: 15000 });
  }
  check('an upload shows its progress', await page.evaluate(() => window.__sawProgress));
  const shown = await page.textContent(`#apply-doc-${docs[0]}-files`);
  check('the uploaded file\'s SHA-256 is shown, and it is the file\'s', shown.includes(sha256(files[docs[0]].buffer)));
  const logged = errors.length;
  await page.click('#apply-submit');
  await page.waitForSelector('#apply-errors:not([hidden]) li', { timeout: 10000 });
  forgive(logged, [422]);
  const listed = await page.$$eval('#apply-errors li', (ls) => ls.map((l) => l.textContent));
  const wantMissing = heritage.documents.filter((d) => d.required).slice(2).map((d) => d.label.en);
  check(`Submit lists what is missing (${listed.length}: the ${wantMissing.length} documents not sent)`, wantMissing.every((l) => listed.includes(l)) && listed.length === wantMissing.length, JSON.stringify(listed));
  check('the summary takes focus and is in sight', await page.evaluate(() => document.activeElement?.id === 'apply-errors') && (await inSight(page, '#apply-errors')).ok);
  await page.click('#apply-errors li:first-child button');
  check('a missing item in the summary moves focus to its upload', await page.evaluate((id) => document.activeElement?.id === id, `apply-doc-${docs[2]}`));
  await a11y(page, '1280 px EN: the draft with what is missing');
  await page.screenshot({ path: path.join(outdir, 'apply-1280-missing.png') });

  for (const code of docs.slice(2)) {
    await page.setInputFiles(`#apply-doc-${code}`, files[code]);
    await page.waitForSelector(`#apply-doc-${code}-files li[data-sha256="${sha256(files[code].buffer)}"]`, { timeout: 15000 });
  }

  // Reload: the draft comes back whole.
  await page.reload();
  await page.waitForSelector('#apply-field-premises_no', { timeout: 30000 });
  const back = await page.evaluate((codes) => ({
    fields: Object.fromEntries(codes.map((c) => [c, document.getElementById(`apply-field-${c}`)?.value])),
    work: document.querySelector('#apply-work input:checked')?.value,
    asset: document.querySelector('#apply-asset')?.textContent,
    files: document.querySelectorAll('#apply-documents .app-file').length,
  }), Object.keys(FIELDS));
  check('after a reload the draft is there: premises, work, fields and files', back.asset.includes('HER-0001') && back.work === 'repair'
    && Object.entries(FIELDS).every(([k, v]) => back.fields[k] === v) && back.files === docs.length, JSON.stringify(back));
  await page.goto(`${base}/#my-applications`);
  await page.waitForSelector(`#mine-list [data-key="${draftKey}"]`, { timeout: 10000 });
  check('My applications lists the draft', true);
  await page.click(`#mine-list [data-key="${draftKey}"]`);
  await page.waitForSelector('#apply-submit', { timeout: 10000 });
  check('…and opens it in Apply', await page.evaluate((k) => window.location.hash === `#apply/${k}`, draftKey));

  await page.click('#apply-submit');
  await page.waitForSelector('#apply-number', { timeout: 15000 });
  number = (await page.textContent('#apply-number')).trim();
  check(`submitted: the application number is shown (${number})`, /^HS-\d{4}-\d{6,}$/.test(number));
  check('the confirmation takes focus', await page.evaluate(() => document.activeElement?.id === 'apply-done'));
  await a11y(page, '1280 px EN: the application submitted');
  await page.screenshot({ path: path.join(outdir, 'apply-1280-submitted.png') });

  await page.click('#apply-track');
  await page.waitForSelector('#atrack-stages', { timeout: 10000 });
  const first = await page.evaluate(() => ({
    hash: window.location.hash,
    current: document.querySelector('#atrack-stages [aria-current="step"]')?.dataset.stage,
    text: document.querySelector('#atrack-stages [aria-current="step"]')?.textContent || '',
  }));
  check(`the public tracker opens at #application/${number}`, first.hash === `#application/${number}`);
  check('the tracker shows the first stage: E&H scrutiny, with its days and limit', first.current === 'eh_scrutiny'
    && first.text.includes('Scrutiny by the Environment & Heritage department') && /of 15 days used/.test(first.text), JSON.stringify(first));
  const pub = await api(`/applications/${number}/track`);
  check('GET /applications/{number}/track names no applicant, form or files', pub.status === 200 && !JSON.stringify(pub.body).includes(contact)
    && !('fields' in pub.body) && !('files' in pub.body) && !JSON.stringify(pub.body).includes(FIELDS.description_of_work), JSON.stringify(pub.body).slice(0, 300));
  await a11y(page, '1280 px EN: the public tracker');
  await page.screenshot({ path: path.join(outdir, 'apply-1280-track.png') });

  // The number typed into the Track view opens the same page.
  await page.goto(`${base}/#track`);
  await page.fill('#track-app-number', number.toLowerCase());
  await page.press('#track-app-number', 'Enter');
  await page.waitForFunction((n) => window.location.hash === `#application/${n}` && document.querySelector('#atrack-id')?.textContent === n, number, { timeout: 10000 });
  check('the Track view\'s application number form opens the tracker', true);
});

// ---- 2. staff forward it from the desk -------------------------------------------------------------

async function staffSignIn(p) {
  await p.goto(`${base}/#staff`);
  if (await p.$('#staff-login:not([hidden])')) {
    await p.fill('#staff-name', STAFF_USER);
    await p.fill('#staff-password', STAFF_PASSWORD);
    await p.click('#staff-signin');
  }
  await p.waitForSelector('#staff-main:not([hidden])', { timeout: 15000 });
}

/** Opens the case on the desk and applies `action` with `fill` (a function of the page). */
async function deskAct(p, action, fill) {
  await p.goto(`${base}/#desk/${number}`);
  await p.waitForSelector('#desk-act', { timeout: 15000 });
  await p.selectOption('#desk-action', action);
  await p.waitForSelector('#desk-act', { timeout: 5000 });
  await fill(p);
  // The line of the last action may still be there: wait for this one's.
  const before = await p.$eval('#desk-message', (m) => m.textContent).catch(() => null);
  await p.click('#desk-apply');
  await p.waitForFunction((prev) => {
    const m = document.querySelector('#desk-message');
    return m && m.textContent.trim() && m.textContent !== prev;
  }, before, { timeout: 20000 }).catch(() => null);
  return (await p.textContent('#desk-message')).trim();
}

await run('desk', async () => {
  if (!number) throw new Error('nothing was submitted');
  await staffSignIn(page);
  await page.waitForSelector('#staff-desk:not([hidden])', { timeout: 10000 });
  check('signed in with duties: "Applications desk" is offered, and "HCC meetings"', !(await page.$eval('#staff-hcc', (b) => b.hidden)));
  await page.click('#staff-desk');
  await page.waitForSelector(`#desk-list [data-number="${number}"]`, { timeout: 10000 });
  const card = await page.textContent(`#desk-list [data-number="${number}"]`);
  check('the desk lists the case at E&H scrutiny, with days used of 15', card.includes('Scrutiny by the Environment & Heritage department') && /of 15 days used/.test(card), card);
  const desk = (await api('/desk', { token: (await page.evaluate(() => JSON.parse(window.sessionStorage.getItem('atlas.staff')))).token })).body;
  const overdue = (desk.items || []).filter((x) => x.overdue);
  const flagged = await page.$$eval('#desk-list .desk-card', (cs) => cs.filter((c) => c.querySelector('.badge.overdue')).map((c) => c.dataset.number));
  check(`overdue cases say so in words (${overdue.length} overdue)`, JSON.stringify(flagged.sort()) === JSON.stringify(overdue.map((x) => x.number).sort())
    && (await page.$$eval('#desk-list .badge.overdue', (bs) => bs.every((b) => /Overdue/.test(b.textContent)))));
  await a11y(page, '1280 px EN: the applications desk');
  await page.screenshot({ path: path.join(outdir, 'desk-1280.png') });

  await page.click(`#desk-list [data-number="${number}"]`);
  await page.waitForSelector('#desk-act', { timeout: 10000 });
  const record = await page.textContent('#desk-case');
  check('the case opens as staff see it: the applicant\'s contact, the form, the files', record.includes(contact) && record.includes(FIELDS.description_of_work)
    && (await page.$$('#desk-files li')).length === heritage.documents.length);
  check('the stage\'s own step comes first: forward with a scrutiny note', (await page.$eval('#desk-action', (s) => s.value)) === 'forward');
  // Without a note nothing is sent.
  const sent = [];
  page.on('request', (r) => { if (r.url().endsWith('/actions')) sent.push(r.url()); });
  await page.click('#desk-apply');
  await page.waitForSelector('#desk-forward-note[aria-invalid="true"]', { timeout: 5000 });
  check('forward without a note is marked at the note, nothing sent', sent.length === 0);
  await a11y(page, '1280 px EN: a case on the desk');
  await page.screenshot({ path: path.join(outdir, 'desk-1280-case.png') });
  await page.fill('#desk-forward-note', `Plans and photographs in order (browser test ${stamp}).`);
  await page.click('#desk-apply');
  await page.waitForSelector('#desk-message.success', { timeout: 15000 });
  const said = await page.textContent('#desk-message');
  check('forwarded: the line says so and names the next stage', said.includes(number) && said.includes('Building department'), said);
  check('the step is listed with the note', (await page.textContent('#desk-steps')).includes('Plans and photographs in order'));

  await page.goto(`${base}/#application/${number}`);
  await page.waitForSelector('#atrack-stages [aria-current="step"]', { timeout: 10000 });
  const second = await page.evaluate(() => ({
    current: document.querySelector('#atrack-stages [aria-current="step"]')?.dataset.stage,
    done: [...document.querySelectorAll('#atrack-stages li')].filter((l) => !l.classList.contains('current') && !l.classList.contains('future')).map((l) => l.dataset.stage),
  }));
  check('the tracker now shows the second stage (Building department) and the first as done', second.current === 'building_scrutiny' && second.done.includes('eh_scrutiny'), JSON.stringify(second));
  check('the scrutiny note is nowhere on the public tracker', !(await page.textContent('#view-application')).includes('Plans and photographs in order'));
});

// ---- 3. the rest of the path: the Building department, the HCC, the MIC, the letter ------------------

let letterIssued = false;
await run('to the decision', async () => {
  if (!number) throw new Error('nothing was submitted');
  const staffToken = (await staffLogin()).token;
  await deskAct(page, 'forward', (p) => p.fill('#desk-forward-note', 'Structural drawings checked.'));
  await page.goto(`${base}/#hcc`);
  await page.waitForSelector('#hcc-create', { timeout: 10000 });
  await a11y(page, '1280 px EN: HCC meetings');
  await page.click('#hcc-create');
  await page.waitForSelector(`#hcc-agenda [data-number="${number}"]`, { timeout: 15000 });
  check('a new HCC meeting has the case on its agenda', true);
  const hash = await page.evaluate(() => window.location.hash);
  check(`the meeting has a URL of its own (${hash})`, /^#hcc\/\d+$/.test(hash));
  const item = `#hcc-agenda [data-number="${number}"]`;
  await page.click(`${item} button[type="submit"]`);
  await page.waitForSelector(`${item} [aria-invalid="true"]`, { timeout: 5000 });
  check('a recommendation without a choice and words is marked, nothing sent', true);
  await a11y(page, '1280 px EN: an HCC meeting');
  await page.screenshot({ path: path.join(outdir, 'hcc-1280-meeting.png') });
  await page.check(`${item} input[value="approve"]`);
  await page.fill(`${item} textarea`, 'Recommended, with lime mortar only.');
  await page.click(`${item} button[type="submit"]`);
  const recorded = await page.waitForFunction((sel) => (document.querySelector(sel)?.textContent || '').includes('Recommended: Approve'), item, { timeout: 15000 }).then(() => true, () => false);
  check('the recommendation is recorded, and the line says so', recorded && (await page.textContent('#hcc-message')).includes(`${number} is recorded`));
  await page.setInputFiles('#hcc-minutes-file', { name: `minutes-${stamp}.pdf`, mimeType: 'application/pdf', buffer: tinyPdf(['Minutes of the HCC', `Browser test ${stamp}`]) });
  await page.waitForSelector('#hcc-minutes-link', { timeout: 15000 });
  check('the minutes are on record and the meeting is held', /Held/.test(await page.textContent('#hcc-meeting-title')));

  const res = await deskAct(page, 'resolution', async (p) => {
    await p.fill('#desk-resolution-resolution_no', `MIC/${stamp % 1000}`);
    await p.check('#desk-resolution-decision-approve');
    await p.fill('#desk-resolution-text', 'Approved as recommended by the HCC.');
  });
  check('the Mayor-in-Council\'s resolution is recorded; the case goes to be communicated', /recorded/.test(res), res);
  const logged = errors.length;
  const issued = await deskAct(page, 'issue', async () => {});
  const after = (await api(`/applications/${number}/track`)).body;
  check('the case is decided once the letter is issued', after.state === 'decided', JSON.stringify(after).slice(0, 300));
  void logged;
  letterIssued = true;
  check('the decision letter is issued and the case closed', /issued/.test(issued), issued);
  await page.goto(`${base}/#application/${number}`);
  await page.waitForSelector('#atrack-decision-letter', { timeout: 10000 });
  const letter = await page.getAttribute('#atrack-decision-letter', 'href');
  check(`the tracker shows the decision and the letter's verification link (${letter})`, /^\/verify\/[0-9a-f]{64}$/.test(letter || ''));
  await page.goto(`${base}/#decisions`);
  await page.waitForSelector(`#dec-table tr[data-number="${number}"]`, { timeout: 10000 });
  const row = await page.textContent(`#dec-table tr[data-number="${number}"]`);
  check('the register of decisions lists it: approved by the Mayor-in-Council', /Approved/.test(row) && /Mayor-in-Council/.test(row), row);
  const href = await page.getAttribute(`#dec-table tr[data-number="${number}"] a.verify-page-link`, 'href');
  check('…with the letter\'s verification link', href === letter);
  const verify = await api(`${href}?f=json`);
  check('the letter is on record and public', verify.status === 200 && verify.body.on_record !== false, JSON.stringify(verify.body).slice(0, 200));
  await a11y(page, '1280 px EN: the register of decisions');
  await page.screenshot({ path: path.join(outdir, 'decisions-1280.png') });
  const lock = await api('/assets/HER-0001/heritage-lock');
  check('the heritage lock of HER-0001 is cleared for this application', lock.body.state === 'cleared', JSON.stringify(lock.body));
  await page.goto(`${base}/#staff`);
  await page.click('#staff-signout');
});

// ---- 4. the applicant's view of the case, and an open request for documents --------------------------

await run('my applications', async () => {
  if (!number) throw new Error('nothing was submitted');
  const { context, page: p } = await newPage({ width: 1280, height: 800 }, {}, {
    init: { fn: (s) => window.sessionStorage.setItem('atlas.applicant', JSON.stringify(s)), arg: applicantSession },
  });
  await p.goto(`${base}/#my-applications/${number}`);
  await p.waitForSelector('#mine-stages', { timeout: 15000 });
  const stages = (await p.$$('#mine-stages li')).length;
  if (letterIssued) check('the applicant\'s case shows every stage and the decision', stages >= 5 && !!(await p.$('#mine-decision-letter')));
  else check('the applicant\'s case shows every stage it passed through', stages >= 5, String(stages));
  await context.close();
});

// A second application the department asks more of: the applicant answers with a document.
let asked = null;
await run('a request for documents', async () => {
  const who = await applicantToken(`98${String(stamp).slice(-8)}`);
  const tok = who.token;
  const d = await api('/applications', { method: 'POST', token: tok, json: { type: 'heritage_sanction', asset: 'HER-0001', work: 'restoration', fields: FIELDS } });
  if (d.status !== 201) throw new Error(`POST /applications: ${d.status} ${JSON.stringify(d.body)}`);
  for (const doc of heritage.documents) {
    const f = files[doc.code];
    const r = await api(`/applications/${d.body.draft}/files/${doc.code}?name=${encodeURIComponent(f.name)}`, { method: 'PUT', token: tok, body: f.buffer, type: f.mimeType });
    if (r.status !== 201) throw new Error(`PUT file: ${r.status} ${JSON.stringify(r.body)}`);
  }
  const s = await api(`/applications/${d.body.draft}/submit`, { method: 'POST', token: tok });
  if (s.status !== 200) throw new Error(`submit: ${s.status} ${JSON.stringify(s.body)}`);
  asked = { number: s.body.number, session: who };
  const staff = await staffLogin();
  const r = await api(`/applications/${asked.number}/actions`, { method: 'POST', token: staff.token, json: { action: 'request', what: 'Send a clearer photograph of the east façade.', documents: ['photographs'] } });
  check('staff ask the applicant for a document (POST …/actions request)', r.status === 200, `${r.status} ${JSON.stringify(r.body).slice(0, 200)}`);

  const { context, page: p } = await newPage({ width: 1280, height: 800 }, {}, {
    init: { fn: (x) => window.sessionStorage.setItem('atlas.applicant', JSON.stringify(x)), arg: who },
  });
  await p.goto(`${base}/#my-applications`);
  await p.waitForSelector(`#mine-list [data-key="${asked.number}"]`, { timeout: 15000 });
  check('My applications says the department asked for more', (await p.textContent(`#mine-list [data-key="${asked.number}"]`)).includes('asked you for more'));
  await p.click(`#mine-list [data-key="${asked.number}"]`);
  await p.waitForSelector('.open-request form', { timeout: 10000 });
  await a11y(p, '1280 px EN: an open request for documents');
  await p.screenshot({ path: path.join(outdir, 'mine-1280-request.png') });
  const photo = { name: `clearer-${stamp}.png`, mimeType: 'image/png', buffer: pngOf([7, stamp % 256, 99]) };
  await p.setInputFiles('.open-request input[type="file"]', photo);
  await p.waitForSelector(`.open-request .app-file[data-sha256="${sha256(photo.buffer)}"]`, { timeout: 15000 });
  await p.fill('.open-request textarea', 'A clearer photograph is attached.');
  await p.click('.open-request button[type="submit"]');
  await p.waitForSelector('#mine-message.success', { timeout: 15000 });
  check('the answer is sent and the clock runs again', !(await p.$('.open-request form')));
  await context.close();
  const tr = (await api(`/applications/${asked.number}/track`)).body;
  check('the tracker no longer says it waits for the applicant', !tr.awaiting_applicant_since, JSON.stringify(tr).slice(0, 200));
});

// ---- 5. every view at 360 and 1280 px, in English and in Bengali ---------------------------------------

await run('views at both widths, both languages', async () => {
  if (!number) throw new Error('nothing was submitted');
  const who = applicantSession;
  // A draft to look at, on a Grade I building, with the work chosen.
  const d = await api('/applications', { method: 'POST', token: who.token, json: { type: 'heritage_sanction', asset: 'HER-0001', work: 'repair', fields: { premises_no: '1 Queen’s Way' } } });
  const draft = d.body && d.body.draft;
  check('a second draft for the screenshots', d.status === 201 && !!draft, `${d.status} ${JSON.stringify(d.body).slice(0, 200)}`);
  const staff = await staffLogin();
  for (const [width, height] of [[360, 740], [1280, 800]]) {
    for (const lang of ['en', 'bn']) {
      const tag = `${width} px ${lang.toUpperCase()}`;
      const { context, page: p } = await newPage({ width, height }, {}, {
        lang,
        init: {
          fn: ([a, s]) => {
            window.sessionStorage.setItem('atlas.applicant', JSON.stringify(a));
            window.sessionStorage.setItem('atlas.staff', JSON.stringify(s));
          },
          arg: [who, { token: staff.token, expires_at: staff.expires_at, user: staff.user }],
        },
      });
      const shot = (name) => p.screenshot({ path: path.join(outdir, `${width}-${lang}-${name}.png`) });
      const bengali = (sel) => p.waitForFunction((s) => /[\u0980-\u09FF]/.test(document.querySelector(s)?.textContent || ''), sel, { timeout: 10000 }).then(() => true, () => false);
      await p.goto(`${base}/#apply/${draft}`);
      await p.waitForSelector('#apply-refused-demolition', { timeout: 20000 });
      if (lang === 'bn') check(`${tag}: the refusal is in Bengali`, await bengali('#apply-refused-demolition'));
      await a11y(p, `${tag}: the draft with the refused works`);
      await shot('apply');
      await p.evaluate(() => { document.querySelector('#apply-work-section').scrollIntoView(); });
      await shot('apply-work');
      await p.evaluate(() => { document.querySelector('#apply-documents').scrollIntoView(); });
      await shot('apply-documents');
      await p.goto(`${base}/#my-applications`);
      await p.waitForSelector('#mine-list li', { timeout: 10000 });
      await a11y(p, `${tag}: My applications`);
      await shot('mine');
      await p.goto(`${base}/#application/${number}`);
      await p.waitForSelector('#atrack-stages', { timeout: 10000 });
      if (lang === 'bn') check(`${tag}: the stages are named in Bengali`, await bengali('#atrack-stages'));
      await a11y(p, `${tag}: the public tracker${letterIssued ? ' with the decision' : ''}`);
      await shot('track');
      await p.goto(`${base}/#decisions`);
      await p.waitForFunction(() => { const c = document.querySelector('#dec-count')?.textContent || ''; return c && !c.endsWith('…'); }, null, { timeout: 10000 });
      if (letterIssued) await p.waitForSelector('#dec-table', { timeout: 10000 });
      await a11y(p, `${tag}: the register of decisions`);
      await shot('decisions');
      await p.goto(`${base}/#desk`);
      await p.waitForSelector('#desk-count', { timeout: 10000 });
      await p.waitForFunction(() => !/…$/.test(document.querySelector('#desk-count')?.textContent || '…'), null, { timeout: 10000 }).catch(() => {});
      await a11y(p, `${tag}: the applications desk`);
      await shot('desk');
      if (asked) {
        await p.goto(`${base}/#desk/${asked.number}`);
        await p.waitForSelector('#desk-act', { timeout: 10000 });
        await a11y(p, `${tag}: a case on the desk with its action form`);
        await shot('desk-case');
      }
      await p.goto(`${base}/#hcc`);
      await p.waitForSelector('#hcc-list, #hcc-count', { timeout: 10000 });
      await a11y(p, `${tag}: HCC meetings`);
      await shot('hcc');
      await p.goto(`${base}/#asset/HER-0001`);
      await p.waitForSelector('#asset-apply', { timeout: 10000 });
      check(`${tag}: a Grade I building's panel offers to apply for permission`, true);
      await p.click('#asset-apply');
      await p.waitForSelector('#apply-preset', { timeout: 10000 });
      check(`${tag}: …which starts an application for those premises`, (await p.textContent('#apply-preset')).includes('HER-0001'));
      await context.close();
    }
  }
  // The applicant's sign-in on a phone, and with a language chosen.
  for (const lang of ['en', 'bn']) {
    const { context, page: p } = await newPage({ width: 360, height: 740 }, {}, { lang });
    await p.goto(`${base}/#apply`);
    await p.waitForSelector('#apply-contact', { timeout: 20000 });
    await a11y(p, `360 px ${lang.toUpperCase()}: the applicant's sign-in`);
    await p.screenshot({ path: path.join(outdir, `360-${lang}-apply-signin.png`) });
    await context.close();
  }
});

// The English and Bengali tables hold the same keys (read as the browser gets them).
await run('string tables', async () => {
  const { context, page: p } = await newPage();
  await p.goto(`${base}/`);
  const tables = await p.evaluate(async () => ({
    en: (await import('/js/strings/en.js')).default,
    bn: (await import('/js/strings/bn.js')).default,
  }));
  const keys = Object.keys(tables.en).filter((k) => /^(appl|applicant|apply|mine|atrack|dec|desk|duty|hcc)\./.test(k));
  const missing = keys.filter((k) => !tables.bn[k] || !String(tables.bn[k]).trim());
  check(`the ${keys.length} strings of the applications have Bengali`, keys.length > 200 && missing.length === 0, missing.slice(0, 5).join(', '));
  await context.close();
});

await deskCtx.close();
check('no console errors', errors.length === 0, JSON.stringify(errors.slice(0, 5)));
check('no request leaves this server', offsite.length === 0, JSON.stringify(offsite.slice(0, 5)));
await browser.close();
console.log(failed ? `${passed} checks passed, ${failed} failed` : `${passed} checks passed`);
process.exit(failed ? 1 : 0);
