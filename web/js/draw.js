// Drawing and reshaping outlines on the map with terra-draw (vendored under
// /vendor/terra-draw/, see docs/frontend.md), fetched the first time staff edit or add
// an asset: citizens never download it. One session at a time: `edit(geometry)` puts an
// asset's outline into terra-draw's select mode (drag a corner; drag a midpoint to add
// one), `draw(shape)` lets staff draw a new polygon, line or point. `geometry()` is the
// result as GeoJSON (several polygons come back as one MultiPolygon).
//
// The same can be done without a pointer: corners are listed (`corners()`), and one can
// be moved to the centre of the map, or added there (`moveCorner`, `addCorner`); keyboard
// users pan the map with the arrow keys first, as for a complaint's pin.
import * as mapctl from './mapctl.js';

let lib = null;
/** terra-draw and its MapLibre adapter, fetched once. */
function load() {
  if (!lib) {
    lib = Promise.all([
      import('/vendor/terra-draw/terra-draw.modern.js'),
      import('/vendor/terra-draw/terra-draw-maplibre-gl-adapter.modern.js'),
    ]).then(([td, adapter]) => ({ td, Adapter: adapter.TerraDrawMapLibreGLAdapter }));
    lib.catch(() => { lib = null; });
  }
  return lib;
}

const BLUE = '#0b5394';
const ORANGE = '#e0601a';

let session = null; // {draw, shape, ids, listeners, kind: 'edit'|'draw'}

/** Whether a session is open. */
export const active = () => !!session;

function modesFor(td, shape) {
  const feature = {
    feature: {
      draggable: false, // a whole outline dragged by a slip of the finger is not wanted
      coordinates: { draggable: true, midpoints: { draggable: true }, deletable: true },
    },
  };
  const select = new td.TerraDrawSelectMode({
    flags: { polygon: feature, linestring: feature, point: { feature: { draggable: true } } },
    keyEvents: { deselect: null, delete: null, rotate: null, scale: null },
    allowManualDeselection: false,
    styles: {
      selectedPolygonColor: ORANGE, selectedPolygonFillOpacity: 0.2, selectedPolygonOutlineColor: ORANGE, selectedPolygonOutlineWidth: 3,
      selectedLineStringColor: ORANGE, selectedLineStringWidth: 4,
      selectedPointColor: ORANGE, selectedPointWidth: 9, selectedPointOutlineColor: '#ffffff', selectedPointOutlineWidth: 2,
      selectionPointColor: '#ffffff', selectionPointOutlineColor: ORANGE, selectionPointWidth: 7, selectionPointOutlineWidth: 3,
      midPointColor: ORANGE, midPointOutlineColor: '#ffffff', midPointWidth: 4, midPointOutlineWidth: 1,
    },
  });
  const modes = [select];
  const lines = { fillColor: BLUE, fillOpacity: 0.15, outlineColor: BLUE, outlineWidth: 3, closingPointColor: ORANGE, closingPointWidth: 7 };
  if (shape === 'polygon') modes.push(new td.TerraDrawPolygonMode({ styles: lines, keyEvents: { cancel: null, finish: 'Enter' } }));
  if (shape === 'linestring') modes.push(new td.TerraDrawLineStringMode({ styles: { lineStringColor: BLUE, lineStringWidth: 4, closingPointColor: ORANGE }, keyEvents: { cancel: null, finish: 'Enter' } }));
  if (shape === 'point') modes.push(new td.TerraDrawPointMode({ styles: { pointColor: BLUE, pointWidth: 8, pointOutlineColor: '#ffffff', pointOutlineWidth: 2 } }));
  // A point in select mode is dragged whole; polygons and lines need their mode registered
  // to be selectable, which the list above does for the shape being edited.
  return modes;
}

/** The shape terra-draw draws for a GeoJSON geometry type. */
export function shapeOf(type) {
  if (type === 'Point') return 'point';
  if (type === 'LineString' || type === 'MultiLineString') return 'linestring';
  return 'polygon';
}

async function open(shape, kind) {
  stop();
  const { td, Adapter } = await load();
  const map = mapctl.map;
  const draw = new td.TerraDraw({ adapter: new Adapter({ map }), modes: modesFor(td, shape) });
  const s = { draw, shape, ids: [], listeners: new Set(), kind };
  session = s;
  draw.start();
  mapctl.setEditing(true);
  draw.on('change', () => { for (const fn of s.listeners) fn(); });
  draw.on('finish', (id, context) => {
    // A drag in select mode finishes too: only a shape just drawn is taken up here.
    if (session !== s || s.kind !== 'draw' || (context && context.mode === 'select')) return;
    // One drawn shape is the asset: select it so its corners can be dragged straight away.
    s.ids = [id];
    draw.setMode('select');
    draw.selectFeature(id);
    for (const fn of s.listeners) fn();
  });
  return s;
}

/**
 * Puts `geometry` (Point, Polygon, MultiPolygon, LineString, MultiLineString) on the map
 * with its corners draggable. Resolves once it is there.
 */
