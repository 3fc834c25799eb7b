// Heritage Atlas front end. Plain ES module, no bundler: MapLibre GL JS 6 is ESM-only
// and is vendored under /vendor/maplibre-gl/ (see docs/frontend.md). The worker
// (/vendor/maplibre-gl/maplibre-gl-worker.mjs) is found relative to that module's URL.
import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';

const STYLE_URL = '/styles/heritage.json';

// Layers (ids from styles/heritage.json) whose features open a popup on click,
// topmost first.
const CLICKABLE = [
  'complaints',
  'heritage-point',
  'heritage-fill',
  'water-point',
  'water-canal',
  'water-fill',
  'water-wetland-fill',
  'parks-point',
  'parks-fill',
];

const LAYER_TITLES = {
  heritage: 'Heritage',
  water_bodies: 'Water body',
  parks: 'Park',
  complaints: 'Complaint',
};

function showError(message) {
  const el = document.getElementById('map-error');
  el.textContent = message;
  el.hidden = false;
}

function humanise(value) {
  return String(value).replace(/_/g, ' ');
}

// A complaint's `created_at` (RFC 3339) as a Kolkata date and time; the raw text if it
// does not parse.
function formatCreated(value) {
  const d = new Date(String(value));
  if (Number.isNaN(d.getTime())) return String(value);
  try {
    return d.toLocaleString('en-IN', { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Kolkata' });
  } catch {
    return d.toISOString();
  }
}

// Builds the popup body with DOM nodes and textContent only: tile attributes are
// data, never markup.
function popupContent(feature) {
  const p = feature.properties || {};
  const layer = feature.sourceLayer;
  const root = document.createElement('div');
  root.className = 'atlas-popup';

  const title = document.createElement('h2');
  title.className = 'atlas-popup-title';
  if (layer === 'complaints') {
    title.textContent = p.ticket != null ? `Complaint ${p.ticket}` : 'Complaint';
  } else {
    title.textContent = p.name != null && p.name !== '' ? String(p.name) : (p.code != null ? String(p.code) : 'Unnamed');
  }
  root.appendChild(title);

  const rows = [];
  rows.push(['Layer', LAYER_TITLES[layer] || humanise(layer)]);
  if (layer === 'complaints') {
    if (p.category != null) rows.push(['Category', humanise(p.category)]);
    if (p.status != null) rows.push(['Status', humanise(p.status)]);
    if (p.created_at != null) rows.push(['Filed', formatCreated(p.created_at)]);
  } else {
    if (p.kind != null) rows.push(['Kind', humanise(p.kind)]);
    if (layer === 'heritage') rows.push(['Grade', p.grade != null && p.grade !== '' ? String(p.grade) : 'ungraded']);
    if (p.condition != null) rows.push(['Condition', humanise(p.condition)]);
    if (layer === 'water_bodies' && p.status != null) rows.push(['Status', humanise(p.status)]);
  }
  if (p.ward != null) rows.push(['Ward', String(p.ward)]);
  if (p.code != null && layer !== 'complaints') rows.push(['Code', String(p.code)]);

  const dl = document.createElement('dl');
  for (const [label, value] of rows) {
    const dt = document.createElement('dt');
    dt.textContent = label;
    const dd = document.createElement('dd');
    dd.textContent = value;
    dl.append(dt, dd);
  }
  root.appendChild(dl);

  if (layer === 'complaints' && p.ticket != null && p.ticket !== '') {
    // The public record of the complaint (JSON). The ticket is data: it goes into the
    // URL percent-encoded and into the page as text only.
    const link = document.createElement('a');
    link.className = 'atlas-popup-link';
    link.href = `/complaints/${encodeURIComponent(String(p.ticket))}`;
    link.target = '_blank';
    link.rel = 'noopener';
    link.textContent = 'Complaint record (JSON)';
    const para = document.createElement('p');
    para.appendChild(link);
    root.appendChild(para);
  }
  return root;
}

function start() {
  // Keep the legend out of the way on small screens; it stays one click away.
  const legend = document.querySelector('#legend details');
  if (legend && window.matchMedia('(max-width: 640px)').matches) legend.open = false;

  let map;
  try {
    map = new maplibregl.Map({
      container: 'map',
      style: STYLE_URL,
      center: [88.3639, 22.5726],
      zoom: 12,
      maxZoom: 22,
      hash: true,
      attributionControl: { compact: true, customAttribution: 'Kolkata Municipal Corporation' },
      locale: { 'Map.Title': 'Map of Kolkata heritage sites and water bodies' },
    });
  } catch (err) {
    showError(`The map could not start (${err && err.message ? err.message : err}). A browser with WebGL is needed.`);
    return;
  }
  window.map = map;
  window.maplibregl = maplibregl;

  map.addControl(new maplibregl.NavigationControl({ visualizePitch: true }), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ maxWidth: 120, unit: 'metric' }), 'bottom-left');

  map.on('error', (e) => {
    // Tile/glyph fetch failures land here; keep them in the console, not in the UI.
    console.warn('map error:', e && e.error ? e.error : e);
  });

  const popup = new maplibregl.Popup({ closeButton: true, closeOnClick: true, maxWidth: '280px' });

  const clickableLayers = () => CLICKABLE.filter((id) => map.getLayer(id));

  map.on('click', (e) => {
    const pad = 4; // px of slack so thin canals and small circles are easy to hit
    const box = [[e.point.x - pad, e.point.y - pad], [e.point.x + pad, e.point.y + pad]];
    const features = map.queryRenderedFeatures(box, { layers: clickableLayers() });
    if (!features.length) return;
    popup.setLngLat(e.lngLat).setDOMContent(popupContent(features[0])).addTo(map);
  });

  map.on('mousemove', (e) => {
    const hit = map.queryRenderedFeatures(e.point, { layers: clickableLayers() }).length > 0;
    map.getCanvas().style.cursor = hit ? 'pointer' : '';
  });
}

start();
