// One asset's whole record (#asset/CODE): names in English and Bengali, kind, grade,
// condition and when it was assessed, address and ward, maintenance, inspections and
// public documents, and "report a problem here". Signed-in staff who may record work on
// this asset get the forms first, right under its name; field staff of another ward get
// a line saying why there are none. Below the forms, staff edit the register entry
// (its attributes and outline: officers' edits are written, field staff's become
// proposals) or delist it. The History tab (#asset/CODE/history) lists its versions
// (versions.js). A delisted asset says when and why instead of an error; with "Map as
// of" on, the record is the one of that day.
import { h, replace, dl, $, fieldError } from './dom.js';
import { t, label, fmtDate, fmtNumber, digits, getLang, kolkataDate } from './i18n.js';
import { api, errorText, staffSession } from './api.js';
import { explain } from './errors.js';
import * as mapctl from './mapctl.js';
import * as report from './report.js';
import * as near from './near.js';
import * as apply from './apply.js';
import * as drawing from './draw.js';
import * as versions from './versions.js';
import { attributeFields, changedProperties, refusedField, refusal, NOTE_MAX, REASON_MAX, EDITABLE_LAYERS } from './edit.js';
import { reveal } from './panel.js';
import { verifyForm, forget } from './verify.js';
import { statusBadge, TYPES, LANGUAGES } from './docview.js';
import * as feed from './feed.js';
import * as outbox from './outbox.js';

let ctx;
let seq = 0;
let state = null; // {id, tab, loading, error, data, asOf, ward, wardChecked, changes, forms, edit}
let tab = 'record'; // 'record' or 'history': the tab the URL asked for
const clickPoints = new Map();

const el = () => $('#view-asset');

export function init(c) {
  ctx = c;
  versions.init(() => { if (state && state.data && tab === 'history') render(); });
  // "Map as of" on or off: the open record is reloaded as of that day (or today).
  mapctl.onAsOf(() => { if (state && state.id && !el().hidden) load(state.id); });
  // A write made offline was sent: the map, and the open record if it is about it.
  outbox.onSent((item) => {
    if (item.kind !== 'inspection' && item.kind !== 'maintenance') return;
    mapctl.refreshAssets();
    const code = state && state.data && state.data.properties ? state.data.properties.code : null;
    if (code && item.url === `/assets/${encodeURIComponent(code)}/${item.kind === 'inspection' ? 'inspections' : 'maintenance'}` && !el().hidden && !state.asOf) {
      load(code, { keep: true });
    }
  });
}

/** The asset's code and tab from the URL's argument ('HER-0001' or 'HER-0001/history'). */
function parseArg(arg) {
  const a = String(arg);
  return a.endsWith('/history') ? { id: a.slice(0, -8), tab: 'history' } : { id: a, tab: 'record' };
}

/** Remembers where the asset was clicked, so the map need not move. */
export function setClickPoint(id, lngLat) {
  clickPoints.set(String(id), { lon: lngLat.lng, lat: lngLat.lat });
}

export function show(arg) {
  if (!arg) return;
  const { id, tab: which } = parseArg(arg);
  tab = which;
  if (state && state.id === id && state.data && state.asOf === mapctl.getAsOf()) {
    render();
    return;
  }
  load(id);
}

export function hide() {
  seq++;
  stopEditing();
  versions.reset();
  mapctl.clearHighlight();
}

/** Takes an outline being edited off the map. */
function stopEditing() {
  drawing.stop();
  if (state && state.edit) state.edit.outline = false;
}

/** Switches between the record and its History, keeping the URL in step (no new history entry). */
function setTab(which) {
  if (tab === which) return;
  tab = which;
  const code = state && state.data ? state.data.properties.code || state.id : state.id;
  window.history.replaceState(null, '', `#asset/${encodeURIComponent(String(code))}${which === 'history' ? '/history' : ''}`);
  if (which !== 'history') mapctl.clearCompare();
  render();
  document.getElementById(`asset-tab-${which}`)?.focus();
}

export function rerender() { render(); }

async function load(id, { keep = false } = {}) {
  const mine = ++seq;
  const click = clickPoints.get(id);
  clickPoints.delete(id);
  forget('asset-verify-result');
  const asOf = mapctl.getAsOf();
  // After an edit the record is reloaded in place: the messages and open forms stay.
  const kept = keep && state && state.id === id ? state : null;
  if (!kept) {
    stopEditing();
    versions.reset();
    state = { id, loading: true, click, asOf };
    render();
  }
  try {
    const data = await api.asset(id, asOf);
    if (mine !== seq) return;
    state = kept ? { ...kept, data, asOf, loading: false } : { id, data, click, asOf };
    if (kept) state.dropTyped = true;
    if (!asOf) loadChanges(mine);
    const p = data.properties || {};
    mapctl.highlight(data.geometry);
    const bbox = mapctl.geometryBbox(data.geometry);
    if (!click && !kept && bbox) mapctl.fitBbox(bbox, p.layer === 'wards' ? 15 : 17);
    render();
    if ((p.ward === null || p.ward === undefined) && p.layer !== 'wards') {
      // A point inside the asset (as the server takes for field staff's ward check).
      const pt = click || await pointOf(data);
      let w = null;
      if (pt) {
        try {
          const at = await api.at(pt.lon, pt.lat);
          w = at && at.ward && at.ward.properties ? at.ward.properties.ward : null;
        } catch { /* the ward stays unknown */ }
      }
      if (mine === seq) {
        if (w !== null && w !== undefined) state.ward = w;
        state.wardChecked = true;
        render();
      }
    }
  } catch (e) {
    if (mine !== seq) return;
    state = { id, error: e, asOf };
    render();
  }
}

