// The Documents view: the department's notices, orders, NOCs, minutes and reports,
// searched by the words read from them (Bengali and English: words, "a phrase", prefix*,
// -exclude) and filtered by their record: type, status, language, date issued, asset,
// ward. The search is the URL (#documents?q=…&type=…&offset=…), so it can be shared and
// Back returns to it; paging follows the server's next/prev links. A result opens the
// document (#documents/SHA256, docview.js).
import { h, replace, $, fieldError } from './dom.js';
import { t, tn, label, fmtDate, fmtNumber } from './i18n.js';
import { api, ApiError } from './api.js';
import { explain } from './errors.js';
import * as docview from './docview.js';
import { TYPES, STATUSES, LANGUAGES, statusBadge, statusNotice, markedSnippet } from './docview.js';

const FILTERS = ['type', 'status', 'language', 'from', 'to', 'asset', 'ward'];
const KEYS = ['q', ...FILTERS, 'offset'];
const PAGE = 20;

let ctx;
let seq = 0;
let state = null; // {params, loading, error, data}
let lastSearch = '#documents'; // the URL of the last search, for a document's "back"
let focusCount = false; // after a search the reader asked for, focus goes to its count

const el = () => $('#view-documents');

export function init(c) {
  ctx = c;
  docview.init(c);
}

/** The search's parameters from the URL's query: only the keys the server knows. */
function parseQuery(query) {
  const u = new URLSearchParams(query || '');
  const p = {};
  for (const k of KEYS) {
    const v = (u.get(k) || '').trim();
    if (v) p[k] = v;
  }
  return p;
}

const same = (a, b) => KEYS.every((k) => (a[k] || '') === (b[k] || ''));
const hashOf = (params) => {
  const q = api.qs(params);
  return q ? `#documents?${q}` : '#documents';
};

export function show(arg, query) {
  if (arg) {
    seq++;
    docview.show(arg, lastSearch);
    return;
  }
  docview.hide();
  const params = parseQuery(query);
  lastSearch = hashOf(params);
  if (state && state.data && same(state.params, params)) {
    render();
    return;
  }
  search(params);
}

/** Whether the view shows its search (not one document): its tab then closes it. */
export const atStart = () => !docview.isOpen();

export function hide() {
  seq++;
  docview.hide();
}

export function rerender() {
  if (docview.isOpen()) docview.rerender();
  else render();
}

async function search(params) {
  const mine = ++seq;
  state = { params, loading: true, data: state && state.data ? state.data : null };
  render();
  try {
    const data = await api.documents({ ...params, limit: PAGE });
    if (mine !== seq) return;
    state = { params, data };
  } catch (e) {
    if (mine !== seq) return;
    state = { params, error: e };
  }
  render();
  if (focusCount) {
    focusCount = false;
    const target = state.error ? document.getElementById('docs-error') : document.getElementById('docs-count');
    target?.focus();
  }
}

/** The form's values as search parameters (a new search starts at the first page). */
function readForm() {
  const p = {};
  for (const k of ['q', ...FILTERS]) {
    const c = document.getElementById(`docs-${k}`);
    const v = c ? c.value.trim() : '';
    if (v) p[k] = v;
  }
  return p;
}

/** Redraws, keeping what was typed and the focus (a language switch, a new answer). */
function render() {
  const root = el();
  const active = document.activeElement;
  const focusId = root.contains(active) && active.id ? active.id : null;
  const hadFocus = root.contains(active);
  const values = {};
  for (const c of root.querySelectorAll('#docs-form input, #docs-form select')) values[c.id] = c.value;
  // The form shows the URL's search when it is a new one; otherwise (its answer arriving, a
  // language switch) what has been typed meanwhile stays.
  const drawn = state ? hashOf(state.params) : '';
  const keepTyped = root.dataset.search === drawn;
  draw(root);
  root.dataset.search = drawn;
  if (keepTyped) {
    for (const [id, v] of Object.entries(values)) {
      const c = document.getElementById(id);
      if (c) c.value = v;
    }
  }
  // A refused parameter is marked at its control ("from: must be a date …").
  if (state && state.error instanceof ApiError && state.error.status === 400) {
    const m = /^(\w+): /.exec(state.error.description || '');
    const c = m ? document.getElementById(`docs-${m[1]}`) : null;
    if (c) {
      const err = Object.assign(Object.create(ApiError.prototype), state.error, { field: m[1] });
      fieldError(c, explain(err));
    }
  }
  if (hadFocus) (focusId && document.getElementById(focusId) || root.querySelector('h2'))?.focus({ preventScroll: true });
}

