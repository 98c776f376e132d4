/** List prices the cost model reads (functions/core/cost.ts); each line cites its page. */

export const DAYS_PER_MONTH = 30;
export const MINUTES_PER_MONTH = DAYS_PER_MONTH * 24 * 60;
export const SECONDS_PER_MONTH = MINUTES_PER_MONTH * 60;

/** A list price: `usd` for every `per` units of `unit`. */
export interface UnitPrice {
  usd: number;
  per: number;
  unit: string;
  /** The unit's short name, one and many, for lines such as "4 secrets × $0.40". */
  name: readonly [string, string];
  source: string;
}

export interface PriceTable {
  region: string;
  checkedOn: string;
  note: string;
  lambdaRequest: UnitPrice;
  lambdaArmGbSecond: UnitPrice;
  dynamoWriteRequestUnit: UnitPrice;
  dynamoReplicatedWriteRequestUnit: UnitPrice;
  dynamoReadRequestUnit: UnitPrice;
  dynamoStreamReadByLambda: UnitPrice;
  interRegionTransferGb: UnitPrice;
  schedulerInvocation: UnitPrice;
  eventBridgeCustomEvent: UnitPrice;
  stepFunctionsTransition: UnitPrice;
  alarmMetricMonth: UnitPrice;
  dashboardMonth: UnitPrice;
  secretMonth: UnitPrice;
  xrayTraceRecorded: UnitPrice;
  logsIngestedGb: UnitPrice;
  /** Traffic layers other than Route 53 health checks (traffic.mode arc or accelerator). */
  arcClusterHour: UnitPrice;
  acceleratorHour: UnitPrice;
  acceleratorPremiumGb: UnitPrice;
}

/**
 * Lambda's Arm duration price where it differs from us-east-1's, USD per GB-second. AWS's page renders its regional
 * table client-side, so these are as transcribed from https://aws.amazon.com/lambda/pricing/ by Artillery
 * (artillery@2.0.28, lib/platform/aws-lambda/prices.js: every other region at the base price); verify before
 * relying on them. Only the prober, heartbeat and aggregator durations are priced per region with it.
 */
export const LAMBDA_ARM_GB_SECOND_BY_REGION: Readonly<Record<string, number>> = {
  'af-south-1': 0.00001768,
  'ap-east-1': 0.0000183,
  'eu-south-1': 0.0000156138,
  'me-south-1': 0.0000165334,
  'me-central-1': 0.0000165334,
};

/** Lambda's Arm duration price in `region`. */
export function lambdaArmGbSecondIn(region: string, base: UnitPrice): UnitPrice {
  const usd = LAMBDA_ARM_GB_SECOND_BY_REGION[region];
  return usd === undefined
    ? base
    : {
        ...base,
        usd,
        source:
          'https://aws.amazon.com/lambda/pricing/ (as transcribed by artillery@2.0.28, lib/platform/aws-lambda/prices.js)',
      };
}

/**
 * The regions this table has prices for. Cutover runs in many regions (watchers, control regions, votes replicas);
 * AWS prices most services per region, and this project has cited prices for us-east-1 only (docs/cost.md). A
 * region without a table is priced at us-east-1's rates and `cutover cost` names it, never silently.
 */
export function pricedRegions(tables: readonly PriceTable[] = [US_EAST_1_LIST_PRICES]): string[] {
  return tables.map((t) => t.region);
}

/**
 * US East (N. Virginia) on-demand list prices, without free tiers (those are per account and shared with
 * everything else in it). docs/cost.md says which page each one was read from.
 */
