// Applicants' sign-in: no password, a one-time code. They give an email address or a
// mobile number, the server sends a 6-digit code (valid 10 minutes), and the code gives a
// token for 12 hours (kept per tab, api.js). Apply and My applications both draw this
// form; what was typed and how far it got are kept here, so a language switch or a move
// between the two views redraws it as it was.
import { h, $, fieldError } from './dom.js';
import { t, tn, getLang } from './i18n.js';
import { api, applicantSession, setApplicantSession, onApplicantUnauthorized } from './api.js';
import { explain } from './errors.js';

const EMAIL = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;

const state = {
  contact: '',
  sent: null,       // {sent_to, channel, expires_in_s} once a code is on its way
  code: '',
  problem: null,    // {field: 'contact'|'code'|null, error} or {field, key}
  busy: false,
  expired: false,   // the server stopped taking the token
};

const listeners = new Set();
/** fn() after a sign-in, a sign-out or an expired token: the views redraw. */
export function onChange(fn) { listeners.add(fn); }
const changed = () => { for (const fn of listeners) fn(); };

onApplicantUnauthorized(() => {
  state.expired = true;
  state.sent = null;
  changed();
});

export const signedIn = () => !!applicantSession();

/** An email address, or a phone number as +91 and 10 digits or 10 digits; null if neither. */
export function contactKind(v) {
  const s = String(v || '').trim();
  if (EMAIL.test(s)) return 'email';
  const digits = s.replace(/[\s-]/g, '');
  if (/^(\+91)?[6-9]\d{9}$/.test(digits) || /^0?\d{10}$/.test(digits)) return 'phone';
  return null;
}

/** "Signed in as … · Sign out". */
export function whoBar(idPrefix) {
  const s = applicantSession();
  if (!s) return null;
  return h('div', { class: 'signed-in applicant-who' },
    h('p', { id: `${idPrefix}-who`, text: t('applicant.signedInAs', { contact: s.contact }) }),
    h('button', { type: 'button', class: 'btn btn-secondary', id: `${idPrefix}-signout`, text: t('staff.signOut'), onclick: signOut }));
}

async function signOut() {
  try { await api.applicantSignOut(); } catch { /* the token is dropped anyway */ }
  setApplicantSession(null);
  state.sent = null;
  state.code = '';
  state.expired = false;
  changed();
}

function problemText(p) {
  if (!p) return '';
  if (p.key) return t(p.key, p.vars);
  const e = p.error;
  if (e.status === 429) return tn('applicant.wait', Math.max(1, e.retryAfter || 30));
  if (e.status === 503) return t(state.sent && state.sent.channel === 'phone' || contactKind(state.contact) === 'phone' ? 'applicant.noSms' : 'applicant.noEmail');
  if (e.status === 401) return t('applicant.wrongCode');
  return explain(e);
}

/**
 * The sign-in form, its ids starting with `idPrefix`: first the contact, then the code.
 * `intro` is the view's own sentence about why.
 */
