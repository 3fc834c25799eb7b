// The Heritage Conservation Committee's meetings (#hcc, #hcc/ID; staff, under the Staff
// tab): the meetings (`GET /hcc/meetings`); a new one for a date, whose agenda is every
// case at the HCC stage not on another open meeting's (`POST /hcc/meetings`, duty
// hcc_secretary); a meeting's agenda with the committee's recommendation recorded per case
// (approve or refuse, with its text: the case moves to the Mayor-in-Council), and its
// minutes (a PDF, public) after which it is held.
import { h, replace, $, fieldError } from './dom.js';
import { t, tn, label, fmtDate, kolkataDate } from './i18n.js';
import { api, staffSession } from './api.js';
import { explain } from './errors.js';
import { reveal } from './panel.js';
import * as apps from './apps.js';

const TEXT_MAX = 4000;
const SHA = /^[0-9a-f]{64}$/;

let ctx;
let visible = false;
let who = null;
let meetings = null;
let meetingsError = null;
let openId = null;
let meeting = null;
let meetingError = null;
let message = null;      // {kind, text()}
const typed = new Map(); // control id → value, across redraws
let problems = {};       // control id → message
const uploads = new Map();
let seq = 0;

const el = () => $('#view-hcc');

export const tabOf = 'staff';

export function init(c) {
  ctx = c;
}

export function show(arg) {
  visible = true;
  const id = arg ? String(arg) : null;
  if (id !== openId) {
    openId = id;
    meeting = null;
    meetingError = null;
    message = null;
    problems = {};
    uploads.clear();
  }
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
}

export function rerender() { render(); }
export const atStart = () => !openId;

const secretary = () => apps.mayAct(who, 'hcc_secretary');

async function load() {
  const mine = ++seq;
  try {
    if (openId) {
      const m = await api.hccMeeting(openId);
      // The server's agenda items carry the number and the recommendation only (not the
      // premises and work docs/applications.md lists): each case's record names them.
      await Promise.all((m.agenda || []).filter((a) => !a.asset).map((a) => api.staffApplication(a.number).then((c) => {
        Object.assign(a, { asset: c.asset, work: c.work });
      }, () => {})));
      if (mine !== seq) return;
      meeting = m;
      meetingError = null;
    } else {
      const r = await api.hccMeetings();
      if (mine !== seq) return;
      meetings = r.items || [];
      meetingsError = null;
    }
  } catch (e) {
    if (mine !== seq) return;
    if (openId) meetingError = e;
    else meetingsError = e;
  }
  render();
}

function render() {
  if (!visible) return;
  const root = el();
  const active = document.activeElement;
  const focusId = root.contains(active) && active.id ? active.id : null;
  const title = h('h2', { id: 'hcc-title', tabindex: '-1', text: t('hcc.title') });
  if (!staffSession()) {
    replace(root, title, h('p', { text: t('desk.signIn') }),
      h('button', { type: 'button', class: 'btn btn-primary', text: t('staff.signIn'), onclick: () => ctx.navigate('#staff') }));
  } else if (openId) {
    replace(root, title, h('div', { class: 'button-row' }, h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'hcc-back', text: `← ${t('hcc.all')}`, onclick: () => ctx.navigate('#hcc'),
    })), meetingView());
  } else {
    replace(root, title, h('p', { class: 'intro', text: t('hcc.intro') }),
      status(), newMeetingForm(), listView(),
      h('div', { class: 'button-row' }, h('button', {
        type: 'button', class: 'btn btn-secondary', id: 'hcc-to-staff', text: `← ${t('mod.backToStaff')}`, onclick: () => ctx.navigate('#staff'),
      })));
  }
  for (const [id, m] of Object.entries(problems)) fieldError(document.getElementById(id), m);
  if (focusId && document.getElementById(focusId) && document.activeElement !== document.getElementById(focusId)) document.getElementById(focusId).focus({ preventScroll: true });
}

function status() {
  return h('p', { id: 'hcc-message', role: 'status', tabindex: '-1', class: `form-status${message ? ` ${message.kind}` : ''}`, text: message ? message.text() : '' });
}

const stateBadge = (m) => h('span', { class: `badge hcc-${m.state === 'held' ? 'held' : 'scheduled'}`, text: label('hcc.state', m.state || 'scheduled') });

