// Apply for permission for works (#apply, #apply/DRAFT; from an asset's panel
// #apply?asset=HER-0001&layer=heritage): the applicant signs in with a one-time code
// (applicant.js), chooses the type, and fills a draft that is saved as they go (PATCH,
// debounced) and can be resumed from this URL or from My applications. The premises are
// picked on the map (a click on an asset of the type's layer) or found by code, name or
// premises number; their grade decides the works offered — each work is asked of the
// server (`POST /application-types/{code}/check`), and the refused ones are listed with
// the type's reason. Then the type's fields and one upload per document (progress, and the
// SHA-256 the file is kept by). Submitting lists what is still missing (the 422's
// `missing`) in a summary that takes focus; on success, the application number and the
// way to track it.
import { h, replace, $, fieldError, debounce } from './dom.js';
import { t, tn, fmtDate, fmtNumber, getLang, onLangChange } from './i18n.js';
import { api } from './api.js';
import { explain } from './errors.js';
import * as mapctl from './mapctl.js';
import { reveal } from './panel.js';
import * as applicant from './applicant.js';
import * as apps from './apps.js';

const SAVE_AFTER_MS = 800;
const LONG_TEXT = 200; // fields allowing more characters than this get a text area

const state = {
  ctx: null,
  visible: false,
  key: null,             // the draft open (#apply/KEY), or null on the start page
  preset: {},            // {asset, layer, type} from the URL's query (an asset's panel)
  chosenType: null,      // the start page's choice
  drafts: null,          // the applicant's drafts, for "Continue a draft"
  draftsError: null,
  loading: false,
  loadError: null,
  app: null,             // the case record (a draft, or the case once submitted)
  def: null,             // its type as defined for its version
  checks: null,          // {asset, works: Map(work → the server's check)} or {asset, error}
  pending: {},           // field code → value typed and not yet saved
  saving: false,
  inflight: null,        // the PATCH on its way, if any (one at a time)
  sending: {},           // the fields it carries: shown as typed until the answer is here
  savedAt: null,
  saveError: null,
  query: '',
  found: null,           // premises search results, or {error}
  pick: null,            // {key, vars}: what a map click or a search said
  uploads: new Map(),    // an uploader's id → its progress or error
  problems: null,        // {missing: {fields, documents}} | {refused} | {error}: the summary
  starting: false,
  message: null,         // {kind, text()} under the Submit button
  seq: 0,
};

const el = () => $('#view-apply');

export const tabOf = 'track';

export function init(c) {
  state.ctx = c;
  applicant.onChange(() => {
    if (!state.visible) return;
    render();
    if (applicant.signedIn()) {
      if (state.key) load(state.key);
      else loadStart();
      $('#apply-title')?.focus();
    }
  });
  onLangChange(() => {
    // The applicant's messages (the code, the decision) follow the page's language.
    if (state.app && state.app.state === 'draft' && state.app.language !== getLang()) save({ language: getLang() });
  });
}

function parseQuery(query) {
  const u = new URLSearchParams(query || '');
  const out = {};
  for (const k of ['asset', 'layer', 'type']) {
    const v = (u.get(k) || '').trim();
    if (v) out[k] = v;
  }
  return out;
}

export function show(arg, query) {
  state.visible = true;
  const key = arg ? String(arg) : null;
  if (!key) {
    const preset = parseQuery(query);
    if (JSON.stringify(preset) !== JSON.stringify(state.preset)) state.chosenType = null;
    state.preset = preset;
  }
  if (key !== state.key) {
    leave();
    state.key = key;
    state.app = null;
    state.def = null;
    state.checks = null;
    state.pending = {};
    state.savedAt = null;
    state.saveError = null;
    state.problems = null;
    state.message = null;
    state.found = null;
    state.pick = null;
    state.uploads.clear();
  }
  syncPicking();
  render();
  apps.types().then(() => { if (state.visible) render(); });
  if (!applicant.signedIn()) return;
  if (state.key && !(state.app && (state.app.draft === state.key || state.app.number === state.key))) load(state.key);
  else if (!state.key) loadStart();
  else showAsset();
}

export function hide() {
  state.visible = false;
  state.seq++;
  flush();
  mapctl.setPickHandler(null);
  mapctl.clearHighlight();
}

export function rerender() { render(); }

/** While a draft is open, a click on the map chooses the premises there. */
function syncPicking() {
  const editing = state.visible && state.app && state.app.state === 'draft';
  mapctl.setPickHandler(editing ? onMapPick : null);
}

// ---- loading ------------------------------------------------------------------------------

