// "Follow complaints here": links to the Atom feed of complaints in an area
// (`GET /complaints.atom?ward=N` or `?lon=&lat=&radius_m=`), for a feed reader. Shown
// where the app names a ward (an asset, a ward, a complaint) and in Near me.
import { h } from './dom.js';
import { t, digits, fmtDistance } from './i18n.js';
import { api } from './api.js';

/** The Near me circle's radius in metres (the feed's default). */
export const RADIUS_M = 500;

/** The feed of ward `ward` (a positive whole number), as a link; null for no ward. */
export function wardLink(ward, id = null) {
  const w = Number(ward);
  if (!Number.isInteger(w) || w < 1) return null;
  return h('p', { class: 'feed' }, h('a', {
    class: 'feed-link', id, type: 'application/atom+xml',
    href: `/complaints.atom?${api.qs({ ward: w })}`,
    text: t('feed.ward', { ward: digits(w) }),
  }));
}

/** The feed of a circle around a point, as a link. */
export function circleLink(lon, lat, id = null) {
  if (!Number.isFinite(lon) || !Number.isFinite(lat)) return null;
  return h('p', { class: 'feed' }, h('a', {
    class: 'feed-link', id, type: 'application/atom+xml',
    href: `/complaints.atom?${api.qs({ lon: lon.toFixed(6), lat: lat.toFixed(6), radius_m: RADIUS_M })}`,
    text: t('feed.circle', { distance: fmtDistance(RADIUS_M) }),
  }));
}
