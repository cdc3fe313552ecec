import { main } from './main';

// Stand-alone entry for tests and manual runs: node dist/store/main-entry.js --name s1 ...
main(process.argv.slice(2)).catch((e: Error) => {
  process.stderr.write(`${e.message}\n`);
  process.exit(1);
});
