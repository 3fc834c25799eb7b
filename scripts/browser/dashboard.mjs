// The dashboard and the monthly ward report in Debian's Chromium (playwright-core), against
// a running server whose database holds synthetic complaints:
//
//   heritage-atlas --db X generate-complaints --count 3000 --seed 7
//   heritage-atlas --db X serve --bind 127.0.0.1:PORT
//   node dashboard.mjs http://127.0.0.1:PORT OUTDIR
//
// It opens #dashboard and checks the headline figures against /stats/complaints' totals
// and the charts' tables against its groups; picks each choropleth metric and checks the
// fill of known wards on the map (the rendered feature's evaluated paint) against the key's
// colour for the class those wards fall in by /stats/wards (the class rule is written
// again here); changes the filters and checks the URL keeps them and a reload restores
// them; opens the monthly report of a ward with an overdue complaint, prints it to PDF
// (page.pdf, print media) and finds that ticket in the PDF's text (pdftotext); prints a
// borough's report, one page per ward; runs axe-core (WCAG 2.1 A/AA) on the dashboard and
// the report at 360 and 1280 px, in English and Bengali; no request off the server, no
// console errors. One line per check; "N checks passed" at the end; exit 1 on a failure.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { toolOverlaps } from './layout.mjs';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const [base, outdir] = process.argv.slice(2);
if (!base || !outdir) {
  console.error('usage: node dashboard.mjs URL OUTDIR');
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

async function api(pathname) {
  const res = await fetch(`${base}${pathname}`, { headers: { Accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(`${pathname}: ${res.status} ${JSON.stringify(body)}`);
  return body;
}

// ---- the class rule, written again (web/js/dashboard.js: niceStep, classify) ----------------

const COUNTS = new Set(['overdue_complaints', 'inspections_due']);
function step(max, count) {
  const x = max / 4;
  if (!(x > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(x));
  for (const m of count ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]) if (m * e >= x * (1 - 1e-12)) return count ? Math.max(1, m * e) : m * e;
  return 10 * e;
}
function classesOf(rows, metric) {
  const vals = rows.map((r) => r[metric]).filter((v) => v !== null && v !== undefined);
  const s = step(vals.length ? Math.max(...vals) : 0, COUNTS.has(metric));
  const classOf = (v) => (v === null || v === undefined ? -1 : v <= 0 ? 0 : Math.min(4, Math.max(1, Math.ceil(v / s - 1e-9))));
  return new Map(rows.map((r) => [Number(r.ward), classOf(r[metric])]));
}

// Last month in Kolkata: what the dashboard offers for the ward report.
function lastMonth() {
  const [y, m] = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata', year: 'numeric', month: '2-digit', day: '2-digit' })
    .format(new Date()).split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

// ---- the browser ---------------------------------------------------------------------------

const browser = await chromium.launch({
  executablePath: '/usr/bin/chromium',
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
    '--disable-sync', '--no-first-run', '--disable-quic'],
});

const errors = [];
const offsite = [];
async function newPage(viewport = { width: 1280, height: 800 }, { lang = null } = {}) {
  const context = await browser.newContext({ viewport, ...(viewport.width < 700 ? { hasTouch: true, isMobile: true } : {}) });
  if (lang) await context.addInitScript((l) => window.localStorage.setItem('atlas.lang', JSON.stringify(l)), lang);
  const page = await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') errors.push(`${viewport.width}px: ${m.text()}`); });
  page.on('pageerror', (e) => errors.push(`${viewport.width}px: ${e.message}`));
  page.on('request', (r) => {
    const u = r.url();
    if (!u.startsWith(base) && !/^(data|blob|chrome|chrome-extension):/.test(u)) offsite.push(u);
  });
  return { context, page };
}

const AXE_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
async function axeViolations(p) {
  if (!(await p.evaluate(() => typeof window.axe === 'object'))) await p.evaluate(AXE_SOURCE);
  return p.evaluate(async (values) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values }, resultTypes: ['violations', 'incomplete'] });
    const out = r.violations.map((v) => `${v.id} ×${v.nodes.length} (${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')})`);
    // Text axe cannot see whole (scrolled out of the panel): its contrast against its
    // nearest opaque background, as app.mjs does.
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

async function a11y(p, name) {
  await p.evaluate(() => document.fonts.ready);
  const v = await axeViolations(p);
  check(`axe: no WCAG 2.1 A/AA violations, ${name}`, v.length === 0, v.join('; '));
  const over = await sideways(p);
  check(`${name}: no sideways scrolling`, over <= 0, `+${over} px`);
  const o = await toolOverlaps(p);
  check(`${name}: the ← ↕ ✕ buttons cover nothing`, o.length === 0, o.slice(0, 3).join('; '));
}

const figuresReady = (p) => p.waitForFunction(() => {
  const s = document.querySelector('#dash-status')?.textContent || '';
  return document.querySelector('#dash-figures') && s && !s.endsWith('…');
}, null, { timeout: 20000 });

const figures = (p) => p.evaluate(() => Object.fromEntries([...document.querySelectorAll('#dash-figures [data-figure]')]
  .map((e) => [e.dataset.figure, e.dataset.value === '' ? null : Number(e.dataset.value)])));

const mapIdle = (p) => p.waitForFunction(
  () => window.map && window.map.loaded() && window.map.areTilesLoaded() && window.map.getLayer('choropleth-fill'), null, { timeout: 30000 },
).then(() => true, () => false);

/** What the map draws at a point of ward `ward`: its id, feature state and evaluated fill,
 * read once the map is idle there (or after 15 s, whatever is drawn by then). */
const drawnAt = (p, lngLat) => p.evaluate((ll) => new Promise((resolve) => {
  const m = window.map;
  const look = () => {
    const f = m.queryRenderedFeatures(m.project(ll), { layers: ['choropleth-fill'] })[0];
    if (!f) { resolve(null); return; }
    const c = f.layer.paint['fill-color'];
    const hex = `#${[c.r, c.g, c.b].map((v) => Math.round((v / (c.a || 1)) * 255).toString(16).padStart(2, '0')).join('')}`;
    resolve({ ward: f.properties.ward, cls: f.state ? f.state.class : undefined, colour: hex, idle: !timedOut });
  };
  let timedOut = false;
  const timer = setTimeout(() => { timedOut = true; look(); }, 15000);
  m.once('idle', () => { clearTimeout(timer); look(); });
  // A jump to where the map already is draws no frame, and an idle map fires no further
  // `idle` without one: the smoke run once waited here for ever.
  m.jumpTo({ center: ll, zoom: 13 });
  m.triggerRepaint();
}), lngLat);

/** The key's colour for class k, as the page draws its swatch. */
const keyColour = (p, k) => p.evaluate((cls) => {
  const li = document.querySelector(`#dash-legend li[data-class="${cls}"]`);
  if (!li) return null;
  const m = getComputedStyle(li.querySelector('.swatch')).backgroundColor.match(/\d+/g).map(Number);
  return `#${m.slice(0, 3).map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}, k);

// ---- what the server says ---------------------------------------------------------------------

const stats = await api('/stats/complaints?by=ward');
const wardRows = (await api('/stats/wards')).wards;
const wardShapes = (await api('/collections/wards/items?limit=200&f=json')).features;
const centreOf = new Map(wardShapes.map((f) => {
  const xs = []; const ys = [];
  const walk = (c) => { if (typeof c[0] === 'number') { xs.push(c[0]); ys.push(c[1]); } else c.forEach(walk); };
  walk(f.geometry.coordinates);
  return [Number(f.properties.ward), [(Math.min(...xs) + Math.max(...xs)) / 2, (Math.min(...ys) + Math.max(...ys)) / 2]];
}));
check(`the server holds synthetic complaints (${stats.total.filed} filed) and ${wardRows.length} wards`, stats.total.filed >= 1000 && wardRows.length > 100);

// ---- the dashboard at 1280 px ----------------------------------------------------------------------

await run('dashboard', async () => {
  const { context, page: p } = await newPage();
  await p.goto(`${base}/`);
  await p.click('#tabs .tab[data-view="export"]');
  await p.click('#export-dashboard');
  await figuresReady(p);
  check('Export → Dashboard opens #dashboard', new URL(p.url()).hash.startsWith('#dashboard'), p.url());
  const f = await figures(p);
  const tot = stats.total;
  // "Overdue now" grows as deadlines pass: the page's is between the totals read before and after.
  const after = (await api('/stats/complaints?by=ward')).total;
  for (const k of ['filed', 'open', 'overdue_now', 'resolved']) {
    check(`headline "${k}" is /stats/complaints' total (${tot[k]})`, f[k] >= Math.min(tot[k], after[k]) && f[k] <= Math.max(tot[k], after[k]), `page ${f[k]}`);
  }
  check('headline share within the deadline is the total\'s', tot.within_deadline.share === null ? f.within_deadline === null
    : Math.abs(f.within_deadline - tot.within_deadline.share) < 1e-9, `page ${f.within_deadline}`);
  const reg = (await api('/stats/register?by=layer')).groups;
  const regFig = await p.evaluate(() => Object.fromEntries([...document.querySelectorAll('#dash-register [data-figure]')].map((e) => [e.dataset.figure, Number(e.dataset.value)])));
  check('register: assets and inspections due are /stats/register\'s sums',
    regFig.assets === reg.reduce((a, g) => a + g.assets, 0) && regFig.inspections_due === reg.reduce((a, g) => a + g.inspections_due, 0), JSON.stringify(regFig));

  // The charts: canvases with a name, and tables holding the same figures as the API.
  await p.waitForSelector('#dash-bars-plot canvas', { timeout: 10000 });
  await p.waitForSelector('#dash-lines-plot canvas', { timeout: 10000 });
  const named = await p.evaluate(() => ['#dash-bars-plot', '#dash-lines-plot'].every((s) => {
    const e = document.querySelector(s);
    return e.getAttribute('role') === 'img' && (e.getAttribute('aria-label') || '').length > 20;
  }));
  check('both charts are drawn, each an image with a name', named);
  const byBorough = await api('/stats/complaints?by=borough');
  const barRows = await p.$$eval('#dash-bars-table tbody tr', (rs) => rs.map((r) => [r.querySelector('th').textContent, r.querySelectorAll('td')[0].textContent.replace(/\D/g, '')]));
  const want = byBorough.groups.filter((g) => g.group !== 'none' || g.filed).map((g) => [g.group, String(g.filed)]);
  check(`the bar chart's table: complaints filed per borough as /stats/complaints?by=borough (${want.length} rows)`, JSON.stringify(barRows) === JSON.stringify(want), JSON.stringify(barRows.slice(0, 3)));
  const byMonth = await api('/stats/complaints?by=month');
  const lineSum = await p.$$eval('#dash-lines-table tbody tr', (rs) => rs.reduce((a, r) => a + Number(r.querySelectorAll('td')[0].textContent.replace(/\D/g, '')), 0));
  check('the line chart\'s table adds up to the complaints filed by month', lineSum === byMonth.groups.filter((g) => g.group !== 'none').reduce((a, g) => a + g.filed, 0), String(lineSum));

  // The choropleth: every metric, known wards' fill against the key's colour of their class.
  const metrics = (await api('/stats/wards')).metrics;
  check('/stats/wards names the four metrics of the issue', metrics.length === 4, JSON.stringify(metrics));
  for (const metric of metrics) {
    await p.selectOption('#dash-metric', metric);
    await p.waitForFunction((m) => window.location.hash.includes(`metric=${m}`), metric, { timeout: 5000 });
    const classes = classesOf(wardRows, metric);
    // The ward with the largest value, and one of another class (or without a value).
    const valued = wardRows.filter((r) => r[metric] !== null && r[metric] !== undefined).sort((a, b) => b[metric] - a[metric] || a.ward - b.ward);
    const top = valued[0];
    const other = wardRows.find((r) => classes.get(Number(r.ward)) !== classes.get(Number(top.ward)) && centreOf.has(Number(r.ward)));
    await mapIdle(p);
    for (const r of [top, other].filter(Boolean)) {
      const ward = Number(r.ward);
      const want = classes.get(ward);
      await p.waitForFunction(([w, c]) => (window.map.getFeatureState({ source: 'choropleth', id: w }) || {}).class === c, [ward, want], { timeout: 5000 }).catch(() => {});
      const drawn = await drawnAt(p, centreOf.get(ward));
      const key = await keyColour(p, want);
      check(`${metric}: ward ${ward} (${r[metric] === null ? 'no value' : r[metric]}) is drawn in class ${want}, the key's ${key}`,
        drawn && drawn.ward === ward && drawn.cls === want && key && drawn.colour === key, JSON.stringify(drawn));
    }
    const counts = await p.$$eval('#dash-legend li', (lis) => lis.map((li) => [Number(li.dataset.class), Number((li.textContent.match(/\((\d+)/) || [])[1])]));
    const wantCounts = counts.map(([k]) => [k, [...classes.values()].filter((c) => c === k).length]);
    check(`${metric}: the key counts the wards of each class as /stats/wards does`, JSON.stringify(counts) === JSON.stringify(wantCounts), JSON.stringify(counts));
  }
  await p.screenshot({ path: path.join(outdir, 'dashboard-1280.png') });

  // Filters in the URL; a reload restores them.
  await p.selectOption('#dash-borough', 'VIII');
  const to = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata' }).format(new Date());
  const from = `${Number(to.slice(0, 4)) - 1}${to.slice(4, 8)}01`; // the first of the month a year ago
  await p.fill('#dash-from', from);
  await p.dispatchEvent('#dash-from', 'change');
  await p.fill('#dash-to', to);
  await p.dispatchEvent('#dash-to', 'change');
  await p.selectOption('#dash-metric', 'overdue_complaints');
  await p.waitForFunction((f) => window.location.hash.includes('borough=VIII') && window.location.hash.includes(`from=${f}`) && window.location.hash.includes('to='), from, { timeout: 5000 }).catch(() => {});
  const hash = new URL(p.url()).hash;
  const q = new URLSearchParams(hash.split('?')[1] || '');
  check('the URL keeps the filters and the metric', q.get('borough') === 'VIII' && q.get('from') === from && q.get('to') === to && q.get('metric') === 'overdue_complaints', hash);
  await p.reload();
  await figuresReady(p);
  const kept = await p.evaluate(() => ({
    borough: document.querySelector('#dash-borough').value, from: document.querySelector('#dash-from').value,
    to: document.querySelector('#dash-to').value, metric: document.querySelector('#dash-metric').value,
  }));
  check('a reload restores the filters and the metric', kept.borough === 'VIII' && kept.from === from && kept.to === to && kept.metric === 'overdue_complaints', JSON.stringify(kept));
  const filtered = await api(`/stats/complaints?by=ward&borough=VIII&from=${from}&to=${to}`);
  const f2 = await figures(p);
  check(`…and the figures are borough VIII's from ${from} (${filtered.total.filed} filed)`, f2.filed === filtered.total.filed && f2.overdue_now === filtered.total.overdue_now, JSON.stringify(f2));
  const wardsOfVIII = wardRows.filter((r) => r.borough === 'VIII').length;
  const barsVIII = await p.$$eval('#dash-bars-table tbody tr', (rs) => rs.length);
  check('with a borough the bars are its wards', barsVIII > 0 && barsVIII <= wardsOfVIII, `${barsVIII} of ${wardsOfVIII}`);
  await p.click('#dash-clear');
  await p.waitForFunction(() => !window.location.hash.includes('borough='), null, { timeout: 5000 }).catch(() => {});
  check('Clear the filters empties the URL\'s filters, the metric stays', /^#dashboard\?metric=overdue_complaints$/.test(new URL(p.url()).hash), p.url());
  await context.close();
});

// ---- the monthly ward report: a ward with an overdue complaint, printed ----------------------------

await run('ward report', async () => {
  const month = lastMonth();
  const ward = [...wardRows].sort((a, b) => b.overdue_complaints - a.overdue_complaints || a.ward - b.ward)[0];
  check(`a ward with overdue complaints (ward ${ward.ward}: ${ward.overdue_complaints})`, ward.overdue_complaints > 0);
  // Overdue only grows with time (nothing changes these complaints meanwhile).
  let report = await api(`/stats/ward-report?ward=${ward.ward}&month=${month}`);
  const ticket = report.overdue[0] && report.overdue[0].ticket;
  check(`/stats/ward-report lists its overdue complaints (${report.overdue.length}, first ${ticket})`, report.overdue.length >= ward.overdue_complaints && !!ticket);
  const { context, page: p } = await newPage();
  await p.goto(`${base}/#dashboard`);
  await figuresReady(p);
  await p.fill('#dash-report-ward', String(ward.ward));
  await p.fill('#dash-report-month', month);
  await p.click('#dash-report-open');
  await p.waitForSelector('.ward-page', { timeout: 20000 });
  check('the dashboard opens #ward-report?ward=N&month=M', new URL(p.url()).hash === `#ward-report?ward=${ward.ward}&month=${month}`, p.url());
  const rows = await p.$$eval('.wr-overdue tbody tr', (rs) => rs.map((r) => r.dataset.ticket));
  report = await api(`/stats/ward-report?ward=${ward.ward}&month=${month}`);
  check('the report lists every overdue complaint, most overdue first', JSON.stringify(rows) === JSON.stringify(report.overdue.map((o) => o.ticket)), JSON.stringify(rows.slice(0, 3)));
  const pdfPath = path.join(outdir, `ward-report-${ward.ward}-${month}.pdf`);
  await p.pdf({ path: pdfPath, format: 'A4', printBackground: true });
  const text = execFileSync('pdftotext', ['-layout', pdfPath, '-'], { encoding: 'utf8' });
  check(`the printed report (PDF) holds the overdue ticket ${ticket}`, text.includes(ticket));
  check('…and names the ward and the month', text.includes(`Ward ${ward.ward}`) && text.includes(new Intl.DateTimeFormat('en-IN', { month: 'long', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${month}-15T00:00:00Z`))));
  check('…and nothing of the map or the panel (no legend, no tabs, no Print button)', !/Layers and legend|Near me|Print\b/.test(text), text.slice(0, 200));
  await context.close();

  // A borough: one page (at least) per ward, each starting a sheet.
  const borough = ward.borough;
  const wardsOf = wardRows.filter((r) => r.borough === borough).length;
  const { context: c2, page: b } = await newPage();
  await b.goto(`${base}/#ward-report?borough=${borough}&month=${month}`);
  await b.waitForFunction((n) => document.querySelectorAll('.ward-page').length === n, wardsOf, { timeout: 30000 }).catch(() => {});
  const pages = await b.$$eval('.ward-page', (ps) => ps.length);
  check(`#ward-report?borough=${borough}: a page for each of its ${wardsOf} wards`, pages === wardsOf, String(pages));
  const bPdf = path.join(outdir, `ward-report-${borough}-${month}.pdf`);
  await b.pdf({ path: bPdf, format: 'A4' });
  const pdfPages = Number((execFileSync('pdfinfo', [bPdf], { encoding: 'utf8' }).match(/Pages:\s+(\d+)/) || [])[1]);
  const perPage = execFileSync('pdftotext', [bPdf, '-'], { encoding: 'utf8' }).split('\f');
  const starts = perPage.filter((t) => /Ward \d+ \(borough [IVX]+\): monthly report/.test(t)).length;
  check(`…printed, every ward starts a sheet of its own (${pdfPages} sheets)`, starts === wardsOf && pdfPages >= wardsOf, `${starts} sheets start a ward`);
  await c2.close();
});

// ---- Bengali -------------------------------------------------------------------------------------

await run('Bengali', async () => {
  const { context, page: p } = await newPage({ width: 1280, height: 800 }, { lang: 'bn' });
  await p.goto(`${base}/#dashboard`);
  await figuresReady(p);
  const title = await p.textContent('#dashboard-title');
  const filed = await p.textContent('#dash-figures [data-figure="filed"] dd');
  const want = new Intl.NumberFormat('bn-IN').format(stats.total.filed);
  check('in Bengali: the heading and the figures in Bengali digits', title === 'ড্যাশবোর্ড' && filed === want, `${title} ${filed} (want ${want})`);
  const legend = await p.textContent('#dash-legend');
  check('in Bengali: the key in Bengali', /ওয়ার্ড/.test(legend), legend.slice(0, 80));
  await context.close();
});

// ---- accessibility, at 360 and 1280 px --------------------------------------------------------------

await run('accessibility', async () => {
  const month = lastMonth();
  const ward = [...wardRows].sort((a, b) => b.overdue_complaints - a.overdue_complaints || a.ward - b.ward)[0];
  for (const width of [1280, 360]) {
    for (const lang of ['en', 'bn']) {
      const tag = `${width} px ${lang.toUpperCase()}`;
      const { context, page: p } = await newPage(width < 700 ? { width, height: 740 } : { width, height: 800 }, { lang });
      await p.goto(`${base}/#dashboard?borough=VIII&metric=overdue_complaints`);
      await figuresReady(p);
      await p.waitForSelector('#dash-lines-plot canvas', { timeout: 10000 });
      // With the tables unfolded, so they are checked too.
      await p.evaluate(() => { for (const d of document.querySelectorAll('#view-dashboard details')) d.open = true; });
      await a11y(p, `${tag}: the dashboard`);
      await p.screenshot({ path: path.join(outdir, `${width}-${lang}-dashboard.png`) });
      await p.goto(`${base}/#ward-report?ward=${ward.ward}&month=${month}`);
      await p.waitForSelector('.ward-page', { timeout: 20000 });
      await a11y(p, `${tag}: the ward report`);
      await p.screenshot({ path: path.join(outdir, `${width}-${lang}-ward-report.png`) });
      await context.close();
    }
  }
});

// The strings of these views in both tables, with the same {placeholders}.
await run('string tables', async () => {
  const { context, page: p } = await newPage();
  await p.goto(`${base}/`);
  const tables = await p.evaluate(async () => ({
    en: (await import('/js/strings/en.js')).default,
    bn: (await import('/js/strings/bn.js')).default,
  }));
  const keys = Object.keys(tables.en).filter((k) => /^(dash|wr|chart)\./.test(k));
  const ph = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join(',');
  const bad = keys.filter((k) => !tables.bn[k] || !String(tables.bn[k]).trim() || ph(tables.bn[k]) !== ph(tables.en[k]));
  check(`the ${keys.length} strings of the dashboard and the report have Bengali with the same placeholders`, keys.length > 100 && bad.length === 0, bad.slice(0, 5).join(', '));
  await context.close();
});

check('no console errors', errors.length === 0, JSON.stringify(errors.slice(0, 5)));
check('no request leaves this server', offsite.length === 0, JSON.stringify(offsite.slice(0, 5)));
await browser.close();
if (failed) info(`${failed} failed`);
console.log(failed ? `${passed} checks passed, ${failed} failed` : `${passed} checks passed`);
process.exit(failed ? 1 : 0);
