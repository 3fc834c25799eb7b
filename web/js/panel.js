// The one panel: a left-hand card on wide screens, a bottom sheet at phone widths. It
// shows one view at a time (asset, report, track, near, export, documents, staff, and
// those opened from them); the tabs open them through the URL so every view can be
// linked to and reloaded. Its ← ↕ ✕ buttons sit in a bar of their own above the
// scrolling view, so they never cover a heading or a control; Escape closes the panel
// as ✕ does.
import { $, $$ } from './dom.js';
import { t, onLangChange } from './i18n.js';
import * as mapctl from './mapctl.js';

let ctx;
let views;
let current = null;
let previous = null;
let firstRoute = true;

const body = () => $('#panel-body');
const tools = () => $('#panel-tools');
const isSheet = () => window.matchMedia('(max-width: 700px)').matches;

export function init(c, v) {
  ctx = c;
  views = v;
  for (const tab of $$('#tabs .tab')) {
    tab.addEventListener('click', () => {
      const id = tab.dataset.view;
      // A view's tab closes it, unless the view is deeper than its start (one document of
      // the Documents view): then the tab goes back to that start.
      if (current === id && !(views[id].atStart && !views[id].atStart())) close();
      else ctx.navigate(`#${id}`);
    });
  }
  $('#panel-close').addEventListener('click', () => close());
  $('#panel-back').addEventListener('click', () => window.history.back());
  const size = $('#panel-size');
  size.addEventListener('click', () => {
    const expanded = $('#panel').classList.toggle('expanded');
    size.setAttribute('aria-expanded', String(expanded));
    size.setAttribute('aria-label', t(expanded ? 'panel.collapse' : 'panel.expand'));
    size.dataset.i18nAriaLabel = expanded ? 'panel.collapse' : 'panel.expand';
  });
  onLangChange(() => { if (current && views[current].rerender) views[current].rerender(); });

  // Escape closes the panel, unless something inside it used the key first (the search
  // list, a confirmation) or a native control is taking it (an open <select>).
  document.addEventListener('keydown', (e) => {
    if (e.key !== 'Escape' || e.defaultPrevented || !current || e.isComposing) return;
    const el = e.target;
    if (el && el.closest && el.closest('#search-form')) return;
    e.preventDefault();
    close();
  });

  // Bottom controls of the map sit above the sheet.
  const panelEl = $('#panel');
  const sync = () => {
    const h = isSheet() ? Math.ceil(panelEl.getBoundingClientRect().height) : 0;
    document.documentElement.style.setProperty('--sheet-h', `${h}px`);
  };
  if (window.ResizeObserver) new ResizeObserver(sync).observe(panelEl);
  window.addEventListener('resize', sync);
  sync();

  // Focus scrolled into view must stay clear of the view's sticky bottom bar.
  if (window.ResizeObserver) {
    const ro = new ResizeObserver(syncSticky);
    for (const bar of $$('#panel-body .sticky-bottom')) ro.observe(bar);
  }
}

/** The height of the open view's sticky bottom bar, for #panel-body's scroll-padding. */
export function stickyHeight() {
  const bar = current ? $(`#view-${current} .sticky-bottom`) : null;
  if (!bar || bar.closest('[hidden]') || getComputedStyle(bar).position !== 'sticky') return 0;
  return Math.ceil(bar.getBoundingClientRect().height);
}

function syncSticky() {
  body().style.setProperty('--sticky-h', `${stickyHeight()}px`);
}

/**
 * Scrolls the panel so `el` is in sight: below the top of the view and above its sticky
 * bottom bar (the consequence of a tap on the map, an error summary, a status line).
 */
export function reveal(el) {
  if (!el || !body().contains(el)) return;
  const scroller = body();
  const sr = scroller.getBoundingClientRect();
  const bar = current ? $(`#view-${current} .sticky-bottom`) : null;
  const bottom = bar && !bar.contains(el) && stickyHeight() ? Math.min(sr.bottom, bar.getBoundingClientRect().top) : sr.bottom;
  const top = sr.top;
  const r = el.getBoundingClientRect();
  const margin = 8;
  if (r.top < top + margin) scroller.scrollTop -= top + margin - r.top;
  else if (r.bottom > bottom - margin) scroller.scrollTop += Math.min(r.bottom - (bottom - margin), r.top - (top + margin));
}

