// The register entry as a form, for staff editing an asset (asset.js) or adding one
// (add.js): its attributes with the server's own checks (kinds per layer, grades,
// conditions, water status, whole years and ward numbers in range), what changed since
// the version being edited (a merge patch sends only that), the corners of an outline
// for keyboard users, and what a property and its change look like in a table (the
// proposal queue and the History tab).
import { h, fieldError } from './dom.js';
import { t, label, fmtNumber, digits } from './i18n.js';
import { ApiError } from './api.js';
import { explain, humanize } from './errors.js';

export const KINDS = {
  heritage: ['building', 'statue', 'structure', 'monument'],
  water_bodies: ['pond', 'lake', 'tank', 'canal', 'wetland'],
  parks: ['park', 'garden', 'square', 'playground'],
};
export const EDITABLE_LAYERS = Object.keys(KINDS);
const GRADES = ['I', 'IIA', 'IIB', 'III'];
const CONDITIONS = ['good', 'fair', 'poor', 'critical', 'unknown'];
const WATER = ['active', 'encroached', 'filled'];

// The server's ranges (import::attributes): whole numbers only.
const YEAR = [-3000, 2100];
const WARD = [1, 100000];
export const NOTE_MAX = 2000;
export const REASON_MAX = 500;
const TEXT_MAX = 500;

/**
 * The attributes a layer's form shows: [key, type, values?]. Grade is heritage's, water
 * status water bodies'; owner and year built are heritage's and protected is water
 * bodies', but an asset that has one of them shows it too.
 */
function fieldsFor(layer, props) {
  const has = (k) => props && props[k] !== null && props[k] !== undefined && props[k] !== '';
  const list = [
    ['name', 'text'],
    ['name_bn', 'text'],
    ['kind', 'select', KINDS[layer] || []],
  ];
  if (layer === 'heritage' || has('grade')) list.push(['grade', 'select', ['', ...GRADES]]);
  list.push(['condition', 'select', ['', ...CONDITIONS]]);
  if (layer === 'water_bodies' || has('status')) list.push(['status', 'select', ['', ...WATER]]);
  if (layer === 'heritage' || has('owner')) list.push(['owner', 'text']);
  list.push(['address', 'text']);
  if (layer === 'heritage' || has('year_built')) list.push(['year_built', 'year']);
  list.push(['ward', 'ward']);
  if (layer === 'water_bodies' || has('protected')) list.push(['protected', 'bool']);
  list.push(['source', 'text']);
  return list;
}

/** A select option's words: a kind, grade, condition, water status or yes/no ('' = none). */
function optionText(key, v) {
  if (v === '') return key === 'grade' ? t('asset.ungraded') : t('edit.notRecorded');
  if (key === 'kind') return label('kind', v);
  if (key === 'grade') return label('grade', v);
  if (key === 'condition') return label('condition', v);
  if (key === 'status') return label('water', v);
  return v;
}

/** The recorded value of `key` as the form holds it ('' when there is none). */
function formValue(type, v) {
  if (v === null || v === undefined) return '';
  if (type === 'bool') return v ? 'yes' : 'no';
  return String(v);
}

/**
 * The attribute fields for an asset of `layer` with recorded properties `props` (an
 * item's; a ward found from the location is not recorded, and shows as a hint), ids
 * `${prefix}-${key}`. Answers {nodes, read(), check()}.
 */
