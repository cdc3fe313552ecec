/**
 * The backends of bench:proxy, run as a process of their own (so their CPU is
 * not the load generator's): on 127.0.0.1, free ports, printed as one JSON line
 * on stdout once all listen.
 *   bulk  TCP: writes `COXSWAIN_BENCH_PROXY_BULK_MB` MiB (default 64) to each connection, then ends it
 *   rr    TCP: answers the first chunk of each connection with 64 bytes, then ends it
 *   echo  UDP: sends every datagram back to its sender
 */
import dgram from 'node:dgram';
import net from 'node:net';

const bulkBytes = Number(process.env.COXSWAIN_BENCH_PROXY_BULK_MB ?? 64) * 1024 * 1024;
const CHUNK = Buffer.alloc(256 * 1024, 'x');
const REPLY = Buffer.alloc(64, 'r');

function listen(server: net.Server): Promise<number> {
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port)));
}

async function main(): Promise<void> {
  const bulk = net.createServer((sock) => {
    sock.on('error', () => {});
    let left = bulkBytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!sock.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return;
      }
      sock.end();
    };
    sock.on('drain', pump);
    pump();
  });
  const rr = net.createServer((sock) => {
    sock.on('error', () => {});
    sock.once('data', () => sock.end(REPLY));
  });
  const echo = dgram.createSocket('udp4');
  echo.on('message', (m, r) => echo.send(m, r.port, r.address));
  const udpPort = await new Promise<number>((resolve) => echo.bind(0, '127.0.0.1', () => resolve(echo.address().port)));
  const ports = { bulk: await listen(bulk), rr: await listen(rr), echo: udpPort };
  process.stdout.write(JSON.stringify(ports) + '\n');
  process.on('SIGTERM', () => process.exit(0));
}

void main();
