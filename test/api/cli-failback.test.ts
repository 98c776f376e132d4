import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ExecutionAlreadyExists, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { executionName, failbackCommand } from '../../bin/failback-command.js';
import { captureIo as capture } from '../support/capture-io.js';
import { FakeClock } from '../support/fake-clock.js';

const CONFIG = 'examples/cutover.example.json';
const SAMPLE = 'events/failback-input.sample.json';
const ARN = 'arn:aws:states:us-east-2:123456789012:stateMachine:cutover-orders-failback';
const T0 = Date.parse('2026-03-01T12:00:00.000Z');
const EXECUTION = 'arn:aws:states:us-east-2:123456789012:execution:cutover-orders-failback:x';

const sfn = mockClient(SFNClient);
beforeEach(() => {
  sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date(T0 + 120) });
});
afterEach(() => sfn.reset());
afterAll(() => sfn.restore());

function inputFile(content: unknown): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cutover-failback-')), 'input.json');
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

const sample = () => JSON.parse(readFileSync(SAMPLE, 'utf8')) as Record<string, unknown>;
const run = (args: string[], io = capture()) =>
  failbackCommand(args, { io, clock: new FakeClock(T0) }).then((code) => ({ code, io }));

describe('cutover failback', () => {
  it('starts the failback machine with the validated input under a deterministic name', async () => {
    const { code, io } = await run(['--config', CONFIG, '--input', SAMPLE, '--state-machine-arn', ARN]);
    expect(io.stderr()).toBe('');
    expect(code).toBe(0);
    const calls = sfn.commandCalls(StartExecutionCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      stateMachineArn: ARN,
      name: 'failback-orders-us-east-1-20260301T120000Z',
      input: JSON.stringify({
        application: 'orders',
        from: 'us-west-2',
        to: 'us-east-1',
        requestedBy: 'alice@example.com',
        reason: 'us-east-1 recovered; planned failback after incident orders:1:1',
        minHealthyMinutes: 10,
        maxLagMs: 1000,
        trafficSteps: [10, 50, 100],
      }),
    });
    // The client is built for the machine's region, taken from its ARN.
    expect(await (calls[0]!.thisValue as SFNClient).config.region()).toBe('us-east-2');
    expect(io.stdout()).toContain('started the failback of orders from us-west-2 to us-east-1');
    expect(io.stdout()).toContain(`execution ${EXECUTION}`);
    expect(io.stdout()).toContain('started   2026-03-01T12:00:00.120Z');
  });

  it('fills in the schema defaults before sending; the client is in the ARN region', async () => {
    const { minHealthyMinutes: _m, maxLagMs: _l, trafficSteps: _t, ...minimal } = sample();
    const file = inputFile(minimal);
    const { code } = await run(['--config', CONFIG, '--input', file, '--state-machine-arn', ARN]);
    expect(code).toBe(0);
    const call = sfn.commandCalls(StartExecutionCommand)[0]!;
    expect(JSON.parse(call.args[0].input.input ?? '')).toEqual({
      ...minimal,
      minHealthyMinutes: 10,
      maxLagMs: 1000,
    });
    expect(await (call.thisValue as SFNClient).config.region()).toBe('us-east-2');
  });

  it('refuses a bad input file with every error and its field, exit 1, nothing sent', async () => {
    const file = inputFile({
      ...sample(),
      from: 'west',
      requestedBy: '',
      trafficSteps: [10, 50],
      minHealthyMinute: 5,
    });
    const { code, io } = await run(['--config', CONFIG, '--input', file, '--state-machine-arn', ARN]);
    expect(code).toBe(1);
    const err = io.stderr();
    expect(err).toContain(`INVALID ${file}:`);
    expect(err).toContain('nothing was sent');
    expect(err).toContain('  from: must be an AWS region name');
    expect(err).toContain('  requestedBy: must name the operator');
    expect(err).toContain('  minHealthyMinute: is not a known field');
    expect(io.stdout()).toBe('');
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('refuses an input that disagrees with the configuration, or the wrong machine, exit 1, nothing sent', async () => {
    const file = inputFile({ ...sample(), application: 'billing', to: 'eu-west-1' });
    const wrongMachine = 'arn:aws:states:eu-west-1:123456789012:stateMachine:cutover-orders-failover';
    const { code, io } = await run([
      '--config',
      CONFIG,
      '--input',
      file,
      '--state-machine-arn',
      wrongMachine,
    ]);
    expect(code).toBe(1);
    expect(io.stderr()).toContain('INVALID');
    expect(io.stderr()).toContain('  application: must be orders, the configured application');
    expect(io.stderr()).toContain('  to: must be one of us-east-1, us-west-2');
    expect(io.stderr()).toContain(
      '  --state-machine-arn: must name cutover-orders-failback, the failback state machine of orders; got cutover-orders-failover',
    );
    expect(io.stderr()).toContain(
      '  --state-machine-arn: must be in a control region (us-east-2, eu-central-1); got eu-west-1',
    );
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('refuses an unreadable or non-JSON input file (1) and usage problems (2), nothing sent', async () => {
    const notJson = inputFile('{ "application": ');
    expect((await run(['--config', CONFIG, '--input', notJson, '--state-machine-arn', ARN])).code).toBe(1);
    expect(
      (await run(['--config', CONFIG, '--input', '/no/such.json', '--state-machine-arn', ARN])).code,
    ).toBe(1);
    // Without --state-machine-arn the ARN is derived from the caller's account: no credentials, one sentence.
    const noCredentials = capture();
    const missingArn = await failbackCommand(['--config', CONFIG, '--input', SAMPLE], {
      io: noCredentials,
      clock: new FakeClock(T0),
      identity: async () => {
        throw Object.assign(new Error('Could not load credentials from any providers'), {
          name: 'CredentialsProviderError',
        });
      },
    });
    expect(missingArn).toBe(1);
    expect(noCredentials.stderr()).toMatch(
      /^could not derive the failback state machine's ARN \(cutover-orders-failback in us-east-2\): STS GetCallerIdentity failed: no AWS credentials were found: set AWS_PROFILE .*; or pass --state-machine-arn; nothing was sent\n$/,
    );
    const badArn = await run([
      '--config',
      CONFIG,
      '--input',
      SAMPLE,
      '--state-machine-arn',
      'cutover-orders',
    ]);
    expect(badArn.code).toBe(2);
    expect(badArn.io.stderr()).toContain('--state-machine-arn must be a state machine ARN');
    expect((await run(['--config', CONFIG, '--input', SAMPLE, '--dry-run', '--yes'])).code).toBe(2);
    expect((await run(['--input', SAMPLE, '--dry-run'])).code).toBe(2);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
  });

  it('reports a refused StartExecution with its error name, exit 1', async () => {
    sfn
      .on(StartExecutionCommand)
      .rejects(new ExecutionAlreadyExists({ message: 'Execution Already Exists', $metadata: {} }));
    const { code, io } = await run(['--config', CONFIG, '--input', SAMPLE, '--state-machine-arn', ARN]);
    expect(code).toBe(1);
    expect(io.stderr()).toContain(
      `StartExecution of ${ARN} failed, nothing started: ExecutionAlreadyExists: Execution Already Exists`,
    );
  });

  it('keeps execution names within 80 characters, shortening the application part', () => {
    const name = executionName({ application: 'a'.repeat(41), to: 'us-gov-west-1' }, T0);
    expect(name).toHaveLength(80);
    expect(name).toMatch(/^failback-a+-us-gov-west-1-20260301T120000Z$/);
  });
});
