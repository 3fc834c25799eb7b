// The dashboard (#dashboard?borough=&ward=&from=&to=&metric=): the department's figures
// for the city, a borough or a ward over a range of dates — complaints filed, open,
// overdue, resolved and on time (`GET /stats/complaints`), the register's health
// (`GET /stats/register`) — two charts with their tables (bars by borough, by ward of a
// borough or by category of a ward; lines by month), and the wards shaded on the map by
// a figure chosen here (`GET /stats/wards`), with its key. The filters are the URL
// (replaced, not pushed, as they change), so a view can be shared and reloads as it was.
// From here the monthly ward report opens (wardreport.js).
import { h, replace, $, fieldError } from './dom.js';
import { t, tn, fmtNumber, fmtDate, digits, kolkataDate, locale } from './i18n.js';
import { api } from './api.js';
import { explain } from './errors.js';
import * as mapctl from './mapctl.js';
import * as services from './services.js';
import { chart } from './chart.js';

export const BOROUGHS = ['I', 'II', 'III', 'IV', 'V', 'VI', 'VII', 'VIII', 'IX', 'X', 'XI', 'XII', 'XIII', 'XIV', 'XV', 'XVI'];

// The figures a ward can be shaded by (as /stats/wards names them), and how each reads.
export const METRICS = {
  poor_share: { kind: 'share' },
  overdue_complaints: { kind: 'count' },
  inspections_due: { kind: 'count' },
  complaints_per_10000m2_water: { kind: 'rate' },
};
const DEFAULT_METRIC = 'poor_share';

// Five classes, light to dark (ColorBrewer YlOrRd), and grey for a ward without a value
// (no assessed assets; no water).
export const COLOURS = ['#ffffcc', '#fed976', '#fd8d3c', '#e31a1c', '#800026'];
export const NO_VALUE = '#bdbdbd';

/**
 * The step of the classes: the smallest "nice" number (1, 2, 2.5 or 5 × 10^k; for counts
 * 1, 2 or 5 × 10^k, and at least 1) that puts the largest value in the fourth class above
 * zero.
 */
export function niceStep(max, count) {
  const x = max / 4;
  if (!(x > 0)) return 1;
  const e = 10 ** Math.floor(Math.log10(x));
  for (const m of count ? [1, 2, 5, 10] : [1, 2, 2.5, 5, 10]) {
    if (m * e >= x * (1 - 1e-12)) return count ? Math.max(1, m * e) : m * e;
  }
  return 10 * e;
}

/**
 * The class of each value: −1 for none (null), 0 for zero, then k = 1 … 4 for
 * ((k − 1)·step, k·step]. The rule is written again in scripts/browser/dashboard.mjs,
 * which checks the map against /stats/wards with it.
 */
export function classify(values, count) {
  const known = values.filter((v) => v !== null && v !== undefined && Number.isFinite(Number(v))).map(Number);
  const max = known.length ? Math.max(...known) : 0;
  const step = niceStep(max, count);
  const classOf = (v) => {
    if (v === null || v === undefined || !Number.isFinite(Number(v))) return -1;
    if (Number(v) <= 0) return 0;
    return Math.min(4, Math.max(1, Math.ceil(Number(v) / step - 1e-9)));
  };
  return { step, classOf };
}

let ctx;
let visible = false;
let params = { borough: '', ward: '', from: '', to: '', metric: DEFAULT_METRIC };
let loaded = null; // the params the data is for
let data = null; // {complaints, bars, barsBy, register, wards}
let error = null;
let loading = false;
let seq = 0;
let wardShapes = null; // the wards' outlines (fetched once per visit)

const el = () => $('#view-dashboard');

export const tabOf = 'export';

export function init(c) {
  ctx = c;
  const open = $('#export-dashboard');
  if (open) open.addEventListener('click', () => ctx.navigate('#dashboard'));
}

function parseQuery(query) {
  const u = new URLSearchParams(query || '');
  const get = (k) => (u.get(k) || '').trim();
  const borough = BOROUGHS.includes(get('borough').toUpperCase()) ? get('borough').toUpperCase() : '';
  const ward = /^\d{1,3}$/.test(get('ward')) && Number(get('ward')) >= 1 && Number(get('ward')) <= 200 ? String(Number(get('ward'))) : '';
  const date = (k) => (/^\d{4}-\d{2}-\d{2}$/.test(get(k)) ? get(k) : '');
  const metric = METRICS[get('metric')] ? get('metric') : DEFAULT_METRIC;
  return { borough, ward, from: date('from'), to: date('to'), metric };
}

