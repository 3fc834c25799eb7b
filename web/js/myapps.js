// My applications (#my-applications, #my-applications/KEY): the signed-in applicant's
// drafts and cases, newest first (`GET /applications/mine`). A draft opens in Apply; a
// case shows where it stands — its stages with dates and days used of each limit, the
// department's requests for more (an open one with an upload per document asked for and
// an answer, which starts the clock again), the files sent, and the decision with its
// letter's verification link.
import { h, replace, $, fieldError } from './dom.js';
import { t, tn, fmtDate } from './i18n.js';
import { api } from './api.js';
import { explain } from './errors.js';
import { reveal } from './panel.js';
import * as applicant from './applicant.js';
import * as apps from './apps.js';
import * as mapctl from './mapctl.js';

const ANSWER_MAX = 4000;

let ctx;
let visible = false;
let list = null;        // the applicant's cases, or null until loaded
let listError = null;
let openKey = null;     // the case open, or null for the list
let app = null;         // its record
let def = null;         // its type's definition
let appError = null;
let message = null;     // {kind, text()} about the last answer
const answers = new Map(); // request id → the answer typed, kept across redraws
const uploads = new Map();
let seq = 0;

const el = () => $('#view-my-applications');

export const tabOf = 'track';

export function init(c) {
  ctx = c;
  applicant.onChange(() => {
    if (!visible) return;
    render();
    if (applicant.signedIn()) {
      load();
      $('#mine-title')?.focus();
    }
  });
}

export function show(arg) {
  visible = true;
  const key = arg ? String(arg) : null;
  if (key !== openKey) {
    openKey = key;
    app = null;
    def = null;
    appError = null;
    message = null;
    uploads.clear();
  }
  render();
  apps.types().then(() => { if (visible) render(); });
  if (applicant.signedIn()) load();
}

export function hide() {
  visible = false;
  seq++;
  mapctl.clearHighlight();
}

export function rerender() { render(); }

/** Whether the list shows (not one case): the tab then closes the view. */
export const atStart = () => !openKey;

async function load() {
  const mine = ++seq;
  try {
    if (openKey) {
      const a = await api.myApplication(openKey);
      const d = await apps.typeDef(a.type.code, a.type.version).catch(() => null);
      if (mine !== seq) return;
      app = a;
      def = d;
      appError = null;
      if (a.asset) apps.premisesOnMap(a.asset.code, () => visible && app === a);
    } else {
      const r = await api.myApplications();
      if (mine !== seq) return;
      list = r.items || [];
      listError = null;
    }
  } catch (e) {
    if (mine !== seq) return;
    if (openKey) appError = e;
    else listError = e;
  }
  render();
}

function render() {
  if (!visible) return;
  const root = el();
  const active = document.activeElement;
  const focusId = root.contains(active) && active.id ? active.id : null;
  const title = h('h2', { id: 'mine-title', tabindex: '-1', text: t('mine.title') });
  if (!applicant.signedIn()) {
    replace(root, title, applicant.form('mine', t('mine.signInIntro')));
  } else if (openKey) {
    replace(root, title, applicant.whoBar('mine'),
      h('div', { class: 'button-row' }, h('button', {
        type: 'button', class: 'btn btn-secondary', id: 'mine-back', text: `← ${t('mine.all')}`, onclick: () => ctx.navigate('#my-applications'),
      })),
      caseView());
  } else {
    replace(root, title, applicant.whoBar('mine'), listView());
  }
  if (focusId && document.getElementById(focusId) && document.activeElement !== document.getElementById(focusId)) document.getElementById(focusId).focus({ preventScroll: true });
}

