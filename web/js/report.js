// Citizens report a problem: a pin (tap the map, "use my location" or the map centre), a
// category and its extra question, a description, photos and optional private contact
// details. Before sending, open complaints of the same category within 50 m are listed
// so the citizen can support one instead. After sending: the ticket. The categories and
// their questions come from the catalogue (services.js).
import { h, replace, $, store, fieldError } from './dom.js';
import { t, tn, label, fmtDate, fmtDistance, fmtNumber, digits, getLang } from './i18n.js';
import { api, errorText } from './api.js';
import { explain } from './errors.js';
import * as mapctl from './mapctl.js';
import { reveal } from './panel.js';
import * as services from './services.js';
import * as outbox from './outbox.js';

const MAX_PHOTOS = 5;
const MAX_PHOTO_BYTES = 10 * 1024 * 1024;
const PHOTO_TYPES = ['image/jpeg', 'image/png', 'image/webp'];
const MAX_DESCRIPTION = 4000;

/** Everything the view keeps between events; every render draws from it. */
const state = {
  ctx: null,
  visible: false,
  // The report being written
  point: null,             // {lon, lat}
  marker: null,            // the draggable pin on the map
  aboutAsset: null,        // {code, name, name_bn, layer}: filed from an asset's record
  photos: [],              // [{file, url}]
  place: null,             // {ward, names: [{name, name_bn}], outside}: what /at says of the pin
  revealPlace: false,      // bring the place line into sight once /at has answered
  dupes: [],               // open complaints of the category nearby
  dupesError: null,        // why they could not be listed
  // Answers that may come back out of order: only the latest request's is drawn
  placeSeq: 0,
  dupeSeq: 0,
  // Sending, and after
  sending: false,
  done: null,              // the 201 answer
  supported: new Map(),    // ticket → supporters, for the tickets supported in this visit
};

const form = () => $('#report-form');

export function init(c) {
  // A complaint made offline was filed: its ticket joins "my complaints", its pin the map.
  outbox.onSent((item, data) => {
    if (item.kind !== 'complaint' || !data || !data.ticket) return;
    remember(data);
    mapctl.refreshComplaints();
  });
  state.ctx = c;
  $('#report-locate').addEventListener('click', locate);
  $('#report-centre').addEventListener('click', () => {
    const c0 = mapctl.map.getCenter();
    setPin({ lon: c0.lng, lat: c0.lat }, false, true);
  });
  $('#report-category').addEventListener('change', () => {
    fieldError($('#report-category'), null);
    renderCategoryDescription();
    renderQuestions();
    updateDupes();
  });
  const desc = $('#report-description');
  desc.addEventListener('input', () => {
    renderCounter();
    if (desc.value.trim()) fieldError(desc, null);
  });
  $('#report-photos').addEventListener('change', addPhotos);
  form().addEventListener('submit', (e) => {
    e.preventDefault();
    submit();
  });
  renderCounter();
}

export function show() {
  state.visible = true;
  mapctl.setPickHandler((lngLat) => setPin({ lon: lngLat.lng, lat: lngLat.lat }, false, true));
  services.categories().then(() => {
    const e = services.loadError();
    if (e) $('#report-status').textContent = t('report.failed', { error: errorText(e) });
    rerender();
  });
  if (state.point) placeMarker();
  form().hidden = !!state.done;
  $('#report-done').hidden = !state.done;
  rerender();
}

export function hide() {
  state.visible = false;
  mapctl.setPickHandler(null);
  if (state.marker) state.marker.remove();
}

/** From an asset's record: a pin inside it and what it is about. */
export function prefill({ point: pt, asset }) {
  state.done = null;
  state.aboutAsset = asset || null;
  if (pt) setPin(pt, true);
}

export function rerender() {
  renderCategories();
  renderCategoryDescription();
  renderQuestions();
  renderPin();
  renderPlace();
  renderAbout();
  renderDupes();
  renderPhotos();
  renderCounter();
  if (state.done) renderDone();
}

