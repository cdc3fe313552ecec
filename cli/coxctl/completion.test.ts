import { test } from 'node:test';
import assert from 'node:assert/strict';
import { complete, type CompletionSources } from './completion';

const asked: string[] = [];
const src: CompletionSources = {
  verbs: ['get', 'rollout', 'scale', 'completion'],
  subverbs: { rollout: ['status', 'history'] },
  flags: (path) => (path === 'scale' ? ['--replicas'] : ['--namespace']),
  resourceTypes: async () => ['deployments', 'deploy', 'pods', 'po'],
  names: async (type, ns) => {
    asked.push(`${type}@${ns ?? ''}`);
    return type === 'namespaces' ? ['default', 'cx'] : ['web', 'api'];
  },
};

test('verbs, subverbs, types and names by position', async () => {
  assert.deepEqual(await complete([''], src), src.verbs);
  assert.deepEqual(await complete(['rollout', ''], src), ['status', 'history']);
  assert.deepEqual(await complete(['rollout', 'status', ''], src), ['deployments', 'daemonsets', 'statefulsets']);
  assert.deepEqual(await complete(['get', ''], src), ['deployments', 'deploy', 'pods', 'po']);
  assert.deepEqual(await complete(['get', 'deploy', 'w'], src), ['web', 'api']);
  assert.deepEqual(await complete(['-n', 'cx', 'scale', 'deploy/'], src), ['deploy/web', 'deploy/api']);
  assert.equal(asked.pop(), 'deploy@cx');
  assert.deepEqual(await complete(['completion', ''], src), ['bash', 'zsh']);
  assert.deepEqual(await complete(['logs', ''], src), ['web', 'api']);
  assert.equal(asked.pop(), 'pods@');
  assert.deepEqual(await complete(['exec', 'deploy/'], src), ['deploy/web', 'deploy/api']);
  assert.deepEqual(await complete(['version', ''], src), []);
});

test('flags, namespaces after -n, nothing for other flag values', async () => {
  assert.deepEqual(await complete(['scale', '--'], src), ['--replicas']);
  assert.deepEqual(await complete(['get', '-n', ''], src), ['default', 'cx']);
  assert.deepEqual(await complete(['get', '-o', ''], src), []);
  assert.deepEqual(await complete(['--namespace=cx', 'get', 'pods', ''], src), ['web', 'api']);
  assert.equal(asked.pop(), 'pods@cx');
});