async function loadStart() {
  const mine = ++state.seq;
  try {
    const r = await api.myApplications();
    if (mine !== state.seq) return;
    state.drafts = (r.items || []).filter((a) => a.state === 'draft');
    state.draftsError = null;
  } catch (e) {
    if (mine !== state.seq) return;
    state.draftsError = e;
  }
  render();
}

async function load(key) {
  const mine = ++state.seq;
  state.loading = true;
  state.loadError = null;
  render();
  try {
    const app = await api.myApplication(key);
    const def = await apps.typeDef(app.type.code, app.type.version);
    if (mine !== state.seq) return;
    state.app = app;
    state.def = def;
  } catch (e) {
    if (mine !== state.seq) return;
    state.loadError = e;
  }
  state.loading = false;
  syncPicking();
  render();
  if (state.app && state.app.asset) {
    runChecks();
    showAsset();
  }
}

/**
 * What the rules allow at the draft's premises: every work of the type, asked of the
 * server, so a refused one is explained with the type's own reason.
 */
async function runChecks() {
  const asset = state.app && state.app.asset ? state.app.asset.code : null;
  if (!asset || !state.def) return;
  if (state.checks && state.checks.asset === asset && !state.checks.error) return;
  state.checks = { asset, works: null };
  render();
  const works = Object.keys(state.def.works || {});
  try {
    const answers = await Promise.all(works.map((w) => api.checkWork(state.def.code, asset, w)));
    if (!state.checks || state.checks.asset !== asset) return;
    state.checks = { asset, works: new Map(works.map((w, i) => [w, answers[i]])) };
  } catch (e) {
    if (!state.checks || state.checks.asset !== asset) return;
    state.checks = { asset, error: e };
  }
  render();
}

/** Outlines the premises on the map and brings them into view. */
function showAsset() {
  const code = state.app && state.app.asset ? state.app.asset.code : null;
  apps.premisesOnMap(code, () => state.visible && state.app && state.app.asset && state.app.asset.code === code);
}

// ---- starting a draft ---------------------------------------------------------------------------

async function start() {
  const type = state.chosenType || (apps.knownTypes().length === 1 ? apps.knownTypes()[0].code : null);
  const line = () => $('#apply-start-status');
  if (!type) {
    fieldError($('#apply-type-choice'), t('apply.needType'));
    $('#apply-type-choice input')?.focus();
    return;
  }
  state.starting = true;
  render();
  const body = { type, language: getLang() };
  const ty = apps.knownTypes().find((x) => x.code === type);
  if (state.preset.asset && (!state.preset.layer || !ty || ty.asset_layer === state.preset.layer)) body.asset = state.preset.asset;
  try {
    const app = await api.newApplication(body);
    state.starting = false;
    state.app = app;
    state.def = await apps.typeDef(app.type.code, app.type.version);
    state.key = app.draft;
    state.preset = {};
    state.ctx.navigate(`#apply/${encodeURIComponent(app.draft)}`, { replace: true });
    if (app.asset) {
      runChecks();
      showAsset();
    }
  } catch (e) {
    state.starting = false;
    render();
    const l = line();
    if (l) {
      l.className = 'form-status error';
      l.textContent = t('apply.startFailed', { error: refusalText(e) || explain(e) });
      l.focus();
    }
  }
}

/** The server's refusal at entry ({en, bn} in a 422), in the page's language. */
function refusalText(e) {
  return e && e.body && e.body.refused ? apps.tx(e.body.refused) : null;
}

// ---- saving ----------------------------------------------------------------------------------

const saveSoon = debounce(() => save(), SAVE_AFTER_MS);

/**
 * Saves what was typed (and `extra`: the premises, the work, the language) to the draft.
 * One PATCH at a time: the server merges a draft's fields into what it read, so two at once
 * could each write over the other's (and their answers could arrive out of order). A save
 * asked for meanwhile waits for the one in flight, then sends everything pending by then.
 */
async function save(extra = null) {
  if (!state.app || state.app.state !== 'draft') return null;
  saveSoon.cancel();
  while (state.inflight) await state.inflight.catch(() => null);
  if (!state.app || state.app.state !== 'draft') return null;
  const fields = state.pending;
  const body = { ...(extra || {}) };
  if (Object.keys(fields).length) {
    body.fields = {};
    for (const [k, v] of Object.entries(fields)) body.fields[k] = v.trim() ? v : null;
  }
  if (!Object.keys(body).length) return null;
  state.pending = {};
  state.sending = fields;
  state.saving = true;
  drawSaveLine();
  const key = state.app.draft;
  const sent = (async () => {
    try {
      const app = await api.patchApplication(key, body);
      if (state.app && state.app.draft === key) {
        // What was typed meanwhile stays pending; the rest is the server's.
        state.app = app;
        state.savedAt = new Date();
        state.saveError = null;
      }
      return app;
    } catch (e) {
      // Kept to be sent again with the next change (or Save now).
      for (const [k, v] of Object.entries(fields)) if (!(k in state.pending)) state.pending[k] = v;
      state.saveError = e;
      throw e;
    }
  })();
  state.inflight = sent;
  try {
    return await sent;
  } finally {
    if (state.inflight === sent) {
      state.inflight = null;
      state.sending = {};
    }
    state.saving = !!state.inflight;
    drawSaveLine();
  }
}

