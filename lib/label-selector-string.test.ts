import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesSelector } from './label-selector';
import { parseSelectorString } from './label-selector-string';

test('selector strings: =, ==, !=, in, notin, exists, !key; empty selects all; bad ones name the part', () => {
  const sel = parseSelectorString('app=web,tier in (a, b),!canary,zone,env!=prod');
  assert.equal(matchesSelector(sel, { app: 'web', tier: 'b', zone: 'z1' }), true);
  assert.equal(matchesSelector(sel, { app: 'web', tier: 'c', zone: 'z1' }), false);
  assert.equal(matchesSelector(sel, { app: 'web', tier: 'a', zone: 'z1', canary: '' }), false);
  assert.equal(matchesSelector(sel, { app: 'web', tier: 'a' }), false);
  assert.equal(matchesSelector(sel, { app: 'web', tier: 'a', zone: 'z', env: 'prod' }), false);
  assert.equal(matchesSelector(parseSelectorString('x==1,y notin (2)'), { x: '1', y: '3' }), true);
  assert.equal(matchesSelector(parseSelectorString(''), { any: 'thing' }), true);
  assert.throws(() => parseSelectorString('a=b,'), /found '', expected: identifier/);
  assert.throws(() => parseSelectorString('a in ()'), /values set can't be empty/);
  assert.throws(() => parseSelectorString('a b c'), /unable to parse requirement: "a b c"/);
});
