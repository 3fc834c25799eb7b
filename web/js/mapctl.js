// The map: creation, layer toggles, the highlighted selection, clicks, picking a point,
// planner filters and fresh complaint pins. Other modules call these helpers and never
// reach into the style themselves.
import * as maplibregl from '/vendor/maplibre-gl/maplibre-gl.mjs';
import { h, session, store } from './dom.js';
import { t, getLang, onLangChange, fmtDistance } from './i18n.js';

export { maplibregl };

const STYLE_URL = '/styles/heritage.json';
export const KOLKATA = { center: [88.3639, 22.5726], zoom: 12 };

// Layers (ids from styles/heritage.json) whose features can be clicked, topmost first.
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

// Style layer id prefix → layer toggle.
export const GROUPS = ['heritage', 'water_bodies', 'parks', 'wards', 'complaints'];
const PREFIX = { heritage: 'heritage-', water_bodies: 'water-', parks: 'parks-', wards: 'wards-', complaints: 'complaints' };

export let map = null;

let complaintsVersion = session.get('atlas.complaintsVersion');
let assetsVersion = session.get('atlas.assetsVersion');
let asOf = null; // 'YYYY-MM-DD' while the map shows the register as of that day
let editing = false; // while terra-draw has the map, clicks are its own
let paddingProvider = () => ({ top: 20, bottom: 20, left: 20, right: 20 });
let pickHandler = null;
const featureListeners = new Set();
const originalFilters = new Map();
const readyCallbacks = [];
let styleReady = false;

export function setPaddingProvider(fn) { paddingProvider = fn; }
export const padding = () => paddingProvider();

/** Runs fn once the style is loaded (at once if it already is). */
export function whenReady(fn) {
  if (styleReady) fn(map);
  else readyCallbacks.push(fn);
}

/** The initial view from a `#zoom/lat/lng` hash, if there is one. */
function viewFromHash() {
  const m = /^#(\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)\/(-?\d+(?:\.\d+)?)/.exec(window.location.hash);
  if (!m) return null;
  const [zoom, lat, lng] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (!(zoom >= 0 && zoom <= 22 && Math.abs(lat) <= 90 && Math.abs(lng) <= 180)) return null;
  return { center: [lng, lat], zoom };
}

// Tile archives (`pmtiles:///archives/NAME.pmtiles`, or `pmtiles://http://host/…`) are read
// in the page with HTTP range requests by the pmtiles package's MapLibre protocol. The
// package is fetched the first time a style or source names such an archive, so a page
// without one never loads it. One Protocol for the page: it keeps each archive's header
// and directories between tiles.
let archives = null;
function registerArchives() {
  if (registerArchives.done) return;
  registerArchives.done = true;
  maplibregl.addProtocol('pmtiles', async (params, abortController) => {
    if (!archives) {
      archives = import('/vendor/pmtiles/pmtiles.mjs').then((m) => new m.Protocol());
      archives.catch(() => { archives = null; }); // a failed fetch of the module is retried
    }
    return (await archives).tile(params, abortController);
  });
}

