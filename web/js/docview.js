// One document (#documents/SHA256): its record (type, reference, issuing office, dates,
// language, ward, linked assets), its status (a revoked or superseded one says so first,
// with the reason), the file in the browser's own viewer, how far the server has read its
// text, and links to the stamped copy and the verification page. Officers also get the
// record's form (a merge patch of what changed, against its ETag), revoke / supersede /
// reinstate with a reason, and the versions of the record.
//
// The file is fetched and shown from a blob: URL, not framed from /documents/SHA256: the
// server forbids framing its responses (X-Frame-Options: DENY), and a private document
// needs the staff token, which a frame's own request cannot send.
import { h, replace, dl, $, fieldError } from './dom.js';
import { t, tn, label, fmtDate, fmtNumber, digits } from './i18n.js';
import { api, staffSession } from './api.js';
import { explain } from './errors.js';

export const TYPES = ['notice', 'order', 'noc', 'minutes', 'survey', 'inspection_report', 'photograph', 'other'];
export const STATUSES = ['current', 'superseded', 'revoked'];
export const LANGUAGES = ['bn', 'en', 'bn+en'];
const REASON_MAX = 2000;
const POLL_MS = 2000;

let ctx;
let seq = 0;
let st = null; // {sha, loading, error, data, etag, blob, blobUrl, versions, forms, open, fieldErrors, conflict}
let pollTimer = null;
let backTo = '#documents';

const el = () => $('#view-documents');

export function init(c) { ctx = c; }

// ---- shared with the search results, the asset panel and the verification page -----------------

/** A document's status as a badge: current, superseded or revoked. */
export function statusBadge(status) {
  const s = STATUSES.includes(status) ? status : 'current';
  return h('span', { class: `badge doc-${s}`, text: label('docStatus', s) });
}

export function fmtSize(bytes) {
  if (bytes === null || bytes === undefined) return '';
  if (bytes < 1024) return `${fmtNumber(bytes)} B`;
  if (bytes < 1024 * 1024) return `${fmtNumber(bytes / 1024, { maximumFractionDigits: 0 })} KB`;
  return `${fmtNumber(bytes / 1024 / 1024, { maximumFractionDigits: 1 })} MB`;
}

/** A same-origin link the server made (`url`, `verify_url`, …), or null. */
export function safeDocUrl(u) {
  return typeof u === 'string' && /^\/(documents|verify)\/[0-9a-f]{64}(\/[a-z.]+)?$/.test(u) ? u : null;
}

/**
 * The server's snippet with its hits marked. `snippet_html` is escaped by the server with
 * the hits in <mark>; it is parsed apart from the page and only its text and <mark>
 * elements are copied over, so nothing else it might hold can reach the page.
 */
export function markedSnippet(html, plain) {
  const p = h('p', { class: 'snippet doc-snippet' });
  if (typeof html !== 'string') {
    if (plain) p.textContent = plain;
    return plain ? p : null;
  }
  const parsed = new DOMParser().parseFromString(`<body>${html}</body>`, 'text/html').body;
  for (const n of parsed.childNodes) {
    if (n.nodeType === Node.TEXT_NODE) p.append(n.textContent);
    else if (n.nodeName === 'MARK') p.append(h('mark', { text: n.textContent }));
    else p.append(n.textContent || '');
  }
  return p;
}

/** The line under a revoked or superseded document's title: why, and (superseded) its successor. */
export function statusNotice(d, { id, verifyLinks = false } = {}) {
  if (!d || d.status === 'current' || !STATUSES.includes(d.status)) return null;
  const next = d.status === 'superseded' && /^[0-9a-f]{64}$/.test(d.superseded_by || '') ? d.superseded_by : null;
  return h('div', { class: `notice doc-notice doc-notice-${d.status}`, id, role: 'note' },
    h('p', { class: 'doc-notice-title', text: t(`doc.${d.status}Since`, { date: fmtDate(d.updated_at, false) }) }),
    d.status_reason ? h('p', { text: t('doc.reason', { reason: d.status_reason }) }) : null,
    next ? h('p', null, h('a', {
      href: verifyLinks ? `/verify/${next}` : `#documents/${next}`,
      class: 'doc-successor',
      text: t('doc.successor'),
      onclick: (e) => follow(e, verifyLinks ? `/verify/${next}` : `#documents/${next}`),
    })) : null);
}

