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
  raw.watchers = Array.from({ length: watchers }, (_, i) => `xx-bench-${i + 1}`);
  raw.quorum = Math.floor(watchers / 2) + 1;
  return loadConfig(raw);
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
