// Online applications for permission (docs/applications.md): the pieces every view of
// them shares. The types (heritage sanction, works at a water body) are data from the
// server — works, rules by grade, stages with their names and time limits, the form's
// fields and documents, each in English and Bengali — fetched once per visit and kept
// here, as services.js keeps the complaint catalogue. Then what the views draw alike: a
// case's state, its stages as a timeline with the days used against each limit (never by
// colour alone), its decision and the letter's verification link, and a file uploader
// with its progress and the SHA-256 the server keeps the file by.
import { h, replace } from './dom.js';
import { t, tn, label, fmtDate, fmtNumber, getLang } from './i18n.js';
import { api, staffSession, setStaffSession } from './api.js';
import { explain } from './errors.js';
import { fmtSize } from './docview.js';
import * as mapctl from './mapctl.js';

/** An application number: `HS-2026-000001` (the type's prefix, the year, a serial). */
export const NUMBER = /^[A-Z]{1,4}-\d{4}-\d{6,}$/;
/** A draft's id before it has a number: `D` and 16 hex digits. */
export const DRAFT = /^D[0-9a-fA-F]{16}$/;
const SHA = /^[0-9a-f]{64}$/;

/** What the server takes as a file (PDF, JPEG, PNG, WebP; 25 MB). */
export const FILE_TYPES = ['application/pdf', 'image/jpeg', 'image/png', 'image/webp'];
export const FILE_MAX = 25 * 1024 * 1024;

const catalogue = { list: null, loading: null, error: null, byVersion: new Map() };

/**
 * The types open now, fetched on the first call ([] if that fails: `typesError()` says
 * why, and the next call asks again).
 */
export function types() {
  if (catalogue.list) return Promise.resolve(catalogue.list);
  if (!catalogue.loading) {
    catalogue.loading = api.applicationTypes().then((r) => {
      catalogue.list = Array.isArray(r && r.types) ? r.types : [];
      catalogue.error = null;
      for (const ty of catalogue.list) catalogue.byVersion.set(`${ty.code}@${ty.version}`, Promise.resolve(ty));
      return catalogue.list;
    }).catch((e) => {
      catalogue.loading = null;
      catalogue.error = e;
      return [];
    });
  }
  return catalogue.loading;
}

export const typesError = () => catalogue.error;
/** The types fetched so far. */
export const knownTypes = () => catalogue.list || [];

/**
 * One type as a case keeps it: the version it was submitted under (a case's type is
 * `{code, version}`). Kept per version; a failed fetch is asked again next time.
 */
export function typeDef(code, version) {
  const key = `${code}@${version || ''}`;
  if (!catalogue.byVersion.has(key)) {
    const p = api.applicationType(code, version);
    p.catch(() => catalogue.byVersion.delete(key));
    catalogue.byVersion.set(key, p);
  }
  return catalogue.byVersion.get(key);
}

/** The type for premises of `layer` (the asset panel's "Apply for permission"). */
export const typeForLayer = (layer) => knownTypes().find((ty) => ty.asset_layer === layer) || null;

/** A text the server gives in both languages ({en, bn}), in the page's. */
export function tx(text) {
  if (!text) return '';
  if (typeof text === 'string') return text;
  return getLang() === 'bn' && text.bn ? text.bn : (text.en || text.bn || '');
}

/** A type's name: the case's `type` ({code, name}) or a definition. */
export function typeName(ty) {
  if (!ty) return '';
  if (typeof ty === 'string') {
    const known = knownTypes().find((x) => x.code === ty);
    return known ? tx(known.name) : ty.replace(/_/g, ' ');
  }
  if (ty.name) return tx(ty.name);
  return typeName(ty.code);
}

/** A work's name from its type's definition (`repair` → "Repair" / "মেরামত"). */
export function workName(def, work) {
  if (!work) return '';
  const w = def && def.works ? def.works[work] : null;
  if (w) return tx(w);
  const known = knownTypes().find((x) => x.works && x.works[work]);
  return known ? tx(known.works[work]) : String(work).replace(/_/g, ' ');
}

/** The work of a case, the tracker or the register: its own `work_name`, else the type's. */
export function workOf(c, def = null) {
  if (!c || !c.work) return '';
  return c.work_name ? tx(c.work_name) : workName(def, c.work);
}

/** Days as the clock counts them (fractions of a day), to one decimal. */
export const days = (n) => Math.round((Number(n) || 0) * 10) / 10;

