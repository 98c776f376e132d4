import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { systemClock } from '#core/ports.js';
import { type DynamoDbLocal, startDynamoDbLocal } from '../infra/local/dynamodb-local.js';
import { createTables, localClients } from '../infra/local/tables.js';
import { topology } from '../infra/topology.js';
import { loadConfig } from './config-file.js';
import { flags, type Io, processIo, required, UsageError, withUsage } from './options.js';
import { usageOf } from './usage.js';

export interface LocalUpDeps {
  io?: Io;
  /** Resolves when the sandbox should stop; defaults to the first SIGINT or SIGTERM. */
  until?: () => Promise<void>;
}

/**
 * `cutover local up`: a sandbox for the operator commands. DynamoDB Local with the tables the CDK app deploys for
 * this configuration (same names, created in the control table's home region, which is what DynamoDB Local keys
 * its tables by), the endpoint printed with every command ready to paste, and, with --bootstrap, the lease taken
 * by the configured primary as its keeper would on a fresh install. It runs until Ctrl-C and then stops the jar.
 * Exit codes: 0 stopped cleanly, 1 a refused configuration or a sandbox that could not start, 2 a usage problem.
 */
export async function localCommand(argv: string[], deps: LocalUpDeps = {}): Promise<number> {
  const io = deps.io ?? processIo;
  const usage = usageOf('local up');
  return withUsage(io, usage, async () => {
    const [sub, ...rest] = argv;
    if (sub !== 'up')
      throw new UsageError(sub ? `unknown subcommand local ${sub}` : 'local needs a subcommand: up');
    const values = flags(rest, {
      config: { type: 'string' },
      port: { type: 'string' },
      bootstrap: { type: 'boolean', default: false },
    });
    const file = required(values.config, '--config');
    const port = values.port === undefined ? undefined : Number(values.port);
    if (port !== undefined && (!Number.isInteger(port) || port < 1 || port > 65_535)) {
      throw new UsageError(
        `--port must be a port number from 1 to 65535, got ${JSON.stringify(values.port)}`,
      );
    }
    const config = loadConfig(file, io);
    if (!config) return 1;
    const t = topology(config);
    const region = t.control.home;
    let db: DynamoDbLocal;
    try {
      db = await startDynamoDbLocal(port === undefined ? {} : { port });
    } catch (err) {
      io.err(`could not start DynamoDB Local: ${(err as Error).message}\n`);
      return 1;
    }
    try {
      const { raw, doc } = localClients(db.endpoint, region);
      await createTables(raw, { votes: t.names.votesTable, control: t.names.controlTable });
      let lease = 'no lease yet: start with --bootstrap, or `cutover failover` refuses (NO_LEASE)';
      if (values.bootstrap) {
        const store = new DynamoLeaseStore(doc, t.names.controlTable, config.lease, systemClock);
        const r = await store.acquire(config.application, config.primary.region, null);
        lease = r.ok
          ? `${config.primary.region} took the lease at epoch ${r.lease.epoch}; nothing renews it here, so it expires in ${config.lease.ttlMs} ms (as a primary whose keeper stopped)`
          : `the lease already exists (${r.code})`;
      }
      const flagsFor = `--config ${file} --endpoint ${db.endpoint}`;
      io.out(
        [
          `DynamoDB Local is up at ${db.endpoint} with ${t.names.controlTable} and ${t.names.votesTable} (region ${region}).`,
          lease,
          'Try, in another terminal:',
          `  cutover status ${flagsFor}`,
          `  cutover pause ${flagsFor} --reason "trying the console"`,
          `  cutover resume ${flagsFor}`,
          `  cutover failover ${flagsFor} --to ${config.standby.region} --reason "trying it" --dry-run`,
          'Ctrl-C stops it (the tables are in memory and go with it).',
          '',
        ].join('\n'),
      );
      await (deps.until ?? untilSignal)();
      return 0;
    } catch (err) {
      io.err(`could not set up the sandbox at ${db.endpoint}: ${(err as Error).message}\n`);
      return 1;
    } finally {
      await db.stop();
    }
  });
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
}
