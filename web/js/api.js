// The server's HTTP API. Every call goes to our own origin (the CSP allows nothing else).
import { session } from './dom.js';
import { t } from './i18n.js';
import * as saved from './offlinedata.js';

export class ApiError extends Error {
  constructor(status, body, retryAfter) {
    const description = body && typeof body === 'object' && body.description
      ? String(body.description)
      : (status === 0 ? t('err.network') : t('err.generic', { status }));
    super(description);
    this.status = status;
    this.code = body && body.code ? String(body.code) : (status === 0 ? 'network' : 'http');
    this.field = body && body.field ? String(body.field) : null;
    this.description = description;
    this.retryAfter = retryAfter;
    this.body = body && typeof body === 'object' ? body : null; // a 412's `current` feature
    this.etag = null; // a 412's ETag: the current version's
  }
}

const TOKEN_KEY = 'atlas.staff';

/** The signed-in staff member {token, expires_at, user}, or null. Kept per tab. */
export function staffSession() {
  const s = session.get(TOKEN_KEY);
  if (!s || !s.token) return null;
  if (s.expires_at && Date.parse(s.expires_at) < Date.now()) {
    session.remove(TOKEN_KEY);
    return null;
  }
  return s;
}

export function setStaffSession(s) {
  if (s) session.set(TOKEN_KEY, s);
  else session.remove(TOKEN_KEY);
}

const unauthorizedListeners = new Set();
export function onUnauthorized(fn) { unauthorizedListeners.add(fn); }

// An applicant for permission signs in with a one-time code sent to their email address or
// phone; their token (`ap_…`, 12 hours) is kept per tab, as staff's is.
const APPLICANT_KEY = 'atlas.applicant';

/** The signed-in applicant {token, expires_at, contact}, or null. */
export function applicantSession() {
  const s = session.get(APPLICANT_KEY);
  if (!s || !s.token) return null;
  if (s.expires_at && Date.parse(s.expires_at) < Date.now()) {
    session.remove(APPLICANT_KEY);
    return null;
  }
  return s;
}

export function setApplicantSession(s) {
  if (s) session.set(APPLICANT_KEY, s);
  else session.remove(APPLICANT_KEY);
}

const applicantOutListeners = new Set();
/** fn(err) when the server no longer takes the applicant's token (expired, signed out elsewhere). */
export function onApplicantUnauthorized(fn) { applicantOutListeners.add(fn); }

/** The Authorization header for a call as staff (`auth`) or as the applicant. */
function bearer(auth, applicant) {
  const s = applicant ? applicantSession() : (auth ? staffSession() : null);
  return s ? `Bearer ${s.token}` : null;
}

/** A 401 on a call made with a token drops that token and tells the views. */
function dropToken(auth, applicant, err) {
  if (applicant) {
    setApplicantSession(null);
    for (const fn of applicantOutListeners) fn(err);
  } else if (auth) {
    setStaffSession(null);
    for (const fn of unauthorizedListeners) fn(err);
  }
}

/**
 * One request. JSON in (`json`, with `type` for its media type), JSON out. With `full`
 * the answer is {status, data, etag, location}; `keep` lists error statuses answered as
 * data rather than thrown (a delisted asset's 410 carries its record).
 */
async function request(method, url, { json, type, form, raw, auth = false, applicant = false, signal, ifMatch, key, full = false, keep = [] } = {}) {
  const headers = { Accept: 'application/json' };
  let body;
  if (ifMatch) headers['If-Match'] = ifMatch;
  // A write that may be sent again (the outbox's, outbox.js): the server answers a repeat
  // of the same key with the first answer instead of writing twice.
  if (key) headers['Idempotency-Key'] = key;
  if (json !== undefined) {
    headers['Content-Type'] = type || 'application/json';
    body = JSON.stringify(json);
  } else if (form) {
    body = form; // the browser sets multipart/form-data with its boundary
  } else if (raw) {
    headers['Content-Type'] = 'application/octet-stream';
    body = raw;
  }
  const token = bearer(auth, applicant);
  if (token) headers.Authorization = token;
  let res;
  try {
    res = await fetch(url, { method, headers, body, signal, credentials: 'same-origin' });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, null);
  }
  let data = null;
  const text = await res.text();
  if (text) {
    try { data = JSON.parse(text); } catch { data = null; }
  }
  if (!res.ok && !keep.includes(res.status)) {
    const retry = Number(res.headers.get('Retry-After'));
    const err = new ApiError(res.status, data, Number.isFinite(retry) && res.headers.get('Retry-After') ? retry : null);
    err.etag = res.headers.get('ETag');
    if (res.status === 401 && token) dropToken(auth, applicant, err);
    throw err;
  }
  if (!full) return data;
  return {
    status: res.status, data, etag: res.headers.get('ETag'), location: res.headers.get('Location'),
    replayed: res.headers.get('Idempotent-Replayed') === 'true',
  };
}