// ---- categories ------------------------------------------------------------------------

function renderCategories() {
  const sel = $('#report-category');
  const value = sel.value;
  const groups = new Map();
  for (const s of services.known()) {
    const g = s.group || 'Other';
    if (!groups.has(g)) groups.set(g, []);
    groups.get(g).push(s);
  }
  replace(sel, h('option', { value: '', text: t('report.choose') }),
    [...groups].map(([g, list]) => h('optgroup', { label: services.groupName(g) },
      list.map((s) => h('option', { value: s.service_code, text: services.categoryName(s.service_code, s.service_name) })))));
  sel.value = value;
}

function renderCategoryDescription() {
  $('#report-category-desc').textContent = services.categoryDescription($('#report-category').value);
}

async function renderQuestions() {
  const code = $('#report-category').value;
  const box = $('#report-questions');
  // Keep answers across re-renders (language switch).
  const answers = collectAnswers();
  let attrs;
  try {
    attrs = await services.questions(code);
  } catch (e) {
    if ($('#report-category').value !== code) return;
    // Without them a required answer would be missed: say so rather than show nothing.
    replace(box, h('p', { class: 'error', role: 'alert', text: t('report.questionsFailed', { error: errorText(e) }) }));
    return;
  }
  if ($('#report-category').value !== code) return;
  replace(box, attrs.map((a) => question(a, answers[a.code])));
}

function question(a, answer) {
  const id = `report-q-${a.code}`;
  const text = services.questionText(a);
  const req = a.required ? h('span', { class: 'req', text: ` ${t('report.required')}` }) : null;
  const values = Array.isArray(a.values) ? a.values : [];
  if (values.length && values.length <= 3) {
    // role=radiogroup: aria-required is not allowed on a plain fieldset (group).
    return h('fieldset', { class: 'field radios', id, role: 'radiogroup', 'data-question': a.code, 'aria-required': a.required ? 'true' : 'false' },
      h('legend', null, text, req),
      values.map((v) => h('label', null,
        h('input', { type: 'radio', name: `attributes[${a.code}]`, value: v.key, checked: answer === v.key, required: !!a.required,
          onchange: () => fieldError($(`#${id}`), null) }),
        ' ', services.answerName(v))));
  }
  if (values.length) {
    return h('div', { class: 'field', 'data-question': a.code },
      h('label', { htmlFor: id }, text, req),
      h('select', { id, name: `attributes[${a.code}]`, required: !!a.required, onchange: (e) => fieldError(e.target, null) },
        h('option', { value: '', text: t('report.choose') }),
        values.map((v) => h('option', { value: v.key, text: services.answerName(v), selected: answer === v.key }))));
  }
  return h('div', { class: 'field', 'data-question': a.code },
    h('label', { htmlFor: id }, text, req),
    h('input', { type: 'text', id, name: `attributes[${a.code}]`, maxLength: 500, value: answer || '', required: !!a.required }));
}

function collectAnswers() {
  const out = {};
  for (const el of $('#report-questions').querySelectorAll('[name^="attributes["]')) {
    const code = el.name.slice(11, -1);
    if (el.type === 'radio') { if (el.checked) out[code] = el.value; } else if (el.value.trim()) out[code] = el.value.trim();
  }
  return out;
}

// ---- the pin -------------------------------------------------------------------------------

function placeMarker() {
  if (!mapctl.map || !state.point) return;
  if (!state.marker) {
    state.marker = new mapctl.maplibregl.Marker({ draggable: true, color: '#b2182b' });
    state.marker.on('dragend', () => {
      const ll = state.marker.getLngLat();
      setPin({ lon: ll.lng, lat: ll.lat }, false, true);
    });
  }
  state.marker.setLngLat([state.point.lon, state.point.lat]);
  if (state.visible) state.marker.addTo(mapctl.map);
  const el = state.marker.getElement();
  el.setAttribute('aria-label', pinText());
  el.setAttribute('title', pinText());
}

