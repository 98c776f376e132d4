import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const CONFIG = 'examples/cutover.example.json';

/** The README's operator walkthrough: the lines of the code block after its marker comment. */
function walkthrough(): string[] {
  const readme = readFileSync('README.md', 'utf8');
  const at = readme.indexOf('<!-- console walkthrough:');
  expect(at, 'the README has the console walkthrough').toBeGreaterThan(0);
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(at))![1]!;
  return block
    .split('\n')
    .map((l) => l.replace(/\s+#.*$/, '').trim())
    .filter(Boolean);
}

/** A line as the shell splits it, with $C and $E expanded as the README defines them. */
function argsOf(line: string, endpoint: string): string[] {
  const expanded = line.replaceAll('$C', `--config ${CONFIG}`).replaceAll('$E', `--endpoint ${endpoint}`);
  const words = [...expanded.matchAll(/"([^"]*)"|(\S+)/g)].map((m) => (m[1] ?? m[2])!);
  expect(words.slice(0, 2)).toEqual(['npx', 'cutover']);
  return words.slice(2);
}

/** What each line must do, in the README's order: exit code and what proves it worked. */
const EXPECT: [number, RegExp][] = [
  [
    0,
    /lease\s+(us-east-1 at epoch 1, valid until|SELF-FENCED: us-east-1 at epoch 1)[\s\S]*pause\s+not paused[\s\S]*open incident\s+none/,
  ],
  [0, /^paused orders by \S+ at \S+: db work\. New incidents are held/],
  [
    0,
    /pause\s+PAUSED by \S+ at \S+: db work[\s\S]*next\s+automatic failover is paused[\s\S]*type\s+cutover resume --config examples\/cutover\.example\.json --endpoint http/,
  ],
  [0, /^resumed orders: cleared the pause by \S+ at \S+: db work\.\n$/],
  [0, /^dry run \(MANUAL_FAILOVER\): /],
  [
    1,
    /^REFUSED dry run: us-east-1 holds the lease at epoch 1[\s\S]*from: must be the region that holds the lease; us-east-1 holds it at epoch 1/,
  ],
  [0, /^\{"application":"orders".*"next":\{"code":"[A-Z_]+"/],
];

describe('README: the operator walkthrough on the local sandbox, every line run as written', () => {
  it('status, pause, status, resume, failover --dry-run, failback --dry-run, status --json', {
    timeout: 180_000,
  }, async () => {
    const lines = walkthrough();
    expect(lines).toHaveLength(EXPECT.length);
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
      for (const [i, line] of lines.entries()) {
        const r = spawnSync(process.execPath, ['bin/cutover.mjs', ...argsOf(line, endpoint)], {
          encoding: 'utf8',
        });
        const [code, proof] = EXPECT[i]!;
        expect(r.status, `${line}\n${r.stdout}${r.stderr}`).toBe(code);
        expect(code === 0 ? r.stdout : r.stderr, line).toMatch(proof);
      }
    } finally {
      up.kill('SIGINT');
    }
    expect(await exited).toBe(0);
  });
});