/**
 * Another draft (or the start page) is opening: what was typed into this one goes to it,
 * after the save in flight, while the view moves on.
 */
function leave() {
  saveSoon.cancel();
  const app = state.app;
  const fields = state.pending;
  if (!app || app.state !== 'draft' || !Object.keys(fields).length) return;
  const body = { fields: Object.fromEntries(Object.entries(fields).map(([k, v]) => [k, v.trim() ? v : null])) };
  (state.inflight || Promise.resolve()).catch(() => null).then(() => api.patchApplication(app.draft, body)).catch(() => {});
}

/** Sends what is pending now, after any save in flight (leaving the view, submitting). */
function flush() {
  if (state.app && (Object.keys(state.pending).length || state.inflight)) return save().catch(() => null);
  return Promise.resolve(null);
}

function saveText() {
  if (state.saving) return t('apply.saving');
  if (state.saveError) return t('apply.saveFailed', { error: explain(state.saveError) });
  if (Object.keys(state.pending).length) return t('apply.unsaved');
  if (state.savedAt) return t('apply.savedAt', { time: fmtDate(state.savedAt.toISOString()) });
  return t('apply.autosave');
}

function drawSaveLine() {
  const line = $('#apply-save');
  if (!line) return;
  line.textContent = saveText();
  line.className = `save-line${state.saveError ? ' error' : ''}`;
  const retry = $('#apply-save-retry');
  if (retry) retry.hidden = !state.saveError;
}

// ---- the premises ----------------------------------------------------------------------------------

/** A click on the map while a draft is open: the asset of the type's layer there, if any. */
function onMapPick(lngLat, features) {
  if (!state.def) return;
  const layer = state.def.asset_layer;
  const hit = (features || []).find((f) => (f.sourceLayer === layer || (f.sourceLayer === 'labels' && f.properties.layer === layer)) && f.properties.code);
  if (!hit) {
    state.pick = { key: layer === 'water_bodies' ? 'apply.pickNoWater' : 'apply.pickNoHeritage' };
    render();
    reveal($('#apply-pick'));
    return;
  }
  chooseAsset(hit.properties.code);
}

