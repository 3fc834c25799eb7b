// Staff: sign in, the complaint queue (ward, status, category, overdue), one complaint
// with its internal timeline and (officers) the reporter's contact, and the actions the
// status machine allows: acknowledge, assign, start, resolve, reject, duplicate, note.
// The token lives in sessionStorage (this tab only) and is sent as a Bearer header.
import { h, replace, $, fieldError } from './dom.js';
import { t, label, fmtDate, fmtNumber, digits, onLangChange } from './i18n.js';
import { api, errorText, staffSession, setStaffSession, onUnauthorized } from './api.js';
import * as mapctl from './mapctl.js';
import * as complaint from './complaint.js';
import { categories, categoryName } from './report.js';

const OPEN = 'submitted,acknowledged,in_progress';
const STATUSES = ['submitted', 'acknowledged', 'in_progress', 'resolved', 'rejected', 'duplicate'];
const FIELD_STAFF_ACTIONS = ['acknowledge', 'start', 'resolve', 'note'];

let ctx;
let visible = false;
let queue = null;
let queueError = null;
let selected = null;
let pendingTicket = null;
let verified = false;
let message = null; // {kind: 'success'|'error', text}
let seq = 0;

export function init(c) {
  ctx = c;
  $('#staff-login').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn();
  });
  $('#staff-signout').addEventListener('click', signOut);
  $('#staff-filters').addEventListener('submit', (e) => {
    e.preventDefault();
    loadQueue();
  });
  $('#staff-filters').addEventListener('change', (e) => {
    if (e.target.id !== 'staff-ward') loadQueue();
  });
  $('#staff-ward').addEventListener('change', () => loadQueue());
  onUnauthorized(() => {
    queue = null;
    selected = null;
    $('#staff-login-status').textContent = t('staff.expired');
    if (visible) render();
  });
  onLangChange(() => fillFilters());
}

export function show() {
  visible = true;
  fillFilters();
  render();
  const s = staffSession();
  if (s && !verified) {
    api.me().then(() => { verified = true; }).catch(() => {});
  }
  if (s) loadQueue();
}

export function hide() {
  visible = false;
  mapctl.clearHighlight();
}

export function rerender() { render(); }

/** Opens `ticket` once the staff view shows (from a public record's "Manage"). */
export function openTicket(ticket) {
  pendingTicket = ticket;
  selected = null;
}

async function signIn() {
  const name = $('#staff-name');
  const pw = $('#staff-password');
  const status = $('#staff-login-status');
  fieldError(name, name.value.trim() ? null : t('staff.needName'));
  fieldError(pw, pw.value ? null : t('staff.needPassword'));
  if (!name.value.trim()) return name.focus();
  if (!pw.value) return pw.focus();
  const btn = $('#staff-signin');
  btn.disabled = true;
  status.textContent = t('staff.signingIn');
  try {
    const r = await api.login(name.value.trim(), pw.value);
    setStaffSession({ token: r.token, expires_at: r.expires_at, user: r.user });
    staffList = null;
    verified = true;
    pw.value = '';
    status.textContent = '';
    fillFilters();
    render();
    loadQueue();
    $('#staff-who').focus?.();
  } catch (e) {
    status.textContent = t('staff.badLogin', { error: errorText(e) });
    pw.focus();
  } finally {
    btn.disabled = false;
  }
  return undefined;
}

async function signOut() {
  try { await api.logout(); } catch { /* the token is dropped anyway */ }
  setStaffSession(null);
  staffList = null;
  queue = null;
  selected = null;
  verified = false;
  render();
  $('#staff-name').focus();
}

