// End-to-end checks of heritage-impact screening (#screening, web/js/screening.js) in
// Debian's Chromium (playwright-core) against a running server with the bundled Kolkata
// data: from the Export view a planner draws a line past Victoria Memorial with mouse
// clicks on the map (and one corner by corner with the keyboard), screens it at 300 m and
// gets the list `POST /screening` gives for the same geometry (same codes, order and
// distances); uploads a GeoJSON file and a CSV file (written here) and gets the same as
// for their geometries; downloads the answer as CSV and GeoJSON (ogrinfo counts the
// GeoJSON's features); prints the report (`page.pdf()`, read with pdftotext and
// pdfimages): the nearest place's name and distance, the work's description, a picture of
// the map. Refusals: a distance over 5 km marked with nothing sent, a broken file refused
// by the server and said at the file field. The list in Bengali after a switch. axe-core
// (WCAG 2.1 A/AA), no sideways scrolling and nothing under the ← ↕ ✕ buttons at 360 and
// 1280 px; no console errors (the 400 provoked on purpose aside); no request off the server.
//
// Usage: node screening.mjs http://127.0.0.1:PORT OUTDIR
// Needs gdal-bin (ogrinfo) and poppler-utils (pdftotext, pdfimages).
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { toolOverlaps } from './layout.mjs';

const AXE_SOURCE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

const [base, outdir] = process.argv.slice(2);
if (!base || !outdir) {
  console.error('usage: node screening.mjs URL OUTDIR');
  process.exit(2);
}
mkdirSync(outdir, { recursive: true });

let passed = 0;
let failed = 0;
const check = (name, ok, detail = '') => {
  if (ok) { passed++; console.log(`ok   ${name}`); } else { failed++; console.log(`FAIL ${name} ${detail}`); }
};

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
async function newPage(viewport = { width: 1280, height: 800 }, { lang = null } = {}) {
  const context = await browser.newContext({ viewport, acceptDownloads: true, ...(viewport.width < 700 ? { hasTouch: true, isMobile: true } : {}) });
  if (lang) await context.addInitScript((l) => window.localStorage.setItem('atlas.lang', JSON.stringify(l)), lang);
  // The print button calls window.print(), which a headless browser cannot show: count the calls.
  await context.addInitScript(() => { window.print = () => { window.printed = (window.printed || 0) + 1; }; });
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

/** `POST /screening` as a client of the API would call it: the JSON answer's items. */
async function screenDirect(geometry, distance_m, layers) {
  const res = await fetch(`${base}/screening`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
    body: JSON.stringify(layers ? { geometry, distance_m, layers } : { geometry, distance_m }),
  });
  const body = await res.json();
  if (res.status !== 200) throw new Error(`POST /screening: ${res.status} ${JSON.stringify(body)}`);
  return body.items;
}

/** The list the view shows: [{code, distance}] in its order. */
const listed = (p) => p.$$eval('#screen-list > li', (lis) => lis.map((li) => ({ code: li.dataset.code, distance: Number(li.dataset.distance) })));
const same = (a, b) => a.length === b.length && a.every((x, i) => x.code === b[i].code && x.distance === b[i].distance_m);
const show = (xs) => xs.map((x) => `${x.code} ${x.distance ?? x.distance_m}`).join(', ');

/**
 * Waits for a screening to finish: Send enabled again and the status line saying how many
 * places, or why not (Send is disabled from the click until the answer).
 */
async function screened(p) {
  await p.waitForFunction(() => {
    const s = document.querySelector('#screen-status');
    const send = document.querySelector('#screen-send');
    return s && s.textContent.trim() && send && !send.disabled;
  }, null, { timeout: 20000 });
}

/** The page-space point of [lon, lat] on the map. */
const screenOf = (p, c) => p.evaluate((ll) => {
  const q = window.map.project(ll);
  const r = window.map.getCanvas().getBoundingClientRect();
  return { x: r.left + q.x, y: r.top + q.y };
}, c);

