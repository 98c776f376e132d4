import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import * as lambda from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import { CutoverFunction, traceEveryFunction } from '../constructs/cutover-function.js';
import { HOLDER_CHECK_ENTRY, HOLDER_CHECK_ROLE } from '../constructs/holder-check.js';
import { acknowledgeTracing, ControlPlaneAlarms, ONE_MINUTE } from '../constructs/operations.js';
import { holderCheckReadStatements } from '../iam.js';
import { controlTableFor, type RegionStackProps } from './shared.js';

/**
 * Caps the function's concurrency, so a flood of requests on its public URL cannot take the region's Lambda
 * concurrency from Cutover's other functions. Route 53's checkers poll each check about once a second in all at
 * the fast interval, and each answer is one GetItem: a few concurrent executions at most. Throttled requests fail
 * the checks, which is the documented edge case (both unhealthy) and never lets a region write without the lease.
 */
export const HOLDER_CHECK_CONCURRENCY = 10;

/**
 * A lease-authority region: the holder-check function URL, for applications that cannot serve
 * `/cutover/holder` themselves (traffic.holderCheck `function`). It reads the lease on this region's replica of
 * the control table, strongly consistent, and answers `GET ?region=<application region>`.
 */
export class HolderCheckStack extends Stack {
  readonly holderCheck: CutoverFunction;
  readonly url: lambda.FunctionUrl;
  readonly alarms: ControlPlaneAlarms;

  constructor(scope: Construct, id: string, props: RegionStackProps) {
    super(scope, id, props);
    const { config, topology } = props;
    const { names } = topology;
    // Route 53's checkers start a request a second or so: tracing each would cost more than the function.
    const tracing = traceEveryFunction(this);
    if (tracing) acknowledgeTracing(this);
    const control = controlTableFor(this, topology);
    if (control.region !== this.region) {
      throw new Error(`the holder-check function in ${this.region} needs a control-table replica there`);
    }

    this.holderCheck = new CutoverFunction(this, HOLDER_CHECK_ROLE, {
      entry: HOLDER_CHECK_ENTRY,
      role: HOLDER_CHECK_ROLE,
      names,
      config,
      description: 'Holder check: 200 only for the region that holds an unexpired lease (GET ?region=…)',
      // A checker gives up two seconds after connecting; a longer run would only hold a concurrency slot.
      timeout: Duration.seconds(3),
      tracing,
      reservedConcurrency: HOLDER_CHECK_CONCURRENCY,
    });
    this.holderCheck.addEnvironment('CONTROL_TABLE', control.table.tableName);
    for (const s of holderCheckReadStatements(config, control.table.tableArn))
      this.holderCheck.addToRolePolicy(s);
    // Auth NONE: Route 53 health checkers cannot sign requests. What it exposes is who holds the lease, and it
    // can read nothing else (holderCheckReadStatements). cdk-nag's AwsSolutions pack has no rule on function URL
    // auth (its Serverless pack's LambdaFunctionUrlAuth would flag this), so there is nothing to acknowledge.
    this.url = this.holderCheck.addFunctionUrl({ authType: lambda.FunctionUrlAuthType.NONE });
    new CfnOutput(this, 'holder-check-url', {
      description: `Holder check of ${config.application} from the lease authority in ${this.region}; add ?region=<application region>`,
      value: this.url.url,
    });

    this.alarms = new ControlPlaneAlarms(this, 'alarms', names, 'holder-check');
    this.alarms.add('holder-check-failing', {
      alarmName: `${names.function(HOLDER_CHECK_ROLE)}-${this.region}-failing`,
      alarmDescription: `The holder check in ${this.region} errs or is throttled: the health checks on it fail for every region`,
      metric: new cloudwatch.MathExpression({
        expression: 'errors + throttles',
        usingMetrics: {
          errors: this.holderCheck.metricErrors({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM }),
          throttles: this.holderCheck.metricThrottles({
            period: ONE_MINUTE,
            statistic: cloudwatch.Stats.SUM,
          }),
        },
        period: ONE_MINUTE,
        label: 'holder check errors and throttles',
      }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 2,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
