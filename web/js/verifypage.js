// A document's verification page (/verify/SHA256: what the QR code stamped on its copies
// holds, so it is often opened cold on a phone). It says first, in a box of its own
// colour, whether the document is on record and current, superseded (with the link to
// the one that replaced it) or revoked (with the reason); or that nothing with this
// SHA-256 is on record. Then its title, type, reference, issuing office and date, the
// assets it concerns (outlined on the map, which moves to them), its QR code, and links
// to the document and its stamped copy; and the check of a copy in hand (verify.js).
import { h, replace, dl, $ } from './dom.js';
import { t, label, fmtDate, digits } from './i18n.js';
import { api } from './api.js';
import { explain } from './errors.js';
import * as mapctl from './mapctl.js';
import { statusBadge, safeDocUrl, follow } from './docview.js';
import { verifyForm, forget } from './verify.js';

let seq = 0;
let state = null; // {sha, loading, error, data, shapes}

const el = () => $('#view-verify');

/** The verification page belongs to the Documents tab. */
export const tabOf = 'documents';

export function init() {}

export function show(arg) {
  const sha = String(arg || '').toLowerCase();
  if (state && state.sha === sha && (state.data || state.error)) {
    render();
    outline();
    return;
  }
  load(sha);
}

export function hide() {
  seq++;
  mapctl.clearHighlight();
}

export function rerender() { render(); }

async function load(sha) {
  const mine = ++seq;
  forget('verify-page-result');
  state = { sha, loading: true };
  render();
  if (!/^[0-9a-f]{64}$/.test(sha)) {
    state = { sha, data: { sha256: sha, on_record: false } };
    render();
    return;
  }
  try {
    const data = await api.verification(sha);
    if (mine !== seq) return;
    state = { sha, data };
  } catch (e) {
    if (mine !== seq) return;
    state = { sha, error: e };
  }
  render();
  if (state.data) loadShapes(mine);
}

/** The linked assets' outlines, for the map (the first ten: a notice names a few). */
async function loadShapes(mine) {
  const assets = (state.data.assets || []).slice(0, 10);
  if (!assets.length) return;
  const found = await Promise.all(assets.map((a) => api.asset(a.code).catch(() => null)));
  if (mine !== seq) return;
  state.shapes = found.filter((f) => f && f.geometry).map((f) => ({ type: 'Feature', properties: {}, geometry: f.geometry }));
  outline();
}

/** Outlines the assets on the map and brings them into view. */
function outline() {
  const shapes = state && state.shapes;
  if (!shapes || !shapes.length) return;
  mapctl.highlight({ type: 'FeatureCollection', features: shapes });
  const boxes = shapes.map((f) => mapctl.geometryBbox(f.geometry)).filter(Boolean);
  if (!boxes.length) return;
  const b = boxes.reduce((a, x) => [Math.min(a[0], x[0]), Math.min(a[1], x[1]), Math.max(a[2], x[2]), Math.max(a[3], x[3])]);
  mapctl.whenReady(() => mapctl.fitBbox(b, 17));
}

function render() {
  const root = el();
  const active = document.activeElement;
  const hadFocus = root.contains(active);
  const focusId = hadFocus && active.id ? active.id : null;
  draw(root);
  if (hadFocus) (focusId && document.getElementById(focusId) || root.querySelector('h2'))?.focus({ preventScroll: true });
}

/** The verdict: what a reader holding this document must know first. */
function verdict(v) {
  if (!v.on_record) {
    return h('div', { class: 'verdict verdict-unknown', id: 'verify-verdict' },
      h('p', { class: 'verdict-title', text: t('vp.notOnRecord') }),
      h('p', { text: t('vp.notOnRecordWhy') }));
  }
  if (!v.title) {
    // Private, and the reader is not signed in: the server says only that it is held.
    return h('div', { class: `verdict verdict-${v.status === 'current' ? 'current' : v.status === 'revoked' ? 'revoked' : 'superseded'}`, id: 'verify-verdict' },
      h('p', { class: 'verdict-title', text: t(`vp.status.${v.status || 'current'}`) }),
      h('p', { text: t('vp.private', { date: fmtDate(v.created_at, false) }) }));
  }
  const status = ['current', 'superseded', 'revoked'].includes(v.status) ? v.status : 'current';
  const next = status === 'superseded' && /^[0-9a-f]{64}$/.test(v.superseded_by || '') ? v.superseded_by : null;
  return h('div', { class: `verdict verdict-${status}`, id: 'verify-verdict' },
    h('p', { class: 'verdict-title', text: t(`vp.status.${status}`) }),
    status !== 'current' ? h('p', { text: t(`vp.since.${status}`, { date: fmtDate(v.updated_at, false) }) }) : null,
    status !== 'current' && v.status_reason ? h('p', { id: 'verify-reason', text: t('doc.reason', { reason: v.status_reason }) }) : null,
    next ? h('p', null, h('a', {
      href: `/verify/${next}`, id: 'verify-successor', text: t('vp.successor'), onclick: (e) => follow(e, `/verify/${next}`),
    })) : null,
    status === 'current' && v.valid_until ? h('p', { text: t('vp.validUntil', { date: fmtDate(v.valid_until, false) }) }) : null);
}