/** A stage's name: the tracker's `name`, else the type's. */
export function stageName(def, stage, name) {
  if (name) return tx(name);
  const s = def && def.stages ? def.stages[stage] : null;
  if (s) return tx(s.name);
  for (const ty of knownTypes()) if (ty.stages && ty.stages[stage]) return tx(ty.stages[stage].name);
  return String(stage || '').replace(/_/g, ' ');
}

/** The premises as "HER-0001 Victoria Memorial" (code first: it is what people quote). */
export function premises(asset) {
  if (!asset) return '';
  const name = getLang() === 'bn' && asset.name_bn ? asset.name_bn : asset.name;
  return [asset.code, name].filter(Boolean).join(' ');
}

export function gradeBadge(grade) {
  return h('span', { class: `badge grade grade-${grade || 'none'}`, text: grade ? label('grade', grade) : t('asset.ungraded') });
}

/** Where a case stands, in words on a badge: the colour only repeats them. */
export function stateBadge(c) {
  const state = c.state || 'open';
  const key = state === 'decided' && c.outcome ? `appl.outcome.${c.outcome}` : `appl.state.${state}`;
  const cls = state === 'decided' ? `appl-${c.outcome || 'decided'}` : `appl-${state}`;
  return h('span', { class: `badge appl-state ${cls}`, text: t(key) });
}

/** "4 of 15 days used" and a bar that repeats it (hidden from screen readers). */
function daysUsed(used, limit, over) {
  const u = Math.max(0, days(used));
  const l = Math.max(0, Number(limit) || 0);
  const share = l ? Math.min(1, u / l) : 0;
  return [
    h('p', { class: 'days' }, tn('appl.daysUsed', u, { limit: fmtNumber(l) }),
      over ? [' ', h('span', { class: 'badge overdue', text: t('appl.overLimit') })] : null),
    l ? h('span', { class: `days-bar${over ? ' over' : ''}`, 'aria-hidden': 'true' },
      h('span', { style: `width:${Math.round(share * 100)}%` })) : null,
  ];
}

/**
 * A case's stages, oldest first: each with its dates, days used of its limit and whether
 * it kept to it. The open stage is marked (`aria-current="step"`). The stages still ahead
 * (`next`: their codes, by the case's path) follow, with their time limits.
 */
export function stagesList(stages, { def = null, id = null, next = [] } = {}) {
  const ahead = (Array.isArray(next) ? next : []).map((code) => {
    const st = def && def.stages ? def.stages[code] : null;
    return { stage: code, name: st ? st.name : null, limit_days: st ? st.days : null };
  });
  const list = [...(Array.isArray(stages) ? stages : []), ...ahead];
  if (!list.length) return h('p', { class: 'hint', id, text: t('appl.noStages') });
  return h('ol', { class: 'timeline app-stages', id }, list.map((s) => {
    const open = !!s.started_at && !s.ended_at;
    const over = s.within_limit === false;
    let when;
    if (!s.started_at) when = t('appl.notYet');
    else if (s.ended_at) when = t('appl.stageDone', { from: fmtDate(s.started_at, false), to: fmtDate(s.ended_at, false) });
    else when = t('appl.stageSince', { from: fmtDate(s.started_at, false) });
    return h('li', { class: `app-stage${open ? ' current' : ''}${s.started_at ? '' : ' future'}${over ? ' over' : ''}`, dataset: { stage: s.stage }, 'aria-current': open ? 'step' : null },
      h('p', { class: 'what' }, stageName(def, s.stage, s.name), open ? [' ', h('span', { class: 'badge appl-now', text: t('appl.now') })] : null),
      h('p', { class: 'when', text: when }),
      s.started_at ? daysUsed(s.days_used, s.limit_days, over)
        : (s.limit_days ? h('p', { class: 'days', text: tn('appl.limitOnly', Number(s.limit_days)) }) : null));
  }));
}

const outlines = new Map(); // asset code → Promise of {geometry, bbox}

/**
 * Outlines a case's premises on the map and brings them into view (their record has the
 * outline; kept per code). `still()` says whether the view still wants it when it arrives.
 */
