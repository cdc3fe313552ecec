import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ContainerPort, Pod } from 'kubernetes-types/core/v1';
import { CycleState } from '../framework';
import { NodePorts, NODE_PORTS_REASON, podHostPorts } from './nodePorts';
import { mkInfo, mkNode, mkPod, mkSnapshot } from '../testutil';

function withPorts(name: string, ports: ContainerPort[], node?: string): Pod {
  const p = mkPod(name, { node });
  p.spec!.containers[0].ports = ports;
  return p;
}

test('NodePorts: host port conflicts by protocol and host IP, table', () => {
  const tcp80 = { containerPort: 80, hostPort: 80 };
  const cases: [string, ContainerPort[], ContainerPort[], boolean][] = [
    ['no host ports', [{ containerPort: 80 }], [tcp80], true],
    ['free port', [{ containerPort: 80, hostPort: 8080 }], [tcp80], true],
    ['same port, default protocol and IP', [tcp80], [tcp80], false],
    ['same port, TCP explicit vs default', [{ containerPort: 80, hostPort: 80, protocol: 'TCP' }], [tcp80], false],
    ['same port, other protocol', [{ containerPort: 80, hostPort: 80, protocol: 'UDP' }], [tcp80], true],
    ['same port, different specific IPs', [{ containerPort: 80, hostPort: 80, hostIP: '10.0.0.1' }], [{ containerPort: 80, hostPort: 80, hostIP: '10.0.0.2' }], true],
    ['same port, same specific IP', [{ containerPort: 80, hostPort: 80, hostIP: '10.0.0.1' }], [{ containerPort: 80, hostPort: 80, hostIP: '10.0.0.1' }], false],
    ['specific IP wanted, 0.0.0.0 held', [{ containerPort: 80, hostPort: 80, hostIP: '10.0.0.1' }], [tcp80], false],
    ['0.0.0.0 wanted, specific IP held', [tcp80], [{ containerPort: 80, hostPort: 80, hostIP: '10.0.0.1' }], false],
    ['explicit 0.0.0.0 equals unset', [{ containerPort: 80, hostPort: 80, hostIP: '0.0.0.0' }], [tcp80], false],
    ['containerPort alone is no host port', [{ containerPort: 80 }], [{ containerPort: 80 }], true],
  ];
  const node = mkNode('n');
  for (const [name, want, held, fits] of cases) {
    const pod = withPorts('p', want);
    const info = mkInfo(node, [withPorts('q', held, 'n')]);
    const state = new CycleState();
    assert.equal(NodePorts.preFilter!(pod, mkSnapshot([info]), state), undefined, name);
    const s = NodePorts.filter(pod, info, state);
    assert.deepEqual(s, fits ? undefined : { code: 'Unschedulable', reasons: [NODE_PORTS_REASON] }, name);
  }
});

test('NodePorts: finished pods free their ports; sidecars hold theirs', () => {
  const done = withPorts('q', [{ containerPort: 80, hostPort: 80 }], 'n');
  done.status!.phase = 'Succeeded';
  const pod = withPorts('p', [{ containerPort: 80, hostPort: 80 }]);
  assert.equal(NodePorts.filter(pod, mkInfo(mkNode('n'), [done]), new CycleState()), undefined);
  const withSidecar = mkPod('s', { node: 'n' });
  withSidecar.spec!.initContainers = [
    { name: 'sidecar', image: 'x', restartPolicy: 'Always', ports: [{ containerPort: 80, hostPort: 80 }] },
    { name: 'init', image: 'x', ports: [{ containerPort: 81, hostPort: 81 }] },
  ];
  assert.deepEqual(podHostPorts(withSidecar), [{ ip: '0.0.0.0', protocol: 'TCP', port: 80 }]);
  assert.equal(NodePorts.filter(pod, mkInfo(mkNode('n'), [withSidecar]), new CycleState())?.code, 'Unschedulable');
});