async function findPremises(q) {
  state.query = q;
  state.found = null;
  state.pick = null;
  const mine = ++state.seq;
  const layer = state.def.asset_layer;
  render();
  const like = q.replace(/'/g, "''");
  try {
    const [byName, byAddress] = await Promise.all([
      api.search(q, undefined, 20),
      // A premises number is the start of an address ("46 Muktaram Babu Street").
      api.items(layer, { filter: `address LIKE '%${like}%'`, limit: 20 }).catch(() => ({ features: [] })),
    ]);
    if (mine !== state.seq) return;
    const seen = new Set();
    const found = [];
    for (const f of [...(byName.features || []), ...(byAddress.features || [])]) {
      const p = f.properties || {};
      if ((p.layer || layer) !== layer || !p.code || seen.has(p.code)) continue;
      seen.add(p.code);
      found.push(p);
    }
    state.found = found;
  } catch (e) {
    if (mine !== state.seq) return;
    state.found = { error: e };
  }
  render();
  $('#apply-found-status')?.focus();
}

/** Makes `code` the draft's premises; a work their rule refuses is dropped with it. */
async function chooseAsset(code) {
  if (!state.app) return;
  state.pick = { key: 'apply.choosing', vars: { code } };
  state.found = null;
  render();
  const body = { asset: code };
  try {
    const chk = state.app.work ? await api.checkWork(state.def.code, code, state.app.work) : null;
    if (chk && !chk.allowed) body.work = null;
    await save(body);
    state.pick = chk && !chk.allowed ? { key: 'apply.workDropped', vars: { work: apps.workName(state.def, chk.work), reason: apps.tx(chk.reason) } } : null;
    state.problems = null;
  } catch (e) {
    state.pick = { error: e };
  }
  render();
  runChecks();
  showAsset();
  const target = state.pick ? $('#apply-pick') : $('#apply-asset');
  if (target) {
    reveal(target);
    target.focus({ preventScroll: true });
  }
}

async function chooseWork(work) {
  try {
    await save({ work });
    state.problems = null;
    render();
  } catch (e) {
    if (e.body && e.body.refused) state.problems = { refused: e.body.refused };
    render();
  }
}

// ---- submitting ----------------------------------------------------------------------------------

async function submit() {
  const btn = $('#apply-submit');
  if (btn) btn.disabled = true;
  state.message = { kind: '', text: () => t('apply.submitting') };
  drawMessage();
  try {
    await flush();
    if (state.saveError) throw state.saveError;
    const app = await api.submitApplication(state.app.draft);
    state.app = app;
    state.problems = null;
    state.message = null;
    syncPicking();
    mapctl.clearHighlight();
    render();
    const done = $('#apply-done');
    done?.focus();
    return;
  } catch (e) {
    if (e.status === 422 && e.body && e.body.missing) {
      state.problems = { missing: e.body.missing };
      state.message = null;
    } else if (e.status === 422 && e.body && e.body.refused) {
      state.problems = { refused: e.body.refused };
      state.message = null;
    } else {
      state.problems = null;
      state.message = { kind: 'error', text: () => t('apply.submitFailed', { error: explain(e) }) };
    }
  }
  render();
  const summary = state.problems ? $('#apply-errors') : $('#apply-message');
  if (summary) {
    reveal(summary);
    summary.focus({ preventScroll: true });
  }
}

function drawMessage() {
  const line = $('#apply-message');
  if (!line) return;
  line.textContent = state.message ? state.message.text() : '';
  line.className = `form-status${state.message && state.message.kind ? ` ${state.message.kind}` : ''}`;
}

// ---- drawing ----------------------------------------------------------------------------------

/** Redraws, keeping focus on the same control (a language switch, an answer arriving). */
function render() {
  if (!state.visible) return;
  const root = el();
  const active = document.activeElement;
  const focusId = root.contains(active) && active.id ? active.id : null;
  draw(root);
  if (focusId && document.getElementById(focusId) && document.activeElement !== document.getElementById(focusId)) {
    document.getElementById(focusId).focus({ preventScroll: true });
  }
}

function title(text) {
  return h('h2', { id: 'apply-title', tabindex: '-1', text });
}

function links() {
  return h('div', { class: 'button-row app-links' },
    h('button', { type: 'button', class: 'btn btn-secondary', id: 'apply-to-mine', text: t('mine.title'), onclick: () => state.ctx.navigate('#my-applications') }),
    h('button', { type: 'button', class: 'btn btn-secondary', id: 'apply-to-track', text: t('atrack.title'), onclick: () => state.ctx.navigate('#application') }),
    h('button', { type: 'button', class: 'btn btn-secondary', id: 'apply-to-decisions', text: t('dec.title'), onclick: () => state.ctx.navigate('#decisions') }));
}

function draw(root) {
  if (!applicant.signedIn()) {
    return replace(root, title(t('apply.title')),
      h('p', { class: 'intro', text: t('apply.intro') }),
      applicant.form('apply', t('apply.signInIntro')),
      links());
  }
  if (!state.key) return replace(root, title(t('apply.title')), applicant.whoBar('apply'), startPage(), links());
  if (state.loadError) {
    return replace(root, title(t('apply.title')), applicant.whoBar('apply'),
      h('p', { class: 'error', role: 'alert', text: state.loadError.status === 404 ? t('apply.notFound', { key: state.key }) : t('apply.loadFailed', { error: explain(state.loadError) }) }),
      links());
  }
  if (!state.app || !state.def) return replace(root, title(t('apply.title')), h('p', { text: t('staff.loading') }));
  if (state.app.state !== 'draft') return replace(root, title(t('apply.title')), applicant.whoBar('apply'), done(state.app));
  return replace(root,
    h('p', { class: 'eyebrow', text: apps.typeName(state.def) }),
    title(t('apply.title')),
    applicant.whoBar('apply'),
    h('p', { class: 'hint', id: 'apply-draft', text: t('apply.draftLine', { date: fmtDate(state.app.created_at, false) }) }),
    h('div', { class: 'save-row' },
      h('p', { id: 'apply-save', class: `save-line${state.saveError ? ' error' : ''}`, role: 'status', 'aria-live': 'polite', text: saveText() }),
      h('button', { type: 'button', class: 'btn btn-secondary', id: 'apply-save-retry', hidden: !state.saveError, text: t('apply.saveNow'), onclick: () => save().then(render, render) })),
    summary(),
    premisesSection(),
    workSection(),
    fieldsSection(),
    documentsSection(),
    submitSection());
}

function startPage() {
  const types = apps.knownTypes();
  const err = apps.typesError();
  const preset = state.preset;
  const choices = preset.type ? types.filter((x) => x.code === preset.type)
    : (preset.layer ? types.filter((x) => x.asset_layer === preset.layer) : types);
  if (!state.chosenType && choices.length === 1) state.chosenType = choices[0].code;
  const drafts = state.drafts || [];
  return [
    drafts.length ? h('section', { class: 'record', 'aria-labelledby': 'apply-drafts-title' },
      h('h3', { id: 'apply-drafts-title', text: t('apply.drafts') }),
      h('ul', { class: 'cards', id: 'apply-drafts' }, drafts.map((d) => h('li', null, h('button', {
        type: 'button', class: 'card card-button', dataset: { draft: d.draft },
        onclick: () => state.ctx.navigate(`#apply/${encodeURIComponent(d.draft)}`),
      },
      h('span', { class: 'card-line card-title', text: t('apply.draftOf', { date: fmtDate(d.created_at, false) }) }),
      h('span', { class: 'card-line', text: [apps.typeName(d.type), apps.premises(d.asset), apps.workOf(d) || null].filter(Boolean).join(' · ') }),
      h('span', { class: 'card-line hint', text: t('apply.continue') })))))) : null,
    state.draftsError ? h('p', { class: 'error', text: t('mine.loadFailed', { error: explain(state.draftsError) }) }) : null,
    h('section', { class: 'record', 'aria-labelledby': 'apply-new-title' },
      h('h3', { id: 'apply-new-title', text: t('apply.new') }),
      preset.asset ? h('p', { class: 'notice', id: 'apply-preset', text: t('apply.forAsset', { code: preset.asset }) }) : null,
      err ? h('p', { class: 'error', role: 'alert', text: t('apply.typesFailed', { error: explain(err) }) }) : null,
      !types.length && !err ? h('p', { text: t('staff.loading') }) : null,
      choices.length ? h('fieldset', { class: 'field radios', id: 'apply-type-choice' },
        h('legend', null, t('apply.type'), ' ', h('span', { class: 'req', text: t('report.required') })),
        choices.map((ty) => h('label', { class: 'choice' },
          h('input', {
            type: 'radio', name: 'apply-type', value: ty.code, checked: state.chosenType === ty.code,
            onchange: () => { state.chosenType = ty.code; fieldError($('#apply-type-choice'), null); },
          }),
          h('span', null, h('span', { class: 'choice-name', text: apps.tx(ty.name) }), h('span', { class: 'hint choice-hint', text: t(`apply.layer.${ty.asset_layer}`) }))))) : null,
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'btn btn-primary', id: 'apply-start', disabled: state.starting || !choices.length, text: t('apply.start'), onclick: start })),
      h('p', { id: 'apply-start-status', role: 'status', tabindex: '-1', class: 'form-status', text: state.starting ? t('apply.starting') : '' })),
  ];
}