function pinText() {
  if (!state.point) return t('report.noPin');
  return t('report.pinAt', {
    lat: fmtNumber(state.point.lat, { maximumFractionDigits: 5, minimumFractionDigits: 5 }),
    lon: fmtNumber(state.point.lon, { maximumFractionDigits: 5, minimumFractionDigits: 5 }),
  });
}

/**
 * Puts the pin at pt. With `show`, the pin line (and, once /at answers, the ward or the
 * "outside the KMC area" warning) is scrolled into sight: on a phone the tap happens on
 * the map, and its consequence would otherwise sit below the fold, under the sticky
 * Send button.
 */
function setPin(pt, fly, show = false) {
  state.point = { lon: Math.round(pt.lon * 1e6) / 1e6, lat: Math.round(pt.lat * 1e6) / 1e6 };
  placeMarker();
  renderPin();
  fieldError($('#report-pin'), null);
  if (fly) mapctl.flyTo(state.point.lon, state.point.lat, 17);
  state.revealPlace = show && state.visible;
  if (state.revealPlace) reveal($('#report-pin'));
  lookUpPlace();
  updateDupes();
}

function renderPin() {
  $('#report-pin').textContent = pinText();
  if (state.marker) state.marker.getElement().setAttribute('aria-label', pinText());
}

async function lookUpPlace() {
  const mine = ++state.placeSeq;
  state.place = null;
  renderPlace();
  try {
    const at = await api.at(state.point.lon, state.point.lat);
    if (mine !== state.placeSeq) return;
    const props = (f) => (f && f.properties) || {};
    const names = [...(at.water_bodies || []), ...(at.parks || []), ...(at.heritage || [])].map(props);
    const nh = at.nearest_heritage;
    if (!names.length && nh && (props(nh).distance_m ?? 1e9) <= 100) names.push(props(nh));
    state.place = { ward: at.ward ? props(at.ward).ward : null, outside: !at.ward, names };
  } catch {
    state.place = null;
  }
  renderPlace();
  if (state.revealPlace && mine === state.placeSeq) {
    state.revealPlace = false;
    // The pin line and what /at said about it, together.
    reveal($('#report-where .field:has(#report-pin)') || $('#report-pin'));
    reveal($('#report-place'));
  }
}

function renderPlace() {
  const el = $('#report-place');
  if (!state.place) return replace(el);
  const bn = getLang() === 'bn';
  if (state.place.outside) {
    return replace(el, h('span', { class: 'warning', role: 'alert', text: t('report.outside') }));
  }
  const parts = [];
  if (state.place.ward !== null && state.place.ward !== undefined) parts.push(t('report.inWard', { ward: digits(state.place.ward) }));
  if (state.place.names.length) {
    const n = state.place.names[0];
    parts.push(t('report.near', { name: bn && n.name_bn ? n.name_bn : (n.name || n.code) }));
  }
  replace(el, parts.join(' · '));
}

function renderAbout() {
  const el = $('#report-about');
  if (!state.aboutAsset) {
    el.hidden = true;
    return;
  }
  const bn = getLang() === 'bn';
  el.hidden = false;
  el.textContent = t('report.about', { name: bn && state.aboutAsset.name_bn ? state.aboutAsset.name_bn : (state.aboutAsset.name || state.aboutAsset.code) });
}

