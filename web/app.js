// Heritage Atlas front end. Plain ES modules, no bundler: MapLibre GL JS 6 is ESM-only
// and is vendored under /vendor/maplibre-gl/ (see docs/frontend.md). The worker
// (/vendor/maplibre-gl/maplibre-gl-worker.mjs) is found relative to that module's URL.
//
// This file starts the map and the panel and keeps the URL: `#asset/CODE` (and
// `#asset/CODE/history`), `#track/TICKET`, `#report`, `#near`, `#export`, `#staff`,
// `#proposals` (and `#proposals/ID`), `#add`, `#moderation`, `#documents?q=…` (a search of the documents,
// its words and filters in the query) and `#documents/SHA256` (one document); applications
// for permission: `#apply` (`#apply/DRAFT`, `#apply?asset=CODE`), `#my-applications`
// (`/KEY`), `#application/NUMBER` (the public tracker), `#decisions`, and for staff
// `#desk` (`/NUMBER`) and `#hcc` (`/ID`); the department's figures: `#dashboard?borough=&ward=&from=&to=&metric=`
// and the monthly ward report `#ward-report?ward=N&month=YYYY-MM` (or `?borough=VIII&month=…`);
// heritage-impact screening, `#screening` (`?d=METRES&layers=…`); or
// `#zoom/lat/lng` when no panel is open. A document's verification page is a path of its
// own, `/verify/SHA256` (what its QR code holds): the server answers it with this page,
// which then starts on that view. Each view lives in web/js/.
import { maplibregl, createMap, onFeatureClick, setPaddingProvider } from './js/mapctl.js';
import * as mapctl from './js/mapctl.js';
import { $, $$ } from './js/dom.js';
import { t, applyStatic, loadStoredLang, setLang, getLang, onLangChange } from './js/i18n.js';
import * as panel from './js/panel.js';
import * as asset from './js/asset.js';
import * as search from './js/search.js';
import * as report from './js/report.js';
import * as track from './js/track.js';
import * as near from './js/near.js';
import * as planner from './js/planner.js';
import * as staff from './js/staff.js';
import * as proposals from './js/proposals.js';
import * as add from './js/add.js';
import * as asof from './js/asof.js';
import * as documents from './js/documents.js';
import * as verifyPage from './js/verifypage.js';
import * as moderation from './js/moderation.js';
import * as apply from './js/apply.js';
import * as myApplications from './js/myapps.js';
import * as application from './js/apptrack.js';
import * as decisions from './js/decisions.js';
import * as desk from './js/desk.js';
import * as hcc from './js/hcc.js';
import * as dashboard from './js/dashboard.js';
import * as wardReport from './js/wardreport.js';
import * as screening from './js/screening.js';
import * as offline from './js/offline.js';
import * as outbox from './js/outbox.js';

function showError(message) {
  const el = document.getElementById('map-error');
  el.textContent = message;
  el.hidden = false;
}

// ---- the URL ---------------------------------------------------------------------------

const VIEWS = {
  asset, report, track, near, export: planner, staff, proposals, add, moderation, documents, verify: verifyPage,
  apply, 'my-applications': myApplications, application, decisions, desk, hcc,
  dashboard, 'ward-report': wardReport,
  screening,
};
let lastRouted = null;

/**
 * Parses '#asset/HER-0001' into {view: 'asset', arg: 'HER-0001', query: ''} and
 * '#documents?q=pond' into {view: 'documents', arg: null, query: 'q=pond'}; null for a
 * map position.
 */
function parseHash(hash) {
  const m = /^#([a-z][a-z-]*)(?:\/([^?]+))?(?:\?(.*))?$/.exec(hash || '');
  if (!m || !VIEWS[m[1]]) return null;
  let arg = null;
  if (m[2]) {
    try { arg = decodeURIComponent(m[2]); } catch { arg = m[2]; }
  }
  return { view: m[1], arg, query: m[3] || '' };
}

const VERIFY_PATH = /^\/verify\/([0-9a-fA-F]{64})\/?$/;

/** The view the URL names: its hash, else a verification page's path (a QR code's link). */
function parseUrl() {
  const r = parseHash(window.location.hash);
  if (r) return r;
  const m = VERIFY_PATH.exec(window.location.pathname);
  return m ? { view: 'verify', arg: m[1].toLowerCase(), query: '' } : null;
}

const here = () => window.location.pathname + window.location.hash;

