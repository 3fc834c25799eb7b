// Offline field mode (issue 20): the app as an installable PWA whose service worker
// (/sw.js) opens it with no network, and "Keep ward N offline" for signed-in staff, in
// the Staff view. Saving a ward stores, for use with no signal:
//
// * the tiles of every vector source of the style (our layers, complaints and the
//   basemap when the server has one), z12–z17 over the ward's bounding box, each source
//   only up to its own TileJSON maxzoom (MapLibre overzooms past it): Cache Storage
//   `atlas-ward-N`, keyed by the tile's URL without its query, which the service worker
//   answers with when the network fails;
// * the record of every heritage building, water body and park in that box (what the
//   asset panel asks for: /assets/CODE and its audit trail), also in `atlas-ward-N`;
// * the places themselves (names in English and Bengali, outline, point) in IndexedDB
//   (idb.js), the index that search and Near me use offline (offlinedata.js).
//
// The size is shown before (tiles and places counted; bytes estimated from the wards
// saved before) and after (the bytes stored, counted as they are written). Writes made
// offline go to the outbox (outbox.js). With no network the map stops at z17, the
// deepest saved tiles.
import { h, replace, $ } from './dom.js';
import { t, tn, fmtNumber, fmtDate, digits, onLangChange } from './i18n.js';
import { api, staffSession, errorText } from './api.js';
import * as idb from './idb.js';
import * as saved from './offlinedata.js';
import { geometryBbox } from './mapctl.js';
import * as outbox from './outbox.js';

const MIN_Z = 12;
const MAX_Z = 17;
const STYLE_URL = '/styles/heritage.json';
const LAYERS = ['heritage', 'water_bodies', 'parks'];
const PARALLEL = 6;
const GLYPH_RANGES = ['0-255', '256-511', '8192-8447'];
const BYTES_KEY = 'atlas.offline.bytesPerTile'; // {source: average bytes of a tile}, from the last save
// Until a ward has been saved here, per source: our layers and complaints as measured over
// the bundled Kolkata data (320–640 B a tile, z12–z17; docs/frontend.md), and for any
// other source (a basemap: streets and buildings) a dense city tile's size.
const DEFAULT_BYTES_PER_TILE = { atlas: 700, complaints: 300 };
const OTHER_BYTES_PER_TILE = 60000;
const BYTES_PER_PLACE = 2000; // its record and audit trail (about 1 KB) and its index entry
// What every ward keeps besides: the Bengali strings and web fonts, six glyph ranges, the
// style, TileJSON and complaint categories (measured: 0.76 MB).
const DEFAULT_EXTRA_BYTES = 780000;
const GOAL_BYTES = 20 * 1024 * 1024;

let ctx;
let plan = null; // the ward being considered: {ward, outline, bbox, sources, tiles, places}
let busy = null; // {ward, done, total} while saving
let status = null; // {key, vars, error?}: the last thing done, put in words at each render
let list = [];

const origin = () => window.location.origin;
const cacheName = (ward) => `atlas-ward-${ward}`;
const abs = (u) => new URL(u, origin()).href;
const bare = (u) => {
  const x = new URL(u, origin());
  return x.origin + x.pathname;
};

export function fmtBytes(n) {
  if (n === null || n === undefined) return '';
  if (n < 1024 * 1024) return t('offline.kb', { n: fmtNumber(Math.max(1, Math.round(n / 1024))) });
  return t('offline.mb', { n: fmtNumber(n / 1024 / 1024, { maximumFractionDigits: 1 }) });
}

// ---- the service worker ---------------------------------------------------------------------

function register() {
  if (!('serviceWorker' in navigator)) return;
  const go = () => navigator.serviceWorker.register('/sw.js', { scope: '/' })
    .catch((e) => console.warn('the service worker could not be registered; the app works online only:', e));
  if (document.readyState === 'complete') go();
  else window.addEventListener('load', go, { once: true });
}

