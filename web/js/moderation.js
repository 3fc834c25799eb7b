// Moderation (#moderation, officers and admins; under the Staff tab): what waits for
// review — photos held before they are public, and pieces the public reported as
// inappropriate since their last review (`GET /moderation?state=open`) — and what is
// hidden (`?state=hidden`). Each piece shows its text, or its photo fetched with the
// token, how often and why it was reported, and a link to its complaint. Hide needs a
// reason, which the complaint's page shows in the piece's place; Keep / Approve closes
// the reports (and makes a held photo public); Show again undoes a hiding.
import { h, replace, $, fieldError } from './dom.js';
import { t, tn, label, fmtDate } from './i18n.js';
import { api, staffSession } from './api.js';
import { explain } from './errors.js';
import { reveal } from './panel.js';
import { staffPhoto } from './photos.js';
import * as staff from './staff.js';
import { itemName } from './complaint.js';

const REASON_MAX = 500;
const LISTS = ['open', 'hidden'];

let ctx;
let visible = false;
const lists = { open: null, hidden: null }; // {items} or {error}
let message = null; // {kind, key, vars} or {kind: 'error', error}
const reasons = new Map(); // `${ticket} ${item}` → the reason typed, kept across redraws
let seq = 0;

export const tabOf = 'staff';

export function init(c) {
  ctx = c;
}

export function show() {
  visible = true;
  message = null;
  render();
  if (isOfficer()) load();
}

export function hide() {
  visible = false;
  seq++;
}

export function rerender() { render(); }

export const isOfficer = () => {
  const s = staffSession();
  return !!(s && s.user && (s.user.role === 'officer' || s.user.role === 'admin'));
};

async function load() {
  const mine = ++seq;
  const got = await Promise.all(LISTS.map((state) => api.moderation(state).then((r) => ({ items: r.items || [] }), (error) => ({ error }))));
  if (mine !== seq) return;
  LISTS.forEach((state, i) => { lists[state] = got[i]; });
  render();
}

/** Where a piece of the queue stands: held, reported (never reviewed, or since), hidden. */
function stateBadge(x) {
  const state = x.state === 'held' || x.state === 'hidden' ? x.state : 'flagged';
  return h('span', { class: `badge mod-${state}`, text: label('mod.state', state) });
}

function render() {
  if (!visible) return;
  const root = $('#view-moderation');
  const title = h('h2', { id: 'moderation-title', tabindex: '-1', text: t('mod.title') });
  const back = h('div', { class: 'button-row' }, h('button', {
    type: 'button', class: 'btn btn-secondary', id: 'moderation-back', text: `← ${t('mod.backToStaff')}`, onclick: () => ctx.navigate('#staff'),
  }));
  if (!staffSession()) {
    return replace(root, title, h('p', { text: t('mod.signIn') }),
      h('button', { type: 'button', class: 'btn btn-primary', text: t('staff.signIn'), onclick: () => ctx.navigate('#staff') }));
  }
  if (!isOfficer()) return replace(root, title, h('p', { text: t('mod.officersOnly') }), back);
  const status = h('p', {
    id: 'moderation-status', role: 'status', tabindex: '-1',
    class: `form-status${message ? ` ${message.kind}` : ''}`,
    text: message ? (message.error ? t('mod.failed', { error: explain(message.error) }) : t(message.key, { what: itemName(message.item), ticket: message.ticket })) : '',
  });
  return replace(root, title,
    h('p', { class: 'intro', text: t('mod.intro') }),
    status,
    LISTS.map((state) => section(state)),
    back);
}

function section(state) {
  const l = lists[state];
  const id = `moderation-${state}`;
  let line;
  if (!l) line = t('staff.loading');
  else if (l.error) line = t('mod.error', { error: explain(l.error) });
  else line = l.items.length ? tn(`mod.count.${state}`, l.items.length) : t(`mod.empty.${state}`);
  return h('section', { class: 'mod-list', 'aria-labelledby': `${id}-title` },
    h('h3', { id: `${id}-title`, tabindex: '-1', text: t(`mod.list.${state}`) }),
    h('p', { id: `${id}-count`, class: 'hint', text: line }),
    h('ul', { id, class: 'cards' }, (l && l.items ? l.items : []).map((x, i) => card(x, state, i))));
}