async function fillFilters() {
  const s = staffSession();
  const st = $('#staff-status');
  const cur = st.value || OPEN;
  replace(st, h('option', { value: OPEN, text: t('staff.open'), selected: cur === OPEN }),
    h('option', { value: '', text: t('staff.allStatuses'), selected: cur === '' }),
    STATUSES.map((x) => h('option', { value: x, text: label('status', x), selected: cur === x })));
  const ward = $('#staff-ward');
  if (s && s.user && s.user.role === 'field_staff') {
    ward.value = s.user.ward ?? '';
    ward.readOnly = true;
  } else {
    ward.readOnly = false;
    ward.placeholder = t('staff.anyWard');
  }
  const cats = await categories();
  const cs = $('#staff-category');
  const cc = cs.value;
  replace(cs, h('option', { value: '', text: t('staff.anyCategory') }),
    cats.map((x) => h('option', { value: x.service_code, text: categoryName(x.service_code, x.service_name), selected: cc === x.service_code })));
}

function queueParams() {
  const s = staffSession();
  const p = { status: $('#staff-status').value, category: $('#staff-category').value };
  const w = $('#staff-ward').value.trim();
  if (s && s.user && s.user.role !== 'field_staff' && /^\d+$/.test(w)) p.ward = w;
  if ($('#staff-overdue').checked) p.overdue = 'true';
  if (!$('#staff-status').options.length) p.status = OPEN;
  return p;
}

async function loadQueue() {
  if (!staffSession()) return;
  const mine = ++seq;
  queueError = null;
  $('#staff-queue-status').textContent = t('staff.loading');
  try {
    const r = await api.queue(queueParams());
    if (mine !== seq) return;
    queue = r.complaints || [];
    if (pendingTicket) {
      const tk = pendingTicket;
      pendingTicket = null;
      let c = queue.find((x) => x.ticket === tk);
      if (!c) {
        // Not in this filter: look through every status.
        const all = await api.queue({ ward: queueParams().ward });
        c = (all.complaints || []).find((x) => x.ticket === tk);
      }
      if (c) select(c);
      else message = { kind: 'error', text: t('staff.notInQueue', { ticket: tk }) };
    } else if (selected) {
      selected = queue.find((x) => x.ticket === selected.ticket) || selected;
    }
  } catch (e) {
    if (mine !== seq) return;
    queueError = e;
  }
  render();
}

function select(c) {
  selected = c;
  message = null;
  mapctl.highlight({ type: 'Point', coordinates: [c.lon, c.lat] });
  const m = mapctl.map;
  if (m && !m.getBounds().contains([c.lon, c.lat])) mapctl.flyTo(c.lon, c.lat, 16);
  render();
  const d = $('#staff-detail');
  d.focus({ preventScroll: true });
  d.scrollIntoView({ block: 'start' });
}

function render() {
  if (!visible) return;
  const s = staffSession();
  $('#staff-login').hidden = !!s;
  $('#staff-main').hidden = !s;
  if (!s) return;
  const u = s.user || {};
  $('#staff-who').textContent = u.ward !== null && u.ward !== undefined
    ? t('staff.signedInWard', { name: u.name, role: label('role', u.role), ward: digits(u.ward) })
    : t('staff.signedInAs', { name: u.name, role: label('role', u.role) });
  $('#staff-queue-view').hidden = !!selected;
  $('#staff-detail').hidden = !selected;
  renderQueue();
  if (selected) renderDetail();
}

function renderQueue() {
  const status = $('#staff-queue-status');
  const ul = $('#staff-queue');
  if (queueError) {
    status.textContent = t('staff.error', { error: errorText(queueError) });
    return replace(ul);
  }
  if (!queue) return replace(ul);
  status.textContent = queue.length ? t('staff.count', { n: fmtNumber(queue.length) }) : t('staff.empty');
  // The cards are made anew: keep keyboard focus on the same complaint's card.
  const focused = ul.contains(document.activeElement) ? document.activeElement.dataset.ticket : null;
  replace(ul, queue.map((c) => h('li', null, h('button', {
    type: 'button', class: 'card card-button', onclick: () => select(c), dataset: { ticket: c.ticket },
  },
  h('span', { class: 'card-title' },
    h('span', { class: 'ticket', text: c.ticket }), ' ', complaint.statusBadge(c.status),
    c.overdue ? [' ', h('span', { class: 'badge overdue', text: t('track.overdue') })] : null),
  h('span', { class: 'card-line', text: categoryName(c.category, c.category_name) }),
  h('span', { class: 'card-line hint', text: [
    c.ward !== null && c.ward !== undefined ? `${t('track.ward')} ${digits(c.ward)}` : null,
    fmtDate(c.created_at),
    c.supporters ? t('staff.supporters', { n: fmtNumber(c.supporters) }) : null,
    c.assigned_to ? `${t('staff.assigned')}: ${c.assigned_to}` : null,
  ].filter(Boolean).join(' · ') }),
  h('span', { class: 'card-line snippet', text: (c.description || '').slice(0, 140) })))));
  if (focused) focusCard(focused);
  return undefined;
}

