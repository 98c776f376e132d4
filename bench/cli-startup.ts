/**
 * Start-up of the operator commands, as a person typing them waits for it: the whole process, from spawn to exit,
 * through the prebuilt bundle (dist/, `npm run build:cli`) and through tsx (CUTOVER_NO_BUNDLE=1), median of
 * RUNS runs after one warm-up. Wall time on a shared machine is noisy: compare the two columns, not the figures
 * of two different days. `npm run bench:cli` (RUNS=9 by default).
 *
 * The control-table commands talk to a port where nothing listens, with one attempt (AWS_MAX_ATTEMPTS=1), so that
 * the figure is the start-up and one refused connection, not the SDK's retry back-off.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const RUNS = Number(process.env.RUNS ?? 9);
const CONFIG = 'examples/cutover.example.json';
const NOWHERE = ['--endpoint', 'http://127.0.0.1:1'];

const COMMANDS: [string, string[]][] = [
  ['--version', ['--version']],
  ['status --help', ['status', '--help']],
  ['status (refused endpoint)', ['status', '--config', CONFIG, ...NOWHERE]],
  ['audit (refused endpoint)', ['audit', 'orders:1:1', '--config', CONFIG, ...NOWHERE]],
  [
    'failover --dry-run (refused endpoint)',
    ['failover', '--config', CONFIG, '--to', 'us-west-2', '--reason', 'bench', '--dry-run', ...NOWHERE],
  ],
];

function once(args: string[], bundle: boolean): number {
  const env: NodeJS.ProcessEnv = { ...process.env, AWS_MAX_ATTEMPTS: '1' };
  if (bundle) delete env.CUTOVER_NO_BUNDLE;
  else env.CUTOVER_NO_BUNDLE = '1';
  const t0 = performance.now();
  spawnSync(process.execPath, ['bin/cutover.mjs', ...args], { env, stdio: 'ignore' });
  return performance.now() - t0;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

if (!existsSync('dist/inputs.json')) {
  process.stderr.write('no bundle: run `npm run build:cli` first (npm install runs it as `prepare`)\n');
  process.exit(2);
}
process.stdout.write(
  `CLI start-up, whole process, median of ${RUNS} runs (ms); node ${process.version}\n` +
    `${'command'.padEnd(40)} ${'bundle'.padStart(8)} ${'tsx'.padStart(8)} ${'ratio'.padStart(6)}\n`,
);
for (const [name, args] of COMMANDS) {
  const b: number[] = [];
  const t: number[] = [];
  once(args, true);
  once(args, false);
  // Interleaved, so that a drift in the machine's load touches both columns alike.
  for (let i = 0; i < RUNS; i++) {
    b.push(once(args, true));
    t.push(once(args, false));
  }
  const mb = median(b);
  const mt = median(t);
  process.stdout.write(
    `${name.padEnd(40)} ${mb.toFixed(0).padStart(8)} ${mt.toFixed(0).padStart(8)} ${(mb / mt).toFixed(2).padStart(6)}\n`,
  );
}