export function createMap(container) {
  const view = viewFromHash() || KOLKATA;
  registerArchives();
  map = new maplibregl.Map({
    container,
    style: STYLE_URL,
    center: view.center,
    zoom: view.zoom,
    maxZoom: 22,
    hash: false, // app.js keeps the URL: #asset/ID, #track/TICKET, … or #zoom/lat/lng
    attributionControl: false, // ours, below: its credit line follows the language
    locale: uiStrings(),
    transformRequest: (url, type) => {
      // Complaint pins change with every report: after filing or changing one, ask for
      // tiles under a new URL so no cached tile hides it.
      if (complaintsVersion && type === 'Tile' && url.includes('/tiles/complaints/')) {
        return { url: `${url}${url.includes('?') ? '&' : '?'}v=${complaintsVersion}` };
      }
      // Likewise asset tiles after staff record an inspection or edit the register (it
      // changes what the map shows); the browser would otherwise keep the old tile for 5
      // minutes. With "Map as of" on, the register of that day (asset tiles only: the
      // complaints layer is off meanwhile).
      if ((assetsVersion || asOf) && type === 'Tile' && url.includes('/tiles/') && !url.includes('/tiles/complaints/')) {
        const extra = [assetsVersion ? `v=${assetsVersion}` : null, asOf ? `as_of=${asOf}` : null].filter(Boolean).join('&');
        return { url: `${url}${url.includes('?') ? '&' : '?'}${extra}` };
      }
      return undefined;
    },
  });
  map.addControl(new maplibregl.NavigationControl({ visualizePitch: true }), 'top-right');
  map.addControl(new LocateControl(), 'top-right');
  map.addControl(new maplibregl.ScaleControl({ maxWidth: 120, unit: 'metric' }), 'bottom-left');
  // Before the credit control, so this runs first on each event: the sources' own
  // (English) credit is gone before the control reads it.
  map.on('sourcedata', dropSourceCredits);
  map.on('styledata', dropSourceCredits);
  map.on('styledata', () => { if (hasBasemap() !== creditNamesOsm) addCredit(); });
  addCredit();
  onLangChange(addCredit); // first: the new control then gets relabelled with the rest
  onLangChange(relabelControls);

  map.on('error', (e) => {
    // Tile/glyph fetch failures land here; keep them in the console, not in the UI.
    console.warn('map error:', e && e.error ? e.error : e);
  });

  // The style names places in the language held in its global state `lang`: Bengali
  // names (shaped by the browser with the style's Bengali font faces) or English.
  onLangChange((lang) => { if (styleReady) map.setGlobalStateProperty('lang', lang); });

  map.once('load', () => {
    map.setGlobalStateProperty('lang', getLang());
    addSelectionLayers();
    addScreeningLayers();
    for (const id of map.getStyle().layers.map((l) => l.id)) originalFilters.set(id, map.getFilter(id));
    const saved = store.get('atlas.layers', {});
    for (const g of GROUPS) if (saved[g] === false) setGroupVisible(g, false);
    styleReady = true;
    for (const fn of readyCallbacks.splice(0)) fn(map);
  });

  const clickable = () => CLICKABLE.filter((id) => map.getLayer(id));

  map.on('click', (e) => {
    if (editing) return;
    const pad = 6; // px of slack so thin canals and small circles are easy to hit
    const box = [[e.point.x - pad, e.point.y - pad], [e.point.x + pad, e.point.y + pad]];
    const features = map.queryRenderedFeatures(box, { layers: clickable() });
    if (pickHandler) {
      pickHandler(e.lngLat, features);
      return;
    }
    if (!features.length) return;
    for (const fn of featureListeners) fn(features[0], e.lngLat);
  });

  map.on('mousemove', (e) => {
    if (editing) return; // terra-draw sets the cursor
    if (pickHandler) {
      map.getCanvas().style.cursor = 'crosshair';
      return;
    }
    const hit = map.queryRenderedFeatures(e.point, { layers: clickable() }).length > 0;
    map.getCanvas().style.cursor = hit ? 'pointer' : '';
  });
  return map;
}

/** MapLibre's interface strings (English only in MapLibre) in the page's language. */
function uiStrings() {
  return {
    'Map.Title': t('map.canvas'),
    'Marker.Title': t('map.marker'),
    'NavigationControl.ZoomIn': t('map.zoomIn'),
    'NavigationControl.ZoomOut': t('map.zoomOut'),
    'NavigationControl.ResetBearing': t('map.resetBearing'),
    'AttributionControl.ToggleAttribution': t('map.attribution'),
  };
}

// ---- the credit line ------------------------------------------------------------------------

let credit = null;
let creditNamesOsm = false;

// The street basemap is OpenStreetMap data (ODbL), which must be credited wherever it is
// shown. The words are the ones OSM asks for, in English in both languages (a name and a
// licence notice); `lang` says so to screen readers.
const OSM_CREDIT = '<a href="https://www.openstreetmap.org/copyright" target="_blank" rel="noopener" lang="en">© OpenStreetMap contributors</a>';

/** Whether the style has the street basemap (the server adds it with `--basemap`). */
function hasBasemap() {
  const sheet = map && map.style && map.style.stylesheet;
  if (!sheet) return false;
  return Boolean((sheet.metadata && sheet.metadata['heritage-atlas:basemap']) || (sheet.sources && sheet.sources.basemap));
}

