// The service worker: the app opens and works with no network (docs/frontend.md, "Offline
// field mode"). It lives at the site's root so its scope is `/`. Written by hand (no
// Workbox): three kinds of request, three rules.
//
// * The app shell (the page, app.js, app.css, web/js/*.js, vendored MapLibre, the style,
//   TileJSON, glyphs and web fonts, icons): network first, so an online visitor always
//   runs the newest files (the server sends them `no-cache` with an ETag, so this costs
//   nothing more than before); each answer is kept in the shell cache, the copy used
//   with no network. Installing fills that cache: the page, every module it imports
//   (found by reading the imports, so a new module needs no list kept here), MapLibre,
//   the style, its TileJSON and first glyphs: what the page fetched anyway, so installing
//   costs a visitor revalidations, not downloads.
// * Tiles and API reads (GET): network first, never stored here; with no network, the
//   answer a field officer saved with "Keep ward N offline" (caches `atlas-ward-N`,
//   written by the page, js/offline.js). Tiles are matched without their query (the
//   page adds `?v=` after an edit).
// * Writes (POST, PATCH, …) are not touched: the page's outbox (js/outbox.js) queues them.
//
// Nothing a staff member fetched with their token is stored: a request with an
// Authorization header is never written to a cache, and API answers reach a cache only
// through a ward the officer saved (public records, fetched without a token).
const VERSION = 'v1';
const SHELL = `atlas-shell-${VERSION}`;
const WARD_PREFIX = 'atlas-ward-';

// Fetched when installing, whatever the page imports.
const CORE = ['/', '/app.js', '/app.css', '/vendor/maplibre-gl/maplibre-gl.mjs', '/vendor/maplibre-gl/maplibre-gl-worker.mjs',
  '/vendor/maplibre-gl/maplibre-gl.css', '/styles/heritage.json'];
const EXTRA = ['/favicon.svg', '/manifest.webmanifest', '/icons/icon.svg', '/icons/icon-192.png', '/icons/icon-512.png', '/icons/icon-maskable-512.png'];
// The glyphs of the first map a visitor sees (Basic Latin and Latin-1: fetched by the page
// already, so only revalidated here). The Bengali strings and web fonts and the rarer
// glyph ranges are not fetched for every visitor: they are kept when used, and saving a
// ward for offline use fetches them (js/offline.js).
const GLYPH_RANGES = ['0-255'];

// `/` itself is not here: it is the page only for a browser asking for HTML (a navigation);
// asked for JSON it is the OGC API landing page, which is not the shell's.
const isShell = (p) => p === '/app.js' || p === '/app.css' || p === '/favicon.svg'
  || p === '/manifest.webmanifest' || /^\/(js|vendor|icons|fonts|webfonts|styles)\//.test(p) || /^\/tiles\/[^/]+\.json$/.test(p);
const isTile = (p) => /^\/tiles\/[^/]+\/\d+\/\d+\/\d+(\.\w+)?$/.test(p);

/** The cache key of a shell file or tile: its path, without the query. */
const bare = (url) => {
  const u = new URL(url, self.location.origin);
  return u.origin + u.pathname;
};

// ---- install: the shell ---------------------------------------------------------------------

/**
 * Module specifiers a script imports statically (`from '…'`, `import '…'`). Dynamic
 * `import()`s are left: they load what only some visitors need (the Bengali strings,
 * terra-draw, uPlot, pmtiles), kept in the cache once used.
 */
