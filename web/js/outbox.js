// The outbox: inspections, maintenance entries and complaints made with no network wait
// here (IndexedDB, idb.js) and are sent, in the order they were made, when the network
// comes back ('online'), when the app starts, and every half minute while any wait. Each
// carries an Idempotency-Key made once, when it was queued, and sent with every try: the
// server answers a repeat with its first answer (header Idempotent-Replayed), so a try
// whose answer was lost never files twice. A complaint's photos are kept as Blobs.
//
// What happens to an item: a 2xx takes it out and says so; no network, 408, 429, 5xx, a
// 409 with Retry-After (an earlier try with this key is still being answered) or a 401
// (staff must sign in again; their token is never kept here) leave it waiting; any other
// 4xx takes it out and says why (sending it again would be refused again). A staff write
// goes only with the token of the staff member who made it: signed in as someone else,
// it waits for them. The
// banner (#outbox) says how many wait and what they are.
import { h, replace, $ } from './dom.js';
import { t, tn, onLangChange } from './i18n.js';
import { api, ApiError, staffSession } from './api.js';
import { explain } from './errors.js';
import * as idb from './idb.js';

const RETRY_MS = 30000;
let items = []; // what waits, oldest first: {seq, kind, url, json?, form?, auth, key, label, queued_at}
let flushing = null;
let needSignIn = false;
let notes = []; // {key, vars, error?}: what the last sends did, shown under the banner
let timer = null;
const sentListeners = new Set();

/** fn(item, data) after a queued item was sent (data: the server's answer). */
export function onSent(fn) { sentListeners.add(fn); }

