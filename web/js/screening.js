// Heritage-impact screening for planners (#screening, #screening?d=500&layers=heritage,parks;
// under the Export tab). The proposed work — a road widening, a metro alignment, a plot —
// is drawn on the map with terra-draw (draw.js: a line, an area or a point, click by click
// or corner by corner at the map's centre) or comes from a file (GeoJSON, FlatGeobuf or
// CSV, sent as its bytes with its media type: the server's importers read it). With a
// distance (up to 5 km) and the layers, `POST /screening` answers every heritage asset,
// water body and park within reach, graded heritage first then by distance. The view lists
// them, shows the work and what was found on the map, downloads the same answer as CSV or
// GeoJSON, and makes a printable report (the work, distance, date, counts, a picture of
// the map and the table) that `@media print` in app.css prints alone.
import { h, replace, $, fieldError } from './dom.js';
import { t, tn, label, digits, fmtNumber, fmtDate, getLang } from './i18n.js';
import { api, ApiError } from './api.js';
import { explain } from './errors.js';
import * as mapctl from './mapctl.js';
import * as drawing from './draw.js';
import { reveal } from './panel.js';

export const MAX_DISTANCE = 5000;
const DEFAULT_DISTANCE = 300;
const LAYERS = ['heritage', 'water_bodies', 'parks'];
const GRADES = ['I', 'IIA', 'IIB', 'III'];
const DESCRIPTION_MAX = 300;
// What the server reads a work's body up to (16 MB): a bigger file is refused here, unsent.
const MAX_FILE = 16 << 20;
// A file's media type by its name: the server's importers go by the Content-Type.
const FILE_TYPES = [
  [/\.(geo)?json$/i, 'application/geo+json'],
  [/\.fgb$/i, 'application/flatgeobuf'],
  [/\.csv$/i, 'text/csv'],
];

let ctx;
let visible = false;
let seq = 0;
const state = {
  shape: 'linestring', // what the Draw buttons draw next
  drawing: false, // terra-draw is open for this view
  geometry: null, // the drawn work once drawing stopped
  file: null, // {file, type, work: GeoJSON geometry if it could be read here}
  description: '',
  crs: '', // the file's coordinate system, when the file does not say
  distance: DEFAULT_DISTANCE,
  layers: new Set(LAYERS),
  busy: false,
  result: null, // {items, features, geojson (text), body, at, distance, layers, work, workText, description}
  image: null, // {url, width, height}: the map as screened, for the report; 'pending' while it is taken
  error: null, // an ApiError or Error from the last screening
  message: null, // {key, vars, kind} under the downloads
};

const el = () => $('#view-screening');
const reportEl = () => $('#screening-report');

export const tabOf = 'export';

export function init(c) {
  ctx = c;
  // Ctrl+P prints the report too, once there is one (the class is set while it is shown).
  window.addEventListener('beforeprint', () => { if (visible && state.result) renderReport(); });
}

function parseQuery(query) {
  const u = new URLSearchParams(query || '');
  const d = Number(u.get('d'));
  const layers = (u.get('layers') || '').split(',').filter((l) => LAYERS.includes(l));
  return { distance: u.has('d') && Number.isFinite(d) && d >= 0 && d <= MAX_DISTANCE ? d : null, layers };
}

// Layer names need no escaping: the commas stay readable.
const hashOf = () => `#screening?d=${encodeURIComponent(state.distance)}&layers=${LAYERS.filter((l) => state.layers.has(l)).join(',')}`;

export function show(arg, query) {
  visible = true;
  const q = parseQuery(query);
  if (q.distance !== null) state.distance = q.distance;
  if (q.layers.length) state.layers = new Set(q.layers);
  render(false);
  if (state.result) {
    document.body.classList.add('has-report');
    drawResult(!state.image || state.image === 'pending');
  }
}

export function hide() {
  visible = false;
  seq++;
  keepDrawing();
  mapctl.clearScreening();
  document.body.classList.remove('has-report');
}

export function rerender() {
  render(false);
  if (state.result) renderReport();
}

/** Takes what terra-draw holds into the state and closes it. */
function keepDrawing() {
  if (!state.drawing) return;
  const g = drawing.geometry();
  if (g) state.geometry = g;
  drawing.stop();
  state.drawing = false;
}

