// "Track a ticket" (#track/EH-2026-000123): status, details and public timeline of a
// complaint, "me too" support, and the tickets filed from this device.
import { h, replace, $, store } from './dom.js';
import { t, tn, fmtDate } from './i18n.js';
import { api, errorText, staffSession } from './api.js';
import { explain } from './errors.js';
import * as mapctl from './mapctl.js';
import { reveal } from './panel.js';
import * as complaint from './complaint.js';
import { categoryName, categories } from './services.js';
import * as staff from './staff.js';
import * as verify from './verify.js';
import * as flag from './flag.js';
import * as feed from './feed.js';

let ctx;
let ticket = null;
let data = null;
let error = null;
let seq = 0;
let justSupported = null;

const TICKET = /^EH-\d{4}-\d{6,}$/;

export function init(c) {
  ctx = c;
  verify.initStatic();
  $('#track-form').addEventListener('submit', (e) => {
    e.preventDefault();
    const v = $('#track-ticket').value.trim().toUpperCase();
    if (!v) {
      $('#track-ticket').focus();
      return;
    }
    ctx.navigate(`#track/${encodeURIComponent(v)}`);
  });
}

export function show(arg) {
  categories().then(() => { if (data) render(); }); // category names
  if (arg) {
    $('#track-ticket').value = arg;
    // Read afresh each time the view opens: the record may have moved on, and a photo
    // the department has since hidden would no longer load.
    load(arg);
  } else {
    ticket = null;
    data = null;
    error = null;
    render();
  }
}

export function hide() {
  seq++;
  mapctl.clearHighlight();
}

export function rerender() { render(); }

async function load(tk) {
  const mine = ++seq;
  ticket = tk;
  data = null;
  error = null;
  justSupported = null;
  replace($('#track-result'), h('p', { text: t('asset.loading') }));
  try {
    const c = await api.complaint(tk);
    if (mine !== seq) return;
    data = c;
    mapctl.highlight({ type: 'Point', coordinates: [c.lon, c.lat] });
    const m = mapctl.map;
    if (m && !m.getBounds().contains([c.lon, c.lat])) mapctl.flyTo(c.lon, c.lat, 16);
  } catch (e) {
    if (mine !== seq) return;
    error = e;
  }
  render();
}

/** Tickets filed from this browser (remembered by the Report form). */
function myTickets() {
  return store.get('atlas.tickets', []).filter((x) => x && typeof x.ticket === 'string' && TICKET.test(x.ticket));
}

function renderMine() {
  const mine = myTickets();
  const box = $('#track-mine');
  if (!mine.length) return replace(box);
  replace(box, h('h3', { text: t('track.mine') }),
    h('ul', { class: 'chips' }, mine.map((x) => h('li', null,
      h('button', {
        type: 'button', class: 'chip', onclick: () => ctx.navigate(`#track/${encodeURIComponent(x.ticket)}`),
        'aria-current': x.ticket === ticket ? 'true' : null,
      }, h('span', { class: 'ticket', text: x.ticket }), ' ',
      h('span', { class: 'hint', text: [categoryName(x.category), fmtDate(x.created_at, false)].filter(Boolean).join(' · ') }))))));
}

function render() {
  renderMine();
  const out = $('#track-result');
  if (!ticket) return replace(out);
  if (error) {
    return replace(out, h('p', { class: 'error', role: 'alert', text: error.status === 404 ? t('track.notFound', { ticket }) : t('track.error', { error: errorText(error) }) }));
  }
  if (!data) return undefined;
  const c = data;
  const flagIt = (item, what) => flag.control(c.ticket, item, what);
  const open = ['submitted', 'acknowledged', 'in_progress'].includes(c.status);
  // Filing counts as supporting: "Me too" on one's own ticket would count twice.
  const own = myTickets().some((x) => x.ticket === c.ticket);
  const buttons = h('div', { class: 'button-row' },
    h('button', {
      type: 'button', class: 'btn btn-secondary', text: t('track.showOnMap'),
      onclick: () => {
        mapctl.highlight({ type: 'Point', coordinates: [c.lon, c.lat] });
        mapctl.flyTo(c.lon, c.lat, 17);
      },
    }));
  if (open && !own) {
    const btn = h('button', {
      type: 'button', class: 'btn btn-primary', id: 'track-support', text: t('track.support'),
      onclick: async () => {
        btn.disabled = true;
        try {
          const r = await api.support(c.ticket);
          data = { ...data, supporters: r.supporters };
          justSupported = r.supporters;
          mapctl.refreshComplaints();
          render();
          // The thanks is at the top of the record; the button was at its foot.
          const thanks = $('#track-thanks');
          reveal(thanks);
          thanks.focus({ preventScroll: true });
        } catch (e) {
          btn.disabled = false;
          buttons.append(h('p', { class: 'error', role: 'alert', text: e.status === 429 ? tn('report.rateLimited', e.retryAfter || 60) : explain(e) }));
        }
      },
    });
    if (justSupported === null) buttons.prepend(btn);
  }
  if (staffSession()) {
    buttons.append(h('button', {
      type: 'button', class: 'btn btn-secondary', text: t('track.manage'),
      onclick: () => {
        staff.openTicket(c.ticket);
        ctx.navigate('#staff');
      },
    }));
  }
  replace(out,
    h('h3', { class: 'ticket-head' }, h('span', { class: 'ticket', id: 'track-ticket-id', text: c.ticket }), ' ', complaint.statusBadge(c.status)),
    justSupported !== null ? h('p', { class: 'success', id: 'track-thanks', role: 'status', tabindex: '-1', text: tn('track.supported', justSupported) }) : null,
    own ? h('p', { class: 'hint', id: 'track-own', text: t('track.yours') }) : null,
    complaint.facts(c, ctx.navigate),
    complaint.answers(c),
    complaint.description(c, 'track-description', { flag: flagIt }),
    complaint.photos(c, { flag: flagIt }),
    complaint.timeline(c, { flag: flagIt }),
    buttons,
    feed.wardLink(c.ward, 'track-feed'));
  return undefined;
}
