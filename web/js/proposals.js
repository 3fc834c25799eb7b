// Proposed changes to the register (#proposals, #proposals/ID): field staff's edits wait
// here for an officer. Officers see every proposal (pending first, as filtered), field
// staff their own and where each stands. One proposal shows both outlines on the map
// (before dashed, after solid), the properties it changes, and the area change; an
// officer approves it (optional note) or rejects it (a note is required). A proposal
// whose asset changed since it was made is refused on approval (409): an update can be
// rebased onto the current version (its patch applied again) and then approved.
import { h, replace, $, fieldError } from './dom.js';
import { t, tn, label, fmtDate, digits, getLang } from './i18n.js';
import { api, staffSession } from './api.js';
import { explain } from './errors.js';
import * as mapctl from './mapctl.js';
import { reveal } from './panel.js';
import { diffTable, areaLine, mapKey, NOTE_MAX } from './edit.js';

const STATUSES = ['pending', 'approved', 'rejected'];

let ctx;
let visible = false;
let list = null;
let listError = null;
let filter = 'pending';
let openId = null;
let detail = null; // the proposal with before/after/diff/stale
let detailError = null;
let message = null; // {kind, key, vars} or {kind: 'error', error}
let seq = 0;
const names = new Map(); // asset id → {code, name, name_bn}, for cards of delistings

const el = () => $('#view-proposals');

export const tabOf = 'staff';

export function init(c) {
  ctx = c;
}

export function show(arg) {
  visible = true;
  const id = arg ? String(arg) : null;
  if (id !== openId) {
    openId = id;
    detail = null;
    detailError = null;
    message = null;
  }
  render();
  if (!staffSession()) return;
  if (openId) loadDetail(openId);
  else loadList();
}

export function hide() {
  visible = false;
  seq++;
  mapctl.clearCompare();
}

export function rerender() { render(); }

const isOfficer = () => {
  const s = staffSession();
  return !!(s && s.user && (s.user.role === 'officer' || s.user.role === 'admin'));
};

async function loadList() {
  const mine = ++seq;
  listError = null;
  try {
    const r = await api.proposals(filter ? { status: filter } : {});
    if (mine !== seq) return;
    list = r.proposals || [];
    // Delistings carry no feature: name their asset from its record.
    for (const p of list) {
      if (!p.feature && p.asset_id && !names.has(p.asset_id)) {
        names.set(p.asset_id, null);
        api.asset(p.asset_id).then((rec) => {
          names.set(p.asset_id, rec.properties);
          if (visible && !openId) render();
        }, () => {});
      }
    }
  } catch (e) {
    if (mine !== seq) return;
    listError = e;
  }
  render();
}

async function loadDetail(id, { focus = true } = {}) {
  const mine = ++seq;
  detailError = null;
  try {
    const r = await api.proposal(id);
    // Once approved, the server compares the proposal with the asset as it stands now
    // (which is the proposal itself, or later): what it changed is the version it was
    // made against and the one it became.
    const code = r.before && r.before.properties ? r.before.properties.code : null;
    if (r.status === 'approved' && code && r.base_version && r.result_version) {
      try {
        const [b, a, d] = await Promise.all([api.version(code, r.base_version), api.version(code, r.result_version), api.diff(code, r.base_version, r.result_version)]);
        Object.assign(r, { before: b, after: a, diff: d, stale: false });
      } catch { /* the server's comparison stands */ }
    }
    if (mine !== seq) return;
    detail = r;
    mapctl.compare(r.before, r.after);
  } catch (e) {
    if (mine !== seq) return;
    detailError = e;
  }
  render();
  if (focus) $('#proposal-title')?.focus({ preventScroll: true });
}

/** The asset a proposal is about: {code, name, name_bn} as far as it is known. */
function assetOf(p) {
  const props = (p.after && p.after.properties) || (p.before && p.before.properties) || (p.feature && p.feature.properties) || names.get(p.asset_id) || {};
  return props;
}

function assetName(props) {
  const bn = getLang() === 'bn';
  const name = bn && props.name_bn ? props.name_bn : (props.name || props.name_bn);
  return [name, props.code].filter(Boolean).join(' · ') || t('proposal.newAsset');
}

function statusBadge(status) {
  return h('span', { class: `badge proposal-${status}`, text: label('pstatus', status) });
}

