// Staff: sign in, the complaint queue (ward, status, category, overdue), one complaint
// with its internal timeline and (officers) the reporter's contact, and the actions the
// status machine allows: acknowledge, assign, start, resolve, reject, duplicate, note.
// The token lives in sessionStorage (this tab only) and is sent as a Bearer header.
// A note stays internal unless "Show this note to the public" is ticked, and publishing
// one is confirmed first: staff write notes like "FIR lodged with Lake PS".
import { h, replace, $, fieldError } from './dom.js';
import { t, tn, label, fmtDate, digits, onLangChange } from './i18n.js';
import { api, staffSession, setStaffSession, onUnauthorized } from './api.js';
import { explain } from './errors.js';
import * as mapctl from './mapctl.js';
import * as complaint from './complaint.js';
import { reveal } from './panel.js';
import { categories, categoryName } from './services.js';
import { staffPhoto, forget as forgetPhotos } from './photos.js';
import * as apps from './apps.js';

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
let message = null; // {kind: 'success'|'error', key, vars} or {kind: 'error', error}: put in words at each render
let loginProblem = null; // the sign-in's last error (an ApiError), put in words at each render
let seq = 0;
// The messages to the selected complaint's reporter: {ticket, rows} or {ticket, error};
// and the last retry's outcome, {kind, key} or {kind: 'error', error} about a retry.
let outbox = null;
let outboxMessage = null;
let outboxSeq = 0;

export function init(c) {
  ctx = c;
  $('#staff-login').addEventListener('submit', (e) => {
    e.preventDefault();
    signIn();
  });
  $('#staff-signout').addEventListener('click', signOut);
  $('#staff-proposals').addEventListener('click', () => ctx.navigate('#proposals'));
  $('#staff-add').addEventListener('click', () => ctx.navigate('#add'));
  $('#staff-moderation').addEventListener('click', () => ctx.navigate('#moderation'));
  $('#staff-desk').addEventListener('click', () => ctx.navigate('#desk'));
  $('#staff-hcc').addEventListener('click', () => ctx.navigate('#hcc'));
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
    loginProblem = { expired: true };
    renderLoginStatus();
    if (visible) render();
  });
  onLangChange(() => {
    fillFilters();
    renderLoginStatus();
  });
  // Phones: the queue's cards first; the filters are one tap away.
  if (window.matchMedia('(max-width: 700px)').matches) $('#staff-filters-box').open = false;
}

function renderLoginStatus() {
  const status = $('#staff-login-status');
  const e = loginProblem;
  if (!e) status.textContent = '';
  else if (e.expired) status.textContent = t('staff.expired');
  else if (e.status === 401) status.textContent = t('staff.wrongPassword');
  else if (e.status === 429) status.textContent = tn('staff.loginWait', Math.max(1, e.retryAfter || 1));
  else status.textContent = t('staff.badLogin', { error: explain(e) });
  status.classList.toggle('error', !!e);
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
  loginProblem = null;
  status.classList.remove('error');
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
    // The queue is what they came for: its heading at the top of the panel, the cards
    // under it (the "signed in as" line is above, a scroll away).
    const title = $('#staff-queue-title');
    title.focus({ preventScroll: true });
    await loadQueue();
    const body = $('#panel-body');
    body.scrollTop += title.getBoundingClientRect().top - body.getBoundingClientRect().top - 4;
  } catch (e) {
    loginProblem = e;
    renderLoginStatus();
    pw.focus();
  } finally {
    btn.disabled = false;
  }
  return undefined;
}

async function signOut() {
  try { await api.logout(); } catch { /* the token is dropped anyway */ }
  setStaffSession(null);
  forgetPhotos();
  staffList = null;
  outbox = null;
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
      else message = { kind: 'error', key: 'staff.notInQueue', vars: { ticket: tk } };
    } else if (selected) {
      const row = queue.find((x) => x.ticket === selected.ticket);
      if (row) {
        selected = row;
        loadFull(row.ticket);
      }
    }
  } catch (e) {
    if (mine !== seq) return;
    queueError = e;
  }
  render();
}

