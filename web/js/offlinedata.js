// Answers, with no network, the questions the app asks the server about places: search
// (/search), Near me (/nearby) and which ward a point is in (/at), from the wards a field
// officer kept offline (offline.js saves them; idb.js holds them). api.js asks here only
// when the network failed, and the answers have the server's shapes, so the views do not
// know the difference. Distances are on a local flat projection (metres; good to well
// under 1% across a ward).
import * as idb from './idb.js';

let cache = null; // the saved wards, read once per change

/** The saved wards (records with their places); [] if IndexedDB is unavailable. */
export async function wards() {
  if (!cache) cache = idb.all('wards').catch(() => []);
  return cache;
}

/** Forgets what was read: a ward was saved or removed. */
export function changed() { cache = null; }

/** Every saved place once (wards' boxes overlap), by code. */
async function places() {
  const seen = new Map();
  for (const w of await wards()) for (const r of w.places || []) if (!seen.has(r.code)) seen.set(r.code, r);
  return [...seen.values()];
}

/** Text folded for matching: lower case, Unicode-normalised, no Latin accents, one space. */
export function fold(s) {
  return String(s || '').normalize('NFKD').replace(/[\u0300-\u036f]/g, '').toLowerCase().replace(/\s+/g, ' ').trim();
}

/** The search index entry of a place: its names in English and Bengali and its code, folded. */
export function indexText(p) {
  return fold([p.name, p.name_bn, p.code, p.address].filter(Boolean).join(' | '));
}

/**
 * /search over the saved places: every word of the query in the place's names or code;
 * names starting with the query first. A FeatureCollection of points, as /search answers.
 */
export async function search(q, limit = 8) {
  const words = fold(q).split(' ').filter(Boolean);
  if (!words.length) return { type: 'FeatureCollection', numberReturned: 0, features: [], offline: true };
  const whole = fold(q);
  const hits = [];
  for (const p of await places()) {
    const text = p.text || indexText(p);
    if (!words.every((w) => text.includes(w))) continue;
    const starts = [p.name, p.name_bn, p.code].some((n) => fold(n).startsWith(whole));
    hits.push({ p, rank: starts ? 0 : 1 });
  }
  hits.sort((a, b) => a.rank - b.rank || String(a.p.name || a.p.code).localeCompare(String(b.p.name || b.p.code)));
  const features = hits.slice(0, limit).map(({ p }) => ({
    type: 'Feature', id: p.id, geometry: { type: 'Point', coordinates: p.point }, bbox: p.bbox, properties: { ...p.properties },
  }));
  return { type: 'FeatureCollection', numberReturned: features.length, features, offline: true };
}

// ---- geometry -------------------------------------------------------------------------------

/** Metres east and north of `o` ({lon, lat}) for a [lon, lat]. */
function local(o) {
  const kx = 111320 * Math.cos(o.lat * Math.PI / 180);
  const ky = 110540;
  return (c) => [(c[0] - o.lon) * kx, (c[1] - o.lat) * ky];
}

function rings(g) {
  if (!g) return [];
  if (g.type === 'Polygon') return g.coordinates;
  if (g.type === 'MultiPolygon') return g.coordinates.flat();
  if (g.type === 'LineString') return [g.coordinates];
  if (g.type === 'MultiLineString') return g.coordinates;
  if (g.type === 'Point') return [[g.coordinates]];
  if (g.type === 'MultiPoint') return [g.coordinates];
  return [];
}

/** Whether [x, y] is inside a polygon's rings (even-odd: holes count). */
function inside(ringsXY, x, y) {
  let odd = false;
  for (const r of ringsXY) {
    for (let i = 0, j = r.length - 1; i < r.length; j = i++) {
      const [xi, yi] = r[i];
      const [xj, yj] = r[j];
      if ((yi > y) !== (yj > y) && x < ((xj - xi) * (y - yi)) / (yj - yi) + xi) odd = !odd;
    }
  }
  return odd;
}

function segDist([ax, ay], [bx, by]) {
  const dx = bx - ax;
  const dy = by - ay;
  const l = dx * dx + dy * dy;
  const t = l ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / l)) : 0;
  return Math.hypot(ax + t * dx, ay + t * dy);
}

/** Metres from the point `o` to the geometry (0 inside a polygon). */
export function distance(o, g) {
  const xy = local(o);
  const rs = rings(g).map((r) => r.map(xy));
  if ((g.type === 'Polygon' || g.type === 'MultiPolygon') && inside(rs, 0, 0)) return 0;
  let best = Infinity;
  for (const r of rs) {
    if (r.length === 1) best = Math.min(best, Math.hypot(r[0][0], r[0][1]));
    for (let i = 1; i < r.length; i++) best = Math.min(best, segDist(r[i - 1], r[i]));
  }
  return best;
}

/** /nearby over the saved places: within radius_m, nearest first, with distance_m. */
export async function nearby({ lon, lat, radius_m = 1000, limit = 25, layers }) {
  const o = { lon: Number(lon), lat: Number(lat) };
  const want = layers ? String(layers).split(',') : null;
  const found = [];
  for (const p of await places()) {
    if (want && !want.includes(p.properties.layer)) continue;
    const d = distance(o, p.geometry);
    if (d <= Number(radius_m)) found.push({ p, d });
  }
  found.sort((a, b) => a.d - b.d);
  const features = found.slice(0, Number(limit)).map(({ p, d }) => ({
    type: 'Feature', id: p.id, geometry: p.geometry, properties: { ...p.properties, distance_m: Math.round(d * 10) / 10 },
  }));
  return { type: 'FeatureCollection', numberReturned: features.length, features, offline: true };
}

/** /at for a point in a saved ward: {ward: Feature} (its outline and number), else {}. */
export async function at(lon, lat) {
  const o = { lon: Number(lon), lat: Number(lat) };
  for (const w of await wards()) {
    if (w.outline && distance(o, w.outline.geometry) === 0) return { ward: w.outline, offline: true };
  }
  return { offline: true };
}
