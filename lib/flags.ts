import { CommanderError, type Command } from 'commander';

export function parsePort(s: string): number {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error(`invalid port ${JSON.stringify(s)}`);
  return n;
}

/**
 * Parses `argv` with a commander program set up with `exitOverride()`: true when parsed; false
 * when commander printed help (exit code untouched) or an error (process.exitCode = its code, or 2).
 */
export function parseCommand(program: Command, argv: string[]): boolean {
  try {
    program.parse(argv, { from: 'user' });
    return true;
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code !== 'commander.helpDisplayed' && err.code !== 'commander.help') process.exitCode = err.exitCode || 2;
      return false;
    }
    throw err;
  }
}
