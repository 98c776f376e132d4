import { readFileSync } from 'node:fs';
import { type CutoverConfig, loadConfig } from '#core/config.js';
import type { TableNames } from '../infra/local/tables.js';

export const TABLES: TableNames = { votes: 'bench-votes', control: 'bench-control' };

/**
 * The example configuration, at its own (production) timings, with `watchers` watcher regions (names that pass the
 * region rule) and a majority quorum, validated like any configuration.
 */
export function benchConfig(watchers: number): CutoverConfig {
  const raw = JSON.parse(readFileSync(new URL('../examples/cutover.example.json', import.meta.url), 'utf8'));
  // AWS has fewer commercial regions than 50, and validation refuses any other name: the example is validated as
  // written, then given `watchers` synthetic voter names and their majority. The aggregator's work depends on how
  // many votes it reads and weighs, not on the names.
  const valid = loadConfig(raw);
  return {
    ...valid,
    watchers: Array.from({ length: watchers }, (_, i) => `xx-bench-${i + 1}`),
    quorum: Math.floor(watchers / 2) + 1,
  };
}

/** The aggregator process's answer to one batch. */
export interface WorkerAnswer {
  batchItemFailures: { itemIdentifier: string }[];
  /** When aggregate() returned, epoch ms. */
  decidedAt: number;
  /** Parsing the event and aggregate(), ms. */
  busyMs: number;
  codes: string[];
}
