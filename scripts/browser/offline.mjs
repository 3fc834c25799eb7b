// Offline field mode (issue 20): a staff member keeps a ward offline, the network goes
// (Playwright's offline mode), the page is reloaded from the service worker, an asset of
// the ward is found by search and opened from the saved records, an inspection is recorded
// and waits in the outbox (the banner says 1), Near me answers from the saved places; the
// network comes back, the banner clears, and the server holds the inspection exactly once.
// Then the queued POST is sent again with the same Idempotency-Key, and the server must
// still hold it once (this needs the server's Idempotency-Key support).
//
// Usage: STAFF_USER=officer1 STAFF_PASSWORD=… node offline.mjs http://127.0.0.1:PORT OUTDIR
// (an officer, or field staff of OFFLINE_WARD; OFFLINE_WARD defaults to 79, OFFLINE_ASSET
// to HER-0001, Victoria Memorial, which is in it).
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const [base, outDir = '/tmp/offline-out'] = process.argv.slice(2);
if (!base) {
  console.error('usage: node offline.mjs URL [OUTDIR]');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const user = process.env.STAFF_USER || 'officer1';
const password = process.env.STAFF_PASSWORD || 'a long password';
const WARD = Number(process.env.OFFLINE_WARD || 79);
const CODE = process.env.OFFLINE_ASSET || 'HER-0001';
const GOAL = 20 * 1024 * 1024;

let passed = 0;
let failed = 0;
const check = (name, ok, detail = '') => {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
  return ok;
};
const info = (s) => console.log(`info ${s}`);
const started = Date.now();

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});
const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, serviceWorkers: 'allow' });
const page = await context.newPage();
const pageErrors = [];
const offsite = [];
const posts = [];
page.on('pageerror', (e) => pageErrors.push(e.message));
context.on('request', (r) => {
  const u = r.url();
  if (!u.startsWith(base) && !u.startsWith('data:') && !u.startsWith('blob:')) offsite.push(u);
  if (r.method() === 'POST' && u.includes(`/assets/${CODE}/inspections`)) {
    posts.push({ key: r.headers()['idempotency-key'], body: r.postData(), auth: r.headers().authorization });
  }
});

const mapReady = (timeout = 30000) => page.waitForFunction(() => window.map && window.map.loaded() && window.map.areTilesLoaded(), null, { timeout })
  .then(() => true, () => false);

/** The inspections of CODE on the server (straight HTTP, no browser) whose notes are `notes`. */
async function inspectionsWith(notes) {
  const r = await fetch(`${base}/assets/${encodeURIComponent(CODE)}`, { headers: { Accept: 'application/json' } });
  const d = await r.json();
  return (d.inspections || []).filter((i) => i.notes === notes).length;
}

