// Runs a real seen server for the integration tests: the binary is built once from ../cmd/seen,
// then started as `seen serve --addr 127.0.0.1:PORT --data DIR --password-cost 4` and waited for
// on /healthz. It can be stopped and started again on the same port and data (restart tests).
import { ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = fileURLToPath(new URL('../../..', import.meta.url));

/** buildServer builds the seen binary; it returns its path, or why it could not be built. */
export function buildServer(): Promise<{ bin?: string; why?: string }> {
  if (process.env.SEEN_SKIP_INTEGRATION) return Promise.resolve({ why: 'SEEN_SKIP_INTEGRATION is set' });
  const dir = mkdtempSync(path.join(tmpdir(), 'seen-bin-'));
  const bin = path.join(dir, 'seen');
  return new Promise((resolve) => {
    execFile('go', ['build', '-o', bin, './cmd/seen'], { cwd: repo, timeout: 300000 }, (err, _out, stderr) => {
      if (err) resolve({ why: `cannot build ./cmd/seen: ${(stderr || String(err)).trim().split('\n').slice(0, 5).join(' | ')}` });
      else resolve({ bin });
    });
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** SeenServer is one seen process. */
export class SeenServer {
  proc?: ChildProcess;
  log = '';
  private constructor(
    readonly bin: string,
    readonly port: number,
    readonly dataDir: string,
  ) {}

  static async start(bin: string): Promise<SeenServer> {
    const s = new SeenServer(bin, await freePort(), mkdtempSync(path.join(tmpdir(), 'seen-data-')));
    await s.run();
    return s;
  }

  /** The http base, which the SDK also accepts as `url`. */
  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async run(): Promise<void> {
    const proc = spawn(this.bin, ['serve', '--addr', `127.0.0.1:${this.port}`, '--data', this.dataDir, '--password-cost', '4'], { stdio: ['ignore', 'pipe', 'pipe'] });
    this.proc = proc;
    proc.stdout!.on('data', (b) => (this.log += b));
    proc.stderr!.on('data', (b) => (this.log += b));
    const deadline = Date.now() + 30000;
    while (Date.now() < deadline) {
      if (proc.exitCode !== null) throw new Error(`seen exited with ${proc.exitCode}:\n${this.log}`);
      try {
        const r = await fetch(`${this.url}/healthz`);
        if (r.ok) return;
      } catch {
        // not listening yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`seen did not become healthy:\n${this.log}`);
  }

  /** stop ends the process gracefully (SIGTERM: clients see 1001) and waits for it. */
  async stop(): Promise<void> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return;
    const exited = new Promise<void>((r) => p.once('exit', () => r()));
    p.kill('SIGTERM');
    const timer = setTimeout(() => p.kill('SIGKILL'), 10000);
    await exited;
    clearTimeout(timer);
  }

  async destroy(): Promise<void> {
    await this.stop();
    rmSync(this.dataDir, { recursive: true, force: true });
  }
}

/** waitFor polls cond until it holds or the time is up. */
export async function waitFor(cond: () => boolean, what: string, ms = 10000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
