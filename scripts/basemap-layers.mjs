// Writes styles/basemap/layers.json: the street basemap's style layers (source "basemap",
// the Protomaps basemap schema), which the server puts into /styles/heritage.json right
// after our `background` layer when it runs with `--basemap FILE.pmtiles`. Then it checks
// the style the server will send: styles/heritage.json with these layers and the source
// put in, validated with MapLibre's style spec.
//
// Usage (the packages are pinned in scripts/basemap/package.json):
//   npm ci --prefix scripts/basemap && node scripts/basemap-layers.mjs
//   node scripts/basemap-layers.mjs --check   # validate only; exit 1 if the file is stale
//
// The layers come from @protomaps/basemaps' `layers()`, bent to our map:
// * a quiet flavour (below): land is our own paper, everything else a shade off it, so
//   water bodies, parks and heritage sites stay the loudest things on the map;
// * no sprite on our server: layers that need icons (one-way arrows, road shields, POIs)
//   are dropped, and the town dots of `places_locality` lose their icon but keep the name;
// * the basemap's own `background` and `earth` fills are dropped: ours is the land, and an
//   extract then has no visible edge where its tiles stop;
// * only our two fontstacks exist (fonts/README.md): Medium and Bold become
//   `Noto Sans Bold`, everything else (Regular, Italic, Devanagari) `Noto Sans Regular`;
//   Bengali is drawn through the style's `font-faces` whichever of the two is named;
// * labels follow the style's global state `lang`: each `text-field` is Protomaps' own
//   expression for `lang: "bn"` (name:bn, else the local name) inside a `case` on
//   `["global-state", "lang"]`, else its expression for `en`;
// * ids get a `basemap-` prefix, so they can never clash with ours (mapctl.js finds our
//   layer groups by id prefix).
import { createRequire } from 'node:module';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(join(ROOT, 'scripts/basemap/package.json'));
const basemaps = require('@protomaps/basemaps');
const styleSpec = require('@maplibre/maplibre-gl-style-spec');

const OUT = join(ROOT, 'styles/basemap/layers.json');
const STYLE = join(ROOT, 'styles/heritage.json');
const SOURCE = 'basemap';
const ID_PREFIX = 'basemap-';
const FONT_REGULAR = 'Noto Sans Regular';
const FONT_BOLD = 'Noto Sans Bold';

// Our paper (styles/heritage.json's background) and a few shades off it.
const PAPER = '#f5f3ee';
const QUIET = {
  ...basemaps.namedFlavor('light'),
  background: PAPER,
  earth: PAPER,
  // Green only in a whisper: our parks (#c4e3b4 and darker) must stand out.
  park_a: '#eaeee2', park_b: '#e2e9d8',
  wood_a: '#eaeee2', wood_b: '#e2e9d8',
  scrub_a: '#eceee4', scrub_b: '#e4e9dc',
  zoo: '#eaeee2',
  hospital: '#f1ece9', industrial: '#eeede9', school: '#f1eee8', military: '#efedea',
  pedestrian: '#f0eee8', sand: '#f1eee6', beach: '#f1eee4', glacier: '#f7f7f5',
  aerodrome: '#eeede9', runway: '#e6e4df', pier: '#ebe8e2',
  // Grey-blue, paler and greyer than our water bodies (#9ccbea).
  water: '#dce5ea',
  buildings: '#e9e5de',
  // Roads: white on paper with a faint warm-grey casing.
  other: '#f9f8f5', minor_service: '#f9f8f5', minor_a: '#fbfaf8', minor_b: '#ffffff',
  link: '#ffffff', major: '#ffffff', highway: '#ffffff',
  minor_service_casing: '#e6e2da', minor_casing: '#e6e2da', link_casing: '#e2ddd4',
  major_casing_late: '#e2ddd4', major_casing_early: '#e2ddd4',
  highway_casing_late: '#ddd7cc', highway_casing_early: '#ddd7cc',
  tunnel_other_casing: '#ebe8e2', tunnel_minor_casing: '#ebe8e2', tunnel_link_casing: '#ebe8e2',
  tunnel_major_casing: '#ebe8e2', tunnel_highway_casing: '#ebe8e2',
  tunnel_other: '#f3f1ec', tunnel_minor: '#f3f1ec', tunnel_link: '#f3f1ec',
  tunnel_major: '#f3f1ec', tunnel_highway: '#f3f1ec',
  bridges_other_casing: '#e2ddd4', bridges_minor_casing: '#e2ddd4', bridges_link_casing: '#e2ddd4',
  bridges_major_casing: '#e2ddd4', bridges_highway_casing: '#ddd7cc',
  bridges_other: '#f9f8f5', bridges_minor: '#ffffff', bridges_link: '#ffffff',
  bridges_major: '#ffffff', bridges_highway: '#ffffff',
  railway: '#c9c4bb',
  boundaries: '#cfcac1',
  // Labels: grey, lighter than ours (#2b2b2b and the layer colours), with paper halos.
  roads_label_minor: '#9b958c', roads_label_minor_halo: '#ffffff',
  roads_label_major: '#8f897f', roads_label_major_halo: '#ffffff',
  ocean_label: '#8fa3b3',
  subplace_label: '#a09a90', subplace_label_halo: PAPER,
  city_label: '#7f796f', city_label_halo: PAPER,
  state_label: '#b5b0a7', state_label_halo: PAPER,
  country_label: '#aaa59c',
  address_label: '#aaa49b', address_label_halo: '#ffffff',
  landcover: {
    barren: '#f3f0e8', farmland: '#eef0e4', forest: '#e6ebdd', glacier: '#f7f7f5',
    grassland: '#edf0e4', scrub: '#eceee4', urban_area: '#f0eee9',
  },
};

