import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateStateMachineCommand, DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';
import { describe, expect, inject, it } from 'vitest';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { parseConfigText } from '#core/config.js';
import { createTables, localClients } from '../../infra/local/tables.js';
import { motoClient } from '../support/moto-clients.js';

/**
 * The CLI derives the state machine's ARN when --state-machine-arn is not given: the name the CDK app gives it,
 * the configuration's first control region, the account from STS GetCallerIdentity. Run as a user would, with
 * AWS_ENDPOINT_URL pointing every SDK client at moto_server (which serves STS, Step Functions and DynamoDB).
 * Each case has its own application and first control region: moto wants one region per execution (see
 * sfn-task-callback.test.ts).
 */
const dir = mkdtempSync(join(tmpdir(), 'cutover-arn-'));

function configFor(application: string, controlRegion: string): string {
  const raw = JSON.parse(readFileSync('examples/cutover.example.json', 'utf8'));
  raw.application = application;
  raw.controlRegions = [controlRegion, 'eu-central-1'];
  const file = join(dir, `${application}.json`);
  writeFileSync(file, JSON.stringify(raw));
  return file;
}

const cli = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/cutover.mjs', ...args], {
    encoding: 'utf8',
    env: {
      ...process.env,
      AWS_ENDPOINT_URL: inject('motoEndpoint'),
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      AWS_PROFILE: '',
    },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

async function machine(region: string, name: string) {
  const sfn = motoClient(SFNClient, region);
  const created = await sfn.send(
    new CreateStateMachineCommand({
      name,
      definition: JSON.stringify({ StartAt: 'Done', States: { Done: { Type: 'Pass', End: true } } }),
      roleArn: 'arn:aws:iam::123456789012:role/cutover-states',
    }),
  );
  return { sfn, arn: created.stateMachineArn! };
}

describe('state machine ARNs derived from the configuration and the caller (moto: STS, Step Functions)', () => {
  it('failback without --state-machine-arn starts cutover-<application>-failback in the first control region', {
    timeout: 60_000,
  }, async () => {
    const config = configFor('ledger', 'eu-north-1');
    const { sfn, arn } = await machine('eu-north-1', 'cutover-ledger-failback');
    expect(arn).toBe('arn:aws:states:eu-north-1:123456789012:stateMachine:cutover-ledger-failback');
    const input = join(dir, 'failback.json');
    writeFileSync(
      input,
      JSON.stringify({
        ...JSON.parse(readFileSync('events/failback-input.sample.json', 'utf8')),
        application: 'ledger',
      }),
    );
    const r = cli('failback', '--config', config, '--input', input);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const executionArn = /execution (arn:\S+)/.exec(r.out)?.[1];
    expect(executionArn).toMatch(
      /^arn:aws:states:eu-north-1:123456789012:execution:cutover-ledger-failback:failback-ledger-us-east-1-\d{8}T\d{6}Z$/,
    );
    expect(r.out).toContain("(machine derived from the configuration and the caller's account)");
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
    expect(JSON.parse(execution.input!)).toMatchObject({ application: 'ledger', to: 'us-east-1' });
  });

  it('failover without --state-machine-arn starts cutover-<application>-failover there too', {
    timeout: 60_000,
  }, async () => {
    const file = configFor('billing', 'ap-south-1');
    const parsed = parseConfigText(readFileSync(file, 'utf8'));
    if (!parsed.ok) throw new Error('config must be valid');
    const { sfn } = await machine('ap-south-1', 'cutover-billing-failover');
    // The control table on moto's DynamoDB, where the CDK app puts it (the lease authority's first region).
    const endpoint = inject('motoEndpoint');
    const { raw, doc } = localClients(endpoint, 'us-east-2');
    await createTables(raw, { control: 'cutover-billing-control', votes: 'cutover-billing-votes' });
    const held = await new DynamoLeaseStore(doc, 'cutover-billing-control', parsed.config.lease, {
      now: Date.now,
    }).acquire('billing', 'us-east-1', null);
    expect(held.ok).toBe(true);

    const r = cli(
      'failover',
      '--config',
      file,
      '--endpoint',
      endpoint,
      '--to',
      'us-west-2',
      '--reason',
      'derived ARN',
      '--by',
      'oncall',
    );
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(r.out).toContain(
      'execution arn:aws:states:ap-south-1:123456789012:execution:cutover-billing-failover:manual-failover-billing-1-1',
    );
    const execution = await sfn.send(
      new DescribeExecutionCommand({
        executionArn:
          'arn:aws:states:ap-south-1:123456789012:execution:cutover-billing-failover:manual-failover-billing-1-1',
      }),
    );
    expect(JSON.parse(execution.input!)).toMatchObject({ application: 'billing', to: 'us-west-2' });
  });

  it('says which machine it could not derive, and how to name it instead, when STS is unreachable', () => {
    const config = configFor('nosts', 'eu-west-3');
    const input = join(dir, 'nosts-input.json');
    writeFileSync(
      input,
      JSON.stringify({
        ...JSON.parse(readFileSync('events/failback-input.sample.json', 'utf8')),
        application: 'nosts',
      }),
    );
    const r = spawnSync(
      process.execPath,
      ['bin/cutover.mjs', 'failback', '--config', config, '--input', input],
      {
        encoding: 'utf8',
        env: {
          ...process.env,
          AWS_ENDPOINT_URL: 'http://127.0.0.1:1',
          AWS_ACCESS_KEY_ID: 'testing',
          AWS_SECRET_ACCESS_KEY: 'testing',
          AWS_MAX_ATTEMPTS: '1',
        },
      },
    );
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(
      /^could not derive the failback state machine's ARN \(cutover-nosts-failback in eu-west-3\): STS GetCallerIdentity failed: .+; or pass --state-machine-arn; nothing was sent\n$/,
    );
  });
});
