// The department's desk (#desk, #desk/NUMBER; signed-in staff, under the Staff tab): the
// cases at the stages the user's duties cover, oldest first (`GET /desk`), each with the
// days used of its stage's limit and, in words, whether it is overdue, waiting for the
// applicant or on an HCC agenda. A case opens as staff see it (`GET /applications/{number}`:
// the applicant's contact, the files, every step), with the forms its current stage allows
// the user (`POST /applications/{number}/actions`): forward with a scrutiny note, the
// Mayor-in-Council's resolution, an officials' decision, issuing the letter; and at any
// open stage, a request to the applicant for documents or an internal note. The HCC's
// recommendation is recorded in a meeting (hcc.js).
import { h, replace, $, fieldError } from './dom.js';
import { t, tn, label, fmtDate, fmtNumber, kolkataDate } from './i18n.js';
import { api, staffSession } from './api.js';
import { explain } from './errors.js';
import { reveal } from './panel.js';
import * as apps from './apps.js';
import * as mapctl from './mapctl.js';
import { fmtSize } from './docview.js';

const TEXT_MAX = 4000;
/** The step a stage's product is recorded by. */
const ACTION_FOR = { scrutiny_note: 'forward', resolution: 'resolution', decision: 'decide', letter: 'issue' };

let ctx;
let visible = false;
let who = null;          // {role, duties}
let filters = { stage: '', type: '' };
let items = null;
let itemsError = null;
let openNumber = null;
let rec = null;          // the case as staff see it
let def = null;
let recError = null;
let message = null;      // {kind, text()}
let typed = null;        // {number, action, values: {id → value}}: the action form across redraws
let problems = {};       // control id → message
let seq = 0;

const el = () => $('#view-desk');

export const tabOf = 'staff';

export function init(c) {
  ctx = c;
}

export function show(arg) {
  visible = true;
  const n = arg ? String(arg).toUpperCase() : null;
  if (n !== openNumber) {
    openNumber = n;
    rec = null;
    def = null;
    recError = null;
  }
  // What the last action said belongs to that moment, not to the case opened again.
  message = null;
  problems = {};
  render();
  if (!staffSession()) return;
  apps.types().then(() => { if (visible) render(); });
  apps.staffDuties().then((w) => {
    who = w;
    if (visible) render();
  }, () => {});
  load();
}

export function hide() {
  visible = false;
  seq++;
  mapctl.clearHighlight();
}

export function rerender() { render(); }
export const atStart = () => !openNumber;

async function load() {
  const mine = ++seq;
  try {
    if (openNumber) {
      const r = await api.staffApplication(openNumber);
      const d = await apps.typeDef(r.type.code, r.type.version).catch(() => null);
      if (mine !== seq) return;
      rec = r;
      def = d;
      recError = null;
      if (r.asset) apps.premisesOnMap(r.asset.code, () => visible && rec === r);
    } else {
      const r = await api.desk({ stage: filters.stage, type: filters.type });
      if (mine !== seq) return;
      items = r.items || [];
      itemsError = null;
    }
  } catch (e) {
    if (mine !== seq) return;
    if (openNumber) recError = e;
    else itemsError = e;
  }
  render();
}

/** Redraws, keeping what was typed and the focus. */
function render() {
  if (!visible) return;
  const root = el();
  const active = document.activeElement;
  const focusId = root.contains(active) && active.id ? active.id : null;
  const title = h('h2', { id: 'desk-title', tabindex: '-1', text: t('desk.title') });
  const back = h('div', { class: 'button-row' }, h('button', {
    type: 'button', class: 'btn btn-secondary', id: 'desk-to-staff', text: `← ${t('mod.backToStaff')}`, onclick: () => ctx.navigate('#staff'),
  }));
  if (!staffSession()) {
    replace(root, title, h('p', { text: t('desk.signIn') }),
      h('button', { type: 'button', class: 'btn btn-primary', text: t('staff.signIn'), onclick: () => ctx.navigate('#staff') }));
  } else if (openNumber) {
    replace(root, title, h('div', { class: 'button-row' }, h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'desk-back', text: `← ${t('desk.back')}`,
      onclick: () => ctx.navigate('#desk'),
    })), caseView());
  } else {
    replace(root, title, h('p', { class: 'intro', text: t('desk.intro') }), whoLine(), filterForm(), listView(), back);
  }
  for (const [id, m] of Object.entries(problems)) fieldError(document.getElementById(id), m);
  if (focusId && document.getElementById(focusId) && document.activeElement !== document.getElementById(focusId)) document.getElementById(focusId).focus({ preventScroll: true });
}

