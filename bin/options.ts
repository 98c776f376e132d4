import { userInfo } from 'node:os';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { SFNClient } from '@aws-sdk/client-sfn';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import type { CutoverConfig } from '#core/config.js';
import type { Clock } from '#core/ports.js';
import { topology } from '../infra/topology.js';
import type { Io } from './io.js';

export { type Io, processIo } from './io.js';

/** A usage problem: the command prints it with its usage and exits 2, before reading or writing anything. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** Strict flags: an unknown flag or a stray positional is a usage problem, not something to ignore. */
export function flags<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  try {
    return parseArgs({ args: argv, options, strict: true, allowPositionals: false }).values;
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
}

export function required(value: string | undefined, flag: string): string {
  if (value === undefined || value.trim() === '') throw new UsageError(`${flag} is required`);
  return value;
}

/** Runs a command's body: a UsageError is printed with the usage, and the command exits 2. */
export async function withUsage(io: Io, usage: string, body: () => Promise<number>): Promise<number> {
  try {
    return await body();
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    io.err(`${err.message}\n${usage}\n`);
    return 2;
  }
}

/** The operator, when --by is not given. */
export function whoami(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'unknown';
  }
}

export const tableFlags = {
  table: { type: 'string' },
  region: { type: 'string' },
  endpoint: { type: 'string' },
} as const;

export interface ControlTable {
  name: string;
  region: string;
  endpoint?: string;
}

/**
 * The control table that the CDK app deploys for this configuration (infra/topology.ts): named
 * `cutover-<application>-control`, in the lease authority's first region (the arbiter region, or the first MRSC
 * replica). --table and --region override both, e.g. for another MRSC replica or for DynamoDB Local.
 */
export function controlTableOf(
  config: CutoverConfig,
  values: { table?: string | undefined; region?: string | undefined; endpoint?: string | undefined },
): ControlTable {
  const t = topology(config);
  if (values.endpoint !== undefined && !URL.canParse(values.endpoint)) {
    throw new UsageError(
      `--endpoint must be a URL such as http://localhost:8000, got ${JSON.stringify(values.endpoint)}`,
    );
  }
  return {
    name: values.table ?? t.names.controlTable,
    region: values.region ?? t.control.home,
    ...(values.endpoint ? { endpoint: values.endpoint } : {}),
  };
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The stores of the control table that --table/--region/--endpoint name (a bad --endpoint is a UsageError). */
export function openControlTable(
  config: CutoverConfig,
  values: Parameters<typeof controlTableOf>[1],
  clock: Clock,
  client: (table: ControlTable) => DynamoDBDocumentClient = controlTableClient,
) {
  const table = controlTableOf(config, values);
  const doc = client(table);
  return {
    table,
    control: new DynamoControlStore(doc, table.name),
    leases: new DynamoLeaseStore(doc, table.name, config.lease, clock),
  };
}

/** A document client for the control table; created per command, since a CLI run makes one or two calls. */
export function controlTableClient(table: ControlTable): DynamoDBDocumentClient {
  // DynamoDB Local accepts any credentials but the SDK still needs some; a real endpoint uses the usual chain.
  const local = table.endpoint !== undefined && LOOPBACK.has(new URL(table.endpoint).hostname);
  const raw = new DynamoDBClient({
    region: table.region,
    ...(table.endpoint ? { endpoint: table.endpoint } : {}),
    ...(local ? { credentials: { accessKeyId: 'local', secretAccessKey: 'local' } } : {}),
  });
  return DynamoDBDocumentClient.from(raw, { marshallOptions: { removeUndefinedValues: true } });
}

/**
 * An AWS call that failed: its error name and message, which is what an operator needs to act on. Missing or
 * expired credentials get one sentence that says what to set, since the SDK's own message does not.
 */
export function describeAwsError(err: unknown): string {
  const e = err as Error & { cause?: unknown };
  const credentials = credentialsHint(e);
  if (credentials) return credentials;
  const cause = e.cause instanceof Error ? `: ${e.cause.name}: ${e.cause.message}` : '';
  return `${e.name}: ${e.message}${cause}`;
}

const CREDENTIAL_ERRORS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'InvalidClientTokenId',
]);

function credentialsHint(e: Error): string | null {
  if (!CREDENTIAL_ERRORS.has(e.name)) return null;
  const what =
    e.name === 'CredentialsProviderError'
      ? 'no AWS credentials were found'
      : `AWS refused the credentials (${e.name}: ${e.message})`;
  return `${what}: set AWS_PROFILE (after \`aws sso login\` if it is an SSO profile) or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY for the account that runs Cutover, or pass --endpoint URL to talk to a DynamoDB Local instead (\`cutover local up\` starts one with the tables)`;
}

