// The complaint catalogue: the categories (Open311 services) the server takes and each
// one's follow-up questions, fetched once and kept for the visit, and what each is called
// in the reader's language (the server's English where the string tables have no name).
// Report files against it; Track and Staff name categories from it.
import { t, label, has } from './i18n.js';
import { api } from './api.js';

const catalogue = {
  services: null,        // [Open311 service], once fetched
  loading: null,         // the fetch in flight
  error: null,           // why the last fetch failed
  questions: new Map(),  // service code → its questions (Open311 attributes), in order
};

/**
 * The categories, fetched on the first call. If the fetch fails: [] now, `loadError()`
 * says why, and the next call tries again.
 */
export function categories() {
  if (catalogue.services) return Promise.resolve(catalogue.services);
  if (!catalogue.loading) {
    catalogue.loading = api.services().then((s) => {
      catalogue.services = Array.isArray(s) ? s : [];
      catalogue.error = null;
      return catalogue.services;
    }).catch((e) => {
      catalogue.loading = null;
      catalogue.error = e;
      return [];
    });
  }
  return catalogue.loading;
}

export const loadError = () => catalogue.error;

/** The categories fetched so far ([] until `categories()` has answered). */
export const known = () => catalogue.services || [];

export function service(code) {
  return known().find((s) => s.service_code === code);
}

export function categoryName(code, fallback) {
  if (has(`cat.${code}`)) return t(`cat.${code}`);
  return fallback || label('cat', code);
}

export function categoryDescription(code) {
  const s = service(code);
  if (!s) return '';
  return has(`catdesc.${code}`) ? t(`catdesc.${code}`) : s.description || '';
}

export function groupName(group) {
  return has(`group.${group}`) ? t(`group.${group}`) : group;
}

/**
 * The follow-up questions of category `code`, fetched the first time (none for a category
 * whose service says it has no metadata). A failed fetch throws and is not kept: the next
 * call asks again.
 */
export async function questions(code) {
  if (!code) return [];
  if (catalogue.questions.has(code)) return catalogue.questions.get(code);
  const s = service(code);
  if (s && s.metadata === false) {
    catalogue.questions.set(code, []);
    return [];
  }
  const d = await api.service(code);
  const attrs = (d && Array.isArray(d.attributes) ? d.attributes : []).filter((a) => a.variable !== false);
  attrs.sort((a, b) => (a.order || 0) - (b.order || 0));
  catalogue.questions.set(code, attrs);
  return attrs;
}

/** The questions of `code` already fetched ([] if none yet). */
export const knownQuestions = (code) => catalogue.questions.get(code) || [];

export function questionText(a) {
  return has(`q.${a.code}`) ? t(`q.${a.code}`) : (a.description || a.code);
}

export function answerName(v) {
  return has(`a.${v.key}`) ? t(`a.${v.key}`) : (v.name || v.key);
}
