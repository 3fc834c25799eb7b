// DOM helpers. Everything the server or a citizen sent reaches the page through
// textContent or a property like `value`, never through innerHTML: `h()` has no way to
// insert markup.

const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'type', 'name', 'id', 'htmlFor',
  'selected', 'required', 'multiple', 'accept', 'min', 'max', 'step', 'rows', 'maxLength', 'tabIndex',
  'autocomplete', 'inputMode', 'placeholder', 'alt', 'src', 'href', 'download', 'target', 'rel', 'open',
  'lang', 'dir', 'title', 'pattern', 'spellcheck']);

/**
 * h('button', {class: 'btn', text: 'Go', onclick: fn, 'aria-label': 'Go'}, child, ...)
 * Strings among the children become text nodes; null, undefined and false are skipped.
 */
export function h(tag, props, ...children) {
  const el = document.createElement(tag);
  if (props) {
    for (const [k, v] of Object.entries(props)) {
      if (v === undefined || v === null || v === false && !PROPS.has(k)) continue;
      if (k === 'class') el.className = v;
      else if (k === 'text') el.textContent = String(v);
      else if (k === 'dataset') Object.assign(el.dataset, v);
      else if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (PROPS.has(k)) el[k] = v;
      else el.setAttribute(k, v === true ? '' : String(v));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else if (c instanceof Node) el.appendChild(c);
    else el.appendChild(document.createTextNode(String(c)));
  }
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);
export const $$ = (sel, root = document) => Array.from(root.querySelectorAll(sel));

/** A definition list from [label, value] pairs; values may be nodes. Empty values are skipped. */
export function dl(rows, cls = 'facts') {
  const list = h('dl', { class: cls });
  for (const [label, value, lang] of rows) {
    if (value === null || value === undefined || value === '') continue;
    list.append(h('dt', { text: label }), h('dd', lang ? { lang } : null, value));
  }
  return list;
}

/** Debounce: calls fn once `ms` after the last call. */
export function debounce(fn, ms) {
  let timer;
  const d = (...args) => {
    clearTimeout(timer);
    timer = setTimeout(() => fn(...args), ms);
  };
  d.cancel = () => clearTimeout(timer);
  return d;
}

/** localStorage that never throws (private mode, disabled storage). */
export const store = {
  get(key, fallback = null) {
    try {
      const v = window.localStorage.getItem(key);
      return v === null ? fallback : JSON.parse(v);
    } catch { return fallback; }
  },
  set(key, value) {
    try { window.localStorage.setItem(key, JSON.stringify(value)); } catch { /* ignore */ }
  },
  remove(key) {
    try { window.localStorage.removeItem(key); } catch { /* ignore */ }
  },
};

export const session = {
  get(key, fallback = null) {
    try {
      const v = window.sessionStorage.getItem(key);
      return v === null ? fallback : JSON.parse(v);
    } catch { return fallback; }
  },
  set(key, value) {
    try { window.sessionStorage.setItem(key, JSON.stringify(value)); } catch { /* ignore */ }
  },
  remove(key) {
    try { window.sessionStorage.removeItem(key); } catch { /* ignore */ }
  },
};

/** A photo URL from the server, accepted only in the form the server makes them. */
export function safePhotoUrl(u) {
  return typeof u === 'string' && /^\/photos\/[0-9a-f]{64}$/.test(u) ? u : null;
}

/** Marks a form control invalid with a message below it (aria-describedby), or clears it. */
export function fieldError(control, message) {
  if (!control) return;
  const id = `${control.id || control.name}-error`;
  let msg = document.getElementById(id);
  if (!message) {
    control.removeAttribute('aria-invalid');
    if (msg) msg.remove();
    const described = (control.getAttribute('aria-describedby') || '').split(' ').filter((x) => x && x !== id);
    if (described.length) control.setAttribute('aria-describedby', described.join(' '));
    else control.removeAttribute('aria-describedby');
    return;
  }
  control.setAttribute('aria-invalid', 'true');
  if (!msg) {
    msg = h('p', { class: 'field-error', id });
    const anchor = control.closest('.field') || control;
    anchor.appendChild(msg);
  }
  msg.textContent = message;
  const described = new Set((control.getAttribute('aria-describedby') || '').split(' ').filter(Boolean));
  described.add(id);
  control.setAttribute('aria-describedby', [...described].join(' '));
}