/** With no network the map stops where the saved tiles stop. */
function clampZoom() {
  const map = ctx && ctx.map;
  if (!map) return;
  const off = navigator.onLine === false;
  map.setMaxZoom(off ? MAX_Z + 0.99 : 22);
}

// ---- planning and saving a ward -------------------------------------------------------------

async function getJson(url) {
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin', headers: { Accept: 'application/json' } });
  } catch {
    throw new Error(t('err.network'));
  }
  if (!res.ok) throw new Error(t('err.generic', { status: res.status }));
  return res.json();
}

function lon2x(lon, z) { return Math.floor(((lon + 180) / 360) * 2 ** z); }
function lat2y(lat, z) {
  const r = (lat * Math.PI) / 180;
  return Math.floor(((1 - Math.log(Math.tan(r) + 1 / Math.cos(r)) / Math.PI) / 2) * 2 ** z);
}

/** Tile URLs of `template` covering `bbox` from z `from` to `to`. */
export function tileUrls(template, bbox, from, to) {
  const out = [];
  for (let z = from; z <= to; z++) {
    const n = 2 ** z;
    const [x0, x1] = [lon2x(bbox[0], z), lon2x(bbox[2], z)].map((v) => Math.max(0, Math.min(n - 1, v)));
    const [y0, y1] = [lat2y(bbox[3], z), lat2y(bbox[1], z)].map((v) => Math.max(0, Math.min(n - 1, v)));
    for (let x = x0; x <= x1; x++) {
      for (let y = y0; y <= y1; y++) out.push(template.replace('{z}', z).replace('{x}', x).replace('{y}', y));
    }
  }
  return out;
}

/** What saving `ward` takes: its outline, the style's tile sources and tiles, its places. */
async function makePlan(ward) {
  const wf = await api.items('wards', { ward, limit: 1 });
  const outline = wf && wf.features && wf.features[0];
  if (!outline) return null;
  const bbox = geometryBbox(outline.geometry);
  const style = await getJson(STYLE_URL);
  const sources = [];
  const extra = [abs(STYLE_URL)];
  for (const [name, src] of Object.entries(style.sources || {})) {
    if (!src.url || (src.type !== 'vector' && src.type !== 'raster')) continue;
    let tj;
    try { tj = await getJson(src.url); } catch { continue; } // a source the server lacks today
    const template = tj.tiles && tj.tiles[0];
    if (!template || new URL(template, origin()).origin !== origin()) continue;
    extra.push(abs(src.url));
    const from = Math.max(MIN_Z, tj.minzoom || 0);
    const to = Math.min(MAX_Z, tj.maxzoom ?? 22);
    if (from > to) continue;
    sources.push({ name, from, to, tiles: tileUrls(template, bbox, from, to) });
  }
  // Both languages with no network: the Bengali strings, the Bengali web fonts (the
  // style's font-faces) and the Latin glyph ranges labels use (Basic Latin and Latin-1,
  // Latin Extended-A, punctuation such as ’ and –). The service worker answers from here
  // when its own cache lacks them.
  extra.push(abs('/js/strings/bn.js'));
  for (const faces of Object.values(style['font-faces'] || {})) for (const f of [].concat(faces)) if (f && f.url) extra.push(abs(f.url));
  const stacks = (style.metadata && style.metadata['heritage-atlas:fontstacks']) || [];
  if (style.glyphs) {
    for (const st of stacks) {
      for (const r of GLYPH_RANGES) extra.push(abs(style.glyphs.replace('{fontstack}', encodeURIComponent(st)).replace('{range}', r)));
    }
  }
  // The complaint form's categories and their questions, so a complaint can be made offline.
  try {
    const services = await getJson('/open311/v2/services.json');
    extra.push(abs('/open311/v2/services.json'));
    for (const sv of Array.isArray(services) ? services : []) {
      if (sv && sv.service_code) extra.push(abs(`/open311/v2/services/${encodeURIComponent(sv.service_code)}.json`));
    }
  } catch { /* the form then says it cannot load its categories */ }
  const places = [];
  for (const layer of LAYERS) {
    const fc = await api.items(layer, { bbox: bbox.map((v) => v.toFixed(6)).join(','), limit: 1000 });
    for (const f of fc.features || []) {
      const p = f.properties || {};
      if (!p.code) continue;
      const b = geometryBbox(f.geometry);
      places.push({
        id: p.id, code: p.code, geometry: f.geometry, bbox: b, point: [(b[0] + b[2]) / 2, (b[1] + b[3]) / 2],
        properties: {
          id: p.id, code: p.code, layer: p.layer || layer, kind: p.kind, name: p.name, name_bn: p.name_bn, ward: p.ward,
          grade: p.grade, condition: p.condition, status: p.status, address: p.address,
        },
      });
    }
  }
  for (const p of places) p.text = saved.indexText({ ...p.properties });
  const tiles = sources.flatMap((s) => s.tiles);
  return { ward, outline, bbox, sources, tiles, places, extra };
}