export const US_EAST_1_LIST_PRICES: PriceTable = {
  region: 'us-east-1',
  checkedOn: '2026-11-27',
  note: 'us-east-1 on-demand list prices; AWS changes them, other regions differ, free tiers are not subtracted',
  lambdaRequest: {
    usd: 0.2,
    per: 1_000_000,
    unit: 'requests',
    name: ['request', 'requests'],
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  lambdaArmGbSecond: {
    usd: 0.0000133334,
    per: 1,
    unit: 'GB-second (Arm, first 7.5 billion GB-s a month)',
    name: ['GB-second', 'GB-seconds'],
    source: 'https://aws.amazon.com/lambda/pricing/',
  },
  dynamoWriteRequestUnit: {
    usd: 0.625,
    per: 1_000_000,
    unit: 'write request units (on-demand)',
    name: ['write request unit', 'write request units'],
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  dynamoReplicatedWriteRequestUnit: {
    usd: 0.625,
    per: 1_000_000,
    unit: 'replicated write request units (on-demand, one per replica table per write)',
    name: ['replicated write request unit', 'replicated write request units'],
    source:
      'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/global-tables-billing.html ("priced the same as single-Region write units")',
  },
  dynamoReadRequestUnit: {
    usd: 0.125,
    per: 1_000_000,
    unit: 'read request units (on-demand; one strongly consistent read of up to 4 KB)',
    name: ['read request unit', 'read request units'],
    source: 'https://aws.amazon.com/dynamodb/pricing/on-demand/',
  },
  dynamoStreamReadByLambda: {
    usd: 0,
    per: 1,
    unit: 'stream records read by a Lambda trigger',
    name: ['stream record', 'stream records'],
    source:
      'https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/CostOptimization_StreamsUsage.html (GetRecords by Lambda consumers is free)',
  },
  interRegionTransferGb: {
    usd: 0.02,
    per: 1,
    unit: 'GB transferred to another region (global table replication)',
    name: ['GB', 'GB'],
    source:
      'https://aws.amazon.com/ec2/pricing/on-demand/ (data transfer from us-east-1 to another region; global-tables-billing.html: "Cross-Region data transfer fees apply")',
  },
  schedulerInvocation: {
    usd: 1,
    per: 1_000_000,
    unit: 'EventBridge Scheduler invocations',
    name: ['invocation', 'invocations'],
    source: 'https://aws.amazon.com/eventbridge/pricing/ (Scheduler)',
  },
  eventBridgeCustomEvent: {
    usd: 1,
    per: 1_000_000,
    unit: 'custom events published',
    name: ['event', 'events'],
    source: 'https://aws.amazon.com/eventbridge/pricing/',
  },
  stepFunctionsTransition: {
    usd: 0.025,
    per: 1_000,
    unit: 'state transitions (Standard workflows)',
    name: ['state transition', 'state transitions'],
    source: 'https://aws.amazon.com/step-functions/pricing/ (US East (N. Virginia) row)',
  },
  alarmMetricMonth: {
    usd: 0.1,
    per: 1,
    unit: 'standard-resolution alarm metric per month',
    name: ['alarm metric', 'alarm metrics'],
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  dashboardMonth: {
    usd: 3,
    per: 1,
    unit: 'custom dashboard per month',
    name: ['dashboard', 'dashboards'],
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  secretMonth: {
    usd: 0.4,
    per: 1,
    unit: 'secret per month',
    name: ['secret', 'secrets'],
    source: 'https://aws.amazon.com/secrets-manager/pricing/',
  },
  xrayTraceRecorded: {
    usd: 5,
    per: 1_000_000,
    unit: 'traces recorded',
    name: ['trace', 'traces'],
    source: 'https://aws.amazon.com/xray/pricing/',
  },
  logsIngestedGb: {
    usd: 0.5,
    per: 1,
    unit: 'GB of logs ingested (Standard class)',
    name: ['GB', 'GB'],
    source: 'https://aws.amazon.com/cloudwatch/pricing/',
  },
  arcClusterHour: {
    usd: 2.5,
    per: 1,
    unit: 'ARC cluster-hours (routing control; billed whether or not it is used)',
    name: ['cluster-hour', 'cluster-hours'],
    source:
      "https://aws.amazon.com/application-recovery-controller/pricing/ ($2.50 per cluster-hour; that page is not in this project's searchable sources: the figure is as quoted by third-party summaries of it, verify before relying on it)",
  },
  acceleratorHour: {
    usd: 0.025,
    per: 1,
    unit: 'accelerator-hours (fixed fee, per full or partial hour)',
    name: ['accelerator-hour', 'accelerator-hours'],
    source: 'https://aws.amazon.com/global-accelerator/pricing/',
  },
  acceleratorPremiumGb: {
    usd: 0.015,
    per: 1,
    unit: 'GB of data transfer premium (DT-Premium), from the United States & Canada to the United States, Mexico and Canada',
    name: ['GB', 'GB'],
    source: 'https://aws.amazon.com/global-accelerator/pricing/',
  },
};