/** An RFC 4122 version 4 UUID (crypto.randomUUID needs a secure context; this does not). */
export function uuid() {
  if (self.crypto && typeof crypto.randomUUID === 'function') {
    try { return crypto.randomUUID(); } catch { /* below */ }
  }
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = [...b].map((v) => v.toString(16).padStart(2, '0')).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

/** FormData as [name, value, filename?] rows that IndexedDB can keep (Blobs and all). */
function formRows(fd) {
  const rows = [];
  for (const [k, v] of fd.entries()) rows.push(v instanceof Blob ? [k, v, v.name || 'photo'] : [k, String(v)]);
  return rows;
}

function toForm(rows) {
  const fd = new FormData();
  for (const [k, v, name] of rows) {
    if (v instanceof Blob) fd.append(k, v, name);
    else fd.append(k, v);
  }
  return fd;
}

const offline = () => navigator.onLine === false;

/**
 * Sends a write now, or queues it. `w`: {kind: 'inspection'|'maintenance'|'complaint',
 * url, json? | form?, auth, label (what the banner calls it: the place's name or code)}.
 * Resolves {queued: false, data} when the server took it, {queued: true} when it waits;
 * rejects with the server's refusal (an ApiError) as a direct call would.
 */
export async function submit(w) {
  const s = w.auth ? staffSession() : null;
  const item = {
    kind: w.kind, url: w.url, auth: !!w.auth, key: uuid(), label: w.label || '', queued_at: new Date().toISOString(),
    json: w.json, form: w.form ? formRows(w.form) : undefined,
    // Whose write it is: sent only with that staff member's token, never another's.
    user: s && s.user ? s.user.name : null,
  };
  if (!offline() && !items.length) {
    try {
      const r = await send(item);
      return { queued: false, data: r.data };
    } catch (e) {
      if (!(e instanceof ApiError) || e.status !== 0) throw e;
    }
  }
  // No network (or older writes still wait: this one goes after them, in order).
  await enqueue(item);
  return { queued: true };
}

function send(item) {
  return api.post(item.url, { json: item.json, form: item.form ? toForm(item.form) : undefined, auth: item.auth, key: item.key });
}

async function enqueue(item) {
  try {
    item.seq = await idb.put('outbox', item);
  } catch (e) {
    // No IndexedDB (private mode in some browsers): it waits in this tab only.
    console.warn('outbox: kept in memory only:', e);
    item.seq = Date.now();
  }
  items.push(item);
  render();
  if (offline()) schedule();
  else flush(); // older writes were waiting, or the network failed but the device says online
}

async function load() {
  try {
    items = await idb.all('outbox');
  } catch {
    items = items || [];
  }
  items.sort((a, b) => a.seq - b.seq);
}

function schedule() {
  clearTimeout(timer);
  if (items.length) timer = setTimeout(() => flush(), RETRY_MS);
}

/** Sends what waits, oldest first, until one cannot go yet. */
export function flush() {
  if (!flushing) flushing = run().finally(() => { flushing = null; schedule(); });
  return flushing;
}

async function run() {
  if (offline()) return;
  needSignIn = false;
  while (items.length) {
    const item = items[0];
    const s = item.auth ? staffSession() : null;
    if (item.auth && (!s || (item.user && (!s.user || s.user.name !== item.user)))) {
      needSignIn = item.user || true;
      break;
    }
    try {
      const r = await send(item);
      await drop(item);
      notes.push({ key: `outbox.sent.${item.kind}`, vars: { name: item.label, ticket: r.data && r.data.ticket ? r.data.ticket : '' } });
      for (const fn of sentListeners) {
        try { fn(item, r.data); } catch (e) { console.warn('outbox listener:', e); }
      }
    } catch (e) {
      const status = e instanceof ApiError ? e.status : 0;
      if (status === 401) needSignIn = item.user || true;
      // A 409 with Retry-After: the server is still answering an earlier try with this key.
      const later = status === 409 && e.retryAfter !== null && e.retryAfter !== undefined;
      if (status === 0 || status === 401 || status === 408 || status === 429 || status >= 500 || later) break;
      // Refused for good: sending it again would be refused again.
      await drop(item);
      notes.push({ key: `outbox.refused.${item.kind}`, vars: { name: item.label }, error: e });
    }
    render();
  }
  render();
}

async function drop(item) {
  try { await idb.del('outbox', item.seq); } catch { /* in memory only */ }
  items = items.filter((x) => x.seq !== item.seq);
}

/** The banner: what waits (by kind), why it waits, and what was sent or refused. */
function render() {
  const box = $('#outbox');
  if (!box) return;
  const n = items.length;
  box.dataset.count = String(n);
  const kinds = {};
  for (const i of items) kinds[i.kind] = (kinds[i.kind] || 0) + 1;
  const what = Object.entries(kinds).map(([k, c]) => tn(`outbox.kind.${k}`, c)).join(', ');
  let why = null;
  if (n) {
    if (offline()) why = t('outbox.whenOnline');
    else if (needSignIn) why = typeof needSignIn === 'string' ? t('outbox.signInAs', { name: needSignIn }) : t('outbox.signIn');
    else why = t('outbox.sending');
  }
  replace(box,
    n ? h('p', { id: 'outbox-text', class: 'outbox-text' }, h('strong', { text: tn('outbox.waiting', n) }), ' ', t('outbox.what', { what }), ' ', why) : null,
    n && !offline() && !needSignIn ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'outbox-send', text: t('outbox.sendNow'), onclick: () => flush() }) : null,
    notes.length ? h('ul', { class: 'outbox-notes' }, notes.map((m) => h('li', { class: m.error ? 'error' : 'success' },
      t(m.key, m.vars), m.error ? ` ${explain(m.error)}` : null))) : null,
    notes.length ? h('button', { type: 'button', class: 'btn btn-secondary', id: 'outbox-dismiss', text: t('outbox.dismiss'), onclick: () => { notes = []; render(); } }) : null);
  box.hidden = !n && !notes.length;
}

/** Starts the outbox: what waited since last time, and a send when the network returns. */
export async function init() {
  await load();
  render();
  window.addEventListener('online', () => { render(); flush(); });
  window.addEventListener('offline', render);
  onLangChange(render);
  flush();
}

/** How many writes wait (for tests and the staff view). */
export const waiting = () => items.length;
