// "Report as inappropriate" on a complaint's public record: anyone may flag its
// description, a photo or a public note for the department's review, with an optional
// reason (`POST /complaints/{ticket}/flag`). The server counts one flag per client and
// piece; a second one is answered {flagged: false}, which the page words as "already
// reported". What each control shows (closed, asking, sent) is kept per ticket and piece,
// so the record can be redrawn (a language switch) without losing it.
import { h, replace, fieldError } from './dom.js';
import { t, tn } from './i18n.js';
import { api } from './api.js';
import { explain } from './errors.js';
import { reveal } from './panel.js';

const REASON_MAX = 500;

// `${ticket} ${item}` → {open, reason, busy, result: 'thanks' | 'already' | null, error}
const states = new Map();

/** An id fragment for a piece: description, photo-<first 12 hex>, note-<step>. */
const slug = (item) => item.replace(/^photo:([0-9a-f]{12}).*$/, 'photo-$1').replace(':', '-');

/**
 * The control for piece `item` of complaint `ticket`; `what` names the piece for screen
 * readers ("photo 2", "the description"), since several such controls share a page.
 */
export function control(ticket, item, what) {
  const box = h('div', { class: 'flag', dataset: { item } });
  draw(box, ticket, item, what, false);
  return box;
}

function draw(box, ticket, item, what, focus) {
  const key = `${ticket} ${item}`;
  const st = states.get(key) || {};
  const id = `flag-${slug(item)}`;
  const status = h('p', {
    id: `${id}-status`, role: 'status', tabindex: '-1',
    class: `form-status${st.result ? ' success' : ''}${st.error ? ' error' : ''}`,
    text: st.result ? t(st.result === 'thanks' ? 'flag.thanks' : 'flag.already') : (st.error ? errorText(st.error) : ''),
  });
  const set = (next, focusWhat) => {
    states.set(key, { ...(states.get(key) || {}), ...next });
    draw(box, ticket, item, what, focusWhat);
  };
  if (st.result) {
    replace(box, status);
  } else if (!st.open) {
    replace(box, h('button', {
      type: 'button', class: 'link flag-toggle', id: `${id}-toggle`,
      // Named by its visible text, then what it is about (WCAG 2.5.3: the words seen start the name).
      'aria-label': t('flag.reportWhat', { what }), text: t('flag.report'),
      onclick: () => set({ open: true, error: null }, 'reason'),
    }), st.error ? status : null);
  } else {
    const reason = h('textarea', {
      id: `${id}-reason`, name: 'reason', rows: 2, maxLength: REASON_MAX, value: st.reason || '',
      'aria-describedby': `${id}-hint`,
    });
    reason.addEventListener('input', () => { states.set(key, { ...(states.get(key) || {}), reason: reason.value }); });
    const send = h('button', { type: 'submit', class: 'btn btn-primary', id: `${id}-send`, text: t('flag.send'), disabled: !!st.busy });
    const form = h('form', { class: 'flag-form', id: `${id}-form`, novalidate: true, 'aria-label': t('flag.reportWhat', { what }) },
      h('div', { class: 'field' },
        h('label', { htmlFor: `${id}-reason`, text: t('flag.reason') }),
        h('p', { class: 'hint', id: `${id}-hint`, text: t('flag.hint') }),
        reason),
      h('div', { class: 'button-row' },
        send,
        h('button', {
          type: 'button', class: 'btn btn-secondary', id: `${id}-cancel`, text: t('flag.cancel'),
          onclick: () => set({ open: false, error: null }, 'toggle'),
        })),
      status);
    form.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') {
        e.preventDefault(); // closes this question, not the panel
        set({ open: false, error: null }, 'toggle');
      }
    });
    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      const text = reason.value.trim();
      if (text.length > REASON_MAX) {
        fieldError(reason, tn('err.tooLong', REASON_MAX));
        reason.focus();
        return;
      }
      send.disabled = true;
      status.className = 'form-status';
      status.textContent = t('flag.sending');
      try {
        const r = await api.flag(ticket, item, text || null);
        set({ open: false, busy: false, error: null, result: r && r.flagged === false ? 'already' : 'thanks' }, 'status');
      } catch (err) {
        set({ busy: false, error: err }, 'status');
      }
    });
    replace(box, form);
  }
  if (focus) {
    const el = box.querySelector(focus === 'reason' ? 'textarea' : (focus === 'toggle' ? '.flag-toggle' : '[role="status"]'));
    if (el) {
      reveal(el);
      el.focus({ preventScroll: true });
    }
  }
}

function errorText(e) {
  if (e.status === 429) return tn('report.rateLimited', e.retryAfter || 60);
  // The piece is no longer public (removed meanwhile): nothing left to report.
  if (e.status === 400 && e.field === 'item') return t('flag.gone');
  return t('flag.failed', { error: explain(e) });
}