function measured() {
  try {
    return JSON.parse(window.localStorage.getItem(BYTES_KEY) || '{}') || {};
  } catch { return {}; }
}

function bytesPerTile(source) {
  const v = Number(measured()[source]);
  return v > 0 ? v : (DEFAULT_BYTES_PER_TILE[source] || OTHER_BYTES_PER_TILE);
}

const estimate = (p) => p.sources.reduce((n, s) => n + s.tiles.length * bytesPerTile(s.name), 0)
  + p.places.length * BYTES_PER_PLACE + (Number(measured()['']) || DEFAULT_EXTRA_BYTES);

/** Fetches `url` and keeps its answer under `key` in `cache`: the bytes stored, or -1. */
async function keep(cache, url, key) {
  let res;
  try {
    res = await fetch(url, { credentials: 'same-origin' });
  } catch {
    return -1;
  }
  if (!(res.ok || res.status === 204)) return -1;
  const buf = await res.clone().arrayBuffer();
  await cache.put(key, res);
  return buf.byteLength;
}

/** Runs `jobs` (functions giving promises) `PARALLEL` at a time. */
async function pool(jobs, onDone) {
  let next = 0;
  const worker = async () => {
    while (next < jobs.length) {
      const job = jobs[next++];
      await job();
      onDone();
    }
  };
  await Promise.all(Array.from({ length: Math.min(PARALLEL, jobs.length) }, worker));
}

async function save(p) {
  if (!('caches' in window)) throw new Error(t('offline.unsupported'));
  // Ask that the browser keep this when space runs short (it may say no; nothing breaks).
  if (navigator.storage && navigator.storage.persist) navigator.storage.persist().catch(() => {});
  const name = cacheName(p.ward);
  await caches.delete(name); // an update starts afresh
  const cache = await caches.open(name);
  let bytes = 0;
  let failed = 0;
  const perSource = {};
  const jobs = [];
  for (const src of p.sources) {
    const m = perSource[src.name] = { bytes: 0, tiles: 0 };
    for (const url of src.tiles) {
      jobs.push(async () => {
        const n = await keep(cache, url, bare(url));
        if (n < 0) failed++;
        else { bytes += n; m.bytes += n; m.tiles++; }
      });
    }
  }
  for (const pl of p.places) {
    const code = encodeURIComponent(pl.code);
    for (const url of [`/assets/${code}`, `/audit?${api.qs({ subject: pl.code, limit: 100 })}`]) {
      jobs.push(async () => {
        const n = await keep(cache, url, abs(url));
        if (n < 0) failed++;
        else bytes += n;
      });
    }
  }
  let extraBytes = 0;
  for (const url of p.extra) {
    if (new URL(url).origin !== origin()) continue; // the CSP allows our own origin only
    jobs.push(async () => {
      const n = await keep(cache, url, bare(url));
      if (n > 0) { bytes += n; extraBytes += n; }
    });
  }
  busy = { ward: p.ward, done: 0, total: jobs.length };
  render();
  await pool(jobs, () => {
    busy.done++;
    const line = document.getElementById('offline-progress');
    if (line) { line.value = busy.done; line.max = busy.total; }
    const text = document.getElementById('offline-progress-text');
    if (text) text.textContent = t('offline.saving', { done: fmtNumber(busy.done), total: fmtNumber(busy.total) });
  });
  const record = {
    ward: p.ward, outline: p.outline, bbox: p.bbox, places: p.places, saved_at: new Date().toISOString(),
    tiles: p.tiles.length, failed,
    sources: p.sources.map((s) => ({ name: s.name, from: s.from, to: s.to, ...perSource[s.name] })),
  };
  record.bytes = bytes + new Blob([JSON.stringify(record)]).size;
  await idb.put('wards', record);
  saved.changed();
  // The next estimate uses what these tiles weighed.
  const avg = measured();
  for (const [name, m] of Object.entries(perSource)) if (m.tiles) avg[name] = Math.round(m.bytes / m.tiles);
  if (extraBytes) avg[''] = extraBytes; // '': what is not a tile or a place
  try { window.localStorage.setItem(BYTES_KEY, JSON.stringify(avg)); } catch { /* ignore */ }
  return record;
}

