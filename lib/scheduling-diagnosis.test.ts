import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ANN_LAST_ATTEMPT, decodeLastAttempt, encodeLastAttempt, groupRejections } from './scheduling-diagnosis';

test('groupRejections: nodes with the same plugin and reasons share a group, largest first', () => {
  const g = groupRejections([
    ['n2', { plugin: 'TaintToleration', code: 'UnschedulableAndUnresolvable', reasons: ['node(s) had untolerated taint {gpu: true}'] }],
    ['n1', { plugin: 'NodeResourcesFit', code: 'Unschedulable', reasons: ['Insufficient cpu'] }],
    ['n0', { plugin: 'NodeResourcesFit', code: 'Unschedulable', reasons: ['Insufficient cpu'] }],
    ['n3', { plugin: 'NodeResourcesFit', code: 'Unschedulable', reasons: ['Insufficient cpu', 'Insufficient memory'] }],
  ]);
  assert.deepEqual(g.map((x) => [x.plugin, x.reasons.length, x.nodes]), [
    ['NodeResourcesFit', 1, ['n0', 'n1']],
    ['NodeResourcesFit', 2, ['n3']],
    ['TaintToleration', 1, ['n2']],
  ]);
});

test('encode/decode round trip; absent or foreign annotations decode to undefined', () => {
  const a = { time: '2026-12-07T06:00:00Z', nodes: 1, message: '0/1 nodes are available: 1 Insufficient cpu.', rejected: groupRejections([['n', { plugin: 'NodeResourcesFit', code: 'Unschedulable' as const, reasons: ['Insufficient cpu'] }]]) };
  assert.deepEqual(decodeLastAttempt({ [ANN_LAST_ATTEMPT]: encodeLastAttempt(a) }), a);
  assert.equal(decodeLastAttempt(undefined), undefined);
  assert.equal(decodeLastAttempt({ [ANN_LAST_ATTEMPT]: 'not json' }), undefined);
  assert.equal(decodeLastAttempt({ [ANN_LAST_ATTEMPT]: '{"x":1}' }), undefined);
});