export function attributeFields(layer, props, prefix) {
  const p = props || {};
  const nodes = [];
  const controls = {};
  for (const [key, type, values] of fieldsFor(layer, p)) {
    const id = `${prefix}-${key}`;
    const recorded = key === 'ward' && p.ward_source === 'location' ? null : p[key];
    const value = formValue(type, recorded);
    let control;
    if (type === 'select' || type === 'bool') {
      const opts = type === 'bool' ? ['', 'yes', 'no'] : values;
      control = h('select', { id, name: key },
        opts.map((v) => h('option', { value: v, text: type === 'bool' ? (v ? t(v) : t('edit.notRecorded')) : optionText(key, v), selected: v === value })));
      if (key === 'kind' && !value) control.value = values[0];
    } else {
      const numeric = type === 'year' || type === 'ward';
      control = h('input', {
        type: numeric ? 'number' : 'text', id, name: key, value,
        maxLength: numeric ? undefined : TEXT_MAX,
        min: type === 'year' ? YEAR[0] : type === 'ward' ? WARD[0] : undefined,
        max: type === 'year' ? YEAR[1] : type === 'ward' ? WARD[1] : undefined,
        step: numeric ? 1 : undefined,
        inputMode: numeric ? 'numeric' : undefined,
        lang: key === 'name_bn' ? 'bn' : undefined,
        autocomplete: 'off',
      });
    }
    controls[key] = { control, type };
    let hint = null;
    if (key === 'ward' && p.ward_source === 'location' && p.ward !== null && p.ward !== undefined) {
      hint = t('edit.wardFromLocation', { ward: digits(p.ward) });
    }
    if (key === 'year_built') hint = t('edit.yearHint');
    if (hint) control.setAttribute('aria-describedby', `${id}-hint`);
    nodes.push(h('div', { class: 'field' },
      h('label', { htmlFor: id, text: t(`prop.${key}`) }),
      hint ? h('p', { class: 'hint', id: `${id}-hint`, text: hint }) : null,
      control));
  }

  /** The form's values, typed as the server takes them (null: none). */
  const read = () => {
    const out = {};
    for (const [key, { control, type }] of Object.entries(controls)) {
      const v = control.value.trim();
      if (type === 'bool') out[key] = v === '' ? null : v === 'yes';
      else if (type === 'year' || type === 'ward') out[key] = v === '' ? null : Number(v);
      else out[key] = v === '' ? null : v;
    }
    return out;
  };

  /** Marks fields the server would refuse; answers the first such control, or null. */
  const check = () => {
    let first = null;
    const bad = (key, message) => {
      fieldError(controls[key].control, message);
      if (!first) first = controls[key].control;
    };
    for (const [key, { control, type }] of Object.entries(controls)) {
      fieldError(control, null);
      const v = control.value.trim();
      if (type === 'year' || type === 'ward') {
        const [lo, hi] = type === 'year' ? YEAR : WARD;
        const n = Number(v);
        if (v !== '' && !(Number.isInteger(n) && n >= lo && n <= hi)) {
          bad(key, t(type === 'year' ? 'edit.badYear' : 'edit.badWard', { min: digits(lo), max: type === 'year' ? digits(hi) : fmtNumber(hi) }));
        }
      } else if (type === 'text' && v.length > TEXT_MAX) bad(key, t('err.tooLong.other', { n: fmtNumber(TEXT_MAX) }));
      // eslint-disable-next-line no-control-regex
      else if (type === 'text' && /[\u0000-\u001f\u007f]/.test(v)) bad(key, t('err.control'));
    }
    if (controls.kind && !(KINDS[layer] || []).includes(controls.kind.control.value)) bad('kind', t('edit.badKind'));
    return first;
  };

  return { nodes, read, check, controls };
}

/**
 * The properties whose value in `values` differs from the recorded one in `props`: what
 * a merge patch sends (null clears one).
 */
export function changedProperties(values, props, layer) {
  const out = {};
  for (const [key, v] of Object.entries(values)) {
    let before = props ? props[key] : null;
    if (key === 'ward' && props && props.ward_source === 'location') before = null;
    if (before === undefined || before === '') before = null;
    if (key === 'kind' && before === null) before = (KINDS[layer] || [])[0] ?? null;
    if (v !== before) out[key] = v;
  }
  return out;
}

