// Verifying a document: is this copy exactly the one on record? The file's bytes (or a
// pasted SHA-256) go to POST /documents/verify; the file is compared there, not kept.
// Each answer is kept (by the id of the line showing it) and put in words again after a
// language switch or a redraw of the record.
import { h, replace, $, fieldError } from './dom.js';
import { t, fmtDate, getLang, onLangChange } from './i18n.js';
import { api } from './api.js';
import { explain } from './errors.js';

const answers = new Map(); // output id → {verdict} | {error}

function draw(out) {
  const a = answers.get(out.id);
  if (!a) {
    out.className = 'verify-result';
    out.textContent = '';
  } else if (a.error) {
    out.className = 'verify-result error';
    out.textContent = t('verify.failed', { error: explain(a.error) });
  } else {
    showVerdict(out, a.verdict);
  }
}

onLangChange(() => {
  for (const id of answers.keys()) {
    const out = document.getElementById(id);
    if (out) draw(out);
  }
});

/** Forgets the answer shown in the line `id` (another asset's record is opening). */
export function forget(id) { answers.delete(id); }

async function check(out, ask) {
  answers.delete(out.id);
  out.className = 'verify-result';
  out.textContent = t('verify.checking');
  try {
    answers.set(out.id, { verdict: await ask() });
  } catch (e) {
    answers.set(out.id, { error: e });
  }
  const now = document.getElementById(out.id) || out; // the record may have been redrawn
  draw(now);
}

async function checkFile(file, out) {
  const f = file.files && file.files[0];
  if (!f) return;
  await check(out, () => api.verifyFile(f));
}

/** "Check a copy": is the file in hand exactly a document on record? */
export function verifyForm(idPrefix = 'asset-verify') {
  const file = h('input', { type: 'file', id: `${idPrefix}-file`, name: 'file', accept: 'application/pdf,image/jpeg,image/png,image/webp' });
  const out = h('p', { id: `${idPrefix}-result`, role: 'status', class: 'verify-result' });
  file.addEventListener('change', () => checkFile(file, out));
  draw(out);
  return h('div', { class: 'field verify' },
    h('h4', { text: t('verify.title') }),
    h('label', { htmlFor: `${idPrefix}-file`, text: t('verify.file') }),
    h('p', { class: 'hint', id: `${idPrefix}-hint`, text: t('verify.hint') }),
    file, out);
}

/** Writes the server's verdict on a copy into `out`: on record or not, its status, a stamped copy. */
export function showVerdict(out, v) {
  if (v && v.on_record) {
    const names = (v.assets || []).map((a) => [a.code, a.name].filter(Boolean).join(' ')).join(', ');
    const old = v.asset ? [v.asset.code, getLang() === 'bn' && v.asset.name_bn ? v.asset.name_bn : v.asset.name].filter(Boolean).join(' ') : '';
    const status = ['current', 'superseded', 'revoked'].includes(v.status) ? v.status : 'current';
    out.className = `verify-result ${status === 'current' ? 'success' : status === 'revoked' ? 'error' : 'warning'}`;
    const vars = { title: v.title, asset: names || old || t('verify.noAsset'), date: fmtDate(v.created_at, false) };
    const said = v.title
      ? t(v.copy === 'stamped' ? 'verify.onRecordStamped' : 'verify.onRecord', vars)
      : t('verify.onRecordPrivate', vars);
    const state = v.status ? t(`verify.status.${status}`, { reason: v.status_reason || t('doc.none') }) : '';
    const page = /^[0-9a-f]{64}$/.test(v.sha256 || '') ? `/verify/${v.sha256}` : null;
    replace(out, [said, state].filter(Boolean).join(' '), page ? ' ' : null,
      page ? h('a', { href: page, class: 'verify-page-link', text: t('verify.pageLink') }) : null);
  } else {
    out.className = 'verify-result error';
    out.textContent = t('verify.notOnRecord', { hash: String(v && v.sha256 || '').slice(0, 12) });
  }
}


/** Wires the "Verify a document" section of the Track view (static markup). */
export function initStatic() {
  const file = $('#track-verify-file');
  const out = $('#track-verify-result');
  if (file && out) file.addEventListener('change', () => checkFile(file, out));
  const form = $('#verify-hash-form');
  if (!form) return;
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = $('#verify-hash');
    const res = $('#verify-hash-result');
    const v = input.value.trim();
    fieldError(input, null);
    if (!/^[0-9a-fA-F]{64}$/.test(v)) {
      fieldError(input, t('verify.needHash'));
      input.focus();
      return;
    }
    await check(res, () => api.verifyHash(v));
  });
}