function draw(root) {
  const p = (state && state.params) || {};
  const q = h('input', {
    type: 'search', id: 'docs-q', name: 'q', value: p.q || '', autocomplete: 'off', spellcheck: false,
    'aria-describedby': 'docs-q-hint',
  });
  const select = (k, values, labelOf) => h('select', { id: `docs-${k}`, name: k },
    h('option', { value: '', text: t('docs.any') }),
    values.map((v) => h('option', { value: v, text: labelOf(v), selected: p[k] === v })));
  const field = (k, text, control) => h('div', { class: 'field' }, h('label', { htmlFor: `docs-${k}`, text }), control);
  const filtered = FILTERS.some((k) => p[k]);
  const form = h('form', { id: 'docs-form', role: 'search', novalidate: true },
    h('div', { class: 'field' },
      h('label', { htmlFor: 'docs-q', text: t('docs.words') }),
      h('p', { class: 'hint', id: 'docs-q-hint', text: t('docs.wordsHint') }),
      h('div', { class: 'input-with-button' }, q,
        h('button', { type: 'submit', class: 'btn btn-primary', id: 'docs-search', text: t('docs.search') }))),
    h('details', { class: 'filters', id: 'docs-filters', open: filtered },
      h('summary', { text: filtered ? t('docs.filtersOn') : t('docs.filters') }),
      h('div', { class: 'grid2' },
        field('type', t('doc.type'), select('type', TYPES, (v) => label('docType', v))),
        field('status', t('doc.status'), select('status', STATUSES, (v) => label('docStatus', v))),
        field('language', t('doc.language'), select('language', LANGUAGES, (v) => label('docLang', v))),
        field('ward', t('doc.ward'), h('input', { type: 'number', id: 'docs-ward', name: 'ward', min: 1, step: 1, inputMode: 'numeric', value: p.ward || '' })),
        field('from', t('docs.from'), h('input', { type: 'date', id: 'docs-from', name: 'from', value: p.from || '' })),
        field('to', t('docs.to'), h('input', { type: 'date', id: 'docs-to', name: 'to', value: p.to || '' })),
        field('asset', t('docs.asset'), h('input', { type: 'text', id: 'docs-asset', name: 'asset', value: p.asset || '', autocomplete: 'off', spellcheck: false, placeholder: 'HER-0001' }))),
      h('button', {
        type: 'button', class: 'btn btn-secondary', id: 'docs-clear', text: t('docs.clear'),
        onclick: () => {
          focusCount = true;
          ctx.navigate(hashOf(p.q ? { q: p.q } : {}));
        },
      })));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    for (const c of form.querySelectorAll('input, select')) fieldError(c, null);
    focusCount = true;
    ctx.navigate(hashOf(readForm()));
  });

  replace(root,
    h('h2', { id: 'documents-title', tabindex: '-1', text: t('docs.title') }),
    h('p', { class: 'intro', text: t('docs.intro') }),
    form,
    results());
}

function results() {
  if (!state) return null;
  if (state.error) {
    return h('p', { id: 'docs-error', class: 'form-status error', role: 'alert', tabindex: '-1', text: explain(state.error) });
  }
  const count = h('p', { id: 'docs-count', role: 'status', tabindex: '-1', class: 'docs-count' });
  if (state.loading && !state.data) {
    count.textContent = t('docs.searching');
    return count;
  }
  const d = state.data;
  const offset = Number(state.params.offset || 0);
  const n = d.numberReturned ?? (d.documents || []).length;
  if (state.loading) count.textContent = t('docs.searching');
  else if (!d.numberMatched) count.textContent = t('docs.none');
  else if (n < d.numberMatched) count.textContent = tn('docs.countPage', d.numberMatched, { from: fmtNumber(offset + 1), to: fmtNumber(offset + n) });
  else count.textContent = tn('docs.count', d.numberMatched);
  return h('div', { id: 'docs-results', 'aria-busy': state.loading ? 'true' : 'false' },
    count,
    h('ol', { class: 'cards doc-results' }, (d.documents || []).map(hit)),
    pager(d));
}

function hit(d) {
  const sha = String(d.sha256);
  const facts = [d.reference, d.issuer, d.issued_on ? t('docs.issued', { date: fmtDate(d.issued_on, false) }) : null].filter(Boolean);
  return h('li', { class: 'card doc-hit' },
    h('h3', { class: 'card-title doc-hit-title' }, h('a', {
      href: `#documents/${sha}`, lang: d.language === 'bn' ? 'bn' : null, text: d.title,
    })),
    h('p', { class: 'badges' },
      h('span', { class: 'badge doc-type', text: label('docType', d.type) }),
      statusBadge(d.status),
      d.public === false ? h('span', { class: 'badge internal', text: t('doc.private') }) : null),
    facts.length ? h('p', { class: 'doc-facts', text: facts.join(' · ') }) : null,
    statusNotice(d),
    markedSnippet(d.snippet_html, d.snippet),
    (d.assets || []).length ? h('p', { class: 'doc-hit-assets' }, t('docs.assets'), ' ',
      d.assets.map((a, i) => [i ? ', ' : null, h('a', { href: `#asset/${encodeURIComponent(a.code)}`, text: `${a.name || a.code} (${a.code})` })])) : null);
}

/** Previous and next pages, from the server's links (their offset; the rest is the URL's). */
function pager(d) {
  const page = (rel) => {
    const l = (d.links || []).find((x) => x.rel === rel);
    if (!l) return null;
    let offset;
    try { offset = new URL(l.href, window.location.href).searchParams.get('offset'); } catch { return null; }
    const params = { ...state.params, offset: Number(offset) > 0 ? offset : undefined };
    return h('a', {
      class: 'btn btn-secondary', id: `docs-${rel}`, rel, href: hashOf(params), text: t(`docs.${rel}`),
      onclick: () => { focusCount = true; },
    });
  };
  const prev = page('prev');
  const next = page('next');
  if (!prev && !next) return null;
  return h('nav', { class: 'button-row docs-pager', 'aria-label': t('docs.pages') }, prev, next);
}