/** The error summary after a refused submission: each entry moves focus to its field. */
function summary() {
  const p = state.problems;
  const box = h('div', { id: 'apply-errors', class: 'error-summary', role: 'alert', tabindex: '-1', hidden: !p });
  if (!p) return box;
  if (p.refused) return replace(box, h('p', { text: t('apply.refused') }), h('p', { class: 'refusal', text: apps.tx(p.refused) }));
  const items = [];
  // The premises and the work, when not chosen yet, are `choices` (or named among the fields).
  for (const code of [...(p.missing.choices || []), ...(p.missing.fields || [])]) {
    if (code === 'asset') items.push([t('apply.premises'), 'apply-find']);
    else if (code === 'work') items.push([t('apply.work'), 'apply-work']);
    else {
      const f = (state.def.fields || []).find((x) => x.code === code);
      items.push([f ? apps.tx(f.label) : code, `apply-field-${code}`]);
    }
  }
  for (const code of p.missing.documents || []) {
    const d = (state.def.documents || []).find((x) => x.code === code);
    items.push([d ? apps.tx(d.label) : code, `apply-doc-${code}`]);
  }
  return replace(box,
    h('p', { text: tn('apply.missing', items.length) }),
    h('ul', null, items.map(([text, id]) => h('li', null, h('button', {
      type: 'button', class: 'link', text,
      onclick: () => {
        const target = document.getElementById(id);
        const focusable = target && (target.matches('input, select, textarea, button') ? target : target.querySelector('input, select, textarea, button'));
        if (focusable) {
          reveal(focusable);
          focusable.focus({ preventScroll: true });
        }
      },
    })))));
}