function whoLine() {
  if (!who) return null;
  if (who.role === 'admin') return h('p', { class: 'hint', id: 'desk-duties', text: t('desk.admin') });
  return h('p', { class: 'hint', id: 'desk-duties', text: who.duties.length ? t('desk.duties', { duties: who.duties.map((d) => label('duty', d)).join(', ') }) : t('desk.noDuties') });
}

function filterForm() {
  const types = apps.knownTypes();
  const stages = new Map();
  for (const ty of types) for (const [code, st] of Object.entries(ty.stages || {})) if (!stages.has(code)) stages.set(code, st);
  const stage = h('select', { id: 'desk-stage', name: 'stage' },
    h('option', { value: '', text: t('desk.anyStage') }),
    [...stages].map(([code, st]) => h('option', { value: code, text: apps.tx(st.name), selected: filters.stage === code })));
  const type = h('select', { id: 'desk-type', name: 'type' },
    h('option', { value: '', text: t('dec.allTypes') }),
    types.map((ty) => h('option', { value: ty.code, text: apps.tx(ty.name), selected: filters.type === ty.code })));
  const onChange = () => {
    filters = { stage: stage.value, type: type.value };
    load();
  };
  stage.addEventListener('change', onChange);
  type.addEventListener('change', onChange);
  return h('details', { class: 'filters', id: 'desk-filters', open: !!(filters.stage || filters.type) || !window.matchMedia('(max-width: 700px)').matches },
    h('summary', { text: t('staff.filters') }),
    h('div', { class: 'grid2' },
      h('div', { class: 'field' }, h('label', { htmlFor: 'desk-stage', text: t('desk.stage') }), stage),
      h('div', { class: 'field' }, h('label', { htmlFor: 'desk-type', text: t('dec.type') }), type)));
}

/** "Day 18 of 15" with its badges: overdue, waiting for the applicant, on an agenda. */
function clockLine(x) {
  return h('span', { class: 'card-line desk-clock' },
    tn('appl.daysUsed', apps.days(x.days_used), { limit: fmtNumber(x.limit_days || 0) }),
    x.overdue ? [' ', h('span', { class: 'badge overdue', text: `⚠ ${t('desk.overdue')}` })] : null,
    x.awaiting_applicant ? [' ', h('span', { class: 'badge appl-awaiting_applicant', text: t('desk.awaiting') })] : null,
    x.on_agenda ? [' ', h('span', { class: 'badge appl-agenda', text: t('desk.onAgenda') })] : null);
}

function listView() {
  if (itemsError) {
    return h('p', { class: 'error', role: 'alert', id: 'desk-count', text: itemsError.status === 403 ? t('desk.forbidden') : t('desk.failed', { error: explain(itemsError) }) });
  }
  if (!items) return h('p', { id: 'desk-count', text: t('staff.loading') });
  return [
    h('p', { id: 'desk-count', class: 'hint', role: 'status', text: items.length ? tn('desk.count', items.length) : t('desk.none') }),
    h('ul', { class: 'cards', id: 'desk-list' }, items.map((x) => h('li', null, h('button', {
      type: 'button', class: `card card-button desk-card${x.overdue ? ' overdue' : ''}`, id: `desk-case-${x.number}`, dataset: { number: x.number },
      onclick: () => ctx.navigate(`#desk/${encodeURIComponent(x.number)}`),
    },
    h('span', { class: 'card-line card-title' }, h('span', { class: 'ticket', text: x.number }), ' ', apps.typeName(x.type)),
    h('span', { class: 'card-line', text: [apps.premises(x.asset), x.asset && x.asset.grade ? t(`grade.${x.asset.grade}`) : null, apps.workOf(x)].filter(Boolean).join(' · ') }),
    h('span', { class: 'card-line what', text: apps.stageName(null, x.stage, x.stage_name) }),
    h('span', { class: 'card-line hint', text: t('desk.since', { date: fmtDate(x.started_at, false) }) }),
    clockLine(x))))),
  ];
}