/** A SHA-256 as it may go into a path: 64 lower-case hex digits, or an error. */
function docId(sha) {
  const s = String(sha || '').toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(s)) throw new ApiError(404, { code: 'not_found', description: 'not a SHA-256' });
  return s;
}

/** A GET whose answer is not JSON (a file, plain text): the Response, or an ApiError. */
async function raw(url, signal) {
  const headers = {};
  const s = staffSession();
  if (s) headers.Authorization = `Bearer ${s.token}`;
  let res;
  try {
    res = await fetch(url, { headers, signal, credentials: 'same-origin' });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, null);
  }
  if (!res.ok) {
    let body = null;
    try { body = await res.json(); } catch { body = null; }
    throw new ApiError(res.status, body);
  }
  return res;
}

/**
 * A file sent as the body of a PUT, with its progress: `onProgress(sent, total)` as it goes
 * (fetch cannot report an upload's progress; XMLHttpRequest can). JSON out, errors as
 * ApiError like `request`.
 */
function upload(method, url, file, { auth = false, applicant = false, onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, url);
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader('Content-Type', file.type || 'application/octet-stream');
    const token = bearer(auth, applicant);
    if (token) xhr.setRequestHeader('Authorization', token);
    if (onProgress) xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    if (signal) signal.addEventListener('abort', () => xhr.abort());
    xhr.addEventListener('load', () => {
      let data = null;
      try { data = xhr.responseText ? JSON.parse(xhr.responseText) : null; } catch { data = null; }
      if (xhr.status >= 200 && xhr.status < 300) return resolve(data);
      const retry = Number(xhr.getResponseHeader('Retry-After'));
      const err = new ApiError(xhr.status, data, Number.isFinite(retry) && xhr.getResponseHeader('Retry-After') ? retry : null);
      if (xhr.status === 401 && token) dropToken(auth, applicant, err);
      return reject(err);
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, null)));
    xhr.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
    xhr.send(file);
  });
}

/**
 * `call()`, or with no network (status 0) `fallback()`: the wards a field officer kept
 * offline answer search, Near me and "which ward" (offlinedata.js). An empty offline
 * answer is not taken for a real one: the network error stands then.
 */
async function orSaved(call, fallback) {
  try {
    return await call();
  } catch (e) {
    if (!(e instanceof ApiError) || e.status !== 0) throw e;
    let r = null;
    try { r = await fallback(); } catch { r = null; }
    if (!r || (r.features && !r.features.length && !(await saved.wards()).length)) throw e;
    return r;
  }
}

const qs = (params) => {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') u.set(k, String(v));
  }
  return u.toString();
};

/**
 * Heritage-impact screening (`POST /screening`): the work as GeoJSON (`{geometry}`, sent as
 * JSON with the distance and layers) or a file's bytes (`{file, type, crs?}`: its media type;
 * the distance, layers and the file's CRS if it declares none then in the query). Answers
 * the text in format `f` (json, geojson or
 * csv), which the view keeps for downloads; errors as ApiError.
 */
async function screening(work, { distance_m, layers, f }, signal) {
  let url;
  let init;
  if (work.file) {
    url = `/screening?${qs({ distance_m, layers, crs: work.crs, f })}`;
    init = { headers: { 'Content-Type': work.type }, body: work.file };
  } else {
    url = `/screening?${qs({ f })}`;
    init = { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ geometry: work.geometry, distance_m, layers }) };
  }
  init.headers.Accept = { csv: 'text/csv', geojson: 'application/geo+json' }[f] || 'application/json';
  let res;
  try {
    res = await fetch(url, { method: 'POST', ...init, signal, credentials: 'same-origin' });
  } catch (e) {
    if (e && e.name === 'AbortError') throw e;
    throw new ApiError(0, null);
  }
  const text = await res.text();
  if (!res.ok) {
    let body = null;
    try { body = JSON.parse(text); } catch { body = null; }
    const retry = Number(res.headers.get('Retry-After'));
    throw new ApiError(res.status, body, Number.isFinite(retry) && res.headers.get('Retry-After') ? retry : null);
  }
  return text;
}