async function startDrawing(shape) {
  keepDrawing();
  state.shape = shape;
  state.geometry = null;
  state.file = null;
  state.drawing = true;
  mapctl.clearScreening();
  await drawing.draw(shape);
  drawing.onChange(updateWorkLine);
  render(false);
}

async function changeDrawing() {
  const g = state.geometry;
  if (!g) return;
  state.shape = drawing.shapeOf(g.type);
  state.drawing = true;
  mapctl.clearScreening();
  await drawing.edit(g);
  drawing.onChange(updateWorkLine);
  render(false);
}

/** The work as it stands: the drawing (open or kept), or the file. */
function currentWork() {
  if (state.drawing) {
    const g = drawing.geometry();
    return g ? { geometry: g } : null;
  }
  if (state.geometry) return { geometry: state.geometry };
  if (state.file) {
    const crs = state.crs.trim();
    // A declared CRS is the server's to read; one given here is only for files that have none.
    return { file: state.file.file, type: state.file.type, crs: crs || undefined, work: crs ? null : state.file.work };
  }
  return null;
}

// ---- words about the work --------------------------------------------------------------------

/** Metres along a line of [lon, lat] (haversine on the mean Earth radius: a description, not a measurement). */
function lineLength(coords) {
  const R = 6371008.8;
  const rad = (d) => (d * Math.PI) / 180;
  let m = 0;
  for (let i = 1; i < coords.length; i++) {
    const [a, b] = [coords[i - 1], coords[i]];
    const s = Math.sin(rad(b[1] - a[1]) / 2) ** 2 + Math.cos(rad(a[1])) * Math.cos(rad(b[1])) * Math.sin(rad(b[0] - a[0]) / 2) ** 2;
    m += 2 * R * Math.asin(Math.sqrt(s));
  }
  return m;
}

const metres = (m) => t('unit.m', { n: fmtNumber(m, { maximumFractionDigits: 1 }) });
const lengthText = (m) => (m < 1000 ? t('unit.m', { n: fmtNumber(Math.round(m)) }) : t('unit.km', { n: fmtNumber(m / 1000, { maximumFractionDigits: 2 }) }));

/** "A line of 3 points, 720 m long" and the like, for a geometry. */
function geometryText(g) {
  if (!g) return '';
  if (g.type === 'Point') return t('screen.work.point', { lat: fmtNumber(g.coordinates[1], { maximumFractionDigits: 5 }), lon: fmtNumber(g.coordinates[0], { maximumFractionDigits: 5 }) });
  if (g.type === 'LineString') return tn('screen.work.line', g.coordinates.length, { length: lengthText(lineLength(g.coordinates)) });
  if (g.type === 'MultiLineString') return tn('screen.work.lines', g.coordinates.length, { length: lengthText(g.coordinates.reduce((s, c) => s + lineLength(c), 0)) });
  if (g.type === 'Polygon') return tn('screen.work.area', g.coordinates[0].length - 1);
  if (g.type === 'MultiPolygon') return tn('screen.work.areas', g.coordinates.length);
  return t('screen.work.other');
}

const sizeText = (bytes) => (bytes < 1024 ? tn('screen.bytes', bytes) : t('screen.kb', { n: fmtNumber(Math.ceil(bytes / 1024)) }));

/** What the work is, in words: drawn (and its shape) or the file. */
function workText(work) {
  if (!work) return t('screen.noWork');
  if (work.file) return t('screen.fromFile', { name: work.file.name, size: sizeText(work.file.size) });
  return geometryText(work.geometry);
}

/** The status line under the drawing buttons (in place while drawing: no redraw). */
function drawStatus() {
  if (state.drawing) {
    const g = drawing.geometry();
    if (g) return t('screen.drawn', { what: geometryText(g) });
    const n = drawing.corners().length;
    return n ? t('add.cornersSoFar', { n: digits(n) }) : t(`add.drawHint.${state.shape}`);
  }
  return workText(currentWork());
}

function updateWorkLine() {
  const line = document.getElementById('screen-work-status');
  if (line) line.textContent = drawStatus();
}

// ---- reading a chosen file --------------------------------------------------------------------

