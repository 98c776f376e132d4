import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { processIo } from './io.js';
import { type CommandName, HELP, helpOf, overview, usageOf } from './usage.js';

const HELP_FLAGS = new Set(['--help', '-h']);

/** The version in package.json, read only when asked for. */
function version(): string {
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
    version: string;
  };
  return pkg.version;
}

/** `cutover X --help` (or -h anywhere in its arguments): its summary and options, loading nothing it runs. */
async function commandHelp(name: CommandName): Promise<string> {
  if (name !== 'drill') return helpOf(name);
  const { scenarioList } = await import('./drill-command.js');
  return `${helpOf(name)}${scenarioList()}`;
}

/** Returns the process exit code: 0 ok, 1 a refusal or a failed expectation, 2 a usage or setup problem. */
export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // `config --help` and `config validate --help` both mean the one config subcommand; so for `local`.
  const asked = command === 'config' ? 'config validate' : command === 'local' ? 'local up' : command;
  if (asked && asked in HELP && rest.some((a) => HELP_FLAGS.has(a))) {
    process.stdout.write(await commandHelp(asked as CommandName));
    return 0;
  }
  switch (command) {
    case 'config':
      return await configCommand(rest);
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
    case 'audit': {
      const { auditCommand } = await import('./audit-command.js');
      return auditCommand(rest);
    }
    case 'local': {
      const { localCommand } = await import('./local-command.js');
      return localCommand(rest);
    }
    case 'failback': {
      const { failbackCommand } = await import('./failback-command.js');
      return failbackCommand(rest);
    }
    case 'failover': {
      const { failoverCommand } = await import('./failover-command.js');
      return failoverCommand(rest);
    }
    case 'readiness':
      return (await import('./readiness-command.js')).readinessCommand(rest);
    case 'canary':
      return (await import('./canary-command.js')).canaryCommand(rest);
    case 'gameday':
      return (await import('./gameday-command.js')).gamedayCommand(rest);
    case '--version':
    case 'version':
      process.stdout.write(`cutover ${version()}\n`);
      return 0;
    case 'help':
    case '--help':
    case '-h': {
      const about = rest.join(' ');
      if (about && about in HELP) {
        process.stdout.write(await commandHelp(about as CommandName));
        return 0;
      }
      if (about) {
        process.stderr.write(`no command ${JSON.stringify(about)}\n${overview(version())}`);
        return 2;
      }
      process.stdout.write(overview(version()));
      return 0;
    }
    case undefined:
      process.stderr.write(overview(version()));
      return 2;
    default:
      process.stderr.write(`unknown command ${JSON.stringify(command)}\n${overview(version())}`);
      return 2;
  }
}

/** `cutover config validate [--explain] FILE`: 0 valid, 1 refused or unreadable, 2 a usage problem. */
export async function configCommand(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  const explain = rest.includes('--explain');
  const args = rest.filter((a) => a !== '--explain');
  const [file, ...extra] = args;
  const unknownFlag = args.find((a) => a.startsWith('-'));
  if (sub !== 'validate' || !file || extra.length || unknownFlag) {
    const why = unknownFlag
      ? `unknown option ${JSON.stringify(unknownFlag)}\n`
      : sub !== undefined && sub !== 'validate'
        ? `unknown config subcommand ${JSON.stringify(sub)}\n`
        : '';
    process.stderr.write(`${why}${usageOf('config validate')}\n`);
    return 2;
  }
  // Loaded here, not at the top: the schema (zod) is most of what --help and --version would otherwise load.
  const [{ loadConfigFile }, { explainLines }] = await Promise.all([
    import('./config-file.js'),
    import('#core/config-explain.js'),
  ]);
  const loaded = loadConfigFile(file, processIo, 'out');
  if (!loaded) return 1;
  const { config, raw } = loaded;
  process.stdout.write(
    `OK ${file}: application ${config.application}, primary ${config.primary.region}, standby ${config.standby.region}, ${config.watchers.length} watchers, quorum ${config.quorum}\n`,
  );
  if (explain) process.stdout.write(`${explainLines(raw, config).join('\n')}\n`);
  return 0;
}

export { parseArgs };
