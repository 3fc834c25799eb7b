// The public tracker of an application (#application/HS-2026-000001): anyone with the
// number sees where the case stands — each stage with its dates and the days used of its
// limit, whether the applicant has been asked for more (the clock then stops), and the
// decision with its letter's verification link. Never the applicant, the form, the files
// or staff's notes: `GET /applications/{number}/track` has none of them. The Track view
// has a form that opens this page (`initTrackForm`).
import { h, replace, $, fieldError } from './dom.js';
import { t, fmtDate } from './i18n.js';
import { api, staffSession } from './api.js';
import { explain } from './errors.js';
import * as apps from './apps.js';
import * as mapctl from './mapctl.js';

let ctx;
let visible = false;
let number = null;
let data = null;
let def = null;
let error = null;
let seq = 0;

const el = () => $('#view-application');

export const tabOf = 'track';

export function init(c) {
  ctx = c;
  initTrackForm(c);
}

/** The number form in the Track view (static markup): opens this page. */
function initTrackForm(c) {
  $('#track-apply')?.addEventListener('click', () => c.navigate('#apply'));
  $('#track-my-apps')?.addEventListener('click', () => c.navigate('#my-applications'));
  $('#track-decisions')?.addEventListener('click', () => c.navigate('#decisions'));
  const form = $('#track-app-form');
  if (!form) return;
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const input = $('#track-app-number');
    const v = input.value.trim().toUpperCase();
    fieldError(input, null);
    if (!apps.NUMBER.test(v)) {
      fieldError(input, t(v ? 'atrack.badNumber' : 'atrack.needNumber'));
      input.focus();
      return;
    }
    c.navigate(`#application/${encodeURIComponent(v)}`);
  });
}

export function show(arg) {
  visible = true;
  number = arg ? String(arg).toUpperCase() : null;
  data = null;
  error = null;
  render();
  apps.types().then(() => { if (visible) render(); });
  if (number) load();
}

export function hide() {
  visible = false;
  seq++;
  mapctl.clearHighlight();
}

export function rerender() { render(); }

async function load() {
  const mine = ++seq;
  try {
    const d = await api.trackApplication(number);
    const ty = d.type && typeof d.type === 'object' ? d.type : { code: d.type };
    const full = ty.code ? await apps.typeDef(ty.code, ty.version).catch(() => null) : null;
    if (mine !== seq) return;
    data = d;
    def = full;
    if (d.asset) apps.premisesOnMap(d.asset.code, () => visible && data === d);
  } catch (e) {
    if (mine !== seq) return;
    error = e;
  }
  render();
}

function render() {
  if (!visible) return;
  const root = el();
  const active = document.activeElement;
  const focusId = root.contains(active) && active.id ? active.id : null;
  const input = h('input', {
    type: 'text', id: 'atrack-number', name: 'number', autocomplete: 'off', spellcheck: false, autocapitalize: 'characters',
    value: number || '', 'aria-describedby': 'atrack-hint', class: 'mono',
  });
  const form = h('form', { class: 'inline-form', id: 'atrack-form', novalidate: true },
    h('div', { class: 'field' },
      h('label', { htmlFor: 'atrack-number', text: t('atrack.label') }),
      h('p', { class: 'hint', id: 'atrack-hint', text: t('atrack.hint') }),
      h('div', { class: 'input-with-button' }, input, h('button', { type: 'submit', class: 'btn btn-primary', text: t('track.show') }))));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const v = input.value.trim().toUpperCase();
    fieldError(input, null);
    if (!apps.NUMBER.test(v)) {
      fieldError(input, t(v ? 'atrack.badNumber' : 'atrack.needNumber'));
      input.focus();
      return;
    }
    ctx.navigate(`#application/${encodeURIComponent(v)}`);
  });
  replace(root,
    h('h2', { id: 'application-title', tabindex: '-1', text: t('atrack.title') }),
    h('p', { class: 'intro', text: t('atrack.intro') }),
    form,
    h('div', { id: 'atrack-result', 'aria-live': 'polite' }, result()),
    h('div', { class: 'button-row app-links' },
      h('button', { type: 'button', class: 'btn btn-secondary', id: 'atrack-decisions', text: t('dec.title'), onclick: () => ctx.navigate('#decisions') }),
      h('button', { type: 'button', class: 'btn btn-secondary', id: 'atrack-apply', text: t('apply.title'), onclick: () => ctx.navigate('#apply') })));
  if (focusId && document.getElementById(focusId) && document.activeElement !== document.getElementById(focusId)) document.getElementById(focusId).focus({ preventScroll: true });
}

function result() {
  if (!number) return null;
  if (error) {
    return h('p', { class: 'error', role: 'alert', id: 'atrack-error', text: error.status === 404 ? t('atrack.notFound', { number }) : t('atrack.failed', { error: explain(error) }) });
  }
  if (!data) return h('p', { text: t('staff.loading') });
  const d = data;
  const facts = [];
  const row = (k, v) => { if (v !== null && v !== undefined && v !== '') facts.push(h('dt', { text: k }), h('dd', null, v)); };
  row(t('appl.type'), apps.typeName(d.type));
  row(t('appl.premises'), d.asset ? h('button', {
    type: 'button', class: 'link', text: apps.premises(d.asset), onclick: () => ctx.navigate(`#asset/${encodeURIComponent(d.asset.code)}`),
  }) : null);
  if (d.asset && d.asset.grade) row(t('asset.grade'), t(`grade.${d.asset.grade}`));
  row(t('appl.work'), apps.workOf(d, def));
  row(t('appl.submitted'), fmtDate(d.submitted_at));
  row(t('appl.decidedAt'), d.decided_at ? fmtDate(d.decided_at) : null);
  const s = staffSession();
  return h('article', { class: 'app-case', id: 'atrack-case' },
    h('h3', { class: 'ticket-head' }, h('span', { class: 'ticket', id: 'atrack-id', text: d.number }), ' ', apps.stateBadge(d)),
    d.awaiting_applicant_since ? h('p', { class: 'notice warning-notice', id: 'atrack-awaiting', text: t('atrack.awaiting', { date: fmtDate(d.awaiting_applicant_since, false) }) }) : null,
    h('dl', { class: 'facts' }, facts),
    h('h4', { id: 'atrack-stages-title', text: t('appl.stages') }),
    apps.stagesList(d.stages, { def, id: 'atrack-stages', next: d.next_stages }),
    apps.decisionBlock(d.decision, 'atrack-decision'),
    s ? h('div', { class: 'button-row' }, h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'atrack-desk', text: t('desk.openCase'), onclick: () => ctx.navigate(`#desk/${encodeURIComponent(d.number)}`),
    })) : null);
}