async function remove(ward) {
  if ('caches' in window) await caches.delete(cacheName(ward));
  await idb.del('wards', ward);
  saved.changed();
}

// ---- the Staff view's section -----------------------------------------------------------------

async function refreshList() {
  try {
    list = (await saved.wards()).slice().sort((a, b) => a.ward - b.ward);
  } catch { list = []; }
  render();
}

function statusText() {
  if (!status) return '';
  if (status.error) return t('offline.failed', { error: errorText(status.error) });
  return t(status.key, status.vars);
}

function planText(p) {
  return t('offline.plan', {
    ward: digits(p.ward),
    tiles: tn('offline.tiles', p.tiles.length),
    places: tn('offline.places', p.places.length),
    size: fmtBytes(estimate(p)),
    zooms: digits(`${MIN_Z}–${Math.max(...p.sources.map((s) => s.to), MIN_Z)}`),
  });
}

function render() {
  const root = $('#offline-wards');
  if (!root || !staffSession()) return;
  const s = staffSession();
  const input = document.getElementById('offline-ward');
  const typed = input ? input.value : (s.user && s.user.ward ? String(s.user.ward) : '');
  const hadFocus = root.contains(document.activeElement) ? document.activeElement.id : null;

  const wardInput = h('input', {
    type: 'number', id: 'offline-ward', name: 'ward', min: 1, step: 1, inputMode: 'numeric', value: typed,
    'aria-describedby': 'offline-hint', disabled: !!busy,
  });
  const form = h('form', { id: 'offline-form', class: 'inline-form', novalidate: true },
    h('div', { class: 'field' }, h('label', { htmlFor: 'offline-ward', text: t('offline.ward') }), wardInput),
    h('button', { type: 'submit', class: 'btn btn-secondary', id: 'offline-check', text: t('offline.check'), disabled: !!busy }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const ward = Number(wardInput.value);
    if (!Number.isInteger(ward) || ward < 1) {
      status = { key: 'offline.needWard' };
      plan = null;
      render();
      return document.getElementById('offline-ward')?.focus();
    }
    status = { key: 'offline.checking', vars: { ward: digits(ward) } };
    plan = null;
    render();
    try {
      plan = await makePlan(ward);
      status = plan ? null : { key: 'offline.noWard', vars: { ward: digits(ward) } };
    } catch (err) {
      status = { error: err };
    }
    render();
    document.getElementById(plan ? 'offline-go' : 'offline-status')?.focus();
    return undefined;
  });

  const planBox = plan && !busy ? h('div', { class: 'offline-plan', id: 'offline-plan' },
    h('p', { id: 'offline-plan-text', text: planText(plan) }),
    estimate(plan) > GOAL_BYTES ? h('p', { class: 'hint', text: t('offline.large') }) : null,
    h('div', { class: 'button-row' },
      h('button', {
        type: 'button', class: 'btn btn-primary', id: 'offline-go', text: t('offline.keep', { ward: digits(plan.ward) }),
        onclick: async () => {
          const p = plan;
          try {
            const r = await save(p);
            status = { key: r.failed ? 'offline.savedSome' : 'offline.saved', vars: { ward: digits(r.ward), size: fmtBytes(r.bytes), failed: fmtNumber(r.failed) } };
            plan = null;
          } catch (err) {
            status = { error: err };
          }
          busy = null;
          await refreshList();
          document.getElementById('offline-status')?.focus();
        },
      }),
      h('button', { type: 'button', class: 'btn btn-secondary', id: 'offline-cancel', text: t('offline.cancel'), onclick: () => { plan = null; render(); document.getElementById('offline-check')?.focus(); } }))) : null;

  const progress = busy ? h('div', { class: 'offline-progress' },
    h('progress', { id: 'offline-progress', max: busy.total, value: busy.done, 'aria-labelledby': 'offline-progress-text' }),
    h('p', { id: 'offline-progress-text', text: t('offline.saving', { done: fmtNumber(busy.done), total: fmtNumber(busy.total) }) })) : null;

  const items = list.map((w) => h('li', { class: 'offline-ward', dataset: { ward: String(w.ward), bytes: String(w.bytes) } },
    h('p', { class: 'offline-ward-name', text: t('offline.savedWard', { ward: digits(w.ward) }) }),
    h('p', { class: 'offline-ward-size', text: t('offline.savedFacts', { size: fmtBytes(w.bytes), tiles: tn('offline.tiles', w.tiles), places: tn('offline.places', (w.places || []).length), date: fmtDate(w.saved_at) }) }),
    h('div', { class: 'button-row' },
      h('button', {
        type: 'button', class: 'btn btn-secondary', id: `offline-update-${w.ward}`, disabled: !!busy, text: t('offline.update'),
        'aria-label': t('offline.updateLabel', { ward: digits(w.ward) }),
        onclick: async () => {
          status = { key: 'offline.checking', vars: { ward: digits(w.ward) } };
          render();
          try {
            plan = await makePlan(w.ward);
            status = null;
          } catch (err) { status = { error: err }; }
          render();
          document.getElementById(plan ? 'offline-go' : 'offline-status')?.focus();
        },
      }),
      h('button', {
        type: 'button', class: 'btn btn-secondary', id: `offline-remove-${w.ward}`, disabled: !!busy, text: t('offline.remove'),
        'aria-label': t('offline.removeLabel', { ward: digits(w.ward) }),
        onclick: async () => {
          try {
            await remove(w.ward);
            status = { key: 'offline.removed', vars: { ward: digits(w.ward) } };
          } catch (err) { status = { error: err }; }
          await refreshList();
          document.getElementById('offline-status')?.focus();
        },
      }))));

  replace(root,
    h('h3', { id: 'offline-title', text: t('offline.title') }),
    h('p', { class: 'hint', id: 'offline-hint', text: t('offline.hint') }),
    !('caches' in window) || !('indexedDB' in window) ? h('p', { class: 'notice', text: t('offline.unsupported') }) : null,
    form, planBox, progress,
    h('p', { id: 'offline-status', class: `form-status${status && status.error ? ' error' : ''}`, role: 'status', tabindex: '-1', text: statusText() }),
    list.length ? h('ul', { id: 'offline-saved', class: 'offline-saved' }, items) : null);
  if (hadFocus) document.getElementById(hadFocus)?.focus({ preventScroll: true });
}

export function init(c) {
  ctx = c;
  register();
  clampZoom();
  window.addEventListener('online', clampZoom);
  window.addEventListener('offline', clampZoom);
  onLangChange(render);
  // The section is drawn whenever the Staff view shows the signed-in part.
  const main = $('#staff-main');
  if (main) {
    // Signing in also sends the writes that waited for a staff token.
    new MutationObserver(() => {
      if (main.hidden) return;
      refreshList();
      outbox.flush();
    }).observe(main, { attributes: true, attributeFilter: ['hidden'] });
    if (!main.hidden) refreshList();
  }
}