export function form(idPrefix, intro) {
  const p = idPrefix;
  const status = h('p', {
    id: `${p}-signin-status`, role: 'status', tabindex: '-1',
    class: `form-status${state.problem && !state.problem.field ? ' error' : ''}`,
    text: state.problem && !state.problem.field ? problemText(state.problem) : (state.busy ? t('applicant.working') : ''),
  });
  const box = h('section', { class: 'record applicant-signin', id: `${p}-signin`, 'aria-labelledby': `${p}-signin-title` },
    h('h3', { id: `${p}-signin-title`, tabindex: '-1', text: t('applicant.title') }),
    state.expired ? h('p', { class: 'notice', text: t('applicant.expired') }) : null,
    intro ? h('p', { class: 'intro', text: intro }) : null);

  if (!state.sent) {
    const contact = h('input', {
      type: 'text', id: `${p}-contact`, name: 'contact', autocomplete: 'username', spellcheck: false,
      autocapitalize: 'none', maxLength: 254, value: state.contact, 'aria-describedby': `${p}-contact-hint`,
    });
    contact.addEventListener('input', () => { state.contact = contact.value; });
    const f = h('form', { id: `${p}-code-form`, novalidate: true },
      h('p', { class: 'hint', text: t('applicant.how') }),
      h('div', { class: 'field' },
        h('label', { htmlFor: `${p}-contact`, text: t('applicant.contact') }),
        h('p', { class: 'hint', id: `${p}-contact-hint`, text: t('applicant.contactHint') }),
        contact),
      h('button', { type: 'submit', class: 'btn btn-primary', id: `${p}-send-code`, disabled: state.busy, text: t('applicant.sendCode') }),
      status);
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      sendCode(p);
    });
    box.append(f);
  } else {
    const code = h('input', {
      type: 'text', id: `${p}-code`, name: 'code', inputMode: 'numeric', autocomplete: 'one-time-code', maxLength: 6,
      pattern: '[0-9]{6}', spellcheck: false, value: state.code, 'aria-describedby': `${p}-code-hint`, class: 'mono code-input',
    });
    code.addEventListener('input', () => { state.code = code.value; });
    const f = h('form', { id: `${p}-session-form`, novalidate: true },
      h('p', { id: `${p}-sent`, tabindex: '-1', class: 'success', text: t(state.sent.channel === 'phone' ? 'applicant.sentSms' : 'applicant.sentEmail', { to: state.sent.sent_to || state.contact }) }),
      h('div', { class: 'field' },
        h('label', { htmlFor: `${p}-code`, text: t('applicant.code') }),
        h('p', { class: 'hint', id: `${p}-code-hint`, text: tn('applicant.codeHint', Math.round((state.sent.expires_in_s || 600) / 60)) }),
        code),
      h('div', { class: 'button-row' },
        h('button', { type: 'submit', class: 'btn btn-primary', id: `${p}-signin-button`, disabled: state.busy, text: t('staff.signIn') }),
        h('button', { type: 'button', class: 'btn btn-secondary', id: `${p}-resend`, disabled: state.busy, text: t('applicant.resend'), onclick: () => sendCode(p) }),
        h('button', {
          type: 'button', class: 'btn btn-secondary', id: `${p}-other-contact`, text: t('applicant.otherContact'),
          onclick: () => {
            state.sent = null;
            state.code = '';
            state.problem = null;
            changed();
            $(`#${p}-contact`)?.focus();
          },
        })),
      status);
    f.addEventListener('submit', (e) => {
      e.preventDefault();
      signIn(p);
    });
    box.append(f);
  }
  // Field problems are drawn after the form is in the page (fieldError finds the field's box).
  queueMicrotask(() => {
    if (state.problem && state.problem.field) fieldError(document.getElementById(`${p}-${state.problem.field}`), problemText(state.problem));
  });
  return box;
}

async function sendCode(p) {
  const v = state.contact.trim();
  state.problem = null;
  if (!contactKind(v)) {
    state.problem = { field: 'contact', key: v ? 'applicant.badContact' : 'applicant.needContact' };
    changed();
    $(`#${p}-contact`)?.focus();
    return;
  }
  state.busy = true;
  changed();
  try {
    state.sent = await api.applicantCode(v, getLang());
    state.code = '';
    state.expired = false;
  } catch (e) {
    state.problem = { field: e.field === 'contact' ? 'contact' : null, error: e };
  }
  state.busy = false;
  changed();
  const next = state.problem ? (state.problem.field ? `${p}-contact` : `${p}-signin-status`) : `${p}-code`;
  document.getElementById(next)?.focus();
}

async function signIn(p) {
  const code = state.code.replace(/\s/g, '');
  state.problem = null;
  if (!/^\d{6}$/.test(code)) {
    state.problem = { field: 'code', key: 'applicant.needCode' };
    changed();
    $(`#${p}-code`)?.focus();
    return;
  }
  state.busy = true;
  changed();
  try {
    const r = await api.applicantSignIn(state.contact.trim(), code);
    setApplicantSession({ token: r.token, expires_at: r.expires_at, contact: r.contact || state.contact.trim() });
    state.sent = null;
    state.code = '';
    state.expired = false;
  } catch (e) {
    state.problem = { field: e.status === 401 || e.field === 'code' ? 'code' : null, error: e };
  }
  state.busy = false;
  changed();
  if (state.problem) document.getElementById(state.problem.field ? `${p}-code` : `${p}-signin-status`)?.focus();
}