/** Follows an in-app link through the router (a plain click; others are the browser's). */
export function follow(e, url) {
  if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
  e.preventDefault();
  ctx.navigate(url);
}

/** What the server has done with the document's text, in words. */
export function textState(text) {
  const x = text || {};
  switch (x.state) {
    case 'queued': return t('doc.text.queued');
    case 'running': return x.pages ? t('doc.text.running', { done: digits(x.pages_done || 0), pages: digits(x.pages) }) : t('doc.text.starting');
    case 'done': {
      if (x.source === 'none' || !x.source) return t('doc.text.none');
      const pages = x.pages ? tn('doc.text.pages', x.pages) : '';
      return t(`doc.text.done.${x.source === 'ocr' ? 'ocr' : 'pdf'}`, { pages });
    }
    case 'failed': return t('doc.text.failed');
    default: return '';
  }
}

const officer = () => {
  const s = staffSession();
  return !!(s && s.user && (s.user.role === 'officer' || s.user.role === 'admin'));
};

// ---- the view -------------------------------------------------------------------------------

export function show(sha, back = '#documents') {
  backTo = back;
  const id = String(sha).toLowerCase();
  if (st && st.sha === id && st.data) {
    render();
    poll();
    return;
  }
  load(id);
}

export function hide() {
  seq++;
  clearTimeout(pollTimer);
  if (st && st.blobUrl) URL.revokeObjectURL(st.blobUrl);
  st = null;
}

export const isOpen = () => !!st;

export function rerender() { if (st) render(); }

async function load(sha, { keep = false } = {}) {
  const mine = ++seq;
  clearTimeout(pollTimer);
  const kept = keep && st && st.sha === sha ? st : null;
  if (!kept) {
    if (st && st.blobUrl) URL.revokeObjectURL(st.blobUrl);
    st = { sha, loading: true };
    render();
  }
  try {
    const r = await api.documentRecord(sha);
    if (mine !== seq) return;
    st = kept ? { ...kept, data: r.data, etag: r.etag, loading: false } : { sha, data: r.data, etag: r.etag, forms: {}, open: {}, fieldErrors: {} };
    render();
    if (!st.blobUrl) loadFile(mine);
    poll();
  } catch (e) {
    if (mine !== seq) return;
    st = { sha, error: e };
    render();
  }
}

/** The file for the viewer, as a blob: URL (see the top of this file). */
async function loadFile(mine) {
  const d = st.data;
  if (!d || !/^(application\/pdf|image\/)/.test(d.media_type || '')) return;
  try {
    const blob = await api.documentFile(st.sha);
    if (mine !== seq || !st || !st.data) return;
    st.blobUrl = URL.createObjectURL(new Blob([blob], { type: d.media_type }));
    const frame = document.getElementById('doc-viewer');
    if (frame) frame.src = st.blobUrl;
    const open = document.getElementById('doc-open');
    if (open) open.href = st.blobUrl;
  } catch (e) {
    if (mine !== seq || !st) return;
    st.fileError = e;
    const frame = document.getElementById('doc-viewer');
    if (frame) frame.replaceWith(h('p', { class: 'form-status error', id: 'doc-viewer-error', text: t('doc.fileFailed', { error: explain(e) }) }));
  }
}

/** While the text is being read: asks again every 2 s and updates its line in place. */
function poll() {
  clearTimeout(pollTimer);
  const x = st && st.data && st.data.text;
  if (!x || (x.state !== 'queued' && x.state !== 'running')) return;
  const mine = seq;
  pollTimer = setTimeout(async () => {
    try {
      const r = await api.documentRecord(st.sha);
      if (mine !== seq || !st || !st.data) return;
      st.data.text = r.data.text;
      const line = document.getElementById('doc-text-state');
      if (line) line.textContent = textState(st.data.text);
    } catch { /* asked again below */ }
    if (mine === seq) poll();
  }, POLL_MS);
}

