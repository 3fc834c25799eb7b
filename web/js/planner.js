// Planners: filter a layer by kind, grade, condition and ward, see the matches on the
// map, and download them (the whole filtered set, or only what the map shows) as
// GeoJSON, FlatGeobuf or CSV straight from the OGC API items endpoint. A button leads to
// the screening of a proposed work (screening.js).
import { h, replace, $, debounce } from './dom.js';
import { t, tn, label, digits } from './i18n.js';
import { api, errorText } from './api.js';
import * as mapctl from './mapctl.js';

const KINDS = {
  heritage: ['building', 'statue', 'structure', 'monument'],
  water_bodies: ['pond', 'lake', 'tank', 'canal', 'wetland'],
  parks: ['park', 'garden', 'square', 'playground'],
  wards: ['ward'],
};
const GRADES = ['I', 'IIA', 'IIB', 'III'];
const CONDITIONS = ['good', 'fair', 'poor', 'critical', 'unknown'];
const FORMATS = [
  ['geojson', { f: 'json', download: 'true' }],
  ['fgb', { f: 'fgb' }],
  ['csv', { f: 'csv' }],
];
// A ward's outline goes into the filter as WKT; past this many characters the URL would
// get unwieldy, and the ward property alone is used.
const MAX_WKT = 6000;

let visible = false;
let seq = 0;
let controller = null;
let count = null;
let countError = null;
let noWard = null;
const wardCache = new Map();

const form = () => $('#export-form');

export function init(ctx) {
  $('#export-screening').addEventListener('click', () => ctx.navigate('#screening'));
  form().addEventListener('submit', (e) => e.preventDefault());
  form().addEventListener('change', (e) => {
    if (e.target.id === 'export-layer') fillOptions();
    update();
  });
  $('#export-ward').addEventListener('input', debounce(update, 400));
  $('#export-onmap').addEventListener('change', update);
  fillOptions();
}

const onMove = debounce(() => {
  if (visible && scope() === 'view') update();
}, 300);

export function show() {
  visible = true;
  fillOptions();
  mapctl.whenReady((m) => {
    m.off('moveend', onMove);
    m.on('moveend', onMove);
  });
  update();
}

export function hide() {
  visible = false;
  seq++;
  if (mapctl.map) mapctl.map.off('moveend', onMove);
  mapctl.setPlannerFilter(null);
  mapctl.clearHighlight();
}

export function rerender() {
  fillOptions();
  renderCount();
}

function option(value, text, selected) {
  return h('option', { value, text, selected: value === selected });
}

function fillOptions() {
  const layer = $('#export-layer').value;
  const kind = $('#export-kind');
  const grade = $('#export-grade');
  const cond = $('#export-condition');
  const [k, g, c] = [kind.value, grade.value, cond.value];
  replace(kind, option('', t('export.any'), k), KINDS[layer].map((x) => option(x, label('kind', x), k)));
  replace(grade, option('', t('export.any'), g), GRADES.map((x) => option(x, label('grade', x), g)));
  replace(cond, option('', t('export.any'), c), CONDITIONS.map((x) => option(x, label('condition', x), c)));
  $('#export-grade-field').hidden = layer !== 'heritage';
  if (layer !== 'heritage') grade.value = '';
}

const scope = () => (form().querySelector('input[name="scope"]:checked') || {}).value || 'all';

function wktRing(ring) {
  return `(${ring.map((c) => `${Math.round(c[0] * 1e6) / 1e6} ${Math.round(c[1] * 1e6) / 1e6}`).join(',')})`;
}

function toWkt(g) {
  if (g.type === 'Polygon') return `POLYGON(${g.coordinates.map(wktRing).join(',')})`;
  if (g.type === 'MultiPolygon') return `MULTIPOLYGON(${g.coordinates.map((p) => `(${p.map(wktRing).join(',')})`).join(',')})`;
  return null;
}

async function wardGeometry(n) {
  if (wardCache.has(n)) return wardCache.get(n);
  const fc = await api.items('wards', { ward: n, limit: 1 });
  const g = fc.features && fc.features[0] ? fc.features[0].geometry : null;
  wardCache.set(n, g);
  return g;
}

/** The query of the current selection, without f/limit. */
async function selection() {
  const layer = $('#export-layer').value;
  const params = {};
  const kind = $('#export-kind').value;
  const grade = layer === 'heritage' ? $('#export-grade').value : '';
  const condition = $('#export-condition').value;
  if (kind) params.kind = kind;
  if (grade) params.grade = grade;
  if (condition) params.condition = condition;
  if (scope() === 'view' && mapctl.map) params.bbox = mapctl.viewBbox().join(',');
  const wardText = $('#export-ward').value.trim();
  let ward = null;
  let wardGeom = null;
  if (/^\d+$/.test(wardText)) {
    ward = Number(wardText);
    if (layer === 'wards') {
      params.ward = ward;
    } else {
      // Assets may not carry a ward number: take those inside (or touching) the
      // ward's outline as well as those that name it.
      wardGeom = await wardGeometry(ward);
      const wkt = wardGeom ? toWkt(wardGeom) : null;
      if (wkt && wkt.length <= MAX_WKT) params.filter = `ward = ${ward} OR S_INTERSECTS(geometry, ${wkt})`;
      else params.ward = ward;
    }
  }
  return { layer, params, ward, wardGeom, conds: { kind, grade, condition } };
}

async function update() {
  if (!visible) return;
  const mine = ++seq;
  let sel;
  try {
    sel = await selection();
  } catch (e) {
    if (mine !== seq) return;
    countError = e;
    renderCount();
    return;
  }
  if (mine !== seq) return;
  noWard = sel.ward !== null && sel.layer !== 'wards' && !sel.wardGeom ? sel.ward : null;

  for (const [id, extra] of FORMATS) {
    const a = $(`#export-${id}`);
    a.href = `/collections/${encodeURIComponent(sel.layer)}/items?${api.qs({ ...sel.params, ...extra })}`;
  }
  mapctl.setPlannerFilter($('#export-onmap').checked ? sel.layer : null, sel.conds);
  if (sel.wardGeom) mapctl.highlight(sel.wardGeom);
  else mapctl.clearHighlight();

  count = null;
  countError = null;
  renderCount();
  if (controller) controller.abort();
  controller = new AbortController();
  try {
    const fc = await api.items(sel.layer, { ...sel.params, limit: 0 }, controller.signal);
    if (mine !== seq) return;
    count = fc.numberMatched;
  } catch (e) {
    if (e && e.name === 'AbortError') return;
    if (mine !== seq) return;
    countError = e;
  }
  renderCount();
}

function renderCount() {
  const el = $('#export-count');
  const layer = $('#export-layer').value;
  if (countError) {
    el.textContent = t('export.error', { error: errorText(countError) });
  } else if (count === null) {
    el.textContent = t('export.counting');
  } else {
    el.textContent = [noWard !== null ? t('export.noWard', { ward: digits(noWard) }) : null, tn('export.count', count)].filter(Boolean).join(' ');
  }
  for (const [id] of FORMATS) {
    // The name starts with the link's visible text ("CSV (spreadsheet, WKT geometry)"),
    // so voice control users can say what they see (WCAG 2.5.3).
    const vars = { format: t(`export.${id}`), layer: label('layer', layer) };
    $(`#export-${id}`).setAttribute('aria-label', count === null
      ? t('export.linkLabel.other', { ...vars, n: '…' })
      : tn('export.linkLabel', count, vars));
  }
}