function listView() {
  if (listError) return h('p', { class: 'error', role: 'alert', text: t('mine.loadFailed', { error: explain(listError) }) });
  if (!list) return h('p', { text: t('staff.loading') });
  return [
    h('p', { class: 'hint', id: 'mine-count', text: list.length ? tn('mine.count', list.length) : t('mine.none') }),
    h('ul', { class: 'cards', id: 'mine-list' }, list.map((a) => {
      const draft = a.state === 'draft';
      const key = draft ? a.draft : (a.number || a.key);
      const stage = (a.stages || []).find((s) => s.started_at && !s.ended_at);
      return h('li', null, h('button', {
        type: 'button', class: 'card card-button', dataset: { key },
        onclick: () => ctx.navigate(draft ? `#apply/${encodeURIComponent(a.draft)}` : `#my-applications/${encodeURIComponent(key)}`),
      },
      h('span', { class: 'card-line card-title' },
        draft ? t('apply.draftOf', { date: fmtDate(a.created_at, false) }) : h('span', { class: 'ticket', text: a.number }), ' ', apps.stateBadge(a)),
      h('span', { class: 'card-line', text: [apps.typeName(a.type), apps.premises(a.asset), apps.workOf(a) || null].filter(Boolean).join(' · ') }),
      stage ? h('span', { class: 'card-line hint', text: t('mine.atStage', { stage: apps.stageName(null, stage.stage, stage.name) }) }) : null,
      a.state === 'awaiting_applicant' ? h('span', { class: 'card-line warning-text', text: t('mine.askedForMore') }) : null,
      h('span', { class: 'card-line hint', text: draft ? t('apply.continue') : t('mine.open') })));
    })),
    h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'btn btn-primary', id: 'mine-apply', text: t('apply.new'), onclick: () => ctx.navigate('#apply') })),
  ];
}

function caseView() {
  if (appError) return h('p', { class: 'error', role: 'alert', text: appError.status === 404 ? t('apply.notFound', { key: openKey }) : t('mine.loadFailed', { error: explain(appError) }) });
  if (!app) return h('p', { text: t('staff.loading') });
  if (app.state === 'draft') {
    return [h('p', { text: t('mine.isDraft') }),
      h('button', { type: 'button', class: 'btn btn-primary', text: t('apply.continue'), onclick: () => ctx.navigate(`#apply/${encodeURIComponent(app.draft)}`) })];
  }
  const facts = [];
  const row = (k, v) => { if (v !== null && v !== undefined && v !== '') facts.push(h('dt', { text: k }), h('dd', null, v)); };
  row(t('appl.type'), apps.typeName(app.type));
  row(t('appl.premises'), apps.premises(app.asset));
  if (app.asset && app.asset.grade) row(t('asset.grade'), t(`grade.${app.asset.grade}`));
  row(t('appl.work'), apps.workOf(app, def));
  row(t('appl.submitted'), fmtDate(app.submitted_at));
  row(t('appl.decidedAt'), app.decided_at ? fmtDate(app.decided_at) : null);
  const open = (app.requests || []).filter((r) => !r.answered_at);
  return h('article', { class: 'app-case', id: 'mine-case' },
    h('h3', { class: 'ticket-head', id: 'mine-case-title', tabindex: '-1' }, h('span', { class: 'ticket', id: 'mine-number', text: app.number }), ' ', apps.stateBadge(app)),
    open.length ? h('p', { class: 'notice warning-notice', id: 'mine-waiting', text: t('mine.waitingForYou') }) : null,
    h('dl', { class: 'facts' }, facts),
    message ? h('p', { id: 'mine-message', role: 'status', tabindex: '-1', class: `form-status ${message.kind}`, text: message.text() }) : null,
    (app.requests || []).length ? h('section', { class: 'record', 'aria-labelledby': 'mine-requests-title' },
      h('h4', { id: 'mine-requests-title', text: t('mine.requests') }),
      h('ul', { class: 'history', id: 'mine-requests' }, app.requests.map((r) => requestItem(r)))) : null,
    h('section', { class: 'record', 'aria-labelledby': 'mine-stages-title' },
      h('h4', { id: 'mine-stages-title', text: t('appl.stages') }),
      apps.stagesList(app.stages, { def, id: 'mine-stages', next: app.next_stages })),
    apps.decisionBlock(app.decision, 'mine-decision'),
    (app.files || []).length ? h('section', { class: 'record', 'aria-labelledby': 'mine-files-title' },
      h('h4', { id: 'mine-files-title', text: t('mine.files') }),
      h('ul', { class: 'app-files', id: 'mine-files' }, app.files.map((f) => apps.fileLine(f, { docLabel: docLabel(f.doc) })))) : null,
    h('div', { class: 'button-row' }, h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'mine-public', text: t('mine.publicPage'), onclick: () => ctx.navigate(`#application/${encodeURIComponent(app.number)}`),
    })));
}

