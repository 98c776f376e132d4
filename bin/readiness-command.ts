import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { IAMClient } from '@aws-sdk/client-iam';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { RDSClient } from '@aws-sdk/client-rds';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { SFNClient } from '@aws-sdk/client-sfn';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { WebClient } from '@slack/web-api';
import { CloudWatchLagReader } from '#adapters/aws/cloudwatch-lag-reader.js';
import { RdsDatabasePromoter } from '#adapters/aws/rds-database-promoter.js';
import { IamPermissionReader, readDefinition } from '#adapters/aws/readiness-readers.js';
import { HttpHolderCheckReader } from '#adapters/http/holder-check-reader.js';
import { readSlack } from '#adapters/slack/slack-readiness.js';
import { type ReadinessDeps, takeReadings } from '#commons/readiness-readings.js';
import type { CutoverConfig } from '#core/config.js';
import { holderCheckUrlOf } from '#core/holder.js';
import { systemClock } from '#core/ports.js';
import { evaluateReadiness, type Readiness } from '#core/readiness.js';
import { expectedDefinition, resolvedPlan } from '../infra/readiness-plan.js';
import { topology } from '../infra/topology.js';
import { loadConfig } from './config-file.js';
import {
  describeAwsError,
  flags,
  type Io,
  openControlTable,
  processIo,
  required,
  tableFlags,
  UsageError,
  withUsage,
} from './options.js';
import { usageOf } from './usage.js';

const USAGE = usageOf('readiness');

export interface ReadinessCommandDeps {
  io?: Io;
  /** Where Slack's Web API is (tests point it at a stand-in); Slack's own by default. */
  slackApiUrl?: string;
  /** The Slack bot token; by default SLACK_BOT_TOKEN, else the secret the CDK app creates. */
  env?: NodeJS.ProcessEnv;
  /** IAM's client (tests: IAM's policy simulator is served by nothing local). */
  iam?: IAMClient;
}

/**
 * `cutover readiness`: would a failover work now? Reads only (IAM's policy simulator, RDS and CloudWatch
 * describes, the lease, the holder checks over HTTP, Slack's auth.test and conversations.info, the deployed
 * machines); prints one line per check. Exit 0 when every check passes, 1 when one fails or the configuration
 * is refused, 2 for a usage problem or no AWS account to check.
 */
