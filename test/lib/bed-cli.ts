/**
 * The multi-host test bed for developers (`npm run bed -- <command>`):
 *   up --prefix cxbed --hosts 4   create a bed and leave it running; print its hosts
 *   show --prefix cxbed           print them again
 *   cut h2 / restore h2           cut a host's link / bring it back
 *   down --prefix cxbed           remove the bed and everything in it
 */
import { Command, InvalidArgumentError } from 'commander';
import { createBed, destroyStaleBed, readBedRecord, type BedRecord } from './bed';
import { checkPrefix, cutHost, restoreHost } from './bed-net';

function prefixOption(v: string): string {
  try {
    checkPrefix(v);
  } catch (err) {
    throw new InvalidArgumentError((err as Error).message);
  }
  return v;
}

function describe(r: BedRecord): string {
  const lines = [`bed ${r.prefix}: bridge ${r.bridge}, subnet ${r.subnet}, gateway ${r.gateway}, folder ${r.dir}`];
  for (const h of r.hosts) {
    lines.push(`  ${h.name}  ${h.ip}  netns ${h.netns}  DOCKER_HOST=${h.dockerHost}`);
  }
  const h1 = r.hosts[0];
  if (h1) {
    lines.push('enter a host (a shell in its network namespace, talking to its dockerd):');
    lines.push(`  nsenter --net=/run/netns/${h1.netns} env DOCKER_HOST=${h1.dockerHost} COXSWAIN_HOME=${h1.dir}/home bash`);
  }
  return lines.join('\n');
}

function recordOf(prefix: string): BedRecord {
  const r = readBedRecord(prefix);
  if (!r) throw new Error(`no bed ${prefix} is up (start one with: up --prefix ${prefix})`);
  return r;
}

function hostIndex(r: BedRecord, name: string): number {
  const h = r.hosts.find((x) => x.name === name);
  if (!h) throw new Error(`bed ${r.prefix} has no host ${JSON.stringify(name)} (hosts: ${r.hosts.map((x) => x.name).join(', ')})`);
  return Number(h.name.slice(1));
}

const program = new Command('bed').description('the multi-host test bed: hosts as network namespaces with their own dockerd').showHelpAfterError();
const prefix = (c: Command) => c.requiredOption('--prefix <prefix>', 'names of the bed\'s namespaces, links and folder', prefixOption, 'cxbed');

prefix(program.command('up').description('create a bed (removing an older one of the same prefix) and leave it running'))
  .option('--hosts <n>', 'number of hosts', (v) => Number(v), 3)
  .option('--subnet <cidr>', 'the bridge\'s /24 (default: first free 10.99.x.0/24)')
  .option('--dir <dir>', 'the bed\'s folder (default /tmp/<prefix>-bed)')
  .option('--images <list>', 'comma-separated images to load into every host', (v) => v.split(',').filter(Boolean))
  .action(async (o: { prefix: string; hosts: number; subnet?: string; dir?: string; images?: string[] }) => {
    const started = Date.now();
    const bed = await createBed({ prefix: o.prefix, hosts: o.hosts, subnet: o.subnet, dir: o.dir, images: o.images });
    console.log(describe(recordOf(bed.prefix)));
    console.log(`created in ${((Date.now() - started) / 1000).toFixed(1)} s; remove it with: down --prefix ${bed.prefix}`);
  });

prefix(program.command('show').description('print the hosts of a running bed'))
  .action((o: { prefix: string }) => console.log(describe(recordOf(o.prefix))));

prefix(program.command('down').description('remove a bed: containers, dockerds, processes in its hosts, namespaces, links, folder'))
  .action(async (o: { prefix: string }) => {
    await destroyStaleBed(o.prefix);
    console.log(`bed ${o.prefix} removed`);
  });

prefix(program.command('cut').argument('<host>', 'h1, h2, ...').description('cut a host\'s link: it reaches nothing and nothing reaches it'))
  .action(async (host: string, o: { prefix: string }) => {
    await cutHost(o.prefix, hostIndex(recordOf(o.prefix), host));
    console.log(`${host} cut`);
  });

prefix(program.command('restore').argument('<host>', 'h1, h2, ...').description('bring a cut host\'s link back'))
  .action(async (host: string, o: { prefix: string }) => {
    await restoreHost(o.prefix, hostIndex(recordOf(o.prefix), host));
    console.log(`${host} restored`);
  });

program.parseAsync(process.argv).catch((err: Error) => {
  console.error(`bed: ${err.message}`);
  process.exit(1);
});
