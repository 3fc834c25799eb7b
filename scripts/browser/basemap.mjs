// The street basemap and tile archives in Debian's Chromium (playwright-core), against a
// server started with `--basemap STREETS.pmtiles` and serving a built archive of our layers
// at /archives/city.pmtiles:
//
//   D=$(mktemp -d); BIN=../../target/release/heritage-atlas
//   $BIN generate-basemap -o $D/streets.pmtiles
//   $BIN --db $D/a.db serve --bind 127.0.0.1:18192 & sleep 3; kill $!   # loads the bundled data
//   $BIN --db $D/a.db tiles build -o $D/city.pmtiles
//   $BIN --db $D/a.db serve --bind 127.0.0.1:18192 --basemap $D/streets.pmtiles --archive city=$D/city.pmtiles &
//   node basemap.mjs http://127.0.0.1:18192 /tmp/basemap-out
//
// Part 1, the basemap: at z15 over Victoria Memorial its roads and their labels are drawn,
// all of its layers lie between our background and our first data layer, the credit line
// names OpenStreetMap (linked to its copyright page), and after a switch to Bengali a road
// label is the road's `name:bn`. Screenshots basemap-z15.png and basemap-z15-bn.png.
// Part 2, archives: the pmtiles module is not fetched until a source names an archive;
// then a `pmtiles:///archives/city.pmtiles` source (and the same archive by absolute URL)
// gives features of our layers, read with range requests. ARCHIVE=/archives/other.pmtiles
// names another archive. Exits non-zero if any check fails.
import { mkdirSync } from 'node:fs';
import { chromium } from 'playwright-core';

const [base, outDir] = process.argv.slice(2);
if (!base || !outDir) {
  console.error('usage: node basemap.mjs http://127.0.0.1:PORT OUTDIR');
  process.exit(2);
}
mkdirSync(outDir, { recursive: true });
const ARCHIVE = process.env.ARCHIVE || '/archives/city.pmtiles';
const VICTORIA = { center: [88.3426, 22.5448], zoom: 15 };
const OSM_COPYRIGHT = 'https://www.openstreetmap.org/copyright';

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
const requests = [];
page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
page.on('pageerror', (e) => errors.push(e.message));
page.on('request', (r) => {
  requests.push(r);
  if (!r.url().startsWith(base) && !r.url().startsWith('data:') && !r.url().startsWith('blob:')) offsite.push(r.url());
});

/** Waits until the map has drawn everything it asked for. */
const idle = () => page.waitForFunction(() => window.map && window.map.loaded() && window.map.areTilesLoaded()
  && !window.map.isMoving(), null, { timeout: 15000 }).then(() => page.waitForTimeout(300), () => {});

/** Road labels MapLibre placed: the text as laid out and the feature's names. */
const roadLabels = () => page.evaluate(() => {
  const ids = window.map.getStyle().layers
    .filter((l) => l.source === 'basemap' && l['source-layer'] === 'roads' && l.layout && l.layout['text-field'])
    .map((l) => l.id);
  return window.map.queryRenderedFeatures({ layers: ids }).map((f) => {
    const tf = f.layer.layout['text-field'];
    const text = typeof tf === 'string' ? tf : (tf && tf.sections ? tf.sections.map((s) => s.text).join('') : String(tf));
    return { layer: f.layer.id, text, name: f.properties.name, name_bn: f.properties['name:bn'], script: f.properties.script };
  });
});

