/**
 * Issue 14, acceptance 3: the scheduler killed -9 in the middle of a burst. A store, the
 * apiserver, one scheduler and 60 hollow nodes (`coxswain hollow-nodes`, its own process);
 * 300 pods created as fast as the API takes them; once a quarter of them are bound the
 * scheduler gets SIGKILL and a new one starts. Every pod ends bound and Running, none is
 * left Pending; no pod was bound twice: no pod has two successful `create pods/binding` in the
 * apiserver's audit log (which records every binding, those whose client was killed too), and a
 * watch that saw every pod never saw its nodeName change.
 */
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Node, Pod } from 'kubernetes-types/core/v1';
import type { KubeObject } from '../lib/client';
import { NODES, PODS } from '../lib/resources';
import { freePort, startControlPlane, startProcess, stopProcess, waitFor, type ControlPlane, type Proc } from './lib/cluster';
import { ok, pidOf, readAudit, type AuditEvent } from './lib/audit';

const NODE_COUNT = 60;
const POD_COUNT = 300;
const NS = 'default';
const LABEL = 'coxswain.test/burst';

const bindings = (events: AuditEvent[]) => events.filter((e) => e.objectRef?.resource === 'pods' && e.objectRef.subresource === 'binding' && e.verb === 'create' && e.objectRef.namespace === NS);

describe('the scheduler killed -9 in the middle of a burst', { timeout: 4 * 60_000 }, () => {
  let cp: ControlPlane;
  let hollow: Proc;
  const stopWatch = new AbortController();

  before(async () => {
    cp = await startControlPlane({ store: 'coxswain', replicas: 1 });
    hollow = startProcess('hollow-nodes', cp.dir, ['hollow-nodes', '--kubeconfig', cp.kubeconfig, '--count', String(NODE_COUNT), '--prefix', 'burst-', '--pods', '110']);
    await waitFor(`${NODE_COUNT} hollow nodes Ready`, async () => {
      const nodes = (await cp.client.list<Node & KubeObject>(NODES)).items;
      return nodes.filter((n) => n.status?.conditions?.some((c) => c.type === 'Ready' && c.status === 'True')).length === NODE_COUNT;
    }, 60_000, 250);
  });

  after(async () => {
    stopWatch.abort();
    if (hollow) await stopProcess(hollow);
    await cp?.stop();
  });

  it('binds every pod exactly once, with a new scheduler after the kill', async (t) => {
    const first = cp.startComponent('scheduler', ['--port', String(await freePort())], 'scheduler-1');
    let second: Proc | undefined;
    // One watch sees every pod: when it is first bound, and whether its node ever changes.
    const nodeOf = new Map<string, string>();
    const moved: string[] = [];
    let boundAtKill = -1;
    const list = await cp.client.list<Pod & KubeObject>(PODS, { namespace: NS });
    const watching = cp.client.watch<Pod & KubeObject>(PODS, { namespace: NS, resourceVersion: list.metadata.resourceVersion, signal: stopWatch.signal, labelSelector: LABEL }, (ev) => {
      const name = ev.object.metadata?.name ?? '';
      const node = ev.object.spec?.nodeName;
      if (!node || ev.type === 'DELETED') return;
      const before = nodeOf.get(name);
      if (before === undefined) nodeOf.set(name, node);
      else if (before !== node) moved.push(`${name}: ${before} → ${node}`);
      if (boundAtKill < 0 && nodeOf.size >= POD_COUNT / 4) {
        // Mid-burst: the kill is sent from the watch callback, the moment a quarter are bound.
        boundAtKill = nodeOf.size;
        first.child.kill('SIGKILL');
      }
    }).catch(() => undefined);

    const names = Array.from({ length: POD_COUNT }, (_, i) => `burst-${i}`);
    let next = 0;
    await Promise.all(Array.from({ length: 20 }, async () => {
      for (let i = next++; i < POD_COUNT; i = next++) {
        await cp.client.create<Pod & KubeObject>(PODS, {
          apiVersion: 'v1', kind: 'Pod', metadata: { name: names[i], namespace: NS, labels: { [LABEL]: 'yes' } },
          spec: { containers: [{ name: 'c', image: 'busybox:1.36', resources: { requests: { cpu: '100m', memory: '64Mi' } } }] },
        });
      }
    }));
    const killed = await first.exited;
    assert.equal(killed.signal, 'SIGKILL', 'the first scheduler was killed');
    assert.ok(boundAtKill > 0 && boundAtKill < POD_COUNT, `killed mid-burst (${boundAtKill} of ${POD_COUNT} bound)`);
    second = cp.startComponent('scheduler', ['--port', String(await freePort())], 'scheduler-2');

    const pods = await waitFor('every pod bound and Running', async () => {
      const items = (await cp.client.list<Pod & KubeObject>(PODS, { namespace: NS, labelSelector: LABEL })).items;
      return items.length === POD_COUNT && items.every((p) => p.spec?.nodeName && p.status?.phase === 'Running') ? items : undefined;
    }, 120_000, 500);
    assert.deepEqual(pods.filter((p) => p.status?.phase === 'Pending').map((p) => p.metadata?.name), [], 'none left Pending');

    // Every binding is audited once the apiserver has decided it, even one whose client (the
    // killed scheduler) was gone by then: wait for one successful binding per pod in the log.
    const events = await waitFor('the audit log to show every binding', async () => {
      const all = await readAudit(cp.auditLog);
      const bound = new Set(bindings(all).filter(ok).map((e) => e.objectRef!.name!));
      return names.every((n) => bound.has(n)) ? all : undefined;
    }, 30_000, 500);
    const count = new Map<string, number>();
    for (const e of bindings(events).filter(ok)) count.set(e.objectRef!.name!, (count.get(e.objectRef!.name!) ?? 0) + 1);
    assert.deepEqual([...count].filter(([, n]) => n !== 1), [], 'no pod has two successful bindings');
    assert.deepEqual(moved, [], 'no pod changed node');
    const byFirst = bindings(events).filter((e) => ok(e) && pidOf(e) === first.child.pid).length;
    const bySecond = bindings(events).filter((e) => ok(e) && pidOf(e) === second!.child.pid).length;
    assert.ok(byFirst > 0 && bySecond > 0, `both schedulers bound pods (${byFirst} and ${bySecond})`);
    const refused = bindings(events).filter((e) => !ok(e)).map((e) => `${e.objectRef?.name} ${e.responseStatus.code}`);
    t.diagnostic(`kill at ${boundAtKill} bound; audited bindings: scheduler-1 ${byFirst}, scheduler-2 ${bySecond}; refused bindings: ${refused.length ? refused.join(', ') : 'none'}`);
    stopWatch.abort();
    await watching;
  });
});