/** The asset's public audit trail; the record shows without it if it cannot be had. */
async function loadChanges(mine) {
  const code = state && state.data && state.data.properties ? state.data.properties.code : null;
  if (!code) return;
  try {
    const r = await api.audit(code);
    if (mine !== seq || !state.data) return;
    state.changes = r.entries || [];
    // In place: a redraw would take focus and typed text from the staff forms.
    const fresh = changesSection();
    const old = el().querySelector('section[aria-labelledby="asset-changes"]');
    if (old) old.replaceWith(fresh);
    else el().querySelector('section[aria-labelledby="asset-docs"]')?.after(fresh);
  } catch { /* the trail stays unshown */ }
}

/** The public audit entries about this asset, newest first (null until loaded). */
function changesSection() {
  if (!state || !state.changes) return null;
  const items = state.changes.slice().reverse().map((e) => h('li', null,
    h('p', { class: 'when', text: `${fmtDate(e.at)} · ${label('audit', e.action)}` }),
    h('p', { class: 'hint', text: t('audit.by', { name: e.actor, role: label('role', e.role) }) }),
    h('p', { class: 'hint mono', text: t('audit.entry', { seq: digits(e.seq), hash: String(e.hash).slice(0, 12) }) })));
  return h('section', { class: 'record', 'aria-labelledby': 'asset-changes' },
    h('h3', { id: 'asset-changes', text: t('asset.changes') }),
    items.length ? h('ol', { class: 'history' }, items) : h('p', { class: 'hint', text: t('asset.noChanges') }));
}

/** A point inside the asset to put a pin on: where it was clicked, else the search index's. */
async function pointOf(data) {
  if (state && state.click) return state.click;
  const p = data.properties || {};
  try {
    const r = await api.search(p.code || String(p.id), undefined, 5);
    const hit = (r.features || []).find((f) => f.properties && f.properties.id === p.id);
    if (hit && hit.geometry) return { lon: hit.geometry.coordinates[0], lat: hit.geometry.coordinates[1] };
  } catch { /* fall back below */ }
  const b = mapctl.geometryBbox(data.geometry);
  return b ? { lon: (b[0] + b[2]) / 2, lat: (b[1] + b[3]) / 2 } : null;
}

function badge(cls, text) {
  return h('span', { class: `badge ${cls}`, text });
}

function fmtSize(bytes) {
  if (bytes === null || bytes === undefined) return '';
  if (bytes < 1024) return `${fmtNumber(bytes)} B`;
  if (bytes < 1024 * 1024) return `${fmtNumber(bytes / 1024, { maximumFractionDigits: 0 })} KB`;
  return `${fmtNumber(bytes / 1024 / 1024, { maximumFractionDigits: 1 })} MB`;
}

/** What the water-body watch says of an asset: why it is flagged, and the area lost. */
function watchText(w) {
  const why = [];
  if ((w.reasons || []).includes('area_loss')) {
    why.push(t('asset.watch.lost', {
      area: fmtArea(w.area_lost_m2),
      share: t('unit.percent', { n: fmtNumber((w.share_lost || 0) * 100, { maximumFractionDigits: 1 }) }),
      date: fmtDate(w.first_recorded_at, false),
    }));
  }
  if ((w.reasons || []).includes('status_filled')) why.push(t('asset.watch.filled'));
  if ((w.reasons || []).includes('status_encroached')) why.push(t('asset.watch.encroached'));
  return t('asset.watch', { why: why.join('; ') });
}

function fmtArea(m2) {
  if (m2 === null || m2 === undefined) return '';
  if (m2 >= 10000) return t('unit.ha', { n: fmtNumber(m2 / 10000, { maximumFractionDigits: 2 }) });
  return t('unit.m2', { n: fmtNumber(Math.round(m2)) });
}

/**
 * Re-renders, keeping what was typed into the staff forms (a language switch redraws
 * them) and focus: on the same control if it is still there, else on the heading.
 */
function render() {
  const active = document.activeElement;
  const hadFocus = el().contains(active);
  const focusId = hadFocus && active.id ? active.id : null;
  const typed = [];
  // Only into the same asset's forms: another record starts empty.
  const same = state && el().dataset.asset === state.id;
  // After a reload for a newer version the edit form starts from that version.
  const drop = state && state.dropTyped;
  if (state) state.dropTyped = false;
  for (const c of same ? el().querySelectorAll('.staff-tools input, .staff-tools select, .staff-tools textarea, .versions textarea') : []) {
    if (drop && c.id.startsWith('edit-')) continue;
    if (c.id && c.type !== 'file') typed.push([c.id, c.type === 'checkbox' ? c.checked : c.value]);
  }
  draw();
  el().dataset.asset = state ? state.id : '';
  for (const [id, v] of typed) {
    const c = document.getElementById(id);
    if (!c) continue;
    if (c.type === 'checkbox') c.checked = v;
    else c.value = v;
  }
  // Field errors are kept in state (they are put in words again, in the new language).
  for (const [id, err] of Object.entries((state && state.fieldErrors) || {})) fieldError(document.getElementById(id), explain(err));
  if (hadFocus) (focusId && document.getElementById(focusId) || el().querySelector('h2'))?.focus({ preventScroll: true });
}

