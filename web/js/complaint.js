// Pieces of a complaint's record shared by the public track view and the staff view.
// Descriptions, notes and names are citizens' and staff's own words: text only.
import { h, safePhotoUrl } from './dom.js';
import { t, label, fmtDate, fmtNumber, digits, getLang, has } from './i18n.js';
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

export function description(c, id) {
  return h('section', { class: 'record' },
    h('h4', { text: t('track.description') }),
    h('p', { class: 'description', id, text: c.description || '' }));
}

export function photos(c) {
  const urls = (c.photos || []).map(safePhotoUrl).filter(Boolean);
  if (!urls.length) return null;
  return h('section', { class: 'record' },
    h('h4', { text: t('track.photos') }),
    h('ul', { class: 'thumbs' }, urls.map((u, i) => h('li', null,
      h('a', { href: u, target: '_blank', rel: 'noopener' },
        h('img', { src: u, alt: t('track.photo', { n: fmtNumber(i + 1) }), width: 96, height: 96, loading: 'lazy' }))))));
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

/** The timeline, starting with the filing itself. Staff see internal notes and who. */
export function timeline(c, { staff = false } = {}) {
  const events = [...(c.timeline || [])];
  // The server records the filing as a `submit` event; older records may lack it.
  if (!events.some((e) => e.action === 'submit')) events.unshift({ at: c.created_at, action: 'submit', status: 'submitted', note: null, public: true });
  return h('section', { class: 'record' },
    h('h4', { text: t('track.timeline') }),
    h('ol', { class: 'timeline' }, events.map((e) => {
      const photo = safePhotoUrl(e.photo);
      return h('li', { class: e.public === false ? 'internal' : null },
        h('p', { class: 'when' },
          h('time', { datetime: e.at || '', text: fmtDate(e.at) }),
          staff && e.by ? ` · ${t('staff.by', { name: e.by })}` : null,
          staff && e.public === false ? [' ', h('span', { class: 'badge internal', text: t('staff.internal') })] : null),
        h('p', { class: 'what', text: eventText(e) }),
        e.note ? h('p', { class: 'note', text: e.note }) : null,
        photo ? h('a', { href: photo, target: '_blank', rel: 'noopener' },
          h('img', { src: photo, alt: t('track.photo', { n: '' }).trim(), width: 96, height: 96, loading: 'lazy' })) : null);
    })));
}