/**
 * The credit line in the page's language. The tile sources name the same credit in
 * English (TileJSON `attribution`), and MapLibre would show both: theirs is dropped and
 * ours, translated, is the one line (with OpenStreetMap's when the basemap is on). A
 * language switch replaces the control; so does a style that turns the basemap on or off.
 */
function addCredit() {
  if (!map) return;
  const wasOpen = credit && credit._container && credit._container.classList.contains('maplibregl-compact-show');
  if (credit) map.removeControl(credit);
  creditNamesOsm = hasBasemap();
  const customAttribution = creditNamesOsm ? [t('map.credit'), OSM_CREDIT] : t('map.credit');
  credit = new maplibregl.AttributionControl({ compact: true, customAttribution });
  map.addControl(credit, 'bottom-right');
  if (!wasOpen && credit._container && window.matchMedia('(max-width: 700px)').matches) {
    credit._container.classList.remove('maplibregl-compact-show');
  }
}

/** Drops the sources' own credit (TileJSON `attribution`): ours says it, translated. */
function dropSourceCredits() {
  const style = map.style && map.style.stylesheet ? map.getStyle() : null;
  for (const id of Object.keys(style ? style.sources : {})) {
    const src = map.getSource(id);
    if (src && src.attribution) src.attribution = undefined;
  }
}

// ---- locate me ------------------------------------------------------------------------------

let meMarker = null;
const locateListeners = new Set();

/** fn({lon, lat, accuracy}) each time the map's locate button finds the user. */
export function onLocate(fn) { locateListeners.add(fn); }

/** A small "you are here" dot (one for the whole app). */
export function showMe(lon, lat, text) {
  if (!map) return;
  if (!meMarker) meMarker = new maplibregl.Marker({ element: h('div', { class: 'me-dot', role: 'img' }) });
  meMarker.getElement().setAttribute('aria-label', text || t('map.youAreHere'));
  meMarker.setLngLat([lon, lat]).addTo(map);
}

export function hideMe() {
  if (meMarker) meMarker.remove();
}

/** Says something about the map for a few seconds (a locate failure). */
function toast(text) {
  const el = document.getElementById('map-toast');
  if (!el) return;
  el.textContent = text;
  el.hidden = !text;
  clearTimeout(toast.timer);
  if (text) toast.timer = setTimeout(() => { el.hidden = true; el.textContent = ''; }, 6000);
}

/**
 * The map's own locate button (under the zoom buttons): flies to the browser's location,
 * leaving room for the panel, and marks it. MapLibre's GeolocateControl would fit without
 * that room and with English strings, so this is a small one of ours in its style.
 */
class LocateControl {
  onAdd() {
    this.button = h('button', {
      type: 'button', class: 'maplibregl-ctrl-geolocate', title: t('map.locate'), 'aria-label': t('map.locate'),
      onclick: () => this.locate(),
    }, h('span', { class: 'maplibregl-ctrl-icon', 'aria-hidden': 'true' }));
    this.container = h('div', { class: 'maplibregl-ctrl maplibregl-ctrl-group' }, this.button);
    return this.container;
  }

  onRemove() { this.container.remove(); }

  locate() {
    if (!navigator.geolocation) {
      toast(t('map.locateUnsupported'));
      return;
    }
    this.button.classList.add('maplibregl-ctrl-geolocate-waiting');
    toast(t('map.locating'));
    navigator.geolocation.getCurrentPosition((pos) => {
      this.button.classList.remove('maplibregl-ctrl-geolocate-waiting');
      this.button.classList.add('maplibregl-ctrl-geolocate-active');
      toast('');
      const { longitude: lon, latitude: lat, accuracy } = pos.coords;
      showMe(lon, lat, `${t('map.youAreHere')} (±${fmtDistance(accuracy)})`);
      flyTo(lon, lat, 16);
      for (const fn of locateListeners) fn({ lon, lat, accuracy });
    }, (err) => {
      this.button.classList.remove('maplibregl-ctrl-geolocate-waiting');
      toast(t('map.locateFailed', { error: err.message || err.code }));
    }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 30000 });
  }
}

