import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Pod } from 'kubernetes-types/core/v1';
import type { NetworkPolicy } from 'kubernetes-types/networking/v1';
import pino from 'pino';
import { FakeClock } from '../../lib/fake-clock';
import { NetworkPolicyEnforcer, type RuleWriter } from './enforcer';
import type { NodeRuleset } from './rules';

class RecordingWriter implements RuleWriter {
  writes: (NodeRuleset | undefined)[] = [];
  first = true;
  async apply(desired: NodeRuleset | undefined): Promise<void> {
    this.writes.push(desired);
  }
  async jumpIsFirst(): Promise<boolean> {
    return this.first;
  }
}

const pod = (name: string, ip: string, nodeName: string): Pod => ({
  metadata: { namespace: 'default', name, labels: { app: name } },
  spec: { nodeName, containers: [{ name: 'c', image: 'i' }] },
  status: { phase: 'Running', podIP: ip },
});
const deny: NetworkPolicy = { metadata: { namespace: 'default', name: 'deny' }, spec: { podSelector: { matchLabels: { app: 'web' } } } };

/** Lets the controller's worker and the timers' async callbacks run. */
const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};

test('enforcer: clears at start, writes on change (not when unchanged), removes with the last policy, restores a jump that moved', async () => {
  const clock = new FakeClock();
  const writer = new RecordingWriter();
  const e = new NetworkPolicyEnforcer({ nodeName: 'n1', logger: pino({ level: 'silent' }), writer, clock, checkPeriodMs: 1000 });
  e.upsert('pod', pod('web', '10.244.0.5', 'n1'));
  e.upsert('pod', pod('far', '10.244.1.5', 'n2'));
  e.start();
  await settle();
  assert.equal(writer.writes.length, 1);
  assert.equal(writer.writes[0], undefined, 'the first pass clears what an earlier run left');

  e.upsert('policy', deny);
  await settle();
  assert.equal(writer.writes.length, 2);
  assert.equal(writer.writes[1]?.chains.size, 2, 'top chain and web\'s ingress chain');

  e.upsert('pod', { ...pod('far', '10.244.1.5', 'n2'), metadata: { ...pod('far', '', '').metadata, labels: { app: 'far', v: '2' } } });
  await settle();
  assert.equal(writer.writes.length, 2, 'a change that leaves the rules as they are writes nothing');

  writer.first = false;
  clock.advance(1000);
  await settle();
  assert.equal(writer.writes.length, 3, 'the jump was not first: rewritten');
  writer.first = true;
  clock.advance(1000);
  await settle();
  assert.equal(writer.writes.length, 3);

  e.remove('policy', deny);
  await settle();
  assert.equal(writer.writes.length, 4);
  assert.equal(writer.writes[3], undefined, 'no isolated pod: chains removed');
  await e.stop();
});

test('enforcer.admits: everything without policies; the client\'s and the backend\'s policies with them; local non-pod clients are node traffic', () => {
  const e = new NetworkPolicyEnforcer({ nodeName: 'n1', logger: pino({ level: 'silent' }), localAddresses: () => ['10.96.0.10'] });
  e.upsert('pod', pod('web', '10.244.0.5', 'n1'));
  e.upsert('pod', pod('cli', '10.244.0.6', 'n1'));
  assert.equal(e.admits('10.244.0.6', { ip: '10.244.0.5', port: 80 }, 'TCP'), true);
  e.upsert('policy', deny);
  assert.equal(e.admits('10.244.0.6', { ip: '10.244.0.5', port: 80 }, 'TCP'), false);
  assert.equal(e.admits('::ffff:10.244.0.6', { ip: '10.244.0.5', port: 80 }, 'TCP'), false, 'IPv4-mapped addresses are unwrapped');
  assert.equal(e.admits('10.96.0.10', { ip: '10.244.0.5', port: 80 }, 'TCP'), true, 'a host process through a ClusterIP on lo');
  assert.equal(e.admits('192.0.2.1', { ip: '10.244.0.5', port: 80 }, 'TCP'), false, 'an outside client meets the policy');
});
