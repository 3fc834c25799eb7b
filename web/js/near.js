// Field staff: "Near me". From the browser's location (or a point chosen on the map) the
// nearest assets, nearest first, each with its distance and compass direction
// ("320 m NE") and an arrow. Large tap targets, buttons at the bottom for one thumb on
// phones. Where the search starts is said as a place ("near Victoria Memorial", from
// GET /at), not as coordinates.
import { h, replace, $ } from './dom.js';
import { t, tn, label, fmtDistance, getLang } from './i18n.js';
import { api, errorText } from './api.js';
import * as mapctl from './mapctl.js';
import * as feed from './feed.js';

// A heritage site farther than this from the point does not name it ("near …").
const NEAR_ENOUGH_M = 1000;

let ctx;
let point = null;   // {lon, lat, source: 'gps' | 'point', accuracy, place: {name, name_bn} | null, ward}
let placeController = null;
let results = null; // features, or null before the first search
let error = null;
let picking = false;
let visible = false;
let controller = null;
let busy = ''; // the key of a passing line ("Finding your location…"), put in words at each render

const DIRS = ['N', 'NE', 'E', 'SE', 'S', 'SW', 'W', 'NW'];

export function init(c) {
  ctx = c;
  $('#near-locate').addEventListener('click', locate);
  $('#near-pick').addEventListener('click', () => setPicking(!picking));
  $('#near-centre').addEventListener('click', () => {
    const c0 = mapctl.map.getCenter();
    setPoint({ lon: c0.lng, lat: c0.lat }, 'point');
  });
  $('#near-radius').addEventListener('change', run);
  $('#near-layers').addEventListener('change', run);
  // The map's own locate button: while Near me is open, search from there.
  mapctl.onLocate(({ lon, lat, accuracy }) => {
    if (visible) setPoint({ lon, lat }, 'gps', accuracy);
  });
}

export function show() {
  visible = true;
  if (point) {
    placeMe();
    if (!results) run();
    else mapctl.highlight({ type: 'FeatureCollection', features: results.map((r) => r.f) });
  }
  render();
}

export function hide() {
  visible = false;
  setPicking(false);
  mapctl.hideMe();
  mapctl.clearHighlight();
}

export function rerender() { render(); }

/** Searches around a point (from an asset's record, or chosen here). */
export function setPoint(pt, source = 'point', accuracy = null) {
  point = { lon: pt.lon, lat: pt.lat, source, accuracy, place: null };
  results = null;
  setPicking(false);
  nameThePlace(point);
  if (visible) {
    placeMe();
    run();
  }
}

/** What the point is in or near (GET /at), to say where the search starts from. */
async function nameThePlace(pt) {
  if (placeController) placeController.abort();
  placeController = new AbortController();
  try {
    const at = await api.at(pt.lon.toFixed(6), pt.lat.toFixed(6), placeController.signal);
    if (pt !== point) return;
    const props = (f) => (f && f.properties) || {};
    const inside = [...(at.heritage || []), ...(at.water_bodies || []), ...(at.parks || [])].map(props);
    const nh = props(at.nearest_heritage);
    const p = inside[0] || ((nh.distance_m ?? Infinity) <= NEAR_ENOUGH_M ? nh : null);
    point.place = p && (p.name || p.name_bn) ? { name: p.name || p.code, name_bn: p.name_bn } : null;
    point.ward = at.ward && at.ward.properties ? at.ward.properties.ward : null;
    if (visible) {
      render();
      placeMe();
    }
  } catch { /* the line stays without a place name */ }
}

function setPicking(on) {
  picking = on;
  const btn = $('#near-pick');
  btn.setAttribute('aria-pressed', String(on));
  if (on) {
    mapctl.setPickHandler((ll) => setPoint({ lon: ll.lng, lat: ll.lat }, 'point'));
    busy = 'near.pickHint';
  } else {
    mapctl.setPickHandler(null);
    if (busy === 'near.pickHint') busy = '';
  }
  if (visible) render();
}