/** The dashboard's URL as it was last shown (its filters and metric), or null if it was not. */
export const lastHash = () => (shown ? hashOf(params) : null);
let shown = false;

export const hashOf = (p) => {
  const q = api.qs({ borough: p.borough, ward: p.ward, from: p.from, to: p.to, metric: p.metric });
  return q ? `#dashboard?${q}` : '#dashboard';
};

const sameData = (a, b) => a && b && ['borough', 'ward', 'from', 'to'].every((k) => a[k] === b[k]);

export function show(arg, query) {
  visible = true;
  shown = true;
  params = parseQuery(query);
  render();
  services.categories().then(() => { if (visible) render(); }).catch(() => {});
  if (!sameData(loaded, params)) load();
  else shade();
}

export function hide() {
  visible = false;
  seq++;
  mapctl.hideChoropleth();
  mapctl.clearHighlight();
}

export function rerender() {
  render();
}

/** The filters changed: the URL follows (replaced: one history entry for the view). */
function update(next) {
  params = { ...params, ...next };
  const hash = hashOf(params);
  if (window.location.hash !== hash) window.history.replaceState(null, '', `${window.location.pathname === '/' ? '' : '/'}${hash}`);
  if (!sameData(loaded, params)) load();
  else {
    render();
    shade();
  }
}

function wardsGeo() {
  if (!wardShapes) {
    wardShapes = api.items('wards', { limit: 200, f: 'json' }).catch((e) => {
      wardShapes = null;
      throw e;
    });
  }
  return wardShapes;
}

async function load() {
  const mine = ++seq;
  const p = { ...params };
  if (p.from && p.to && p.to < p.from) {
    error = null;
    loading = false;
    render();
    return;
  }
  loading = true;
  error = null;
  render();
  const filt = { from: p.from, to: p.to, ward: p.ward, borough: p.borough };
  const barsBy = p.ward ? 'category' : p.borough ? 'ward' : 'borough';
  try {
    const [complaints, bars, register, wards] = await Promise.all([
      api.statsComplaints({ by: 'month', ...filt }),
      api.statsComplaints({ by: barsBy, ...filt }),
      // The register's figures are a state, not a flow: a refusal there leaves the rest.
      api.statsRegister({ by: 'layer', ward: p.ward, borough: p.borough }).catch((e) => ({ error: e })),
      api.statsWards({ from: p.from, to: p.to }),
    ]);
    if (mine !== seq) return;
    data = { complaints, bars, barsBy, register, wards };
    loaded = p;
  } catch (e) {
    if (mine !== seq) return;
    error = e;
  }
  loading = false;
  render();
  shade();
  frame();
}

// ---- the map --------------------------------------------------------------------------------

/** The metric's value of a /stats/wards row. */
const valueOf = (row, metric) => (row ? row[metric] : null);

function classesFor(metric) {
  const rows = data && data.wards ? data.wards.wards || [] : [];
  const { step, classOf } = classify(rows.map((r) => valueOf(r, metric)), METRICS[metric].kind === 'count');
  return { rows, step, classOf };
}

/** Shades the wards by the chosen figure. */
async function shade() {
  if (!visible || !data || !data.wards) return;
  const mine = seq;
  let geo;
  try {
    geo = await wardsGeo();
  } catch (e) {
    return; // the figures and the table still say it all
  }
  if (mine !== seq || !visible || !data) return;
  const { rows, classOf } = classesFor(params.metric);
  const map = new Map(rows.map((r) => [Number(r.ward), classOf(valueOf(r, params.metric))]));
  mapctl.showChoropleth(geo, map, COLOURS, NO_VALUE);
}

/** The wards the filter names, outlined, and the map fitted to them. */
function frame() {
  if (!visible) return;
  if (!params.borough && !params.ward) {
    mapctl.clearHighlight();
    return;
  }
  outlineWards({ ward: params.ward, borough: params.borough }, () => visible);
}

/**
 * Outlines a ward (or a borough's wards) on the map and fits the map to them, once their
 * outlines are here and if `still()` (the view is still open).
 */
