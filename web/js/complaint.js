// Pieces of a complaint's record shared by the public track view and the staff view.
// Descriptions, notes and names are citizens' and staff's own words: text only.
import { h, safePhotoUrl } from './dom.js';
import { t, tn, label, fmtDate, fmtNumber, digits, getLang, has } from './i18n.js';
import { categoryName } from './services.js';

export function statusBadge(status) {
  return h('span', { class: `badge status status-${status}`, text: label('status', status) });
}

/** The facts list: category, dates, ward, address, asset, supporters (+ `extra` rows). */
export function facts(c, navigate, extra = []) {
  const bn = getLang() === 'bn';
  const rows = [];
  const row = (k, v) => { if (v !== null && v !== undefined && v !== '') rows.push(h('dt', { text: k }), h('dd', null, v)); };
  row(t('track.status'), statusBadge(c.status));
  row(t('track.category'), categoryName(c.category, c.category_name));
  row(t('track.filed'), fmtDate(c.created_at));
  if (c.updated_at && c.updated_at !== c.created_at) row(t('track.updated'), fmtDate(c.updated_at));
  if (c.deadline) {
    row(t('track.deadline'), [fmtDate(c.deadline), c.overdue ? [' ', h('span', { class: 'badge overdue', text: t('track.overdue') })] : null]);
  }
  if (c.ward !== null && c.ward !== undefined) row(t('track.ward'), digits(c.ward));
  row(t('track.address'), c.address);
  if (c.asset) {
    const name = bn && c.asset.name_bn ? c.asset.name_bn : (c.asset.name || c.asset.code);
    const id = c.asset.code || c.asset.id;
    row(t('track.asset'), navigate && id !== undefined
      ? h('button', { type: 'button', class: 'link', lang: bn && c.asset.name_bn ? 'bn' : 'en', text: name, onclick: () => navigate(`#asset/${encodeURIComponent(String(id))}`) })
      : name);
  }
  row(t('track.supporters'), fmtNumber(c.supporters || 0));
  if (c.duplicate_of) {
    row(t('track.duplicateOf'), navigate
      ? h('button', { type: 'button', class: 'link', text: String(c.duplicate_of), onclick: () => navigate(`#track/${encodeURIComponent(String(c.duplicate_of))}`) })
      : String(c.duplicate_of));
  }
  for (const [k, v] of extra) row(k, v);
  return h('dl', { class: 'facts' }, rows);
}

/** The answers to the category's extra questions. */
export function answers(c) {
  const entries = Object.entries(c.attributes || {});
  if (!entries.length) return null;
  return h('dl', { class: 'facts answers', 'aria-label': t('track.answers') },
    entries.map(([k, v]) => [
      h('dt', { text: has(`q.${k}`) ? t(`q.${k}`) : k.replace(/_/g, ' ') }),
      h('dd', { text: has(`a.${v}`) ? t(`a.${v}`) : String(v) }),
    ]));
}

/**
 * What the department took out of public view: the `removed[]` entry for a piece
 * (`description`, a complaint's `photo`, or a step's `note` / `photo` with its `step`).
 */
export function removals(c, item, step = null) {
  return (c.removed || []).filter((r) => r.item === item && (r.step ?? null) === step);
}

/**
 * "Removed by the department: <reason>" in the page's language. The server puts its
 * English notice in place of the text; the reason comes from `removed[]`, so a Bengali
 * page says it in Bengali (the reason itself is the officer's own words).
 */
export function removedNotice(r, key = 'mod.removed', id = null) {
  const reason = r && r.reason && r.reason.trim();
  return h('p', { class: 'notice removed-notice', id, text: reason ? t(key, { reason }) : t(`${key}NoReason`) });
}

/**
 * Staff: where a piece stands with moderation (held for review, hidden and why, or
 * reviewed and kept), from the staff record's `moderation[]`; null if never reviewed.
 */
export function moderationMark(c, item) {
  const m = (c.moderation || []).find((x) => x.item === item);
  if (!m) return null;
  return h('p', { class: 'mod-mark' },
    h('span', { class: `badge mod-${m.state}`, text: label('mod.state', m.state) }),
    m.reason ? [' ', h('span', { text: t('mod.publicReason', { reason: m.reason }) })] : null);
}

/**
 * The description. In public (`flag` given) a removed one is the department's notice
 * instead; staff see the text and where it stands with moderation.
 */
export function description(c, id, { flag = null, staff = false } = {}) {
  const gone = staff ? [] : removals(c, 'description');
  return h('section', { class: 'record' },
    h('h4', { text: t('track.description') }),
    gone.length
      ? removedNotice(gone[0], 'mod.removed', `${id}-removed`)
      : h('p', { class: 'description', id, text: c.description || '' }),
    staff ? moderationMark(c, 'description') : null,
    !gone.length && flag ? flag('description', t('flag.whatDescription')) : null);
}

/**
 * What a piece named in moderation is, in words: the description, a photo, a note of the
 * timeline; with the complaint `c` at hand, which photo and the note of when.
 */
