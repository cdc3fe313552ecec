import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, type OwnerState } from './gc';

const obj = (uids: string[], deleting = false) => ({
  metadata: { name: 'x', ownerReferences: uids.map((uid) => ({ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: uid, uid })), ...(deleting ? { deletionTimestamp: 't' } : {}) },
});

test('decide: table', () => {
  const cases: [string[], Record<string, OwnerState>, string, boolean?][] = [
    [[], {}, 'none'],
    [['a'], { a: 'exists' }, 'none'],
    [['a'], { a: 'absent' }, 'delete'],
    [['a'], { a: 'deleting-foreground' }, 'delete'],
    [['a', 'b'], { a: 'absent', b: 'exists' }, 'none'],
    [['a', 'b'], { a: 'absent', b: 'absent' }, 'delete'],
    [['a'], { a: 'unknown' }, 'none'],
    [['a', 'b'], { a: 'deleting-orphan', b: 'exists' }, 'orphan'],
    [['a'], { a: 'absent' }, 'none', true],
  ];
  for (const [uids, states, want, deleting] of cases) {
    const d = decide(obj(uids, deleting), (r) => states[r.uid]);
    assert.equal(d.action, want, JSON.stringify({ uids, states }));
  }
  assert.deepEqual(decide(obj(['a', 'b']), (r) => (r.uid === 'a' ? 'deleting-orphan' : 'exists')), { action: 'orphan', remove: ['a'] });
});
