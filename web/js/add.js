// Staff add an asset (#add): its layer and kind, its outline drawn on the map (a polygon;
// a point for a statue; a line for a canal) with terra-draw, its attributes, and why.
// `POST /collections/{layer}/items` with the Feature: officers' is on the register at once
// (201), field staff's is a proposal for an officer (202). Without a pointer the shape is
// drawn corner by corner at the centre of the map (keyboard users pan with the arrows).
import { h, replace, $, fieldError } from './dom.js';
import { t, label, digits, fmtNumber } from './i18n.js';
import { api, staffSession } from './api.js';
import * as mapctl from './mapctl.js';
import * as drawing from './draw.js';
import { reveal } from './panel.js';
import { KINDS, EDITABLE_LAYERS, attributeFields, refusedField, refusal, NOTE_MAX } from './edit.js';

let ctx;
let visible = false;
const state = {
  layer: 'heritage',
  kind: 'building',
  drawing: false, // terra-draw is open for this view
  done: null, // {kind: 'created', code} or {kind: 'proposed', id}
  message: null, // {kind, key, vars} or {kind: 'error', error}
};

const el = () => $('#view-add');

export const tabOf = 'staff';

export function init(c) { ctx = c; }

/** The shape an asset of this layer and kind is drawn as. */
function shapeFor(layer, kind) {
  if (kind === 'statue') return 'point';
  if (kind === 'canal') return 'linestring';
  return 'polygon';
}

export function show() {
  visible = true;
  render(true);
}

export function hide() {
  visible = false;
  drawing.stop();
  state.drawing = false;
}

export function rerender() { render(false); }

async function startDrawing() {
  state.drawing = true;
  state.message = null;
  await drawing.draw(shapeFor(state.layer, state.kind));
  drawing.onChange(updateShapeLine);
  render(false);
  updateShapeLine();
}

/** What has been drawn so far, said under the drawing buttons (in place: no redraw while drawing). */
function shapeText() {
  if (!state.drawing) return t('add.notDrawn');
  const g = drawing.geometry();
  const n = drawing.corners().length;
  const shape = shapeFor(state.layer, state.kind);
  if (!g) return n ? t('add.cornersSoFar', { n: digits(n) }) : t(`add.drawHint.${shape}`);
  if (g.type === 'Point') return t('add.pointPlaced', { lat: g.coordinates[1].toFixed(6), lon: g.coordinates[0].toFixed(6) });
  return t('add.shapeDrawn', { n: digits(n) });
}

function updateShapeLine() {
  const line = document.getElementById('add-shape-status');
  if (line) line.textContent = shapeText();
}