// Protomaps layers we leave out, and why.
const DROP = {
  background: 'ours stays',
  earth: 'our background is the land; an extract ends without an edge',
  roads_oneway: 'needs sprite icons',
  roads_shields: 'needs sprite icons',
  pois: 'needs sprite icons',
};
// Layers that keep their text but lose their icon (the sprite we do not have).
const STRIP_ICON = new Set(['places_locality']);

const mapFont = (name) => (/Bold|Medium|Semibold|Black|Heavy/i.test(name) ? FONT_BOLD : FONT_REGULAR);

/** A `case`/`match`/`step` whose every output is the same value is that value. */
function collapse(expr) {
  if (!Array.isArray(expr) || typeof expr[0] !== 'string') return expr;
  let outputs = null;
  if (expr[0] === 'case') outputs = [...expr.filter((_, i) => i > 0 && i % 2 === 0), expr[expr.length - 1]];
  else if (expr[0] === 'step') outputs = expr.filter((_, i) => i === 2 || (i > 2 && i % 2 === 0));
  else if (expr[0] === 'match') outputs = [...expr.filter((_, i) => i > 2 && i % 2 === 1), expr[expr.length - 1]];
  if (outputs && outputs.every((o) => isDeepStrictEqual(o, outputs[0]))) return outputs[0];
  return expr;
}

/** Every fontstack name in a `text-font` value (array, literal or expression) mapped to ours. */
function fontValue(v) {
  if (typeof v === 'string') return mapFont(v);
  if (!Array.isArray(v)) return v;
  if (v[0] === 'literal') return ['literal', fontList(v[1])];
  if (v.every((x) => typeof x === 'string') && typeof v[0] === 'string' && !isOperator(v[0])) return fontList(v);
  // An expression: keep its operator, input and conditions, map only its outputs.
  const isOutput = {
    case: (i) => i % 2 === 0 || i === v.length - 1,
    match: (i) => (i > 2 && i % 2 === 1) || i === v.length - 1,
    step: (i) => i % 2 === 0,
    coalesce: (i) => i > 0,
  }[v[0]];
  if (!isOutput) throw new Error(`text-font expression ${JSON.stringify(v)} not understood`);
  return collapse(v.map((x, i) => (i > 0 && isOutput(i) ? fontValue(x) : x)));
}
const fontList = (list) => [...new Set(list.map(mapFont))].slice(0, 1);
const isOperator = (s) => ['case', 'match', 'step', 'coalesce', 'literal'].includes(s);

/** Walks an expression and maps the `text-font` of every `format` section. */
function mapFormatFonts(expr) {
  if (Array.isArray(expr)) return expr.map(mapFormatFonts);
  if (expr && typeof expr === 'object') {
    const out = {};
    for (const [k, v] of Object.entries(expr)) out[k] = k === 'text-font' ? fontValue(v) : mapFormatFonts(v);
    return out;
  }
  return expr;
}

/** The layout's `text-font` as a plain single-entry array where it no longer varies. */
function layoutFont(v) {
  const mapped = fontValue(v);
  if (Array.isArray(mapped) && mapped[0] === 'literal') return mapped[1];
  return mapped;
}