/** MapLibre reads its strings once, when a control is added: relabel after a language switch. */
function relabelControls() {
  if (!map) return;
  const root = map.getContainer();
  const set = (selector, text, title = true) => {
    for (const el of root.querySelectorAll(selector)) {
      el.setAttribute('aria-label', text);
      if (title) el.title = text;
    }
  };
  set('canvas.maplibregl-canvas', t('map.canvas'), false);
  set('.maplibregl-ctrl-zoom-in', t('map.zoomIn'));
  set('.maplibregl-ctrl-zoom-out', t('map.zoomOut'));
  set('.maplibregl-ctrl-compass', t('map.resetBearing'));
  set('.maplibregl-ctrl-attrib-button', t('map.attribution'));
  set('.maplibregl-ctrl-geolocate', t('map.locate'));
}

export function onFeatureClick(fn) { featureListeners.add(fn); }

/** While on, clicks on the map are terra-draw's (drawing, dragging corners), not ours. */
export function setEditing(on) {
  editing = !!on;
  if (map && !on) map.getCanvas().style.cursor = '';
}

/**
 * While set, a click on the map calls fn(lngLat, features) instead of opening what is
 * there: `features` are the clickable features under the pointer, topmost first.
 */
export function setPickHandler(fn) {
  pickHandler = fn;
  if (map) map.getCanvas().style.cursor = fn ? 'crosshair' : '';
}

// ---- layer toggles -------------------------------------------------------------------

function groupLayerIds(group) {
  const prefix = PREFIX[group];
  return map.getStyle().layers.map((l) => l.id).filter((id) => id === prefix || id.startsWith(prefix));
}

export function setGroupVisible(group, visible) {
  if (!map) return;
  const saved = store.get('atlas.layers', {});
  saved[group] = visible;
  store.set('atlas.layers', saved);
  showGroup(group, visible);
}

/** Shows or hides a group's style layers (complaints stay off while the map is as of a day). */
function showGroup(group, visible) {
  const on = visible && !(group === 'complaints' && asOf);
  for (const id of groupLayerIds(group)) map.setLayoutProperty(id, 'visibility', on ? 'visible' : 'none');
}

export function isGroupVisible(group) {
  const saved = store.get('atlas.layers', {});
  return saved[group] !== false;
}

// ---- selection highlight ---------------------------------------------------------------

const EMPTY = { type: 'FeatureCollection', features: [] };

