import { spawn, spawnSync } from 'node:child_process';
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';

const CONFIG = 'examples/cutover.example.json';

/** Whether anything still listens on the port. */
const listening = (port: number) =>
  new Promise<boolean>((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/cutover.mjs', ...args], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

describe('cutover local up: the operator sandbox', () => {
  it('serves the real tables until Ctrl-C; status, pause and a dry-run failover work against it', {
    timeout: 120_000,
  }, async () => {
    const up = spawn(
      process.execPath,
      ['bin/cutover.mjs', 'local', 'up', '--config', CONFIG, '--bootstrap'],
      {
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let out = '';
    up.stdout.on('data', (d) => {
      out += d;
    });
    const exited = new Promise<number | null>((r) => up.on('exit', (code) => r(code)));
    try {
      const endpoint = await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`no endpoint after 60 s:\n${out}`)), 60_000);
        up.stdout.on('data', () => {
          const m = /is up at (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
          if (m && out.includes('Ctrl-C')) {
            clearTimeout(t);
            resolve(m[1]!);
          }
        });
      });
      expect(out).toContain('us-east-1 took the lease at epoch 1');
      expect(out).toContain(`cutover status --config ${CONFIG} --endpoint ${endpoint}`);

      const status = cli('status', '--config', CONFIG, '--endpoint', endpoint);
      expect(status.code, status.err).toBe(0);
      expect(status.out).toMatch(/lease\s+us-east-1 at epoch 1/);
      const pause = cli(
        'pause',
        '--config',
        CONFIG,
        '--endpoint',
        endpoint,
        '--reason',
        'sandbox',
        '--by',
        'alice',
      );
      expect(pause.code, pause.err).toBe(0);
      expect(cli('status', '--config', CONFIG, '--endpoint', endpoint).out).toMatch(
        /pause\s+PAUSED by alice/,
      );
      const dry = cli(
        'failover',
        '--config',
        CONFIG,
        '--endpoint',
        endpoint,
        '--to',
        'us-west-2',
        '--reason',
        'x',
        '--dry-run',
      );
      expect(dry.code, dry.err).toBe(0);
      expect(dry.out).toContain('dry run (MANUAL_FAILOVER)');

      up.kill('SIGINT');
      expect(await exited).toBe(0);
      const port = Number(new URL(endpoint).port);
      expect(await listening(port)).toBe(false);
    } finally {
      up.kill('SIGKILL');
    }
  });

  it('refuses a missing --config or a bad port before starting anything (exit 2)', {
    timeout: 30_000,
  }, () => {
    const none = cli('local', 'up');
    expect(none.code).toBe(2);
    expect(none.err).toMatch(/^--config is required\nusage: cutover local up/);
    const port = cli('local', 'up', '--config', CONFIG, '--port', '70000');
    expect(port.code).toBe(2);
    expect(port.err).toContain('--port must be a port number from 1 to 65535, got "70000"');
    const sub = cli('local', 'down');
    expect(sub.code).toBe(2);
    expect(sub.err).toContain('unknown subcommand local down');
  });
});