/** The control the server's refusal names: `property "year_built" …`, `kind … layer`. */
export function refusedField(err) {
  if (!(err instanceof ApiError)) return null;
  if (err.field) return err.field;
  const d = err.description || '';
  let m;
  if ((m = /property "(\w+)"/.exec(d))) return m[1];
  if (/^kind \S+ does not belong/.test(d) || /unknown kind/.test(d)) return 'kind';
  if ((m = /^(\w+): /.exec(d)) && ['name', 'name_bn', 'grade', 'condition', 'status', 'owner', 'address', 'year_built', 'ward', 'protected', 'source'].includes(m[1])) return m[1];
  if (/unknown (grade|condition|status)|not a (grade|condition|status)/.exec(d)) return /grade/.test(d) ? 'grade' : /condition/.test(d) ? 'condition' : 'status';
  return null;
}

/** The server's refusal as the reader sees it beside the form: a 400 as sent, in a translated sentence. */
export function refusal(err) {
  if (err instanceof ApiError && err.status === 400) return t('err.refused', { error: humanize(err.description) });
  return explain(err);
}

// ---- showing properties and changes ----------------------------------------------------------

/** A property's value for people: names of kinds, grades, conditions; yes/no; — for none. */
export function showValue(key, v) {
  if (v === null || v === undefined || v === '') return t('none');
  if (typeof v === 'boolean') return v ? t('yes') : t('no');
  if (key === 'kind') return label('kind', v);
  if (key === 'grade') return label('grade', v);
  if (key === 'condition') return label('condition', v);
  if (key === 'status') return label('water', v);
  if (key === 'year_built' || key === 'ward') return digits(v);
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A property's name for people (the raw key for one we have no words for). */
export function propName(key) {
  return label('prop', key);
}

/** A table of changed properties ({key: {before, after}}), or a line saying there are none. */
export function diffTable(properties, { id, caption } = {}) {
  const keys = Object.keys(properties || {});
  if (!keys.length) return h('p', { class: 'hint', id, text: t('diff.noProperties') });
  return h('table', { class: 'diff', id },
    caption ? h('caption', { text: caption }) : null,
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: t('diff.property') }),
      h('th', { scope: 'col', text: t('diff.before') }),
      h('th', { scope: 'col', text: t('diff.after') }))),
    h('tbody', null, keys.map((k) => h('tr', null,
      h('th', { scope: 'row', text: propName(k) }),
      h('td', { class: 'before', lang: k === 'name_bn' ? 'bn' : undefined, text: showValue(k, properties[k].before) }),
      h('td', { class: 'after', lang: k === 'name_bn' ? 'bn' : undefined, text: showValue(k, properties[k].after) })))));
}

const m2 = (x) => t('unit.m2', { n: fmtNumber(Math.round(x)) });

/** "Outline changed · area 752 m² → 790 m² (+38 m²)" for a diff, or "Outline unchanged". */
export function areaLine(diff) {
  if (!diff) return '';
  const parts = [t(diff.geometry_changed ? 'diff.outlineChanged' : 'diff.outlineSame')];
  const { area_before_m2: a, area_after_m2: b, area_change_m2: c } = diff;
  if (a !== null && a !== undefined && b !== null && b !== undefined) {
    const change = c === null || c === undefined ? b - a : c;
    const sign = change > 0 ? '+' : change < 0 ? '−' : '±';
    parts.push(t('diff.area', { before: m2(a), after: m2(b), change: `${sign}${m2(Math.abs(change))}` }));
  } else if (b !== null && b !== undefined) parts.push(t('diff.areaNew', { after: m2(b) }));
  return parts.join(' · ');
}

/** The key to the two outlines on the map: before dashed, after solid, in their colours. */
export function mapKey(beforeText, afterText, colours) {
  return h('ul', { class: 'map-key' },
    beforeText ? h('li', null, h('span', { class: 'swatch-line dashed', style: `border-color:${colours.before}` }), ' ', beforeText) : null,
    afterText ? h('li', null, h('span', { class: 'swatch-line', style: `border-color:${colours.after}` }), ' ', afterText) : null);
}