export function itemName(item, c = null) {
  if (item === 'description') return t('mod.item.description');
  if (item.startsWith('photo:')) {
    const i = c ? (c.photos || []).findIndex((u) => String(u).endsWith(`/${item.slice(6)}`)) : -1;
    return i >= 0 ? t('track.photo', { n: fmtNumber(i + 1) }) : t('mod.item.photo');
  }
  const m = /^note:(\d+)$/.exec(item);
  if (!m) return item;
  const step = c ? (c.timeline || []).find((e) => String(e.id) === m[1]) : null;
  return step ? t('mod.stepNote', { when: fmtDate(step.at) }) : t('mod.item.note');
}

/** The sha256 of a photo URL `/photos/<sha256>`: what names it in a flag. */
export const photoSha = (u) => u.slice(u.lastIndexOf('/') + 1);

/**
 * The photos. In public: each with its "Report as inappropriate" (`flag`), a notice for
 * each the department removed, and how many wait for review. Staff (`photo` given: a
 * maker of images fetched with the token) see every photo and where it stands.
 */
export function photos(c, { flag = null, photo = null, staff = false } = {}) {
  const urls = (c.photos || []).map(safePhotoUrl).filter(Boolean);
  const gone = staff ? [] : removals(c, 'photo');
  const held = staff ? 0 : Number(c.photos_held) || 0;
  if (!urls.length && !gone.length && !held) return null;
  const alt = (i) => t('track.photo', { n: fmtNumber(i + 1) });
  const list = urls.length
    ? h('ul', { class: flag || staff ? 'photo-list' : 'thumbs' }, urls.map((u, i) => h('li', null,
      photo ? photo(u, alt(i)) : h('a', { href: u, target: '_blank', rel: 'noopener' },
        h('img', { src: u, alt: alt(i), width: 96, height: 96, loading: 'lazy' })),
      staff ? moderationMark(c, `photo:${photoSha(u)}`) : null,
      flag ? flag(`photo:${photoSha(u)}`, alt(i)) : null)))
    : null;
  return h('section', { class: 'record', id: staff ? null : 'track-photos' },
    h('h4', { text: t('track.photos') }),
    list,
    gone.map((r) => removedNotice(r, 'mod.photoRemoved')),
    held ? h('p', { class: 'hint', id: 'track-photos-held', text: tn('mod.photosHeld', held) }) : null);
}

/**
 * What happened, in plain words: "Acknowledged by the department", not the status
 * machine's "Acknowledge → Acknowledged". An action we have no words for falls back to
 * the status it led to.
 */
export function eventText(e) {
  if (has(`event.${e.action}`)) return t(`event.${e.action}`);
  return e.status ? label('status', e.status) : label('action', e.action);
}

/**
 * The timeline, starting with the filing itself. Staff see internal notes and who, and
 * where each note and photo stands with moderation (`photo` makes their images, fetched
 * with the token). In public a removed note or photo is the department's notice, and
 * each note and photo has its "Report as inappropriate" (`flag`).
 */
export function timeline(c, { staff = false, flag = null, photo = null } = {}) {
  const events = [...(c.timeline || [])];
  // The server records the filing as a `submit` event; older records may lack it.
  if (!events.some((e) => e.action === 'submit')) events.unshift({ at: c.created_at, action: 'submit', status: 'submitted', note: null, public: true });
  return h('section', { class: 'record' },
    h('h4', { text: t('track.timeline') }),
    h('ol', { class: 'timeline' }, events.map((e) => {
      const url = safePhotoUrl(e.photo);
      const step = e.id ?? null;
      const noteGone = staff || step === null ? [] : removals(c, 'note', step);
      const photoGone = staff || step === null ? [] : removals(c, 'photo', step);
      const when = fmtDate(e.at);
      const img = url ? (photo ? photo(url, t('mod.stepPhoto', { when }))
        : h('a', { href: url, target: '_blank', rel: 'noopener' },
          h('img', { src: url, alt: t('mod.stepPhoto', { when }), width: 96, height: 96, loading: 'lazy' }))) : null;
      return h('li', { class: e.public === false ? 'internal' : null, dataset: step === null ? null : { step: String(step) } },
        h('p', { class: 'when' },
          h('time', { datetime: e.at || '', text: when }),
          staff && e.by ? ` · ${t('staff.by', { name: e.by })}` : null,
          staff && e.public === false ? [' ', h('span', { class: 'badge internal', text: t('staff.internal') })] : null),
        h('p', { class: 'what', text: eventText(e) }),
        noteGone.length ? removedNotice(noteGone[0], 'mod.noteRemoved') : null,
        !noteGone.length && e.note ? h('p', { class: 'note', text: e.note }) : null,
        staff && e.note && step !== null ? moderationMark(c, `note:${step}`) : null,
        !noteGone.length && e.note && flag && step !== null ? flag(`note:${step}`, t('mod.stepNote', { when })) : null,
        photoGone.length ? removedNotice(photoGone[0], 'mod.photoRemoved') : null,
        img ? h('div', { class: 'step-photo' }, img,
          staff ? moderationMark(c, `photo:${photoSha(url)}`) : null,
          flag ? flag(`photo:${photoSha(url)}`, t('mod.stepPhoto', { when })) : null) : null);
    })));
}
