// The monthly ward report (#ward-report?ward=79&month=2026-11; #ward-report?borough=VIII&month=…
// gives one for each ward of the borough): the paper a ward office files. One page per
// ward (`GET /stats/ward-report`): the complaints filed in the month and how they went,
// by category; every complaint of the ward overdue now; the register's health and the
// assets due for inspection; maintenance, water bodies and water area lost. On screen it
// sits in the panel with a Print button; printed (app.css, @media print), only the pages
// are on paper, each ward starting a new sheet.
import { h, replace, $ } from './dom.js';
import { t, tn, fmtNumber, fmtDate, digits, label } from './i18n.js';
import { api } from './api.js';
import { explain } from './errors.js';
import * as services from './services.js';
import { BOROUGHS, pct, hours, monthName, lastMonth, outlineWards, lastHash } from './dashboard.js';
import * as mapctl from './mapctl.js';

let ctx;
let visible = false;
let params = null; // {ward | borough, month}
let state = null; // {params, loading, error, reports: [report], failed: [{ward, error}]}
let seq = 0;

const el = () => $('#view-ward-report');

export const tabOf = 'export';

export function init(c) {
  ctx = c;
}

function parseQuery(query) {
  const u = new URLSearchParams(query || '');
  const ward = /^\d{1,3}$/.test(u.get('ward') || '') ? String(Number(u.get('ward'))) : '';
  const b = (u.get('borough') || '').toUpperCase();
  const month = /^\d{4}-(0[1-9]|1[0-2])$/.test(u.get('month') || '') ? u.get('month') : lastMonth();
  return { ward, borough: !ward && BOROUGHS.includes(b) ? b : '', month };
}

const key = (p) => `${p.ward}|${p.borough}|${p.month}`;

export function show(arg, query) {
  visible = true;
  params = parseQuery(query);
  services.categories().then(() => { if (visible) render(); }).catch(() => {});
  if (state && key(state.params) === key(params) && !state.error) render();
  else load();
  // The ward (or the borough's wards) outlined on the map, beside the report.
  if (params.ward || params.borough) outlineWards(params, () => visible);
}

export function hide() {
  visible = false;
  seq++;
  mapctl.clearHighlight();
}

export function rerender() { render(); }

async function load() {
  const mine = ++seq;
  const p = { ...params };
  state = { params: p, loading: true, reports: [], failed: [] };
  render();
  try {
    let wards;
    if (p.ward) wards = [Number(p.ward)];
    else if (p.borough) {
      const all = await api.statsWards({});
      wards = (all.wards || []).filter((w) => w.borough === p.borough).map((w) => Number(w.ward)).sort((a, b) => a - b);
    } else wards = [];
    if (mine !== seq) return;
    // A few at a time: a borough is about ten wards.
    const reports = new Array(wards.length);
    const failed = [];
    let next = 0;
    const worker = async () => {
      while (next < wards.length) {
        const i = next++;
        try {
          reports[i] = await api.wardReport(wards[i], p.month);
        } catch (e) {
          failed.push({ ward: wards[i], error: e });
        }
      }
    };
    await Promise.all([worker(), worker(), worker(), worker()]);
    if (mine !== seq) return;
    state = { params: p, reports: reports.filter(Boolean), failed };
  } catch (e) {
    if (mine !== seq) return;
    state = { params: p, error: e, reports: [], failed: [] };
  }
  render();
}

function render() {
  if (!visible || !state) return;
  const root = el();
  const p = state.params;
  const what = p.ward ? t('wr.forWard', { n: digits(p.ward) }) : p.borough ? t('wr.forBorough', { b: p.borough }) : '';
  let status = '';
  if (state.loading) status = t('staff.loading');
  else if (state.error) status = t('wr.failed', { error: explain(state.error) });
  else if (!p.ward && !p.borough) status = t('wr.choose');
  else status = tn('wr.pages', state.reports.length, { what, month: monthName(p.month, true) });
  replace(root,
    h('div', { class: 'no-print' },
      h('h2', { id: 'ward-report-title', tabindex: '-1', text: t('wr.title') }),
      h('p', { class: 'intro', text: t('wr.intro') }),
      h('p', { id: 'wr-status', role: 'status', class: state.error ? 'error' : '', text: status }),
      state.failed.map((f) => h('p', { class: 'error', text: t('wr.wardFailed', { n: digits(f.ward), error: explain(f.error) }) })),
      h('div', { class: 'button-row' },
        h('button', { type: 'button', id: 'wr-print', class: 'btn btn-primary', text: t('wr.print'), disabled: !state.reports.length, onclick: () => window.print() }),
        h('button', { type: 'button', id: 'wr-back', class: 'btn btn-secondary', text: t('wr.toDashboard'), onclick: () => ctx.navigate(lastHash() || `#dashboard?${api.qs({ borough: p.borough, ward: p.ward })}`) })),
      h('p', { class: 'hint', text: t('wr.printHint') })),
    h('div', { id: 'wr-pages' }, state.reports.map(page)));
}