function addSelectionLayers() {
  map.addSource('selection', { type: 'geojson', data: EMPTY });
  map.addLayer({
    id: 'selection-fill', type: 'fill', source: 'selection',
    filter: ['==', ['geometry-type'], 'Polygon'],
    paint: { 'fill-color': '#0b5394', 'fill-opacity': 0.12 },
  });
  map.addLayer({
    id: 'selection-casing', type: 'line', source: 'selection',
    filter: ['!=', ['geometry-type'], 'Point'],
    paint: { 'line-color': '#ffffff', 'line-width': 6, 'line-opacity': 0.9 },
  });
  map.addLayer({
    id: 'selection-line', type: 'line', source: 'selection',
    filter: ['!=', ['geometry-type'], 'Point'],
    paint: { 'line-color': '#0b5394', 'line-width': 3 },
  });
  map.addLayer({
    id: 'selection-point', type: 'circle', source: 'selection',
    filter: ['==', ['geometry-type'], 'Point'],
    paint: {
      'circle-radius': 13, 'circle-color': 'rgba(0,0,0,0)',
      'circle-stroke-color': '#0b5394', 'circle-stroke-width': 3,
    },
  });
  // Two states of an asset side by side (a proposal, a version and the one before it):
  // before dashed amber, after solid violet, neither the selection's blue.
  map.addSource('compare', { type: 'geojson', data: EMPTY });
  const role = (r) => ['==', ['get', 'role'], r];
  const notPoint = ['!=', ['geometry-type'], 'Point'];
  const isPoint = ['==', ['geometry-type'], 'Point'];
  map.addLayer({
    id: 'compare-after-fill', type: 'fill', source: 'compare',
    filter: ['all', role('after'), ['==', ['geometry-type'], 'Polygon']],
    paint: { 'fill-color': COMPARE.after, 'fill-opacity': 0.15 },
  });
  map.addLayer({
    id: 'compare-casing', type: 'line', source: 'compare', filter: notPoint,
    paint: { 'line-color': '#ffffff', 'line-width': 6, 'line-opacity': 0.85 },
  });
  map.addLayer({
    id: 'compare-before-line', type: 'line', source: 'compare', filter: ['all', role('before'), notPoint],
    paint: { 'line-color': COMPARE.before, 'line-width': 3, 'line-dasharray': [2, 1.5] },
  });
  map.addLayer({
    id: 'compare-after-line', type: 'line', source: 'compare', filter: ['all', role('after'), notPoint],
    paint: { 'line-color': COMPARE.after, 'line-width': 3 },
  });
  map.addLayer({
    id: 'compare-before-point', type: 'circle', source: 'compare', filter: ['all', role('before'), isPoint],
    paint: { 'circle-radius': 11, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': COMPARE.before, 'circle-stroke-width': 3 },
  });
  map.addLayer({
    id: 'compare-after-point', type: 'circle', source: 'compare', filter: ['all', role('after'), isPoint],
    paint: { 'circle-radius': 6, 'circle-color': COMPARE.after, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
  });
}

/** The colours of the two states compared on the map (the panel's key uses them too). */
export const COMPARE = { before: '#b45309', after: '#6d28d9' };

/**
 * Draws two states of an asset: `before` dashed, `after` solid (either may be null), and
 * fits the map to both.
 */
export function compare(before, after, { fit = true } = {}) {
  whenReady(() => {
    const features = [];
    for (const [r, g] of [['before', before], ['after', after]]) {
      const geom = g && g.type === 'Feature' ? g.geometry : g;
      if (geom) features.push({ type: 'Feature', properties: { role: r }, geometry: geom });
    }
    map.getSource('compare').setData({ type: 'FeatureCollection', features });
    if (!fit || !features.length) return;
    const boxes = features.map((f) => geometryBbox(f.geometry)).filter(Boolean);
    const b = boxes.reduce((a, x) => [Math.min(a[0], x[0]), Math.min(a[1], x[1]), Math.max(a[2], x[2]), Math.max(a[3], x[3])]);
    fitBbox(b, 18);
  });
}

export function clearCompare() { compare(null, null, { fit: false }); }

/** Outlines a geometry (or Feature, or FeatureCollection) on the map. */
export function highlight(geo) {
  whenReady(() => {
    let data = EMPTY;
    if (geo && geo.type === 'FeatureCollection') data = geo;
    else if (geo && geo.type === 'Feature') data = { type: 'FeatureCollection', features: [geo] };
    else if (geo && geo.type) data = { type: 'FeatureCollection', features: [{ type: 'Feature', properties: {}, geometry: geo }] };
    map.getSource('selection').setData(data);
  });
}

export function clearHighlight() { highlight(null); }

// ---- heritage-impact screening ----------------------------------------------------------------

/** The colours of a screening on the map: the work, and what was found within reach. */
export const SCREENING = { work: '#4a148c', found: '#c2185b' };

function addScreeningLayers() {
  map.addSource('screening', { type: 'geojson', data: EMPTY });
  const role = (r) => ['==', ['get', 'role'], r];
  const polygon = ['==', ['geometry-type'], 'Polygon'];
  const notPoint = ['!=', ['geometry-type'], 'Point'];
  const isPoint = ['==', ['geometry-type'], 'Point'];
  map.addLayer({
    id: 'screening-found-fill', type: 'fill', source: 'screening', filter: ['all', role('found'), polygon],
    paint: { 'fill-color': SCREENING.found, 'fill-opacity': 0.25 },
  });
  map.addLayer({
    id: 'screening-work-fill', type: 'fill', source: 'screening', filter: ['all', role('work'), polygon],
    paint: { 'fill-color': SCREENING.work, 'fill-opacity': 0.12 },
  });
  map.addLayer({
    id: 'screening-casing', type: 'line', source: 'screening', filter: notPoint,
    paint: { 'line-color': '#ffffff', 'line-width': ['case', role('work'), 8, 5], 'line-opacity': 0.9 },
  });
  map.addLayer({
    id: 'screening-found-line', type: 'line', source: 'screening', filter: ['all', role('found'), notPoint],
    paint: { 'line-color': SCREENING.found, 'line-width': 2.5 },
  });
  map.addLayer({
    id: 'screening-work-line', type: 'line', source: 'screening', filter: ['all', role('work'), notPoint],
    paint: { 'line-color': SCREENING.work, 'line-width': 4 },
  });
  map.addLayer({
    id: 'screening-found-point', type: 'circle', source: 'screening', filter: ['all', role('found'), isPoint],
    paint: { 'circle-radius': 9, 'circle-color': 'rgba(0,0,0,0)', 'circle-stroke-color': SCREENING.found, 'circle-stroke-width': 3 },
  });
  map.addLayer({
    id: 'screening-work-point', type: 'circle', source: 'screening', filter: ['all', role('work'), isPoint],
    paint: { 'circle-radius': 7, 'circle-color': SCREENING.work, 'circle-stroke-color': '#ffffff', 'circle-stroke-width': 2 },
  });
}

/** GeoJSON features of one geometry, split so each part takes its layer's filter. */
function parts(geometry, properties) {
  if (!geometry) return [];
  if (geometry.type === 'GeometryCollection') return geometry.geometries.flatMap((g) => parts(g, properties));
  return [{ type: 'Feature', properties, geometry }];
}

/**
 * Draws a screening: the work (a geometry, or null when it is not known here) and the
 * features found (the answer's GeoJSON features), and fits the map to both.
 */
export function showScreening(work, found, { fit = true } = {}) {
  whenReady(() => {
    const features = [...parts(work, { role: 'work' }), ...found.flatMap((f) => parts(f.geometry, { role: 'found', code: f.properties && f.properties.code }))];
    map.getSource('screening').setData({ type: 'FeatureCollection', features });
    if (!fit || !features.length) return;
    const boxes = features.map((f) => geometryBbox(f.geometry)).filter(Boolean);
    if (!boxes.length) return;
    const b = boxes.reduce((a, x) => [Math.min(a[0], x[0]), Math.min(a[1], x[1]), Math.max(a[2], x[2]), Math.max(a[3], x[3])]);
    // A margin inside the room the panel leaves: the report's picture of it has an edge.
    fitBbox(b, 17, window.innerWidth > 700 ? 30 : 10);
  });
}

export function clearScreening() {
  whenReady(() => map.getSource('screening').setData(EMPTY));
}

/** Resolves once the map has stopped moving and drawn every tile it asked for (or after `ms`). */
function settled(ms = 15000) {
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, ms);
    map.once('idle', () => { clearTimeout(timer); resolve(); });
    map.triggerRepaint(); // an idle map fires no further `idle` without a frame
  });
}