/** Focuses the queue's card of `ticket`, or the queue's heading if it is not listed. */
function focusCard(ticket) {
  const card = [...$('#staff-queue').querySelectorAll('button[data-ticket]')].find((b) => b.dataset.ticket === ticket);
  if (card) card.focus();
  else $('#staff-queue-title').focus();
}

function allowedActions(c, role) {
  const open = ['submitted', 'acknowledged', 'in_progress'].includes(c.status);
  const list = [];
  if (open) {
    if (c.status === 'submitted') list.push('acknowledge');
    list.push('assign');
    if (c.status !== 'in_progress') list.push('start');
    list.push('resolve', 'reject', 'duplicate');
  }
  list.push('note');
  return role === 'field_staff' ? list.filter((a) => FIELD_STAFF_ACTIONS.includes(a)) : list;
}

let staffList = null;
/** The staff who can be assigned complaints, asked once per sign-in. */
function loadStaff() {
  if (!staffList) {
    staffList = api.staff();
    staffList.catch(() => { staffList = null; });
  }
  return staffList;
}

function renderDetail() {
  const c = selected;
  const s = staffSession();
  const role = s && s.user ? s.user.role : 'field_staff';
  const actions = allowedActions(c, role);
  const reporter = c.reporter
    ? [c.reporter.name, c.reporter.phone, c.reporter.email].filter(Boolean).join(' · ') || t('staff.noContact')
    : null;

  const actionSel = h('select', { id: 'staff-action', name: 'action' },
    actions.map((a) => h('option', { value: a, text: label('action', a) })));
  const note = h('textarea', { id: 'staff-note', name: 'note', rows: 3, maxLength: 4000, 'aria-describedby': 'staff-note-hint' });
  const pub = h('input', { type: 'checkbox', id: 'staff-public', name: 'public', checked: true });
  // Officers pick from the staff list; if it cannot be had (field staff may not read it,
  // or the network failed) a name can still be typed.
  let assignee = h('select', { id: 'staff-assignee', name: 'assignee' },
    h('option', { value: '', text: t('staff.assigneeLoading') }));
  loadStaff().then((people) => {
    replace(assignee, h('option', { value: '', text: '—' }),
      people.map((u) => h('option', {
        value: u.name,
        text: [u.name, label('role', u.role), u.ward !== null && u.ward !== undefined ? t('staff.wardN', { ward: digits(u.ward) }) : null].filter(Boolean).join(' — '),
      })));
  }, () => {
    const input = h('input', { type: 'text', id: 'staff-assignee', name: 'assignee', autocomplete: 'off', spellcheck: false });
    assignee.replaceWith(input);
    assignee = input;
  });
  const dupOf = h('input', { type: 'text', id: 'staff-duplicate_of', name: 'duplicate_of', autocomplete: 'off', spellcheck: false, placeholder: 'EH-2026-000123' });
  const assigneeField = h('div', { class: 'field', hidden: true }, h('label', { htmlFor: 'staff-assignee', text: t('staff.assignee') }), assignee);
  const dupField = h('div', { class: 'field', hidden: true }, h('label', { htmlFor: 'staff-duplicate_of', text: t('staff.duplicateOf') }), dupOf);
  const syncFields = () => {
    assigneeField.hidden = actionSel.value !== 'assign';
    dupField.hidden = actionSel.value !== 'duplicate';
  };
  actionSel.addEventListener('change', syncFields);
  syncFields();
  const statusLine = h('p', { id: 'staff-act-status', role: 'status', 'aria-live': 'polite', tabindex: '-1', class: message ? message.kind : null, text: message ? message.text : '' });
  const apply = h('button', { type: 'submit', class: 'btn btn-primary', id: 'staff-apply', text: t('staff.apply') });

  const actForm = h('form', { id: 'staff-act', class: 'act-form', novalidate: true },
    h('h4', { text: t('staff.act') }),
    h('div', { class: 'field' }, h('label', { htmlFor: 'staff-action', text: t('staff.action') }), actionSel),
    assigneeField, dupField,
    h('div', { class: 'field' },
      h('label', { htmlFor: 'staff-note', text: t('staff.note') }),
      h('p', { id: 'staff-note-hint', class: 'hint', text: t('staff.noteHint') }),
      note),
    h('label', { class: 'check' }, pub, ' ', t('staff.public')),
    apply, statusLine);
  actForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    const action = actionSel.value;
    for (const el of [note, assignee, dupOf]) fieldError(el, null);
    const body = { action, public: pub.checked };
    if (note.value.trim()) body.note = note.value.trim();
    if (action === 'assign') body.assignee = assignee.value.trim();
    if (action === 'duplicate') body.duplicate_of = dupOf.value.trim().toUpperCase();
    if ((action === 'resolve' || action === 'reject' || action === 'note') && !body.note) {
      fieldError(note, t('staff.needNote'));
      return note.focus();
    }
    if (action === 'assign' && !body.assignee) {
      fieldError(assignee, t('staff.needAssignee'));
      return assignee.focus();
    }
    if (action === 'duplicate' && !body.duplicate_of) {
      fieldError(dupOf, t('staff.needDuplicate'));
      return dupOf.focus();
    }
    apply.disabled = true;
    statusLine.className = '';
    statusLine.textContent = t('staff.applying');
    try {
      const r = await api.change(c.ticket, body);
      selected = r;
      if (queue) queue = queue.map((x) => (x.ticket === r.ticket ? r : x));
      message = { kind: 'success', text: t('staff.done', { ticket: r.ticket, status: label('status', r.status) }) };
      mapctl.refreshComplaints();
      render();
      $('#staff-act-status').focus({ preventScroll: false });
    } catch (err) {
      apply.disabled = false;
      let text;
      if (err.status === 409) text = t('staff.conflict', { error: errorText(err) });
      else if (err.status === 403) text = t('staff.forbidden', { error: errorText(err) });
      else text = t('staff.failed', { error: errorText(err) });
      const control = { note, assignee, duplicate_of: dupOf, action: actionSel }[err.field];
      if (control) fieldError(control, errorText(err));
      statusLine.className = 'error';
      statusLine.textContent = text;
    }
    return undefined;
  });

  replace($('#staff-detail'),
    h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'staff-back', text: `← ${t('staff.back')}`,
      onclick: () => {
        const back = selected.ticket;
        selected = null;
        message = null;
        mapctl.clearHighlight();
        render();
        focusCard(back); // the button is gone with the record
        loadQueue();
      },
    }),
    h('h3', { class: 'ticket-head' }, h('span', { class: 'ticket', text: c.ticket }), ' ', complaint.statusBadge(c.status)),
    complaint.facts(c, ctx.navigate, [
      [t('staff.assigned'), c.assigned_to || t('staff.unassigned')],
      [t('staff.source'), c.source],
      [t('staff.reporter'), reporter],
    ]),
    complaint.answers(c),
    complaint.description(c, 'staff-description'),
    complaint.photos(c),
    complaint.timeline(c, { staff: true }),
    h('div', { class: 'button-row' }, h('button', {
      type: 'button', class: 'btn btn-secondary', text: t('track.showOnMap'),
      onclick: () => {
        mapctl.highlight({ type: 'Point', coordinates: [c.lon, c.lat] });
        mapctl.flyTo(c.lon, c.lat, 17);
      },
    })),
    actForm);
}
