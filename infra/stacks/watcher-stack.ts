import { Duration, Stack, Token } from 'aws-cdk-lib';
import * as cloudwatch from 'aws-cdk-lib/aws-cloudwatch';
import type { Construct } from 'constructs';
import { CutoverFunction, LOOP_MEMORY_MB, traceEveryFunction } from '../constructs/cutover-function.js';
import { acknowledgeTracing, ControlPlaneAlarms, ONE_MINUTE } from '../constructs/operations.js';
import { voteWriterStatements } from '../iam.js';
import { everyMinute, type RegionStackProps, votesReplica } from './shared.js';

/** A watcher region: the prober votes on the health of each application region, and nothing else. */
export class WatcherStack extends Stack {
  readonly prober: CutoverFunction;
  readonly alarms: ControlPlaneAlarms;

  constructor(scope: Construct, id: string, props: RegionStackProps) {
    super(scope, id, props);
    // Each watcher starts a trace a minute; its probe rounds and votes are in its logs (see traceEveryFunction).
    const tracing = traceEveryFunction(this);
    if (tracing) acknowledgeTracing(this);
    const { config, topology } = props;
    const { names } = topology;

    this.prober = new CutoverFunction(this, 'prober', {
      entry: 'functions/prober.ts',
      role: 'prober',
      names,
      config,
      description: 'Probes each application region every probe interval and writes this region’s vote',
      // The prober loops until its time is nearly up; one minute lines up with the schedule, so runs do not overlap.
      timeout: Duration.minutes(1),
      memorySize: LOOP_MEMORY_MB,
      tracing,
    });
    // Not bindTable's table-wide grant: the prober votes as this region (AWS_REGION), and IAM holds it to the
    // items filed under that name, so one compromised watcher cannot write the others' votes.
    if (Token.isUnresolved(this.region))
      throw new Error('a watcher stack needs a concrete region: it is the voter');
    const votes = votesReplica(this, topology);
    this.prober.addEnvironment('VOTES_TABLE', votes.tableName);
    for (const statement of voteWriterStatements(config, votes.tableArn, this.region)) {
      this.prober.addToRolePolicy(statement);
    }
    everyMinute(this, 'prober-schedule', this.prober, `Cutover ${config.application}: start the prober`);

    this.alarms = new ControlPlaneAlarms(this, 'alarms', names, 'watcher');
    // A silent watcher is an abstention, so detection goes on without it, but with less margin for the quorum.
    this.alarms.add('watcher-silent', {
      alarmName: `${names.function('prober')}-silent`,
      alarmDescription: `The ${this.region} watcher has not started for 3 minutes: its votes go stale and count as abstentions`,
      metric: this.prober.metricInvocations({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.BREACHING,
    });
    this.alarms.add('prober-errors', {
      alarmName: `${names.function('prober')}-errors`,
      alarmDescription: `The ${this.region} prober has failed for 3 minutes in a row (it cannot write its vote)`,
      metric: this.prober.metricErrors({ period: ONE_MINUTE, statistic: cloudwatch.Stats.SUM }),
      comparisonOperator: cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      threshold: 1,
      evaluationPeriods: 3,
      treatMissingData: cloudwatch.TreatMissingData.NOT_BREACHING,
    });
  }
}