/** A GeoJSON file's work in WGS84 (no legacy `crs` other than CRS84/4326), for the map; else null. */
function geojsonWork(text) {
  let v;
  try { v = JSON.parse(text); } catch { return null; }
  const crs = v && v.crs && v.crs.properties && String(v.crs.properties.name || '');
  if (crs && !/CRS84|4326/.test(crs)) return null; // the server reprojects it; the map waits for the answer
  const geoms = [];
  const take = (g) => { if (g && g.type && (g.coordinates || g.geometries)) geoms.push(g); };
  if (v && v.type === 'FeatureCollection' && Array.isArray(v.features)) v.features.forEach((f) => take(f && f.geometry));
  else if (v && v.type === 'Feature') take(v.geometry);
  else take(v);
  if (!geoms.length) return null;
  return geoms.length === 1 ? geoms[0] : { type: 'GeometryCollection', geometries: geoms };
}

async function chooseFile(input) {
  const file = input.files && input.files[0];
  fieldError(input, null);
  if (!file) return;
  const type = (FILE_TYPES.find(([re]) => re.test(file.name)) || [])[1];
  if (!type) {
    fieldError(input, t('screen.fileType'));
    input.focus();
    return;
  }
  if (file.size > MAX_FILE) {
    fieldError(input, t('err.tooLarge'));
    input.focus();
    return;
  }
  keepDrawing();
  state.geometry = null;
  let work = null;
  if (type === 'application/geo+json') {
    try { work = geojsonWork(await file.text()); } catch { work = null; }
  }
  state.file = { file, type, work };
  mapctl.clearScreening();
  if (work) mapctl.showScreening(work, [], { fit: true });
  render(false);
  document.getElementById('screen-file')?.focus();
}

// ---- the view ----------------------------------------------------------------------------------

let fileEl = null;
/** The file field, one node for the view's life: a redraw would otherwise forget the file chosen. */
function fileInput() {
  if (!fileEl) {
    fileEl = h('input', {
      type: 'file', id: 'screen-file', name: 'file', accept: '.geojson,.json,.fgb,.csv', 'aria-describedby': 'screen-file-hint',
      onchange: (e) => chooseFile(e.target),
    });
  }
  if (!state.file) fileEl.value = '';
  fieldError(fileEl, null); // its message was in the form being replaced
  return fileEl;
}

