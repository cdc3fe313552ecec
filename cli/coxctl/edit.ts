import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import YAML from 'yaml';
import { ApiError, type KubeObject } from '../../lib/client';
import type { Ctx } from './context';
import { changesIdentity, createMergePatch, editHeader, hasContent, isEmptyPatch, jsonEqual, stripComments, type EditReason } from './edit-core';
import { CliError } from './errors';
import { objectName, readTargets, resourceString, targetPath, type Target } from './targets';

export interface EditFlags {
  output?: string;
  selector?: string;
}

/**
 * The editor command for `file`, as kubectl picks it: $KUBE_EDITOR, else
 * $EDITOR, else vi. A value with spaces is split into words; one with quotes
 * or backslashes runs through `sh -c`.
 */
export function editorCommand(env: NodeJS.ProcessEnv, file: string): { cmd: string; args: string[] } {
  const editor = env.KUBE_EDITOR || env.EDITOR || 'vi';
  if (!editor.includes(' ')) return { cmd: editor, args: [file] };
  if (!/["'\\]/.test(editor)) {
    const [cmd, ...rest] = editor.split(' ');
    return { cmd, args: [...rest, file] };
  }
  return { cmd: env.SHELL || '/bin/bash', args: ['-c', `${editor} ${JSON.stringify(file)}`] };
}

function serialize(value: unknown, format: string): string {
  return format === 'json' ? JSON.stringify(value, null, 4) + '\n' : YAML.stringify(value);
}

function withoutManagedFields(o: KubeObject): KubeObject {
  const { managedFields: _mf, ...metadata } = o.metadata ?? {};
  return { ...o, metadata };
}

/** Objects in the edited text: one object, a `List`, or several YAML documents. */
function parseEdited(text: string): KubeObject[] {
  const docs = YAML.parseAllDocuments(text);
  const out: KubeObject[] = [];
  for (const d of docs) {
    if (d.errors.length) throw new Error(d.errors[0].message);
    const v = d.toJS() as KubeObject & { items?: KubeObject[] };
    if (v === null || v === undefined) continue;
    if (typeof v !== 'object' || Array.isArray(v)) throw new Error('the edited file is not a Kubernetes object');
    if (v.kind === 'List' && Array.isArray(v.items)) out.push(...v.items);
    else out.push(v);
  }
  return out;
}

function launch(file: string): void {
  const { cmd, args } = editorCommand(process.env, file);
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.error || r.status !== 0) throw new CliError(`there was a problem with the editor ${JSON.stringify(process.env.KUBE_EDITOR || process.env.EDITOR || 'vi')}`);
}

/**
 * `coxctl edit TYPE/NAME`: writes the object (without managedFields) under
 * kubectl's header to a temporary file, opens the editor, and sends what
 * changed as a merge patch. A save the server rejects as invalid reopens the
 * file with the reasons on top; saving it unchanged then gives up (exit 1) and
 * keeps the file. Unchanged: "Edit cancelled, no changes made."
 */
