import { type FieldError, notSupported, required } from '../shared/fields';

/** Fields PersistentVolumes and PersistentVolumeClaims share: access modes (validation and the printed abbreviations). */

const ACCESS_MODES = ['ReadWriteOnce', 'ReadOnlyMany', 'ReadWriteMany', 'ReadWriteOncePod'];

export function validateAccessModes(modes: unknown, field: string): FieldError[] {
  if (!Array.isArray(modes) || modes.length === 0) return [required(field)];
  return modes.flatMap((m, i) => (ACCESS_MODES.includes(m) ? [] : [notSupported(`${field}[${i}]`, m, ACCESS_MODES)]));
}

const MODE_ABBREV: Record<string, string> = { ReadWriteOnce: 'RWO', ReadOnlyMany: 'ROX', ReadWriteMany: 'RWX', ReadWriteOncePod: 'RWOP' };

export const accessModes = (modes: string[] | undefined) => (modes ?? []).map((m) => MODE_ABBREV[m] ?? m).join(',');
