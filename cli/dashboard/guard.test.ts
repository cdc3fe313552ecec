import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allowedHostNames, checkRequest } from './guard';

const names = allowedHostNames('127.0.0.1');

test('same-origin requests from the page pass', () => {
  assert.deepEqual(checkRequest({ host: '127.0.0.1:8001', origin: 'http://127.0.0.1:8001', secFetchSite: 'same-origin' }, names, 8001), { ok: true });
  assert.deepEqual(checkRequest({ host: 'localhost:8001' }, names, 8001), { ok: true });
  assert.deepEqual(checkRequest({ host: '[::1]:8001', secFetchSite: 'none' }, names, 8001), { ok: true });
});

test('a foreign Host (DNS rebinding) is refused', () => {
  const v = checkRequest({ host: 'evil.example:8001' }, names, 8001);
  assert.equal(v.ok, false);
  assert.match((v as { reason: string }).reason, /host "evil.example:8001" is not one of/);
  assert.equal(checkRequest({ host: '127.0.0.1:9999' }, names, 8001).ok, false);
  assert.equal(checkRequest({}, names, 8001).ok, false);
});

test('another origin, or a cross-site fetch, is refused', () => {
  assert.equal(checkRequest({ host: '127.0.0.1:8001', origin: 'http://evil.example' }, names, 8001).ok, false);
  assert.equal(checkRequest({ host: '127.0.0.1:8001', origin: 'http://localhost:8001' }, names, 8001).ok, false);
  assert.equal(checkRequest({ host: '127.0.0.1:8001', origin: 'null' }, names, 8001).ok, false);
  assert.equal(checkRequest({ host: '127.0.0.1:8001', secFetchSite: 'cross-site' }, names, 8001).ok, false);
  assert.equal(checkRequest({ host: '127.0.0.1:8001', secFetchSite: 'same-site' }, names, 8001).ok, false);
});

test('--address adds its own name; wildcards add none', () => {
  assert.deepEqual(allowedHostNames('10.0.0.5'), ['localhost', '127.0.0.1', '[::1]', '10.0.0.5']);
  assert.deepEqual(allowedHostNames('::1'), ['localhost', '127.0.0.1', '[::1]']);
  assert.deepEqual(allowedHostNames('0.0.0.0'), ['localhost', '127.0.0.1', '[::1]']);
});