function draw() {
  const root = el();
  if (!state) return replace(root);
  if (state.loading) {
    return replace(root, h('h2', { tabindex: '-1', text: t('asset.loading') }));
  }
  if (state.error) {
    const notFound = state.error.status === 404;
    let text = notFound ? t('asset.notFound', { id: state.id }) : t('asset.error', { error: errorText(state.error) });
    if (notFound && state.asOf) text = t('asset.notThen', { id: state.id, date: fmtDate(state.asOf, false) });
    return replace(root, h('h2', { tabindex: '-1', text }));
  }
  const d = state.data;
  const p = d.properties || {};
  const delisted = d.delisted || null;
  const bn = getLang() === 'bn';
  const en = p.name || p.code || t('unnamed');
  const primary = bn && p.name_bn ? p.name_bn : en;
  const secondary = bn ? (p.name_bn ? en : null) : p.name_bn;

  const layerName = label('layer', p.layer);
  const kind = label('kind', p.kind);

  const head = h('header', { class: 'asset-head' },
    h('p', { class: 'eyebrow', text: [layerName, kind].filter(Boolean).join(' · ') }),
    h('h2', { tabindex: '-1', id: 'asset-name', lang: bn && p.name_bn ? 'bn' : 'en', text: primary }),
    secondary ? h('p', { class: 'name-alt', id: 'asset-name-alt', lang: bn ? 'en' : 'bn', text: secondary }) : null,
    h('p', { class: 'badges' },
      p.layer === 'heritage' ? badge(`grade grade-${p.grade || 'none'}`, p.grade ? label('grade', p.grade) : t('asset.ungraded')) : null,
      p.condition ? badge(`cond cond-${p.condition}`, `${t('asset.condition')}: ${label('condition', p.condition)}`) : null,
      p.layer === 'water_bodies' && p.status ? badge(`water water-${p.status}`, label('water', p.status)) : null),
    // A delisted asset's record is its last one, and says when and why it left the register.
    delisted ? h('p', { class: 'notice delisted-notice', id: 'asset-delisted', tabindex: '-1', text: t('asset.delistedOn', { date: fmtDate(delisted.at, false), reason: delisted.reason }) }) : null,
    // A water body the watch flags (its area fell past the line, or it is filled or
    // encroached): why, and its outlines over time in the History tab.
    d.watch ? h('div', { class: 'notice watch-notice', id: 'asset-watch', role: 'note' },
      h('p', { text: watchText(d.watch) }),
      tab === 'history' ? null : h('button', {
        type: 'button', class: 'btn btn-secondary', id: 'asset-watch-history', text: t('asset.watch.outlines'),
        onclick: () => setTab('history'),
      })) : null,
    state.asOf ? h('p', { class: 'notice', id: 'asset-as-of', text: t('asset.asOf', { date: fmtDate(state.asOf, false) }) }) : null);

  // Two tabs: the record, and its History (every version on record).
  const tabs = h('div', { class: 'asset-tabs', role: 'group', 'aria-label': t('asset.views') },
    ['record', 'history'].map((which) => h('button', {
      type: 'button', class: 'btn btn-tab', id: `asset-tab-${which}`, 'aria-pressed': String(tab === which),
      text: t(`asset.tab.${which}`), onclick: () => setTab(which),
    })));
  if (tab === 'history') {
    const s = staffSession();
    const officer = !!(s && s.user && (s.user.role === 'officer' || s.user.role === 'admin'));
    return replace(root, head, tabs, versions.section(p, {
      officer, delisted: !!delisted,
      onRestored: (f) => afterWrite(f),
    }));
  }

  const condition = p.condition
    ? `${label('condition', p.condition)} (${p.condition_assessed_at ? t('asset.assessed', { date: fmtDate(p.condition_assessed_at, false) }) : t('asset.notAssessed')})`
    : null;
  let ward = null;
  if (p.ward !== null && p.ward !== undefined) {
    ward = p.ward_source === 'location' ? t('asset.wardByLocation', { ward: digits(p.ward) }) : digits(p.ward);
  } else if (state.ward !== undefined && state.ward !== null) ward = t('asset.wardByLocation', { ward: digits(state.ward) });

  const facts = dl([
    [t('asset.code'), p.code],
    [t('asset.kind'), kind],
    p.layer === 'heritage' ? [t('asset.grade'), p.grade ? label('grade', p.grade) : t('asset.ungraded')] : [],
    [t('asset.condition'), condition],
    p.layer === 'water_bodies' ? [t('asset.status'), label('water', p.status)] : [],
    p.protected !== undefined && p.protected !== null ? [t('asset.protected'), p.protected ? t('yes') : t('no')] : [],
    [t('asset.area'), fmtArea(p.area_m2)],
    [t('asset.yearBuilt'), p.year_built ? digits(p.year_built) : null],
    [t('asset.owner'), p.owner],
    [t('asset.address'), p.address],
    [t('asset.ward'), ward],
    [t('asset.borough'), p.borough],
    [t('asset.lastMaintained'), p.last_maintained_at ? fmtDate(p.last_maintained_at, false) : null],
  ].filter((r) => r.length));

  const actions = h('div', { class: 'button-row' },
    h('button', {
      type: 'button', class: 'btn btn-primary', id: 'asset-report', text: t('asset.report'),
      onclick: async () => {
        const pt = await pointOf(d);
        report.prefill({ point: pt, asset: { code: p.code, id: p.id, name: p.name, name_bn: p.name_bn, layer: p.layer } });
        ctx.navigate('#report');
      },
    }),
    // Owners and their architects apply for permission for works on the premises.
    apply.appliesTo(p) && !delisted && !state.asOf ? h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'asset-apply', text: t('asset.apply'),
      onclick: () => ctx.navigate(apply.applyHref(p)),
    }) : null,
    h('button', {
      type: 'button', class: 'btn btn-secondary', text: t('asset.nearby'),
      onclick: async () => {
        const pt = await pointOf(d);
        if (pt) near.setPoint(pt, 'point');
        ctx.navigate('#near');
      },
    }));

  const maintenance = (d.maintenance || []).map((m) => h('li', null,
    h('p', { class: 'when', text: `${m.started_on ? fmtDate(m.started_on, false) : '?'} – ${m.completed_on ? fmtDate(m.completed_on, false) : t('asset.ongoing')}` }),
    h('p', { text: m.description }),
    (m.contractor || m.cost_inr !== null && m.cost_inr !== undefined)
      ? h('p', { class: 'hint', text: [m.contractor ? t('asset.contractor', { name: m.contractor }) : null, m.cost_inr !== null && m.cost_inr !== undefined ? t('asset.cost', { amount: fmtNumber(m.cost_inr) }) : null].filter(Boolean).join(' · ') })
      : null));
  const inspections = (d.inspections || []).map((i) => h('li', null,
    h('p', { class: 'when' }, fmtDate(i.inspected_at, false), ' · ', badge(`cond cond-${i.condition}`, label('condition', i.condition))),
    i.notes ? h('p', { text: i.notes }) : null,
    i.inspector ? h('p', { class: 'hint', text: t('asset.inspector', { name: i.inspector }) }) : null));
  // Each document with its type, reference, date and status; its title opens the
  // document's view (the link is the file itself, for a new tab or a download).
  const documents = (d.documents || []).map((doc) => h('li', { class: `doc-item doc-item-${doc.status || 'current'}` },
    h('p', { class: 'doc-title' },
      h('a', {
        href: `/documents/${encodeURIComponent(doc.sha256)}`, text: doc.title,
        onclick: (e) => {
          if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
          e.preventDefault();
          ctx.navigate(`#documents/${encodeURIComponent(doc.sha256)}`);
        },
      })),
    h('p', { class: 'badges' },
      doc.type ? h('span', { class: 'badge doc-type', text: label('docType', doc.type) }) : null,
      statusBadge(doc.status)),
    h('p', { class: 'doc-facts', text: [doc.reference, doc.issued_on ? t('docs.issued', { date: fmtDate(doc.issued_on, false) }) : null].filter(Boolean).join(' · ') }),
    h('p', { class: 'hint', text: [label('media', doc.media_type) || doc.media_type, fmtSize(doc.size), doc.created_at ? fmtDate(doc.created_at, false) : null].filter(Boolean).join(' · ') }),
    h('p', { class: 'hint mono', text: t('asset.sha', { hash: String(doc.sha256).slice(0, 12) }) })));

  const section = (id, title, items, empty) => h('section', { class: 'record', 'aria-labelledby': id },
    h('h3', { id, text: title }),
    items.length ? h('ol', { class: 'history' }, items) : h('p', { class: 'hint', text: empty }));

  const docs = section('asset-docs', t('asset.documents'), documents, t('asset.noDocuments'));
  docs.append(verifyForm());

  replace(el(), head, tabs,
    delisted || state.asOf ? null : staffTools(p),
    facts, feed.wardLink(wardOf(p), 'asset-feed'), delisted || state.asOf ? null : actions,
    section('asset-maint', t('asset.maintenance'), maintenance, t('asset.noMaintenance')),
    section('asset-insp', t('asset.inspections'), inspections, t('asset.noInspections')),
    docs,
    changesSection());
}