export function premisesOnMap(code, still = () => true) {
  if (!code) return;
  if (!outlines.has(code)) {
    const p = api.asset(code).then((rec) => ({ geometry: rec.geometry, bbox: rec.bbox || mapctl.geometryBbox(rec.geometry) }));
    p.catch(() => outlines.delete(code));
    outlines.set(code, p);
  }
  outlines.get(code).then((o) => {
    if (!still()) return;
    mapctl.highlight(o.geometry);
    if (o.bbox) mapctl.fitBbox(o.bbox, 18);
  }, () => {});
}

/** The verification page of a letter, only as `/verify/<64 hex>`. */
export function verifyHref(letter) {
  const sha = letter && String(letter.sha256 || '').toLowerCase();
  return sha && SHA.test(sha) ? `/verify/${sha}` : null;
}

/** Who decided and on what authority: "Mayor-in-Council, resolution 17 of 1 Dec 2026". */
export function decidedBy(d) {
  if (!d) return '';
  const by = d.by ? label('appl.by', d.by) : '';
  if (d.resolution_no) return t('appl.byResolution', { by, no: d.resolution_no, date: fmtDate(d.date, false) });
  return d.date ? t('appl.byOn', { by, date: fmtDate(d.date, false) }) : by;
}

/** The decision: approved or refused, by whom, and the letter's verification link. */
export function decisionBlock(d, id = 'appl-decision') {
  if (!d) return null;
  const href = verifyHref(d.letter);
  const approved = d.decision === 'approved' || d.decision === 'approve';
  return h('section', { class: `notice appl-decision ${approved ? 'approved' : 'refused'}`, id, 'aria-labelledby': `${id}-title` },
    h('h4', { id: `${id}-title`, text: t(approved ? 'appl.decisionApproved' : 'appl.decisionRefused') }),
    h('p', { text: decidedBy(d) }),
    href ? h('p', null, h('a', { href, class: 'verify-page-link', id: `${id}-letter`, text: t('appl.verifyLetter') })) : h('p', { class: 'hint', text: t('appl.letterToCome') }));
}


/** The SHA-256 of a file as the browser computes it, or null where it cannot (plain HTTP). */
export async function sha256Of(file) {
  try {
    if (!window.crypto || !window.crypto.subtle) return null;
    const d = await window.crypto.subtle.digest('SHA-256', await file.arrayBuffer());
    return [...new Uint8Array(d)].map((b) => b.toString(16).padStart(2, '0')).join('');
  } catch {
    return null;
  }
}

/** A file on record for a case: name, size and SHA-256 (and, for a draft, Remove). */
export function fileLine(f, { onRemove, docLabel, idPrefix } = {}) {
  const sha = String(f.sha256 || '');
  return h('li', { class: 'app-file', dataset: { sha256: sha, doc: f.doc } },
    h('p', { class: 'doc-title' }, f.name || t('appl.unnamedFile'), ' ', h('span', { class: 'hint', text: `(${fmtSize(f.size)})` })),
    docLabel ? h('p', { class: 'hint', text: docLabel }) : null,
    h('p', { class: 'hint' }, t('appl.sha'), ' ', h('span', { class: 'mono sha', text: sha })),
    f.checked === true ? h('p', { class: 'sha-check ok' }, h('span', { 'aria-hidden': 'true', text: '✓ ' }), t('appl.shaMatches')) : null,
    f.checked === false ? h('p', { class: 'sha-check error' }, h('span', { 'aria-hidden': 'true', text: '✕ ' }), t('appl.shaDiffers')) : null,
    onRemove ? h('div', { class: 'button-row' }, h('button', {
      type: 'button', class: 'btn btn-secondary', id: idPrefix ? `${idPrefix}-remove-${sha.slice(0, 12)}` : null,
      text: t('appl.removeFile'), 'aria-label': t('appl.removeFileNamed', { name: f.name || sha.slice(0, 12) }), onclick: () => onRemove(f),
    })) : null);
}

/**
 * A file input that uploads each chosen file with `send(file, onProgress)` and shows its
 * progress (a <progress> and a line saying how far), refusing files the server would:
 * not PDF/JPEG/PNG/WebP, over 25 MB. `uploads` keeps the state across redraws, by id.
 * `done(answer, file)` receives the server's {sha256, …}; errors are shown at the input.
 */