function docLabel(code) {
  const d = def && (def.documents || []).find((x) => x.code === code);
  return d ? apps.tx(d.label) : String(code || '');
}

/** A private file: fetched with the token and saved under its own name. */
async function download(rec, f, btn) {
  btn.disabled = true;
  try {
    const blob = await api.caseFile(rec.number, f.doc, f.sha256);
    const url = URL.createObjectURL(blob);
    const a = h('a', { href: url, download: f.name || `${f.sha256}` });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60000);
  } catch (e) {
    btn.after(h('p', { class: 'error', role: 'alert', text: t('desk.downloadFailed', { error: explain(e) }) }));
  }
  btn.disabled = false;
}

function caseView() {
  if (recError) return h('p', { class: 'error', role: 'alert', text: recError.status === 404 ? t('atrack.notFound', { number: openNumber }) : t('desk.failed', { error: explain(recError) }) });
  if (!rec) return h('p', { text: t('staff.loading') });
  const facts = [];
  const row = (k, v) => { if (v !== null && v !== undefined && v !== '') facts.push(h('dt', { text: k }), h('dd', null, v)); };
  row(t('appl.type'), apps.typeName(rec.type));
  row(t('appl.premises'), rec.asset ? h('button', { type: 'button', class: 'link', text: apps.premises(rec.asset), onclick: () => ctx.navigate(`#asset/${encodeURIComponent(rec.asset.code)}`) }) : null);
  if (rec.asset && rec.asset.grade) row(t('asset.grade'), t(`grade.${rec.asset.grade}`));
  row(t('appl.work'), apps.workOf(rec, def));
  row(t('desk.applicant'), rec.applicant ? rec.applicant.contact : null);
  row(t('appl.submitted'), fmtDate(rec.submitted_at));
  const fields = (def && def.fields) || [];
  return h('article', { class: 'app-case', id: 'desk-case' },
    h('h3', { class: 'ticket-head', id: 'desk-case-title', tabindex: '-1' }, h('span', { class: 'ticket', id: 'desk-number', text: rec.number }), ' ', apps.stateBadge(rec)),
    h('dl', { class: 'facts' }, facts),
    h('section', { class: 'record', 'aria-labelledby': 'desk-form-title' },
      h('h4', { id: 'desk-form-title', text: t('desk.form') }),
      h('dl', { class: 'facts answers', id: 'desk-fields' }, fields.map((f) => [
        h('dt', { text: apps.tx(f.label) }),
        h('dd', { class: 'note', text: (rec.fields || {})[f.code] || '—' }),
      ]))),
    h('section', { class: 'record', 'aria-labelledby': 'desk-files-title' },
      h('h4', { id: 'desk-files-title', text: t('desk.files') }),
      (rec.files || []).length ? h('ul', { class: 'app-files', id: 'desk-files' }, rec.files.map((f) => h('li', { class: 'app-file', dataset: { sha256: f.sha256 } },
        h('p', { class: 'doc-title', text: docLabel(f.doc) }),
        h('p', null, f.name || '', ' ', h('span', { class: 'hint', text: `(${fmtSize(f.size)}, ${fmtDate(f.added_at)})` })),
        h('p', { class: 'hint' }, t('appl.sha'), ' ', h('span', { class: 'mono sha', text: f.sha256 })),
        h('button', { type: 'button', class: 'btn btn-secondary', text: t('desk.download'), 'aria-label': t('desk.downloadNamed', { name: f.name || docLabel(f.doc) }), onclick: (e) => download(rec, f, e.currentTarget) }))))
        : h('p', { class: 'hint', text: t('desk.noFiles') })),
    (rec.requests || []).length ? h('section', { class: 'record', 'aria-labelledby': 'desk-requests-title' },
      h('h4', { id: 'desk-requests-title', text: t('mine.requests') }),
      h('ul', { class: 'history' }, rec.requests.map((r) => h('li', null,
        h('p', { class: 'when', text: t('mine.askedOn', { date: fmtDate(r.asked_at), stage: apps.stageName(def, r.stage) }) }),
        h('p', { class: 'note', text: r.what }),
        (r.documents || []).length ? h('p', { class: 'hint', text: t('mine.docsAsked', { docs: r.documents.map(docLabel).join(', ') }) }) : null,
        r.answered_at ? [h('p', { class: 'what', text: t('mine.answeredOn', { date: fmtDate(r.answered_at) }) }), r.answer ? h('p', { class: 'note', text: r.answer }) : null]
          : h('p', { class: 'warning-text', text: t('desk.notAnswered') }))))) : null,
    h('section', { class: 'record', 'aria-labelledby': 'desk-stages-title' },
      h('h4', { id: 'desk-stages-title', text: t('appl.stages') }),
      apps.stagesList(rec.stages, { def, id: 'desk-stages', next: rec.next_stages })),
    stepsSection(),
    apps.decisionBlock(rec.decision, 'desk-decision'),
    message ? h('p', { id: 'desk-message', role: 'status', tabindex: '-1', class: `form-status ${message.kind}`, text: message.text() }) : null,
    actionForm(),
    h('div', { class: 'button-row' }, h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'desk-public', text: t('mine.publicPage'), onclick: () => ctx.navigate(`#application/${encodeURIComponent(rec.number)}`),
    })));
}