/** What the outbox's banner calls a place: its name in the current language, and its code. */
function placeName(p) {
  const name = getLang() === 'bn' && p.name_bn ? p.name_bn : p.name;
  return name ? `${name} (${p.code})` : p.code;
}

/** The ward the asset is in, as far as the page knows (its own, else from its location). */
function wardOf(p) {
  if (p.ward !== null && p.ward !== undefined) return p.ward;
  return state && state.ward !== undefined ? state.ward : null;
}

/**
 * Whether the signed-in staff member may record work here: 'yes', 'no' (field staff of
 * another ward, or of an asset whose ward is unknown), or 'checking' (the ward is being
 * looked up). The server decides in the end; this spares field staff a form it refuses.
 */
function mayRecord(user, p) {
  if (user.role !== 'field_staff') return 'yes';
  const w = wardOf(p);
  if (w === null) return state && (state.wardChecked || p.layer === 'wards') ? 'no' : 'checking';
  return user.ward !== null && user.ward !== undefined && Number(user.ward) === Number(w) ? 'yes' : 'no';
}

/** A form's status line, below its button: what saving did, in the current language. */
function formMessage(form) {
  const m = state.forms && state.forms[form];
  if (!m) return '';
  return m.error ? explain(m.error) : t(m.key);
}

/** Forms for signed-in staff: an inspection, a maintenance work, and (officers) a document. */
function staffTools(p) {
  const s = staffSession();
  if (!s || !s.user || !p.code) return null;
  const officer = s.user.role === 'officer' || s.user.role === 'admin';
  const heading = h('h3', { id: 'rec-heading', text: t('rec.title', { name: s.user.name }) });
  const may = mayRecord(s.user, p);
  if (may !== 'yes') {
    const mine = digits(s.user.ward ?? '?');
    const w = wardOf(p);
    const why = may === 'checking' ? t('rec.wardChecking')
      : (w === null ? t('rec.wardUnknown', { mine }) : t('rec.notYourWard', { mine, its: digits(w) }));
    return h('section', { class: 'record staff-tools', 'aria-labelledby': 'rec-heading' },
      heading, h('p', { id: 'rec-not-here', class: 'notice', text: why }));
  }
  state.forms = state.forms || {};
  state.fieldErrors = state.fieldErrors || {};
  state.open = state.open || {};
  // A date picker's "today" is Kolkata's: between 00:00 and 05:30 IST the UTC date is
  // still yesterday's. (The server accepts dates up to tomorrow UTC.)
  const today = kolkataDate();
  const statusLine = (form) => h('p', {
    id: `rec-${form}-status`, class: `form-status${state.forms[form] ? ` ${state.forms[form].kind}` : ''}`,
    role: 'status', tabindex: '-1', text: formMessage(form),
  });
  const saved = async (form, promise, button, fileId, after) => {
    button.disabled = true;
    // Looked up each time: the record may be redrawn while the request is out.
    const line = () => document.getElementById(`rec-${form}-status`);
    state.forms[form] = null;
    line().className = 'form-status';
    line().textContent = t('rec.saving');
    try {
      // A string key, or {key, queued}: a write made with no network waits in the outbox,
      // and the record stays as it is until it is sent.
      const r = await promise();
      const key = typeof r === 'string' ? r : r.key;
      state.forms[form] = { kind: 'success', key };
      if (after) after();
      if (!r.queued) {
        const data = await api.asset(p.code);
        state.data = data;
      }
      render();
      if (!r.queued) loadChanges(seq);
      document.getElementById(`rec-${form}-status`)?.focus({ preventScroll: false });
    } catch (e) {
      const btn = document.getElementById(button.id);
      if (btn) btn.disabled = false;
      // Next to the control it is about: the field the server names, the file for a
      // document already on record, else the line under this form's button.
      let control = null;
      if (e && e.field) control = document.getElementById(`rec-${e.field}`) || document.getElementById(`rec-doc-${e.field}`);
      else if (fileId && (e.status === 409 || e.status === 413 || e.status === 415)) control = document.getElementById(fileId);
      if (control) {
        state.fieldErrors[control.id] = e;
        fieldError(control, explain(e));
        control.focus();
        line().className = 'form-status';
        line().textContent = '';
      } else {
        state.forms[form] = { kind: 'error', error: e };
        line().className = 'form-status error';
        line().textContent = formMessage(form);
        line().focus();
      }
    }
  };
  // Empties the saved form (by id: the record may have been redrawn meanwhile).
  const empty = (...ids) => {
    for (const id of ids) {
      const c = document.getElementById(id);
      if (c) c.value = '';
    }
  };
  const clear = (...controls) => {
    for (const c of controls) {
      fieldError(c, null);
      delete state.fieldErrors[c.id];
    }
  };
  const field = (id, text, control, hint) => h('div', { class: 'field' },
    h('label', { htmlFor: id, text }), hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null, control);
  const folded = (key, title, form) => {
    const d = h('details', { id: `rec-${key}-details`, open: !!state.open[key] }, h('summary', { text: title }), form);
    d.addEventListener('toggle', () => { state.open[key] = d.open; });
    return d;
  };

  // An inspection: what field staff come for, so it is first and open.
  const cond = h('select', { id: 'rec-condition', name: 'condition' },
    ['good', 'fair', 'poor', 'critical', 'unknown'].map((c) => h('option', { value: c, text: label('condition', c), selected: c === p.condition })));
  const inspAt = h('input', { type: 'date', id: 'rec-inspected_at', name: 'inspected_at', value: today, max: today });
  const notes = h('textarea', { id: 'rec-notes', name: 'notes', rows: 3, maxLength: 4000 });
  const inspBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'rec-inspect', text: t('rec.saveInspection') });
  const insp = h('form', { id: 'rec-inspection-form', novalidate: true },
    h('h4', { text: t('rec.inspection') }),
    field('rec-condition', t('rec.condition'), cond),
    field('rec-inspected_at', t('rec.date'), inspAt),
    field('rec-notes', t('rec.notes'), notes),
    inspBtn, statusLine('inspection'));
  insp.addEventListener('submit', (e) => {
    e.preventDefault();
    clear(inspAt, notes);
    const body = { condition: cond.value };
    if (inspAt.value) body.inspected_at = inspAt.value;
    if (notes.value.trim()) body.notes = notes.value.trim();
    saved('inspection', () => outbox.submit({
      kind: 'inspection', url: `/assets/${encodeURIComponent(p.code)}/inspections`, json: body, auth: true, label: placeName(p),
    }).then((r) => (r.queued ? { key: 'rec.queuedInspection', queued: true } : 'rec.savedInspection')), inspBtn, null, () => {
      mapctl.refreshAssets();
      empty('rec-notes');
    });
  });

  // A maintenance work.
  const desc = h('textarea', { id: 'rec-description', name: 'description', rows: 2, maxLength: 4000, required: true });
  const started = h('input', { type: 'date', id: 'rec-started_on', name: 'started_on', max: today });
  const completed = h('input', { type: 'date', id: 'rec-completed_on', name: 'completed_on', max: today });
  const contractor = h('input', { type: 'text', id: 'rec-contractor', name: 'contractor', maxLength: 200, autocomplete: 'organization' });
  const cost = h('input', { type: 'number', id: 'rec-cost_inr', name: 'cost_inr', min: 0, step: 1, inputMode: 'numeric' });
  const maintBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'rec-maintain', text: t('rec.saveMaintenance') });
  const maint = h('form', { id: 'rec-maintenance-form', novalidate: true },
    field('rec-description', t('rec.description'), desc),
    field('rec-started_on', t('rec.started'), started),
    field('rec-completed_on', t('rec.completed'), completed),
    field('rec-contractor', t('rec.contractor'), contractor),
    field('rec-cost_inr', t('rec.cost'), cost),
    maintBtn, statusLine('maintenance'));
  maint.addEventListener('submit', (e) => {
    e.preventDefault();
    clear(desc, started, completed, cost);
    if (!desc.value.trim()) {
      fieldError(desc, t('rec.needDescription'));
      return desc.focus();
    }
    if (!started.value && !completed.value) {
      fieldError(started, t('rec.needDate'));
      return started.focus();
    }
    const body = { description: desc.value.trim() };
    if (started.value) body.started_on = started.value;
    if (completed.value) body.completed_on = completed.value;
    if (contractor.value.trim()) body.contractor = contractor.value.trim();
    if (cost.value !== '') body.cost_inr = Number(cost.value);
    saved('maintenance', () => outbox.submit({
      kind: 'maintenance', url: `/assets/${encodeURIComponent(p.code)}/maintenance`, json: body, auth: true, label: placeName(p),
    }).then((r) => (r.queued ? { key: 'rec.queuedMaintenance', queued: true } : 'rec.savedMaintenance')), maintBtn, null, () => {
      empty('rec-description', 'rec-started_on', 'rec-completed_on', 'rec-contractor', 'rec-cost_inr');
    });
    return undefined;
  });

  // A document (officers and admins).
  let docForm = null;
  if (officer) {
    const file = h('input', { type: 'file', id: 'rec-doc-file', name: 'file', accept: 'application/pdf,image/jpeg,image/png,image/webp' });
    const title = h('input', { type: 'text', id: 'rec-doc-title', name: 'title', maxLength: 200 });
    const type = h('select', { id: 'rec-doc-type', name: 'type' },
      TYPES.map((x) => h('option', { value: x, text: label('docType', x), selected: x === 'notice' })));
    const reference = h('input', { type: 'text', id: 'rec-doc-reference', name: 'reference', maxLength: 200, spellcheck: false });
    const issuer = h('input', { type: 'text', id: 'rec-doc-issuer', name: 'issuer', maxLength: 200 });
    const issuedOn = h('input', { type: 'date', id: 'rec-doc-issued_on', name: 'issued_on', max: today });
    const language = h('select', { id: 'rec-doc-language', name: 'language' },
      h('option', { value: '', text: t('doc.langUnknown') }),
      LANGUAGES.map((x) => h('option', { value: x, text: label('docLang', x) })));
    const pub = h('input', { type: 'checkbox', id: 'rec-doc-public', name: 'public', checked: true });
    const docBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'rec-add-doc', text: t('rec.saveDocument') });
    docForm = h('form', { id: 'rec-document-form', novalidate: true },
      field('rec-doc-file', t('rec.docFile'), file),
      field('rec-doc-title', t('rec.docTitle'), title),
      field('rec-doc-type', t('rec.docType'), type),
      field('rec-doc-reference', t('rec.docReference'), reference),
      field('rec-doc-issuer', t('rec.docIssuer'), issuer),
      field('rec-doc-issued_on', t('rec.docIssuedOn'), issuedOn),
      field('rec-doc-language', t('rec.docLanguage'), language),
      h('label', { class: 'check' }, pub, ' ', t('rec.docPublic')),
      docBtn, statusLine('document'));
    file.addEventListener('change', () => clear(file));
    docForm.addEventListener('submit', (e) => {
      e.preventDefault();
      clear(file, title, reference, issuer, issuedOn);
      const f = file.files && file.files[0];
      if (!f) {
        fieldError(file, t('rec.needFile'));
        return file.focus();
      }
      if (!title.value.trim()) {
        fieldError(title, t('rec.needTitle'));
        return title.focus();
      }
      const form = new FormData();
      form.append('file', f);
      form.append('title', title.value.trim());
      form.append('type', type.value);
      for (const [k, c] of [['reference', reference], ['issuer', issuer], ['issued_on', issuedOn], ['language', language]]) {
        if (c.value.trim()) form.append(k, c.value.trim());
      }
      form.append('public', pub.checked ? 'true' : 'false');
      const isPublic = pub.checked;
      saved('document', () => api.addDocument(p.code, form).then(() => (isPublic ? 'rec.savedDocument' : 'rec.savedDocumentPrivate')), docBtn, 'rec-doc-file', () => {
        empty('rec-doc-file', 'rec-doc-title', 'rec-doc-reference', 'rec-doc-issuer', 'rec-doc-issued_on');
      });
      return undefined;
    });
  }

  return h('section', { class: 'record staff-tools', 'aria-labelledby': 'rec-heading' },
    heading, insp,
    folded('maintenance', t('rec.maintenance'), maint),
    docForm ? folded('document', t('rec.document'), docForm) : null,
    EDITABLE_LAYERS.includes(p.layer) ? editTools(p, s.user) : null);
}

