/**
 * Every command's one-line summary and usage, with no imports, so that `cutover --help`, `cutover X --help` and
 * the usage lines of refused commands come from one place and print without loading what a command needs.
 */

const TABLE_FLAGS = '[--table NAME] [--region R] [--endpoint URL]';
export const TABLE_NOTE = `  --table defaults to cutover-<application>-control and --region to the lease authority's first region,
  which is where the CDK app puts the control table; --endpoint talks to DynamoDB Local.`;

export interface CommandHelp {
  summary: string;
  usage: string;
  /** More than the usage line: what the command does and what each flag means. */
  details?: string;
}

export const HELP = {
  'config validate': {
    summary: 'check a configuration file: every error named by field, all at once',
    usage: 'usage: cutover config validate [--explain] FILE',
    details: `  Exit codes: 0 valid, 1 refused (each problem under its field, with the value and the fix) or unreadable,
  2 a usage problem. --explain also lists the settings left to their defaults, one a line, with what each means
  for failover time or safety.`,
  },
  drill: {
    summary: 'run the whole control plane on this machine against real stand-ins, one scenario',
    usage: 'usage: cutover drill --scenario NAME [--seed N] [--json] [--out DIR] [--approve] [--synchronous]',
    details: `  Writes report.json, timeline.jsonl, acked.jsonl and final-rows.jsonl to --out (default drill-out/NAME).
  --approve answers an approval request in the Slack stand-in; --synchronous runs the state machine in the
  aggregator's process; --json prints the report instead of the summary.`,
  },
  cost: {
    summary: "estimate the control plane's monthly AWS cost for a configuration, line by line",
    usage: 'usage: cutover cost --config FILE [--json]',
  },
  rto: {
    summary:
      'estimate how long a failover of a configuration takes in AWS, by phase, against the 60 s target',
    usage: 'usage: cutover rto --config FILE [--json]',
    details: `  Best, expected and worst case of detection, decision, fence, promotion and traffic, every AWS figure cited
  (docs/rto.md), and the settings that would bring it under 60 s, or why none can. Exit 0 when the expected RTO
  is within 60 s, 1 when it is not or the configuration is invalid, 2 for a usage problem.`,
  },
  status: {
    summary: 'show the lease, the pause flag, open incidents and the last failover or failback',
    usage: `usage: cutover status --config FILE ${TABLE_FLAGS} [--json]`,
    details: TABLE_NOTE,
  },
  audit: {
    summary: "an incident's audit trail: each step's time, duration, outcome and the decision it acted on",
    usage: `usage: cutover audit INCIDENT --config FILE ${TABLE_FLAGS} [--json]`,
    details: `  INCIDENT is an id such as orders:3:1 (\`cutover status\` shows the open and the last ones).
${TABLE_NOTE}`,
  },
  pause: {
    summary: 'stop automatic failovers (the aggregator still decides, and says it is paused)',
    usage: `usage: cutover pause --config FILE --reason TEXT [--by WHO] ${TABLE_FLAGS}`,
    details: TABLE_NOTE,
  },
  resume: {
    summary: 'let automatic failovers start again after a pause',
    usage: `usage: cutover resume --config FILE ${TABLE_FLAGS}`,
    details: TABLE_NOTE,
  },
  'local up': {
    summary: 'a local sandbox for the operator commands: DynamoDB Local with the real tables, until Ctrl-C',
    usage: 'usage: cutover local up --config FILE [--port N] [--bootstrap]',
    details: `  Starts DynamoDB Local (Java 17+) with the control and votes tables this configuration deploys, and prints its
  endpoint and the commands to try against it (each with --endpoint). --bootstrap has the configured primary take
  the lease, as its keeper would on a fresh install, so that status shows a holder and failover can be tried.`,
  },
  failover: {
    summary: 'fail over by hand: create the incident and start the failover state machine',
    usage:
      'usage: cutover failover --config FILE --to REGION --reason TEXT --state-machine-arn ARN [--by WHO] [--accept-data-loss] [--override-cooldown] [--table NAME] [--region R] [--endpoint URL] [--dry-run]',
    details: `  Fails over by hand, e.g. when an automatic failover failed after its fence and left the lease revoked. It reads
  the lease and the open incidents, refuses when no lease exists, when --to is not an application region, already
  holds the lease, or an incident is in flight; otherwise it creates the incident at the current lease epoch (the
  aggregator's conditional write) and starts the failover machine (cutover-<application>-failover in a control
  region) with the Failover Requested detail. --table/--region/--endpoint name the control table as for
  \`cutover status\`; --dry-run reads and checks, writes nothing and sends nothing.
  A target that a failover left and that is not yet shown to replicate again (\`cutover status\` lists it under
  "needs rebuild") is refused: promoting it loses every write acknowledged since; --accept-data-loss says so and
  goes on. A failover inside the cool-down after the last failover or failback is refused; --override-cooldown
  goes on. Both overrides are recorded, with --reason, in the incident's evidence.`,
  },
  failback: {
    summary: 'start a planned failback (zero data loss) to the original region',
    usage:
      'usage: cutover failback --config FILE --input FILE --state-machine-arn ARN [--region R] [--dry-run]',
    details: `  --input is the failback input (sample: events/failback-input.sample.json); it is validated and checked against
  the configuration before anything is sent. The CDK app names the machine cutover-<application>-failback in
  every control region; --region defaults to the ARN's. --dry-run prints the validated input and sends nothing.`,
  },
} satisfies Record<string, CommandHelp>;

export type CommandName = keyof typeof HELP;

/** The usage line and details of one command, as refused commands print them. */
export function usageOf(name: CommandName): string {
  const h: CommandHelp = HELP[name];
  return h.details ? `${h.usage}\n${h.details}` : h.usage;
}

/** `cutover X --help`: the summary, the usage and the details. */
export function helpOf(name: CommandName): string {
  return `cutover ${name}: ${HELP[name].summary}\n${usageOf(name)}\n`;
}

/** `cutover --help`: one line a command, then how to get more. */
export function overview(version: string): string {
  const width = Math.max(...Object.keys(HELP).map((k) => k.length));
  const lines = Object.entries(HELP).map(([name, h]) => `  ${name.padEnd(width)}  ${h.summary}`);
  return `cutover ${version}: keeps an application running when a whole AWS region fails
usage: cutover COMMAND [options]    (cutover COMMAND --help for its options)
commands:
${lines.join('\n')}
`;
}