function draw(root) {
  const title = h('h2', { id: 'verify-page-title', tabindex: '-1', text: t('vp.title') });
  if (!state || state.loading) return replace(root, title, h('p', { role: 'status', text: t('verify.checking') }));
  if (state.error) {
    return replace(root, title, h('p', { class: 'form-status error', role: 'alert', text: t('verify.failed', { error: explain(state.error) }) }),
      h('p', { class: 'hint mono sha', text: state.sha }));
  }
  const v = state.data;
  const sha = h('p', { class: 'hint sha-line' }, t('vp.sha'), ' ', h('span', { class: 'mono sha', text: state.sha }));
  if (!v.on_record || !v.title) {
    return replace(root, title, verdict(v), sha, check());
  }
  const assets = (v.assets || []).map((a) => h('li', null, h('a', {
    href: `#asset/${encodeURIComponent(a.code)}`, text: `${a.name || a.code} (${a.code})`,
  }), a.layer ? ` · ${label('layer', a.layer)}` : null));
  const facts = dl([
    [t('doc.title'), v.title, v.language === 'bn' ? 'bn' : null],
    [t('doc.type'), label('docType', v.type)],
    [t('doc.reference'), v.reference],
    [t('vp.issuer'), v.issuer],
    [t('doc.issuedOn'), v.issued_on ? fmtDate(v.issued_on, false) : null],
    [t('doc.validUntil'), v.valid_until ? fmtDate(v.valid_until, false) : null],
    [t('doc.ward'), v.ward !== null && v.ward !== undefined ? digits(v.ward) : null],
    [t('doc.status'), statusBadge(v.status)],
    [t('doc.onRecordSince'), fmtDate(v.created_at, false)],
  ]);
  const url = safeDocUrl(v.url);
  const stamped = v.media_type === 'application/pdf' ? safeDocUrl(v.stamped_url) : null;
  const qr = h('img', {
    id: 'verify-qr', class: 'verify-qr', src: `/documents/${state.sha}/qr.svg`, alt: t('vp.qrAlt'), width: 160, height: 160,
  });
  // Without its QR code (not made yet) the page is still whole: the figure goes.
  qr.addEventListener('error', () => qr.closest('figure')?.remove());
  return replace(root, title, verdict(v), facts,
    h('section', { class: 'record', 'aria-labelledby': 'verify-assets' },
      h('h3', { id: 'verify-assets', text: t('vp.assets') }),
      assets.length ? [h('p', { class: 'hint', text: t('vp.assetsHint') }), h('ul', { class: 'doc-assets', id: 'verify-asset-list' }, assets)]
        : h('p', { class: 'hint', text: t('vp.noAssets') })),
    h('ul', { class: 'doc-links' },
      url ? h('li', null, h('a', { href: url, id: 'verify-open', target: '_blank', rel: 'noopener', text: t(v.media_type === 'application/pdf' ? 'doc.openPdf' : 'doc.openFile') })) : null,
      stamped ? h('li', null, h('a', { href: stamped, id: 'verify-stamped', download: '', text: t('doc.stamped') })) : null,
      h('li', null, h('a', { href: `#documents/${state.sha}`, id: 'verify-record', text: t('vp.record') }))),
    h('figure', { class: 'verify-qr-figure' }, qr, h('figcaption', { class: 'hint', text: t('vp.qrCaption') })),
    sha, check());
}

/** "Check a copy": the file in hand against every document on record. */
function check() {
  return h('section', { class: 'record' }, verifyForm('verify-page'));
}