export async function readinessCommand(argv: string[], deps: ReadinessCommandDeps = {}): Promise<number> {
  const io = deps.io ?? processIo;
  const env = deps.env ?? process.env;
  return withUsage(io, USAGE, async () => {
    const v = flags(argv, {
      config: { type: 'string' },
      json: { type: 'boolean', default: false },
      'machine-region': { type: 'string' },
      'lease-wait-ms': { type: 'string' },
      ...tableFlags,
    });
    const config = loadConfig(required(v.config, '--config'), io);
    if (!config) return 1;
    const machineRegion = v['machine-region'] ?? config.controlRegions[0]!;
    if (!config.controlRegions.includes(machineRegion)) {
      throw new UsageError(
        `--machine-region must be a control region (${config.controlRegions.join(', ')}), got ${JSON.stringify(machineRegion)}`,
      );
    }
    const leaseWaitMs =
      v['lease-wait-ms'] === undefined ? config.lease.renewIntervalMs : Number(v['lease-wait-ms']);
    if (!Number.isInteger(leaseWaitMs) || leaseWaitMs < 0 || leaseWaitMs > 60_000) {
      throw new UsageError(
        `--lease-wait-ms must be a whole number of milliseconds from 0 to 60000, got ${JSON.stringify(v['lease-wait-ms'])}`,
      );
    }
    const { table, leases } = openControlTable(config, v, systemClock);

    let account: string;
    let partition: string;
    try {
      const who = await new STSClient({ region: machineRegion }).send(new GetCallerIdentityCommand({}));
      account = who.Account!;
      partition = who.Arn?.split(':')[1] ?? 'aws';
    } catch (err) {
      io.err(`cannot tell which AWS account to check: ${describeAwsError(err)}\n`);
      return 2;
    }
    const where = { account, partition, region: machineRegion };
    const machines = (['failover', 'failback'] as const).map((kind) => ({
      kind,
      arn: `arn:${partition}:states:${machineRegion}:${account}:stateMachine:${topology(config).names.stateMachine(kind)}`,
      expected: expectedDefinition(config, kind, where),
    }));

    const readingDeps: ReadinessDeps = {
      permissions: new IamPermissionReader(
        deps.iam ?? new IAMClient({ region: machineRegion }),
        new LambdaClient({ region: machineRegion }),
      ),
      database: databaseDeps(config),
      leases: { read: (app) => leases.read(app) },
      holders: new HttpHolderCheckReader(
        Object.fromEntries([config.primary, config.standby].map((r) => [r.region, holderCheckUrlOf(r)])),
        config.probe.responseTimeoutMs,
      ),
      slack: config.approval.slack ? slackReader(config, env, machineRegion, deps.slackApiUrl) : null,
      definition: (arn) => readDefinition(new SFNClient({ region: machineRegion }), arn),
      clock: systemClock,
      sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    };
    const readings = await takeReadings(readingDeps, config, {
      plan: resolvedPlan(config, where),
      machines,
      leaseWaitMs,
    });
    const result = evaluateReadiness(readings, config, systemClock.now());
    io.out(v.json ? `${JSON.stringify(result)}\n` : formatReadiness(result, config, account, table.name));
    return result.pass ? 0 : 1;
  });
}

function databaseDeps(config: CutoverConfig): ReadinessDeps['database'] {
  if (!config.database || config.database.engine === 'dynamodb') return null;
  const promoter = new RdsDatabasePromoter((region) => new RDSClient({ region }), config);
  return {
    standing: (region) => promoter.standing(region),
    lag: new CloudWatchLagReader((region) => new CloudWatchClient({ region }), config, systemClock),
  };
}

/** The bot token from SLACK_BOT_TOKEN, or from the secret the control stack creates (cutover/<app>/slack-bot-token). */
function slackReader(
  config: CutoverConfig,
  env: NodeJS.ProcessEnv,
  region: string,
  slackApiUrl: string | undefined,
): ReadinessDeps['slack'] {
  const channel = config.approval.slack!.channel;
  return async () => {
    let token = env.SLACK_BOT_TOKEN;
    if (!token) {
      const secretId = topology(config).names.secret('slack-bot-token');
      try {
        const res = await new SecretsManagerClient({ region }).send(
          new GetSecretValueCommand({ SecretId: secretId }),
        );
        token = res.SecretString;
      } catch (err) {
        return {
          channel,
          auth: {
            error: `no SLACK_BOT_TOKEN and the secret ${secretId} in ${region} is unreadable: ${describeAwsError(err)}`,
          },
          info: { error: 'not tried: no token' },
        };
      }
    }
    const client = new WebClient(token, {
      retryConfig: { retries: 0 },
      timeout: 5000,
      ...(slackApiUrl ? { slackApiUrl } : {}),
    });
    return readSlack(client, channel);
  };
}

export function formatReadiness(r: Readiness, config: CutoverConfig, account: string, table: string): string {
  const width = Math.max(...r.results.map((x) => x.check.length));
  const lines = r.results.map(
    (x) => `${x.pass ? 'PASS' : 'FAIL'}  ${x.check.padEnd(width)}  ${x.code}: ${x.reason}`,
  );
  const verdict = r.pass
    ? `READY: all ${r.results.length} checks pass`
    : `NOT READY: ${r.failed} of ${r.results.length} checks fail`;
  return `Cutover ${config.application} readiness in account ${account} (control table ${table}); nothing was changed\n${lines.join('\n')}\n${verdict}\n`;
}