export function uploader({ id, labelText, required = false, hint = null, uploads, send, done, types = FILE_TYPES }) {
  const st = uploads.get(id) || null;
  const input = h('input', {
    type: 'file', id, name: id, accept: types.join(','), multiple: types.length > 1,
    'aria-describedby': [`${id}-hint`, st && st.error ? `${id}-error` : null].filter(Boolean).join(' '),
    'aria-invalid': st && st.error ? 'true' : null,
    disabled: !!(st && st.busy),
  });
  const progress = st && st.busy ? h('div', { class: 'upload-progress', id: `${id}-progress-box` },
    h('progress', { id: `${id}-progress`, max: st.total || 1, value: st.sent || 0, 'aria-label': t('appl.uploading', { name: st.name }) }),
    h('p', { class: 'hint', role: 'status', text: t('appl.uploadingPct', { name: st.name, pct: fmtNumber(st.total ? Math.floor((100 * st.sent) / st.total) : 0) }) })) : null;
  input.addEventListener('change', async () => {
    const files = [...(input.files || [])];
    if (!files.length) return;
    for (const file of files) {
      if (!types.includes(file.type)) {
        uploads.set(id, { error: t(types.length === 1 ? 'appl.pdfOnly' : 'err.docType'), name: file.name });
        done(null, file);
        return;
      }
      if (file.size > FILE_MAX) {
        uploads.set(id, { error: t('appl.fileTooLarge', { name: file.name }), name: file.name });
        done(null, file);
        return;
      }
    }
    for (const file of files) {
      const entry = { busy: true, name: file.name, sent: 0, total: file.size };
      uploads.set(id, entry);
      done(null, file, { started: true });
      const mine = sha256Of(file);
      try {
        const r = await send(file, (sent, total) => {
          entry.sent = sent;
          entry.total = total || file.size;
          const bar = document.getElementById(`${id}-progress`);
          if (bar) {
            bar.max = entry.total || 1;
            bar.value = sent;
            const line = bar.parentElement.querySelector('[role="status"]');
            if (line) line.textContent = t('appl.uploadingPct', { name: file.name, pct: fmtNumber(entry.total ? Math.floor((100 * sent) / entry.total) : 0) });
          }
        });
        const local = await mine;
        uploads.delete(id);
        done({ ...r, checked: local && r && r.sha256 ? local === r.sha256 : undefined }, file);
      } catch (e) {
        uploads.set(id, { error: t('appl.uploadFailed', { name: file.name, error: explain(e) }), name: file.name });
        done(null, file, { error: e });
        return;
      }
    }
  });
  return h('div', { class: 'field app-upload' },
    h('label', { htmlFor: id }, labelText, required ? [' ', h('span', { class: 'req', text: t('report.required') })] : null),
    h('p', { class: 'hint', id: `${id}-hint`, text: hint || t('appl.fileHint') }),
    input,
    progress,
    st && st.error ? h('p', { class: 'field-error', id: `${id}-error`, text: st.error }) : null);
}

/** A status line that a redraw keeps: {kind, text} or null. */
export function statusLine(id, m) {
  return h('p', { id, role: 'status', tabindex: '-1', class: `form-status${m ? ` ${m.kind}` : ''}`, text: m ? m.text() : '' });
}

/** Focuses an element of the view once drawn, and brings it into sight. */
export function focusAfter(id, reveal) {
  const el = document.getElementById(id);
  if (!el) return;
  if (reveal) reveal(el);
  el.focus({ preventScroll: !!reveal });
}

/** Empties an element (a redraw without the piece). */
export const clear = (el) => replace(el);

// ---- staff -----------------------------------------------------------------------------------

let me = null; // {token, promise} of GET /auth/me for the signed-in staff member

/**
 * The signed-in staff member's role and duties ({role, duties: [...]}; null when no one is
 * signed in): from the sign-in's answer when it has them, else asked once per token.
 */
export function staffDuties() {
  const s = staffSession();
  if (!s) return Promise.resolve(null);
  if (s.user && Array.isArray(s.user.duties)) return Promise.resolve({ role: s.user.role, duties: s.user.duties });
  if (!me || me.token !== s.token) {
    const token = s.token;
    const p = api.me().then((u) => {
      const cur = staffSession();
      if (cur && cur.token === token) setStaffSession({ ...cur, user: { ...cur.user, ...u, duties: u.duties || [] } });
      return { role: u.role, duties: u.duties || [] };
    });
    p.catch(() => { if (me && me.token === token) me = null; });
    me = { token, promise: p };
  }
  return me.promise;
}

/** Whether `who` ({role, duties}) acts at a stage needing `duty`: its holders, and admins. */
export const mayAct = (who, duty) => !!who && (who.role === 'admin' || (who.duties || []).includes(duty));