// ---- editing the register entry ------------------------------------------------------------

/** After an edit was written (officers): fresh tiles, the record and its history again. */
function afterWrite(feature) {
  mapctl.refreshAssets();
  if (feature && feature.geometry) mapctl.highlight(feature.geometry);
  const code = state.data.properties.code || state.id;
  versions.reset();
  return load(code, { keep: true });
}

/** The line under the edit buttons: what the last save did, in the current language. */
function editMessage() {
  const m = state.edit && state.edit.message;
  if (!m) return '';
  return m.error ? refusal(m.error) : t(m.key, m.vars);
}

/**
 * Opens the edit form ('form', with `outline` the outline on the map too) or the delist
 * form ('delist'), after reading the item's ETag: the edit is made against that version.
 */
async function openEdit(p, which, outline) {
  const e = state.edit || (state.edit = {});
  e.message = null;
  e.loading = true;
  render();
  try {
    const r = await api.item(p.layer, p.id);
    Object.assign(e, { open: which, etag: r.etag, item: r.data, loading: false, conflict: null, outline: false });
    state.fieldErrors = {};
    state.dropTyped = true;
    render();
    if (outline) await startOutline();
    const first = document.getElementById(which === 'delist' ? 'edit-reason' : (outline ? 'edit-outline' : 'edit-name'));
    if (first) {
      reveal(first.closest('form') || first);
      first.focus({ preventScroll: true });
    }
  } catch (err) {
    Object.assign(e, { loading: false, message: { kind: 'error', error: err } });
    render();
    document.getElementById('edit-message')?.focus();
  }
}