/** The queue's rows carry no timeline: the whole record follows, for the one selected. */
function loadFull(ticket) {
  api.staffComplaint(ticket).then((full) => {
    if (selected && selected.ticket === full.ticket) {
      selected = full;
      render();
    }
  }).catch(() => {});
}

function select(c) {
  selected = c;
  message = null;
  outboxMessage = null;
  loadOutbox(c.ticket);
  loadFull(c.ticket);
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
  // Moderation and the reporters' messages are for officers and admins.
  $('#staff-moderation').hidden = !isOfficer(u);
  // The applications desk for those with duties at its stages (admins act at all); the
  // HCC's meetings for its secretary.
  apps.staffDuties().then((w) => {
    $('#staff-desk').hidden = !(w && (w.role === 'admin' || w.duties.length));
    $('#staff-hcc').hidden = !apps.mayAct(w, 'hcc_secretary');
  }, () => {});
  $('#staff-queue-view').hidden = !!selected;
  $('#staff-detail').hidden = !selected;
  renderQueue();
  if (selected) renderDetail();
}

function renderQueue() {
  const status = $('#staff-queue-status');
  const ul = $('#staff-queue');
  if (queueError) {
    status.textContent = t('staff.error', { error: explain(queueError) });
    return replace(ul);
  }
  if (!queue) return replace(ul);
  status.textContent = [message && !selected ? messageText(message) : null,
    queue.length ? tn('staff.count', queue.length) : t('staff.empty')].filter(Boolean).join(' ');
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
    c.supporters ? tn('staff.supporters', c.supporters) : null,
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
/** The staff who can be assigned complaints, asked once per sign-in (officers and admins:
 * field staff may not read the list, and may not assign). */
function loadStaff() {
  if (!staffList) {
    staffList = api.staff();
    staffList.catch(() => { staffList = null; });
  }
  return staffList;
}

/** What the reader sees of `message`, in the current language. */
function messageText(m) {
  if (!m) return '';
  if (m.error) return m.error.status === 409 || m.error.status === 403 ? explain(m.error) : t('staff.failed', { error: explain(m.error) });
  return t(m.key, m.vars && m.vars.status ? { ...m.vars, status: label('status', m.vars.status) } : m.vars);
}

// What was typed into the action form, kept across redraws (a language switch).
let draft = null; // {ticket, action, note, public, assignee, duplicate_of}

function renderDetail() {
  const c = selected;
  const s = staffSession();
  const role = s && s.user ? s.user.role : 'field_staff';
  const actions = allowedActions(c, role);
  const reporter = c.reporter
    ? [c.reporter.name, c.reporter.phone, c.reporter.email].filter(Boolean).join(' · ') || t('staff.noContact')
    : null;
  const kept = draft && draft.ticket === c.ticket ? draft : null;

  const actionSel = h('select', { id: 'staff-action', name: 'action' },
    actions.map((a) => h('option', { value: a, text: label('action', a), selected: kept ? kept.action === a : false })));
  const note = h('textarea', { id: 'staff-note', name: 'note', rows: 3, maxLength: 4000, 'aria-describedby': 'staff-note-hint', value: kept ? kept.note : '' });
  // Unticked by default: a note is for staff unless its author chooses to publish it.
  const pub = h('input', { type: 'checkbox', id: 'staff-public', name: 'public', checked: kept ? kept.public : false, 'aria-describedby': 'staff-public-hint' });
  // Officers pick from the staff list; if it cannot be had (the network failed) a name
  // can still be typed. Field staff cannot assign: the list is not asked for.
  let assignee = h('select', { id: 'staff-assignee', name: 'assignee' },
    h('option', { value: '', text: t('staff.assigneeLoading') }));
  if (actions.includes('assign')) {
    loadStaff().then((people) => {
      replace(assignee, h('option', { value: '', text: '—' }),
        people.map((u) => h('option', {
          value: u.name,
          selected: kept ? kept.assignee === u.name : false,
          text: [u.name, label('role', u.role), u.ward !== null && u.ward !== undefined ? t('staff.wardN', { ward: digits(u.ward) }) : null].filter(Boolean).join(' — '),
        })));
    }, () => {
      const input = h('input', { type: 'text', id: 'staff-assignee', name: 'assignee', autocomplete: 'off', spellcheck: false, value: kept ? kept.assignee : '' });
      assignee.replaceWith(input);
      assignee = input;
    });
  }
  const dupOf = h('input', { type: 'text', id: 'staff-duplicate_of', name: 'duplicate_of', autocomplete: 'off', spellcheck: false, placeholder: 'EH-2026-000123', value: kept ? kept.duplicate_of : '' });
  const assigneeField = h('div', { class: 'field', hidden: true }, h('label', { htmlFor: 'staff-assignee', text: t('staff.assignee') }), assignee);
  const dupField = h('div', { class: 'field', hidden: true }, h('label', { htmlFor: 'staff-duplicate_of', text: t('staff.duplicateOf') }), dupOf);
  const syncFields = () => {
    assigneeField.hidden = actionSel.value !== 'assign';
    dupField.hidden = actionSel.value !== 'duplicate';
  };
  const keep = () => {
    draft = { ticket: c.ticket, action: actionSel.value, note: note.value, public: pub.checked, assignee: assignee.value, duplicate_of: dupOf.value };
  };
  actionSel.addEventListener('change', syncFields);
  syncFields();
  const statusLine = h('p', { id: 'staff-act-status', role: 'status', 'aria-live': 'polite', tabindex: '-1', class: message ? message.kind : null, text: messageText(message) });
  const apply = h('button', { type: 'submit', class: 'btn btn-primary', id: 'staff-apply', text: t('staff.apply') });
  const confirmSlot = h('div');

  const actForm = h('form', { id: 'staff-act', class: 'act-form', novalidate: true },
    h('h4', { text: t('staff.act') }),
    h('div', { class: 'field' }, h('label', { htmlFor: 'staff-action', text: t('staff.action') }), actionSel),
    assigneeField, dupField,
    h('div', { class: 'field' },
      h('label', { htmlFor: 'staff-note', text: t('staff.note') }),
      h('p', { id: 'staff-note-hint', class: 'hint', text: t('staff.noteHint') }),
      note),
    h('label', { class: 'check' }, pub, ' ', t('staff.public')),
    h('p', { id: 'staff-public-hint', class: 'hint', text: t('staff.publicHint') }),
    confirmSlot,
    apply, statusLine);
  actForm.addEventListener('input', keep);
  actForm.addEventListener('change', keep);

  /** Asks before a note goes public; resolves true to publish. */
  const confirmPublish = (text) => new Promise((resolve) => {
    const done = (yes) => {
      replace(confirmSlot);
      apply.disabled = false;
      resolve(yes);
      (yes ? apply : pub).focus();
    };
    const box = h('div', { class: 'confirm', id: 'staff-confirm', role: 'group', 'aria-labelledby': 'staff-confirm-q' },
      h('p', { id: 'staff-confirm-q', tabindex: '-1', text: t('staff.confirmPublish') }),
      h('blockquote', { text }),
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'btn btn-primary', id: 'staff-confirm-yes', text: t('staff.confirmYes'), onclick: () => done(true) }),
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'staff-confirm-no', text: t('staff.confirmNo'), onclick: () => done(false) })));
    box.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault(); // not the panel's Escape: only this question closes
        done(false);
      }
    });
    apply.disabled = true;
    replace(confirmSlot, box);
    reveal(box);
    $('#staff-confirm-q').focus({ preventScroll: true });
  });

  actForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (confirmSlot.firstChild) return; // the question is open: answer it first
    const action = actionSel.value;
    for (const el of [note, assignee, dupOf]) fieldError(el, null);
    const text = note.value.trim();
    // Without a note there is nothing private in the event: it stays on the public
    // timeline ("Acknowledged by the department"). With one, only a ticked box publishes.
    const body = { action, public: text ? pub.checked : true };
    if (text) body.note = text;
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
    if (body.note && body.public && !(await confirmPublish(body.note))) return undefined;
    apply.disabled = true;
    statusLine.className = '';
    statusLine.textContent = t('staff.applying');
    try {
      const r = await api.change(c.ticket, body);
      selected = r;
      draft = null;
      loadOutbox(r.ticket); // a step may have written messages to the reporter
      if (queue) queue = queue.map((x) => (x.ticket === r.ticket ? r : x));
      message = { kind: 'success', key: 'staff.done', vars: { ticket: r.ticket, status: r.status } };
      mapctl.refreshComplaints();
      render();
      const line = $('#staff-act-status');
      reveal(line);
      line.focus({ preventScroll: true });
    } catch (err) {
      apply.disabled = false;
      const control = { note, assignee, duplicate_of: dupOf, action: actionSel }[err.field];
      if (control) {
        fieldError(control, explain(err));
        control.focus();
      }
      message = { kind: 'error', error: err };
      const line = $('#staff-act-status') || statusLine; // the form may have been redrawn
      line.className = 'error';
      line.textContent = messageText(message);
      if (!control) reveal(line);
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
        draft = null;
        mapctl.clearHighlight();
        render();
        focusCard(back); // the button is gone with the record
        loadQueue();
      },
    }),
    h('h3', { class: 'ticket-head' }, h('span', { class: 'ticket', text: c.ticket }), ' ', complaint.statusBadge(c.status)),
    complaint.facts(c, ctx.navigate, [
      [t('staff.assigned'), c.assigned_to || t('staff.unassigned')],
      [t('staff.source'), label('source', c.source)],
      [t('staff.reporter'), reporter],
    ]),
    complaint.answers(c),
    complaint.description(c, 'staff-description', { staff: true }),
    complaint.photos(c, { staff: true, photo: staffPhoto }),
    complaint.timeline(c, { staff: true, photo: staffPhoto }),
    moderationSection(c, role),
    isOfficer(s.user) ? h('section', { class: 'record', id: 'staff-messages', 'aria-labelledby': 'staff-messages-title' }, messagesSection(c)) : null,
    h('div', { class: 'button-row' }, h('button', {
      type: 'button', class: 'btn btn-secondary', text: t('track.showOnMap'),
      onclick: () => {
        mapctl.highlight({ type: 'Point', coordinates: [c.lon, c.lat] });
        mapctl.flyTo(c.lon, c.lat, 17);
      },
    })),
    actForm);
}

