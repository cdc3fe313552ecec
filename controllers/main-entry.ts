import { main } from './main';

main(process.argv.slice(2)).then(
  () => process.exit(0),
  (err) => {
    process.stderr.write(`controllers: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