const missingField = (code) => !!(state.problems && state.problems.missing && (state.problems.missing.fields || []).includes(code));
const missingDoc = (code) => !!(state.problems && state.problems.missing && (state.problems.missing.documents || []).includes(code));

function pickText() {
  const p = state.pick;
  if (!p) return '';
  if (p.error) return refusalText(p.error) || t('apply.pickFailed', { error: explain(p.error) });
  return t(p.key, p.vars);
}

function premisesSection() {
  const a = state.app.asset;
  const layer = state.def.asset_layer;
  const find = h('input', { type: 'search', id: 'apply-find', name: 'q', autocomplete: 'off', spellcheck: false, value: state.query, 'aria-describedby': 'apply-find-hint' });
  const form = h('form', { class: 'inline-form', id: 'apply-find-form', role: 'search', novalidate: true },
    h('div', { class: 'field' },
      h('label', { htmlFor: 'apply-find', text: t('apply.find') }),
      h('p', { class: 'hint', id: 'apply-find-hint', text: t(layer === 'water_bodies' ? 'apply.findHintWater' : 'apply.findHint') }),
      h('div', { class: 'input-with-button' }, find, h('button', { type: 'submit', class: 'btn btn-primary', id: 'apply-find-go', text: t('apply.findGo') }))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const q = find.value.trim();
    if (!q) return find.focus();
    return findPremises(q);
  });
  let results = null;
  if (state.found && state.found.error) results = h('p', { id: 'apply-found-status', tabindex: '-1', class: 'error', text: t('apply.findFailed', { error: explain(state.found.error) }) });
  else if (Array.isArray(state.found)) {
    results = [
      h('p', { id: 'apply-found-status', tabindex: '-1', class: 'hint', text: state.found.length ? tn('apply.foundCount', state.found.length) : t('apply.foundNone', { q: state.query }) }),
      state.found.length ? h('ul', { class: 'cards', id: 'apply-found' }, state.found.map((p) => h('li', null, h('button', {
        type: 'button', class: 'card card-button', dataset: { code: p.code }, onclick: () => chooseAsset(p.code),
      },
      h('span', { class: 'card-line card-title', text: apps.premises(p) }),
      h('span', { class: 'card-line hint', text: [layer === 'heritage' ? (p.grade ? t(`grade.${p.grade}`) : t('asset.ungraded')) : null, p.address].filter(Boolean).join(' · ') }))))) : null,
    ];
  }
  return h('section', { class: 'record app-section', id: 'apply-premises', 'aria-labelledby': 'apply-premises-title' },
    h('h3', { id: 'apply-premises-title', text: t('apply.step.premises') }),
    a ? h('div', { class: 'app-asset', id: 'apply-asset', tabindex: '-1' },
      h('p', { class: 'card-title' }, apps.premises(a)),
      layer === 'heritage' ? h('p', { class: 'badges' }, apps.gradeBadge(a.grade)) : null,
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'apply-show-asset', text: t('track.showOnMap'), onclick: () => showAsset() }),
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'apply-open-asset', text: t('apply.openAsset'), onclick: () => state.ctx.navigate(`#asset/${encodeURIComponent(a.code)}`) })))
      : h('p', { class: 'hint', id: 'apply-asset', tabindex: '-1', text: t('apply.noAsset') }),
    h('p', { class: 'hint', text: t(layer === 'water_bodies' ? 'apply.pickHintWater' : 'apply.pickHint') }),
    form,
    h('p', { id: 'apply-pick', tabindex: '-1', role: 'status', class: `form-status${state.pick && (state.pick.error || state.pick.key !== 'apply.choosing') ? ' warning-text' : ''}`, text: pickText() }),
    results);
}