/**
 * A picture of the map as it stands once settled: {url (PNG data URL), width, height} of
 * the part the panel leaves free (what a fit shows), or null. The map is made without
 * `preserveDrawingBuffer` (it costs every frame), so the canvas is read inside the `render`
 * event of a frame asked for here, while that frame's buffer is still whole.
 */
export function snapshot() {
  return new Promise((resolve) => {
    whenReady(async () => {
      await settled();
      const canvas = map.getCanvas();
      const scale = canvas.width / canvas.clientWidth || 1;
      const pad = padding();
      const w = canvas.clientWidth;
      const hgt = canvas.clientHeight;
      // The free part, with a margin; the whole map if that leaves too little.
      let x0 = Math.max(0, pad.left - 10);
      let y0 = Math.max(0, pad.top - 10);
      let x1 = Math.min(w, w - pad.right + 10);
      let y1 = Math.min(hgt, hgt - pad.bottom + 10);
      if (x1 - x0 < 200 || y1 - y0 < 150) [x0, y0, x1, y1] = [0, 0, w, hgt];
      const timer = setTimeout(() => resolve(null), 5000);
      map.once('render', () => {
        clearTimeout(timer);
        try {
          const out = document.createElement('canvas');
          out.width = Math.round((x1 - x0) * scale);
          out.height = Math.round((y1 - y0) * scale);
          out.getContext('2d').drawImage(canvas, x0 * scale, y0 * scale, out.width, out.height, 0, 0, out.width, out.height);
          resolve({ url: out.toDataURL('image/png'), width: Math.round(x1 - x0), height: Math.round(y1 - y0) });
        } catch (e) {
          console.warn('map picture:', e);
          resolve(null);
        }
      });
      map.triggerRepaint();
    });
  });
}