function render(focus) {
  if (!visible) return;
  const root = el();
  const active = document.activeElement;
  const focusId = root.contains(active) && active.id ? active.id : null;
  const title = h('h2', { id: 'screening-title', tabindex: '-1', text: t('screen.title') });

  const description = h('input', {
    type: 'text', id: 'screen-description', name: 'description', maxLength: DESCRIPTION_MAX, value: state.description,
    'aria-describedby': 'screen-description-hint',
    oninput: (e) => { state.description = e.target.value; },
  });
  const shapes = [['linestring', 'screen.drawLine'], ['polygon', 'screen.drawArea'], ['point', 'screen.drawPoint']];
  const drawRow = h('div', { class: 'button-row', role: 'group', 'aria-label': t('screen.drawGroup') },
    shapes.map(([shape, key]) => h('button', {
      type: 'button', class: 'btn btn-secondary', id: `screen-draw-${shape}`,
      'aria-pressed': String(state.drawing && state.shape === shape), text: t(key),
      onclick: async () => {
        await startDrawing(shape);
        document.getElementById(`screen-draw-${shape}`)?.focus();
      },
    })));
  const keyRow = h('div', { class: 'button-row' },
    state.drawing ? h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'screen-corner',
      text: t(state.shape === 'point' ? 'add.pointAtCentre' : 'add.cornerAtCentre'),
      onclick: () => {
        const c = mapctl.map.getCenter();
        drawing.addCorner([c.lng, c.lat]);
        updateWorkLine();
      },
    }) : null,
    !state.drawing && state.geometry ? h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'screen-change', text: t('screen.changeDrawing'),
      onclick: async () => {
        await changeDrawing();
        document.getElementById('screen-corner')?.focus();
      },
    }) : null);
  const file = fileInput();

  const distance = h('input', {
    type: 'number', id: 'screen-distance', name: 'distance_m', min: '0', max: String(MAX_DISTANCE), step: 'any',
    inputMode: 'decimal', value: String(state.distance), required: true, 'aria-describedby': 'screen-distance-hint',
    oninput: (e) => { state.distance = e.target.value === '' ? '' : Number(e.target.value); },
  });
  const layers = h('fieldset', { class: 'radios', id: 'screen-layers' },
    h('legend', { text: t('screen.layers') }),
    LAYERS.map((l) => h('label', null,
      h('input', {
        type: 'checkbox', name: 'layers', value: l, id: `screen-layer-${l}`, checked: state.layers.has(l),
        onchange: (e) => { if (e.target.checked) state.layers.add(l); else state.layers.delete(l); },
      }), ' ', label('layer', l))));

  const send = h('button', { type: 'submit', class: 'btn btn-primary', id: 'screen-send', disabled: state.busy, text: t(state.busy ? 'screen.screening' : 'screen.send') });
  const form = h('form', { id: 'screen-form', novalidate: true },
    h('p', { class: 'intro', text: t('screen.intro') }),
    h('fieldset', { id: 'screen-work' }, h('legend', { text: t('screen.workLegend') }),
      h('div', { class: 'field' },
        h('label', { htmlFor: 'screen-description', text: t('screen.description') }),
        h('p', { class: 'hint', id: 'screen-description-hint', text: t('screen.descriptionHint') }),
        description),
      h('p', { class: 'hint', id: 'screen-draw-hint', text: t(`screen.howTo.${state.shape}`) }),
      drawRow,
      keyRow,
      h('div', { class: 'field' }, h('p', { id: 'screen-work-status', class: 'pin-status', 'aria-live': 'polite', tabindex: '-1', text: drawStatus() })),
      h('div', { class: 'field' },
        h('label', { htmlFor: 'screen-file', text: t('screen.file') }),
        h('p', { class: 'hint', id: 'screen-file-hint', text: t('screen.fileHint') }),
        file),
      h('div', { class: 'field' },
        h('label', { htmlFor: 'screen-crs', text: t('screen.crs') }),
        h('p', { class: 'hint', id: 'screen-crs-hint', text: t('screen.crsHint') }),
        h('input', {
          type: 'text', id: 'screen-crs', name: 'crs', value: state.crs, maxLength: 100, spellcheck: false, autocomplete: 'off',
          'aria-describedby': 'screen-crs-hint', oninput: (e) => { state.crs = e.target.value; },
        }))),
    h('fieldset', null, h('legend', { text: t('screen.reachLegend') }),
      h('div', { class: 'field' },
        h('label', { htmlFor: 'screen-distance', text: t('screen.distance') }),
        h('p', { class: 'hint', id: 'screen-distance-hint', text: t('screen.distanceHint', { max: fmtNumber(MAX_DISTANCE) }) }),
        distance),
      layers),
    h('div', { class: 'button-row' }, send));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    screen();
  });
  replace(root, title, form, results());
  if (focus) title.focus({ preventScroll: true });
  else if (focusId && document.getElementById(focusId) && document.activeElement !== document.getElementById(focusId)) {
    document.getElementById(focusId).focus({ preventScroll: true });
  }
}

/** The answer under the form: its count, the list, the downloads and the report button. */
function results() {
  const r = state.result;
  const status = h('p', {
    id: 'screen-status', class: `screen-status${state.error ? ' error' : ''}`, role: 'status', tabindex: '-1',
    text: state.error ? t('screen.failed', { error: explain(state.error) }) : (state.busy ? t('screen.screening') : (r ? foundText(r) : '')),
  });
  if (!r || state.error) return h('section', { id: 'screen-results', 'aria-labelledby': 'screen-results-title' }, h('h3', { id: 'screen-results-title', class: 'visually-hidden', text: t('screen.results') }), status);
  const message = state.message
    ? h('p', { id: 'screen-message', class: `form-status ${state.message.kind}`, role: 'status', text: state.message.error ? t('screen.downloadFailed', { error: explain(state.message.error) }) : t(state.message.key, state.message.vars) })
    : h('p', { id: 'screen-message', class: 'form-status', role: 'status' });
  return h('section', { id: 'screen-results', 'aria-labelledby': 'screen-results-title' },
    h('h3', { id: 'screen-results-title', text: t('screen.results') }),
    status,
    r.items.length ? h('p', { class: 'hint', text: t('screen.order') }) : null,
    h('ol', { id: 'screen-list', class: 'screen-list' }, r.items.map(itemCard)),
    h('h4', { text: t('screen.downloadTitle') }),
    h('ul', { class: 'downloads' },
      h('li', null, h('button', { type: 'button', class: 'btn btn-download', id: 'screen-csv', text: t('screen.csv'), onclick: () => download('csv') })),
      h('li', null, h('button', { type: 'button', class: 'btn btn-download', id: 'screen-geojson', text: t('screen.geojson'), onclick: () => download('geojson') }))),
    h('div', { class: 'button-row' },
      h('button', { type: 'button', class: 'btn btn-primary', id: 'screen-print', text: t('screen.print'), onclick: printReport })),
    message);
}