// ---- accessibility (as app.mjs section 11 and apply.mjs) -------------------------------------------

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

// ---- the works screened --------------------------------------------------------------------------

const stamp = Date.now();
// A line drawn past Victoria Memorial (HER-0001, about 88.3426, 22.5448), west to east.
const LINE = [[88.3400, 22.5430], [88.3430, 22.5436], [88.3460, 22.5460]];
// The GeoJSON file: an alignment along Chowringhee (a Feature in a FeatureCollection).
const FILE_LINE = { type: 'LineString', coordinates: [[88.3512, 22.5560], [88.3520, 22.5500], [88.3530, 22.5440]] };
// The CSV file: a building plot north of Dalhousie Square, as WKT.
const PLOT = { type: 'Polygon', coordinates: [[[88.3480, 22.5720], [88.3500, 22.5720], [88.3500, 22.5735], [88.3480, 22.5735], [88.3480, 22.5720]]] };
const wkt = (g) => `POLYGON((${g.coordinates[0].map((c) => `${c[0]} ${c[1]}`).join(', ')}))`;

let drawnItems = null;

// ---- 1280 px: draw, screen, compare, map, downloads, report ------------------------------------------

await run('1280 px: a drawn line', async () => {
  const { context, page: p } = await newPage();
  const posts = [];
  p.on('request', (r) => { if (r.method() === 'POST' && new URL(r.url()).pathname === '/screening') posts.push({ url: r.url(), type: r.headers()['content-type'], body: r.postData() }); });
  await p.goto(`${base}/#export`);
  await p.waitForSelector('#export-screening', { state: 'visible', timeout: 20000 });
  await p.click('#export-screening');
  await p.waitForSelector('#screening-title', { timeout: 10000 });
  check('Export leads to the screening view (#screening), its heading focused, under the Export tab',
    new URL(p.url()).hash === '#screening' && await p.evaluate(() => document.activeElement?.id === 'screening-title'
      && document.querySelector('#tabs .tab[data-view="export"]').getAttribute('aria-pressed') === 'true'));

  // Nothing to screen yet: said at the work, nothing sent.
  await p.click('#screen-send');
  check('screening with no work asks for one, at the work line, and sends nothing',
    posts.length === 0 && await p.getAttribute('#screen-work-status', 'aria-invalid') === 'true'
      && /Draw the work/.test(await p.textContent('#screen-work-status-error')));

  await mapIdle(p);
  await a11y(p, '1280 px EN: the form');
  await p.evaluate(() => window.map.jumpTo({ center: [88.3430, 22.5445], zoom: 15.5 }));
  await mapIdle(p);
  await p.click('#screen-draw-linestring');
  check('"Draw a line" is pressed', await p.waitForFunction(() => document.querySelector('#screen-draw-linestring')?.getAttribute('aria-pressed') === 'true'
    && document.querySelector('#screen-corner'), null, { timeout: 10000 }).then(() => true, () => false));
  await p.waitForTimeout(300);
  let last = null;
  for (const c of LINE) {
    last = await screenOf(p, c);
    await p.mouse.click(last.x, last.y);
    await p.waitForTimeout(200);
  }
  await p.mouse.click(last.x, last.y); // the last point again finishes the line
  const drawn = await p.waitForFunction(() => /Drawn: a line of 3 points/.test(document.querySelector('#screen-work-status')?.textContent || ''), null, { timeout: 5000 })
    .then(() => true, () => false);
  check('a line drawn click by click on the map (terra-draw) is the work', drawn, await p.textContent('#screen-work-status'));

  await p.fill('#screen-description', `Widening of the test road ${stamp}`);
  await p.fill('#screen-distance', '6000');
  await p.click('#screen-send');
  check('a distance over 5,000 m is marked at its field, focused, with nothing sent',
    posts.length === 0 && await p.getAttribute('#screen-distance', 'aria-invalid') === 'true'
      && await p.evaluate(() => document.activeElement?.id === 'screen-distance'));
  await p.fill('#screen-distance', '300');
  await p.click('#screen-send');
  await screened(p);
  const post = posts[0];
  const sentBody = post ? JSON.parse(post.body) : null;
  check('the view sends POST /screening with the drawn line as JSON, 300 m and the three layers',
    !!sentBody && post.type === 'application/json' && sentBody.geometry.type === 'LineString' && sentBody.geometry.coordinates.length === 3
      && sentBody.distance_m === 300 && sentBody.layers === 'heritage,water_bodies,parks', post ? post.body.slice(0, 200) : 'no request');
  check('the drawn line is where it was clicked (within 2 m a corner)', !!sentBody && sentBody.geometry.coordinates.every((c, i) => Math.hypot((c[0] - LINE[i][0]) * 102500, (c[1] - LINE[i][1]) * 111000) < 2),
    sentBody ? JSON.stringify(sentBody.geometry.coordinates) : '');
  const direct = sentBody ? await screenDirect(sentBody.geometry, 300) : [];
  drawnItems = direct;
  const shown = await listed(p);
  check(`the list is POST /screening's for the same line: ${direct.length} places, same codes, order and distances`,
    direct.length >= 3 && same(shown, direct), `view [${show(shown)}] api [${show(direct)}]`);
  check('Victoria Memorial (HER-0001, Grade I) comes first', shown.length > 0 && shown[0].code === 'HER-0001');
  check('the URL keeps the distance and layers', new URL(p.url()).hash === '#screening?d=300&layers=heritage,water_bodies,parks', new URL(p.url()).hash);
  const card = await p.textContent('#screen-list > li:first-child');
  const nearest = [...direct].sort((a, b) => a.distance_m - b.distance_m)[0];
  // As the register stands now (the suites before this one record HER-0001 as poor and clear its lock).
  const CONDITION = { good: 'Good', fair: 'Fair', poor: 'Poor', critical: 'Critical', unknown: 'Unknown' };
  const LOCK = { locked: 'Locked', cleared: 'Cleared for an application', released: 'Released' };
  const top = direct[0] || {};
  check('a card shows grade, name, kind, ward, distance, condition and the heritage lock',
    /Grade I/.test(card) && card.includes('Victoria Memorial') && /Heritage: Building/.test(card) && new RegExp(`Ward\\s*${top.ward}`).test(card)
      && card.includes(`${top.distance_m.toLocaleString('en-IN')} m`) && new RegExp(`Condition\\s*${CONDITION[top.condition]}`).test(card)
      && new RegExp(`Heritage lock\\s*${LOCK[top.heritage_lock]}`).test(card), `${card} | ${JSON.stringify(top)}`);
  check('the count says how many places within 300 m', (await p.textContent('#screen-status')).includes(`${direct.length} places within 300 m`));

  // The map: the work and what was found, fitted.
  await p.waitForSelector('#screening-report-map', { state: 'attached', timeout: 30000 });
  const onMap = await p.evaluate(([line]) => {
    const m = window.map;
    const found = m.querySourceFeatures('screening').filter((f) => f.properties.role === 'found').map((f) => f.properties.code);
    const work = m.queryRenderedFeatures({ layers: ['screening-work-line'] }).length;
    const b = m.getBounds();
    const inside = line.every(([x, y]) => x > b.getWest() && x < b.getEast() && y > b.getSouth() && y < b.getNorth());
    return { found: [...new Set(found)], work, inside };
  }, [LINE]);
  check('the work is drawn on the map and the map fits it', onMap.work > 0 && onMap.inside, JSON.stringify(onMap));
  check('every place found is highlighted on the map', direct.every((d) => onMap.found.includes(d.code)), `${onMap.found} vs ${direct.map((d) => d.code)}`);
  await a11y(p, '1280 px EN: a drawn line screened');
  await p.screenshot({ path: path.join(outdir, 'screening-1280.png') });

  // Downloads: the same answer as CSV and GeoJSON.
  const [csvDl] = await Promise.all([p.waitForEvent('download', { timeout: 15000 }), p.click('#screen-csv')]);
  const csvPath = path.join(outdir, 'screening.csv');
  await csvDl.saveAs(csvPath);
  const csv = readFileSync(csvPath, 'utf8').trim().split(/\r?\n/);
  const csvCodes = csv.slice(1).map((l) => l.split(',')[0]);
  check('the CSV download is the answer: a header and one row per place, in order',
    /^code,layer,kind,name/.test(csv[0]) && csvCodes.join() === direct.map((d) => d.code).join() && /\.csv$/.test(csvDl.suggestedFilename()),
    `${csv[0]} | ${csvCodes}`);
  const csvPost = posts[posts.length - 1];
  check('…asked for with POST /screening?f=csv and the same work', !!csvPost && /[?&]f=csv/.test(csvPost.url) && JSON.parse(csvPost.body).geometry.coordinates.length === 3);
  const [gjDl] = await Promise.all([p.waitForEvent('download', { timeout: 15000 }), p.click('#screen-geojson')]);
  const gjPath = path.join(outdir, 'screening.geojson');
  await gjDl.saveAs(gjPath);
  const ogr = execFileSync('ogrinfo', ['-ro', '-al', '-so', gjPath], { encoding: 'utf8' });
  const count = Number((/Feature Count: (\d+)/.exec(ogr) || [])[1]);
  check(`ogrinfo reads the GeoJSON download: ${count} features, as many as listed`, count === direct.length, ogr.slice(0, 300));
  check('the downloads are said on a status line', /Downloaded screening-.*\.geojson/.test(await p.textContent('#screen-message')));

  // The report: a picture of the map, printed with the table.
  const img = await p.evaluate(() => {
    const i = document.querySelector('#screening-report-map');
    if (!i || !i.complete) return null;
    const c = document.createElement('canvas');
    c.width = i.naturalWidth;
    c.height = i.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(i, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    const colours = new Set();
    for (let k = 0; k < d.length; k += 4 * 97) colours.add((d[k] << 16) | (d[k + 1] << 8) | d[k + 2]);
    return { w: i.naturalWidth, h: i.naturalHeight, src: i.src.slice(0, 22), alt: i.alt, colours: colours.size };
  });
  check('the report holds the map as an <img> (a PNG of at least 400×300 px, not blank, with alt text)',
    !!img && img.src === 'data:image/png;base64,' && img.w >= 400 && img.h >= 300 && img.colours > 20 && /Map of the proposed work/.test(img.alt), JSON.stringify(img));
  await p.click('#screen-print');
  check('"Print the screening report" opens the browser\'s printing', await p.evaluate(() => window.printed === 1));
  const pdfPath = path.join(outdir, 'screening-report.pdf');
  await p.pdf({ path: pdfPath, printBackground: true, preferCSSPageSize: true }); // A4, as app.css's @page asks
  const text = execFileSync('pdftotext', ['-layout', pdfPath, '-'], { encoding: 'utf8' });
  const nearestText = `${nearest.distance_m.toLocaleString('en-IN')} m`;
  check('the printed report is titled and describes the work, the distance and the date',
    /Heritage-impact screening report/.test(text) && text.includes(`Widening of the test road ${stamp}`) && /Distance screened\s+300 m/.test(text)
      && /Screened on\s+\d{1,2} \w{3} 20\d\d/.test(text), text.slice(0, 400));
  // A long name may wrap in its cell: its first word is on the row's line with the distance.
  const flat = text.replace(/\s+/g, ' ');
  check(`the printed report names the nearest place (${nearest.name}) with its distance (${nearestText})`,
    nearest.name.split(/\s+/).every((w) => flat.includes(w)) && text.split('\n').some((l) => l.includes(nearest.name.split(/\s+/)[0]) && l.includes(nearestText)),
    text.split('\n').filter((l) => l.includes(nearestText)).join(' | '));
  check('the printed report counts by layer and grade', /By layer/.test(text) && /Heritage by grade/.test(text));
  check('the printed report lists every place found', direct.every((d) => text.includes(d.code)));
  check('the printed report leaves out the app (no tabs, no form)', !/Screen the work|Layers and legend|Near me/.test(text));
  const images = execFileSync('pdfimages', ['-list', pdfPath], { encoding: 'utf8' }).trim().split('\n').slice(2)
    .map((l) => l.trim().split(/\s+/)).filter((c) => c[2] === 'image').map((c) => ({ w: Number(c[3]), h: Number(c[4]) }));
  check('the printed report carries the map\'s picture', images.some((i) => i.w >= 400 && i.h >= 300), JSON.stringify(images));

  // A card's name opens the asset; Back returns to the answer as it was.
  await p.click('#screen-list > li:first-child .screen-name button');
  const opened = await p.waitForFunction(() => window.location.hash === '#asset/HER-0001' && !document.querySelector('#view-asset').hidden, null, { timeout: 10000 })
    .then(() => true, () => false);
  await p.goBack();
  const back = await p.waitForFunction((n) => document.querySelectorAll('#screen-list > li').length === n && !document.querySelector('#screen-send').disabled
    && window.map.querySourceFeatures('screening').length > 0, direct.length, { timeout: 10000 }).then(() => true, () => false);
  check('a place\'s name opens its record, and Back returns to the same answer, on the map again', opened && back);

  // Reloading the URL keeps the distance and layers.
  await p.goto(`${base}/#screening?d=500&layers=heritage,parks`);
  await p.reload();
  await p.waitForSelector('#screen-distance', { timeout: 20000 });
  check('#screening?d=500&layers=heritage,parks opens with 500 m, heritage and parks',
    await p.inputValue('#screen-distance') === '500' && await p.isChecked('#screen-layer-heritage') && await p.isChecked('#screen-layer-parks')
      && !(await p.isChecked('#screen-layer-water_bodies')));
  await context.close();
});

// ---- uploads: a GeoJSON file and a CSV file ------------------------------------------------------------

await run('1280 px: files', async () => {
  const { context, page: p } = await newPage();
  const posts = [];
  p.on('request', (r) => { if (r.method() === 'POST' && new URL(r.url()).pathname === '/screening') posts.push({ url: r.url(), type: r.headers()['content-type'] }); });
  await p.goto(`${base}/#screening?d=300`);
  await p.waitForSelector('#screen-file', { timeout: 20000 });
  await mapIdle(p);

  const geojson = JSON.stringify({ type: 'FeatureCollection', features: [{ type: 'Feature', properties: { name: `Chowringhee alignment ${stamp}` }, geometry: FILE_LINE }] });
  writeFileSync(path.join(outdir, 'work.geojson'), geojson);
  await p.setInputFiles('#screen-file', path.join(outdir, 'work.geojson'));
  await p.waitForFunction(() => /From the file work\.geojson/.test(document.querySelector('#screen-work-status')?.textContent || ''), null, { timeout: 5000 });
  await p.click('#screen-send');
  await screened(p);
  const gPost = posts[posts.length - 1];
  check('a GeoJSON file is sent as its bytes, application/geo+json, the distance and layers in the query',
    !!gPost && gPost.type === 'application/geo+json' && /[?&]distance_m=300(&|$)/.test(gPost.url) && /[?&]layers=heritage%2Cwater_bodies%2Cparks/.test(gPost.url),
    gPost ? `${gPost.type} ${gPost.url}` : 'no request');
  const gDirect = await screenDirect(FILE_LINE, 300);
  const gShown = await listed(p);
  check(`the GeoJSON file's list is POST /screening's for its line: ${gDirect.length} places, same codes, order and distances`,
    gDirect.length >= 1 && same(gShown, gDirect), `view [${show(gShown)}] api [${show(gDirect)}] ${await p.textContent('#screen-status')}`);

  // The same line as FlatGeobuf (written by GDAL) and as GeoJSON in UTM zone 45N with a
  // legacy `crs` member: the server reads and reprojects them; the map cannot draw either
  // before the answer, and fits what was found.
  const fgbPath = path.join(outdir, 'work.fgb');
  rmSync(fgbPath, { force: true }); // a FlatGeobuf cannot be overwritten in place by ogr2ogr
  execFileSync('ogr2ogr', ['-f', 'FlatGeobuf', fgbPath, path.join(outdir, 'work.geojson')]);
  await p.setInputFiles('#screen-file', fgbPath);
  await p.waitForFunction(() => /From the file work\.fgb/.test(document.querySelector('#screen-work-status')?.textContent || ''), null, { timeout: 5000 });
  await p.click('#screen-send');
  await screened(p);
  const fPost = posts[posts.length - 1];
  const fShown = await listed(p);
  check('a FlatGeobuf file is sent as its bytes, application/flatgeobuf, and lists what POST /screening gives for its line',
    !!fPost && fPost.type === 'application/flatgeobuf' && same(fShown, gDirect), `${fPost && fPost.type} view [${show(fShown)}] ${await p.textContent('#screen-status')}`);
  const utm = execFileSync('gdaltransform', ['-s_srs', 'OGC:CRS84', '-t_srs', 'EPSG:32645', '-output_xy'], { input: FILE_LINE.coordinates.map((c) => c.join(' ')).join('\n'), encoding: 'utf8' })
    .trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  writeFileSync(path.join(outdir, 'work-utm.geojson'), JSON.stringify({
    type: 'FeatureCollection', crs: { type: 'name', properties: { name: 'urn:ogc:def:crs:EPSG::32645' } },
    features: [{ type: 'Feature', properties: {}, geometry: { type: 'LineString', coordinates: utm } }],
  }));
  await p.setInputFiles('#screen-file', path.join(outdir, 'work-utm.geojson'));
  await p.waitForFunction(() => /From the file work-utm\.geojson/.test(document.querySelector('#screen-work-status')?.textContent || ''), null, { timeout: 5000 });
  await p.click('#screen-send');
  await screened(p);
  const uShown = await listed(p);
  const near = uShown.length === gDirect.length && uShown.every((x, i) => x.code === gDirect[i].code && Math.abs(x.distance - gDirect[i].distance_m) <= 0.2);
  check('a GeoJSON file in UTM 45N with a legacy crs member lists the same places in the same order (distances within 0.2 m)',
    near, `view [${show(uShown)}] api [${show(gDirect)}] ${await p.textContent('#screen-status')}`);

  const csv = `name,wkt\r\n"Plot ${stamp}","${wkt(PLOT)}"\r\n`;
  writeFileSync(path.join(outdir, 'work.csv'), csv);
  await p.setInputFiles('#screen-file', path.join(outdir, 'work.csv'));
  await p.waitForFunction(() => /From the file work\.csv/.test(document.querySelector('#screen-work-status')?.textContent || ''), null, { timeout: 5000 });
  await p.click('#screen-send');
  await screened(p);
  const cPost = posts[posts.length - 1];
  check('a CSV file is sent as its bytes, text/csv', !!cPost && cPost.type === 'text/csv' && /[?&]distance_m=300/.test(cPost.url), cPost ? cPost.type : '');
  const cDirect = await screenDirect(PLOT, 300);
  const cShown = await listed(p);
  check(`the CSV file's list is POST /screening's for its plot: ${cDirect.length} places, same codes, order and distances`,
    cDirect.length >= 1 && same(cShown, cDirect), `view [${show(cShown)}] api [${show(cDirect)}] ${await p.textContent('#screen-status')}`);
  // The plot as a CSV in UTM 45N, which says nothing of its CRS: the planner names it.
  const plotUtm = execFileSync('gdaltransform', ['-s_srs', 'OGC:CRS84', '-t_srs', 'EPSG:32645', '-output_xy'], { input: PLOT.coordinates[0].map((c) => c.join(' ')).join('\n'), encoding: 'utf8' })
    .trim().split('\n').map((l) => l.trim().split(/\s+/).map(Number));
  writeFileSync(path.join(outdir, 'work-utm.csv'), `name,wkt\r\n"Plot ${stamp}","${wkt({ coordinates: [plotUtm] })}"\r\n`);
  await p.setInputFiles('#screen-file', path.join(outdir, 'work-utm.csv'));
  await p.fill('#screen-crs', 'EPSG:32645');
  await p.waitForFunction(() => /From the file work-utm\.csv/.test(document.querySelector('#screen-work-status')?.textContent || ''), null, { timeout: 5000 });
  await p.click('#screen-send');
  await screened(p);
  const uPost = posts[posts.length - 1];
  const ucShown = await listed(p);
  check('a CSV in UTM 45N with the coordinate system typed (crs=EPSG:32645 in the query) lists the plot\'s places (distances within 0.2 m)',
    !!uPost && /[?&]crs=EPSG%3A32645/.test(uPost.url) && ucShown.length === cDirect.length
      && ucShown.every((x, i) => x.code === cDirect[i].code && Math.abs(x.distance - cDirect[i].distance_m) <= 0.2),
    `${uPost && uPost.url} view [${show(ucShown)}] ${await p.textContent('#screen-status')}`);
  await p.fill('#screen-crs', '');

  await p.waitForSelector('#screening-report-map', { state: 'attached', timeout: 30000 });
  await a11y(p, '1280 px EN: a file screened');
  await p.screenshot({ path: path.join(outdir, 'screening-1280-file.png') });

  // A file the server cannot read: its refusal, in words, at the file field.
  const from = errors.length;
  writeFileSync(path.join(outdir, 'broken.geojson'), '{"type": "Feature", "properties": {}}');
  await p.setInputFiles('#screen-file', path.join(outdir, 'broken.geojson'));
  await p.waitForFunction(() => /broken\.geojson/.test(document.querySelector('#screen-work-status')?.textContent || ''), null, { timeout: 5000 });
  await p.click('#screen-send');
  await screened(p);
  const refusal = await p.evaluate(() => ({
    invalid: document.querySelector('#screen-file')?.getAttribute('aria-invalid'),
    text: document.querySelector('#screen-file-error')?.textContent || '',
    status: document.querySelector('#screen-status')?.textContent || '',
    focused: document.activeElement?.id,
  }));
  check('a file the server refuses (400) is marked at the file field with the reason, focused, and no list',
    refusal.invalid === 'true' && refusal.text.length > 5 && /^Not screened/.test(refusal.status) && refusal.focused === 'screen-file'
      && (await p.$$('#screen-list > li')).length === 0, JSON.stringify(refusal));
  forgive(from, [400, 415, 422]);
  await context.close();
});

// ---- the keyboard, Bengali, and phones ---------------------------------------------------------------------

await run('keyboard and Bengali', async () => {
  const { context, page: p } = await newPage();
  await p.goto(`${base}/#screening?d=300`);
  await p.waitForSelector('#screen-draw-linestring', { timeout: 20000 });
  await mapIdle(p);
  await p.evaluate((c) => window.map.jumpTo({ center: c, zoom: 16 }), LINE[0]);
  await p.focus('#screen-draw-linestring');
  await p.keyboard.press('Enter');
  await p.waitForSelector('#screen-corner', { timeout: 5000 });
  await p.focus('#screen-corner');
  await p.keyboard.press('Enter');
  await p.evaluate((c) => window.map.jumpTo({ center: c }), LINE[2]);
  await p.focus('#screen-corner');
  await p.keyboard.press('Enter');
  check('without a pointer: two points at the map\'s centre make the line',
    /Drawn: a line of 2 points/.test(await p.textContent('#screen-work-status')), await p.textContent('#screen-work-status'));
  await p.focus('#screen-send');
  await p.keyboard.press('Enter');
  await screened(p);
  const direct = await screenDirect({ type: 'LineString', coordinates: [LINE[0], LINE[2]] }, 300);
  check('…and screens as POST /screening does', same(await listed(p), direct), `${show(await listed(p))} | ${show(direct)}`);
  await p.click('#lang-switch');
  await p.waitForFunction(() => document.documentElement.lang === 'bn');
  const first = await p.textContent('#screen-list > li:first-child .screen-name button');
  const status = await p.textContent('#screen-status');
  check('after a switch to Bengali the list names places in Bengali (ভিক্টোরিয়া মেমোরিয়াল) with Bengali digits',
    first.includes('ভিক্টোরিয়া') && /[০-৯]/.test(status) && /জায়গা/.test(status), `${first} | ${status}`);
  await a11y(p, '1280 px BN: a line screened');
  await p.screenshot({ path: path.join(outdir, 'screening-1280-bn.png') });
  await context.close();
});

await run('360 px', async () => {
  for (const lang of ['en', 'bn']) {
    const { context, page: p } = await newPage({ width: 360, height: 740 }, { lang });
    await p.goto(`${base}/#screening?d=300`);
    await p.waitForSelector('#screen-file', { timeout: 20000 });
    await mapIdle(p);
    await a11y(p, `360 px ${lang.toUpperCase()}: the form`);
    await p.setInputFiles('#screen-file', path.join(outdir, 'work.geojson'));
    await p.waitForFunction(() => /work\.geojson/.test(document.querySelector('#screen-work-status')?.textContent || ''), null, { timeout: 5000 });
    await p.click('#screen-send');
    await screened(p);
    const n = (await listed(p)).length;
    check(`360 px ${lang.toUpperCase()}: a file screened on a phone lists its places`, n >= 1);
    await p.waitForSelector('#screening-report-map', { state: 'attached', timeout: 30000 });
    await a11y(p, `360 px ${lang.toUpperCase()}: the results`);
    await p.screenshot({ path: path.join(outdir, `screening-360-${lang}.png`) });
    await context.close();
  }
});

// The English and Bengali tables hold the same screening keys (read as the browser gets them).
await run('string tables', async () => {
  const { context, page: p } = await newPage();
  await p.goto(`${base}/`);
  const tables = await p.evaluate(async () => ({
    en: (await import('/js/strings/en.js')).default,
    bn: (await import('/js/strings/bn.js')).default,
  }));
  const keys = Object.keys(tables.en).filter((k) => k.startsWith('screen.'));
  const missing = keys.filter((k) => !tables.bn[k] || !String(tables.bn[k]).trim());
  const vars = (s) => [...String(s).matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort().join();
  const unlike = keys.filter((k) => tables.bn[k] && vars(tables.en[k]) !== vars(tables.bn[k]));
  check(`the ${keys.length} screening strings have Bengali, with the same {placeholders}`, keys.length > 80 && !missing.length && !unlike.length,
    [...missing, ...unlike].slice(0, 5).join(', '));
  await context.close();
});

check('no console errors', errors.length === 0, JSON.stringify(errors.slice(0, 5)));
check('no request leaves this server', offsite.length === 0, JSON.stringify(offsite.slice(0, 5)));
await browser.close();
console.log(failed ? `${passed} checks passed, ${failed} failed` : `${passed} checks passed`);
process.exit(failed ? 1 : 0);
