// An asset's History tab (#asset/CODE/history): every version on record, newest first,
// with who made it, when, why and the audit entry that records it (`GET
// /assets/{code}/versions`). A version can be opened: its outline drawn on the map with
// the one before it (dashed), and what changed from that one (`GET /assets/{code}/diff`).
// Officers can restore an old version (`POST …/versions/{n}/restore`, If-Match the
// item's current ETag); anyone can show the whole map as of a version's day.
import { h } from './dom.js';
import { t, label, fmtDate, fmtNumber, digits, kolkataDate } from './i18n.js';
import { api } from './api.js';
import { explain } from './errors.js';
import * as mapctl from './mapctl.js';
import { diffTable, areaLine, mapKey, NOTE_MAX } from './edit.js';

let state = null; // {code, list, error, open, detail, detailError, restoring, message}
let redraw = () => {};
let seq = 0;

/** `fn()` redraws the asset panel (the History tab is part of it). */
export function init(fn) { redraw = fn; }

/** Forgets the asset's versions (another asset, or after an edit). */
export function reset() {
  seq++;
  state = null;
  mapctl.clearCompare();
}

/** Loads the versions of `code` (again). */
export async function load(code) {
  const mine = ++seq;
  const kept = state && state.code === code ? state : null;
  state = { code, list: kept ? kept.list : null, open: kept ? kept.open : null, detail: kept ? kept.detail : null, message: kept ? kept.message : null };
  try {
    const r = await api.versions(code);
    if (mine !== seq) return;
    state.list = r;
    state.error = null;
  } catch (e) {
    if (mine !== seq) return;
    state.error = e;
  }
  redraw();
}

/** Draws version `n` on the map with the one before it, and what changed between them. */
async function open(n) {
  const code = state.code;
  const mine = ++seq;
  state.open = n;
  state.detail = null;
  state.detailError = null;
  state.restoring = null;
  redraw();
  try {
    const [v, prev, diff] = await Promise.all([
      api.version(code, n),
      n > 1 ? api.version(code, n - 1).catch(() => null) : null,
      n > 1 ? api.diff(code, n - 1, n).catch(() => null) : null,
    ]);
    if (mine !== seq) return;
    state.detail = { n, feature: v, prev, diff };
    mapctl.compare(prev, v);
  } catch (e) {
    if (mine !== seq) return;
    state.detailError = e;
  }
  redraw();
  document.getElementById(`ver-detail-${n}`)?.focus({ preventScroll: false });
}

function close() {
  const n = state.open;
  state.open = null;
  state.detail = null;
  state.restoring = null;
  mapctl.clearCompare();
  redraw();
  document.getElementById(`ver-show-${n}`)?.focus();
}

/** What a version did, in words ("Imported", "Edited", "Delisted", …). */
function actionText(action) {
  const a = String(action || '');
  if (a.startsWith('import')) return t('vaction.import');
  return label('vaction', a);
}

/** "by officer1 (officer)" or "from the bundled data" for an import. */
function actorText(v) {
  const who = String(v.actor || '');
  if (who.startsWith('import:')) return t('versions.fromImport', { file: who.slice(7) });
  return v.role ? t('audit.by', { name: who, role: label('role', v.role) }) : t('staff.by', { name: who });
}

/**
 * The History tab's content for asset `p` (its properties). `officer`: may restore;
 * `onRestored(feature)` after a restore.
 */
export function section(p, { officer, onRestored, delisted }) {
  if (!state || state.code !== p.code) {
    load(p.code);
    return h('section', { class: 'record', 'aria-labelledby': 'ver-title' },
      h('h3', { id: 'ver-title', text: t('versions.title') }), h('p', { role: 'status', text: t('asset.loading') }));
  }
  state.asset = { layer: p.layer, id: p.id };
  const head = h('h3', { id: 'ver-title', text: t('versions.title') });
  if (state.error) {
    return h('section', { class: 'record', 'aria-labelledby': 'ver-title' }, head,
      h('p', { class: 'error', role: 'alert', text: t('versions.error', { error: explain(state.error) }) }));
  }
  if (!state.list) {
    return h('section', { class: 'record', 'aria-labelledby': 'ver-title' }, head, h('p', { role: 'status', text: t('asset.loading') }));
  }
  const { current, versions } = state.list;
  const asOfDay = (at) => kolkataDate(new Date(at));
  const items = versions.slice().reverse().map((v) => {
    const isOpen = state.open === v.version;
    const isCurrent = v.version === current;
    const facts = [
      `${fmtDate(v.at)} · ${actionText(v.action)}`,
    ];
    return h('li', { class: isOpen ? 'open' : null },
      h('p', { class: 'version-title' },
        h('strong', { text: t('versions.version', { n: digits(v.version) }) }),
        isCurrent && !delisted ? [' ', h('span', { class: 'badge current', text: t('versions.current') })] : null,
        v.delisted ? [' ', h('span', { class: 'badge delisted', text: t('versions.delisted') })] : null),
      h('p', { class: 'when', text: facts.join('') }),
      h('p', { class: 'hint', text: actorText(v) }),
      v.note ? h('p', { class: 'note', text: v.note }) : null,
      v.area_m2 !== null && v.area_m2 !== undefined ? h('p', { class: 'hint', text: t('versions.area', { area: t('unit.m2', { n: fmtNumber(Math.round(v.area_m2)) }) }) }) : null,
      v.audit_seq !== null && v.audit_seq !== undefined
        ? h('p', { class: 'hint mono', text: t('audit.entry', { seq: digits(v.audit_seq), hash: String(v.audit_hash || '').slice(0, 12) }) })
        : null,
      h('div', { class: 'button-row' },
        h('button', {
          type: 'button', class: 'btn btn-secondary', id: `ver-show-${v.version}`, 'aria-expanded': String(isOpen),
          'aria-controls': isOpen ? `ver-detail-${v.version}` : null,
          text: isOpen ? t('versions.hide', { n: digits(v.version) }) : t('versions.show', { n: digits(v.version) }),
          onclick: () => (isOpen ? close() : open(v.version)),
        }),
        h('button', {
          type: 'button', class: 'btn btn-secondary', id: `ver-asof-${v.version}`,
          text: t('versions.mapAsOf', { date: fmtDate(asOfDay(v.at), false) }),
          onclick: () => mapctl.setAsOf(asOfDay(v.at) >= kolkataDate() ? null : asOfDay(v.at)),
        })),
      isOpen ? detail(v, { officer: officer && !isCurrent && !delisted && !v.delisted, onRestored }) : null);
  });
  return h('section', { class: 'record', 'aria-labelledby': 'ver-title' }, head,
    h('p', { class: 'hint', text: t('versions.intro') }),
    state.message ? h('p', { id: 'ver-status', class: `form-status ${state.message.kind}`, role: 'status', tabindex: '-1', text: messageText() }) : null,
    h('ol', { class: 'history versions' }, items));
}