function prepare(layers) {
  const out = [];
  for (const layer of layers) {
    if (DROP[layer.id]) continue;
    const l = structuredClone(layer);
    if (l.layout && l.layout['icon-image'] !== undefined) {
      if (!STRIP_ICON.has(l.id)) throw new Error(`layer ${l.id} needs a sprite: add it to DROP or STRIP_ICON`);
      for (const k of Object.keys(l.layout)) if (k.startsWith('icon-')) delete l.layout[k];
    }
    if (l.layout && l.layout['text-font'] !== undefined) l.layout['text-font'] = layoutFont(l.layout['text-font']);
    if (l.layout && l.layout['text-field'] !== undefined) l.layout['text-field'] = mapFormatFonts(l.layout['text-field']);
    l.id = ID_PREFIX + l.id;
    out.push(l);
  }
  return out;
}

/** One list: the `en` layers with each differing `text-field` switched on the global state. */
function mergeLanguages(en, bn) {
  if (en.length !== bn.length) throw new Error('en and bn layer lists differ in length');
  return en.map((a, i) => {
    const b = bn[i];
    if (a.id !== b.id) throw new Error(`layer ${i}: ${a.id} vs ${b.id}`);
    const fa = a.layout && a.layout['text-field'];
    const fb = b.layout && b.layout['text-field'];
    const rest = (l) => ({ ...l, layout: { ...l.layout, 'text-field': null } });
    if (!isDeepStrictEqual(rest(a), rest(b))) throw new Error(`layer ${a.id} differs between en and bn beyond text-field`);
    if (fa === undefined || isDeepStrictEqual(fa, fb)) return a;
    return { ...a, layout: { ...a.layout, 'text-field': byLang(fa, fb) } };
  });
}

/**
 * `["case", ["==", ["global-state", "lang"], "bn"], bn, en]`, except that a zoom `step`
 * with the same stops in both stays outermost with the switch in each of its outputs: the
 * style spec allows a zoom `step` only at the top of an expression.
 */
function byLang(en, bn) {
  if (isDeepStrictEqual(en, bn)) return en;
  const zoomStep = (e) => Array.isArray(e) && e[0] === 'step' && isDeepStrictEqual(e[1], ['zoom']);
  if (zoomStep(en) && zoomStep(bn) && en.length === bn.length && en.every((x, i) => i % 2 === 0 || i < 2 || x === bn[i])) {
    return en.map((x, i) => (i >= 2 && i % 2 === 0 ? byLang(x, bn[i]) : x));
  }
  return ['case', ['==', ['global-state', 'lang'], 'bn'], bn, en];
}

/** Object keys sorted, at every depth (arrays keep their order: it is meaningful). */
function sortKeys(v) {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v && typeof v === 'object') return Object.fromEntries(Object.keys(v).sort().map((k) => [k, sortKeys(v[k])]));
  return v;
}

/** styles/heritage.json as the server sends it with `--basemap` (paths left relative). */
function withBasemap(style, layers) {
  const s = structuredClone(style);
  const at = s.layers.findIndex((l) => l.type === 'background') + 1;
  s.layers.splice(at, 0, ...layers);
  s.sources = { ...s.sources, [SOURCE]: { type: 'vector', url: '/tiles/basemap.json' } };
  s.metadata = { ...s.metadata, 'heritage-atlas:basemap': true };
  return s;
}

/** Checks that the merged layers only use what our server has. */
function selfCheck(layers) {
  const problems = [];
  const fonts = new Set();
  const walkFonts = (v) => {
    if (typeof v === 'string') { if (/^Noto /.test(v)) fonts.add(v); } else if (Array.isArray(v)) v.forEach(walkFonts);
    else if (v && typeof v === 'object') Object.values(v).forEach(walkFonts);
  };
  for (const l of layers) {
    if (l.source !== SOURCE) problems.push(`${l.id}: source ${l.source}`);
    if (l.type === 'background') problems.push(`${l.id}: a background layer`);
    if ((l.layout || {})['icon-image'] !== undefined) problems.push(`${l.id}: icon-image`);
    for (const k of Object.keys(l.paint || {})) if (k.endsWith('-pattern')) problems.push(`${l.id}: ${k}`);
    walkFonts(l.layout && l.layout['text-font']);
    walkFonts(l.layout && l.layout['text-field']);
  }
  for (const f of fonts) if (f !== FONT_REGULAR && f !== FONT_BOLD) problems.push(`fontstack ${f}`);
  return { problems, fonts: [...fonts].sort() };
}

/**
 * Protomaps has no script for `bn` and takes Latin as the target, so a `name` already in
 * Bengali script (the tiles then carry `script: "Bengali"`) counts as foreign and comes
 * out as a second line under `name:bn`, often the same words twice. Such a name is shown
 * once: `name:bn`, else `name`. Every other case is Protomaps' own: `name:bn`, else the
 * local name (`pgf:name`, `name`), with a second line for a local name in another
 * non-Latin script.
 */