export async function outlineWards({ ward, borough }, still) {
  let geo;
  try { geo = await wardsGeo(); } catch { return; }
  if (!still()) return;
  const features = geo.features.filter((f) => {
    const p = f.properties || {};
    return ward ? String(p.ward) === String(ward) : p.borough === borough;
  });
  if (!features.length) return;
  mapctl.highlight({ type: 'FeatureCollection', features });
  const boxes = features.map((f) => mapctl.geometryBbox(f.geometry)).filter(Boolean);
  if (boxes.length) mapctl.fitBbox(boxes.reduce((a, b) => [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[2], b[2]), Math.max(a[3], b[3])]), 15);
}

// ---- words for numbers ----------------------------------------------------------------------------

export const pct = (share) => (share === null || share === undefined ? '–' : fmtNumber(share, { style: 'percent', maximumFractionDigits: 1 }));
/** A duration in hours for people: "5.5 h" up to two days, then "15.4 days". */
export function hours(hrs) {
  if (hrs === null || hrs === undefined) return '–';
  if (hrs < 48) return t('dash.hours', { n: fmtNumber(hrs, { maximumFractionDigits: 1 }) });
  return t('dash.days', { n: fmtNumber(hrs / 24, { maximumFractionDigits: 1 }) });
}

export function metricValue(metric, v) {
  if (v === null || v === undefined) return t('dash.noValue');
  const kind = METRICS[metric].kind;
  if (kind === 'share') return pct(v);
  if (kind === 'count') return fmtNumber(v);
  return fmtNumber(v, { maximumFractionDigits: 2 });
}

/** The words of class k for the metric, given the step. */
function classLabel(metric, k, step) {
  const kind = METRICS[metric].kind;
  if (k < 0) return t(`dash.metric.${metric}.none`);
  if (k === 0) return kind === 'share' ? pct(0) : fmtNumber(0);
  const lo = (k - 1) * step;
  const hi = k * step;
  if (kind === 'count') return lo + 1 === hi ? fmtNumber(hi) : t('dash.rangeInt', { from: fmtNumber(lo + 1), to: fmtNumber(hi) });
  const f = kind === 'share' ? pct : (v) => fmtNumber(v, { maximumFractionDigits: 2 });
  return t('dash.range', { from: f(lo), to: f(hi) });
}

/** "Nov 2026" for "2026-11". */
export function monthName(ym, long = false) {
  const m = /^(\d{4})-(\d{2})$/.exec(ym || '');
  if (!m) return ym || '';
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 15));
  try {
    return new Intl.DateTimeFormat(locale(), { month: long ? 'long' : 'short', year: 'numeric', timeZone: 'UTC' }).format(d);
  } catch { return ym; }
}

/** The months from `a` to `b` (YYYY-MM), both included. */
function monthsBetween(a, b) {
  const out = [];
  let [y, m] = a.split('-').map(Number);
  const [y2, m2] = b.split('-').map(Number);
  while ((y < y2 || (y === y2 && m <= m2)) && out.length < 240) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    m++;
    if (m > 12) { m = 1; y++; }
  }
  return out;
}

/** Last month in Kolkata, YYYY-MM: the month a ward office reports on. */
export function lastMonth() {
  const [y, m] = kolkataDate().split('-').map(Number);
  return m === 1 ? `${y - 1}-12` : `${y}-${String(m - 1).padStart(2, '0')}`;
}

// ---- drawing -----------------------------------------------------------------------------------

function render() {
  if (!visible) return;
  const root = el();
  const active = document.activeElement;
  const focusId = root.contains(active) && active.id ? active.id : null;
  const badRange = params.from && params.to && params.to < params.from;
  let status = '';
  if (error) status = t('dash.failed', { error: explain(error) });
  else if (loading) status = t('staff.loading');
  else if (data) status = t('dash.asOf', { when: fmtDate(data.complaints.as_of) });
  replace(root,
    h('h2', { id: 'dashboard-title', tabindex: '-1', text: t('dash.title') }),
    h('p', { class: 'intro', text: t('dash.intro') }),
    filters(),
    h('p', { id: 'dash-status', class: `docs-count${error ? ' error' : ''}`, role: 'status', text: badRange ? '' : status }),
    data && !badRange ? [headline(), choropleth(), charts(), reportForm()] : reportForm());
  const to = $('#dash-to');
  fieldError(to, badRange ? t('dash.toBeforeFrom') : null);
  if (focusId && document.getElementById(focusId) && document.activeElement !== document.getElementById(focusId)) {
    document.getElementById(focusId).focus({ preventScroll: true });
  }
}

