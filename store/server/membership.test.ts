import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkAddNode, checkMayAddMember } from './membership';
import type { MemberInfo } from './member-info';

const m = (idHex: string, name: string, peer = `https://10.0.0.${parseInt(idHex, 16)}:2380`): MemberInfo => ({ idHex, name, peerURLs: [peer], clientURLs: [] });
const all = () => true;

test('strict reconfig: started members must stay a quorum of the new membership', () => {
  // A lone member may add a second one (the only way to grow).
  checkMayAddMember([m('1', 's1')], '1', all);
  // ... but not a third while the second has not started (1 started of 3).
  assert.throws(() => checkMayAddMember([m('1', 's1'), m('2', '')], '1', all), /not enough started members/);
  // Once it started (published its name): 2 of 3.
  checkMayAddMember([m('1', 's1'), m('2', 's2')], '1', all);
  // 3 started, 1 pending: 3 of 5 is still a quorum; 2 pending: 3 of 6 is not.
  checkMayAddMember([m('1', 'a'), m('2', 'b'), m('3', 'c'), m('4', '')], '1', all);
  assert.throws(() => checkMayAddMember([m('1', 'a'), m('2', 'b'), m('3', 'c'), m('4', ''), m('5', '')], '1', all), /not enough started members/);
});

test('strict reconfig: the leader must be connected to every other member', () => {
  assert.throws(() => checkMayAddMember([m('1', 'a'), m('2', 'b'), m('3', 'c')], '1', (id) => id !== '3'), /^Error: etcdserver: unhealthy cluster$|etcdserver: unhealthy cluster/);
  checkMayAddMember([m('1', 'a'), m('2', 'b'), m('3', 'c')], '1', (id) => id !== '1');
});

test('AddNode: a removed id never comes back, ids and peer URLs are unique', () => {
  const members = new Map([m('1', 'a'), m('2', 'b')].map((x) => [x.idHex, x]));
  const removed = new Set(['9']);
  assert.throws(() => checkAddNode(members, removed, { idHex: '9', name: '', peerURLs: ['https://10.0.0.9:2380'] }), /member not found: member 9 was removed/);
  assert.throws(() => checkAddNode(members, removed, { idHex: '2', name: '', peerURLs: ['https://10.0.0.7:2380'] }), /member ID already exist/);
  assert.throws(() => checkAddNode(members, removed, { idHex: '7', name: '', peerURLs: ['https://10.0.0.2:2380'] }), /Peer URLs already exists/);
  checkAddNode(members, removed, { idHex: '7', name: '', peerURLs: ['https://10.0.0.7:2380'] });
});