/** Redraws, keeping what was typed into the officer's forms and the focus. */
function render() {
  const root = el();
  const active = document.activeElement;
  const hadFocus = root.contains(active);
  const focusId = hadFocus && active.id ? active.id : null;
  const typed = [];
  const same = st && root.dataset.doc === st.sha;
  const drop = st && st.dropTyped;
  if (st) st.dropTyped = false;
  for (const c of same && !drop ? root.querySelectorAll('.doc-tools input, .doc-tools select, .doc-tools textarea') : []) {
    if (c.id) typed.push([c.id, c.type === 'checkbox' ? c.checked : c.value]);
  }
  draw(root);
  root.dataset.doc = st ? st.sha : '';
  for (const [id, v] of typed) {
    const c = document.getElementById(id);
    if (!c) continue;
    if (c.type === 'checkbox') c.checked = v;
    else c.value = v;
  }
  if (st && st.statusChoice) syncStatusForm();
  for (const [id, err] of Object.entries((st && st.fieldErrors) || {})) fieldError(document.getElementById(id), explain(err));
  if (hadFocus) (focusId && document.getElementById(focusId) || root.querySelector('h2'))?.focus({ preventScroll: true });
}

/** To the search this document was opened from (its URL), else to all documents. */
function backLink() {
  return h('p', { class: 'doc-back' }, h('a', { href: backTo, id: 'doc-back', text: t('doc.back') }));
}

function draw(root) {
  if (!st) return replace(root);
  if (st.loading) return replace(root, backLink(), h('h2', { tabindex: '-1', id: 'documents-title', text: t('doc.loading') }));
  if (st.error) {
    const text = st.error.status === 404 ? t('doc.notFound') : t('doc.error', { error: explain(st.error) });
    return replace(root, backLink(), h('h2', { tabindex: '-1', id: 'documents-title', text }),
      h('p', { class: 'hint mono', text: st.sha }));
  }
  const d = st.data;
  const head = h('header', { class: 'asset-head' },
    h('p', { class: 'eyebrow', text: [t('doc.eyebrow'), label('docType', d.type)].filter(Boolean).join(' · ') }),
    h('h2', { tabindex: '-1', id: 'documents-title', lang: d.language === 'bn' ? 'bn' : null, text: d.title }),
    h('p', { class: 'badges' },
      statusBadge(d.status),
      d.public === false ? h('span', { class: 'badge internal', text: t('doc.private') }) : null),
    statusNotice(d, { id: 'doc-status-notice' }));

  const assets = (d.assets || []).map((a) => h('li', null, h('a', {
    href: `#asset/${encodeURIComponent(a.code)}`, text: `${a.name || a.code} (${a.code})`,
  })));
  const facts = dl([
    [t('doc.type'), label('docType', d.type)],
    [t('doc.reference'), d.reference],
    [t('doc.issuer'), d.issuer],
    [t('doc.issuedOn'), d.issued_on ? fmtDate(d.issued_on, false) : null],
    [t('doc.validUntil'), d.valid_until ? fmtDate(d.valid_until, false) : null],
    [t('doc.language'), d.language ? label('docLang', d.language) : null],
    [t('doc.ward'), d.ward !== null && d.ward !== undefined ? digits(d.ward) : null],
    [t('doc.assets'), assets.length ? h('ul', { class: 'doc-assets' }, assets) : null],
    [t('doc.file'), [label('media', d.media_type) || d.media_type, fmtSize(d.size)].filter(Boolean).join(' · ')],
    [t('doc.onRecordSince'), fmtDate(d.created_at)],
    [t('doc.version'), t('doc.versionOf', { n: digits(d.version), date: fmtDate(d.updated_at) })],
    [t('doc.sha'), h('span', { class: 'mono sha' }, d.sha256)],
  ]);

  const url = safeDocUrl(d.url);
  const isPdf = d.media_type === 'application/pdf';
  const isImage = /^image\//.test(d.media_type || '');
  let viewer = null;
  if (st.fileError) viewer = h('p', { class: 'form-status error', id: 'doc-viewer-error', text: t('doc.fileFailed', { error: explain(st.fileError) }) });
  else if (isPdf) {
    viewer = h('iframe', {
      id: 'doc-viewer', class: 'doc-viewer', title: t('doc.viewerTitle', { title: d.title }),
      src: st.blobUrl || 'about:blank',
    });
  } else if (isImage) {
    viewer = h('img', { id: 'doc-viewer', class: 'doc-image', alt: d.title, src: st.blobUrl || url });
  }
  const links = h('ul', { class: 'doc-links' },
    url ? h('li', null, h('a', { id: 'doc-open', href: st.blobUrl || url, target: '_blank', rel: 'noopener', text: t(isPdf ? 'doc.openPdf' : 'doc.openFile') })) : null,
    isPdf && safeDocUrl(d.stamped_url) ? h('li', null, h('a', { id: 'doc-stamped', href: d.stamped_url, download: '', text: t('doc.stamped') })) : null,
    safeDocUrl(d.verify_url) ? h('li', null, h('a', {
      id: 'doc-verify-link', href: d.verify_url, text: t('doc.verifyPage'), onclick: (e) => follow(e, d.verify_url),
    })) : null);

  const text = h('section', { class: 'record', 'aria-labelledby': 'doc-text-heading' },
    h('h3', { id: 'doc-text-heading', text: t('doc.textTitle') }),
    h('p', { id: 'doc-text-state', role: 'status', text: textState(d.text) }),
    d.text && d.text.state === 'done' && d.text.source && d.text.source !== 'none' ? textDetails() : null);

  replace(root, backLink(), head, facts, links, viewer, text,
    officer() ? officerTools(d) : null);
}