try {
  // ---- online: the PWA, sign in, keep the ward -----------------------------------------------
  await page.goto(`${base}/`);
  check('map loads', await mapReady());
  const manifest = await page.evaluate(async () => {
    const link = document.querySelector('link[rel="manifest"]');
    if (!link) return null;
    const r = await fetch(link.href);
    return { type: r.headers.get('Content-Type'), body: await r.json() };
  }).catch((e) => ({ error: String(e) }));
  const m = manifest && manifest.body;
  check('web manifest linked: name, short_name, start_url /, standalone, theme colour, 192 and 512 px icons',
    !!m && m.name && m.short_name === 'Heritage Atlas' && m.start_url === '/' && m.display === 'standalone' && m.theme_color
      && ['192x192', '512x512'].every((s) => (m.icons || []).some((i) => i.sizes === s)), JSON.stringify(manifest).slice(0, 300));
  const controlled = await page.evaluate(async () => {
    if (!('serviceWorker' in navigator)) return 'unsupported';
    const reg = await navigator.serviceWorker.ready;
    if (!navigator.serviceWorker.controller) {
      await new Promise((resolve) => {
        navigator.serviceWorker.addEventListener('controllerchange', resolve, { once: true });
        setTimeout(resolve, 10000);
      });
    }
    return navigator.serviceWorker.controller ? reg.scope : 'not controlling';
  });
  check('service worker registered at scope / and controls the page', controlled === `${base}/`, controlled);
  const shell = await page.evaluate(async () => {
    const names = await caches.keys();
    const shellName = names.find((n) => n.startsWith('atlas-shell-'));
    if (!shellName) return { names };
    const keys = (await (await caches.open(shellName)).keys()).map((r) => new URL(r.url).pathname);
    return { names, keys };
  });
  const need = ['/', '/app.js', '/app.css', '/js/offline.js', '/js/asset.js', '/js/strings/en.js', '/vendor/maplibre-gl/maplibre-gl.mjs',
    '/vendor/maplibre-gl/maplibre-gl-worker.mjs', '/styles/heritage.json', '/fonts/Noto%20Sans%20Regular/0-255.pbf', '/manifest.webmanifest'];
  const missing = need.filter((p) => !(shell.keys || []).includes(p));
  check('the app shell is precached (page, modules, MapLibre, style, first glyphs)', !missing.length, `missing ${JSON.stringify(missing)} of ${JSON.stringify(shell)}`.slice(0, 400));
  const notForAll = ['/js/strings/bn.js', '/vendor/terra-draw/terra-draw.modern.js', '/vendor/uplot/uPlot.esm.js'].filter((p) => (shell.keys || []).includes(p));
  check('what only some visitors need is not precached for all (Bengali strings, terra-draw, uPlot)', !notForAll.length, JSON.stringify(notForAll));

  await page.evaluate(() => { window.location.hash = '#staff'; });
  await page.fill('#staff-name', user);
  await page.fill('#staff-password', password);
  await page.click('#staff-signin');
  const signedIn = await page.waitForSelector('#staff-main:not([hidden]) #offline-ward', { timeout: 10000 }).then(() => true, () => false);
  check('signed in: the Staff view offers "Keep a ward offline"', signedIn);
  const token = await page.evaluate(() => JSON.parse(sessionStorage.getItem('atlas.staff') || '{}').token);

  await page.fill('#offline-ward', String(WARD));
  await page.click('#offline-check');
  const planned = await page.waitForSelector('#offline-go', { timeout: 20000 }).then(() => true, () => false);
  const planText = planned ? await page.textContent('#offline-plan-text') : '';
  check(`the size is shown before saving: "${planText}"`, planned && /tiles/.test(planText) && /places?/.test(planText) && /\d\s*(KB|MB)/.test(planText));
  const t0 = Date.now();
  await page.click('#offline-go');
  const savedRow = await page.waitForSelector(`#offline-saved li[data-ward="${WARD}"]`, { timeout: 60000 }).then(() => true, () => false);
  const bytes = savedRow ? Number(await page.getAttribute(`#offline-saved li[data-ward="${WARD}"]`, 'data-bytes')) : 0;
  const sizeText = savedRow ? await page.textContent(`#offline-saved li[data-ward="${WARD}"] .offline-ward-size`) : '';
  const statusText = await page.textContent('#offline-status');
  check(`ward ${WARD} saved in ${((Date.now() - t0) / 1000).toFixed(1)} s: "${statusText}" / "${sizeText}"`, savedRow && /stored/.test(statusText) && /(KB|MB)/.test(sizeText));
  info(`ward ${WARD} stored: ${bytes} bytes (${(bytes / 1024 / 1024).toFixed(2)} MiB)`);
  const sources = await page.evaluate((ward) => new Promise((resolve) => {
    const req = indexedDB.open('atlas-offline');
    req.onsuccess = () => {
      const get = req.result.transaction('wards').objectStore('wards').get(ward);
      get.onsuccess = () => resolve((get.result && get.result.sources) || []);
    };
    req.onerror = () => resolve([]);
  }), WARD);
  for (const s of sources) info(`  source ${s.name}: z${s.from}–z${s.to}, ${s.tiles} tiles, ${s.bytes} bytes`);
  check('the ward takes less than 20 MB', bytes > 0 && bytes < GOAL, String(bytes));
  const stored = await page.evaluate(async (ward) => {
    const c = await caches.open(`atlas-ward-${ward}`);
    const keys = (await c.keys()).map((r) => new URL(r.url).pathname);
    return { tiles: keys.filter((k) => /\/\d+\/\d+\/\d+\.mvt$/.test(k)).length, assets: keys.filter((k) => k.startsWith('/assets/')).length,
      bengali: keys.includes('/js/strings/bn.js') && keys.some((k) => k.startsWith('/webfonts/')), zooms: [...new Set(keys.map((k) => (/\/(\d+)\/\d+\/\d+\.mvt$/.exec(k) || [])[1]).filter(Boolean))].map(Number).sort((a, b) => a - b) };
  }, WARD);
  check(`tiles z12–z17, asset records, Bengali strings and web fonts kept in Cache Storage (${JSON.stringify(stored)})`,
    stored.tiles > 0 && stored.assets > 0 && stored.bengali && stored.zooms[0] === 12 && stored.zooms.at(-1) === 17);
  await page.screenshot({ path: `${outDir}/offline-1280-saved.png` });

  // ---- offline ----------------------------------------------------------------------------------
  await context.setOffline(true);
  const reload = await page.reload().catch((e) => ({ error: e }));
  check('offline, the page reloads from the service worker', reload && !reload.error && reload.fromServiceWorker() && reload.ok(), reload && reload.error ? String(reload.error) : '');
  check('offline, the map loads (style, TileJSON and glyphs from the caches)', await mapReady(20000));
  const onLine = await page.evaluate(() => navigator.onLine);
  check('the page knows it is offline', onLine === false);

  // Search within the saved ward: the first word of the asset's name.
  const wanted = await page.evaluate(async (code) => {
    const r = await new Promise((resolve) => {
      const req = indexedDB.open('atlas-offline');
      req.onsuccess = () => {
        const tx = req.result.transaction('wards').objectStore('wards').getAll();
        tx.onsuccess = () => resolve(tx.result);
      };
      req.onerror = () => resolve([]);
    });
    for (const w of r) for (const p of w.places) if (p.code === code) return p.properties.name;
    return null;
  }, CODE);
  check(`${CODE} is among the saved places (${wanted})`, !!wanted);
  await page.fill('#search', String(wanted || CODE).split(' ')[0]);
  const hit = await page.waitForSelector('#search-results .search-option', { timeout: 5000 }).then(() => true, () => false);
  const options = hit ? await page.$$eval('#search-results .search-option .opt-name', (els) => els.map((e) => e.textContent)) : [];
  check(`offline search finds it in the saved ward (${JSON.stringify(options)})`, options.includes(wanted));
  if (hit) await page.click(`#search-results .search-option:has-text("${wanted}")`);
  else await page.evaluate((code) => { window.location.hash = `#asset/${code}`; }, CODE);
  const opened = await page.waitForFunction((name) => document.querySelector('#asset-name') && document.querySelector('#asset-name').textContent === name, wanted, { timeout: 10000 })
    .then(() => true, () => false);
  check('offline, the asset panel opens from the saved record', opened);
  await mapReady(10000);
  const rendered = await page.evaluate(() => window.map.queryRenderedFeatures().filter((f) => f.sourceLayer === 'heritage').length);
  check(`offline, the map draws the ward from saved tiles (${rendered} heritage features; zoom ${await page.evaluate(() => window.map.getZoom().toFixed(1))})`, rendered > 0);

  const notes = `Offline test ${new Date().toISOString()} ${Math.random().toString(36).slice(2, 8)}`;
  const formThere = await page.waitForSelector('#rec-inspection-form', { timeout: 5000 }).then(() => true, () => false);
  check('the inspection form is there offline', formThere);
  // The condition the form offers is the asset's own: the register's condition stays as it was.
  await page.fill('#rec-notes', notes);
  await page.click('#rec-inspect');
  const queued = await page.waitForFunction(() => /No network/.test(document.querySelector('#rec-inspection-status')?.textContent || ''), null, { timeout: 10000 })
    .then(() => true, () => false);
  check('offline, the inspection is kept and the form says so', queued);
  const banner = await page.evaluate(() => {
    const b = document.querySelector('#outbox');
    return { hidden: b.hidden, count: b.dataset.count, text: b.textContent };
  });
  check(`the banner says 1 waits: "${banner.text}"`, !banner.hidden && banner.count === '1' && /1 waiting/.test(banner.text) && /1 inspection/.test(banner.text));
  await page.screenshot({ path: `${outDir}/offline-1280-queued.png` });
  check('nothing was sent while offline', posts.length === 0, JSON.stringify(posts));

  // Near me from a position (the map's centre stands in for the device's here).
  await page.evaluate(() => { window.location.hash = '#near'; });
  await page.click('#near-centre');
  const near = await page.waitForFunction(() => document.querySelectorAll('#near-list li').length > 0, null, { timeout: 10000 }).then(() => true, () => false);
  const nearNames = await page.$$eval('#near-list .near-name', (els) => els.map((e) => e.textContent));
  check(`offline, Near me lists saved places (${JSON.stringify(nearNames.slice(0, 4))})`, near && nearNames.length > 0);

  // Bengali with no network (its strings and web fonts were kept with the ward): the banner too.
  await page.click('#lang-switch');
  const bn = await page.waitForFunction(() => document.documentElement.lang === 'bn', null, { timeout: 5000 }).then(() => true, () => false);
  const bnBanner = await page.textContent('#outbox');
  check(`offline, the page switches to Bengali and the banner says it: "${bnBanner}"`, bn && /১টি পাঠানোর অপেক্ষায়/.test(bnBanner) && /১টি পরিদর্শন/.test(bnBanner));
  await page.screenshot({ path: `${outDir}/offline-1280-bn.png` });
  await page.click('#lang-switch');
  await page.waitForFunction(() => document.documentElement.lang === 'en', null, { timeout: 5000 }).catch(() => {});

  // ---- back online ------------------------------------------------------------------------------
  await context.setOffline(false);
  const cleared = await page.waitForFunction(() => document.querySelector('#outbox').dataset.count === '0', null, { timeout: 20000 })
    .then(() => true, () => false);
  const after = await page.evaluate(() => document.querySelector('#outbox').textContent);
  check(`online again, the outbox empties and says it was sent: "${after}"`, cleared && /Sent/.test(after));
  check('sent once, with an Idempotency-Key', posts.length === 1 && /^[0-9a-f-]{36}$/.test(posts[0].key || ''), JSON.stringify(posts.map((p) => p.key)));
  const once = await inspectionsWith(notes);
  check('the server holds the inspection exactly once', once === 1, `found ${once}`);

  // A retry of the same write (its answer lost on the way back): same key, same user, same body.
  if (posts[0]) {
    const again = await fetch(`${base}/assets/${encodeURIComponent(CODE)}/inspections`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: `Bearer ${token}`, 'Idempotency-Key': posts[0].key },
      body: posts[0].body,
    });
    info(`replay: HTTP ${again.status}, Idempotent-Replayed: ${again.headers.get('Idempotent-Replayed')}`);
    const twice = await inspectionsWith(notes);
    check('replayed with the same Idempotency-Key, the server still holds it exactly once (needs the server\'s Idempotency-Key support)',
      twice === 1 && again.ok, `found ${twice} after a replay answered HTTP ${again.status}${twice > 1 ? ': the server wrote the repeat: Idempotency-Key is not honoured yet' : ''}`);
    check('the replay is marked Idempotent-Replayed: true (needs the server\'s Idempotency-Key support)', again.headers.get('Idempotent-Replayed') === 'true',
      `header ${again.headers.get('Idempotent-Replayed')}`);
  }

  // Removing the ward frees its storage.
  await page.evaluate(() => { window.location.hash = '#staff'; });
  await page.click(`#offline-remove-${WARD}`);
  const gone = await page.waitForFunction((w) => !document.querySelector(`#offline-saved li[data-ward="${w}"]`), WARD, { timeout: 5000 }).then(() => true, () => false);
  const cacheGone = await page.evaluate((w) => caches.has(`atlas-ward-${w}`).then((x) => !x), WARD);
  check('Remove takes the ward off the device', gone && cacheGone);
  check('no uncaught errors on the page', pageErrors.length === 0, JSON.stringify(pageErrors.slice(0, 5)));
  check('no request leaves this server', offsite.length === 0, JSON.stringify(offsite.slice(0, 5)));
} catch (e) {
  check('the test ran to the end', false, e && e.stack ? e.stack : String(e));
  await page.screenshot({ path: `${outDir}/offline-1280-error.png` }).catch(() => {});
}
await browser.close();
info(`took ${((Date.now() - started) / 1000).toFixed(1)} s`);
console.log(failed ? `${passed} checks passed, ${failed} failed` : `${passed} checks passed`);
process.exit(failed ? 1 : 0);