function card(x, state, i) {
  const key = `${x.ticket} ${x.item}`;
  const id = `mod-${state}-${i}`;
  const photo = x.item.startsWith('photo:') ? `/photos/${x.item.slice(6)}` : null;
  const content = photo
    ? staffPhoto(photo, t('mod.photoOf', { ticket: x.ticket }))
    : h('blockquote', { class: 'mod-content', text: x.content || '' });
  const reports = x.open_flags
    ? [h('p', { class: 'mod-flags', text: x.last_flag_at ? tn('mod.flags', x.open_flags, { date: fmtDate(x.last_flag_at) }) : tn('mod.flagsNoDate', x.open_flags) }),
      (x.flag_reasons || []).length ? h('ul', { class: 'mod-reasons', 'aria-label': t('mod.reasons') }, x.flag_reasons.map((r) => h('li', { text: r }))) : null]
    : null;
  const reviewed = x.state === 'hidden'
    ? h('p', { class: 'mod-hidden' }, t('mod.publicReason', { reason: x.reason || '—' }), x.reviewed_at ? ` · ${t('mod.hiddenOn', { date: fmtDate(x.reviewed_at) })}` : '')
    : (x.state === 'shown' && x.reviewed_at ? h('p', { class: 'hint', text: t('mod.keptOn', { date: fmtDate(x.reviewed_at) }) }) : null);

  let actions;
  if (state === 'open') {
    const reason = h('textarea', {
      id: `${id}-reason`, name: 'reason', rows: 2, maxLength: REASON_MAX, value: reasons.get(key) || '', 'aria-describedby': `${id}-reason-hint`,
    });
    reason.addEventListener('input', () => reasons.set(key, reason.value));
    actions = h('div', { class: 'mod-actions' },
      h('div', { class: 'field' },
        h('label', { htmlFor: `${id}-reason`, text: t('mod.reason') }),
        h('p', { class: 'hint', id: `${id}-reason-hint`, text: t('mod.reasonHint') }),
        reason),
      h('div', { class: 'button-row' },
        h('button', { type: 'button', class: 'btn btn-primary mod-hide', id: `${id}-hide`, text: t('mod.hide'), onclick: () => decide(x, 'hide', reason) }),
        h('button', {
          type: 'button', class: 'btn btn-secondary mod-keep', id: `${id}-keep`,
          text: t(x.state === 'held' ? 'mod.approve' : 'mod.keep'), onclick: () => decide(x, 'show', reason),
        })));
  } else {
    actions = h('div', { class: 'button-row' },
      h('button', { type: 'button', class: 'btn btn-secondary mod-show', id: `${id}-show`, text: t('mod.showAgain'), onclick: () => decide(x, 'show', null) }));
  }
  return h('li', { class: 'card mod-card', id, dataset: { ticket: x.ticket, item: x.item } },
    h('p', { class: 'card-title' },
      h('button', {
        type: 'button', class: 'link ticket', text: x.ticket,
        'aria-label': t('mod.openTicket', { ticket: x.ticket }),
        onclick: () => {
          staff.openTicket(x.ticket);
          ctx.navigate('#staff');
        },
      }), ' · ', itemName(x.item), ' ', stateBadge(x)),
    content, reports, reviewed, actions);
}

async function decide(x, decision, reasonEl) {
  const key = `${x.ticket} ${x.item}`;
  const reason = reasonEl ? reasonEl.value.trim() : '';
  if (reasonEl) fieldError(reasonEl, null);
  if (decision === 'hide' && !reason) {
    fieldError(reasonEl, t('mod.needReason'));
    reasonEl.focus();
    return;
  }
  const card = reasonEl ? reasonEl.closest('li') : null;
  for (const b of (card || $('#view-moderation')).querySelectorAll('button')) b.disabled = true;
  const body = { item: x.item, decision };
  if (decision === 'hide') body.reason = reason;
  try {
    await api.moderate(x.ticket, body);
    reasons.delete(key);
    message = {
      kind: 'success',
      key: decision === 'hide' ? 'mod.hidden' : (x.state === 'hidden' ? 'mod.shownAgain' : (x.state === 'held' ? 'mod.approved' : 'mod.kept')),
      item: x.item,
      ticket: x.ticket,
    };
    await load();
  } catch (err) {
    message = { kind: 'error', error: err };
    if (reasonEl && err.field === 'reason') {
      render();
      const again = document.getElementById(reasonEl.id);
      if (again) {
        fieldError(again, explain(err));
        again.focus();
        return;
      }
    }
    render();
  }
  const line = $('#moderation-status');
  if (line) {
    reveal(line);
    line.focus({ preventScroll: true });
  }
}