/** The text read from the document, fetched when first unfolded. */
function textDetails() {
  const pre = h('pre', { class: 'doc-text', id: 'doc-text', tabindex: '0', lang: st.data.language === 'bn' ? 'bn' : null });
  if (st.textBody !== undefined) pre.textContent = st.textBody;
  const d = h('details', { id: 'doc-text-details', open: !!st.open.text }, h('summary', { text: t('doc.textShow') }), pre);
  d.addEventListener('toggle', async () => {
    st.open.text = d.open;
    if (!d.open || st.textBody !== undefined) return;
    pre.textContent = t('doc.loading');
    try {
      st.textBody = await api.documentText(st.sha);
      pre.textContent = st.textBody;
    } catch (e) {
      pre.textContent = t('doc.error', { error: explain(e) });
    }
  });
  return d;
}

// ---- officers: the record, its status, its versions ------------------------------------------------

function message(form) {
  const m = st.forms[form];
  if (!m) return '';
  return m.error ? explain(m.error) : t(m.key, m.vars);
}

function statusLine(form) {
  const m = st.forms[form];
  return h('p', { id: `doc-${form}-status`, class: `form-status${m ? ` ${m.kind}` : ''}`, role: 'status', tabindex: '-1', text: message(form) });
}

function folded(key, title, body) {
  const d = h('details', { id: `doc-${key}-details`, open: !!st.open[key] }, h('summary', { text: title }), body);
  d.addEventListener('toggle', () => {
    st.open[key] = d.open;
    if (key === 'versions' && d.open && !st.versions) loadVersions();
  });
  return d;
}

const field = (id, text, control, hint) => h('div', { class: 'field' },
  h('label', { htmlFor: id, text }), hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null, control);

/** The record's fields as the edit form shows them (strings), from a DocumentView. */
function formValues(d) {
  return {
    title: d.title || '',
    type: d.type || 'other',
    reference: d.reference || '',
    issuer: d.issuer || '',
    issued_on: d.issued_on || '',
    valid_until: d.valid_until || '',
    language: d.language || '',
    ward: d.ward === null || d.ward === undefined ? '' : String(d.ward),
    public: d.public !== false,
    assets: (d.assets || []).map((a) => a.code).join(', '),
  };
}