/** A call to the control table that failed: which table, and the AWS error. */
export function tableError(table: ControlTable, err: unknown): string {
  return `control table ${table.name} (${table.region}): ${describeAwsError(err)}\n`;
}

export const iso = (ms: number) => new Date(ms).toISOString();

export type MachineKind = 'failover' | 'failback';
export interface StateMachineRef {
  arn: string;
  region: string;
  name: string;
}

export const STATE_MACHINE_ARN =
  /^arn:aws[a-z-]*:states:([a-z0-9-]+):\d{12}:stateMachine:([A-Za-z0-9_-]{1,80})$/;

/** Parses --state-machine-arn; a malformed value is a usage error that shows the expected shape. */
export function parseStateMachineArn(arn: string, kind: MachineKind): StateMachineRef {
  const m = STATE_MACHINE_ARN.exec(arn);
  if (!m) {
    throw new UsageError(
      `--state-machine-arn must be a state machine ARN such as arn:aws:states:us-east-2:123456789012:stateMachine:cutover-orders-${kind}, got ${JSON.stringify(arn)}`,
    );
  }
  return { arn, region: m[1]!, name: m[2]! };
}

/** --state-machine-arn as given: parsed when present; a dry run and a derived machine start without it. */
export function machineOption(arn: string | undefined, kind: MachineKind): StateMachineRef | null {
  return arn === undefined ? null : parseStateMachineArn(required(arn, '--state-machine-arn'), kind);
}

/** A Step Functions client, loaded only by a command that starts a machine (a dry run never does). */
export async function sfnClient(region: string): Promise<SFNClient> {
  const { SFNClient } = await import('@aws-sdk/client-sfn');
  return new SFNClient({ region });
}

/** Who the caller is, as STS GetCallerIdentity says: the account and partition a derived ARN needs. */
export interface CallerIdentity {
  account: string;
  partition: string;
}

export type IdentityReader = (region: string) => Promise<CallerIdentity>;

/**
 * The caller's account from STS GetCallerIdentity, which needs no permission (an explicit deny cannot block it:
 * https://docs.aws.amazon.com/STS/latest/APIReference/API_GetCallerIdentity.html). The client is imported only
 * here, so that a command that does not start a machine does not load it.
 */
export const callerIdentity: IdentityReader = async (region) => {
  const { STSClient, GetCallerIdentityCommand } = await import('@aws-sdk/client-sts');
  const res = await new STSClient({ region }).send(new GetCallerIdentityCommand({}));
  return { account: res.Account ?? '', partition: res.Arn?.split(':')[1] ?? 'aws' };
};

/**
 * The machine the CDK app deploys for this configuration: `cutover-<application>-<kind>` (infra/topology.ts) in
 * the first control region, in the caller's account. Every control region has one; --state-machine-arn picks
 * another.
 */
export async function derivedMachine(
  config: CutoverConfig,
  kind: MachineKind,
  identity: IdentityReader = callerIdentity,
): Promise<StateMachineRef> {
  const region = config.controlRegions[0]!;
  const name = topology(config).names.stateMachine(kind);
  let who: CallerIdentity;
  try {
    who = await identity(region);
  } catch (err) {
    throw new MachineArnError(
      `could not derive the ${kind} state machine's ARN (${name} in ${region}): STS GetCallerIdentity failed: ${describeAwsError(err)}; or pass --state-machine-arn`,
    );
  }
  if (!/^\d{12}$/.test(who.account)) {
    throw new MachineArnError(
      `could not derive the ${kind} state machine's ARN: STS GetCallerIdentity answered account ${JSON.stringify(who.account)}; pass --state-machine-arn`,
    );
  }
  return parseStateMachineArn(
    `arn:${who.partition}:states:${region}:${who.account}:stateMachine:${name}`,
    kind,
  );
}

/** The machine's ARN could not be derived: the command exits 1 with this sentence, nothing written or sent. */
export class MachineArnError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MachineArnError';
  }
}

/** What is wrong with the machine for this application: not the one the CDK app deploys, or not in a control region. */
export function stateMachineProblems(
  machine: Pick<StateMachineRef, 'region' | 'name'>,
  config: CutoverConfig,
  kind: MachineKind,
): string[] {
  const problems: string[] = [];
  const expected = topology(config).names.stateMachine(kind);
  if (machine.name !== expected) {
    problems.push(
      `must name ${expected}, the ${kind} state machine of ${config.application}; got ${machine.name}`,
    );
  }
  if (!config.controlRegions.includes(machine.region)) {
    problems.push(`must be in a control region (${config.controlRegions.join(', ')}); got ${machine.region}`);
  }
  return problems;
}