const INR = (n) => fmtNumber(n, { style: 'currency', currency: 'INR', maximumFractionDigits: 0 });

function facts(rows, id) {
  return h('dl', { class: 'wr-facts', id }, rows.map(([k, v]) => [h('dt', { text: k }), h('dd', { text: v })]));
}

function page(r) {
  const id = `wr-${r.ward}`;
  const c = r.complaints || {};
  const reg = r.register || {};
  const cond = reg.condition || {};
  const wd = c.within_deadline || {};
  const water = r.water || {};
  const ws = water.status || {};
  const loss = r.water_loss || {};
  const maint = r.maintenance || {};
  const ack = c.acknowledge || {};
  const res = c.resolve || {};
  const overdue = r.overdue || [];
  const due = r.inspections_due || [];
  const cats = r.by_category || [];
  return h('article', { class: 'ward-page', id, 'aria-labelledby': `${id}-title`, dataset: { ward: String(r.ward) } },
    h('header', { class: 'wr-head' },
      h('p', { class: 'wr-org', text: t('wr.org') }),
      h('h3', { id: `${id}-title`, text: t('wr.pageTitle', { n: digits(r.ward), b: r.borough || '–', month: monthName(r.month, true) }) }),
      h('p', { class: 'hint', text: t('wr.period', { from: fmtDate(r.from), to: fmtDate(r.to), asOf: fmtDate(r.as_of) }) })),
    h('section', { 'aria-labelledby': `${id}-c` },
      h('h4', { id: `${id}-c`, text: t('wr.complaints') }),
      facts([
        [t('dash.fig.filed'), fmtNumber(c.filed || 0)],
        [t('wr.openNow'), fmtNumber(c.open || 0)],
        [t('dash.fig.resolved'), fmtNumber(c.resolved || 0)],
        [t('wr.rejected'), fmtNumber(c.rejected || 0)],
        [t('wr.duplicate'), fmtNumber(c.duplicate || 0)],
        [t('dash.fig.overdue'), fmtNumber(c.overdue_now || 0)],
        [t('dash.fig.onTime'), wd.share === null || wd.share === undefined ? '–' : t('wr.onTime', { share: pct(wd.share), n: fmtNumber(wd.on_time || 0), of: fmtNumber(wd.resolved || 0) })],
        [t('wr.ackMedian'), hours(ack.p50_hours)],
        [t('dash.fig.resolveMedian'), hours(res.p50_hours)],
      ], `${id}-figures`),
      cats.length ? h('table', { class: 'diff wr-table' },
        h('caption', { text: t('wr.byCategory') }),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col', text: t('dash.col.category') }),
          h('th', { scope: 'col', class: 'num', text: t('dash.fig.filed') }),
          h('th', { scope: 'col', class: 'num', text: t('wr.openNow') }),
          h('th', { scope: 'col', class: 'num', text: t('dash.fig.resolved') }),
          h('th', { scope: 'col', class: 'num', text: t('dash.fig.overdue') }))),
        h('tbody', null, cats.map((g) => h('tr', null,
          h('th', { scope: 'row', text: g.group === 'none' ? t('dash.none') : services.categoryName(g.group, String(g.group).replace(/_/g, ' ')) }),
          h('td', { class: 'num', text: fmtNumber(g.filed || 0) }),
          h('td', { class: 'num', text: fmtNumber(g.open || 0) }),
          h('td', { class: 'num', text: fmtNumber(g.resolved || 0) }),
          h('td', { class: 'num', text: fmtNumber(g.overdue_now || 0) }))))) : null),
    h('section', { 'aria-labelledby': `${id}-o` },
      h('h4', { id: `${id}-o`, text: tn('wr.overdue', overdue.length) }),
      overdue.length ? h('table', { class: 'diff wr-table wr-overdue' },
        h('caption', { class: 'visually-hidden', text: tn('wr.overdue', overdue.length) }),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col', text: t('wr.col.ticket') }),
          h('th', { scope: 'col', text: t('dash.col.category') }),
          h('th', { scope: 'col', text: t('wr.col.status') }),
          h('th', { scope: 'col', text: t('wr.col.filed') }),
          h('th', { scope: 'col', text: t('wr.col.deadline') }),
          h('th', { scope: 'col', class: 'num', text: t('wr.col.daysOverdue') }))),
        h('tbody', null, overdue.map((o) => h('tr', { dataset: { ticket: o.ticket } },
          h('th', { scope: 'row', class: 'mono', text: o.ticket }),
          h('td', { text: services.categoryName(o.category, String(o.category || '').replace(/_/g, ' ')) }),
          h('td', { text: label('status', o.status) }),
          h('td', { text: fmtDate(o.filed_at, false) }),
          h('td', { text: fmtDate(o.deadline, false) }),
          h('td', { class: 'num', text: fmtNumber(o.days_overdue ?? 0) }))))) : h('p', { text: t('wr.noOverdue') })),
    h('section', { 'aria-labelledby': `${id}-r` },
      h('h4', { id: `${id}-r`, text: t('wr.register') }),
      facts([
        [t('dash.fig.assets'), fmtNumber(reg.assets || 0)],
        [t('wr.condition'), ['good', 'fair', 'poor', 'critical', 'unknown'].map((k) => `${label('condition', k)} ${fmtNumber(cond[k] || 0)}`).join(' · ')],
        [t('dash.fig.poor'), pct(reg.poor_share)],
        [t('wr.assessed'), reg.assessed_12m_share === undefined ? fmtNumber(reg.assessed_12m || 0) : `${fmtNumber(reg.assessed_12m || 0)} (${pct(reg.assessed_12m_share)})`],
      ], `${id}-register`),
      h('h4', { id: `${id}-i`, text: tn('wr.due', due.length) }),
      due.length ? h('table', { class: 'diff wr-table wr-due' },
        h('caption', { class: 'visually-hidden', text: tn('wr.due', due.length) }),
        h('thead', null, h('tr', null,
          h('th', { scope: 'col', text: t('wr.col.asset') }),
          h('th', { scope: 'col', text: t('wr.col.grade') }),
          h('th', { scope: 'col', text: t('wr.condition') }),
          h('th', { scope: 'col', text: t('wr.col.lastInspected') }),
          h('th', { scope: 'col', class: 'num', text: t('wr.col.daysOverdue') }))),
        h('tbody', null, due.map((a) => h('tr', { dataset: { code: a.code } },
          h('th', { scope: 'row' }, h('span', { class: 'mono block', text: a.code }), h('span', { class: 'block', text: a.name || '' })),
          h('td', { text: a.grade ? label('grade', a.grade) : '–' }),
          h('td', { text: label('condition', a.condition) || '–' }),
          h('td', { text: a.last_inspected ? fmtDate(a.last_inspected, false) : t('wr.never') }),
          h('td', { class: 'num', text: a.days_overdue === null || a.days_overdue === undefined ? t('wr.never') : fmtNumber(a.days_overdue) }))))) : h('p', { text: t('wr.noneDue') })),
    h('section', { 'aria-labelledby': `${id}-m` },
      h('h4', { id: `${id}-m`, text: t('wr.works') }),
      facts([
        [t('wr.maintenance'), t('wr.maintenanceText', { works: fmtNumber(maint.works || 0), spend: INR(maint.spend_inr || 0), costed: fmtNumber(maint.costed || 0) })],
        [t('wr.water'), t('wr.waterText', { n: fmtNumber(water.count || 0), area: t('unit.m2', { n: fmtNumber(Math.round(water.area_m2 || 0)) }) })],
        [t('wr.encroached'), t('wr.waterText', { n: fmtNumber((ws.encroached && ws.encroached.count) || 0), area: t('unit.m2', { n: fmtNumber(Math.round((ws.encroached && ws.encroached.area_m2) || 0)) }) })],
        [t('wr.filled'), t('wr.waterText', { n: fmtNumber((ws.filled && ws.filled.count) || 0), area: t('unit.m2', { n: fmtNumber(Math.round((ws.filled && ws.filled.area_m2) || 0)) }) })],
        [t('wr.lost'), t('unit.m2', { n: fmtNumber(Math.round(loss.area_lost_m2 || 0)) })],
      ], `${id}-works`)),
    h('footer', { class: 'wr-sign' },
      h('p', { text: t('wr.preparedBy') }),
      h('p', { text: t('wr.checkedBy') })));
}
