/**
 * The smallest TCP relay Node can be, as a process of its own, for bench:proxy's
 * analysis: `net.createServer` + `pipe()` both ways to one backend, no balancing,
 * no metrics, no retries. If Coxswain's proxy runs at this relay's speed, what
 * limits it is Node's and the kernel's data path, not the proxy's own logic.
 * Usage: node proxy-relay.js <backendPort>...; prints {"<backendPort>": <relayPort>, ...} once listening.
 */
import net from 'node:net';

async function main(): Promise<void> {
  const out: Record<string, number> = {};
  for (const arg of process.argv.slice(2)) {
    const backend = Number(arg);
    const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
      const up = net.connect({ host: '127.0.0.1', port: backend, allowHalfOpen: true, noDelay: true });
      const kill = () => {
        client.destroy();
        up.destroy();
      };
      client.on('error', kill);
      up.on('error', kill);
      client.pipe(up);
      up.pipe(client);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    out[arg] = (server.address() as net.AddressInfo).port;
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.on('SIGTERM', () => process.exit(0));
}

void main();
