// As-you-type search (English or Bengali) from /search, as an ARIA combobox: arrow keys
// move through the results, Enter opens one, Escape closes the list. Choosing a result
// flies the map to it and opens its record.
import { h, replace, $, debounce } from './dom.js';
import { t, tn, label, getLang, onLangChange } from './i18n.js';
import { api, errorText } from './api.js';
import * as mapctl from './mapctl.js';
import * as asset from './asset.js';

let ctx;
let results = [];
let active = -1;
let controller = null;
let lastQuery = '';

const input = () => $('#search');
const list = () => $('#search-results');
const status = () => $('#search-status');

export function init(c) {
  ctx = c;
  const q = input();
  const run = debounce(() => query(q.value), 180);
  q.addEventListener('input', () => {
    if (!q.value.trim()) {
      run.cancel();
      closeList();
      results = [];
      return;
    }
    run();
  });
  q.addEventListener('keydown', (e) => {
    if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
      if (list().hidden && results.length) openList();
      if (!results.length) return;
      e.preventDefault();
      const n = results.length;
      setActive(e.key === 'ArrowDown' ? (active + 1) % n : (active - 1 + n) % n);
    } else if (e.key === 'Enter') {
      e.preventDefault();
      if (active >= 0 && results[active]) choose(results[active]);
      else if (results.length && !list().hidden) choose(results[0]);
      else { run.cancel(); query(q.value, true); }
    } else if (e.key === 'Escape') {
      if (!list().hidden) {
        e.preventDefault();
        closeList();
      }
    }
  });
  q.addEventListener('focus', () => { if (results.length && q.value.trim()) openList(); });
  $('#search-form').addEventListener('submit', (e) => e.preventDefault());
  // Close the list when focus or a click goes elsewhere.
  document.addEventListener('pointerdown', (e) => {
    if (!e.target.closest('#search-form')) closeList();
  });
  $('#search-form').addEventListener('focusout', (e) => {
    if (!e.relatedTarget || !e.relatedTarget.closest('#search-form')) closeList();
  });
  // Only a list on screen is redrawn: a language switch must not bring back one that was
  // closed (over the record its choice opened).
  onLangChange(() => { if (results.length && !list().hidden) renderList(); });
}

async function query(text, chooseFirst = false) {
  const q = text.trim();
  if (!q) return;
  if (controller) controller.abort();
  controller = new AbortController();
  const mine = controller;
  lastQuery = q;
  try {
    const fc = await api.search(q, mine.signal, 8);
    if (mine !== controller) return;
    results = fc.features || [];
    active = -1;
    renderList();
    status().textContent = results.length ? tn('search.count', results.length) : t('search.none', { q });
    if (chooseFirst && results.length) choose(results[0]);
  } catch (e) {
    if (e && e.name === 'AbortError') return;
    results = [];
    const text = t('search.error', { error: errorText(e) });
    replace(list(), h('li', { class: 'search-empty', role: 'option', 'aria-disabled': 'true', text }));
    status().textContent = text;
    openList();
  }
}

function renderList() {
  const ul = list();
  // The options are made anew: none is active until the arrows pick one.
  input().removeAttribute('aria-activedescendant');
  active = -1;
  if (!results.length) {
    replace(ul, h('li', { class: 'search-empty', role: 'option', 'aria-disabled': 'true', text: t('search.none', { q: lastQuery }) }));
    openList();
    return;
  }
  const bn = getLang() === 'bn';
  replace(ul, results.map((f, i) => {
    const p = f.properties || {};
    const main = bn && p.name_bn ? p.name_bn : (p.name || p.code);
    const alt = bn ? p.name : p.name_bn;
    return h('li', {
      id: `search-opt-${i}`, role: 'option', class: 'search-option', 'aria-selected': 'false',
      onpointerdown: (e) => e.preventDefault(), // keep focus in the input
      onclick: () => choose(f),
    },
    h('span', { class: 'opt-name', lang: bn && p.name_bn ? 'bn' : 'en', text: main }),
    alt ? h('span', { class: 'opt-alt', lang: bn ? 'en' : 'bn', text: alt }) : null,
    h('span', { class: 'opt-kind', text: [label('kind', p.kind), p.code].filter(Boolean).join(' · ') }));
  }));
  openList();
}

function setActive(i) {
  active = i;
  const opts = list().querySelectorAll('.search-option');
  opts.forEach((o, j) => o.setAttribute('aria-selected', String(j === i)));
  if (opts[i]) {
    input().setAttribute('aria-activedescendant', opts[i].id);
    opts[i].scrollIntoView({ block: 'nearest' });
  }
}

function openList() {
  list().hidden = false;
  input().setAttribute('aria-expanded', 'true');
}

function closeList() {
  list().hidden = true;
  input().setAttribute('aria-expanded', 'false');
  input().removeAttribute('aria-activedescendant');
  active = -1;
}

function choose(f) {
  const p = f.properties || {};
  closeList();
  const id = p.code || p.id;
  if (id !== undefined && id !== null) {
    // The map flies to the hit here; the record need not move it again.
    if (f.geometry) asset.setClickPoint(String(id), { lng: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] });
    ctx.navigate(`#asset/${encodeURIComponent(String(id))}`);
  }
  // After the panel opened, so the map leaves room for it.
  requestAnimationFrame(() => {
    if (f.bbox) mapctl.fitBbox(f.bbox, p.layer === 'wards' ? 15 : 17);
    else if (f.geometry) mapctl.flyTo(f.geometry.coordinates[0], f.geometry.coordinates[1]);
  });
}
