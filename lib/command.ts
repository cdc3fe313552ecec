import { execFile } from 'node:child_process';

/** Runs a command (stdin from `input`); resolves its stdout, rejects naming the command and its stderr. */
export type CommandRunner = (cmd: string, args: string[], input?: string) => Promise<string>;

/** The real runner (30 s timeout), used by the kubelet's pod network and routes and the proxy's iptables rules. */
export const runCommand: CommandRunner = (cmd, args, input) =>
  new Promise((resolve, reject) => {
    const child = execFile(cmd, args, { timeout: 30_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(' ')}: ${String(stderr).trim() || err.message}`));
      else resolve(String(stdout));
    });
    // A command that exits without reading its stdin must not surface as an EPIPE error event.
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(input ?? '');
  });