/** The merge patch from the form's values to the record's: only what changed. */
function patchOf(now, was) {
  const patch = {};
  const nullable = (v) => (v === '' ? null : v);
  for (const k of ['title', 'type', 'reference', 'issuer', 'issued_on', 'valid_until', 'language']) {
    if (now[k] !== was[k]) patch[k] = k === 'title' || k === 'type' ? now[k] : nullable(now[k]);
  }
  if (now.ward !== was.ward) patch.ward = now.ward === '' ? null : Number(now.ward);
  if (now.public !== was.public) patch.public = now.public;
  const codes = (s) => s.split(/[\s,]+/).map((c) => c.trim()).filter(Boolean);
  if (codes(now.assets).join(',') !== codes(was.assets).join(',')) patch.assets = codes(now.assets);
  return patch;
}

function officerTools(d) {
  const was = formValues(d);
  // The record.
  const title = h('input', { type: 'text', id: 'doc-edit-title', name: 'title', maxLength: 200, required: true, value: was.title });
  const type = h('select', { id: 'doc-edit-type', name: 'type' },
    TYPES.map((x) => h('option', { value: x, text: label('docType', x), selected: x === was.type })));
  const reference = h('input', { type: 'text', id: 'doc-edit-reference', name: 'reference', maxLength: 200, value: was.reference, spellcheck: false });
  const issuer = h('input', { type: 'text', id: 'doc-edit-issuer', name: 'issuer', maxLength: 200, value: was.issuer });
  const issued = h('input', { type: 'date', id: 'doc-edit-issued_on', name: 'issued_on', value: was.issued_on });
  const valid = h('input', { type: 'date', id: 'doc-edit-valid_until', name: 'valid_until', value: was.valid_until });
  const lang = h('select', { id: 'doc-edit-language', name: 'language' },
    h('option', { value: '', text: t('doc.langUnknown'), selected: !was.language }),
    LANGUAGES.map((x) => h('option', { value: x, text: label('docLang', x), selected: x === was.language })));
  const ward = h('input', { type: 'number', id: 'doc-edit-ward', name: 'ward', min: 1, step: 1, inputMode: 'numeric', value: was.ward });
  const pub = h('input', { type: 'checkbox', id: 'doc-edit-public', name: 'public', checked: was.public });
  const assets = h('input', { type: 'text', id: 'doc-edit-assets', name: 'assets', value: was.assets, spellcheck: false, autocomplete: 'off', 'aria-describedby': 'doc-edit-assets-hint' });
  const note = h('textarea', { id: 'doc-edit-note', name: 'note', rows: 2, maxLength: REASON_MAX });
  const save = h('button', { type: 'submit', class: 'btn btn-primary', id: 'doc-edit-save', text: t('doc.save') });
  const conflict = st.conflict ? h('div', { class: 'confirm', id: 'doc-conflict', role: 'alert' },
    h('p', { text: t('doc.conflict') }),
    h('button', {
      type: 'button', class: 'btn btn-primary', id: 'doc-reload', text: t('doc.reload'),
      onclick: async () => {
        st.conflict = null;
        st.fieldErrors = {};
        st.dropTyped = true;
        st.forms.edit = { kind: 'success', key: 'doc.reloaded' };
        await load(st.sha, { keep: true });
        document.getElementById('doc-edit-status')?.focus();
      },
    })) : null;
  const edit = h('form', { id: 'doc-edit-form', novalidate: true },
    field('doc-edit-title', t('doc.title'), title),
    field('doc-edit-type', t('doc.type'), type),
    field('doc-edit-reference', t('doc.reference'), reference),
    field('doc-edit-issuer', t('doc.issuer'), issuer),
    field('doc-edit-issued_on', t('doc.issuedOn'), issued),
    field('doc-edit-valid_until', t('doc.validUntil'), valid),
    field('doc-edit-language', t('doc.language'), lang),
    field('doc-edit-ward', t('doc.ward'), ward),
    h('label', { class: 'check' }, pub, ' ', t('rec.docPublic')),
    field('doc-edit-assets', t('doc.assetCodes'), assets, t('doc.assetCodesHint')),
    field('doc-edit-note', t('doc.note'), note),
    conflict,
    save, statusLine('edit'));
  edit.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const c of [title, ward, issued, valid, reference, issuer, assets, type, lang, note]) {
      fieldError(c, null);
      delete st.fieldErrors[c.id];
    }
    if (!title.value.trim()) {
      fieldError(title, t('rec.needTitle'));
      return title.focus();
    }
    const now = {
      title: title.value.trim(), type: type.value, reference: reference.value.trim(), issuer: issuer.value.trim(),
      issued_on: issued.value, valid_until: valid.value, language: lang.value, ward: ward.value.trim(),
      public: pub.checked, assets: assets.value,
    };
    const patch = patchOf(now, was);
    const line = () => document.getElementById('doc-edit-status');
    if (!Object.keys(patch).length) {
      st.forms.edit = { kind: 'error', key: 'doc.nothing' };
      line().className = 'form-status error';
      line().textContent = message('edit');
      return line().focus();
    }
    if (note.value.trim()) patch.note = note.value.trim();
    await write('edit', save, () => api.patchDocument(st.sha, st.etag, patch), (r) => ({ key: 'doc.saved', vars: { n: digits(r.data.version) } }));
    return undefined;
  });

  // Revoke, supersede, reinstate.
  const choices = STATUSES.filter((s) => s !== d.status);
  const status = h('select', { id: 'doc-status-choice', name: 'status' },
    choices.map((s) => h('option', { value: s, text: t(`doc.setStatus.${s}`) })));
  const reason = h('textarea', { id: 'doc-status-reason', name: 'reason', rows: 3, maxLength: REASON_MAX, 'aria-describedby': 'doc-status-reason-hint' });
  const by = h('input', { type: 'text', id: 'doc-status-superseded_by', name: 'superseded_by', maxLength: 64, spellcheck: false, autocomplete: 'off', class: 'mono', 'aria-describedby': 'doc-status-superseded_by-hint' });
  const go = h('button', { type: 'submit', class: 'btn btn-primary', id: 'doc-status-go', text: t('doc.setStatusGo') });
  const byField = field('doc-status-superseded_by', t('doc.supersededBy'), by, t('doc.supersededByHint'));
  byField.id = 'doc-status-by-field';
  const statusForm = h('form', { id: 'doc-status-form', novalidate: true },
    field('doc-status-choice', t('doc.newStatus'), status),
    field('doc-status-reason', t('doc.statusReason'), reason, t('doc.statusReasonHint')),
    byField,
    go, statusLine('status'));
  status.addEventListener('change', () => { st.statusChoice = status.value; syncStatusForm(); });
  statusForm.addEventListener('submit', async (e) => {
    e.preventDefault();
    for (const c of [reason, by]) {
      fieldError(c, null);
      delete st.fieldErrors[c.id];
    }
    const body = { status: status.value };
    const why = reason.value.trim();
    if (why) body.reason = why;
    if (!why && body.status !== 'current') {
      fieldError(reason, t('doc.needReason'));
      return reason.focus();
    }
    if (body.status === 'superseded') {
      const next = by.value.trim().toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(next)) {
        fieldError(by, t('verify.needHash'));
        return by.focus();
      }
      body.superseded_by = next;
    }
    await write('status', go, () => api.documentStatus(st.sha, body), (r) => ({ key: `doc.statusSet.${r.data.status}` }));
    return undefined;
  });
  queueMicrotask(syncStatusForm);

  return h('section', { class: 'record staff-tools doc-tools', 'aria-labelledby': 'doc-tools-heading' },
    h('h3', { id: 'doc-tools-heading', text: t('doc.officerTools') }),
    folded('edit', t('doc.editRecord'), edit),
    folded('status', t('doc.changeStatus'), statusForm),
    folded('versions', t('doc.versions'), versionsList()));
}