function newMeetingForm() {
  if (!who) return null;
  if (!secretary()) return h('p', { class: 'hint', id: 'hcc-not-secretary', text: t('hcc.secretaryOnly') });
  const date = h('input', { type: 'date', id: 'hcc-date', name: 'date', min: kolkataDate(), value: typed.get('hcc-date') || kolkataDate() });
  date.addEventListener('input', () => typed.set('hcc-date', date.value));
  const form = h('form', { class: 'act-form', id: 'hcc-new', novalidate: true },
    h('h3', { id: 'hcc-new-title', text: t('hcc.new') }),
    h('p', { class: 'hint', id: 'hcc-new-hint', text: t('hcc.newHint') }),
    h('div', { class: 'field' },
      h('label', { htmlFor: 'hcc-date' }, t('hcc.date'), ' ', h('span', { class: 'req', text: t('report.required') })),
      date),
    h('button', { type: 'submit', class: 'btn btn-primary', id: 'hcc-create', text: t('hcc.create') }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    problems = {};
    if (!date.value) {
      problems['hcc-date'] = t('err.badDate');
      render();
      $('#hcc-date')?.focus();
      return;
    }
    $('#hcc-create').disabled = true;
    try {
      const m = await api.newHccMeeting(date.value);
      typed.delete('hcc-date');
      meeting = m;
      openId = String(m.id);
      message = { kind: 'success', text: () => tn('hcc.created', (m.agenda || []).length, { date: fmtDate(m.date, false) }) };
      ctx.navigate(`#hcc/${encodeURIComponent(m.id)}`);
      // show() keeps the meeting and its message: the same id.
      const line = $('#hcc-message');
      if (line) {
        reveal(line);
        line.focus({ preventScroll: true });
      }
    } catch (err) {
      if (err.field === 'date') problems['hcc-date'] = explain(err);
      message = { kind: 'error', text: () => t('hcc.failed', { error: explain(err) }) };
      render();
      $(err.field === 'date' ? '#hcc-date' : '#hcc-message')?.focus();
    }
  });
  return form;
}

function listView() {
  if (meetingsError) return h('p', { class: 'error', role: 'alert', text: t('hcc.loadFailed', { error: explain(meetingsError) }) });
  if (!meetings) return h('p', { text: t('staff.loading') });
  return [
    h('h3', { id: 'hcc-list-title', text: t('hcc.meetings') }),
    h('p', { class: 'hint', id: 'hcc-count', text: meetings.length ? tn('hcc.count', meetings.length) : t('hcc.none') }),
    h('ul', { class: 'cards', id: 'hcc-list' }, meetings.map((m) => h('li', null, h('button', {
      type: 'button', class: 'card card-button', dataset: { meeting: String(m.id) }, onclick: () => ctx.navigate(`#hcc/${encodeURIComponent(m.id)}`),
    },
    h('span', { class: 'card-line card-title' }, t('hcc.meetingOn', { date: fmtDate(m.date, false) }), ' ', stateBadge(m)),
    Array.isArray(m.agenda) ? h('span', { class: 'card-line hint', text: tn('hcc.agendaCount', m.agenda.length) }) : null)))),
  ];
}

function meetingView() {
  if (meetingError) return h('p', { class: 'error', role: 'alert', text: meetingError.status === 404 ? t('hcc.notFound') : t('hcc.loadFailed', { error: explain(meetingError) }) });
  if (!meeting) return h('p', { text: t('staff.loading') });
  const m = meeting;
  const agenda = m.agenda || [];
  const minutesSha = typeof m.minutes === 'string' ? m.minutes : (m.minutes && m.minutes.sha256);
  return h('article', { id: 'hcc-meeting', dataset: { meeting: String(m.id) } },
    h('h3', { id: 'hcc-meeting-title', tabindex: '-1' }, t('hcc.meetingOn', { date: fmtDate(m.date, false) }), ' ', stateBadge(m)),
    status(),
    h('section', { class: 'record', 'aria-labelledby': 'hcc-agenda-title' },
      h('h4', { id: 'hcc-agenda-title', text: t('hcc.agenda') }),
      agenda.length ? h('ol', { class: 'history', id: 'hcc-agenda' }, agenda.map((a) => agendaItem(a))) : h('p', { class: 'hint', text: t('hcc.emptyAgenda') })),
    h('section', { class: 'record', 'aria-labelledby': 'hcc-minutes-title' },
      h('h4', { id: 'hcc-minutes-title', text: t('hcc.minutes') }),
      minutesSha && SHA.test(minutesSha)
        ? h('p', null, h('a', { href: `/verify/${minutesSha}`, id: 'hcc-minutes-link', text: t('hcc.minutesOnRecord') }), ' ', h('span', { class: 'hint mono sha', text: minutesSha }))
        : h('p', { class: 'hint', text: t('hcc.noMinutes') }),
      secretary() ? apps.uploader({
        id: 'hcc-minutes-file', labelText: t(minutesSha ? 'hcc.replaceMinutes' : 'hcc.uploadMinutes'), uploads, hint: t('hcc.minutesHint'), types: ['application/pdf'],
        send: (file, onProgress) => api.hccMinutes(m.id, file, onProgress),
        done: async (answer, file, how) => {
          if (how && how.started) return render();
          if (answer) {
            message = { kind: 'success', text: () => t('hcc.minutesDone') };
            await load();
            $('#hcc-message')?.focus();
            return undefined;
          }
          render();
          return $('#hcc-minutes-file')?.focus();
        },
      }) : null));
}

