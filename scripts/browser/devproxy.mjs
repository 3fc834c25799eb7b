// A development server for the web app: serves web/ from the work tree (so a change to a
// page is seen on reload, without rebuilding the server, which embeds web/ at compile
// time) and passes every other request (the API, tiles, styles, glyphs) to a running
// heritage-atlas. Only for working on the app and running the browser tests against it;
// the real server needs none of this.
//
// Usage: node devproxy.mjs LISTEN_PORT UPSTREAM_URL [WEB_DIR]
//   node devproxy.mjs 18902 http://127.0.0.1:18901 ../../web
import http from 'node:http';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const [port, upstream, dirArg] = process.argv.slice(2);
if (!port || !upstream) {
  console.error('usage: node devproxy.mjs LISTEN_PORT UPSTREAM_URL [WEB_DIR]');
  process.exit(2);
}
const webDir = path.resolve(dirArg || path.join(path.dirname(fileURLToPath(import.meta.url)), '../../web'));
const up = new URL(upstream);

const TYPES = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.mjs': 'text/javascript',
  '.css': 'text/css', '.svg': 'image/svg+xml', '.json': 'application/json', '.txt': 'text/plain',
  '.woff2': 'font/woff2', '.png': 'image/png', '.webmanifest': 'application/manifest+json',
};

/** The file of web/ a path names, or null (never outside web/). */
async function webFile(pathname) {
  let rel;
  try { rel = decodeURIComponent(pathname); } catch { return null; }
  if (rel === '/') rel = '/index.html';
  const full = path.resolve(webDir, `.${rel}`);
  if (!full.startsWith(webDir + path.sep)) return null;
  try {
    return (await stat(full)).isFile() ? full : null;
  } catch { return null; }
}

http.createServer(async (req, res) => {
  const u = new URL(req.url, 'http://x');
  const wantsHtml = /text\/html/.test(req.headers.accept || '');
  const file = req.method === 'GET' && (u.pathname !== '/' || wantsHtml) ? await webFile(u.pathname) : null;
  if (file) {
    res.writeHead(200, { 'Content-Type': TYPES[path.extname(file)] || 'application/octet-stream', 'Cache-Control': 'no-cache' });
    res.end(await readFile(file));
    return;
  }
  const headers = { ...req.headers, host: up.host };
  const p = http.request({ host: up.hostname, port: up.port, method: req.method, path: req.url, headers }, (r) => {
    res.writeHead(r.statusCode, r.headers);
    r.pipe(res);
  });
  p.on('error', (e) => { res.writeHead(502, { 'Content-Type': 'text/plain' }); res.end(String(e)); });
  req.pipe(p);
}).listen(Number(port), '127.0.0.1', () => console.log(`web/ from ${webDir}, the rest from ${upstream}, on port ${port}`));
