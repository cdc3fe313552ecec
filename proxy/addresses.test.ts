import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCidr } from '../lib/ipv4';
import { ownedAddresses } from './addresses';

test('owned addresses: labelled /32s inside the service CIDR only', () => {
  const out = [
    '1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever',
    '1: lo    inet 10.96.0.10/32 scope global lo:coxswain\\       valid_lft forever preferred_lft forever',
    '1: lo    inet 10.96.0.11/32 scope global lo\\       valid_lft forever preferred_lft forever',
    '1: lo    inet 10.97.0.12/32 scope global lo:coxswain\\       valid_lft forever preferred_lft forever',
    '1: lo    inet 10.200.0.1/32 scope global lo:coxswain\\       valid_lft forever preferred_lft forever',
    '1: lo    inet 10.96.0.13/32 scope global lo:coxswainx\\       valid_lft forever preferred_lft forever',
  ].join('\n');
  assert.deepEqual(ownedAddresses(out, 'lo:coxswain', parseCidr('10.96.0.0/12')!), ['10.96.0.10', '10.97.0.12']);
  assert.deepEqual(ownedAddresses('', 'lo:coxswain', parseCidr('10.96.0.0/12')!), []);
});