/** Puts the outline being edited on the map with draggable corners. */
async function startOutline() {
  const e = state.edit;
  if (!e || !e.item || !e.item.geometry) return;
  e.outline = true;
  e.outlineChanged = false;
  render();
  const ok = await drawing.edit(e.item.geometry);
  if (!ok) {
    e.outline = false;
    e.message = { kind: 'error', key: 'edit.outlineUnsupported' };
    drawing.stop();
  }
  drawing.onChange(() => {
    e.outlineChanged = true;
    // In place: a redraw would move focus while a corner is being dragged.
    const line = document.getElementById('edit-outline-status');
    if (line) line.textContent = outlineText();
    refreshCorners();
  });
  render();
}

function outlineText() {
  const e = state.edit;
  if (!e || !e.outline) return '';
  return t(e.outlineChanged ? 'edit.outlineMoved' : 'edit.outlineHint');
}

/** The keyboard's list of corners, refreshed as corners move. */
function refreshCorners() {
  const sel = document.getElementById('edit-corner');
  if (!sel) return;
  const keep = sel.value;
  replace(sel, drawing.corners().map((c, i) => h('option', {
    value: String(i), text: t('edit.corner', { n: digits(i + 1), lat: c.lngLat[1].toFixed(6), lon: c.lngLat[0].toFixed(6) }),
  })));
  if (keep && Number(keep) < sel.options.length) sel.value = keep;
}

