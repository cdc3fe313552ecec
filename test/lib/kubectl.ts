/**
 * The real kubectl for e2e tests: `k` runs it and gives the exit code and the
 * output, `kok` also asserts it succeeded, `jp` reads a jsonpath. The target is
 * asked for at each call, since a test's cluster starts in its `before` hook.
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

export interface KubectlResult { code: number; stdout: string; stderr: string }
export interface KubectlOptions { input?: string; timeoutMs?: number }

export function kubectlFor(target: () => { kubeconfig: string; cacheDir: string; namespace?: string }) {
  function k(args: string[], opts: KubectlOptions = {}): Promise<KubectlResult> {
    const t = target();
    const base = ['--kubeconfig', t.kubeconfig, '--cache-dir', t.cacheDir, ...(t.namespace ? ['-n', t.namespace] : [])];
    return new Promise((resolve) => {
      const p = execFile('kubectl', [...base, ...args], { timeout: opts.timeoutMs ?? 60_000 }, (err, stdout, stderr) => {
        const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
        resolve({ code, stdout, stderr });
      });
      p.stdin!.end(opts.input ?? '');
    });
  }
  async function kok(args: string[], opts?: KubectlOptions): Promise<string> {
    const r = await k(args, opts);
    assert.equal(r.code, 0, `kubectl ${args.join(' ')} exited ${r.code}: ${r.stderr}${r.stdout}`);
    return r.stdout;
  }
  const jp = async (args: string[], path: string): Promise<string> => (await kok([...args, '-o', `jsonpath=${path}`])).trim();
  return { k, kok, jp };
}