function locate() {
  const status = $('#report-locate-status');
  if (!navigator.geolocation) {
    status.textContent = t('report.geoUnsupported');
    return;
  }
  status.textContent = t('report.locating');
  navigator.geolocation.getCurrentPosition((pos) => {
    status.textContent = '';
    setPin({ lon: pos.coords.longitude, lat: pos.coords.latitude }, true, true);
  }, (err) => {
    status.textContent = t('report.geoFailed', { error: err.message || err.code });
  }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
}

// ---- possible duplicates ---------------------------------------------------------------------

export function haversine(a, b) {
  const R = 6371008.8;
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const s = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * R * Math.asin(Math.sqrt(s));
}

async function updateDupes() {
  const category = $('#report-category').value;
  const mine = ++state.dupeSeq;
  state.dupesError = null;
  if (!state.point || !category) {
    state.dupes = [];
    renderDupes();
    return;
  }
  try {
    const fc = await api.openNearby(category, state.point.lon, state.point.lat);
    if (mine !== state.dupeSeq) return;
    state.dupes = (fc.features || []).map((f) => ({
      ...f.properties,
      distance_m: f.geometry ? haversine(state.point, { lon: f.geometry.coordinates[0], lat: f.geometry.coordinates[1] }) : null,
    })).sort((a, b) => (a.distance_m ?? 0) - (b.distance_m ?? 0));
  } catch (e) {
    if (mine !== state.dupeSeq) return;
    // Not "none nearby": the citizen should know the check did not happen.
    state.dupes = [];
    state.dupesError = e;
  }
  renderDupes();
}

/** A card for an open complaint nearby with "support this one" and "view". */
export function dupeCard(d, onNavigate) {
  const ticket = String(d.ticket);
  const n = state.supported.get(ticket);
  const li = h('li', { class: 'card' },
    h('p', { class: 'card-title' },
      h('span', { class: 'ticket', text: ticket }), ' ',
      h('span', { class: `badge status status-${d.status}`, text: label('status', d.status) })),
    h('p', { text: services.categoryName(d.category) }),
    h('p', { class: 'hint', text: t('report.dupeLine', { distance: fmtDistance(d.distance_m), date: fmtDate(d.created_at) }) }));
  const row = h('div', { class: 'button-row' });
  if (n !== undefined) {
    row.append(h('p', { class: 'success', role: 'status', text: tn('report.supported', n, { ticket }) }));
  } else {
    const btn = h('button', {
      type: 'button', class: 'btn btn-primary', text: t('report.support'),
      'aria-label': `${t('report.support')}: ${ticket}`,
      onclick: async () => {
        btn.disabled = true;
        try {
          const r = await api.support(ticket);
          state.supported.set(ticket, r.supporters);
          mapctl.refreshComplaints();
          if (state.visible) rerender();
          else li.replaceWith(dupeCard(d, onNavigate));
        } catch (e) {
          btn.disabled = false;
          row.append(h('p', { class: 'error', role: 'alert', text: e.status === 429 ? tn('report.rateLimited', e.retryAfter || 60) : explain(e) }));
        }
      },
    });
    row.append(btn);
  }
  row.append(h('button', {
    type: 'button', class: 'btn btn-secondary', text: t('report.view'), 'aria-label': `${t('report.view')}: ${ticket}`,
    onclick: () => onNavigate(`#track/${encodeURIComponent(ticket)}`),
  }));
  li.append(row);
  return li;
}

function renderDupes() {
  const sec = $('#report-dupes');
  const category = $('#report-category').value;
  if (!state.point || !category) {
    sec.hidden = true;
    return;
  }
  sec.hidden = false;
  const ul = $('#report-dupes-list');
  if (state.dupesError) {
    replace(ul, h('li', { class: 'error', text: t('report.dupesFailed', { error: errorText(state.dupesError) }) }));
    return;
  }
  if (!state.dupes.length) {
    replace(ul, h('li', { class: 'hint', text: t('report.noDupes') }));
    return;
  }
  replace(ul, state.dupes.map((d) => dupeCard(d, state.ctx.navigate)));
}

// ---- photos and description -----------------------------------------------------------------

function addPhotos() {
  const input = $('#report-photos');
  const problems = [];
  for (const file of Array.from(input.files || [])) {
    if (state.photos.length >= MAX_PHOTOS) {
      problems.push(t('report.tooManyPhotos'));
      break;
    }
    if (!PHOTO_TYPES.includes(file.type)) problems.push(t('report.photoType', { name: file.name }));
    else if (file.size > MAX_PHOTO_BYTES) problems.push(t('report.photoTooBig', { name: file.name }));
    else state.photos.push({ file, url: URL.createObjectURL(file) });
  }
  input.value = '';
  fieldError(input, problems.length ? problems.join(' ') : null);
  renderPhotos();
}

function renderPhotos() {
  replace($('#report-photo-list'), state.photos.map((p, i) => h('li', null,
    h('img', { src: p.url, alt: p.file.name, width: 72, height: 72 }),
    h('button', {
      type: 'button', class: 'btn-icon remove', 'aria-label': t('report.removePhoto', { name: p.file.name }),
      onclick: () => {
        URL.revokeObjectURL(p.url);
        state.photos.splice(i, 1);
        renderPhotos();
        $('#report-photos').focus();
      },
    }, h('span', { 'aria-hidden': 'true', text: '✕' })))));
}

function renderCounter() {
  const left = MAX_DESCRIPTION - [...$('#report-description').value].length;
  $('#report-description-count').textContent = tn('report.charsLeft', left);
}

// ---- sending ---------------------------------------------------------------------------------

function showErrors(list) {
  const box = $('#report-errors');
  if (!list.length) {
    box.hidden = true;
    replace(box);
    return;
  }
  box.hidden = false;
  replace(box, h('p', { text: t('report.fixErrors') }),
    h('ul', null, list.map(([control, msg]) => h('li', null,
      h('button', { type: 'button', class: 'link', text: msg, onclick: () => focusControl(control) })))));
  // The summary, not the first field, takes focus: on a phone the fields may be far
  // down the sheet, and the summary says what is wrong with each (and leads to it).
  reveal(box);
  box.focus({ preventScroll: true });
}

/** Focuses a control; for a group of radio buttons (a fieldset), its chosen or first one. */
function focusControl(control) {
  if (!control) return;
  const target = control.matches('fieldset') ? control.querySelector('input:checked') || control.querySelector('input') : control;
  (target || control).focus();
}

function controlFor(field) {
  if (!field) return null;
  if (field === 'lon' || field === 'lat' || field === 'location') return $('#report-pin');
  if (field.startsWith('attributes.')) {
    const code = field.slice(11);
    return $(`#report-q-${CSS.escape(code)}`);
  }
  if (field.startsWith('photo')) return $('#report-photos');
  return $(`#report-${CSS.escape(field)}`);
}

async function submit() {
  if (state.sending) return;
  const errors = [];
  const cat = $('#report-category');
  const desc = $('#report-description');
  for (const el of form().querySelectorAll('[aria-invalid]')) fieldError(el, null);
  fieldError($('#report-pin'), null);

  if (!state.point) errors.push([$('#report-pin'), t('report.needPin')]);
  if (!cat.value) errors.push([cat, t('report.needCategory')]);
  const answers = collectAnswers();
  for (const a of services.knownQuestions(cat.value)) {
    if (a.required && !answers[a.code]) errors.push([$(`#report-q-${CSS.escape(a.code)}`), t('report.needAnswerQ', { q: services.questionText(a) })]);
  }
  if (!desc.value.trim()) errors.push([desc, t('report.needDescription')]);
  for (const [control, msg] of errors) fieldError(control, msg);
  showErrors(errors);
  if (errors.length) return;

  const fd = new FormData();
  fd.append('lon', String(state.point.lon));
  fd.append('lat', String(state.point.lat));
  fd.append('category', cat.value);
  fd.append('description', desc.value.trim());
  for (const [k, v] of Object.entries(answers)) fd.append(`attributes[${k}]`, v);
  for (const f of ['address', 'name', 'phone', 'email']) {
    const v = $(`#report-${f}`).value.trim();
    if (v) fd.append(f, v);
  }
  // Messages about the complaint's progress (email, SMS) are written in this language.
  fd.append('language', getLang());
  for (const p of state.photos) fd.append('photo', p.file, p.file.name);

  state.sending = true;
  const send = $('#report-send');
  send.disabled = true;
  $('#report-status').textContent = t('report.sending');
  try {
    // With no network the complaint (photos and all) waits in the outbox and is filed
    // when the network returns; the ticket comes then (outbox.onSent, in init).
    const r = await outbox.submit({ kind: 'complaint', url: '/complaints', form: fd, label: services.categoryName(cat.value) });
    if (r.queued) {
      resetForm();
      $('#report-status').textContent = t('report.queued');
      return;
    }
    state.done = r.data;
    $('#report-status').textContent = '';
    remember(state.done);
    mapctl.refreshComplaints();
    resetForm();
    form().hidden = true;
    renderDone();
    const box = $('#report-done');
    box.hidden = false;
    box.focus({ preventScroll: true });
    $('#panel-body').scrollTop = 0;
  } catch (e) {
    let msg;
    if (e.status === 429) msg = tn('report.rateLimited', e.retryAfter || 60);
    else msg = t('report.failed', { error: explain(e) });
    $('#report-status').textContent = '';
    const control = e.field ? controlFor(e.field) : null;
    if (control) {
      fieldError(control, e.field === 'location' ? t('report.outside') : explain(e));
      showErrors([[control, e.field === 'location' ? t('report.outside') : msg]]);
    } else {
      showErrors([[send, msg]]);
    }
  } finally {
    state.sending = false;
    send.disabled = false;
  }
}

function remember(r) {
  const list = store.get('atlas.tickets', []).filter((x) => x && x.ticket !== r.ticket);
  list.unshift({ ticket: r.ticket, category: r.category, created_at: r.created_at });
  store.set('atlas.tickets', list.slice(0, 20));
}

function resetForm() {
  form().reset();
  for (const p of state.photos) URL.revokeObjectURL(p.url);
  state.photos = [];
  state.aboutAsset = null;
  replace($('#report-questions'));
  showErrors([]);
  renderPhotos();
  renderCounter();
  renderAbout();
  renderCategoryDescription();
  state.dupes = [];
  state.dupesError = null;
  renderDupes();
}

function renderDone() {
  const r = state.done;
  const bn = getLang() === 'bn';
  const box = $('#report-done');
  const asset = r.asset ? (bn && r.asset.name_bn ? r.asset.name_bn : r.asset.name || r.asset.code) : null;
  replace(box,
    h('h3', { class: 'success-title', text: t('report.doneTitle') }),
    h('p', { class: 'ticket-label', text: t('report.ticket') }),
    h('p', { class: 'ticket-big', id: 'report-ticket', text: r.ticket }),
    h('p', { text: t('report.keepTicket') }),
    h('dl', { class: 'facts' },
      h('dt', { text: t('track.category') }), h('dd', { text: services.categoryName(r.category, r.category_name) }),
      r.ward !== null && r.ward !== undefined ? [h('dt', { text: t('track.ward') }), h('dd', { text: digits(r.ward) })] : null,
      asset ? [h('dt', { text: t('track.asset') }), h('dd', { text: asset })] : null,
      h('dt', { text: t('track.deadline') }), h('dd', { text: fmtDate(r.deadline) })),
    (r.possible_duplicates || []).length ? h('section', { class: 'dupes' },
      h('h4', { text: t('report.possibleDupes') }),
      h('ul', { class: 'cards' }, r.possible_duplicates.map((d) => dupeCard(d, state.ctx.navigate)))) : null,
    h('div', { class: 'button-row' },
      h('button', { type: 'button', class: 'btn btn-primary', text: t('report.track'), onclick: () => state.ctx.navigate(`#track/${encodeURIComponent(r.ticket)}`) }),
      h('button', {
        type: 'button', class: 'btn btn-secondary', text: t('report.another'),
        onclick: () => {
          state.done = null;
          state.point = null;
          if (state.marker) state.marker.remove();
          renderPin();
          state.place = null;
          renderPlace();
          form().hidden = false;
          $('#report-done').hidden = true;
          $('#report-title').focus();
        },
      })));
}