function agendaItem(a) {
  const id = `hcc-rec-${a.number}`;
  const head = [
    h('p', { class: 'what' },
      h('button', { type: 'button', class: 'link ticket', text: a.number, onclick: () => ctx.navigate(`#desk/${encodeURIComponent(a.number)}`) })),
    h('p', { text: [apps.premises(a.asset), a.asset && a.asset.grade ? t(`grade.${a.asset.grade}`) : null, apps.workOf(a)].filter(Boolean).join(' · ') }),
  ];
  if (a.recommendation) {
    return h('li', { id, dataset: { number: a.number } }, head,
      h('p', { class: 'what', text: t('hcc.recommended', { what: label('appl.recommend', a.recommendation) }) }),
      a.text ? h('p', { class: 'note', text: a.text }) : null);
  }
  if (!secretary() || meeting.state === 'held') return h('li', { id, dataset: { number: a.number } }, head, h('p', { class: 'hint', text: t('hcc.noRecommendation') }));
  const radios = h('fieldset', { class: 'field radios', id: `${id}-recommendation`, role: 'radiogroup', 'aria-required': 'true' },
    h('legend', null, t('hcc.recommendation'), ' ', h('span', { class: 'req', text: t('report.required') })),
    ['approve', 'refuse'].map((d) => h('label', null,
      h('input', { type: 'radio', name: `${id}-recommendation`, id: `${id}-${d}`, value: d, checked: typed.get(`${id}-recommendation`) === d }),
      ' ', label('appl.recommend', d))));
  const text = h('textarea', { id: `${id}-text`, name: 'text', rows: 3, maxLength: TEXT_MAX, value: typed.get(`${id}-text`) || '' });
  const form = h('form', { class: 'act-form', id: `${id}-form`, novalidate: true },
    radios,
    h('div', { class: 'field' },
      h('label', { htmlFor: `${id}-text` }, t('hcc.text'), ' ', h('span', { class: 'req', text: t('report.required') })),
      text),
    h('button', { type: 'submit', class: 'btn btn-primary', id: `${id}-save`, text: t('hcc.record') }));
  form.addEventListener('change', () => {
    const r = form.querySelector('input[type="radio"]:checked');
    if (r) typed.set(`${id}-recommendation`, r.value);
  });
  text.addEventListener('input', () => typed.set(`${id}-text`, text.value));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    problems = {};
    const rec = (form.querySelector('input[type="radio"]:checked') || {}).value;
    const words = text.value.trim();
    if (!rec) problems[`${id}-recommendation`] = t('desk.needDecision');
    if (!words) problems[`${id}-text`] = t('err.required');
    if (Object.keys(problems).length) {
      render();
      (rec ? $(`#${id}-text`) : $(`#${id}-approve`))?.focus();
      return;
    }
    $(`#${id}-save`).disabled = true;
    try {
      await api.hccRecommend(meeting.id, { application: a.number, recommendation: rec, text: words });
      typed.delete(`${id}-recommendation`);
      typed.delete(`${id}-text`);
      message = { kind: 'success', text: () => t('hcc.recorded', { number: a.number }) };
      await load();
    } catch (err) {
      if (err.field === 'text') problems[`${id}-text`] = explain(err);
      message = { kind: 'error', text: () => t('hcc.failed', { error: explain(err) }) };
      render();
    }
    const line = $('#hcc-message');
    if (line) {
      reveal(line);
      line.focus({ preventScroll: true });
    }
  });
  return h('li', { id, dataset: { number: a.number } }, head, form);
}