export async function runEdit(ctx: Ctx, args: string[], flags: EditFlags): Promise<number> {
  const format = flags.output ?? 'yaml';
  if (format !== 'yaml' && format !== 'json') throw new CliError(`unable to match a printer suitable for the output format "${format}", allowed formats are: json,yaml`);
  const targets = await readTargets(ctx, args, { selector: flags.selector });
  if (targets.length === 0) throw new CliError('edit cancelled, no objects found');
  const originals = targets.map((t) => withoutManagedFields(t.object));
  const shown = originals.length === 1 ? originals[0] : { apiVersion: 'v1', kind: 'List', metadata: {}, items: originals };
  const originalText = serialize(shown, format);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'coxctl-edit-'));
  const file = path.join(dir, `coxctl-edit-${process.pid}.${format}`);
  const keep = (): void => ctx.err(`A copy of your changes has been stored to ${JSON.stringify(file)}\n`);
  let reasons: EditReason[] = [];
  let retrying = false;
  let edited = '';
  for (;;) {
    const previous = edited;
    writeFileSync(file, editHeader(reasons) + (retrying ? stripComments(previous) : originalText));
    launch(file);
    edited = readFileSync(file, 'utf8');
    if (retrying && stripComments(previous) === stripComments(edited)) {
      keep();
      throw new CliError('Edit cancelled, no valid changes were saved.');
    }
    if (!hasContent(edited)) {
      rmSync(dir, { recursive: true, force: true });
      ctx.err('Edit cancelled, saved file was empty.\n');
      return 0;
    }
    let objects: KubeObject[];
    try {
      objects = parseEdited(stripComments(edited));
    } catch (err) {
      reasons = [{ head: `The edited file had a syntax error: ${(err as Error).message}`, other: [] }];
      retrying = true;
      continue;
    }
    const editedShown = objects.length === 1 && originals.length === 1 ? objects[0] : { ...shown, items: objects };
    if (jsonEqual(JSON.parse(JSON.stringify(editedShown)), JSON.parse(JSON.stringify(shown)))) {
      rmSync(dir, { recursive: true, force: true });
      ctx.err('Edit cancelled, no changes made.\n');
      return 0;
    }
    reasons = [];
    const result = await patchAll(ctx, targets, originals, objects, reasons);
    if (result === 'retryable') {
      ctx.err(`You can run \`coxctl replace -f ${file}\` to try this update again.\n`);
      return 1;
    }
    if (result === 'notfound') {
      ctx.err(`The edits you made on deleted resources have been saved to ${JSON.stringify(file)}\n`);
      return 1;
    }
    if (reasons.length === 0) {
      rmSync(dir, { recursive: true, force: true });
      return 0;
    }
    retrying = true;
  }
}

async function patchAll(ctx: Ctx, targets: Target[], originals: KubeObject[], objects: KubeObject[], reasons: EditReason[]): Promise<'ok' | 'retryable' | 'notfound'> {
  let outcome: 'ok' | 'retryable' | 'notfound' = 'ok';
  for (const obj of objects) {
    const i = originals.findIndex((o) => o.metadata?.uid && o.metadata.uid === obj.metadata?.uid);
    const idx = i >= 0 ? i : originals.length === 1 ? 0 : -1;
    if (idx < 0) throw new CliError(`no original object found for ${obj.kind ?? ''}/${obj.metadata?.name ?? ''}`);
    const t = targets[idx];
    const patch = createMergePatch(JSON.parse(JSON.stringify(originals[idx])), JSON.parse(JSON.stringify(obj)));
    if (isEmptyPatch(patch)) {
      ctx.out(`${objectName(t)} skipped\n`);
      continue;
    }
    if (changesIdentity(patch)) throw new CliError('At least one of apiVersion, kind and name was changed');
    try {
      await ctx.client.request('PATCH', targetPath(t), { body: patch, contentType: 'application/merge-patch+json', query: { fieldManager: 'kubectl-edit' } });
      ctx.out(`${objectName(t)} edited\n`);
    } catch (err) {
      if (!(err instanceof ApiError)) throw err;
      const res = `${resourceString(t.info)} ${JSON.stringify(t.name)}`;
      if (err.code === 422) {
        const causes = ((err.status?.details as { causes?: { field?: string; message?: string }[] } | undefined)?.causes ?? []).map((c) => `${c.field ?? ''}: ${c.message ?? ''}`);
        reasons.push({ head: `${res} was not valid`, other: causes });
        ctx.err(`error: ${res} is invalid\n`);
      } else if (err.notFound) {
        ctx.err(`error: ${res} could not be found on the server\n`);
        outcome = 'notfound';
      } else {
        ctx.err(`error: ${res} could not be patched: ${err.message}\n`);
        if (outcome === 'ok') outcome = 'retryable';
      }
    }
  }
  return outcome;
}
