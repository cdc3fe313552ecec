import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatLabelSelector, matchesLabels, parseFieldSelector, parseLabelSelector } from './selectors';

test('label selectors: =, ==, !=, in, notin, exists, !key', () => {
  const l = { app: 'web', tier: 'fe' };
  const m = (s: string) => matchesLabels(parseLabelSelector(s), l);
  assert.ok(m('app=web') && m('app==web') && m('app!=db') && m('tier in (fe,be)') && m('tier notin (be)') && m('app') && m('!missing') && m('app=web,tier'));
  assert.ok(!m('app=db') && !m('!app') && !m('tier in (be)') && !m('missing'));
  assert.throws(() => parseLabelSelector('a=b c'), /unable to parse/);
  assert.equal(formatLabelSelector({ matchLabels: { b: '2', a: '1' }, matchExpressions: [{ key: 'c', operator: 'In', values: ['y', 'x'] }] }), 'a=1,b=2,c in (x,y)');
  assert.throws(() => parseFieldSelector('bogus=1', new Set(['metadata.name'])), /field label not supported/);
});