function filters() {
  const borough = h('select', { id: 'dash-borough', name: 'borough' },
    h('option', { value: '', text: t('dash.allBoroughs'), selected: !params.borough }),
    BOROUGHS.map((b) => h('option', { value: b, text: t('dash.boroughN', { b }), selected: params.borough === b })));
  borough.addEventListener('change', () => update({ borough: borough.value, ward: '' }));
  const ward = h('input', { type: 'number', id: 'dash-ward', name: 'ward', min: '1', max: '200', step: '1', inputMode: 'numeric', value: params.ward });
  ward.addEventListener('change', () => {
    const v = ward.value.trim();
    const ok = v === '' || (/^\d{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 200);
    fieldError(ward, ok ? null : t('dash.badWard'));
    if (ok) update({ ward: v ? String(Number(v)) : '', borough: v ? '' : params.borough });
  });
  const today = kolkataDate();
  const date = (id, key) => {
    const c = h('input', { type: 'date', id, name: key, value: params[key], max: today });
    c.addEventListener('change', () => update({ [key]: /^\d{4}-\d{2}-\d{2}$/.test(c.value) ? c.value : '' }));
    return c;
  };
  const any = params.borough || params.ward || params.from || params.to;
  return h('form', { id: 'dash-filters', class: 'grid2', novalidate: true, onsubmit: (e) => e.preventDefault() },
    h('div', { class: 'field' }, h('label', { htmlFor: 'dash-borough', text: t('dash.borough') }), borough),
    h('div', { class: 'field' }, h('label', { htmlFor: 'dash-ward', text: t('dash.ward') }), ward),
    h('div', { class: 'field' }, h('label', { htmlFor: 'dash-from', text: t('dash.from') }), date('dash-from', 'from')),
    h('div', { class: 'field' }, h('label', { htmlFor: 'dash-to', text: t('dash.to') }), date('dash-to', 'to')),
    any ? h('button', { type: 'button', id: 'dash-clear', class: 'btn btn-secondary', text: t('dash.clear'), onclick: () => {
      update({ borough: '', ward: '', from: '', to: '' });
      $('#dash-borough')?.focus(); // the button is gone with the filters
    } }) : null);
}

/** Where the figures are for, in words: "Ward 79", "Borough VIII", "All of Kolkata". */
function scopeText(p = loaded || params) {
  const where = p.ward ? t('dash.wardN', { n: digits(p.ward) }) : p.borough ? t('dash.boroughN', { b: p.borough }) : t('dash.city');
  if (p.from && p.to) return t('dash.scopeRange', { where, from: fmtDate(p.from), to: fmtDate(p.to) });
  if (p.from) return t('dash.scopeFrom', { where, from: fmtDate(p.from) });
  if (p.to) return t('dash.scopeTo', { where, to: fmtDate(p.to) });
  return t('dash.scopeAll', { where });
}

function figure(key, labelText, value, text) {
  return h('div', { class: 'figure', dataset: { figure: key, value: value === null || value === undefined ? '' : String(value) } },
    h('dt', { text: labelText }), h('dd', { text }));
}

function registerTotals() {
  const groups = (data.register && data.register.groups) || [];
  const sum = { assets: 0, good: 0, fair: 0, poor: 0, critical: 0, unknown: 0, inspections_due: 0 };
  for (const g of groups) {
    sum.assets += g.assets || 0;
    sum.inspections_due += g.inspections_due || 0;
    for (const c of ['good', 'fair', 'poor', 'critical', 'unknown']) sum[c] += (g.condition && g.condition[c]) || 0;
  }
  const known = sum.good + sum.fair + sum.poor + sum.critical;
  sum.poor_share = known ? (sum.poor + sum.critical) / known : null;
  return sum;
}

function headline() {
  const c = data.complaints.total || {};
  const r = data.register && !data.register.error ? registerTotals() : null;
  const wd = c.within_deadline || {};
  return h('section', { class: 'dash-section', 'aria-labelledby': 'dash-figures-title' },
    h('h3', { id: 'dash-figures-title', text: t('dash.figures') }),
    h('p', { class: 'hint', id: 'dash-scope', text: scopeText() }),
    h('dl', { class: 'figures', id: 'dash-figures' },
      figure('filed', t('dash.fig.filed'), c.filed, fmtNumber(c.filed || 0)),
      figure('open', t('dash.fig.open'), c.open, fmtNumber(c.open || 0)),
      figure('overdue_now', t('dash.fig.overdue'), c.overdue_now, fmtNumber(c.overdue_now || 0)),
      figure('resolved', t('dash.fig.resolved'), c.resolved, fmtNumber(c.resolved || 0)),
      figure('within_deadline', t('dash.fig.onTime'), wd.share, pct(wd.share)),
      figure('resolve_p50', t('dash.fig.resolveMedian'), c.resolve ? c.resolve.p50_hours : null, hours(c.resolve ? c.resolve.p50_hours : null))),
    h('h4', { text: t('dash.registerNow') }),
    r ? h('dl', { class: 'figures', id: 'dash-register' },
      figure('assets', t('dash.fig.assets'), r.assets, fmtNumber(r.assets)),
      figure('poor_share', t('dash.fig.poor'), r.poor_share, pct(r.poor_share)),
      figure('inspections_due', t('dash.fig.inspections'), r.inspections_due, fmtNumber(r.inspections_due)))
      : h('p', { class: 'hint error', id: 'dash-register', text: t('dash.registerFailed', { error: explain(data.register.error) }) }));
}

function choropleth() {
  const metric = params.metric;
  const order = (data.wards && Array.isArray(data.wards.metrics) ? data.wards.metrics.filter((m) => METRICS[m]) : []);
  const metrics = order.length ? order : Object.keys(METRICS);
  const sel = h('select', { id: 'dash-metric', name: 'metric', 'aria-describedby': 'dash-metric-hint' },
    metrics.map((m) => h('option', { value: m, text: t(`dash.metric.${m}`), selected: m === metric })));
  sel.addEventListener('change', () => update({ metric: sel.value }));
  const { rows, step, classOf } = classesFor(metric);
  const counts = new Map();
  for (const r of rows) {
    const k = classOf(valueOf(r, metric));
    counts.set(k, (counts.get(k) || 0) + 1);
  }
  const legend = h('ul', { class: 'choro-legend', id: 'dash-legend', 'aria-label': t('dash.legendLabel', { metric: t(`dash.metric.${metric}`) }) },
    [0, 1, 2, 3, 4, -1].filter((k) => k >= 0 || counts.get(-1)).map((k) => h('li', { dataset: { class: String(k), colour: k < 0 ? NO_VALUE : COLOURS[k] } },
      h('span', { class: 'swatch', style: `background:${k < 0 ? NO_VALUE : COLOURS[k]}` }),
      h('span', { text: classLabel(metric, k, step) }),
      h('span', { class: 'hint', text: ` (${tn('dash.wardCount', counts.get(k) || 0)})` }))));
  const sorted = [...rows].sort((a, b) => Number(a.ward) - Number(b.ward));
  const table = h('table', { class: 'diff chart-table', id: 'dash-wards-table' },
    h('caption', { text: t('dash.wardsCaption', { metric: t(`dash.metric.${metric}`) }) }),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: t('dash.col.ward') }),
      h('th', { scope: 'col', text: t('dash.col.borough') }),
      h('th', { scope: 'col', class: 'num', text: t(`dash.metric.${metric}`) }))),
    h('tbody', null, sorted.map((r) => h('tr', { dataset: { ward: String(r.ward), class: String(classOf(valueOf(r, metric))) } },
      h('th', { scope: 'row', text: digits(r.ward) }),
      h('td', { text: r.borough || '' }),
      h('td', { class: 'num', text: metricValue(metric, valueOf(r, metric)) })))));
  return h('section', { class: 'dash-section', 'aria-labelledby': 'dash-map-title' },
    h('h3', { id: 'dash-map-title', text: t('dash.mapTitle') }),
    h('div', { class: 'field' }, h('label', { htmlFor: 'dash-metric', text: t('dash.metric') }), sel,
      h('p', { class: 'hint', id: 'dash-metric-hint', text: t(`dash.metric.${metric}.hint`) })),
    legend,
    h('details', { class: 'chart-data' }, h('summary', { text: t('dash.wardsAsTable') }), h('div', { class: 'table-scroll' }, table)));
}

