import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initialClusterText, joinErrorKind } from './store-join';

test('initialClusterText: our entry under our name; unstarted members get a placeholder name', () => {
  const members = [
    { ID: '1', name: 's1', peerURLs: ['https://10.0.0.1:2380'] },
    { ID: '4095', name: '', peerURLs: ['https://10.0.0.2:2380'] }, // added, not started
    { ID: '18446744073709551615', name: '', peerURLs: ['https://10.0.0.3:2380'] }, // us, just added
  ];
  assert.equal(
    initialClusterText(members, { name: 'n3', peerURL: 'https://10.0.0.3:2380' }),
    's1=https://10.0.0.1:2380,member-0000000000000fff=https://10.0.0.2:2380,n3=https://10.0.0.3:2380',
  );
});

test('joinErrorKind: quorum refusals and outages are retried, our URL already in is success', () => {
  assert.equal(joinErrorKind({ code: 14, details: 'etcdserver: unhealthy cluster' }), 'retry');
  assert.equal(joinErrorKind({ code: 9, details: 'etcdserver: re-configuration failed due to not enough started members' }), 'retry');
  assert.equal(joinErrorKind({ code: 14, details: 'No connection established' }), 'retry');
  assert.equal(joinErrorKind({ code: 9, details: 'etcdserver: Peer URLs already exists' }), 'exists');
  assert.equal(joinErrorKind({ code: 3, details: 'etcdserver: invalid argument: store: URL "x" needs a port' }), 'fail');
});
