// One asset's whole record (#asset/CODE): names in English and Bengali, kind, grade,
// condition and when it was assessed, address and ward, maintenance, inspections and
// public documents, and "report a problem here". Signed-in staff who may record work on
// this asset get the forms first, right under its name; field staff of another ward get
// a line saying why there are none.
import { h, replace, dl, $, fieldError } from './dom.js';
import { t, label, fmtDate, fmtNumber, digits, getLang, kolkataDate } from './i18n.js';
import { api, errorText, staffSession } from './api.js';
import { explain } from './errors.js';
import * as mapctl from './mapctl.js';
import * as report from './report.js';
import * as near from './near.js';
import { verifyForm, forget } from './verify.js';

let ctx;
let seq = 0;
let state = null; // {id, loading, error, data, ward, wardChecked, changes, forms}
const clickPoints = new Map();

const el = () => $('#view-asset');

export function init(c) { ctx = c; }

/** Remembers where the asset was clicked, so the map need not move. */
export function setClickPoint(id, lngLat) {
  clickPoints.set(String(id), { lon: lngLat.lng, lat: lngLat.lat });
}

export function show(id) {
  if (!id) return;
  if (state && state.id === id && state.data) {
    render();
    return;
  }
  load(id);
}

export function hide() {
  seq++;
  mapctl.clearHighlight();
}

export function rerender() { render(); }

async function load(id) {
  const mine = ++seq;
  const click = clickPoints.get(id);
  clickPoints.delete(id);
  forget('asset-verify-result');
  state = { id, loading: true, click };
  render();
  try {
    const data = await api.asset(id);
    if (mine !== seq) return;
    state = { id, data, click };
    loadChanges(mine);
    const p = data.properties || {};
    mapctl.highlight(data.geometry);
    const bbox = mapctl.geometryBbox(data.geometry);
    if (!click && bbox) mapctl.fitBbox(bbox, p.layer === 'wards' ? 15 : 17);
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
    state = { id, error: e };
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
  for (const c of same ? el().querySelectorAll('.staff-tools input, .staff-tools select, .staff-tools textarea') : []) {
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
    return replace(root,
      h('h2', { tabindex: '-1', text: notFound ? t('asset.notFound', { id: state.id }) : t('asset.error', { error: errorText(state.error) }) }));
  }
  const d = state.data;
  const p = d.properties || {};
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
      p.layer === 'water_bodies' && p.status ? badge(`water water-${p.status}`, label('water', p.status)) : null));

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
  const documents = (d.documents || []).map((doc) => h('li', null,
    h('p', { class: 'doc-title' },
      h('a', { href: `/documents/${encodeURIComponent(doc.sha256)}`, target: '_blank', rel: 'noopener', text: doc.title })),
    h('p', { class: 'hint', text: [label('media', doc.media_type) || doc.media_type, fmtSize(doc.size), doc.created_at ? fmtDate(doc.created_at, false) : null].filter(Boolean).join(' · ') }),
    h('p', { class: 'hint mono', text: t('asset.sha', { hash: String(doc.sha256).slice(0, 12) }) })));

  const section = (id, title, items, empty) => h('section', { class: 'record', 'aria-labelledby': id },
    h('h3', { id, text: title }),
    items.length ? h('ol', { class: 'history' }, items) : h('p', { class: 'hint', text: empty }));

  const docs = section('asset-docs', t('asset.documents'), documents, t('asset.noDocuments'));
  docs.append(verifyForm());

  replace(el(), head,
    staffTools(p),
    facts, actions,
    section('asset-maint', t('asset.maintenance'), maintenance, t('asset.noMaintenance')),
    section('asset-insp', t('asset.inspections'), inspections, t('asset.noInspections')),
    docs,
    changesSection());
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
      const key = await promise();
      state.forms[form] = { kind: 'success', key };
      if (after) after();
      const data = await api.asset(p.code);
      state.data = data;
      render();
      loadChanges(seq);
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
    saved('inspection', () => api.inspect(p.code, body).then(() => 'rec.savedInspection'), inspBtn, null, () => {
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
    saved('maintenance', () => api.maintain(p.code, body).then(() => 'rec.savedMaintenance'), maintBtn, null, () => {
      empty('rec-description', 'rec-started_on', 'rec-completed_on', 'rec-contractor', 'rec-cost_inr');
    });
    return undefined;
  });

  // A document (officers and admins).
  let docForm = null;
  if (officer) {
    const file = h('input', { type: 'file', id: 'rec-doc-file', name: 'file', accept: 'application/pdf,image/jpeg,image/png,image/webp' });
    const title = h('input', { type: 'text', id: 'rec-doc-title', name: 'title', maxLength: 200 });
    const pub = h('input', { type: 'checkbox', id: 'rec-doc-public', name: 'public', checked: true });
    const docBtn = h('button', { type: 'submit', class: 'btn btn-primary', id: 'rec-add-doc', text: t('rec.saveDocument') });
    docForm = h('form', { id: 'rec-document-form', novalidate: true },
      field('rec-doc-file', t('rec.docFile'), file),
      field('rec-doc-title', t('rec.docTitle'), title),
      h('label', { class: 'check' }, pub, ' ', t('rec.docPublic')),
      docBtn, statusLine('document'));
    file.addEventListener('change', () => clear(file));
    docForm.addEventListener('submit', (e) => {
      e.preventDefault();
      clear(file, title);
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
      form.append('public', pub.checked ? 'true' : 'false');
      const isPublic = pub.checked;
      saved('document', () => api.addDocument(p.code, form).then(() => (isPublic ? 'rec.savedDocument' : 'rec.savedDocumentPrivate')), docBtn, 'rec-doc-file', () => {
        empty('rec-doc-file', 'rec-doc-title');
      });
      return undefined;
    });
  }

  return h('section', { class: 'record staff-tools', 'aria-labelledby': 'rec-heading' },
    heading, insp,
    folded('maintenance', t('rec.maintenance'), maint),
    docForm ? folded('document', t('rec.document'), docForm) : null);
}