function render(focus) {
  if (!visible) return;
  const root = el();
  const typed = {};
  for (const c of root.querySelectorAll('input, select, textarea')) if (c.id) typed[c.id] = c.value;
  const title = h('h2', { id: 'add-title', tabindex: '-1', text: t('add.title') });
  const s = staffSession();
  if (!s) {
    replace(root, title, h('p', { text: t('add.signIn') }),
      h('button', { type: 'button', class: 'btn btn-primary', text: t('staff.signIn'), onclick: () => ctx.navigate('#staff') }));
    return;
  }
  const field = s.user && s.user.role === 'field_staff';
  const status = h('p', {
    id: 'add-message', class: `form-status${state.message ? ` ${state.message.kind}` : ''}`, role: 'status', tabindex: '-1',
    text: state.message ? (state.message.error ? refusal(state.message.error) : t(state.message.key, state.message.vars)) : '',
  });
  if (state.done) {
    replace(root, title, status,
      h('div', { class: 'button-row' },
        state.done.code ? h('button', { type: 'button', class: 'btn btn-primary', id: 'add-open', text: t('add.open', { code: state.done.code }), onclick: () => ctx.navigate(`#asset/${encodeURIComponent(state.done.code)}`) }) : null,
        state.done.id ? h('button', { type: 'button', class: 'btn btn-primary', id: 'add-proposal', text: t('add.openProposal', { id: digits(state.done.id) }), onclick: () => ctx.navigate(`#proposals/${state.done.id}`) }) : null,
        h('button', { type: 'button', class: 'btn btn-secondary', id: 'add-another', text: t('add.another'), onclick: () => { state.done = null; state.message = null; render(true); } })));
    return;
  }

  const layerSel = h('select', { id: 'add-layer', name: 'layer' },
    EDITABLE_LAYERS.map((l) => h('option', { value: l, text: label('layer', l), selected: l === state.layer })));
  const kindSel = h('select', { id: 'add-kind', name: 'kind' },
    KINDS[state.layer].map((k) => h('option', { value: k, text: label('kind', k), selected: k === state.kind })));
  const restart = () => {
    drawing.stop();
    state.drawing = false;
    render(false);
  };
  layerSel.addEventListener('change', () => {
    state.layer = layerSel.value;
    state.kind = KINDS[state.layer][0];
    restart();
    document.getElementById('add-layer')?.focus();
  });
  kindSel.addEventListener('change', () => {
    const before = shapeFor(state.layer, state.kind);
    state.kind = kindSel.value;
    if (shapeFor(state.layer, state.kind) !== before) restart();
    else render(false);
    document.getElementById('add-kind')?.focus();
  });

  const shape = shapeFor(state.layer, state.kind);
  const drawRow = h('div', { class: 'button-row' },
    h('button', {
      type: 'button', class: 'btn btn-primary', id: 'add-draw', 'aria-pressed': String(state.drawing),
      text: t(state.drawing ? 'add.drawAgain' : `add.draw.${shape}`),
      onclick: async () => {
        await startDrawing();
        document.getElementById('add-draw')?.focus();
      },
    }),
    state.drawing ? h('button', {
      type: 'button', class: 'btn btn-secondary', id: 'add-corner', text: t(shape === 'point' ? 'add.pointAtCentre' : 'add.cornerAtCentre'),
      onclick: () => {
        const c = mapctl.map.getCenter();
        drawing.addCorner([c.lng, c.lat]);
        updateShapeLine();
      },
    }) : null);

  // The attributes: the form for a new asset of this layer, its kind set above.
  const fields = attributeFields(state.layer, { kind: state.kind }, 'add');
  fields.nodes.splice(fields.nodes.findIndex((n) => n.querySelector('#add-kind')), 1);
  const note = h('textarea', { id: 'add-note', name: 'note', rows: 2, maxLength: NOTE_MAX, 'aria-describedby': 'add-note-hint' });
  const send = h('button', { type: 'submit', class: 'btn btn-primary', id: 'add-send', text: t(field ? 'add.propose' : 'add.send') });
  const form = h('form', { id: 'add-form', novalidate: true },
    h('p', { class: 'intro', text: t(field ? 'add.introField' : 'add.intro') }),
    h('fieldset', null, h('legend', { text: t('add.what') }),
      h('div', { class: 'field' }, h('label', { htmlFor: 'add-layer', text: t('add.layer') }), layerSel),
      h('div', { class: 'field' }, h('label', { htmlFor: 'add-kind', text: t('prop.kind') }), kindSel)),
    h('fieldset', { id: 'add-where' }, h('legend', { text: t('add.where') }),
      h('p', { class: 'hint', id: 'add-draw-hint', text: t(`add.howTo.${shape}`) }),
      drawRow,
      h('div', { class: 'field' }, h('p', { id: 'add-shape-status', class: 'pin-status', 'aria-live': 'polite', tabindex: '-1', text: shapeText() }))),
    h('fieldset', null, h('legend', { text: t('add.details') }),
      fields.nodes,
      h('div', { class: 'field' },
        h('label', { htmlFor: 'add-note', text: t('edit.note') }),
        h('p', { class: 'hint', id: 'add-note-hint', text: t('edit.noteHint') }),
        note)),
    h('div', { class: 'button-row' }, send),
    status);
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    submit(fields, note, send);
  });
  replace(root, title, form);
  for (const [id, v] of Object.entries(typed)) {
    const c = document.getElementById(id);
    if (c && id !== 'add-layer' && id !== 'add-kind') c.value = v;
  }
  if (focus) title.focus({ preventScroll: true });
}

async function submit(fields, note, send) {
  const shapeLine = $('#add-shape-status');
  fieldError(shapeLine, null);
  fieldError(note, null);
  const bad = fields.check();
  if (bad) return bad.focus();
  const geometry = state.drawing ? drawing.geometry() : null;
  if (!geometry) {
    fieldError(shapeLine, t('add.needShape'));
    reveal(shapeLine);
    return shapeLine.focus();
  }
  if (note.value.trim().length > NOTE_MAX) {
    fieldError(note, t('err.tooLong.other', { n: fmtNumber(NOTE_MAX) }));
    return note.focus();
  }
  const properties = { kind: state.kind };
  for (const [k, v] of Object.entries(fields.read())) if (v !== null && k !== 'kind') properties[k] = v;
  const feature = { type: 'Feature', geometry, properties };
  if (note.value.trim()) feature.note = note.value.trim();
  send.disabled = true;
  const line = $('#add-message');
  line.className = 'form-status';
  line.textContent = t('rec.saving');
  try {
    const r = await api.createItem(state.layer, feature);
    drawing.stop();
    state.drawing = false;
    if (r.status === 202) {
      state.done = { id: r.data.id };
      state.message = { kind: 'success', key: 'add.proposed', vars: { id: digits(r.data.id) } };
    } else {
      const code = r.data.properties.code;
      state.done = { code };
      state.message = { kind: 'success', key: 'add.created', vars: { code } };
      mapctl.refreshAssets();
      mapctl.highlight(r.data.geometry);
    }
    render(false);
    $('#add-message')?.focus();
  } catch (err) {
    send.disabled = false;
    state.message = { kind: 'error', error: err };
    const key = refusedField(err);
    const control = key ? document.getElementById(`add-${key}`) : null;
    line.className = 'form-status error';
    line.textContent = refusal(err);
    if (control) {
      fieldError(control, refusal(err));
      control.focus();
    } else {
      reveal(line);
      line.focus();
    }
  }
  return undefined;
}