function route() {
  if (here() === lastRouted) return;
  lastRouted = here();
  const r = parseUrl();
  if (!r) {
    panel.close({ updateUrl: false });
    return;
  }
  panel.show(r.view, r.arg, r.query);
}

/**
 * Goes to an in-app URL ('#asset/HER-0001', or a path: '/verify/SHA256'), adding a
 * history entry. A hash leaves a verification page's path for the app's own, '/'.
 */
export function navigate(url, { replace = false } = {}) {
  const target = url.startsWith('#') && window.location.pathname !== '/' ? `/${url}` : url;
  const resolved = new URL(target, window.location.href);
  if (resolved.pathname + resolved.hash === here()) {
    lastRouted = null;
    route();
    return;
  }
  if (replace) window.history.replaceState(null, '', target);
  else window.history.pushState(null, '', target);
  route();
}

// ---- start --------------------------------------------------------------------------------

async function start() {
  // The stored language's strings before anything is drawn (Bengali is fetched only if it
  // is the choice): a Bengali reader's page starts in Bengali.
  await loadStoredLang();
  applyStatic();
  const langBtn = $('#lang-switch');
  const syncLangButton = () => langBtn.setAttribute('lang', getLang() === 'bn' ? 'en' : 'bn');
  syncLangButton();
  langBtn.addEventListener('click', () => setLang(getLang() === 'bn' ? 'en' : 'bn'));
  onLangChange(syncLangButton);

  // Keep the legend out of the way on small screens; it stays one click away.
  const legend = document.querySelector('#legend details');
  if (legend && window.matchMedia('(max-width: 700px)').matches) legend.open = false;

  let map;
  try {
    map = createMap('map');
  } catch (err) {
    showError(t('map.noWebgl', { error: err && err.message ? err.message : err }));
    return;
  }
  window.map = map;
  window.maplibregl = maplibregl;
  // Without its style the map stays blank: say so. (Failed tiles and glyphs only go to the
  // console, in mapctl.js: the rest of the map still works.)
  map.on('error', (e) => {
    const err = e && e.error;
    if (!map.isStyleLoaded() && err && typeof err.url === 'string' && err.url.includes('/styles/')) {
      showError(t('map.styleFailed', { error: err.status ? `HTTP ${err.status}` : err.message || err }));
    }
  });

  const ctx = { navigate, map };
  setPaddingProvider(panel.mapPadding);
  panel.init(ctx, VIEWS);
  for (const v of Object.values(VIEWS)) v.init(ctx);
  search.init(ctx);
  asof.init();
  // Offline field mode: the service worker, "Keep ward N offline", and the writes made
  // with no network (sent when it returns). Neither may stop the page if it fails.
  try { offline.init(ctx); } catch (e) { console.warn('offline mode:', e); }
  outbox.init().catch((e) => console.warn('outbox:', e));

  // Layer toggles in the legend.
  for (const box of $$('#legend input[data-group]')) {
    box.checked = mapctl.isGroupVisible(box.dataset.group);
    box.addEventListener('change', () => mapctl.setGroupVisible(box.dataset.group, box.checked));
  }

  // One click: an asset opens its record, a complaint pin its public timeline.
  onFeatureClick((f, lngLat) => {
    const p = f.properties || {};
    if (f.sourceLayer === 'complaints') {
      if (p.ticket) navigate(`#track/${encodeURIComponent(p.ticket)}`);
      return;
    }
    const id = p.code || p.id;
    if (id === undefined || id === null || id === '') return;
    asset.setClickPoint(String(id), lngLat);
    navigate(`#asset/${encodeURIComponent(String(id))}`);
  });

  // On phones the attribution starts folded (MapLibre opens it until the first drag).
  map.once('load', () => {
    if (!window.matchMedia('(max-width: 700px)').matches) return;
    const attrib = document.querySelector('.maplibregl-ctrl-attrib');
    if (attrib) attrib.classList.remove('maplibregl-compact-show');
  });

  // The map position goes in the URL while no panel is open.
  map.on('moveend', () => {
    if (parseUrl()) return;
    const h = mapctl.positionHash();
    if (h && h !== window.location.hash) {
      window.history.replaceState(null, '', h);
      lastRouted = here();
    }
  });

  window.addEventListener('hashchange', route);
  window.addEventListener('popstate', route);

  // The skip link focuses the panel without touching the URL.
  $('.skip-link').addEventListener('click', (e) => {
    e.preventDefault();
    panel.focusPanel();
  });

  route();
}

start();