/** The successor's field only while "superseded" is chosen. */
function syncStatusForm() {
  const sel = document.getElementById('doc-status-choice');
  const f = document.getElementById('doc-status-by-field');
  if (sel && st && st.statusChoice && [...sel.options].some((o) => o.value === st.statusChoice)) sel.value = st.statusChoice;
  if (sel && f) f.hidden = sel.value !== 'superseded';
}

/**
 * Sends one officer's write; on success the record is the answer (no reload), the form's
 * line says so and takes focus. A 412 offers the newer record; a refused field is marked.
 */
async function write(form, button, send, said) {
  button.disabled = true;
  const line = () => document.getElementById(`doc-${form}-status`);
  st.forms[form] = null;
  line().className = 'form-status';
  line().textContent = t('rec.saving');
  try {
    const r = await send();
    st.data = r.data;
    if (r.etag) st.etag = r.etag;
    else st.etag = `"doc.${r.data.version}"`;
    st.forms[form] = { kind: 'success', ...said(r) };
    st.conflict = null;
    st.versions = null;
    st.fieldErrors = {};
    st.statusChoice = null;
    st.dropTyped = true;
    render();
    if (st.open.versions) loadVersions();
    document.getElementById(`doc-${form}-status`)?.focus();
  } catch (e) {
    const btn = document.getElementById(button.id);
    if (btn) btn.disabled = false;
    if (e.status === 412) {
      st.conflict = true;
      st.forms[form] = null;
      render();
      document.getElementById('doc-reload')?.focus();
      return;
    }
    const control = e.field ? document.getElementById(`doc-${form}-${e.field}`) : null;
    if (control) {
      st.fieldErrors[control.id] = e;
      fieldError(control, explain(e));
      line().className = 'form-status';
      line().textContent = '';
      control.focus();
    } else {
      st.forms[form] = { kind: 'error', error: e };
      line().className = 'form-status error';
      line().textContent = message(form);
      line().focus();
    }
  }
}