const isOfficer = (u) => !!(u && (u.role === 'officer' || u.role === 'admin'));

/** The complaint's moderation: each piece held, hidden or reviewed, and by whom. */
function moderationSection(c, role) {
  const rows = c.moderation || [];
  return h('section', { class: 'record', id: 'staff-moderation-rows', 'aria-labelledby': 'staff-moderation-title' },
    h('h4', { id: 'staff-moderation-title', text: t('mod.detailTitle') }),
    rows.length
      ? h('ul', { class: 'history' }, rows.map((m) => h('li', { dataset: { item: m.item } },
        h('p', { class: 'what' }, complaint.itemName(m.item, c), ' ', h('span', { class: `badge mod-${m.state}`, text: label('mod.state', m.state) })),
        m.reason ? h('p', { text: t('mod.publicReason', { reason: m.reason }) }) : null,
        h('p', { class: 'when', text: [fmtDate(m.at), m.by ? t('staff.by', { name: m.by }) : null].filter(Boolean).join(' · ') }))))
      : h('p', { class: 'hint', text: t('mod.detailNone') }),
    role === 'field_staff' ? null : h('div', { class: 'button-row' }, h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'staff-open-moderation', text: t('mod.openQueue'), onclick: () => ctx.navigate('#moderation'),
    })));
}


