// Charts for the dashboard: bars (one value per group) and lines (values per month),
// drawn with uPlot (vendored in web/vendor/uplot/, fetched on first use so nobody who
// never opens the dashboard downloads it). A chart is a canvas, so each one comes as a
// figure: the canvas is an image named by its caption, and the same figures follow in
// a table (folded in a <details>) that screen readers, keyboards and copy-paste can use.
import { h } from './dom.js';
import { t, fmtNumber } from './i18n.js';

let lib = null;

/** uPlot, and its stylesheet (a <link>: the CSP allows our own stylesheets). */
function uplot() {
  if (!lib) {
    if (!document.querySelector('link[data-uplot]')) {
      document.head.append(h('link', { rel: 'stylesheet', href: '/vendor/uplot/uPlot.min.css', 'data-uplot': '' }));
    }
    lib = import('/vendor/uplot/uPlot.esm.js').then((m) => m.default);
  }
  return lib;
}

// The page's own font stack on the canvas, so the axes read in Bengali digits.
const FONT = '12px "Noto Sans Bengali", system-ui, "Noto Sans", "DejaVu Sans", sans-serif';
const INK = '#1f1f1f';
const GRID = '#e0ddd5';

/** Colours of the series, in order; distinct and ≥ 3:1 against white. */
export const SERIES_COLOURS = ['#0b5394', '#b45309', '#2e7d32', '#6d28d9'];

/**
 * A chart with its table.
 *   kind: 'bars' | 'lines'
 *   id: prefix of the elements' ids
 *   caption: what it shows (the figure's caption, the canvas's name, the table's caption)
 *   labels: the x values as text (groups, months)
 *   series: [{label, values: [number|null], format?: (v) => text}]
 *   xLabel: the heading of the table's first column
 * Returns the <figure>; the canvas is drawn into it once uPlot is here.
 */
export function chart({ kind, id, caption, labels, series, xLabel }) {
  const plot = h('div', { class: 'chart-plot', id: `${id}-plot`, role: 'img', 'aria-label': t('chart.imageLabel', { caption }) });
  const fmt = (s, v) => (v === null || v === undefined ? '–' : (s.format ? s.format(v) : fmtNumber(v)));
  const table = h('table', { class: 'diff chart-table', id: `${id}-table` },
    h('caption', { text: caption }),
    h('thead', null, h('tr', null,
      h('th', { scope: 'col', text: xLabel }),
      series.map((s) => h('th', { scope: 'col', class: 'num', text: s.label })))),
    h('tbody', null, labels.map((l, i) => h('tr', null,
      h('th', { scope: 'row', text: l }),
      series.map((s) => h('td', { class: 'num', text: fmt(s, s.values[i]) }))))));
  const key = series.length > 1 ? h('ul', { class: 'chart-key' }, series.map((s, i) => h('li', null,
    h('span', { class: `swatch ${kind === 'lines' ? 'line' : ''}`, style: `background:${SERIES_COLOURS[i]}` }), s.label))) : null;
  const fig = h('figure', { class: 'chart', id },
    h('figcaption', { text: caption }),
    key,
    labels.length ? plot : h('p', { class: 'hint', text: t('chart.empty') }),
    labels.length ? h('details', { class: 'chart-data' }, h('summary', { text: t('chart.asTable') }), h('div', { class: 'table-scroll' }, table)) : null);
  if (labels.length) draw(plot, kind, labels, series);
  return fig;
}

async function draw(plot, kind, labels, series) {
  let U;
  try {
    U = await uplot();
  } catch (e) {
    plot.replaceChildren(h('p', { class: 'hint', text: t('chart.failed') }));
    return;
  }
  const width = () => Math.max(200, Math.floor(plot.clientWidth || plot.parentElement.clientWidth || 320));
  const height = 200;
  const xs = labels.map((_, i) => i);
  // A label every so many bars or months so they never overlap: the table has them all.
  const every = Math.max(1, Math.ceil(labels.length / Math.max(1, Math.floor(width() / 44))));
  const yMax = Math.max(1, ...series.flatMap((s) => s.values.filter((v) => v !== null && v !== undefined)));
  const opts = {
    width: width(),
    height,
    legend: { show: false },
    cursor: { show: false },
    select: { show: false },
    scales: {
      x: { time: false, range: () => [-0.5, labels.length - 0.5] },
      y: { range: () => [0, yMax * 1.05] },
    },
    axes: [
      {
        stroke: INK, font: FONT, grid: { show: false }, ticks: { stroke: GRID },
        splits: () => xs.filter((i) => i % every === 0),
        values: (u, splits) => splits.map((i) => labels[i] ?? ''),
        size: 34,
      },
      {
        stroke: INK, font: FONT, grid: { stroke: GRID }, ticks: { stroke: GRID },
        values: (u, splits) => splits.map((v) => (Number.isInteger(v) || Math.abs(v) >= 10 ? fmtNumber(v, { maximumFractionDigits: 0 }) : fmtNumber(v, { maximumFractionDigits: 2 }))),
        size: 48,
      },
    ],
    series: [{}, ...series.map((s, i) => ({
      label: s.label,
      stroke: SERIES_COLOURS[i],
      width: kind === 'bars' ? 0 : 2,
      fill: kind === 'bars' ? SERIES_COLOURS[i] : undefined,
      points: { show: kind !== 'bars' && labels.length <= 24, size: 5, fill: SERIES_COLOURS[i] },
      // Bars of later series drawn narrower, inside the first (overdue inside filed).
      paths: kind === 'bars' ? U.paths.bars({ size: [Math.max(0.25, 0.7 - 0.35 * i), 60], align: 0 }) : undefined,
    }))],
  };
  const data = [xs, ...series.map((s) => s.values.map((v) => (v === undefined ? null : v)))];
  plot.replaceChildren();
  const u = new U(opts, data, plot);
  // The canvas itself is inside role="img": nothing in it to read twice.
  for (const c of plot.querySelectorAll('canvas')) c.setAttribute('aria-hidden', 'true');
  if (window.ResizeObserver) {
    let last = width();
    const ro = new ResizeObserver(() => {
      // A redraw of the view replaces the figure: let go of the old chart.
      if (!plot.isConnected) {
        ro.disconnect();
        u.destroy();
        return;
      }
      const w = width();
      if (w !== last) { last = w; u.setSize({ width: w, height }); }
    });
    ro.observe(plot);
  }
}