function docLabel(code) {
  const d = def && (def.documents || []).find((x) => x.code === code);
  return d ? apps.tx(d.label) : String(code || '');
}

/** A request from the department: what it asked, and the answer, or the form to answer. */
function requestItem(r) {
  const id = `mine-req-${r.id}`;
  const head = [
    h('p', { class: 'when', text: t('mine.askedOn', { date: fmtDate(r.asked_at), stage: apps.stageName(def, r.stage) }) }),
    h('p', { class: 'note', text: r.what }),
    (r.documents || []).length ? h('p', { class: 'hint', text: t('mine.docsAsked', { docs: r.documents.map(docLabel).join(', ') }) }) : null,
  ];
  if (r.answered_at) {
    return h('li', { id, dataset: { request: String(r.id) } }, head,
      h('p', { class: 'what', text: t('mine.answeredOn', { date: fmtDate(r.answered_at) }) }),
      r.answer ? h('p', { class: 'note', text: r.answer }) : null);
  }
  const sent = (app.files || []).filter((f) => f.request === r.id);
  const text = h('textarea', { id: `${id}-answer`, name: 'answer', rows: 3, maxLength: ANSWER_MAX, value: answers.get(r.id) || '', 'aria-describedby': `${id}-answer-hint` });
  text.addEventListener('input', () => {
    answers.set(r.id, text.value);
    if (text.value.trim()) fieldError(text, null);
  });
  const form = h('form', { class: 'act-form', id: `${id}-form`, novalidate: true },
    h('p', { class: 'what', text: t('mine.answerTitle') }),
    (r.documents || []).map((doc) => apps.uploader({
      id: `${id}-doc-${doc}`, labelText: docLabel(doc), uploads,
      send: (file, onProgress) => api.addApplicationFile(app.number || app.key, doc, file, onProgress),
      done: (answer) => {
        if (answer) app = { ...app, files: [...(app.files || []), { ...answer, doc: answer.doc || doc, request: r.id }] };
        render();
      },
    })),
    sent.length ? h('ul', { class: 'app-files', 'aria-label': t('mine.filesSent') }, sent.map((f) => apps.fileLine(f, { docLabel: docLabel(f.doc) }))) : null,
    h('div', { class: 'field' },
      h('label', { htmlFor: `${id}-answer` }, t('mine.answer'), ' ', h('span', { class: 'req', text: t('report.required') })),
      h('p', { class: 'hint', id: `${id}-answer-hint`, text: t('mine.answerHint') }),
      text),
    h('button', { type: 'submit', class: 'btn btn-primary', id: `${id}-send`, text: t('mine.sendAnswer') }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const v = text.value.trim();
    fieldError(text, null);
    if (!v) {
      fieldError(text, t('mine.needAnswer'));
      text.focus();
      return;
    }
    const btn = $(`#${id}-send`);
    btn.disabled = true;
    try {
      await api.answerRequest(app.number || app.key, r.id, v);
      app = await api.myApplication(openKey);
      answers.delete(r.id);
      message = { kind: 'success', text: () => t('mine.answered') };
    } catch (err) {
      message = { kind: 'error', text: () => t('mine.answerFailed', { error: explain(err) }) };
      if (err.field === 'text') {
        render();
        fieldError(document.getElementById(`${id}-answer`), explain(err));
      }
    }
    render();
    const line = $('#mine-message');
    if (line) {
      reveal(line);
      line.focus({ preventScroll: true });
    }
  });
  return h('li', { id, class: 'open-request', dataset: { request: String(r.id) } }, head, form);
}