function render() {
  if (!visible) return;
  const root = el();
  const s = staffSession();
  const title = h('h2', { id: 'proposals-title', tabindex: '-1', text: t(isOfficer() ? 'proposals.title' : 'proposals.mine') });
  if (!s) {
    return replace(root, title,
      h('p', { text: t('proposals.signIn') }),
      h('button', { type: 'button', class: 'btn btn-primary', text: t('staff.signIn'), onclick: () => ctx.navigate('#staff') }));
  }
  if (openId) return replace(root, title, detailView());
  return replace(root, title, listView());
}

function listView() {
  const sel = h('select', { id: 'proposals-status', name: 'status' },
    h('option', { value: '', text: t('proposals.all'), selected: filter === '' }),
    STATUSES.map((x) => h('option', { value: x, text: label('pstatus', x), selected: filter === x })));
  sel.addEventListener('change', () => {
    filter = sel.value;
    loadList();
  });
  const status = h('p', { id: 'proposals-count', role: 'status' });
  let cards = [];
  if (listError) status.textContent = t('proposals.error', { error: explain(listError) });
  else if (!list) status.textContent = t('staff.loading');
  else {
    status.textContent = list.length ? tn('proposals.count', list.length) : t('proposals.empty');
    cards = list.map((p) => {
      const a = assetOf(p);
      return h('li', null, h('button', {
        type: 'button', class: 'card card-button', dataset: { proposal: String(p.id) },
        onclick: () => ctx.navigate(`#proposals/${p.id}`),
      },
      h('span', { class: 'card-title' },
        h('span', { text: t('proposal.heading', { id: digits(p.id), action: label('paction', p.action) }) }), ' ', statusBadge(p.status)),
      h('span', { class: 'card-line', text: assetName(a) }),
      h('span', { class: 'card-line hint', text: [
        t('proposal.by', { name: p.proposer }),
        p.ward !== null && p.ward !== undefined ? t('staff.wardN', { ward: digits(p.ward) }) : null,
        fmtDate(p.created_at),
      ].filter(Boolean).join(' · ') }),
      p.note ? h('span', { class: 'card-line snippet', text: p.note.slice(0, 140) }) : null));
    });
  }
  return [
    h('p', { class: 'intro', text: t(isOfficer() ? 'proposals.intro' : 'proposals.introMine') }),
    h('div', { class: 'field field-inline' }, h('label', { htmlFor: 'proposals-status', text: t('staff.status') }), sel),
    status,
    h('ul', { id: 'proposals-list', class: 'cards' }, cards),
    h('div', { class: 'button-row' }, h('button', { type: 'button', class: 'btn btn-secondary', text: `← ${t('proposals.backToStaff')}`, onclick: () => ctx.navigate('#staff') })),
  ];
}

function messageText() {
  if (!message) return '';
  return message.error ? explain(message.error) : t(message.key, message.vars);
}

function detailView() {
  const back = h('button', {
    type: 'button', class: 'btn btn-secondary', id: 'proposal-back', text: `← ${t('proposals.back')}`,
    onclick: () => {
      const id = openId;
      ctx.navigate('#proposals');
      queueMicrotask(() => document.querySelector(`#proposals-list button[data-proposal="${id}"]`)?.focus());
    },
  });
  if (detailError) {
    return [back, h('p', { class: 'error', role: 'alert', id: 'proposal-title', tabindex: '-1', text: t('proposals.error', { error: explain(detailError) }) })];
  }
  if (!detail) return [back, h('p', { role: 'status', text: t('staff.loading') })];
  const p = detail;
  const a = assetOf(p);
  const code = a.code || (p.before && p.before.properties.code);
  const facts = [
    [t('proposal.status'), statusBadge(p.status)],
    [t('proposal.asset'), code && p.action !== 'create'
      ? h('button', { type: 'button', class: 'link', text: assetName(a), onclick: () => ctx.navigate(`#asset/${encodeURIComponent(code)}`) })
      : assetName(a)],
    [t('proposal.layer'), label('layer', p.layer)],
    [t('proposal.proposer'), p.proposer],
    [t('proposal.ward'), p.ward !== null && p.ward !== undefined ? digits(p.ward) : null],
    [t('proposal.made'), fmtDate(p.created_at)],
    [t('proposal.base'), p.base_version ? t('versions.version', { n: digits(p.base_version) }) : null],
    [p.action === 'delist' ? t('proposal.reason') : t('proposal.note'), p.note],
    [t('proposal.decided'), p.decided_at ? t('proposal.decidedBy', { date: fmtDate(p.decided_at), name: p.decided_by || '' }) : null],
    [t('proposal.decisionNote'), p.decision_note],
    [t('proposal.result'), p.result_version ? t('versions.version', { n: digits(p.result_version) }) : null],
  ];
  const dl = h('dl', { class: 'facts' });
  for (const [k, v] of facts) if (v !== null && v !== undefined && v !== '') dl.append(h('dt', { text: k }), h('dd', null, v));

  const key = mapKey(p.before ? t('proposal.keyBefore') : null, p.after ? t('proposal.keyAfter') : null, mapctl.COMPARE);
  const changes = p.action === 'delist'
    ? h('p', { class: 'notice', id: 'proposal-delist', text: t('proposal.delistSays') })
    : [diffTable(p.diff ? p.diff.properties : {}, { id: 'proposal-diff', caption: t('proposal.changes') }),
      h('p', { class: 'area-change', id: 'proposal-area', text: areaLine(p.diff) })];
  const stale = p.stale && p.status === 'pending'
    ? h('p', { class: 'warning', id: 'proposal-stale', text: t(p.action === 'update' ? 'proposal.staleUpdate' : 'proposal.staleOther') })
    : null;
  const status = h('p', { id: 'proposal-status', class: `form-status${message ? ` ${message.kind}` : ''}`, role: 'status', tabindex: '-1', text: messageText() });
  return [
    back,
    h('h3', { id: 'proposal-title', tabindex: '-1', class: 'ticket-head' },
      t('proposal.heading', { id: digits(p.id), action: label('paction', p.action) }), ' ', statusBadge(p.status)),
    dl, key, stale, changes,
    decision(p),
    status,
  ];
}