export const currentView = () => current;

/** The tab a view belongs to: its own, or (proposals, adding an asset) the one it opens from. */
const tabOf = (id) => (views[id] && views[id].tabOf) || id;

/** Opens view `id` with its argument (an asset code, a ticket, …) and query ('q=pond&type=noc'). */
export function show(id, arg, query = '') {
  const view = views[id];
  if (!view) return;
  if (current && current !== id) {
    previous = current;
    views[current].hide?.();
  } else if (!current) {
    previous = null;
  }
  for (const sec of $$('#panel-body > .view')) sec.hidden = sec.id !== `view-${id}`;
  body().hidden = false;
  tools().hidden = false;
  const panelEl = $('#panel');
  panelEl.classList.add('open');
  for (const c of [...panelEl.classList]) if (c.startsWith('view-')) panelEl.classList.remove(c);
  panelEl.classList.add(`view-${id}`);
  for (const tab of $$('#tabs .tab')) tab.setAttribute('aria-pressed', String(tab.dataset.view === tabOf(id)));
  $('#panel-back').hidden = !(previous && previous !== id && ['asset', 'track', 'verify', 'application'].includes(id));
  current = id;
  view.show(arg, query);
  syncSticky();
  if (!firstRoute) focusHeading(id);
  firstRoute = false;
}

function focusHeading(id) {
  const sec = $(`#view-${id}`);
  const heading = sec && sec.querySelector('h2');
  if (heading) {
    if (!heading.hasAttribute('tabindex')) heading.setAttribute('tabindex', '-1');
    heading.focus({ preventScroll: true });
    body().scrollTop = 0;
  }
}

/** Closes the panel; with updateUrl the URL goes back to the map position. */
export function close({ updateUrl = true } = {}) {
  // Focus in the panel would fall to <body> when it hides: keep it on the view's tab.
  const closing = current;
  const hadFocus = body().contains(document.activeElement) || tools().contains(document.activeElement);
  if (current) views[current].hide?.();
  current = null;
  previous = null;
  firstRoute = false;
  body().hidden = true;
  tools().hidden = true;
  const panelEl = $('#panel');
  for (const c of [...panelEl.classList]) if (c.startsWith('view-')) panelEl.classList.remove(c);
  panelEl.classList.remove('open', 'expanded');
  for (const tab of $$('#tabs .tab')) tab.setAttribute('aria-pressed', 'false');
  for (const sec of $$('#panel-body > .view')) sec.hidden = true;
  if (hadFocus) ($(`#tabs .tab[data-view="${closing ? tabOf(closing) : ''}"]`) || $('#tabs .tab')).focus();
  if (updateUrl) ctx.navigate(mapctl.positionHash());
}

export function focusPanel() {
  if (current) focusHeading(current);
  else $('#tabs .tab').focus();
}

/** Room the map must leave for the panel when it flies somewhere, in px. */
export function mapPadding() {
  const w = window.innerWidth;
  const hgt = window.innerHeight;
  let pad;
  if (isSheet()) {
    const banner = $('#asof-banner');
    const top = Math.max($('#topbar').getBoundingClientRect().bottom, banner && !banner.hidden ? banner.getBoundingClientRect().bottom : 0) + 10;
    // The sheet grows as its content arrives: leave room for its full height.
    const panel = $('#panel');
    const open = panel.classList.contains('open');
    const sheet = open ? Math.max(hgt - panel.getBoundingClientRect().top, hgt * (panel.classList.contains('expanded') ? 0.85 : (panel.classList.contains('view-near') ? 0.74 : 0.58))) : hgt - panel.getBoundingClientRect().top;
    pad = { top, bottom: Math.max(20, sheet + 10), left: 20, right: 20 };
  } else {
    const ui = $('#ui').getBoundingClientRect();
    pad = { top: 30, bottom: 40, left: ui.right + 20, right: 60 };
  }
  // Never ask for more room than the map has.
  if (pad.left + pad.right > w - 60) { pad.left = 10; pad.right = 10; }
  if (pad.top + pad.bottom > hgt - 60) { pad.top = 10; pad.bottom = Math.max(10, Math.min(pad.bottom, hgt / 2)); }
  return pad;
}