const foundText = (r) => tn('screen.found', r.items.length, { d: metres(r.distance) });

/** The name in the page's language, with its own `lang`. */
function nameOf(it) {
  const bn = getLang() === 'bn' && it.name_bn;
  const text = bn ? it.name_bn : (it.name || it.name_bn || it.code);
  return { text, lang: bn ? 'bn' : (it.name ? 'en' : 'bn') };
}

/** Protection and status, in words: a water body's protection and state, a park's none. */
function protectionText(it) {
  const parts = [];
  if (it.protected === true) parts.push(t('screen.protected'));
  else if (it.protected === false) parts.push(t('screen.notProtected'));
  if (it.status) parts.push(label('water', it.status));
  return parts.join(' · ');
}

const lockText = (it) => (it.heritage_lock ? t(`screen.lock.${it.heritage_lock}`) : '');

function itemCard(it) {
  const name = nameOf(it);
  const facts = [
    [t('screen.col.kind'), `${label('layer', it.layer)}: ${label('kind', it.kind)}`],
    [t('screen.col.ward'), it.ward === null || it.ward === undefined ? '' : digits(it.ward)],
    [t('screen.col.condition'), it.condition ? label('condition', it.condition) : ''],
    [t('screen.col.protection'), protectionText(it)],
    [t('screen.col.lock'), lockText(it)],
  ].filter(([, v]) => v);
  return h('li', { class: 'screen-item', dataset: { code: it.code, distance: it.distance_m } },
    h('div', { class: 'screen-item-head' },
      h('span', {
        class: `badge grade-${it.grade || 'none'}`,
        text: it.grade ? t(`grade.${it.grade}`) : (it.layer === 'heritage' ? t('screen.ungraded') : label('layer', it.layer)),
      }),
      h('span', { class: 'screen-distance', text: metres(it.distance_m) })),
    h('p', { class: 'screen-name' },
      h('button', {
        type: 'button', class: 'link', lang: name.lang, text: name.text,
        onclick: () => ctx.navigate(`#asset/${encodeURIComponent(it.code)}`),
      }),
      ' ', h('span', { class: 'hint mono', text: it.code })),
    h('dl', { class: 'screen-facts' }, facts.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])));
}

// ---- screening --------------------------------------------------------------------------------

/** Checks the form as the server would; marks the first problem and answers false. */
function checkForm() {
  const d = $('#screen-distance');
  const line = $('#screen-work-status');
  const layers = $('#screen-layers');
  fieldError(d, null);
  fieldError(line, null);
  fieldError($('#screen-crs'), null);
  layers.removeAttribute('aria-invalid');
  $('#screen-layers-error')?.remove();
  if (!currentWork()) {
    fieldError(line, t(state.drawing ? `screen.finish.${state.shape}` : 'screen.needWork'));
    reveal(line);
    line.focus();
    return false;
  }
  const v = d.value.trim() === '' ? NaN : Number(d.value);
  if (!Number.isFinite(v) || v < 0 || v > MAX_DISTANCE) {
    fieldError(d, t('screen.badDistance', { max: fmtNumber(MAX_DISTANCE) }));
    d.focus();
    return false;
  }
  if (!state.layers.size) {
    layers.setAttribute('aria-invalid', 'true');
    layers.append(h('p', { class: 'field-error', id: 'screen-layers-error', text: t('screen.needLayer') }));
    layers.querySelector('input')?.focus();
    return false;
  }
  state.distance = v;
  return true;
}

/** Marks the field the server refused (the distance, the layers, else the work). */
function markRefusal(err) {
  const field = err instanceof ApiError ? err.field : null;
  const text = explain(err);
  if (field === 'distance_m') {
    fieldError($('#screen-distance'), text);
    $('#screen-distance').focus();
  } else if (field === 'layers') {
    const layers = $('#screen-layers');
    layers.setAttribute('aria-invalid', 'true');
    layers.append(h('p', { class: 'field-error', id: 'screen-layers-error', text }));
    layers.querySelector('input')?.focus();
  } else if (err instanceof ApiError && err.status >= 400 && err.status < 500 && err.status !== 429) {
    // A coordinate system given here and refused is marked where it was typed.
    const crsRefused = state.file && state.crs.trim() && /\bcrs\b|coordinate|EPSG|projection/i.test(err.description || '');
    const target = crsRefused ? $('#screen-crs') : (state.file ? $('#screen-file') : $('#screen-work-status'));
    fieldError(target, text);
    reveal(target);
    target.focus();
  } else {
    const s = $('#screen-status');
    reveal(s);
    s.focus();
  }
}