async function loadVersions() {
  const mine = seq;
  try {
    const r = await api.documentVersions(st.sha);
    if (mine !== seq || !st) return;
    st.versions = r.versions || [];
  } catch (e) {
    if (mine !== seq || !st) return;
    st.versions = { error: e };
  }
  const old = document.getElementById('doc-versions');
  if (old) old.replaceWith(versionsList());
}

const SHOWN = ['title', 'type', 'reference', 'issuer', 'issued_on', 'valid_until', 'language', 'ward', 'public', 'status', 'status_reason', 'superseded_by', 'assets'];

/** One field of a version's record, in words. */
function valueText(k, v) {
  if (v === null || v === undefined || v === '') return t('doc.none');
  if (k === 'type') return label('docType', v);
  if (k === 'status') return label('docStatus', v);
  if (k === 'language') return label('docLang', v);
  if (k === 'public') return v ? t('yes') : t('no');
  if (k === 'issued_on' || k === 'valid_until') return fmtDate(v, false);
  if (k === 'ward') return digits(v);
  if (Array.isArray(v)) return v.length ? v.join(', ') : t('doc.none');
  return String(v);
}

function versionsList() {
  const wrap = h('div', { id: 'doc-versions', 'aria-live': 'polite' });
  if (!st.versions) return replace(wrap, h('p', { class: 'hint', text: t('doc.loading') }));
  if (st.versions.error) return replace(wrap, h('p', { class: 'form-status error', text: t('doc.error', { error: explain(st.versions.error) }) }));
  const list = st.versions.slice().sort((a, b) => b.version - a.version);
  const byN = new Map(st.versions.map((v) => [v.version, v]));
  return replace(wrap, h('ol', { class: 'history versions' }, list.map((v) => {
    const prev = byN.get(v.version - 1);
    const changed = prev ? SHOWN.filter((k) => JSON.stringify(prev.record[k] ?? null) !== JSON.stringify(v.record[k] ?? null)) : [];
    return h('li', null,
      h('p', { class: 'version-title' }, h('strong', { text: t('doc.versionN', { n: digits(v.version) }) }), ' · ', label('docAction', v.action)),
      h('p', { class: 'when', text: t('doc.versionBy', { date: fmtDate(v.at), name: v.actor || '?' }) }),
      v.note ? h('p', { text: t('doc.versionNote', { note: v.note }) }) : null,
      changed.length ? h('ul', { class: 'doc-changes' }, changed.map((k) => h('li', {
        text: t('doc.changed', { field: t(`doc.field.${k}`), from: valueText(k, prev.record[k]), to: valueText(k, v.record[k]) }),
      }))) : null);
  })));
}
