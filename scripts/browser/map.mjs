// Opens the map page in Debian's Chromium (playwright-core) against a running server and
// checks it loads with no console errors and renders features from our tiles; writes a
// screenshot. Usage: node map.mjs http://127.0.0.1:PORT OUT.png
import { chromium } from 'playwright-core';

const [base, out] = process.argv.slice(2);
let passed = 0, failed = 0;
const check = (name, ok, detail = '') => {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
};

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
         '--disable-sync', '--no-first-run', '--disable-quic'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
const errors = [];
const offsite = [];
page.on('console', m => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', e => errors.push(e.message));
page.on('request', r => { if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) offsite.push(r.url()); });

await page.goto(`${base}/`);
const loaded = await page.waitForFunction(() => window.map && window.map.loaded() && window.map.areTilesLoaded(), null, { timeout: 30000 })
  .then(() => true, () => false);
check('map loads', loaded);
await page.waitForTimeout(500);
const rendered = await page.evaluate(() => {
  const by = {};
  for (const f of window.map.queryRenderedFeatures()) by[f.sourceLayer] = (by[f.sourceLayer] || 0) + 1;
  return by;
});
check(`renders features from every layer ${JSON.stringify(rendered)}`, ['heritage', 'water_bodies', 'parks', 'wards'].every(l => rendered[l] > 0));

// Fly to Victoria Memorial and find it by name among rendered features.
await page.evaluate(() => window.map.jumpTo({ center: [88.3426, 22.5448], zoom: 16 }));
await page.waitForFunction(() => window.map.loaded() && window.map.areTilesLoaded(), null, { timeout: 30000 }).catch(() => {});
await page.waitForTimeout(500);
const names = await page.evaluate(() => window.map.queryRenderedFeatures().map(f => f.properties.name));
check('Victoria Memorial rendered at z16', names.includes('Victoria Memorial'));
check('no console errors', errors.length === 0, JSON.stringify(errors.slice(0, 5)));
check('no request leaves this server', offsite.length === 0, JSON.stringify(offsite.slice(0, 5)));
await page.screenshot({ path: out });
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
