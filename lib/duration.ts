/**
 * apimachinery's `duration.HumanDuration` (k8s.io/apimachinery/pkg/util/duration):
 * 45s, 5m3s, 15m, 3h5m, 10h, 3d4h, 20d, 2y30d, 9y. Seconds are truncated toward
 * zero as Go's int(d.Seconds()) does; a clock skew of up to a second reads "0s".
 * Shared by the apiserver's Table printers and coxctl.
 */
export function humanDuration(ms: number): string {
  const seconds = Math.trunc(ms / 1000);
  if (seconds < -1) return '<invalid>';
  if (seconds < 0) return '0s';
  if (seconds < 60 * 2) return `${seconds}s`;
  const minutes = Math.trunc(seconds / 60);
  if (minutes < 10) {
    const s = seconds % 60;
    return s === 0 ? `${minutes}m` : `${minutes}m${s}s`;
  }
  if (minutes < 60 * 3) return `${minutes}m`;
  const hours = Math.trunc(minutes / 60);
  if (hours < 8) {
    const m = minutes % 60;
    return m === 0 ? `${hours}h` : `${hours}h${m}m`;
  }
  if (hours < 48) return `${hours}h`;
  const days = Math.trunc(hours / 24);
  if (hours < 24 * 8) {
    const h = hours % 24;
    return h === 0 ? `${days}d` : `${days}d${h}h`;
  }
  if (hours < 24 * 365 * 2) return `${days}d`;
  const years = Math.trunc(days / 365);
  if (hours < 24 * 365 * 8) {
    const dy = days % 365;
    return dy === 0 ? `${years}y` : `${years}y${dy}d`;
  }
  return `${years}y`;
}

/**
 * The AGE of a timestamp as kubectl prints it: humanDuration(now - ts), or
 * `<unknown>` when the timestamp is missing or unparsable.
 */
export function age(timestamp: string | undefined, nowMs: number = Date.now()): string {
  if (!timestamp) return '<unknown>';
  const t = Date.parse(timestamp);
  return Number.isNaN(t) ? '<unknown>' : humanDuration(nowMs - t);
}

/**
 * A Go `time.ParseDuration` string ("40s", "500ms", "1m30s", "1.5h") or a bare
 * number of seconds ("3", as kubectl's --timeout and the kubelet's flags take)
 * → milliseconds. Throws an Error naming the input when it is neither.
 */
export function parseDuration(s: string): number {
  const text = s.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/g;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let consumed = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += Number(m[1]) * unit[m[2]!]!;
    consumed += m[0].length;
  }
  if (consumed === 0 || consumed !== text.length) throw new Error(`invalid duration ${JSON.stringify(s)}`);
  return Math.round(total);
}

/** A duration in ms as Go's time.Duration.String() prints it, to the millisecond: "15.017s", "500ms", "1m0.5s", "2h0m3s". */
export function goDuration(ms: number): string {
  const v = Math.max(0, Math.round(ms));
  if (v === 0) return '0s';
  if (v < 1000) return `${v}ms`;
  const h = Math.floor(v / 3_600_000);
  const m = Math.floor((v % 3_600_000) / 60_000);
  const sMs = v % 60_000;
  const sec = `${Math.floor(sMs / 1000)}${sMs % 1000 ? '.' + String(sMs % 1000).padStart(3, '0').replace(/0+$/, '') : ''}s`;
  return `${h ? `${h}h` : ''}${h || m ? `${m}m` : ''}${sec}`;
}