function closeEdit(focusId) {
  stopEditing();
  if (state.edit) Object.assign(state.edit, { open: null, conflict: null, outline: false });
  state.fieldErrors = {};
  mapctl.highlight(state.data.geometry);
  render();
  document.getElementById(focusId || 'asset-edit')?.focus();
}

/** Edit, Edit outline and Delist, and the forms they open. */
function editTools(p, user) {
  const e = state.edit || (state.edit = {});
  const field = user.role === 'field_staff';
  const status = h('p', {
    id: 'edit-message', class: `form-status${e.message ? ` ${e.message.kind}` : ''}`, role: 'status', tabindex: '-1', text: editMessage(),
  });
  const heading = h('h4', { id: 'edit-heading', text: t('edit.title') });
  const hint = field ? h('p', { class: 'hint', id: 'edit-proposal-hint', text: t('edit.fieldHint') }) : null;
  if (!e.open) {
    return h('div', { class: 'edit-tools', role: 'group', 'aria-labelledby': 'edit-heading' }, heading, hint,
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'asset-edit', text: t('edit.edit'), disabled: !!e.loading, onclick: () => openEdit(p, 'form', false) }),
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'asset-edit-outline', text: t('edit.editOutline'), disabled: !!e.loading, onclick: () => openEdit(p, 'form', true) }),
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'asset-delist', text: t('edit.delist'), disabled: !!e.loading, onclick: () => openEdit(p, 'delist', false) })),
      status);
  }
  const conflict = e.conflict ? h('div', { class: 'confirm', id: 'edit-conflict', role: 'alert' },
    h('p', { text: t('edit.conflict', { version: digits(e.conflict.properties.version), name: e.conflict.properties.name || e.conflict.properties.code }) }),
    h('button', {
      type: 'button', class: 'btn btn-primary', id: 'edit-reload', text: t('edit.reload'),
      onclick: async () => {
        const wasOutline = e.outline;
        stopEditing();
        Object.assign(e, { etag: e.conflict.etag || e.etag, item: e.conflict, conflict: null, message: { kind: 'success', key: 'edit.reloaded', vars: { version: digits(e.conflict.properties.version) } } });
        state.fieldErrors = {};
        state.dropTyped = true;
        render();
        if (wasOutline) await startOutline();
        document.getElementById('edit-message')?.focus();
      },
    })) : null;

  if (e.open === 'delist') {
    const reason = h('textarea', { id: 'edit-reason', name: 'reason', rows: 3, maxLength: REASON_MAX, required: true, 'aria-describedby': 'edit-reason-hint' });
    const go = h('button', { type: 'submit', class: 'btn btn-primary', id: 'edit-delist-go', text: t(field ? 'edit.delistPropose' : 'edit.delistGo') });
    const form = h('form', { id: 'edit-delist-form', class: 'edit-form', novalidate: true },
      h('h4', { text: t('edit.delistTitle') }),
      h('div', { class: 'field' },
        h('label', { htmlFor: 'edit-reason' }, t('edit.reason'), ' ', h('span', { class: 'req', text: t('report.required') })),
        h('p', { class: 'hint', id: 'edit-reason-hint', text: t('edit.reasonHint') }),
        reason),
      conflict,
      h('div', { class: 'button-row' }, go,
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'edit-cancel', text: t('edit.cancel'), onclick: () => closeEdit('asset-delist') })),
      status);
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      fieldError(reason, null);
      const why = reason.value.trim();
      if (!why) {
        fieldError(reason, t('edit.needReason'));
        return reason.focus();
      }
      go.disabled = true;
      status.className = 'form-status';
      status.textContent = t('rec.saving');
      try {
        const r = await api.delist(p.layer, p.id, e.etag, why);
        stopEditing();
        Object.assign(e, { open: null, conflict: null });
        if (r.status === 202) {
          e.message = { kind: 'success', key: 'edit.proposed', vars: { id: digits(r.data.id) } };
          render();
          document.getElementById('edit-message')?.focus();
        } else {
          e.message = { kind: 'success', key: 'edit.delisted' };
          await afterWrite(null);
          // The record now says when and why it was delisted.
          document.getElementById('asset-delisted')?.focus();
        }
      } catch (err) {
        saveFailed(err, go);
      }
      return undefined;
    });
    return h('div', { class: 'edit-tools', role: 'group', 'aria-labelledby': 'edit-heading' }, heading, hint, form);
  }

  // The attribute form, and the outline on the map.
  const props = e.item ? e.item.properties : p;
  const fields = attributeFields(p.layer, props, 'edit');
  const note = h('textarea', { id: 'edit-note', name: 'note', rows: 2, maxLength: NOTE_MAX, 'aria-describedby': 'edit-note-hint' });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'edit-save', text: t(field ? 'edit.propose' : 'edit.save') });
  const outlineBtn = h('button', {
    type: 'button', class: 'btn btn-secondary', id: 'edit-outline', 'aria-pressed': String(!!e.outline),
    text: t(e.outline ? 'edit.outlineUndo' : 'edit.outlineStart'),
    onclick: async () => {
      if (e.outline) {
        stopEditing();
        e.outlineChanged = false;
        mapctl.highlight(state.data.geometry);
        render();
      } else await startOutline();
      document.getElementById('edit-outline')?.focus();
    },
  });
  const corner = e.outline ? h('div', { class: 'corner-keys' },
    h('div', { class: 'field' },
      h('label', { htmlFor: 'edit-corner', text: t('edit.cornerLabel') }),
      h('p', { class: 'hint', id: 'edit-corner-hint', text: t('edit.cornerHint') }),
      h('select', { id: 'edit-corner', name: 'corner', 'aria-describedby': 'edit-corner-hint' })),
    h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'edit-corner-move', text: t('edit.cornerMove'),
      onclick: () => {
        const i = Number(document.getElementById('edit-corner').value);
        const c = drawing.corners()[i];
        const centre = mapctl.map.getCenter();
        if (c) drawing.moveCorner(c, [centre.lng, centre.lat]);
      },
    })) : null;
  const form = h('form', { id: 'edit-form', class: 'edit-form', novalidate: true },
    h('h4', { text: t('edit.formTitle') }),
    hint,
    fields.nodes,
    h('div', { class: 'field outline-field' },
      h('p', { class: 'label', text: t('edit.outline') }),
      outlineBtn,
      h('p', { id: 'edit-outline-status', class: 'hint', 'aria-live': 'polite', text: outlineText() }),
      corner),
    h('div', { class: 'field' },
      h('label', { htmlFor: 'edit-note', text: t('edit.note') }),
      h('p', { class: 'hint', id: 'edit-note-hint', text: t('edit.noteHint') }),
      note),
    conflict,
    h('div', { class: 'button-row' }, save,
      h('button', { type: 'button', class: 'btn btn-secondary', id: 'edit-cancel', text: t('edit.cancel'), onclick: () => closeEdit('asset-edit') })),
    status);
  if (e.outline) queueMicrotask(refreshCorners);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    fieldError(note, null);
    const bad = fields.check();
    if (bad) return bad.focus();
    if (note.value.trim().length > NOTE_MAX) {
      fieldError(note, t('err.tooLong.other', { n: fmtNumber(NOTE_MAX) }));
      return note.focus();
    }
    const patch = { properties: changedProperties(fields.read(), props, p.layer) };
    const geometry = e.outline && e.outlineChanged ? drawing.geometry() : null;
    if (geometry) patch.geometry = geometry;
    if (!Object.keys(patch.properties).length) delete patch.properties;
    if (!patch.properties && !patch.geometry) {
      status.className = 'form-status error';
      status.textContent = t('edit.nothing');
      return status.focus();
    }
    if (note.value.trim()) patch.note = note.value.trim();
    save.disabled = true;
    status.className = 'form-status';
    status.textContent = t('rec.saving');
    try {
      const r = await api.patchItem(p.layer, p.id, e.etag, patch);
      stopEditing();
      Object.assign(e, { open: null, conflict: null });
      state.fieldErrors = {};
      if (r.status === 202) {
        // Field staff: the change waits for an officer; the record is as it was.
        e.message = { kind: 'success', key: 'edit.proposed', vars: { id: digits(r.data.id) } };
        mapctl.highlight(state.data.geometry);
        render();
      } else {
        e.message = { kind: 'success', key: 'edit.saved', vars: { version: digits(r.data.properties.version) } };
        afterWrite(r.data);
      }
      document.getElementById('edit-message')?.focus();
    } catch (err) {
      saveFailed(err, save);
    }
    return undefined;
  });
  return h('div', { class: 'edit-tools', role: 'group', 'aria-labelledby': 'edit-heading' }, heading, form);
}

/** A refused edit: 412 offers the newer version, a 400 marks the field it names, else the line says why. */
function saveFailed(err, button) {
  const e = state.edit;
  const btn = document.getElementById(button.id);
  if (btn) btn.disabled = false;
  const line = document.getElementById('edit-message');
  if (err.status === 412 && err.body && err.body.current) {
    e.conflict = { ...err.body.current, etag: err.etag };
    e.message = null;
    render();
    document.getElementById('edit-reload')?.focus();
    return;
  }
  const key = refusedField(err);
  const control = key ? document.getElementById(`edit-${key}`) : null;
  e.message = { kind: 'error', error: err };
  if (line) {
    line.className = 'form-status error';
    line.textContent = editMessage();
  }
  if (control) {
    state.fieldErrors[control.id] = err;
    fieldError(control, refusal(err));
    control.focus();
  } else line?.focus();
}
