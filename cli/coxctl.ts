/**
 * `coxctl`: the kubectl-like CLI (bin/coxctl.js loads this file). Loading it
 * runs `main(process.argv)`; the commands themselves live in ./coxctl/ and are
 * what tests and other code import.
 */
import { main } from './coxctl/main';

export { main };

void main(process.argv).catch((err: unknown) => {
  process.stderr.write(`error: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exitCode = 1;
});