export const api = {
  qs,
  search: (q, signal, limit = 8) => orSaved(() => request('GET', `/search?${qs({ q, limit })}`, { signal }), () => saved.search(q, limit)),
  /** An asset's record; a delisted one (410) too, with `delisted: {at, reason}`. */
  asset: (id, asOf) => request('GET', `/assets/${encodeURIComponent(id)}${asOf ? `?${qs({ as_of: asOf })}` : ''}`, { keep: [410] }),
  nearby: (p, signal) => orSaved(() => request('GET', `/nearby?${qs(p)}`, { signal }), () => saved.nearby(p)),
  at: (lon, lat, signal) => orSaved(() => request('GET', `/at?${qs({ lon, lat })}`, { signal }), () => saved.at(lon, lat)),
  /**
   * A write the outbox sends (outbox.js: inspections, maintenance entries, complaints as
   * multipart): POST `json` or `form` with its Idempotency-Key, as staff (`auth`) or
   * anyone. Answers {status, data, replayed}.
   */
  post: async (url, { json, form, auth = false, key }) => {
    const r = await request('POST', url, { json, form, auth, key, full: true });
    return { status: r.status, data: r.data, replayed: r.replayed };
  },
  services: () => request('GET', '/open311/v2/services.json'),
  service: (code) => request('GET', `/open311/v2/services/${encodeURIComponent(code)}.json`),
  items: (collection, params, signal) => request('GET', `/collections/${encodeURIComponent(collection)}/items?${qs(params)}`, { signal }),
  /** Open complaints of `category` within 50 m of the point (before filing). */
  openNearby: (category, lon, lat, signal) => request('GET', `/collections/complaints/items?${qs({
    category,
    filter: `status IN ('submitted','acknowledged','in_progress') AND S_DWITHIN(geometry, POINT(${lon} ${lat}), 50, meters)`,
    limit: 20,
  })}`, { signal }),
  support: (ticket) => request('POST', `/complaints/${encodeURIComponent(ticket)}/support`),
  complaint: (ticket) => request('GET', `/complaints/${encodeURIComponent(ticket)}`),
  login: (name, password) => request('POST', '/auth/login', { json: { name, password } }),
  logout: () => request('POST', '/auth/logout', { auth: true }),
  me: () => request('GET', '/auth/me', { auth: true }),
  queue: (p) => request('GET', `/complaints?${qs(p)}`, { auth: true }),
  /** One complaint as staff see it: the whole timeline, every piece, the moderation rows. */
  staffComplaint: (ticket) => request('GET', `/complaints/${encodeURIComponent(ticket)}`, { auth: true }),
  change: (ticket, body) => request('PATCH', `/complaints/${encodeURIComponent(ticket)}`, { json: body, auth: true }),
  staff: () => request('GET', '/auth/staff', { auth: true }),
  // Moderation. Anyone flags a public piece (`description`, `photo:<sha256>`,
  // `note:<step id>`): {flagged: false} when this client had already. Officers and admins
  // hide a piece with a reason the public reads, or show it again (approve a held photo).
  flag: (ticket, item, reason) => request('POST', `/complaints/${encodeURIComponent(ticket)}/flag`, { json: reason ? { item, reason } : { item } }),
  moderate: (ticket, body) => request('POST', `/complaints/${encodeURIComponent(ticket)}/moderation`, { json: body, auth: true }),
  /** {state, numberReturned, items}: `open` (held photos, pieces flagged since their review) or `hidden`. */
  moderation: (state) => request('GET', `/moderation?${qs({ state, limit: 200 })}`, { auth: true }),
  /** A photo's bytes as a Blob, with the staff token: held and hidden ones too. */
  photoBlob: async (url, signal) => raw(url, signal).then((r) => r.blob()),
  // Messages to reporters (officers and admins): the outbox, and sending one again.
  notifications: (p) => request('GET', `/notifications?${qs(p)}`, { auth: true }),
  retryNotification: (id) => request('POST', `/notifications/${encodeURIComponent(id)}/retry`, { auth: true }),
  audit: (subject) => request('GET', `/audit?${qs({ subject, limit: 100 })}`),
  addDocument: (code, form) => request('POST', `/assets/${encodeURIComponent(code)}/documents`, { form, auth: true }),
  // Editing the register (OGC API Features Part 4): officers write, field staff propose
  // (202 with the proposal). Every answer is {status, data, etag, location}.
  /** An item with its ETag (the version an edit is made against). */
  item: (layer, id) => request('GET', `/collections/${encodeURIComponent(layer)}/items/${encodeURIComponent(id)}`, { full: true }),
  /** A JSON Merge Patch: `{properties: {...changed}, geometry?, note?}`. */
  patchItem: (layer, id, etag, patch) => request('PATCH', `/collections/${encodeURIComponent(layer)}/items/${encodeURIComponent(id)}`, {
    json: patch, type: 'application/merge-patch+json', ifMatch: etag, auth: true, full: true,
  }),
  createItem: (layer, feature) => request('POST', `/collections/${encodeURIComponent(layer)}/items`, {
    json: feature, type: 'application/geo+json', auth: true, full: true,
  }),
  delist: (layer, id, etag, reason) => request('DELETE', `/collections/${encodeURIComponent(layer)}/items/${encodeURIComponent(id)}?${qs({ reason })}`, {
    ifMatch: etag, auth: true, full: true,
  }),
  proposals: (p) => request('GET', `/proposals?${qs(p)}`, { auth: true }),
  proposal: (id) => request('GET', `/proposals/${encodeURIComponent(id)}`, { auth: true }),
  approve: (id, note) => request('POST', `/proposals/${encodeURIComponent(id)}/approve`, { json: note ? { note } : {}, auth: true }),
  reject: (id, note) => request('POST', `/proposals/${encodeURIComponent(id)}/reject`, { json: { note }, auth: true }),
  rebase: (id) => request('POST', `/proposals/${encodeURIComponent(id)}/rebase`, { auth: true }),
  // An asset's versions (public; restoring is for officers)
  versions: (code) => request('GET', `/assets/${encodeURIComponent(code)}/versions`),
  version: (code, n) => request('GET', `/assets/${encodeURIComponent(code)}/versions/${encodeURIComponent(n)}`),
  diff: (code, from, to) => request('GET', `/assets/${encodeURIComponent(code)}/diff?${qs({ from, to })}`),
  restore: (code, n, etag, note) => request('POST', `/assets/${encodeURIComponent(code)}/versions/${encodeURIComponent(n)}/restore`, {
    json: note ? { note } : undefined, ifMatch: etag, auth: true, full: true,
  }),
  // Documents: searched and read by anyone (staff see private ones too); their record,
  // status and versions are written by officers.
  /** {documents: [hit], numberMatched, numberReturned, links}: words, phrases, prefixes and filters. */
  documents: (params, signal) => request('GET', `/documents?${qs(params)}`, { auth: true, signal }),
  /** A document's record with its ETag ("doc.N": the version a change is made against). */
  documentRecord: async (sha) => request('GET', `/documents/${docId(sha)}/record`, { auth: true, full: true }),
  /** The document's bytes as a Blob (a private one needs the staff token, which a link cannot send). */
  documentFile: async (sha, signal) => raw(`/documents/${docId(sha)}`, signal).then((r) => r.blob()),
  /** An applicant's file, read through its case (staff token): never a document of the register. */
  caseFile: async (key, doc, sha) => raw(`/applications/${encodeURIComponent(key)}/files/${encodeURIComponent(doc)}/${docId(sha)}`).then((r) => r.blob()),
  /** The text read from the document (its PDF text layer or OCR), as plain text. */
  documentText: async (sha) => raw(`/documents/${docId(sha)}/text`).then((r) => r.text()),
  /** A new document (multipart: file, title, type, …; assets as codes separated by commas). */
  createDocument: (form) => request('POST', '/documents', { form, auth: true }),
  /** A JSON Merge Patch of the record's fields (+ `note`), against its ETag. */
  patchDocument: async (sha, etag, patch) => request('PATCH', `/documents/${docId(sha)}/record`, {
    json: patch, type: 'application/merge-patch+json', ifMatch: etag, auth: true, full: true,
  }),
  /** {status: 'revoked'|'superseded'|'current', reason, superseded_by?}. */
  documentStatus: async (sha, body) => request('POST', `/documents/${docId(sha)}/status`, { json: body, auth: true, full: true }),
  documentVersions: async (sha) => request('GET', `/documents/${docId(sha)}/versions`, { auth: true }),
  /** What the verification page says of a SHA-256: {on_record: false} or the record. */
  verification: async (sha) => request('GET', `/verify/${docId(sha)}?f=json`, { auth: true }),
  /** Is this copy (a File/Blob) the document on record? Sent as the raw body. */
  verifyFile: (file) => request('POST', '/documents/verify', { raw: file }),
  verifyHash: (sha256) => request('POST', '/documents/verify', { json: { sha256 } }),

  // Online applications for permission (docs/applications.md). The types are public; an
  // applicant's calls carry their `ap_` token, staff's the staff token.
  applicationTypes: () => request('GET', '/application-types'),
  applicationType: (code, version) => request('GET', `/application-types/${encodeURIComponent(code)}${version ? `?${qs({ version })}` : ''}`),
  /** {allowed, asset, grade, work, reason?: {en, bn}, path: [stage], days}. */
  checkWork: (code, asset, work, signal) => request('POST', `/application-types/${encodeURIComponent(code)}/check`, { json: { asset, work }, signal }),
  heritageLock: (code) => request('GET', `/assets/${encodeURIComponent(code)}/heritage-lock`),
  /** Sends a one-time code to an email address or phone: {sent_to, channel, expires_in_s}. */
  applicantCode: (contact, language) => request('POST', '/applicants/code', { json: { contact, language } }),
  /** {token, expires_at, contact} for the right code. */
  applicantSignIn: (contact, code) => request('POST', '/applicants/session', { json: { contact, code } }),
  applicantSignOut: () => request('DELETE', '/applicants/session', { applicant: true }),
  newApplication: (body) => request('POST', '/applications', { json: body, applicant: true }),
  /** A draft's asset, work, fields (merged; null removes one) or language. */
  patchApplication: (key, body) => request('PATCH', `/applications/${encodeURIComponent(key)}`, { json: body, applicant: true }),
  /** Adds a file for document `doc`: {doc, sha256, name, size, media_type}. */
  addApplicationFile: (key, doc, file, onProgress) => upload('PUT', `/applications/${encodeURIComponent(key)}/files/${encodeURIComponent(doc)}?${qs({ name: file.name })}`, file, { applicant: true, onProgress }),
  removeApplicationFile: (key, doc, sha) => request('DELETE', `/applications/${encodeURIComponent(key)}/files/${encodeURIComponent(doc)}/${docId(sha)}`, { applicant: true }),
  /** The case with its number; a 422 carries `missing: {fields, documents}`. */
  submitApplication: (key) => request('POST', `/applications/${encodeURIComponent(key)}/submit`, { applicant: true }),
  answerRequest: (key, requestId, text) => request('POST', `/applications/${encodeURIComponent(key)}/answers`, { json: { request: requestId, text }, applicant: true }),
  myApplications: () => request('GET', '/applications/mine', { applicant: true }),
  myApplication: (key) => request('GET', `/applications/${encodeURIComponent(key)}`, { applicant: true }),
  /** Anyone: a case's stages, days and decision, never the applicant or the form. */
  trackApplication: (number) => request('GET', `/applications/${encodeURIComponent(number)}/track`),
  decisions: (params) => request('GET', `/register/decisions?${qs(params)}`),
  // The department's desk: cases at the stages the user's duties cover, one case's whole
  // record, one step on it; the Heritage Conservation Committee's meetings.
  desk: (params) => request('GET', `/desk?${qs(params)}`, { auth: true }),
  staffApplication: (number) => request('GET', `/applications/${encodeURIComponent(number)}`, { auth: true }),
  applicationAction: (number, body) => request('POST', `/applications/${encodeURIComponent(number)}/actions`, { json: body, auth: true }),
  hccMeetings: () => request('GET', '/hcc/meetings', { auth: true }),
  hccMeeting: (id) => request('GET', `/hcc/meetings/${encodeURIComponent(id)}`, { auth: true }),
  newHccMeeting: (date) => request('POST', '/hcc/meetings', { json: { date }, auth: true }),
  hccRecommend: (id, body) => request('POST', `/hcc/meetings/${encodeURIComponent(id)}/recommendations`, { json: body, auth: true }),
  screening,
  hccMinutes: (id, file, onProgress) => upload('PUT', `/hcc/meetings/${encodeURIComponent(id)}/minutes`, file, { auth: true, onProgress }),

  // The department's figures (docs/monitoring.md): public, JSON.
  /** {by, from, to, as_of, groups: [row], total: row}: complaints filed in the range, grouped. */
  statsComplaints: (p, signal) => request('GET', `/stats/complaints?${qs(p)}`, { signal }),
  /** {by, as_of, intervals, groups}: the register's health now. */
  statsRegister: (p, signal) => request('GET', `/stats/register?${qs(p)}`, { signal }),
  /** {from, to, as_of, metrics, wards: [row]}: one row per ward, for the choropleth. */
  statsWards: (p, signal) => request('GET', `/stats/wards?${qs(p)}`, { signal }),
  /** The monthly ward report: figures, the overdue complaints, the assets due for inspection. */
  wardReport: (ward, month, signal) => request('GET', `/stats/ward-report?${qs({ ward, month })}`, { signal }),
};

/** A message for an error, in the current language where we have one. */
export function errorText(e) {
  if (!e) return '';
  if (e instanceof ApiError) return e.description;
  return e.message || String(e);
}
