import { CliError } from './errors';

/** One resource type a command was asked about, with the names given for it (none: the whole collection). */
export interface TypedRequest {
  type: string;
  names: string[];
}

/**
 * Parses kubectl's resource arguments: `TYPE[,TYPE...] [NAME...]` or
 * `TYPE/NAME [TYPE/NAME...]` (the two forms do not mix). Types keep the order
 * they were first named in.
 */
export function parseResourceArgs(args: string[]): TypedRequest[] {
  if (args.length === 0) throw new CliError('you must specify the type of resource');
  if (args.some((a) => a.includes('/'))) {
    const out: TypedRequest[] = [];
    for (const a of args) {
      const parts = a.split('/');
      if (parts.length !== 2 || !parts[0] || !parts[1]) {
        throw new CliError(`there is no need to specify a resource type as a separate argument when passing arguments in resource/name form (e.g. 'coxctl get resource/<resource_name>' instead of 'coxctl get resource resource/<resource_name>')`);
      }
      const existing = out.find((r) => r.type === parts[0]);
      if (existing) existing.names.push(parts[1]);
      else out.push({ type: parts[0], names: [parts[1]] });
    }
    return out;
  }
  const [types, ...names] = args;
  const list = types.split(',').filter((t) => t.length > 0);
  if (list.length === 0) throw new CliError('you must specify the type of resource');
  return list.map((type) => ({ type, names: [...names] }));
}