function workSection() {
  const a = state.app.asset;
  const def = state.def;
  const body = [];
  if (!a) body.push(h('p', { class: 'hint', id: 'apply-work', text: t('apply.workAfterAsset') }));
  else if (!state.checks || (!state.checks.works && !state.checks.error)) body.push(h('p', { id: 'apply-work', text: t('apply.checking') }));
  else if (state.checks.error) {
    body.push(h('p', { class: 'error', id: 'apply-work', text: t('apply.checkFailed', { error: explain(state.checks.error) }) }),
      h('button', { type: 'button', class: 'btn btn-secondary', text: t('apply.retry'), onclick: () => { state.checks = null; runChecks(); } }));
  } else {
    const checks = state.checks.works;
    const allowed = [...checks.values()].filter((c) => c.allowed);
    const refused = [...checks.values()].filter((c) => !c.allowed);
    if (allowed.length) {
      body.push(h('fieldset', { class: 'field radios', id: 'apply-work', 'aria-describedby': refused.length ? 'apply-refused-title' : null },
        h('legend', null, t('apply.workLegend'), ' ', h('span', { class: 'req', text: t('report.required') })),
        allowed.map((c) => h('label', { class: 'choice' },
          h('input', { type: 'radio', name: 'apply-work', id: `apply-work-${c.work}`, value: c.work, checked: state.app.work === c.work, onchange: () => chooseWork(c.work) }),
          ' ', apps.workName(def, c.work)))));
      const chosen = state.app.work ? checks.get(state.app.work) : null;
      if (chosen && chosen.allowed) {
        body.push(h('div', { class: 'app-path', id: 'apply-path' },
          h('p', { text: tn('apply.pathIntro', chosen.path.length, { days: fmtNumber(chosen.days) }) }),
          h('ol', null, chosen.path.map((s) => h('li', { text: t('apply.pathStage', { name: apps.tx(s.name), days: fmtNumber(s.days) }) })))));
      }
    } else {
      body.push(h('p', { class: 'notice refusal', id: 'apply-work', text: t('apply.nothingAllowed') }));
    }
    if (refused.length) {
      body.push(h('div', { class: 'app-refused', id: 'apply-refused' },
        h('p', { class: 'what', id: 'apply-refused-title', text: a.grade ? t('apply.refusedFor', { grade: t(`grade.${a.grade}`) }) : t('apply.refusedHere') }),
        h('ul', null, refused.map((c) => h('li', { id: `apply-refused-${c.work}`, dataset: { work: c.work } },
          h('span', { class: 'refused-mark', 'aria-hidden': 'true', text: '✕ ' }), apps.tx(c.reason) || apps.workName(def, c.work))))));
    }
  }
  return h('section', { class: 'record app-section', id: 'apply-work-section', 'aria-labelledby': 'apply-work-title' },
    h('h3', { id: 'apply-work-title', text: t('apply.step.work') }), body);
}

function fieldsSection() {
  const values = state.app.fields || {};
  return h('section', { class: 'record app-section', id: 'apply-fields', 'aria-labelledby': 'apply-fields-title' },
    h('h3', { id: 'apply-fields-title', text: t('apply.step.fields') }),
    (state.def.fields || []).map((f) => {
      const id = `apply-field-${f.code}`;
      let value = values[f.code] ?? '';
      if (f.code in state.sending) value = state.sending[f.code];
      if (f.code in state.pending) value = state.pending[f.code];
      const long = f.max_chars > LONG_TEXT;
      const control = h(long ? 'textarea' : 'input', {
        id, name: f.code, maxLength: f.max_chars, value, rows: long ? 4 : undefined, type: long ? undefined : 'text',
        required: !!f.required, 'aria-describedby': long ? `${id}-count` : null,
      });
      const counter = long ? h('p', { class: 'hint counter', id: `${id}-count`, 'aria-live': 'polite', text: t('apply.count', { n: fmtNumber(value.length), max: fmtNumber(f.max_chars) }) }) : null;
      control.addEventListener('input', () => {
        state.pending[f.code] = control.value;
        if (counter) counter.textContent = t('apply.count', { n: fmtNumber(control.value.length), max: fmtNumber(f.max_chars) });
        if (control.value.trim()) fieldError(control, null);
        drawSaveLine();
        saveSoon();
      });
      control.addEventListener('change', () => { if (f.code in state.pending) save().catch(() => null); });
      const box = h('div', { class: 'field' },
        h('label', { htmlFor: id }, apps.tx(f.label), f.required ? [' ', h('span', { class: 'req', text: t('report.required') })] : null),
        control, counter);
      if (missingField(f.code) && !String(value).trim()) queueMicrotask(() => fieldError(document.getElementById(id), t('err.required')));
      return box;
    }));
}

