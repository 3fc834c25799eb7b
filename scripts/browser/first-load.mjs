// First load of the map page, measured the way a citizen meets it: a cold cache, then a
// return visit. Two profiles: desktop on loopback, and a cheap phone — 360×740, CPU
// slowed 4× and "Slow 4G"-like network (1.6 Mbit/s down, 750 kbit/s up, 150 ms RTT),
// through Chrome DevTools Protocol throttling. Reports medians of N runs; asserts
// nothing (speed is recorded in BENCHMARKS.md, not tested).
//
// Usage: node first-load.mjs http://127.0.0.1:PORT [runs=3]
import { chromium } from 'playwright-core';

const [base, runsArg] = process.argv.slice(2);
if (!base) {
  console.error('usage: node first-load.mjs URL [runs]');
  process.exit(2);
}
const runs = Number(runsArg || 3);

const PROFILES = [
  { name: 'desktop, loopback', viewport: { width: 1280, height: 800 }, cpu: 1, net: null },
  {
    name: 'phone: 360 px, CPU ÷4, 1.6 Mbit/s, 150 ms RTT',
    viewport: { width: 360, height: 740 },
    cpu: 4,
    net: { offline: false, latency: 150, downloadThroughput: 1.6e6 / 8, uploadThroughput: 750e3 / 8 },
  },
];

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});

/** One visit: ms from navigation start to the first rendered feature, and bytes on the
 * wire (headers and bodies as sent, of the page and of MapLibre's worker, which fetches
 * the tiles: Playwright sees both, CDP's page session only the first). */
async function visit(page) {
  let bytes = 0;
  let responses = 0;
  const pending = [];
  const onFinished = (r) => {
    pending.push((async () => {
      const s = await r.sizes().catch(() => null);
      if (s) bytes += s.responseBodySize + s.responseHeadersSize;
      responses++;
    })());
  };
  page.context().on('requestfinished', onFinished);
  await page.goto(`${base}/`, { waitUntil: 'domcontentloaded', timeout: 120000 });
  const first = await page.waitForFunction(() => {
    const m = window.map;
    if (!m || !m.isStyleLoaded()) return false;
    return m.queryRenderedFeatures().length > 0 ? performance.now() : false;
  }, null, { timeout: 120000, polling: 'raf' }).then((h) => h.jsonValue(), (e) => { console.error(String(e).split('\n')[0]); return null; });
  page.context().off('requestfinished', onFinished);
  await Promise.all(pending);
  return { ms: first, bytes, responses };
}

const median = (xs) => {
  const v = xs.filter((x) => x !== null).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : null;
};

for (const p of PROFILES) {
  const cold = [];
  const warm = [];
  for (let i = 0; i < runs; i++) {
    const context = await browser.newContext({ viewport: p.viewport, isMobile: p.viewport.width < 500, hasTouch: p.viewport.width < 500 });
    const page = await context.newPage();
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.clearBrowserCache');
    if (p.net) await cdp.send('Network.emulateNetworkConditions', p.net);
    if (p.cpu > 1) await cdp.send('Emulation.setCPUThrottlingRate', { rate: p.cpu });
    cold.push(await visit(page));
    // Let MapLibre finish so the return visit finds a settled cache, then come back.
    await page.waitForTimeout(1500);
    warm.push(await visit(page));
    await context.close();
  }
  const report = (label, xs) => {
    const ms = median(xs.map((x) => x.ms));
    const kib = median(xs.map((x) => x.bytes)) / 1024;
    const n = median(xs.map((x) => x.responses));
    console.log(`${p.name} — ${label}: first rendered feature ${ms === null ? '?' : Math.round(ms)} ms (median of ${xs.length}: ${xs.map((x) => (x.ms === null ? '?' : Math.round(x.ms))).join(', ')}), ${kib.toFixed(0)} KiB on the wire in ${n} responses by then`);
  };
  report('cold cache', cold);
  report('return visit', warm);
}
await browser.close();