function bengaliOnce(layers) {
  const multiline = basemaps.get_multiline_name('bn', undefined, QUIET.regular);
  let replaced = 0;
  const walk = (v) => {
    if (isDeepStrictEqual(v, multiline)) {
      replaced++;
      return ['case', ['==', ['get', 'script'], 'Bengali'],
        ['format', ['coalesce', ['get', 'name:bn'], ['get', 'pgf:name'], ['get', 'name']], {}], v];
    }
    return Array.isArray(v) ? v.map(walk) : v;
  };
  const out = layers.map((l) => (l.layout && l.layout['text-field'] !== undefined
    ? { ...l, layout: { ...l.layout, 'text-field': walk(l.layout['text-field']) } } : l));
  if (replaced < 5) throw new Error(`only ${replaced} bn name expressions found: has @protomaps/basemaps changed?`);
  return out;
}

function build() {
  const en = prepare(basemaps.layers(SOURCE, QUIET, { lang: 'en' }));
  const bn = prepare(bengaliOnce(basemaps.layers(SOURCE, QUIET, { lang: 'bn' })));
  return sortKeys(mergeLanguages(en, bn));
}

const checkOnly = process.argv.includes('--check');
const layers = build();
const text = `${JSON.stringify(layers, null, 2)}\n`;
let status = 0;
if (checkOnly) {
  let current = '';
  try { current = readFileSync(OUT, 'utf8'); } catch { /* missing: stale */ }
  const fresh = current === text;
  console.log(`${fresh ? 'ok  ' : 'FAIL'} ${OUT} ${fresh ? 'is what the generator makes' : 'is stale: run node scripts/basemap-layers.mjs'}`);
  if (!fresh) status = 1;
} else {
  mkdirSync(dirname(OUT), { recursive: true });
  writeFileSync(OUT, text);
  console.log(`wrote ${OUT}: ${layers.length} layers, ${text.length} bytes`);
}

const { problems, fonts } = selfCheck(layers);
const labelled = layers.filter((l) => JSON.stringify(l.layout && l.layout['text-field'] || null).includes('["global-state","lang"]'));
console.log(`${problems.length ? 'FAIL' : 'ok  '} no sprite, no background, only our fontstacks (${fonts.join(', ')}) ${problems.join('; ')}`);
console.log(`     ${labelled.length} label layers switch on global-state lang: ${labelled.map((l) => l.id).join(', ')}`);
if (problems.length) status = 1;

// What a road label says, evaluated with the style spec's own expression engine.
const roadLabel = layers.find((l) => l.id === `${ID_PREFIX}roads_labels_minor`);
const say = (props, lang) => {
  const spec = styleSpec.latest.layout_symbol['text-field'];
  const parsed = styleSpec.expression.createPropertyExpression(roadLabel.layout['text-field'], 'text-field', spec, { lang });
  if (parsed.result !== 'success') throw new Error(JSON.stringify(parsed.value));
  const v = parsed.value.evaluate({ zoom: 16 }, { type: 2, properties: props }, {});
  return v && v.sections ? v.sections.map((x) => x.text).join('') : String(v);
};
const cases = [
  [{ name: 'Park Street', 'name:bn': 'পার্ক স্ট্রিট' }, 'en', 'Park Street'],
  [{ name: 'Park Street', 'name:bn': 'পার্ক স্ট্রিট' }, 'bn', 'পার্ক স্ট্রিট'],
  [{ name: 'Hungerford Street' }, 'bn', 'Hungerford Street'],
  [{ name: 'কলেজ স্ট্রিট', script: 'Bengali', 'name:bn': 'কলেজ স্ট্রিট', 'name:en': 'College Street' }, 'bn', 'কলেজ স্ট্রিট'],
  [{ name: 'কলেজ স্ট্রিট', script: 'Bengali', 'name:en': 'College Street' }, 'en', 'College Street\nকলেজ স্ট্রিট'],
];
for (const [props, lang, want] of cases) {
  const got = say(props, lang);
  console.log(`${got === want ? 'ok  ' : 'FAIL'} road label ${JSON.stringify(props)} in ${lang}: ${JSON.stringify(got)}`);
  if (got !== want) status = 1;
}

const style = JSON.parse(readFileSync(STYLE, 'utf8'));
for (const [name, s] of [['styles/heritage.json', style], ['styles/heritage.json + basemap layers', withBasemap(style, layers)]]) {
  const errors = styleSpec.validateStyleMin(s);
  const version = require('@maplibre/maplibre-gl-style-spec/package.json').version;
  console.log(`${errors.length ? 'FAIL' : 'ok  '} ${name} valid (style spec ${version})`);
  for (const e of errors) console.log(`     ${e.message}`);
  if (errors.length) status = 1;
}
process.exit(status);
