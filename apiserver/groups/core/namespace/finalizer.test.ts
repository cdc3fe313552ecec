import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLogger } from '../../../../lib/log';
import type { CachedObject } from '../../../watchcache';
import { type ApiObject, objectName } from '../../../api-object';
import type { FinalizerOps, ResourceDef } from '../../types';
import { NAMESPACE } from './namespace';
import { POD } from '../pod/pod';
import { startNamespaceFinalizer } from './finalizer';

const cached = (obj: object): CachedObject => ({ key: '', obj: obj as ApiObject, json: JSON.stringify(obj), rv: 1 });

/** A namespace `tmp` (Terminating) holding pods, and `live` (Active), over in-memory ops. */
function fakeStorage(pods: string[]) {
  const namespaces = new Map<string, object>([
    ['tmp', { metadata: { name: 'tmp', deletionTimestamp: '2024-01-01T00:00:00Z' }, status: { phase: 'Terminating' } }],
    ['live', { metadata: { name: 'live' }, status: { phase: 'Active' } }],
  ]);
  const podsLeft = new Set(pods);
  const deleted: string[] = [];
  const ops: FinalizerOps = {
    def: NAMESPACE,
    log: createLogger('finalizer-test'),
    namespacedDefs: () => [POD],
    async list(def: ResourceDef, ns: string | undefined) {
      if (def === NAMESPACE) return { items: [...namespaces.values()].map(cached) };
      return { items: ns === 'tmp' ? [...podsLeft].map((name) => cached({ metadata: { name, namespace: ns } })) : [] };
    },
    async delete(_def, ns, name) {
      deleted.push(`${ns}/${name}`);
      // the first pod only goes away on its second delete (a graceful deletion in progress)
      if (name !== 'slow' || deleted.filter((d) => d === 'tmp/slow').length > 1) podsLeft.delete(name);
    },
    async read(name) { const ns = namespaces.get(name); return ns ? cached(ns) : undefined; },
    async remove(cur) { namespaces.delete(objectName(cur.obj)); return true; },
  };
  return { ops, namespaces, deleted };
}

async function waitFor(cond: () => boolean, ms: number): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}

test('namespace finalizer: deletes the content, comes back while some remains, then removes the namespace', async () => {
  const { ops, namespaces, deleted } = fakeStorage(['a', 'slow']);
  const f = startNamespaceFinalizer(ops);
  try {
    f.enqueue('tmp');
    await waitFor(() => !namespaces.has('tmp'), 5_000);
    assert.deepEqual(deleted.filter((d) => d === 'tmp/slow').length, 2, 'requeued while content remained');
    assert.ok(namespaces.has('live'));
  } finally { f.stop(); }
});

test('namespace finalizer: resume picks up namespaces that were Terminating at start', async () => {
  const { ops, namespaces } = fakeStorage([]);
  const f = startNamespaceFinalizer(ops);
  try {
    await f.resume();
    await waitFor(() => !namespaces.has('tmp'), 5_000);
    assert.ok(namespaces.has('live'), 'an Active namespace is left alone');
  } finally { f.stop(); }
});