async function loadOutbox(ticket) {
  const s = staffSession();
  if (!s || !isOfficer(s.user)) return;
  const mine = ++outboxSeq;
  if (!outbox || outbox.ticket !== ticket) {
    outbox = { ticket, rows: null };
    outboxMessage = null;
  }
  try {
    const r = await api.notifications({ ticket, limit: 100 });
    if (mine !== outboxSeq) return;
    outbox = { ticket, rows: r.notifications || [] };
  } catch (e) {
    if (mine !== outboxSeq) return;
    outbox = { ticket, error: e };
  }
  drawOutbox();
}

function drawOutbox() {
  const box = $('#staff-messages');
  if (box && selected) replace(box, messagesSection(selected));
}

const RETRYABLE = ['failed', 'uncertain'];

/** The reporter's language, whether they stopped the messages, and each message's fate. */
function messagesSection(c) {
  const mine = outbox && outbox.ticket === c.ticket ? outbox : null;
  let status;
  if (!mine || (!mine.rows && !mine.error)) status = t('staff.loading');
  else if (mine.error) status = t('msg.error', { error: explain(mine.error) });
  else status = mine.rows.length ? tn('msg.count', mine.rows.length) : t('msg.none');
  const line = outboxMessage
    ? h('p', { id: 'staff-messages-status', role: 'status', tabindex: '-1', class: `form-status ${outboxMessage.kind}`, text: outboxMessage.error ? t('msg.retryFailed', { error: explain(outboxMessage.error) }) : t(outboxMessage.key) })
    : null;
  return [
    h('h4', { id: 'staff-messages-title', text: t('msg.title') }),
    h('p', { text: [
      c.language ? t('msg.language', { language: label('docLang', c.language) }) : null,
      c.opted_out ? t('msg.optedOut') : null,
    ].filter(Boolean).join(' ') }),
    h('p', { class: 'hint', id: 'staff-messages-count', text: status }),
    mine && mine.rows && mine.rows.length ? h('ol', { class: 'history', id: 'staff-messages-list' }, mine.rows.map((n) => h('li', { dataset: { notification: String(n.id) } },
      h('p', { class: 'what' }, complaint.eventText({ action: n.action }), ' · ', label('channel', n.channel), ' ',
        h('span', { class: `badge msg-${n.state}`, text: label('msg.state', n.state) })),
      h('p', { class: 'when', text: [
        t('msg.created', { date: fmtDate(n.created_at) }),
        n.sent_at ? t('msg.sent', { date: fmtDate(n.sent_at) }) : null,
        n.attempts ? tn('msg.attempts', n.attempts) : null,
        n.state === 'pending' && n.attempts && n.not_before ? t('msg.next', { date: fmtDate(n.not_before) }) : null,
      ].filter(Boolean).join(' · ') }),
      n.last_error ? h('p', { class: 'hint', text: t('msg.lastError', { error: n.last_error }) }) : null,
      RETRYABLE.includes(n.state) ? h('div', { class: 'button-row' }, h('button', {
        type: 'button', class: 'btn btn-secondary msg-retry', id: `staff-retry-${n.id}`, text: t('msg.retry'),
        'aria-describedby': n.state === 'uncertain' ? 'staff-messages-uncertain' : null,
        onclick: (e) => retry(n, e.currentTarget),
      })) : null))) : null,
    mine && mine.rows && mine.rows.some((n) => n.state === 'uncertain')
      ? h('p', { class: 'hint', id: 'staff-messages-uncertain', text: t('msg.uncertainHint') }) : null,
    line,
  ];
}

async function retry(n, btn) {
  btn.disabled = true;
  try {
    await api.retryNotification(n.id);
    outboxMessage = { kind: 'success', key: 'msg.retried' };
  } catch (e) {
    outboxMessage = { kind: 'error', error: e };
  }
  await loadOutbox(n.ticket);
  const l = $('#staff-messages-status');
  if (l) {
    reveal(l);
    l.focus({ preventScroll: true });
  }
}