function stepsSection() {
  const steps = rec.steps || [];
  return h('section', { class: 'record', 'aria-labelledby': 'desk-steps-title' },
    h('h4', { id: 'desk-steps-title', text: t('desk.steps') }),
    steps.length ? h('ol', { class: 'timeline', id: 'desk-steps' }, steps.map((s) => h('li', { class: s.kind === 'note' ? 'internal' : null, dataset: { kind: s.kind } },
      h('p', { class: 'what' }, label('appl.step', s.kind), s.outcome ? ` · ${label('appl.recommend', s.outcome)}` : '', s.kind === 'note' ? [' ', h('span', { class: 'badge internal', text: t('staff.internal') })] : null),
      h('p', { class: 'when', text: [fmtDate(s.at), apps.stageName(def, s.stage), s.by ? t('staff.by', { name: s.by }) : null].filter(Boolean).join(' · ') }),
      s.ref ? h('p', { text: t('desk.ref', { ref: s.ref, date: s.ref_date ? fmtDate(s.ref_date, false) : '' }) }) : null,
      s.text ? h('p', { class: 'note', text: s.text }) : null,
      s.kind === 'letter' && apps.verifyHref({ sha256: s.document }) ? h('p', null, h('a', { href: apps.verifyHref({ sha256: s.document }), text: t('appl.verifyLetter') })) : null)))
      : h('p', { class: 'hint', text: t('desk.noSteps') }));
}

/** The open stage of the case, and its definition. */
function currentStage() {
  const s = (rec.stages || []).find((x) => x.started_at && !x.ended_at);
  if (!s) return null;
  return { ...s, def: def && def.stages ? def.stages[s.stage] : null };
}

/** What this user may do now, the stage's own step first. */
function allowedActions(cur) {
  if (!cur || !cur.def || !['open', 'awaiting_applicant'].includes(rec.state)) return [];
  if (!apps.mayAct(who, cur.def.duty)) return [];
  const own = ACTION_FOR[cur.def.produces];
  return [own, 'request', 'note'].filter(Boolean);
}