function charts() {
  const groups = (data.bars.groups || []).filter((g) => g.group !== 'none' || g.filed);
  const by = data.barsBy;
  const name = (g) => {
    if (g === 'none') return t('dash.none');
    if (by === 'ward') return digits(g);
    if (by === 'borough') return g;
    return services.categoryName(g, String(g).replace(/_/g, ' '));
  };
  const bars = chart({
    kind: 'bars',
    id: 'dash-bars',
    caption: t(`dash.bars.${by}`, { where: scopeText() }),
    xLabel: t(`dash.col.${by}`),
    labels: groups.map((g) => name(g.group)),
    series: [
      { label: t('dash.fig.filed'), values: groups.map((g) => g.filed) },
      { label: t('dash.fig.overdue'), values: groups.map((g) => g.overdue_now) },
    ],
  });
  const months = (data.complaints.groups || []).filter((g) => /^\d{4}-\d{2}$/.test(g.group));
  const byMonth = new Map(months.map((g) => [g.group, g]));
  const first = (loaded && loaded.from ? loaded.from.slice(0, 7) : null) || (months[0] && months[0].group);
  const last = (loaded && loaded.to ? loaded.to.slice(0, 7) : null) || (months.length ? months[months.length - 1].group : null);
  const span = first && last && first <= last ? monthsBetween(first, last) : [];
  const lines = chart({
    kind: 'lines',
    id: 'dash-lines',
    caption: t('dash.lines', { where: scopeText() }),
    xLabel: t('dash.col.month'),
    labels: span.map((m) => monthName(m)),
    series: [
      { label: t('dash.fig.filed'), values: span.map((m) => (byMonth.get(m) ? byMonth.get(m).filed : 0)) },
      { label: t('dash.fig.resolved'), values: span.map((m) => (byMonth.get(m) ? byMonth.get(m).resolved : 0)) },
    ],
  });
  return h('section', { class: 'dash-section', 'aria-labelledby': 'dash-charts-title' },
    h('h3', { id: 'dash-charts-title', text: t('dash.charts') }), bars, lines);
}

