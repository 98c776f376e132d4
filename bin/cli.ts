import { parseArgs } from 'node:util';
import { loadConfig } from './config-file.js';
import { processIo } from './io.js';

const USAGE = `usage:
  cutover config validate FILE
  cutover drill --scenario NAME [--seed N] [--json] [--out DIR] [--approve] [--synchronous]
  cutover cost --config FILE [--json]
  cutover rto --config FILE [--json]
  cutover status --config FILE [--table NAME] [--region R] [--endpoint URL] [--json]
  cutover pause --config FILE --reason TEXT [--by WHO] [--table NAME] [--region R] [--endpoint URL]
  cutover resume --config FILE [--table NAME] [--region R] [--endpoint URL]
  cutover failback --config FILE --input FILE --state-machine-arn ARN [--region R] [--dry-run]
  cutover failover --config FILE --to REGION --reason TEXT --state-machine-arn ARN [--by WHO] [--accept-data-loss] [--override-cooldown] [--table NAME] [--region R] [--endpoint URL] [--dry-run]
`;

/** Returns the process exit code: 0 ok, 1 a refusal or a failed expectation, 2 a usage or setup problem. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'config':
      return configCommand(rest);
    case 'drill': {
      const { drillCommand } = await import('./drill-command.js');
      return drillCommand(rest);
    }
    case 'cost': {
      const { costCommand } = await import('./cost-command.js');
      return costCommand(rest);
    }
    case 'rto': {
      const { rtoCommand } = await import('./rto-command.js');
      return rtoCommand(rest);
    }
    case 'status':
    case 'pause':
    case 'resume': {
      const commands = await import('./control-commands.js');
      const run = {
        status: commands.statusCommand,
        pause: commands.pauseCommand,
        resume: commands.resumeCommand,
      };
      return run[command](rest);
    }
    case 'failback': {
      const { failbackCommand } = await import('./failback-command.js');
      return failbackCommand(rest);
    }
    case 'failover': {
      const { failoverCommand } = await import('./failover-command.js');
      return failoverCommand(rest);
    }
    case undefined:
    case 'help':
    case '--help':
      process.stdout.write(USAGE);
      return command ? 0 : 2;
    default:
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n${USAGE}`);
      return 2;
  }
}

export function configCommand(argv: string[]): number {
  const [sub, file, ...extra] = argv;
  if (sub !== 'validate' || !file || extra.length) {
    process.stderr.write(`usage: cutover config validate FILE\n`);
    return 2;
  }
  const config = loadConfig(file, processIo, 'out');
  if (!config) return 1;
  process.stdout.write(
    `OK ${file}: application ${config.application}, primary ${config.primary.region}, standby ${config.standby.region}, ${config.watchers.length} watchers, quorum ${config.quorum}\n`,
  );
  return 0;
}

export { parseArgs };
