// The server's refusals in the reader's language. The server answers in English: a
// machine-readable `code`, the form `field` it refuses (if any) and a `description`
// written for developers. Reasons we know get our own words in English or Bengali, with
// dates for people (Kolkata time); anything else is shown as sent, inside a translated
// sentence, with its timestamps rewritten the same way.
import { t, tn, label, fmtDate, digits } from './i18n.js';
import { ApiError } from './api.js';

// An RFC 3339 instant inside a server message ("2026-03-01T09:15:00Z").
const INSTANT = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})/g;

/** A server message with its timestamps as Kolkata dates in the page's language. */
export function humanize(text) {
  return String(text || '').replace(INSTANT, (s) => fmtDate(s));
}

/** What a field's refusal means, or null when we do not know the reason. */
function fieldReason(reason) {
  const r = String(reason || '');
  let m;
  if (/^required\b|needs `/.test(r)) return t('err.required');
  if (/is in the future/.test(r)) return t('err.future');
  if (/is before 1800/.test(r)) return t('err.tooOld');
  if (/must be a date/.test(r)) return t('err.badDate');
  if ((m = /at most (\d+) characters/.exec(r))) return tn('err.tooLong', Number(m[1]));
  if (/control characters/.test(r)) return t('err.control');
  if (/is before started_on/.test(r)) return t('err.endBeforeStart');
  if (/give when the work started or ended/.test(r)) return t('rec.needDate');
  if (/whole rupees/.test(r)) return t('err.cost');
  if ((m = /^no staff member "?([^"]*)"?/.exec(r))) return t('err.noStaff', { name: m[1] });
  if (/cannot duplicate itself/.test(r)) return t('err.dupSelf');
  if ((m = /^no complaint (\S+)/.exec(r))) return t('err.noComplaint', { ticket: m[1] });
  if ((m = /^(\S+) is itself a duplicate/.exec(r))) return t('err.dupOfDup', { ticket: m[1] });
  return null;
}

/**
 * A sentence for the reader about error `e` (an ApiError or any Error). Field errors are
 * explained without the field's name: they are shown next to the field.
 */
export function explain(e) {
  if (!e) return '';
  if (!(e instanceof ApiError)) return humanize(e.message || String(e));
  const d = String(e.description || '');
  let m;
  switch (e.status) {
    case 0: return t('err.network');
    case 413: return t('err.tooLarge');
    case 415: return t('err.docType');
    case 429: return tn('err.rateLimited', e.retryAfter || 60);
    case 503: return t('err.unavailable');
    case 401: return t('staff.expired');
    case 403:
      if ((m = /is in ward (\w+); field staff record assets of their own ward \((\w+)\)/.exec(d))) {
        return t('err.notYourWard', { its: digits(m[1]), mine: digits(m[2]) });
      }
      if (/is not in your ward/.test(d)) return t('err.complaintNotYourWard');
      if ((m = /is in ward (\w+); field staff propose changes in their own ward \((\w+)\)/.exec(d))) {
        return m[1] === 'none' ? t('err.proposeOutside', { mine: digits(m[2]) }) : t('err.proposeNotYourWard', { its: digits(m[1]), mine: digits(m[2]) });
      }
      if (/ward boundaries are changed by an admin/.test(d)) return t('err.wardsAdmin');
      if (/an officer decides on proposals/.test(d)) return t('err.officerDecides');
      if (/may not \w+ complaints/.test(d)) return t('err.roleMayNot');
      if (/documents are put on record by officers/.test(d)) return t('err.officersOnly');
      return t('err.forbidden');
    case 409:
      // "this document is already on record (TITLE, CREATED_AT)", now followed by ": /documents/SHA256"
      if ((m = /already on record \((.*), (\S+)\)(?::\s*\S+)?$/.exec(d))) return t('err.docExists', { title: m[1], date: fmtDate(m[2]) });
      if (/on record just now/.test(d)) return t('err.docJustNow');
      if ((m = /^cannot \w+ a complaint that is (\w+)/.exec(d))) return t('err.notNow', { status: label('status', m[1]) });
      if (/changed while this was being applied/.test(d)) return t('err.changedMeanwhile');
      if (/has changed since proposal \d+ was made/.test(d)) return t('err.proposalStale');
      if (/was (approved|rejected) already|decided meanwhile/.test(d)) return t('err.proposalDecided');
      if (/only an update can be rebased/.test(d)) return t('err.rebaseOnlyUpdates');
      if (/is already taken/.test(d)) return t('err.codeTaken');
      break;
    default:
      break;
  }
  if (e.field) {
    // The description is "FIELD: REASON".
    const reason = d.startsWith(`${e.field}: `) ? d.slice(e.field.length + 2) : d;
    const known = fieldReason(reason);
    if (known) return known;
  }
  return t('err.refused', { error: humanize(d) });
}