function imports(text) {
  const found = new Set();
  const re = /(?:\bfrom\s*|\bimport\s+)(['"])([^'"\n]+)\1/g;
  let m;
  while ((m = re.exec(text))) found.add(m[2]);
  return found;
}

async function precache() {
  const cache = await caches.open(SHELL);
  const done = new Set();
  const put = async (url, critical) => {
    const key = bare(url);
    if (done.has(key)) return null;
    done.add(key);
    try {
      // The page is `/` asked for as HTML (the server answers JSON otherwise).
      const headers = key === bare('/') ? { Accept: 'text/html' } : {};
      const res = await fetch(url, { cache: 'no-cache', credentials: 'same-origin', headers });
      if (!res.ok) throw new Error(`${url}: HTTP ${res.status}`);
      await cache.put(key, res.clone());
      return res;
    } catch (e) {
      if (critical) throw e;
      return null;
    }
  };
  const origin = self.location.origin;
  const local = (u) => u.origin === origin;

  // The page, then what it names (modulepreload, stylesheets, its script).
  const page = await put('/', true);
  const html = await page.text();
  const named = [...html.matchAll(/\b(?:href|src)="(\/[^"#]*)"/g)].map((m) => m[1]).filter((p) => !p.endsWith('.atom'));
  // Every module reachable from app.js (ours; MapLibre is in CORE).
  const queue = ['/app.js', ...named.filter((p) => p.startsWith('/js/'))];
  const scripts = new Set();
  while (queue.length) {
    const p = queue.shift();
    if (scripts.has(p)) continue;
    scripts.add(p);
    const res = await put(p, p === '/app.js');
    if (!res) continue;
    for (const spec of imports(await res.text())) {
      if (!/^(\.{1,2}\/|\/)/.test(spec)) continue;
      const u = new URL(spec, new URL(p, origin));
      if (!local(u)) continue;
      if (u.pathname.startsWith('/js/') || u.pathname === '/app.js') queue.push(u.pathname);
    }
  }
  for (const p of CORE) await put(p, true);
  await Promise.all([...named, ...EXTRA].map((p) => put(p, false)));

  // What the style needs: its sources' TileJSON and the first glyphs of its fontstacks.
  try {
    const style = await (await cache.match(bare('/styles/heritage.json'))).json();
    const urls = [];
    for (const src of Object.values(style.sources || {})) if (src.url) urls.push(src.url);
    const stacks = (style.metadata && style.metadata['heritage-atlas:fontstacks']) || ['Noto Sans Regular', 'Noto Sans Bold'];
    if (style.glyphs) {
      for (const s of stacks) for (const r of GLYPH_RANGES) urls.push(style.glyphs.replace('{fontstack}', encodeURIComponent(s)).replace('{range}', r));
    }
    await Promise.all(urls.map((u) => new URL(u, origin)).filter(local).map((u) => put(u.href, false)));
  } catch (e) {
    console.warn('sw: the style could not be read; its glyphs come when first used', e);
  }
}

self.addEventListener('install', (event) => {
  event.waitUntil(precache().then(() => self.skipWaiting()));
});

// ---- activate: drop old shells --------------------------------------------------------------

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      // Saved wards are the officer's, not the app version's: they stay.
      if (name.startsWith('atlas-shell-') && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

// ---- fetch ----------------------------------------------------------------------------------

/** A saved ward's answer for `key`, or undefined. */
async function fromWards(key) {
  for (const name of await caches.keys()) {
    if (!name.startsWith(WARD_PREFIX)) continue;
    const hit = await (await caches.open(name)).match(key);
    if (hit) return hit;
  }
  return undefined;
}

async function shell(request, path) {
  const key = request.mode === 'navigate' ? bare('/') : bare(request.url);
  try {
    const res = await fetch(request);
    // Only a whole, public answer is kept (no partial content, nothing sent with a token).
    if (res.status === 200 && !request.headers.has('Authorization') && (request.mode !== 'navigate' || path === '/')) {
      const copy = res.clone();
      caches.open(SHELL).then((c) => c.put(key, copy)).catch(() => {});
    }
    return res;
  } catch (e) {
    const hit = (await caches.match(key, { cacheName: SHELL })) || (await fromWards(key));
    if (hit) return hit;
    throw e;
  }
}

/** Tiles and API reads: the network, else what a saved ward holds under `key`. */
async function networkOrWard(request, key) {
  try {
    return await fetch(request);
  } catch (e) {
    const hit = await fromWards(key);
    if (hit) return hit;
    throw e;
  }
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  const path = url.pathname;
  if (request.mode === 'navigate' && (path === '/' || path === '/index.html' || path.startsWith('/verify/'))) {
    // Every page of the app is index.html (a verification link's path too).
    event.respondWith(shell(request, path));
  } else if (isTile(path)) {
    event.respondWith(networkOrWard(request, bare(request.url)));
  } else if (isShell(path)) {
    event.respondWith(shell(request, path));
  } else if (request.headers.get('Range')) {
    // A partial read (a PDF viewer's) goes to the network as it is.
  } else {
    event.respondWith(networkOrWard(request, request.url));
  }
});