// ---- moving the map ----------------------------------------------------------------------

/** [minx, miny, maxx, maxy] of any GeoJSON geometry. */
export function geometryBbox(geom) {
  const b = [Infinity, Infinity, -Infinity, -Infinity];
  const walk = (c) => {
    if (typeof c[0] === 'number') {
      b[0] = Math.min(b[0], c[0]); b[1] = Math.min(b[1], c[1]);
      b[2] = Math.max(b[2], c[0]); b[3] = Math.max(b[3], c[1]);
    } else c.forEach(walk);
  };
  if (!geom) return null;
  if (geom.type === 'GeometryCollection') geom.geometries.forEach((g) => walk(g.coordinates));
  else walk(geom.coordinates);
  return Number.isFinite(b[0]) ? b : null;
}

const reduced = () => window.matchMedia('(prefers-reduced-motion: reduce)').matches;

/** Fits the map to `bbox` in the room the panel leaves, with `margin` px more on each side. */
export function fitBbox(bbox, maxZoom = 17, margin = 0) {
  if (!map || !bbox) return;
  const p = padding();
  const room = margin ? { top: p.top + margin, bottom: p.bottom + margin, left: p.left + margin, right: p.right + margin } : p;
  const opts = { padding: room, maxZoom, duration: reduced() ? 0 : 900 };
  try {
    map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], opts);
  } catch {
    // padding larger than the map (tiny screens): fit without it
    map.fitBounds([[bbox[0], bbox[1]], [bbox[2], bbox[3]]], { maxZoom, duration: 0 });
  }
}

/**
 * Flies to a point, putting it in the middle of the room the panel leaves. As an
 * `offset`, not `padding`: MapLibre keeps a flight's padding afterwards and adds it to
 * the next fitBounds' own, which then no longer fits a phone's map ("Map cannot fit
 * within canvas").
 */
export function flyTo(lon, lat, zoom = 17) {
  if (!map) return;
  const p = padding();
  const offset = [(p.left - p.right) / 2, (p.top - p.bottom) / 2];
  try {
    map.flyTo({ center: [lon, lat], zoom: Math.max(zoom, map.getZoom()), offset, duration: reduced() ? 0 : 900 });
  } catch {
    map.jumpTo({ center: [lon, lat], zoom });
  }
}

/** '#zoom/lat/lng' of the current view (MapLibre's own hash format and precision). */
export function positionHash() {
  if (!map) return '#';
  const c = map.getCenter();
  const z = Math.round(map.getZoom() * 100) / 100;
  const prec = Math.min(7, Math.max(0, Math.ceil((z * Math.LN2 + Math.log(512 / 360 / 0.5)) / Math.LN10)));
  return `#${z}/${c.lat.toFixed(prec)}/${c.lng.toFixed(prec)}`;
}

/** The map's visible area as [minx, miny, maxx, maxy], rounded to ~10 cm. */
export function viewBbox() {
  const b = map.getBounds();
  const r = (v) => Math.round(v * 1e6) / 1e6;
  return [r(Math.max(-180, b.getWest())), r(Math.max(-90, b.getSouth())), r(Math.min(180, b.getEast())), r(Math.min(90, b.getNorth()))];
}

// ---- complaint pins -----------------------------------------------------------------------

/** Asks for complaint tiles afresh (after a complaint was filed or changed). */
export function refreshComplaints() {
  complaintsVersion = Date.now().toString(36);
  session.set('atlas.complaintsVersion', complaintsVersion);
  whenReady(() => {
    const src = map.getSource('complaints');
    if (!src) return;
    if (typeof map.refreshTiles === 'function') map.refreshTiles('complaints');
    else if (src.tiles) src.setTiles(src.tiles.map((u) => u.split('?')[0]));
  });
}

// ---- the register as of a day ---------------------------------------------------------------

const asOfListeners = new Set();
/** fn(date or null) when the map starts or stops showing the register as of a day. */
export function onAsOf(fn) { asOfListeners.add(fn); }
export const getAsOf = () => asOf;

