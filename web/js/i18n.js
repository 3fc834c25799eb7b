// The interface's language: one table of strings per language in strings/, the choice
// kept in localStorage ('atlas.lang'). English is always loaded: it is where a visitor
// starts, and it stands in for any string another table lacks. Bengali is fetched only
// when it is chosen (setLang) or was chosen last time (loadStoredLang, which the app
// awaits before its first render), so English visitors never download it.
// Static markup names its string with data-i18n (text), data-i18n-placeholder,
// data-i18n-aria-label or data-i18n-title; code calls t(), or tn() for a string about a
// count: its forms are `key.one` and `key.other`, chosen by Intl.PluralRules of the
// language ("1 supporter", "2 supporters"). Map labels follow the switch (mapctl.js).
import { store } from './dom.js';
import EN from './strings/en.js';

const KEY = 'atlas.lang';
const tables = { en: EN };
const FETCH = { bn: () => import('./strings/bn.js') };

let lang = 'en';
let wanted = 'en'; // the language asked for last: a slow fetch for an earlier choice loses to it

const known = (l) => (l === 'bn' ? 'bn' : 'en');

/**
 * Whether `l`'s strings are here (fetched now if need be) and `l` is still the language
 * asked for last. A fetch that fails (offline) leaves everything as it was.
 */
async function fetched(l) {
  wanted = l;
  if (!tables[l]) {
    try {
      tables[l] = (await FETCH[l]()).default;
    } catch (e) {
      console.warn(`the ${l} strings could not be loaded:`, e);
      return false;
    }
  }
  return wanted === l;
}

/**
 * The stored language, its strings fetched if it is not English: the app awaits this
 * before its first render, so a Bengali reader never sees the interface in English. If the
 * strings cannot be fetched the page starts in English and the choice stays stored.
 */
export async function loadStoredLang() {
  const stored = known(store.get(KEY));
  if (await fetched(stored)) lang = stored;
  return lang;
}

export const getLang = () => lang;
export const locale = () => (lang === 'bn' ? 'bn-IN' : 'en-IN');

/** The string `key` in the current language with {vars} filled in (as text). */
export function t(key, vars) {
  let s = tables[lang][key] ?? EN[key];
  if (s === undefined) return key;
  if (vars) s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k])));
  return s;
}

/**
 * The string about `n` things: `key.one` or `key.other` (as Intl.PluralRules picks for the
 * language), with {n} as the number in the language's digits and any other {vars}.
 */
export function tn(key, n, vars) {
  let rule = 'other';
  try {
    rule = new Intl.PluralRules(locale()).select(Number(n));
  } catch { /* 'other' */ }
  const k = tables[lang][`${key}.${rule}`] !== undefined || EN[`${key}.${rule}`] !== undefined ? `${key}.${rule}` : `${key}.other`;
  return t(k, { ...vars, n: fmtNumber(n) });
}

/** `t(prefix + value)` if such a string exists, else the value with underscores as spaces. */
export function label(prefix, value) {
  if (value === null || value === undefined || value === '') return '';
  const key = `${prefix}.${value}`;
  if (tables[lang][key] !== undefined || EN[key] !== undefined) return t(key);
  return String(value).replace(/_/g, ' ');
}

export function has(key) {
  return EN[key] !== undefined;
}

export function fmtNumber(n, opts) {
  if (n === null || n === undefined || Number.isNaN(Number(n))) return '';
  try {
    return new Intl.NumberFormat(locale(), opts).format(Number(n));
  } catch {
    return String(n);
  }
}

/** Digits of the current language in a string (years, ward numbers). */
export function digits(s) {
  return String(s).replace(/\d+/g, (d) => fmtNumber(Number(d), { useGrouping: false }));
}

/**
 * An RFC 3339 time as a Kolkata date (and time); the raw text if it does not parse. A
 * plain date (`2026-03-01`) is that calendar day, not midnight UTC. Bengali times are on
 * the 24-hour clock: bn-IN would otherwise write the Latin "AM"/"PM".
 */
export function fmtDate(value, withTime = true) {
  if (!value) return '';
  const s = String(value);
  const dateOnly = /^\d{4}-\d{2}-\d{2}$/.test(s);
  const d = new Date(dateOnly ? `${s}T12:00:00+05:30` : s);
  if (Number.isNaN(d.getTime())) return s;
  const opts = withTime && !dateOnly
    ? { dateStyle: 'medium', timeStyle: 'short', timeZone: 'Asia/Kolkata' }
    : { dateStyle: 'medium', timeZone: 'Asia/Kolkata' };
  if (lang === 'bn') opts.hourCycle = 'h23';
  try {
    return d.toLocaleString(locale(), opts);
  } catch {
    return d.toISOString();
  }
}

/** Today's date in Kolkata (IST, UTC+5:30) as YYYY-MM-DD: what a date picker there offers. */
export function kolkataDate(now = new Date()) {
  // en-CA writes dates as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Kolkata', year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
}

export function fmtDistance(m) {
  if (m === null || m === undefined) return '';
  if (m < 1000) return t('unit.m', { n: fmtNumber(m < 100 ? Math.round(m) : Math.round(m / 10) * 10) });
  return t('unit.km', { n: fmtNumber(m / 1000, { maximumFractionDigits: 1 }) });
}

/** Fills static markup: data-i18n, data-i18n-placeholder, -aria-label, -title. */
export function applyStatic(root = document) {
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
  for (const el of root.querySelectorAll('[data-i18n-aria-label]')) el.setAttribute('aria-label', t(el.dataset.i18nAriaLabel));
  for (const el of root.querySelectorAll('[data-i18n-title]')) el.title = t(el.dataset.i18nTitle);
  document.documentElement.lang = lang;
  document.title = t('app.documentTitle');
}

const listeners = new Set();
export function onLangChange(fn) { listeners.add(fn); }

/**
 * Switches the interface to `l` ('en' or 'bn'), keeps the choice and redraws (static
 * markup, then every onLangChange listener). Bengali's strings are fetched the first
 * time; until they are here the page stays as it is. Resolves to the language in use
 * afterwards: the old one if the fetch failed or another switch came after this one.
 */
export async function setLang(l) {
  const next = known(l);
  if (!(await fetched(next))) return lang;
  lang = next;
  store.set(KEY, lang);
  applyStatic();
  for (const fn of listeners) {
    try { fn(lang); } catch (e) { console.warn('language change:', e); }
  }
  return lang;
}