function actionForm() {
  const cur = currentStage();
  if (!cur) return null;
  const actions = allowedActions(cur);
  const stage = apps.stageName(def, cur.stage, cur.name);
  if (!who) return h('p', { class: 'hint', text: t('staff.loading') });
  if (!actions.length) {
    return h('p', { class: 'hint', id: 'desk-no-action', text: cur.def ? t('desk.notYours', { stage, duty: label('duty', cur.def.duty) }) : t('desk.noAction') });
  }
  const kept = typed && typed.number === rec.number ? typed : null;
  const action = kept && actions.includes(kept.action) ? kept.action : actions[0];
  const v = (id, fallback = '') => (kept && kept.values[id] !== undefined ? kept.values[id] : fallback);
  const sel = h('select', { id: 'desk-action', name: 'action' }, actions.map((a) => h('option', { value: a, text: label('desk.action', a), selected: a === action })));
  const area = (id, labelKey, hintKey) => h('div', { class: 'field' },
    h('label', { htmlFor: id }, t(labelKey), ' ', h('span', { class: 'req', text: t('report.required') })),
    hintKey ? h('p', { class: 'hint', id: `${id}-hint`, text: t(hintKey) }) : null,
    h('textarea', { id, name: id, rows: 4, maxLength: TEXT_MAX, value: v(id), 'aria-describedby': hintKey ? `${id}-hint` : null }));
  const decision = (id) => h('fieldset', { class: 'field radios', id, role: 'radiogroup', 'aria-required': 'true' },
    h('legend', null, t('desk.decision'), ' ', h('span', { class: 'req', text: t('report.required') })),
    ['approve', 'refuse'].map((d) => h('label', null,
      h('input', { type: 'radio', name: id, id: `${id}-${d}`, value: d, checked: v(id) === d }), ' ', label('appl.recommend', d))));
  let fields;
  switch (action) {
    case 'forward':
      fields = [h('p', { class: 'hint', text: t('desk.forwardHint', { stage }) }), area('desk-forward-note', 'desk.scrutinyNote')];
      break;
    case 'resolution':
      fields = [
        h('div', { class: 'grid2' },
          h('div', { class: 'field' },
            h('label', { htmlFor: 'desk-resolution-resolution_no' }, t('desk.resolutionNo'), ' ', h('span', { class: 'req', text: t('report.required') })),
            h('input', { type: 'text', id: 'desk-resolution-resolution_no', name: 'resolution_no', maxLength: 60, value: v('desk-resolution-resolution_no'), autocomplete: 'off' })),
          h('div', { class: 'field' },
            h('label', { htmlFor: 'desk-resolution-date' }, t('desk.resolutionDate'), ' ', h('span', { class: 'req', text: t('report.required') })),
            h('input', { type: 'date', id: 'desk-resolution-date', name: 'date', max: kolkataDate(), value: v('desk-resolution-date', kolkataDate()) }))),
        decision('desk-resolution-decision'),
        area('desk-resolution-text', 'desk.resolutionText'),
      ];
      break;
    case 'decide':
      fields = [decision('desk-decide-decision'), area('desk-decide-text', 'desk.reasons')];
      break;
    case 'issue':
      fields = [h('p', { id: 'desk-issue-hint', text: t('desk.issueHint') })];
      break;
    case 'request':
      fields = [
        area('desk-request-what', 'desk.what', 'desk.whatHint'),
        (def && def.documents ? def.documents : []).length ? h('fieldset', { class: 'field radios', id: 'desk-request-documents' },
          h('legend', { text: t('desk.docsWanted') }),
          def.documents.map((d) => h('label', null,
            h('input', { type: 'checkbox', name: 'documents', value: d.code, checked: (v('desk-request-documents', '') || '').split(',').includes(d.code) }), ' ', apps.tx(d.label)))) : null,
      ];
      break;
    default:
      fields = [area('desk-note-text', 'desk.internalNote', 'desk.internalHint')];
  }
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', id: 'desk-apply', text: t(action === 'issue' ? 'desk.issue' : 'staff.apply') });
  // The committee's recommendation is recorded in its meeting, not here.
  const atHcc = cur.def.produces === 'recommendation' ? h('div', { class: 'notice', id: 'desk-at-hcc' },
    h('p', { text: t('desk.atHcc') }),
    h('button', { type: 'button', class: 'btn btn-secondary', id: 'desk-to-hcc', text: t('desk.toHcc'), onclick: () => ctx.navigate('#hcc') })) : null;
  const form = h('form', { class: 'act-form', id: 'desk-act', novalidate: true },
    h('h4', { id: 'desk-act-title', text: t('desk.act', { stage }) }),
    atHcc,
    h('div', { class: 'field' }, h('label', { htmlFor: 'desk-action', text: t('staff.action') }), sel),
    fields, submit);
  const keep = () => {
    const values = {};
    for (const c of form.querySelectorAll('textarea, input[type="text"], input[type="date"]')) values[c.id] = c.value;
    for (const fs of form.querySelectorAll('fieldset.radios')) {
      const boxes = [...fs.querySelectorAll('input')];
      values[fs.id] = boxes[0] && boxes[0].type === 'checkbox' ? boxes.filter((b) => b.checked).map((b) => b.value).join(',') : (boxes.find((b) => b.checked) || {}).value || '';
    }
    typed = { number: rec.number, action: sel.value, values };
  };
  form.addEventListener('input', keep);
  form.addEventListener('change', (e) => {
    keep();
    if (e.target === sel) {
      problems = {};
      render();
      $('#desk-action')?.focus();
    }
  });
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    keep();
    act(action);
  });
  return form;
}