try {
  // ---- part 1: the basemap -------------------------------------------------------------------
  await page.goto(`${base}/#${VICTORIA.zoom}/${VICTORIA.center[1]}/${VICTORIA.center[0]}`);
  const loaded = await page.waitForFunction(() => window.map && window.map.loaded() && window.map.areTilesLoaded(), null, { timeout: 20000 })
    .then(() => true, () => false);
  check('map loads', loaded);
  await idle();

  const style = await page.evaluate(() => {
    const s = window.map.getStyle();
    return {
      flag: s.metadata && s.metadata['heritage-atlas:basemap'],
      source: s.sources.basemap || null,
      layers: s.layers.map((l) => ({ id: l.id, type: l.type, source: l.source || null })),
    };
  });
  check('the style says it has the basemap (metadata heritage-atlas:basemap)', style.flag === true, JSON.stringify(style.flag));
  check('the style has a vector source "basemap"', style.source && style.source.type === 'vector', JSON.stringify(style.source));
  const ids = style.layers.map((l) => l.id);
  const basemapAt = style.layers.map((l, i) => (l.source === 'basemap' ? i : -1)).filter((i) => i >= 0);
  const backgroundAt = style.layers.findIndex((l) => l.type === 'background');
  const ourFirstAt = style.layers.findIndex((l) => l.source && l.source !== 'basemap');
  check(`basemap layers (${basemapAt.length}) lie between our background and our first data layer (${ids[ourFirstAt]})`,
    basemapAt.length > 10 && backgroundAt === 0 && basemapAt[0] === backgroundAt + 1
      && basemapAt[basemapAt.length - 1] === ourFirstAt - 1 && basemapAt.length === ourFirstAt - 1,
    JSON.stringify({ backgroundAt, first: basemapAt[0], last: basemapAt[basemapAt.length - 1], ourFirstAt }));

  const drawn = await page.evaluate(() => {
    const by = {};
    const ids = window.map.getStyle().layers.filter((l) => l.source === 'basemap').map((l) => l.id);
    for (const f of window.map.queryRenderedFeatures({ layers: ids })) {
      const key = `${f.sourceLayer}:${f.properties.kind}`;
      by[key] = (by[key] || 0) + 1;
    }
    const ours = window.map.queryRenderedFeatures({ layers: ['heritage-fill', 'heritage-point'].filter((id) => window.map.getLayer(id)) }).length;
    return { by, ours };
  });
  const roads = Object.entries(drawn.by).filter(([k]) => k.startsWith('roads:') && !k.endsWith(':rail')).reduce((n, [, v]) => n + v, 0);
  check(`basemap roads drawn at z15 ${JSON.stringify(drawn.by)}`, roads > 0);
  check(`our heritage layer drawn over it (${drawn.ours} features)`, drawn.ours > 0);

  const en = await roadLabels();
  const enWrong = en.filter((l) => !l.script && l.name && l.text !== l.name);
  check(`road labels placed in English (${en.length}: ${[...new Set(en.map((l) => l.text))].slice(0, 4).join(', ')})`,
    en.length > 0 && enWrong.length === 0, JSON.stringify(enWrong.slice(0, 3)));

  const credit = await page.evaluate((href) => {
    const a = document.querySelector(`.maplibregl-ctrl-attrib a[href="${href}"]`);
    const box = a && a.getBoundingClientRect();
    return a && { text: a.textContent, visible: box.width > 0 && box.height > 0 && getComputedStyle(a).visibility !== 'hidden',
      line: document.querySelector('.maplibregl-ctrl-attrib-inner').textContent };
  }, OSM_COPYRIGHT);
  check(`the credit line names OpenStreetMap, linked to its copyright page: ${credit && JSON.stringify(credit.line)}`,
    credit && credit.text === '© OpenStreetMap contributors' && credit.visible, JSON.stringify(credit));
  await page.screenshot({ path: `${outDir}/basemap-z15.png` });

  await page.click('#lang-switch');
  await page.waitForFunction(() => document.documentElement.lang === 'bn', null, { timeout: 10000 }).catch(() => {});
  // Labels are laid out again for the new global state; wait until a named road says Bengali.
  await page.waitForFunction(() => {
    const ids = window.map.getStyle().layers.filter((l) => l.source === 'basemap' && l['source-layer'] === 'roads' && l.layout && l.layout['text-field']).map((l) => l.id);
    return window.map.queryRenderedFeatures({ layers: ids }).some((f) => {
      const tf = f.layer.layout['text-field'];
      return tf && tf.sections && /[\u0980-\u09FF]/.test(tf.sections.map((s) => s.text).join(''));
    });
  }, null, { timeout: 10000 }).catch(() => {});
  await idle();
  const bn = await roadLabels();
  const withBn = bn.filter((l) => l.name_bn);
  const bnWrong = withBn.filter((l) => l.text !== l.name_bn);
  check(`after the switch to Bengali, road labels are name:bn (${withBn.length}: ${[...new Set(withBn.map((l) => l.text))].slice(0, 3).join(', ')})`,
    withBn.length > 0 && bnWrong.length === 0, JSON.stringify(bnWrong.slice(0, 3)));
  const creditBn = await page.evaluate((href) => Boolean(document.querySelector(`.maplibregl-ctrl-attrib a[href="${href}"]`)), OSM_COPYRIGHT);
  check('the OpenStreetMap credit stays after the switch', creditBn);
  await page.screenshot({ path: `${outDir}/basemap-z15-bn.png` });

  // ---- part 2: a tile archive through the pmtiles protocol --------------------------------------
  const moduleBefore = requests.some((r) => r.url().includes('/vendor/pmtiles/'));
  check('the pmtiles module is not fetched while no source names an archive', !moduleBefore);
  const archiveLayers = ['heritage', 'water_bodies', 'parks', 'wards', 'labels'];
  await page.evaluate(({ archive, base: origin, layers }) => {
    const m = window.map;
    m.addSource('archive-rel', { type: 'vector', url: `pmtiles://${archive}` });
    m.addSource('archive-abs', { type: 'vector', url: `pmtiles://${origin}${archive}` });
    for (const [src, colour] of [['archive-rel', '#00897b'], ['archive-abs', '#5e35b1']]) {
      for (const layer of layers) {
        m.addLayer({ id: `${src}-${layer}`, type: 'circle', source: src, 'source-layer': layer, paint: { 'circle-radius': 2, 'circle-color': colour } });
        m.addLayer({ id: `${src}-${layer}-line`, type: 'line', source: src, 'source-layer': layer, paint: { 'line-color': colour } });
      }
    }
  }, { archive: ARCHIVE, base, layers: archiveLayers });
  await page.waitForFunction(() => ['archive-rel', 'archive-abs'].every((id) => window.map.isSourceLoaded(id)), null, { timeout: 15000 }).catch(() => {});
  await idle();
  const got = await page.evaluate((layers) => {
    const out = {};
    for (const src of ['archive-rel', 'archive-abs']) {
      out[src] = {};
      for (const layer of layers) {
        const fs = window.map.querySourceFeatures(src, { sourceLayer: layer });
        out[src][layer] = { n: fs.length, names: [...new Set(fs.map((f) => f.properties.name).filter(Boolean))].slice(0, 200) };
      }
    }
    const drawn = window.map.queryRenderedFeatures({ layers: layers.flatMap((l) => [`archive-rel-${l}`, `archive-rel-${l}-line`]) }).length;
    return { out, drawn };
  }, archiveLayers);
  const count = (src) => Object.fromEntries(archiveLayers.map((l) => [l, got.out[src][l].n]));
  check(`features of our layers from pmtiles://${ARCHIVE} ${JSON.stringify(count('archive-rel'))}`,
    got.out['archive-rel'].heritage.n > 0 && got.out['archive-rel'].heritage.names.includes('Victoria Memorial'));
  check(`the same archive by absolute URL pmtiles://${base}${ARCHIVE} ${JSON.stringify(count('archive-abs'))}`,
    got.out['archive-abs'].heritage.n > 0 && got.out['archive-abs'].heritage.n === got.out['archive-rel'].heritage.n);
  check(`features from the archive drawn on the map (${got.drawn})`, got.drawn > 0);
  const ranged = [];
  for (const r of requests.filter((q) => q.url().startsWith(`${base}${ARCHIVE}`))) {
    const res = await r.response();
    ranged.push({ range: r.headers().range, status: res && res.status() });
  }
  check(`the archive is read with range requests answered 206 (${ranged.length})`,
    ranged.length > 0 && ranged.every((x) => x.range && x.status === 206), JSON.stringify(ranged.slice(0, 4)));
  check('the pmtiles module was fetched from this server', requests.some((r) => r.url() === `${base}/vendor/pmtiles/pmtiles.mjs`));

  check('no console errors', errors.length === 0, JSON.stringify(errors.slice(0, 5)));
  check('no request leaves this server', offsite.length === 0, JSON.stringify(offsite.slice(0, 5)));
} catch (e) {
  check('ran to the end', false, e && e.stack);
}
await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
