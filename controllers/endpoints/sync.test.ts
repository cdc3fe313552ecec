import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod, Service } from 'kubernetes-types/core/v1';
import { computeSubsets, desiredEndpoints, endpointsUpToDate, resolveTargetPort, MANAGED_BY_LABEL } from './sync';

const svc = (ports: NonNullable<Service['spec']>['ports'], extra: Partial<NonNullable<Service['spec']>> = {}): Service => ({
  metadata: { name: 'web', namespace: 'default', labels: { tier: 'fe' } },
  spec: { selector: { app: 'web' }, ports, ...extra },
});

function pod(name: string, o: { ip?: string; ready?: boolean; labels?: Record<string, string>; ns?: string; deleting?: boolean; port?: number; phase?: string } = {}): Pod {
  return {
    metadata: { name, namespace: o.ns ?? 'default', uid: `uid-${name}`, labels: o.labels ?? { app: 'web' }, ...(o.deleting ? { deletionTimestamp: '2024-01-01T00:00:00Z' } : {}) },
    spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ name: 'http', containerPort: o.port ?? 8080 }] }] },
    status: { podIP: o.ip, phase: o.phase ?? 'Running', conditions: [{ type: 'Ready', status: o.ready === false ? 'False' : 'True' }] },
  };
}

test('resolveTargetPort: number, numeric string, named, missing', () => {
  const p = pod('a');
  assert.equal(resolveTargetPort({ port: 80, targetPort: 9000 }, p), 9000);
  assert.equal(resolveTargetPort({ port: 80, targetPort: '9001' }, p), 9001);
  assert.equal(resolveTargetPort({ port: 80, targetPort: 'http' }, p), 8080);
  assert.equal(resolveTargetPort({ port: 80, targetPort: 'nope' }, p), undefined);
  assert.equal(resolveTargetPort({ port: 80 }, p), 80);
  assert.equal(resolveTargetPort({ port: 80, targetPort: 'http', protocol: 'UDP' }, p), undefined);
});

test('ready pods in addresses, not-ready in notReadyAddresses; no IP, terminating, finished, other namespace or labels left out', () => {
  const pods = [
    pod('b', { ip: '10.244.0.3' }),
    pod('a', { ip: '10.244.0.2' }),
    pod('nr', { ip: '10.244.0.4', ready: false }),
    pod('noip'),
    pod('term', { ip: '10.244.0.5', deleting: true }),
    pod('done', { ip: '10.244.0.6', phase: 'Succeeded' }),
    pod('other', { ip: '10.244.0.7', ns: 'x' }),
    pod('lbl', { ip: '10.244.0.8', labels: { app: 'db' } }),
  ];
  const subsets = computeSubsets(svc([{ name: 'http', port: 80, targetPort: 'http' }]), pods);
  assert.deepEqual(subsets, [
    {
      addresses: [
        { ip: '10.244.0.2', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'a', uid: 'uid-a' } },
        { ip: '10.244.0.3', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'b', uid: 'uid-b' } },
      ],
      notReadyAddresses: [{ ip: '10.244.0.4', nodeName: 'n1', targetRef: { kind: 'Pod', namespace: 'default', name: 'nr', uid: 'uid-nr' } }],
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    },
  ]);
});

test('pods resolving a named port differently go to different subsets; publishNotReadyAddresses', () => {
  const pods = [pod('a', { ip: '10.0.0.1', port: 8080 }), pod('b', { ip: '10.0.0.2', port: 9090, ready: false })];
  const subsets = computeSubsets(svc([{ port: 80, targetPort: 'http' }]), pods);
  assert.equal(subsets.length, 2);
  assert.deepEqual(subsets.map((s) => s.ports?.[0].port).sort(), [8080, 9090]);
  const pub = computeSubsets(svc([{ port: 80, targetPort: 'http' }], { publishNotReadyAddresses: true }), pods);
  assert.ok(pub.every((s) => s.addresses?.length === 1 && !s.notReadyAddresses));
});

test('no matching pods gives empty subsets; desired object carries service labels and the managed-by label', () => {
  const e = desiredEndpoints(svc([{ port: 80 }]), []);
  assert.deepEqual(e.subsets, []);
  assert.equal(e.metadata?.labels?.tier, 'fe');
  assert.ok(e.metadata?.labels?.[MANAGED_BY_LABEL]);
  assert.ok(endpointsUpToDate({ metadata: { labels: e.metadata?.labels } }, e));
  assert.ok(!endpointsUpToDate({ metadata: {}, subsets: [] }, e));
});

test('hostname only for pods whose subdomain is this Service (StatefulSet pods under their headless Service)', () => {
  const withHost = (name: string, subdomain?: string): Pod => {
    const p = pod(name, { ip: name === 'web-0' ? '10.244.0.10' : '10.244.0.11' });
    p.spec = { ...p.spec!, hostname: name, subdomain };
    return p;
  };
  const subsets = computeSubsets(svc([{ name: 'http', port: 80 }]), [withHost('web-0', 'web'), withHost('web-1', 'other')]);
  assert.deepEqual(subsets[0]!.addresses!.map((a) => [a.ip, a.hostname]), [['10.244.0.10', 'web-0'], ['10.244.0.11', undefined]]);
});