function reportForm() {
  const month = h('input', { type: 'month', id: 'dash-report-month', name: 'month', value: lastMonth(), max: kolkataDate().slice(0, 7), 'aria-describedby': 'dash-report-month-hint' });
  const ward = h('input', { type: 'number', id: 'dash-report-ward', name: 'ward', min: '1', max: '200', step: '1', inputMode: 'numeric', value: params.ward });
  const monthOf = () => (/^\d{4}-\d{2}$/.test(month.value) ? month.value : null);
  const go = (q) => {
    const m = monthOf();
    fieldError(month, m ? null : t('dash.badMonth'));
    if (!m) { month.focus(); return; }
    ctx.navigate(`#ward-report?${api.qs({ ...q, month: m })}`);
  };
  return h('section', { class: 'dash-section', 'aria-labelledby': 'dash-report-title' },
    h('h3', { id: 'dash-report-title', text: t('dash.report') }),
    h('p', { class: 'hint', text: t('dash.reportIntro') }),
    h('form', { id: 'dash-report', class: 'grid2', novalidate: true, onsubmit: (e) => {
      e.preventDefault();
      const v = ward.value.trim();
      const ok = /^\d{1,3}$/.test(v) && Number(v) >= 1 && Number(v) <= 200;
      fieldError(ward, ok ? null : t('dash.badWard'));
      if (!ok) { ward.focus(); return; }
      go({ ward: String(Number(v)) });
    } },
    h('div', { class: 'field' }, h('label', { htmlFor: 'dash-report-month', text: t('dash.reportMonth') }), month,
      h('p', { class: 'hint', id: 'dash-report-month-hint', text: t('dash.reportMonthHint') })),
    h('div', { class: 'field' }, h('label', { htmlFor: 'dash-report-ward', text: t('dash.ward') }), ward),
    h('div', { class: 'button-row' },
      h('button', { type: 'submit', id: 'dash-report-open', class: 'btn btn-primary', text: t('dash.reportOpen') }),
      params.borough ? h('button', { type: 'button', id: 'dash-report-borough', class: 'btn btn-secondary', text: t('dash.reportBorough', { b: params.borough }), onclick: () => go({ borough: params.borough }) }) : null)));
}
