import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../infra/constructs/cutover-function.js';
import { readConfig } from '../../infra/cutover-app.js';
import { CONFIGS } from './support.js';

// Inside the repository (cdk.out/ is ignored) so that the bundle's external @aws-sdk/* resolve from node_modules.
const outRoot = join(REPO_ROOT, 'cdk.out', `test-${process.pid}`);
afterAll(() => rmSync(outRoot, { recursive: true, force: true }));

/** The real CLI, offline: no credentials, no instance metadata; `--exclusively` picks the stacks that bundle. */
function cdkSynth(config: string, stack: string, out: string) {
  mkdirSync(out, { recursive: true });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    AWS_EC2_METADATA_DISABLED: 'true',
    CDK_DISABLE_VERSION_CHECK: 'true',
    CDK_DISABLE_CLI_TELEMETRY: 'true',
  };
  for (const k of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_PROFILE'])
    delete env[k];
  return spawnSync(
    'npx',
    ['cdk', 'synth', '-c', `config=${config}`, '--exclusively', stack, '-o', out, '--quiet', '--no-notices'],
    { cwd: REPO_ROOT, env, encoding: 'utf8', timeout: 150_000 },
  );
}

const templatesIn = (dir: string) => readdirSync(dir).filter((f) => f.endsWith('.template.json'));

describe('npx cdk synth (offline)', () => {
  it('example config: all 12 stacks, cdk-nag passes, and the prober bundles with esbuild into ESM that loads', () => {
    const out = join(outRoot, 'example');
    const r = cdkSynth(CONFIGS.example, 'cutover-orders-watcher-eu-west-1', out);
    expect(r.status, r.stderr).toBe(0);
    expect(templatesIn(out)).toHaveLength(12);

    const assets = JSON.parse(
      readFileSync(join(out, 'cutover-orders-watcher-eu-west-1.assets.json'), 'utf8'),
    ) as {
      files: Record<string, { source: { path: string } }>;
    };
    const bundle = Object.values(assets.files)
      .map((f) => join(out, f.source.path, 'index.mjs'))
      .find((p) => existsSync(p));
    expect(bundle, 'the prober asset has an index.mjs').toBeDefined();

    // Load the bundle as Lambda would (ESM, Node 24) with the environment the stack gives it.
    const load = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(bundle)}); console.log(typeof m.handler);`,
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_REGION: 'eu-west-1',
          VOTES_TABLE: 'cutover-orders-votes',
          CUTOVER_CONFIG: JSON.stringify(readConfig(CONFIGS.example)),
        },
      },
    );
    expect(load.stderr).toBe('');
    expect(load.stdout.trim()).toBe('function');
  });

  it.each([
    ['witness', CONFIGS.witness, 'cutover-inventory-votes-table'],
    ['arbiter', CONFIGS.arbiter, 'cutover-payments-votes-table'],
  ])('%s config synthesizes every stack', (name, config, stack) => {
    const out = join(outRoot, name);
    const r = cdkSynth(config, stack, out);
    expect(r.status, r.stderr).toBe(0);
    expect(templatesIn(out)).toHaveLength(12);
  });

  it('traffic.holderCheck function: the holder-check stacks synthesize with cdk-nag, and the handler bundles into ESM that answers', () => {
    const out = join(outRoot, 'holder-function');
    mkdirSync(out, { recursive: true });
    const raw = JSON.parse(readFileSync(CONFIGS.example, 'utf8'));
    raw.traffic.holderCheck = 'function';
    const file = join(out, 'config.json');
    writeFileSync(file, JSON.stringify(raw));
    const r = cdkSynth(file, 'cutover-orders-holder-check-us-east-1', out);
    expect(r.status, r.stderr).toBe(0);
    // 12 + one holder-check stack per lease-authority region (3, MRSC).
    expect(templatesIn(out)).toHaveLength(15);
    const assets = JSON.parse(
      readFileSync(join(out, 'cutover-orders-holder-check-us-east-1.assets.json'), 'utf8'),
    ) as { files: Record<string, { source: { path: string } }> };
    const bundle = Object.values(assets.files)
      .map((f) => join(out, f.source.path, 'index.mjs'))
      .find((p) => existsSync(p));
    expect(bundle, 'the holder-check asset has an index.mjs').toBeDefined();
    // Loaded as Lambda would, then asked a bad question: it answers 400 without touching DynamoDB.
    const load = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `const m = await import(${JSON.stringify(bundle)}); const r = await m.handler({ rawQueryString: 'region=mars-1', requestContext: { http: { method: 'GET' } } }, {}); console.log(r.statusCode, JSON.parse(r.body).field);`,
      ],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_REGION: 'us-east-1',
          CONTROL_TABLE: 'cutover-orders-control',
          CUTOVER_CONFIG: JSON.stringify(readConfig(file)),
        },
      },
    );
    expect(load.stderr).toBe('');
    expect(load.stdout.trim()).toBe('400 region');
  });
});
