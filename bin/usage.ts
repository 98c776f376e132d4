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
    usage:
      'usage: cutover drill --scenario NAME [--config FILE [--time-scale N]] [--rate N] [--seed N] [--json] [--out DIR] [--approve] [--synchronous] [--open]',
    details: `  Writes report.json, report.html, timeline.jsonl, acked.jsonl and final-rows.jsonl to --out (default
  drill-out/NAME); --open prints the path of report.html, a self-contained page, on the last line.
  --config rehearses your own configuration (validated as \`cutover config validate\` does) instead of the
  compressed example; --time-scale N divides every timing in it, and AWS's own (Route 53), by N (default 1: as
  written); a scaled configuration must still pass the rules. --rate N: writes a second the clients send (default
  100). --approve answers an approval request in the Slack stand-in; --synchronous runs the state machine in the
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
    summary: 'the incident screen: lease, pause, open and last failed incident, and the next command to type',
    usage: `usage: cutover status --config FILE ${TABLE_FLAGS} [--json] [--watch [SECONDS]]`,
    details: `  Shows the lease (holder, epoch, expiry), the pause, the open incident, the last failed or aborted one (the
  step it stopped at, error, cause, and whether it fenced, promoted, granted the lease, moved traffic) and the
  exact command to type next. --watch redraws it every SECONDS (default 5) until Ctrl-C; --json prints the
  same facts as one JSON object (one per refresh with --watch).
${TABLE_NOTE}`,
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
      'usage: cutover failover --config FILE --to REGION --reason TEXT [--state-machine-arn ARN] [--by WHO] [--accept-data-loss] [--override-cooldown] [--table NAME] [--region R] [--endpoint URL] [--dry-run]',
    details: `  Fails over by hand, e.g. when an automatic failover failed after its fence and left the lease revoked. It reads
  the lease and the open incidents, refuses when no lease exists, when --to is not an application region, already
  holds the lease, or an incident is in flight; otherwise it creates the incident at the current lease epoch (the
  aggregator's conditional write) and starts the failover machine with the Failover Requested detail: by default
  cutover-<application>-failover in the first control region of the caller's account (STS GetCallerIdentity),
  or the one --state-machine-arn names. --table/--region/--endpoint name the control table as for
  \`cutover status\`; --dry-run reads and checks, writes nothing and sends nothing.
  A target that a failover left and that is not yet shown to replicate again (\`cutover status\` lists it under
  "needs rebuild") is refused: promoting it loses every write acknowledged since; --accept-data-loss says so and
  goes on. A failover inside the cool-down after the last failover or failback is refused; --override-cooldown
  goes on. Both overrides are recorded, with --reason, in the incident's evidence.`,
  },
  failback: {
    summary: 'start a planned failback (zero data loss) to the original region',
    usage: `usage: cutover failback --config FILE --input FILE [--state-machine-arn ARN] ${TABLE_FLAGS} [--dry-run]`,
    details: `  --input is the failback input (sample: events/failback-input.sample.json); it is validated and checked against
  the configuration before anything is sent. The machine defaults to cutover-<application>-failback (the CDK app's
  name) in the first control region of the caller's account (STS GetCallerIdentity); --state-machine-arn names
  another. --dry-run also reads the lease from the control table and refuses, as the machine's first state
  would, when --input's "from" does not hold it, inside the cool-down, or beside an incident in flight; it sends
  nothing.
${TABLE_NOTE}`,
  },
  readiness: {
    summary: 'check, changing nothing, that a failover would work now: one line per check, exit 0/1',
    usage:
      'usage: cutover readiness --config FILE [--json] [--machine-region R] [--lease-wait-ms N] [--table NAME] [--region R] [--endpoint URL]',
  },
  canary: {
    summary:
      'the simulated failover: a share of traffic to the standby (reads only), watched, rolled back by itself',
    usage:
      'usage: cutover canary --config FILE [--percent 5] [--duration 10m] [--interval-ms N] [--probe-path /PATH] [--latency-slack-ms N] [--out DIR] [--json] [--table NAME] [--region R] [--endpoint URL]',
    details: `  Before any traffic change it reads the control table (as \`cutover status\` does) and refuses, changing
  nothing, unless the configured primary holds an unexpired lease, no incident is open and the application is not
  paused: its rollback sends all traffic to the configured primary.
${TABLE_NOTE}`,
  },
  gameday: {
    summary:
      'the real failover rehearsed in a staging account: fail the primary, follow the execution, report, fail back',
    usage:
      'usage: cutover gameday --config FILE --account ID [--fault health|fis] [--timeout 15m] [--failback ask|yes|no] [--out DIR] [--reason TEXT] [--by WHO] [--state-machine-arn ARN] [--table NAME] [--region R] [--endpoint URL] [--dry-run]',
    details: `  Refuses, changing nothing, unless STS GetCallerIdentity's account is --account, the configured primary holds an
  unexpired lease, no incident is open, nothing is paused and no other game day's marker is live. --fault health
  (default) puts the game-day marker for the primary in the control table: the health contract's check of kind
  gameday fails there until the marker is deleted or its --timeout passes (it expires by itself). --fault fis
  starts the FIS experiment template gameday.fisExperimentTemplateId names. It then follows the failover execution
  that starts after the fault (cutover-<application>-failover in every control region, or --state-machine-arn),
  printing each state entered, undoes the fault on every way out (the end, --timeout, an error, Ctrl-C), and writes
  timeline.jsonl, report.json and report.html to --out (default gameday-out/<application>). Then --failback ask
  (default) asks y/N, yes starts the planned failback as cutover failback does, no prints its command.
  --dry-run checks everything and prints each change it would make, in order. Exit 0 pass, 1 refused or failed,
  2 a usage problem. docs/gameday.md lists the IAM permissions it needs.
${TABLE_NOTE}`,
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
