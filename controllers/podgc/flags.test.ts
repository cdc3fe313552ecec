import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseFlags } from '../main';

test('--terminated-pod-gc-threshold: Kubernetes default 12500, a number, or a clear error', () => {
  assert.equal(parseFlags(['--kubeconfig', 'k']).terminatedPodGcThreshold, 12_500);
  assert.equal(parseFlags(['--kubeconfig', 'k', '--terminated-pod-gc-threshold', '3']).terminatedPodGcThreshold, 3);
  assert.throws(() => parseFlags(['--kubeconfig', 'k', '--terminated-pod-gc-threshold', 'many']), /--terminated-pod-gc-threshold: "many" is not an integer/);
});
