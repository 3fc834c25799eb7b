// Complaint photos as staff see them. A photo held for review or hidden by moderation is
// served only to a request with the staff token, which an <img src> cannot send: staff
// views fetch each photo with it and show the bytes from a blob: URL (the CSP allows
// `img-src blob:`). The URLs are kept per photo until sign-out, so redrawing a view does
// not fetch again.
import { h, replace, safePhotoUrl } from './dom.js';
import { t } from './i18n.js';
import { api } from './api.js';

const urls = new Map(); // /photos/<sha256> → Promise of a blob: URL

function blobUrl(url) {
  if (!urls.has(url)) {
    const p = api.photoBlob(url).then((b) => URL.createObjectURL(b));
    p.catch(() => urls.delete(url)); // asked again next time
    urls.set(url, p);
  }
  return urls.get(url);
}

/**
 * A thumbnail of photo `url` (only `/photos/<sha256>`), fetched with the staff token; a
 * link to the full image once it is here, a line saying so if it cannot be had.
 */
export function staffPhoto(url, alt) {
  const u = safePhotoUrl(url);
  const box = h('span', { class: 'staff-photo' });
  if (!u) return box;
  const img = h('img', { alt, width: 96, height: 96 });
  replace(box, img);
  blobUrl(u).then((b) => {
    img.src = b;
    replace(box, h('a', { href: b, target: '_blank', rel: 'noopener' }, img));
  }, () => replace(box, h('span', { class: 'hint', text: t('mod.photoFailed', { alt }) })));
  return box;
}

/** Drops the photos fetched for staff (at sign-out). */
export function forget() {
  for (const p of urls.values()) p.then((b) => URL.revokeObjectURL(b), () => {});
  urls.clear();
}