/**
 * Shows the register as it stood at the end of `date` (YYYY-MM-DD; null: today's): the
 * asset tiles are asked for again with `as_of`, and complaints (not versioned) are off
 * meanwhile.
 */
export function setAsOf(date) {
  const next = date || null;
  if (next === asOf) return;
  asOf = next;
  whenReady(() => {
    showGroup('complaints', isGroupVisible('complaints'));
    if (typeof map.refreshTiles === 'function') map.refreshTiles('atlas');
  });
  for (const fn of asOfListeners) fn(asOf);
}

/** Asks for fresh asset tiles (after an inspection changed what the map shows). */
export function refreshAssets() {
  assetsVersion = Date.now().toString(36);
  session.set('atlas.assetsVersion', assetsVersion);
  whenReady(() => {
    const src = map.getSource('atlas');
    if (!src) return;
    if (typeof map.refreshTiles === 'function') map.refreshTiles('atlas');
    else if (src.tiles) src.setTiles(src.tiles.map((u) => u.split('?')[0]));
  });
}

// ---- planner filters -----------------------------------------------------------------------

/**
 * Shows only features of `group` whose properties equal `conds` ({kind, grade, condition});
 * null clears every planner filter.
 */
export function setPlannerFilter(group, conds) {
  whenReady(() => {
    for (const [id, orig] of originalFilters) {
      if (id.startsWith('selection')) continue;
      const layer = map.getLayer(id);
      if (!layer) continue;
      const mine = group && (id === PREFIX[group] || id.startsWith(PREFIX[group]));
      let extra = [];
      if (mine && conds) {
        const isLabel = layer.sourceLayer === 'labels';
        for (const [k, v] of Object.entries(conds)) {
          if (v === undefined || v === null || v === '') continue;
          if (isLabel && k === 'condition') continue; // label points carry no condition
          extra.push(['==', ['to-string', ['get', k]], String(v)]);
        }
      }
      const next = extra.length ? (orig ? ['all', orig, ...extra] : ['all', ...extra]) : (orig ?? null);
      map.setFilter(id, next);
    }
  });
}

// ---- the wards shaded by a figure (the dashboard's choropleth) ---------------------------------

const CHORO = 'choropleth';
let choroData = null;

/**
 * Shades the wards: `wards` is their FeatureCollection (each with a `ward` number),
 * `classOf` maps a ward number to its class (0 … colours.length − 1; −1 or missing: no
 * value, drawn in `none`). The class is each ward's feature state, so a new figure only
 * changes states, and `map.getFeatureState({source: 'choropleth', id: WARD})` says what
 * is drawn. Under every layer of ours (over the street basemap): assets, outlines and labels
 * stay on top.
 */
export function showChoropleth(wards, classOf, colours, none) {
  whenReady(() => {
    if (!map.getSource(CHORO)) {
      map.addSource(CHORO, { type: 'geojson', data: wards, promoteId: 'ward' });
      // Above the street basemap (if on), so its fills and roads do not hide the shading.
      const first = map.getStyle().layers.find((l) => l.type !== 'background' && l.source !== 'basemap');
      map.addLayer({ id: `${CHORO}-fill`, type: 'fill', source: CHORO, paint: { 'fill-opacity': 0.72 } }, first ? first.id : undefined);
      choroData = wards;
    } else if (choroData !== wards) {
      map.getSource(CHORO).setData(wards);
      choroData = wards;
    }
    const match = ['match', ['coalesce', ['feature-state', 'class'], -1]];
    colours.forEach((c, i) => match.push(i, c));
    match.push(none);
    map.setPaintProperty(`${CHORO}-fill`, 'fill-color', match);
    for (const f of wards.features) {
      const w = f.properties && f.properties.ward;
      if (w === undefined || w === null) continue;
      const c = classOf.get(Number(w));
      map.setFeatureState({ source: CHORO, id: Number(w) }, { class: c === undefined ? -1 : c });
    }
    map.setLayoutProperty(`${CHORO}-fill`, 'visibility', 'visible');
  });
}

/** Takes the shading off the map (leaving the dashboard). */
export function hideChoropleth() {
  whenReady(() => {
    if (map.getLayer(`${CHORO}-fill`)) map.setLayoutProperty(`${CHORO}-fill`, 'visibility', 'none');
  });
}