/** Approve / Reject for officers, and Rebase when the asset moved on (the proposer too). */
function decision(p) {
  if (p.status !== 'pending') return null;
  const s = staffSession();
  const officer = isOfficer();
  const mine = s && s.user && s.user.name === p.proposer;
  const rebase = (p.stale || (message && message.error && message.error.status === 409)) && p.action === 'update' && (officer || mine)
    ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'proposal-rebase', text: t('proposal.rebase'), onclick: () => act('rebase') })
    : null;
  if (!officer) return rebase ? h('div', { class: 'button-row' }, rebase) : null;
  const note = h('textarea', { id: 'proposal-note', name: 'note', rows: 2, maxLength: NOTE_MAX, 'aria-describedby': 'proposal-note-hint' });
  const form = h('form', { id: 'proposal-decide', class: 'act-form', novalidate: true },
    h('h4', { text: t('proposal.decide') }),
    h('div', { class: 'field' },
      h('label', { htmlFor: 'proposal-note', text: t('proposal.noteLabel') }),
      h('p', { class: 'hint', id: 'proposal-note-hint', text: t('proposal.noteHint') }),
      note),
    h('div', { class: 'button-row' },
      h('button', { type: 'submit', class: 'btn btn-primary', id: 'proposal-approve', value: 'approve', text: t('proposal.approve') }),
      h('button', { type: 'button', class: 'btn btn-secondary', id: 'proposal-reject', text: t('proposal.reject'), onclick: () => act('reject') }),
      rebase));
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    act('approve');
  });
  return form;
}

async function act(what) {
  const p = detail;
  const noteEl = $('#proposal-note');
  const note = noteEl ? noteEl.value.trim() : '';
  if (noteEl) fieldError(noteEl, null);
  if (what === 'reject' && !note) {
    fieldError(noteEl, t('proposal.needNote'));
    noteEl.focus();
    return;
  }
  const line = $('#proposal-status');
  for (const b of document.querySelectorAll('#proposal-decide button, #proposal-rebase')) b.disabled = true;
  line.className = 'form-status';
  line.textContent = t('rec.saving');
  try {
    if (what === 'approve') {
      const f = await api.approve(p.id, note || null);
      message = { kind: 'success', key: 'proposal.approved', vars: { id: digits(p.id), version: digits(f.properties.version) } };
      mapctl.refreshAssets();
    } else if (what === 'reject') {
      await api.reject(p.id, note);
      message = { kind: 'success', key: 'proposal.rejected', vars: { id: digits(p.id) } };
    } else {
      await api.rebase(p.id);
      message = { kind: 'success', key: 'proposal.rebased', vars: { id: digits(p.id) } };
    }
    await loadDetail(p.id, { focus: false });
  } catch (err) {
    message = { kind: 'error', error: err };
    // Refused as stale: read it again, so Rebase is offered where it can help.
    if (err.status === 409) await loadDetail(p.id, { focus: false });
    else render();
  }
  const l = $('#proposal-status');
  if (l) {
    reveal(l);
    l.focus({ preventScroll: true });
  }
}
