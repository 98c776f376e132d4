/**
 * The aggregator of `npm run bench:aggregator`, as a Lambda function would run it: one process (pinned to one
 * core by the bench) that takes one stream batch at a time as a JSON line on stdin, the event Lambda's event
 * source mapping would invoke it with, runs the real aggregate() (functions/commons/aggregate.ts, what
 * functions/aggregator.ts calls) with the real DynamoDB adapters, and answers with one JSON line: the batch item
 * failures and when the decision was made. "cpu" asks for its CPU time so far; the end of stdin ends it.
 * Args: endpoint watchers
 */
import { createInterface } from 'node:readline';
import { DynamoControlStore } from '#adapters/dynamodb/control-store.js';
import { DynamoLeaseStore } from '#adapters/dynamodb/lease-store.js';
import { DynamoVoteStore } from '#adapters/dynamodb/vote-store.js';
import { aggregate } from '#commons/aggregate.js';
import { systemClock } from '#core/ports.js';
import { localClients } from '../infra/local/tables.js';
import { benchConfig, TABLES, type WorkerAnswer } from './aggregator-setup.js';

const [endpoint, watchers] = process.argv.slice(2);
if (!endpoint || !watchers) throw new Error('usage: aggregator-worker.ts ENDPOINT WATCHERS');
const config = benchConfig(Number(watchers));
const { raw, doc } = localClients(endpoint);
const deps = {
  config,
  region: config.controlRegions[0]!,
  votes: new DynamoVoteStore(doc, TABLES.votes, config.watchers),
  leases: new DynamoLeaseStore(doc, TABLES.control, config.lease, systemClock),
  control: new DynamoControlStore(doc, TABLES.control),
  events: { publish: async () => {} },
  clock: systemClock,
};

const cpu0 = process.cpuUsage();
process.stdout.write('ready\n');
for await (const line of createInterface({ input: process.stdin })) {
  if (line.trim() === 'cpu') {
    const cpu = process.cpuUsage(cpu0);
    process.stdout.write(`${JSON.stringify({ cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
    continue;
  }
  const started = performance.now();
  const { Records } = JSON.parse(line) as { Records: unknown[] };
  const result = await aggregate(Records, deps);
  const answer: WorkerAnswer = {
    batchItemFailures: result.batchItemFailures,
    decidedAt: Date.now(),
    busyMs: performance.now() - started,
    codes: result.decisions.map((d) => d.verdict?.code ?? d.outcome.action),
  };
  process.stdout.write(`${JSON.stringify(answer)}\n`);
}
raw.destroy();
