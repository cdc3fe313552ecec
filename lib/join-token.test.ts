import test from 'node:test';
import assert from 'node:assert/strict';
import { caHash, formatJoinToken, newTokenId, newTokenSecret, parseJoinToken } from './join-token';

const CA = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';

test('a formatted token parses back to its parts', () => {
  const id = newTokenId();
  const secret = newTokenSecret();
  assert.match(id, /^[a-z0-9]{6}$/);
  assert.match(secret, /^[a-z0-9]{16}$/);
  const t = formatJoinToken(CA, id, secret);
  assert.equal(t, `K10${caHash(CA)}::${id}.${secret}`);
  assert.deepEqual(parseJoinToken(`  ${t}\n`), { caHash: caHash(CA), id, secret });
});

test('the CA hash is the sha256 of the PEM exactly as given', () => {
  assert.equal(caHash(''), 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  assert.notEqual(caHash(CA), caHash(CA.trimEnd()));
});

test('bad tokens are refused with a message naming what is wrong', () => {
  const h = caHash(CA);
  const cases: [string, RegExp][] = [
    ['', /empty/],
    ['abcdef.0123456789abcdef', /no CA hash/],
    ['X10abc::abcdef.0123456789abcdef', /does not start with K10/],
    [`K10${h}abcdef.0123456789abcdef`, /no "::"/],
    ['K10::abcdef.0123456789abcdef', /no CA hash after K10/],
    ['K10abc::abcdef.0123456789abcdef', /CA hash is not 64/],
    [`K10${h.toUpperCase()}::abcdef.0123456789abcdef`, /CA hash is not 64/],
    [`K10${h}::abcdef0123456789abcdef`, /no "\."/],
    [`K10${h}::ABCDEF.0123456789abcdef`, /id "ABCDEF" is bad/],
    [`K10${h}::abcde.0123456789abcdef`, /id "abcde" is bad/],
    [`K10${h}::abcdef.0123456789abcde`, /secret is bad/],
  ];
  for (const [text, want] of cases) assert.throws(() => parseJoinToken(text), want, text);
  assert.throws(() => parseJoinToken(`K10${h}::abcdef.0123456789abcdeX`), (e: Error) => !e.message.includes('0123456789abcdeX'));
});

test('formatJoinToken checks the id and secret', () => {
  assert.throws(() => formatJoinToken(CA, 'abc', '0123456789abcdef'), /token id/);
  assert.throws(() => formatJoinToken(CA, 'abcdef', 'short'), /secret/);
});