/** The body of `action` from the form, or null (a field marked) when something is missing. */
function bodyOf(action) {
  const val = (id) => (($(`#${id}`) || {}).value || '').trim();
  const picked = (id) => (($(`#${id} input:checked`) || {}).value || '');
  const need = (id, v, key = 'err.required') => {
    if (!v) problems[id] = t(key);
    return v;
  };
  problems = {};
  let body;
  switch (action) {
    case 'forward': body = { action, note: need('desk-forward-note', val('desk-forward-note')) }; break;
    case 'resolution': body = {
      action,
      resolution_no: need('desk-resolution-resolution_no', val('desk-resolution-resolution_no')),
      date: need('desk-resolution-date', val('desk-resolution-date')),
      decision: need('desk-resolution-decision', picked('desk-resolution-decision'), 'desk.needDecision'),
      text: need('desk-resolution-text', val('desk-resolution-text')),
    }; break;
    case 'decide': body = {
      action,
      decision: need('desk-decide-decision', picked('desk-decide-decision'), 'desk.needDecision'),
      text: need('desk-decide-text', val('desk-decide-text')),
    }; break;
    case 'issue': body = { action }; break;
    case 'request': {
      body = { action, what: need('desk-request-what', val('desk-request-what')) };
      const docs = [...document.querySelectorAll('#desk-request-documents input:checked')].map((b) => b.value);
      if (docs.length) body.documents = docs;
      break;
    }
    default: body = { action: 'note', text: need('desk-note-text', val('desk-note-text')) };
  }
  return Object.keys(problems).length ? null : body;
}

const DONE_KEY = { forward: 'desk.forwarded', resolution: 'desk.resolved', decide: 'desk.decided', issue: 'desk.issued', request: 'desk.requested', note: 'desk.noted' };

async function act(action) {
  const body = bodyOf(action);
  if (!body) {
    render();
    const first = Object.keys(problems)[0];
    const c = document.getElementById(first);
    (c && c.matches('fieldset') ? c.querySelector('input') : c)?.focus();
    return;
  }
  const btn = $('#desk-apply');
  if (btn) btn.disabled = true;
  const number = rec.number;
  try {
    await api.applicationAction(number, body);
    typed = null;
    const r = await api.staffApplication(number);
    rec = r;
    const now = currentStage();
    message = { kind: 'success', text: () => t(DONE_KEY[action], { number, stage: now ? apps.stageName(def, now.stage, now.name) : '' }) };
  } catch (e) {
    const field = e.field ? `desk-${action === 'note' ? 'note' : action}-${e.field}` : null;
    if (field && document.getElementById(field)) problems[field] = explain(e);
    message = { kind: 'error', text: () => t('desk.actFailed', { error: explain(e) }) };
  }
  render();
  const line = $('#desk-message');
  if (line) {
    reveal(line);
    line.focus({ preventScroll: true });
  }
}