async function screen() {
  if (state.busy || !checkForm()) return;
  const work = currentWork();
  const layers = LAYERS.filter((l) => state.layers.has(l));
  const params = { distance_m: state.distance, layers: layers.join(',') };
  window.history.replaceState(null, '', hashOf());
  const mine = ++seq;
  state.busy = true;
  state.error = null;
  state.message = null;
  render(false);
  $('#screen-send')?.focus();
  let text;
  try {
    text = await api.screening(work, { ...params, f: 'geojson' });
  } catch (e) {
    state.busy = false; // only leaving the view (hide) makes a newer seq: Send must work on return
    if (mine !== seq) return;
    state.error = e;
    state.result = null;
    document.body.classList.remove('has-report');
    render(false);
    markRefusal(e);
    return;
  }
  state.busy = false;
  if (mine !== seq) return;
  const fc = JSON.parse(text);
  // The work as the server read it, when it says; else as drawn or as read here.
  const geometry = fc.work || work.geometry || work.work || null;
  keepDrawing();
  state.result = {
    items: fc.features.map((f) => f.properties),
    features: fc.features,
    geojson: text,
    work: { ...work },
    workGeometry: geometry,
    params,
    distance: state.distance,
    layers,
    at: new Date(),
  };
  state.image = 'pending';
  render(false);
  document.body.classList.add('has-report');
  renderReport();
  toResults();
  await drawResult(true);
}

/** Scrolls the answer's heading to the top of the panel, so the list starts in sight; focus on the count. */
function toResults() {
  const body = $('#panel-body');
  const head = $('#screen-results-title');
  if (body && head) body.scrollTop += head.getBoundingClientRect().top - body.getBoundingClientRect().top - 8;
  $('#screen-status')?.focus({ preventScroll: true });
}

/** The work and what was found on the map, fitted; then the map's picture for the report. */
async function drawResult(capture) {
  const r = state.result;
  if (!r) return;
  mapctl.showScreening(r.workGeometry, r.features, { fit: true });
  if (!capture) return;
  state.image = 'pending';
  renderReport();
  const mine = seq;
  const image = await mapctl.snapshot();
  // Left meanwhile: the picture is taken again when the view opens with it still pending.
  if (state.result !== r || mine !== seq) return;
  state.image = image;
  renderReport();
}

// ---- downloads ------------------------------------------------------------------------------------

function fileName(ext) {
  const d = state.result.at;
  const p = (n) => String(n).padStart(2, '0');
  return `screening-${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}-${state.result.distance}m.${ext}`;
}

async function download(f) {
  const r = state.result;
  if (!r) return;
  const button = $(`#screen-${f}`);
  button.disabled = true;
  const line = $('#screen-message');
  line.className = 'form-status';
  line.textContent = t('screen.preparing');
  try {
    // The GeoJSON is the answer the list came from; the CSV is asked for with the same work.
    const text = f === 'geojson' ? r.geojson : await api.screening(r.work, { ...r.params, f });
    const blob = new Blob([text], { type: f === 'csv' ? 'text/csv' : 'application/geo+json' });
    const url = URL.createObjectURL(blob);
    const name = fileName(f === 'csv' ? 'csv' : 'geojson');
    const a = h('a', { href: url, download: name, hidden: true });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
    state.message = { kind: 'success', key: 'screen.downloaded', vars: { name } };
  } catch (e) {
    state.message = { kind: 'error', error: e };
  }
  button.disabled = false;
  const m = state.message;
  line.className = `form-status ${m.kind}`;
  line.textContent = m.error ? t('screen.downloadFailed', { error: explain(m.error) }) : t(m.key, m.vars);
}

// ---- the printable report ------------------------------------------------------------------------

function printReport() {
  renderReport();
  window.print();
}

