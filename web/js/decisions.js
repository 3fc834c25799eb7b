// The register of decisions (#decisions, #decisions?type=…&offset=…): every decided
// application, newest first (`GET /register/decisions`), as a table — the application
// (a link to its tracker), the premises and the work, and the decision: approved or
// refused (in words), by the Mayor-in-Council or by KMC officials, the resolution's
// number and date, and the letter's verification page (/verify/SHA256). Three columns,
// so it reads in the panel's width without scrolling sideways.
import { h, replace, $ } from './dom.js';
import { t, tn, fmtDate } from './i18n.js';
import { api } from './api.js';
import { explain } from './errors.js';
import * as apps from './apps.js';

const PAGE = 20;

let ctx;
let visible = false;
let params = { type: '', offset: 0 };
let data = null;
let error = null;
let seq = 0;
let focusCount = false;

const el = () => $('#view-decisions');

export const tabOf = 'track';

export function init(c) {
  ctx = c;
}

function parseQuery(query) {
  const u = new URLSearchParams(query || '');
  const offset = Math.max(0, Number.parseInt(u.get('offset') || '0', 10) || 0);
  return { type: (u.get('type') || '').trim(), offset };
}

const hashOf = (p) => {
  const q = api.qs({ type: p.type, offset: p.offset || '' });
  return q ? `#decisions?${q}` : '#decisions';
};

export function show(arg, query) {
  visible = true;
  const p = parseQuery(query);
  const same = data && p.type === params.type && p.offset === params.offset;
  params = p;
  render();
  apps.types().then(() => { if (visible) render(); });
  if (!same) load();
}

export function hide() {
  visible = false;
  seq++;
}

export function rerender() { render(); }

async function load() {
  const mine = ++seq;
  error = null;
  data = null;
  render();
  try {
    const r = await api.decisions({ type: params.type, limit: PAGE, offset: params.offset || '' });
    if (mine !== seq) return;
    data = r;
  } catch (e) {
    if (mine !== seq) return;
    error = e;
  }
  render();
  if (focusCount) {
    focusCount = false;
    $('#dec-count')?.focus();
  }
}

function go(p) {
  focusCount = true;
  ctx.navigate(hashOf(p));
}

function render() {
  if (!visible) return;
  const root = el();
  const active = document.activeElement;
  const focusId = root.contains(active) && active.id ? active.id : null;
  const types = apps.knownTypes();
  const sel = h('select', { id: 'dec-type', name: 'type' },
    h('option', { value: '', text: t('dec.allTypes'), selected: !params.type }),
    types.map((ty) => h('option', { value: ty.code, text: apps.tx(ty.name), selected: params.type === ty.code })));
  sel.addEventListener('change', () => go({ type: sel.value, offset: 0 }));
  const items = data ? (data.items || []) : [];
  const total = data ? (data.numberMatched ?? items.length) : 0;
  let count = '';
  if (error) count = t('dec.failed', { error: explain(error) });
  else if (!data) count = t('staff.loading');
  else if (!total) count = t('dec.none');
  else count = tn('dec.count', total, { from: params.offset + 1, to: params.offset + items.length });
  replace(root,
    h('h2', { id: 'decisions-title', tabindex: '-1', text: t('dec.title') }),
    h('p', { class: 'intro', text: t('dec.intro') }),
    h('div', { class: 'field' }, h('label', { htmlFor: 'dec-type', text: t('dec.type') }), sel),
    h('p', { id: 'dec-count', tabindex: '-1', class: `docs-count${error ? ' error' : ''}`, role: 'status', text: count }),
    items.length ? table(items) : null,
    data && total > PAGE ? h('div', { class: 'button-row docs-pager' },
      params.offset > 0 ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'dec-prev', text: t('docs.prev'), onclick: () => go({ ...params, offset: Math.max(0, params.offset - PAGE) }) }) : null,
      params.offset + items.length < total ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'dec-next', text: t('docs.next'), onclick: () => go({ ...params, offset: params.offset + PAGE }) }) : null) : null);
  if (focusId && document.getElementById(focusId) && document.activeElement !== document.getElementById(focusId)) document.getElementById(focusId).focus({ preventScroll: true });
}

function table(items) {
  return h('table', { class: 'diff decisions', id: 'dec-table' },
    h('caption', { class: 'visually-hidden', text: t('dec.caption') }),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: t('dec.col.application') }),
      h('th', { scope: 'col', text: t('dec.col.premises') }),
      h('th', { scope: 'col', text: t('dec.col.decision') }))),
    h('tbody', null, items.map((d) => {
      const approved = d.decision === 'approved';
      const href = apps.verifyHref(d.letter);
      return h('tr', { dataset: { number: d.number } },
        h('th', { scope: 'row' },
          h('button', {
            type: 'button', class: 'link ticket', text: d.number, 'aria-label': t('dec.trackFor', { number: d.number }),
            onclick: () => ctx.navigate(`#application/${encodeURIComponent(d.number)}`),
          }),
          h('span', { class: 'hint block', text: apps.typeName(d.type) })),
        h('td', null,
          h('span', { class: 'block', text: apps.premises(d.asset) }),
          d.asset && d.asset.grade ? h('span', { class: 'hint block', text: t(`grade.${d.asset.grade}`) }) : null,
          h('span', { class: 'block', text: apps.workOf(d) })),
        h('td', null,
          h('span', { class: `badge appl-state appl-${approved ? 'approved' : 'refused'}`, text: t(approved ? 'appl.outcome.approved' : 'appl.outcome.refused') }),
          h('span', { class: 'block', text: apps.decidedBy(d) }),
          href ? h('a', { href, class: 'block verify-page-link', text: t('dec.verify'), 'aria-label': t('dec.verifyFor', { number: d.number }) }) : null));
    })));
}
