// "Map as of": a date in the legend shows the register as it stood at the end of that
// day in Kolkata (the asset tiles asked for with `as_of`; complaints, which have no
// versions, are off meanwhile), and a banner over the map says so with a way back to
// today. An asset opened meanwhile is its record of that day (asset.js).
import { $ } from './dom.js';
import { t, fmtDate, kolkataDate, onLangChange } from './i18n.js';
import * as mapctl from './mapctl.js';

export function init() {
  const input = $('#asof-date');
  const today = kolkataDate();
  input.max = today;
  input.addEventListener('change', () => {
    const v = input.value;
    // Today (or a day not yet over) is today's register.
    mapctl.setAsOf(v && v < kolkataDate() ? v : null);
    if (!mapctl.getAsOf()) input.value = '';
  });
  $('#asof-today').addEventListener('click', () => {
    mapctl.setAsOf(null);
    input.focus();
  });
  mapctl.onAsOf(render);
  onLangChange(render);
  // On phones the legend and the map's buttons move down by the banner's height (app.css).
  const banner = $('#asof-banner');
  const sync = () => document.documentElement.style.setProperty('--asof-h', `${Math.ceil(banner.getBoundingClientRect().height)}px`);
  if (window.ResizeObserver) new ResizeObserver(sync).observe(banner);
  render();
}

function render() {
  const date = mapctl.getAsOf();
  const banner = $('#asof-banner');
  banner.hidden = !date;
  document.body.classList.toggle('as-of', !!date);
  $('#asof-text').textContent = date ? t('asof.banner', { date: fmtDate(date, false) }) : '';
  const input = $('#asof-date');
  if ((input.value || null) !== date) input.value = date || '';
  // Complaints have no past: their toggle waits until the map is today's again.
  const box = $('#legend input[data-group="complaints"]');
  if (box) box.disabled = !!date;
}