export async function edit(geometry) {
  const shape = shapeOf(geometry.type);
  const s = await open(shape, 'edit');
  const parts = geometry.type.startsWith('Multi')
    ? geometry.coordinates.map((c) => ({ type: geometry.type.slice(5), coordinates: c }))
    : [geometry];
  const features = parts.map((g) => ({ id: s.draw.getFeatureId(), type: 'Feature', properties: { mode: shape }, geometry: g }));
  const results = s.draw.addFeatures(features);
  s.ids = results.filter((r) => r.valid).map((r) => r.id);
  s.draw.setMode('select');
  if (s.ids.length) s.draw.selectFeature(s.ids[0]);
  s.multi = geometry.type.startsWith('Multi');
  return s.ids.length === features.length;
}

/** Lets staff draw a new 'polygon', 'linestring' or 'point' (click by click, or by keyboard). */
export async function draw(shape) {
  const s = await open(shape, 'draw');
  s.draw.setMode(shape);
  s.keyed = []; // corners added by keyboard, before the shape is made
}

/** Calls fn() after every change of the geometry. */
export function onChange(fn) {
  if (session) session.listeners.add(fn);
}

/** Ends the session and takes the drawing off the map. */
export function stop() {
  if (!session) return;
  const s = session;
  session = null;
  if (s.keyed && s.keyed.length && !s.ids.length) mapctl.clearHighlight();
  try { s.draw.stop(); } catch { /* the map may be gone */ }
  mapctl.setEditing(false);
}

/** The drawn or edited geometry as GeoJSON, or null while there is none. */
export function geometry() {
  if (!session) return null;
  const feats = session.ids.map((id) => session.draw.getSnapshotFeature(id)).filter(Boolean);
  if (!feats.length) return null;
  const geoms = feats.map((f) => f.geometry);
  if (geoms.length === 1 && !session.multi) return geoms[0];
  return { type: `Multi${geoms[0].type}`, coordinates: geoms.map((g) => g.coordinates) };
}

/**
 * The corners a keyboard user can move: [{part, ring, index, lngLat}] of the first
 * feature's outer ring (a polygon's closing corner is its first), or the point.
 */
export function corners() {
  if (!session) return [];
  if (session.kind === 'draw' && !session.ids.length) return (session.keyed || []).map((c, index) => ({ part: 0, index, lngLat: c }));
  const out = [];
  session.ids.forEach((id, part) => {
    const f = session.draw.getSnapshotFeature(id);
    if (!f) return;
    const g = f.geometry;
    if (g.type === 'Point') out.push({ part, index: 0, lngLat: g.coordinates });
    else if (g.type === 'LineString') g.coordinates.forEach((c, index) => out.push({ part, index, lngLat: c }));
    else g.coordinates[0].slice(0, -1).forEach((c, index) => out.push({ part, index, lngLat: c }));
  });
  return out;
}

// terra-draw refuses coordinates finer than its precision (9 decimals); 7 is 1 cm.
const round = (c) => [Math.round(c[0] * 1e7) / 1e7, Math.round(c[1] * 1e7) / 1e7];

/** Moves corner {part, index} to [lon, lat]. */
export function moveCorner(corner, to) {
  if (!session) return;
  const lngLat = round(to);
  const id = session.ids[corner.part];
  const f = id !== undefined ? session.draw.getSnapshotFeature(id) : null;
  if (!f) return;
  const g = JSON.parse(JSON.stringify(f.geometry));
  if (g.type === 'Point') g.coordinates = lngLat;
  else if (g.type === 'LineString') g.coordinates[corner.index] = lngLat;
  else {
    const ring = g.coordinates[0];
    ring[corner.index] = lngLat;
    if (corner.index === 0) ring[ring.length - 1] = lngLat;
  }
  session.draw.updateFeatureGeometry(id, g);
  for (const fn of session.listeners) fn();
}

/**
 * Adds a corner at [lon, lat] to the shape being drawn (keyboard drawing). A point is
 * made at once; a line once it has 2 corners, a polygon once it has 3, and later corners
 * extend it.
 */
export function addCorner(lngLat) {
  const s = session;
  if (!s || s.kind !== 'draw') return;
  const c = round(lngLat);
  if (s.ids.length) {
    const f = s.draw.getSnapshotFeature(s.ids[0]);
    const g = JSON.parse(JSON.stringify(f.geometry));
    if (g.type === 'Point') g.coordinates = c;
    else if (g.type === 'LineString') g.coordinates.push(c);
    else g.coordinates[0].splice(g.coordinates[0].length - 1, 0, c);
    s.draw.updateFeatureGeometry(s.ids[0], g);
  } else {
    s.keyed.push(c);
    const need = { point: 1, linestring: 2, polygon: 3 }[s.shape];
    // Until there are enough for the shape, the corners placed so far are marked.
    mapctl.highlight(s.keyed.length < need ? { type: 'MultiPoint', coordinates: s.keyed } : null);
    if (s.keyed.length >= need) {
      const geometry = s.shape === 'point' ? { type: 'Point', coordinates: c }
        : s.shape === 'linestring' ? { type: 'LineString', coordinates: s.keyed.slice() }
          : { type: 'Polygon', coordinates: [[...s.keyed, s.keyed[0]]] };
      s.draw.setMode('select');
      const [r] = s.draw.addFeatures([{ id: s.draw.getFeatureId(), type: 'Feature', properties: { mode: s.shape }, geometry }]);
      if (r && r.valid) {
        s.ids = [r.id];
        s.draw.selectFeature(r.id);
      } else {
        s.keyed.pop();
        s.draw.setMode(s.shape);
        return;
      }
    }
  }
  for (const fn of s.listeners) fn();
}