function documentsSection() {
  const files = state.app.files || [];
  const key = state.app.draft;
  return h('section', { class: 'record app-section', id: 'apply-documents', 'aria-labelledby': 'apply-documents-title' },
    h('h3', { id: 'apply-documents-title', text: t('apply.step.documents') }),
    h('p', { class: 'hint', text: t('apply.documentsHint') }),
    (state.def.documents || []).map((d) => {
      const mine = files.filter((f) => f.doc === d.code);
      const id = `apply-doc-${d.code}`;
      if (missingDoc(d.code) && !mine.length && !state.uploads.get(id)) state.uploads.set(id, { error: t('apply.needDocument') });
      return h('div', { class: 'app-doc', id: `${id}-box`, dataset: { doc: d.code } },
        apps.uploader({
          id, labelText: apps.tx(d.label), required: d.required, uploads: state.uploads,
          send: (file, onProgress) => api.addApplicationFile(key, d.code, file, onProgress),
          done: (answer, file, how) => {
            if (answer && state.app && state.app.draft === key) {
              state.app = { ...state.app, files: [...(state.app.files || []).filter((x) => !(x.doc === answer.doc && x.sha256 === answer.sha256)), { ...answer, doc: answer.doc || d.code }] };
              if (state.problems && state.problems.missing) {
                state.problems.missing.documents = (state.problems.missing.documents || []).filter((c) => c !== d.code);
              }
            }
            render();
            if (!how || !how.started) {
              const target = answer ? document.querySelector(`#${id}-box .app-file:last-of-type`) : document.getElementById(id);
              if (answer && target) reveal(target);
              if (!answer) document.getElementById(id)?.focus();
            }
          },
        }),
        mine.length ? h('ul', { class: 'app-files', id: `${id}-files`, 'aria-label': t('apply.filesFor', { doc: apps.tx(d.label) }) },
          mine.map((f) => apps.fileLine(f, { idPrefix: id, onRemove: (x) => removeFile(d.code, x) }))) : null);
    }));
}

async function removeFile(doc, f) {
  const key = state.app.draft;
  try {
    await api.removeApplicationFile(key, doc, f.sha256);
    if (state.app && state.app.draft === key) state.app = { ...state.app, files: (state.app.files || []).filter((x) => !(x.doc === doc && x.sha256 === f.sha256)) };
    state.uploads.delete(`apply-doc-${doc}`);
  } catch (e) {
    state.uploads.set(`apply-doc-${doc}`, { error: t('apply.removeFailed', { error: explain(e) }) });
  }
  render();
  document.getElementById(`apply-doc-${doc}`)?.focus();
}

function submitSection() {
  return h('section', { class: 'record app-section', id: 'apply-submit-section', 'aria-labelledby': 'apply-submit-title' },
    h('h3', { id: 'apply-submit-title', text: t('apply.step.submit') }),
    h('p', { class: 'hint', text: t('apply.submitHint') }),
    h('div', { class: 'button-row' },
      h('button', { type: 'button', class: 'btn btn-primary', id: 'apply-submit', text: t('apply.submit'), onclick: submit })),
    h('p', { id: 'apply-message', role: 'status', tabindex: '-1', class: `form-status${state.message && state.message.kind ? ` ${state.message.kind}` : ''}`, text: state.message ? state.message.text() : '' }));
}

/** After submission: the number, what happens next, and the way to follow it. */
function done(app) {
  const number = app.number || '';
  const first = (app.stages || []).find((s) => s.started_at && !s.ended_at);
  return h('section', { class: 'record app-done', id: 'apply-done', tabindex: '-1', 'aria-labelledby': 'apply-done-title' },
    h('h3', { id: 'apply-done-title', class: 'success-title', text: t('apply.submitted') }),
    h('p', { class: 'ticket-label', text: t('apply.yourNumber') }),
    h('p', { class: 'ticket-big ticket', id: 'apply-number', text: number }),
    h('p', { text: t('apply.keepNumber') }),
    first ? h('p', { text: t('apply.firstStage', { stage: apps.stageName(state.def, first.stage, first.name), days: fmtNumber(first.limit_days) }) }) : null,
    h('div', { class: 'button-row' },
      h('button', { type: 'button', class: 'btn btn-primary', id: 'apply-track', text: t('apply.trackIt'), onclick: () => state.ctx.navigate(`#application/${encodeURIComponent(number)}`) }),
      h('button', { type: 'button', class: 'btn btn-secondary', id: 'apply-open-mine', text: t('mine.title'), onclick: () => state.ctx.navigate(`#my-applications/${encodeURIComponent(number)}`) }),
      h('button', { type: 'button', class: 'btn btn-secondary', id: 'apply-another', text: t('apply.another'), onclick: () => state.ctx.navigate('#apply') })));
}

/** For an asset's panel: "Apply for permission for works" on premises of a type's layer. */
export function applyHref(p) {
  return `#apply?${api.qs({ asset: p.code, layer: p.layer })}`;
}

/**
 * Whether an asset's panel offers to apply: a graded heritage building (the heritage
 * sanction is for graded premises only) or a water body.
 */
export const appliesTo = (p) => (p.layer === 'heritage' && !!p.grade) || p.layer === 'water_bodies';