/** Counts by layer and, for heritage, by grade. */
function counts(items, layers) {
  const byLayer = layers.map((l) => [l, items.filter((i) => i.layer === l).length]);
  const heritage = items.filter((i) => i.layer === 'heritage');
  const byGrade = GRADES.map((g) => [g, heritage.filter((i) => i.grade === g).length]);
  byGrade.push([null, heritage.filter((i) => !i.grade).length]);
  return { byLayer, byGrade: layers.includes('heritage') ? byGrade : [] };
}

/** The report `@media print` prints alone: the work, the reach, the date, counts, the map and the table. */
function renderReport() {
  const root = reportEl();
  const r = state.result;
  if (!root || !r) return;
  const c = counts(r.items, r.layers);
  const description = (state.description || '').trim();
  const rows = [
    [t('screen.report.work'), description || t('screen.report.undescribed')],
    [t('screen.report.shape'), workText(r.work)],
    [t('screen.report.distance'), metres(r.distance)],
    [t('screen.report.layers'), r.layers.map((l) => label('layer', l)).join(', ')],
    [t('screen.report.date'), fmtDate(r.at.toISOString())],
  ];
  const alt = tn('screen.report.mapAlt', r.items.length, { d: metres(r.distance) });
  replace(root,
    h('header', null,
      h('p', { class: 'report-org', text: t('screen.report.org') }),
      h('h2', { id: 'screening-report-title', text: t('screen.report.title') })),
    h('dl', { class: 'facts report-facts' }, rows.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })])),
    h('h3', { text: t('screen.report.counts') }),
    h('p', { class: 'report-total', text: foundText(r) }),
    countTable('screen.report.byLayer', c.byLayer.map(([l, n]) => [label('layer', l), n])),
    c.byGrade.length ? countTable('screen.report.byGrade', c.byGrade.map(([g, n]) => [g ? t(`grade.${g}`) : t('screen.ungradedHeritage'), n])) : null,
    h('figure', { class: 'report-map' },
      state.image && state.image !== 'pending'
        ? h('img', { id: 'screening-report-map', src: state.image.url, alt, width: state.image.width, height: state.image.height })
        : h('p', { class: 'hint', text: t(state.image === 'pending' ? 'screen.report.mapPending' : 'screen.report.noMap') }),
      h('figcaption', { text: t('screen.report.mapKey', { d: metres(r.distance) }) })),
    h('h3', { text: t('screen.report.list') }),
    r.items.length ? reportTable(r.items) : h('p', { text: t('screen.report.none') }),
    h('p', { class: 'hint', text: t('screen.report.method') }));
}

/** A row of counts under their names: [[name, n]]. */
function countTable(caption, pairs) {
  return h('table', { class: 'report-counts' },
    h('caption', { text: t(caption) }),
    h('thead', null, h('tr', null, pairs.map(([k]) => h('th', { scope: 'col', text: k })))),
    h('tbody', null, h('tr', null, pairs.map(([, n]) => h('td', { text: fmtNumber(n) })))));
}

function reportTable(items) {
  const cols = ['grade', 'name', 'kind', 'ward', 'distance', 'condition', 'protection', 'lock'];
  return h('table', { class: 'diff report-table', id: 'screening-report-table' },
    h('caption', { class: 'visually-hidden', text: t('screen.report.list') }),
    h('thead', null, h('tr', null, h('th', { scope: 'col', text: t('screen.col.n') }), cols.map((k) => h('th', { scope: 'col', text: t(`screen.col.${k}`) })))),
    h('tbody', null, items.map((it, i) => {
      const name = nameOf(it);
      return h('tr', null,
        h('td', { text: fmtNumber(i + 1) }),
        h('td', { text: it.grade ? t(`grade.${it.grade}`) : (it.layer === 'heritage' ? t('screen.ungraded') : '') }),
        h('th', { scope: 'row' }, h('span', { lang: name.lang, text: name.text }), h('span', { class: 'block hint', text: it.code })),
        h('td', { text: `${label('layer', it.layer)}: ${label('kind', it.kind)}` }),
        h('td', { text: it.ward === null || it.ward === undefined ? '' : digits(it.ward) }),
        h('td', { class: 'num', text: metres(it.distance_m) }),
        h('td', { text: it.condition ? label('condition', it.condition) : '' }),
        h('td', { text: protectionText(it) }),
        h('td', { text: lockText(it) }));
    })));
}
