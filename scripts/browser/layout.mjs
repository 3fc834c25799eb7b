// Layout probes for the browser tests: is an element in sight (inside the window and
// every scrolling box around it, and not under anything else), and do the panel's
// floating ← ↕ ✕ buttons cover any heading or control?

/**
 * Whether the element matching `selector` can be seen whole: its box inside the window
 * and inside the visible part of every scrolling ancestor, and the topmost element at
 * its centre and near its corners is itself or inside it (not a sticky bar, the sheet's
 * tabs, a map control). Answers {ok, why}.
 */
export function inSight(page, selector) {
  return page.evaluate((sel) => {
    const el = typeof sel === 'string' ? document.querySelector(sel) : null;
    if (!el) return { ok: false, why: `no ${sel}` };
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) return { ok: false, why: `${sel} has no box` };
    let vis = { top: 0, left: 0, bottom: window.innerHeight, right: window.innerWidth };
    for (let a = el.parentElement; a && a !== document.documentElement; a = a.parentElement) {
      const cs = getComputedStyle(a);
      if (/(auto|scroll|hidden|clip)/.test(`${cs.overflowX} ${cs.overflowY}`)) {
        const ar = a.getBoundingClientRect();
        vis = { top: Math.max(vis.top, ar.top), left: Math.max(vis.left, ar.left), bottom: Math.min(vis.bottom, ar.bottom), right: Math.min(vis.right, ar.right) };
      }
    }
    const box = (x) => `${Math.round(x.top)}–${Math.round(x.bottom)}`;
    if (r.top < vis.top - 1 || r.bottom > vis.bottom + 1 || r.left < vis.left - 1 || r.right > vis.right + 1) {
      return { ok: false, why: `${sel} at y ${box(r)} outside the visible y ${box(vis)}` };
    }
    const inset = Math.min(4, r.width / 4, r.height / 4);
    const points = [[(r.left + r.right) / 2, (r.top + r.bottom) / 2], [r.left + inset, r.top + inset], [r.right - inset, r.top + inset],
      [r.left + inset, r.bottom - inset], [r.right - inset, r.bottom - inset]];
    for (const [x, y] of points) {
      const top = document.elementFromPoint(x, y);
      if (top && !el.contains(top) && !top.contains(el)) {
        const name = top.id ? `#${top.id}` : `${top.tagName.toLowerCase()}.${[...top.classList].join('.')}`;
        return { ok: false, why: `${sel} covered at (${Math.round(x)}, ${Math.round(y)}) by ${name}` };
      }
    }
    return { ok: true, why: '' };
  }, selector);
}

/**
 * Every overlap between the panel's ← ↕ ✕ buttons and a heading, label, control, link,
 * error or status line of the open view, at several scroll positions of the panel (the
 * part of each element that the panel shows). Answers a list of "button over element".
 */
export async function toolOverlaps(page) {
  const found = new Set();
  const before = await page.evaluate(() => document.querySelector('#panel-body').scrollTop);
  const positions = await page.evaluate(() => {
    const b = document.querySelector('#panel-body');
    const max = Math.max(0, b.scrollHeight - b.clientHeight);
    return [0, 0.25, 0.5, 0.75, 1].map((f) => Math.round(max * f));
  });
  for (const y of positions) {
    const list = await page.evaluate((scrollTop) => {
      const body = document.querySelector('#panel-body');
      body.scrollTop = scrollTop;
      const shown = (e) => e.getClientRects().length && getComputedStyle(e).visibility !== 'hidden';
      const tools = [...document.querySelectorAll('#panel-back, #panel-size, #panel-close')].filter(shown);
      const clip = body.getBoundingClientRect();
      const things = [...body.querySelectorAll('h1, h2, h3, h4, label, legend, summary, button, input, select, textarea, a[href], .field-error, .error, [role="alert"], [role="status"]')]
        .filter((e) => shown(e) && !e.closest('[hidden]') && !e.classList.contains('visually-hidden'));
      things.push(...[...document.querySelectorAll('#tabs .tab')].filter(shown));
      const out = [];
      for (const tool of tools) {
        const a = tool.getBoundingClientRect();
        for (const e of things) {
          const r = e.getBoundingClientRect();
          const inBody = body.contains(e);
          const top = Math.max(r.top, inBody ? clip.top : -Infinity);
          const bottom = Math.min(r.bottom, inBody ? clip.bottom : Infinity);
          const left = Math.max(r.left, inBody ? clip.left : -Infinity);
          const right = Math.min(r.right, inBody ? clip.right : Infinity);
          if (bottom - top < 1 || right - left < 1) continue; // scrolled out of the panel
          const w = Math.min(right, a.right) - Math.max(left, a.left);
          const h = Math.min(bottom, a.bottom) - Math.max(top, a.top);
          if (w > 0.5 && h > 0.5) {
            const name = e.id ? `#${e.id}` : `${e.tagName.toLowerCase()} "${(e.textContent || e.getAttribute('aria-label') || '').trim().slice(0, 30)}"`;
            out.push(`${tool.id} over ${name}`);
          }
        }
      }
      return out;
    }, y);
    for (const x of list) found.add(x);
  }
  await page.evaluate((y) => { document.querySelector('#panel-body').scrollTop = y; }, before);
  return [...found];
}

/** The most recent 00:30 in Kolkata (IST, UTC+5:30) before `now`: 19:00 UTC the day before. */
export function halfPastMidnightIST(now = new Date()) {
  const t = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate(), 19, 0, 0));
  if (t > now) t.setUTCDate(t.getUTCDate() - 1);
  return t;
}
