import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clientIp, downstreamResponseHeaders, upstreamRequestHeaders } from './headers';

const pairs = (flat: string[]) => {
  const out: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) out.push([flat[i]!, flat[i + 1]!]);
  return out;
};

test('request headers to the backend: hop-by-hop removed, Host kept, X-Forwarded-* set', () => {
  const cases: { name: string; raw: string[]; info: Parameters<typeof upstreamRequestHeaders>[1]; want: [string, string][] }[] = [
    {
      name: 'plain GET',
      raw: ['Host', 'app.test', 'User-Agent', 'curl', 'Connection', 'keep-alive', 'Keep-Alive', 'timeout=5'],
      info: { clientAddress: '::ffff:10.0.0.9', proto: 'http', localPort: 80 },
      want: [['Host', 'app.test'], ['User-Agent', 'curl'], ['X-Forwarded-For', '10.0.0.9'], ['X-Forwarded-Host', 'app.test'], ['X-Forwarded-Port', '80'], ['X-Forwarded-Proto', 'http']],
    },
    {
      name: 'an earlier proxy\'s X-Forwarded-For is appended to; forged Proto/Host/Port are replaced',
      raw: ['Host', 'a:8443', 'X-Forwarded-For', '1.1.1.1', 'x-forwarded-for', '2.2.2.2', 'X-Forwarded-Proto', 'https', 'X-Forwarded-Host', 'evil', 'X-Forwarded-Port', '1'],
      info: { clientAddress: '127.0.0.1', proto: 'https', localPort: 8443 },
      want: [['Host', 'a:8443'], ['X-Forwarded-For', '1.1.1.1, 2.2.2.2, 127.0.0.1'], ['X-Forwarded-Host', 'a:8443'], ['X-Forwarded-Port', '8443'], ['X-Forwarded-Proto', 'https']],
    },
    {
      name: 'headers named by Connection, TE, Trailer, Transfer-Encoding, Proxy-* removed; repeated headers kept',
      raw: ['Host', 'h', 'Connection', 'close, X-Secret-Hop', 'X-Secret-Hop', '1', 'TE', 'trailers', 'Trailer', 'X-T', 'Transfer-Encoding', 'chunked', 'Proxy-Authorization', 'Basic x', 'Proxy-Connection', 'keep-alive', 'Cookie', 'a=1', 'Cookie', 'b=2'],
      info: { clientAddress: '10.1.1.1', proto: 'http', localPort: 80 },
      want: [['Host', 'h'], ['Cookie', 'a=1'], ['Cookie', 'b=2'], ['X-Forwarded-For', '10.1.1.1'], ['X-Forwarded-Host', 'h'], ['X-Forwarded-Port', '80'], ['X-Forwarded-Proto', 'http']],
    },
    {
      name: 'WebSocket upgrade keeps Connection: Upgrade and Upgrade',
      raw: ['Host', 'ws.test', 'Connection', 'keep-alive, Upgrade', 'Upgrade', 'websocket', 'Sec-WebSocket-Key', 'k', 'Sec-WebSocket-Version', '13'],
      info: { clientAddress: '10.1.1.1', proto: 'http', localPort: 80, upgrade: 'websocket' },
      want: [['Host', 'ws.test'], ['Sec-WebSocket-Key', 'k'], ['Sec-WebSocket-Version', '13'], ['X-Forwarded-For', '10.1.1.1'], ['X-Forwarded-Host', 'ws.test'], ['X-Forwarded-Port', '80'], ['X-Forwarded-Proto', 'http'], ['Connection', 'Upgrade'], ['Upgrade', 'websocket']],
    },
    {
      name: 'HTTP/1.0 without Host',
      raw: [],
      info: { clientAddress: '::1', proto: 'http', localPort: 80 },
      want: [['X-Forwarded-For', '::1'], ['X-Forwarded-Port', '80'], ['X-Forwarded-Proto', 'http']],
    },
  ];
  for (const c of cases) assert.deepEqual(pairs(upstreamRequestHeaders(c.raw, c.info)), c.want, c.name);
});

test('response headers to the client: hop-by-hop removed, Set-Cookie repeated', () => {
  const raw = ['Content-Type', 'text/plain', 'Transfer-Encoding', 'chunked', 'Connection', 'keep-alive, X-Hop', 'X-Hop', 'y', 'Keep-Alive', 'timeout=5', 'Set-Cookie', 'a=1', 'Set-Cookie', 'b=2'];
  assert.deepEqual(pairs(downstreamResponseHeaders(raw)), [['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['Set-Cookie', 'b=2']]);
});

test('clientIp shows IPv4-mapped addresses as IPv4', () => {
  assert.equal(clientIp('::ffff:127.0.0.1'), '127.0.0.1');
  assert.equal(clientIp('fe80::1'), 'fe80::1');
  assert.equal(clientIp(undefined), '');
});