function messageText() {
  const m = state.message;
  if (!m) return '';
  return m.error ? explain(m.error) : t(m.key, m.vars);
}

/** An opened version: the key to the map, what changed from the one before, restoring. */
function detail(v, { officer, onRestored }) {
  const n = v.version;
  const box = h('div', { class: 'version-detail', id: `ver-detail-${n}`, tabindex: '-1', role: 'group', 'aria-label': t('versions.version', { n: digits(n) }) });
  if (state.detailError) {
    box.append(h('p', { class: 'error', role: 'alert', text: t('versions.error', { error: explain(state.detailError) }) }));
    return box;
  }
  const d = state.detail;
  if (!d || d.n !== n) {
    box.append(h('p', { role: 'status', text: t('asset.loading') }));
    return box;
  }
  box.append(mapKey(n > 1 ? t('versions.keyBefore', { n: digits(n - 1) }) : null, t('versions.keyAfter', { n: digits(n) }), mapctl.COMPARE));
  if (n > 1 && d.diff) {
    box.append(
      h('h4', { text: t('versions.changes', { from: digits(n - 1), to: digits(n) }) }),
      diffTable(d.diff.properties, { id: `ver-diff-${n}` }),
      h('p', { class: 'area-change', id: `ver-area-${n}`, text: areaLine(d.diff) }));
  } else if (n === 1) box.append(h('p', { class: 'hint', text: t('versions.first') }));
  if (d.feature && d.feature.delisted) {
    box.append(h('p', { class: 'notice', text: t('asset.delistedOn', { date: fmtDate(d.feature.delisted.at), reason: d.feature.delisted.reason }) }));
  }
  if (officer) box.append(restoreForm(v, onRestored));
  return box;
}

function restoreForm(v, onRestored) {
  const n = v.version;
  if (state.restoring !== n) {
    return h('div', { class: 'button-row' }, h('button', {
      type: 'button', class: 'btn btn-primary', id: `ver-restore-${n}`, text: t('versions.restore', { n: digits(n) }),
      onclick: () => {
        state.restoring = n;
        redraw();
        document.getElementById('ver-restore-note')?.focus();
      },
    }));
  }
  const note = h('textarea', { id: 'ver-restore-note', name: 'note', rows: 2, maxLength: NOTE_MAX });
  const go = h('button', { type: 'submit', class: 'btn btn-primary', id: 'ver-restore-go', text: t('versions.restoreYes', { n: digits(n) }) });
  const line = h('p', { id: 'ver-restore-status', class: 'form-status', role: 'status', tabindex: '-1' });
  const form = h('form', { class: 'confirm', id: 'ver-restore-form', novalidate: true },
    h('p', { text: t('versions.restoreQ', { n: digits(n) }) }),
    h('div', { class: 'field' }, h('label', { htmlFor: 'ver-restore-note', text: t('edit.note') }), note),
    h('div', { class: 'button-row' }, go,
      h('button', {
        type: 'button', class: 'btn btn-secondary', id: 'ver-restore-cancel', text: t('edit.cancel'),
        onclick: () => { state.restoring = null; redraw(); document.getElementById(`ver-restore-${n}`)?.focus(); },
      })),
    line);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    go.disabled = true;
    line.className = 'form-status';
    line.textContent = t('rec.saving');
    try {
      const p = state.code;
      // If-Match: the version on record now (restoring is an edit like any other).
      const item = await api.item(state.asset.layer, state.asset.id);
      const r = await api.restore(p, n, item.etag, note.value.trim() || null);
      state.restoring = null;
      state.open = null;
      state.detail = null;
      mapctl.clearCompare();
      state.message = { kind: 'success', key: 'versions.restored', vars: { n: digits(n), version: digits(r.data.properties.version) } };
      await load(p);
      onRestored(r.data);
      document.getElementById('ver-status')?.focus();
    } catch (err) {
      go.disabled = false;
      const l = document.getElementById('ver-restore-status') || line;
      l.className = 'form-status error';
      l.textContent = err.status === 412 ? t('edit.stale') : explain(err);
      l.focus();
    }
  });
  return form;
}
