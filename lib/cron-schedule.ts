import { Cron } from 'croner';
import { parseDuration } from './duration';

/**
 * CronJob schedules as Kubernetes reads them (robfig/cron's standard parser):
 * five fields (minute hour day-of-month month day-of-week), the macros
 * @yearly @annually @monthly @weekly @daily @midnight @hourly, and
 * `@every <duration>`; evaluated in a time zone (IANA name; the host's when
 * absent) by the croner library. Shared by the apiserver's validation and the
 * cronjob controller.
 */
export interface CronSchedule {
  /** The first activation strictly after `afterMs` (ms since epoch), or undefined if none. */
  next(afterMs: number): number | undefined;
}

const MACROS: Record<string, string> = {
  '@yearly': '0 0 1 1 *',
  '@annually': '0 0 1 1 *',
  '@monthly': '0 0 1 * *',
  '@weekly': '0 0 * * 0',
  '@daily': '0 0 * * *',
  '@midnight': '0 0 * * *',
  '@hourly': '0 * * * *',
};

export class CronScheduleError extends Error {}

interface FieldBounds { min: number; max: number; names?: string[] }
const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];
const FIELDS: FieldBounds[] = [{ min: 0, max: 59 }, { min: 0, max: 23 }, { min: 1, max: 31 }, { min: 1, max: 12, names: MONTHS }, { min: 0, max: 6, names: DAYS }];

function parseNumber(s: string, b?: FieldBounds): number {
  const named = b?.names?.indexOf(s.toLowerCase()) ?? -1;
  if (named >= 0) return named + (b!.min === 1 ? 1 : 0);
  if (!/^\d+$/.test(s)) throw new CronScheduleError(`failed to parse int from ${s}: strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  return Number(s);
}

/** robfig/cron's range checks of one field, with its messages (croner's would differ). */
function checkField(field: string, b: FieldBounds): void {
  for (const expr of field.split(',')) {
    const slash = expr.split('/');
    if (slash.length > 2) throw new CronScheduleError(`too many slashes: ${expr}`);
    const dash = slash[0].split('-');
    if (dash.length > 2) throw new CronScheduleError(`too many hyphens: ${expr}`);
    let start: number;
    let end: number;
    if (dash[0] === '*' || dash[0] === '?') {
      start = b.min;
      end = b.max;
    } else {
      start = parseNumber(dash[0], b);
      end = dash.length === 2 ? parseNumber(dash[1], b) : start;
    }
    if (slash.length === 2) {
      const step = parseNumber(slash[1]);
      if (dash.length === 1 && dash[0] !== '*' && dash[0] !== '?') end = b.max;
      if (step === 0) throw new CronScheduleError(`step of range should be a positive number: ${expr}`);
    }
    if (start < b.min) throw new CronScheduleError(`beginning of range (${start}) below minimum (${b.min}): ${expr}`);
    if (end > b.max) throw new CronScheduleError(`end of range (${end}) above maximum (${b.max}): ${expr}`);
    if (start > end) throw new CronScheduleError(`beginning of range (${start}) beyond end of range (${end}): ${expr}`);
  }
}

/** Whether `tz` names a time zone this runtime knows. */
export function isKnownTimeZone(tz: string): boolean {
  if (!tz || tz === 'Local') return false;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: tz });
    return true;
  } catch {
    return false;
  }
}

/**
 * Parses a schedule; throws CronScheduleError with robfig/cron's wording
 * (which Kubernetes' validation reports) when it is malformed. A leading
 * `TZ=<zone>` or `CRON_TZ=<zone>` is honoured here (the API refuses it).
 */
export function parseCronSchedule(spec: string, timeZone?: string): CronSchedule {
  let s = spec.trim();
  if (!s) throw new CronScheduleError('empty spec string');
  let tz = timeZone;
  const m = /^(?:CRON_)?TZ=(\S+)\s*(.*)$/.exec(s);
  if (m) {
    if (!isKnownTimeZone(m[1])) throw new CronScheduleError(`provided bad location ${m[1]}: unknown time zone ${m[1]}`);
    tz = m[1];
    s = m[2].trim();
  }
  if (s.startsWith('@every ')) {
    let every: number;
    try {
      every = parseDuration(s.slice(7));
    } catch {
      throw new CronScheduleError(`failed to parse duration ${s}: invalid duration ${JSON.stringify(s.slice(7).trim())}`);
    }
    const step = Math.max(1000, Math.floor(every / 1000) * 1000);
    return { next: (after) => Math.floor((after + step) / 1000) * 1000 };
  }
  if (s.startsWith('@')) {
    if (!MACROS[s]) throw new CronScheduleError(`unrecognized descriptor: ${s}`);
    s = MACROS[s];
  }
  const fields = s.split(/\s+/);
  if (fields.length !== 5) throw new CronScheduleError(`expected exactly 5 fields, found ${fields.length}: [${fields.join(' ')}]`);
  fields.forEach((f, i) => checkField(f, FIELDS[i]));
  let cron: Cron;
  try {
    cron = new Cron(fields.join(' '), { paused: true, mode: '5-part', ...(tz ? { timezone: tz } : {}) });
  } catch (err) {
    throw new CronScheduleError((err as Error).message.replace(/^CronPattern: /, ''));
  }
  return {
    next(after) {
      const d = cron.nextRun(new Date(after));
      return d ? d.getTime() : undefined;
    },
  };
}

/** RFC 3339 in a time zone, with its offset ("2026-12-07T01:05:00+01:00"; "Z" for a zero offset, as Go prints it). */
export function rfc3339InZone(ms: number, timeZone?: string): string {
  const tz = timeZone ?? Intl.DateTimeFormat().resolvedOptions().timeZone;
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: tz, timeZoneName: 'longOffset' }).formatToParts(new Date(ms));
  const name = parts.find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const off = name === 'GMT' ? '' : name.slice(3); // "+01:00"
  if (!off || /^[+-]00(:00)?$/.test(off)) return new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');
  const sign = off[0] === '-' ? -1 : 1;
  const [h, mi] = off.slice(1).split(':').map(Number);
  const local = new Date(ms + sign * (h * 60 + (mi || 0)) * 60_000).toISOString().replace(/\.\d+Z$/, '');
  return `${local}${off.length === 3 ? `${off}:00` : off}`;
}