function locate() {
  if (!navigator.geolocation) {
    error = new Error(t('report.geoUnsupported'));
    render();
    return;
  }
  busy = 'report.locating';
  error = null;
  render();
  navigator.geolocation.getCurrentPosition((pos) => {
    busy = '';
    setPoint({ lon: pos.coords.longitude, lat: pos.coords.latitude }, 'gps', pos.coords.accuracy);
    mapctl.flyTo(pos.coords.longitude, pos.coords.latitude, 16);
  }, (err) => {
    busy = '';
    error = new Error(t('report.geoFailed', { error: err.message || err.code }));
    render();
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
}

function placeMe() {
  if (!mapctl.map || !point) return;
  mapctl.showMe(point.lon, point.lat, fromText());
}

async function run() {
  if (!point) return;
  if (controller) controller.abort();
  controller = new AbortController();
  const mine = controller;
  error = null;
  busy = 'asset.loading';
  render();
  try {
    const fc = await api.nearby({
      lon: point.lon.toFixed(6), lat: point.lat.toFixed(6),
      radius_m: $('#near-radius').value, limit: 25, layers: $('#near-layers').value,
    }, mine.signal);
    if (mine !== controller) return;
    results = (fc.features || []).map((f) => ({ f, ...direction(f.geometry, point, f.properties.distance_m) }));
    busy = '';
    mapctl.highlight({ type: 'FeatureCollection', features: fc.features || [] });
  } catch (e) {
    if (e && e.name === 'AbortError') return;
    busy = '';
    error = e;
    results = [];
  }
  render();
}

// ---- geometry: the nearest point of an asset and the bearing to it -------------------------

/** Bearing (degrees from north, clockwise) from p to the nearest point of geom. */
export function direction(geom, p, distance) {
  if (!geom) return { bearing: null, inside: false };
  const rad = Math.PI / 180;
  const kx = 111320 * Math.cos(p.lat * rad);
  const ky = 110574;
  const xy = (c) => [(c[0] - p.lon) * kx, (c[1] - p.lat) * ky];
  let best = null;
  const consider = (x, y) => {
    const d2 = x * x + y * y;
    if (!best || d2 < best.d2) best = { d2, x, y };
  };
  const line = (coords) => {
    for (let i = 0; i < coords.length; i++) {
      const [ax, ay] = xy(coords[i]);
      if (i === 0 || coords.length === 1) consider(ax, ay);
      if (i + 1 >= coords.length) continue;
      const [bx, by] = xy(coords[i + 1]);
      const dx = bx - ax; const dy = by - ay;
      const len2 = dx * dx + dy * dy;
      const s = len2 ? Math.max(0, Math.min(1, -(ax * dx + ay * dy) / len2)) : 0;
      consider(ax + s * dx, ay + s * dy);
    }
  };
  // Even-odd crossing test over all rings of one polygon (so holes count).
  const inside = (rings) => {
    let c = false;
    for (const ring of rings) {
      for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
        const [xi, yi] = xy(ring[i]); const [xj, yj] = xy(ring[j]);
        if ((yi > 0) !== (yj > 0) && 0 < ((xj - xi) * (0 - yi)) / (yj - yi) + xi) c = !c;
      }
    }
    return c;
  };
  let isInside = false;
  const walk = (g) => {
    switch (g.type) {
      case 'Point': consider(...xy(g.coordinates)); break;
      case 'MultiPoint': g.coordinates.forEach((c) => consider(...xy(c))); break;
      case 'LineString': line(g.coordinates); break;
      case 'MultiLineString': g.coordinates.forEach(line); break;
      case 'Polygon': if (inside(g.coordinates)) isInside = true; g.coordinates.forEach(line); break;
      case 'MultiPolygon': g.coordinates.forEach((poly) => { if (inside(poly)) isInside = true; poly.forEach(line); }); break;
      case 'GeometryCollection': g.geometries.forEach(walk); break;
      default: break;
    }
  };
  walk(geom);
  if (isInside || distance === 0 || !best) return { bearing: null, inside: isInside || distance === 0 };
  let bearing = Math.atan2(best.x, best.y) / rad;
  if (bearing < 0) bearing += 360;
  return { bearing, inside: false };
}

export function compass(bearing) {
  return DIRS[Math.round(bearing / 45) % 8];
}

// ---- drawing ---------------------------------------------------------------------------------

function fromText() {
  if (!point) return '';
  const p = point.place;
  const name = p ? (getLang() === 'bn' && p.name_bn ? p.name_bn : p.name) : null;
  if (point.source === 'gps') {
    if (!point.accuracy) return name ? t('near.fromMeNear', { name }) : t('near.fromMe');
    const accuracy = fmtDistance(point.accuracy);
    return name ? t('near.fromGpsNear', { accuracy, name }) : t('near.fromGps', { accuracy });
  }
  return name ? t('near.fromNear', { name }) : t('near.from');
}

function render() {
  if (!visible) return;
  $('#near-from').textContent = fromText();
  // Following this place: the circle around the point, and the ward it is in.
  replace($('#near-feed'), point ? [feed.circleLink(point.lon, point.lat, 'near-feed-circle'), feed.wardLink(point.ward, 'near-feed-ward')] : null);
  $('#near-status').textContent = error ? t('near.error', { error: errorText(error) })
    : (busy && t(busy)) || (results ? (results.length ? tn('near.count', results.length) : t('near.none', { radius: fmtDistance(Number($('#near-radius').value)) })) : '');
  $('#near-status').classList.toggle('error', !!error);
  $('#view-near').classList.toggle('has-results', !!(results && results.length));
  const bn = getLang() === 'bn';
  replace($('#near-list'), (results || []).map(({ f, bearing, inside }, i) => {
    const p = f.properties || {};
    const name = bn && p.name_bn ? p.name_bn : (p.name || p.code || t('unnamed'));
    const dist = fmtDistance(p.distance_m);
    const dir = bearing === null ? null : compass(bearing);
    const where = inside ? t('near.here') : (dir ? t('near.directionLabel', { distance: dist, direction: t(`dir.${dir}`) }) : dist);
    const spoken = inside ? t('near.here') : (dir ? t('near.directionLabel', { distance: dist, direction: t(`dir.long.${dir}`) }) : dist);
    const id = p.code || p.id;
    // The button is named by its visible text (WCAG 2.5.3: what is seen is what can be
    // said to voice control); the compass point written out ("north-east") is its
    // description, for screen readers that would spell out "NE".
    const descId = `near-dir-${i}`;
    return h('li', null, h('button', {
      type: 'button', class: 'near-item',
      'aria-describedby': spoken !== where ? descId : null,
      onclick: () => ctx.navigate(`#asset/${encodeURIComponent(String(id))}`),
    },
    h('span', { class: `arrow${inside ? ' here' : ''}`, 'aria-hidden': 'true', style: bearing === null ? null : `transform: rotate(${Math.round(bearing)}deg)`, text: inside ? '●' : '↑' }),
    spoken !== where ? h('span', { id: descId, hidden: true, text: spoken }) : null,
    h('span', { class: 'near-text' },
      h('span', { class: 'near-dist', text: where }),
      h('span', { class: 'near-name', lang: bn && p.name_bn ? 'bn' : 'en', text: name }),
      h('span', { class: 'near-kind', text: [label('layer', p.layer), label('kind', p.kind)].filter(Boolean).join(' · ') }))));
  }));
}
