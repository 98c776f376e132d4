import { readFileSync } from 'node:fs';
import { type CutoverConfig, parseConfigText } from '#core/config.js';
import type { Io } from './io.js';

/**
 * Reads and validates a configuration file for every command. An unreadable file is reported on io.err; an
 * invalid one with every problem and its field, on io.err too unless the report is the command's own output
 * (`config validate`, `cost`), which puts it on io.out. Returns null when refused.
 */
export function loadConfig(file: string, io: Io, invalidTo: 'out' | 'err' = 'err'): CutoverConfig | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    io.err(`cannot read ${file}: ${(err as Error).message}\n`);
    return null;
  }
  const result = parseConfigText(text);
  if (result.ok) return result.config;
  const report = invalidTo === 'out' ? io.out : io.err;
  report(`INVALID ${file}: ${result.issues.length} problem(s)\n`);
  for (const issue of result.issues) report(`  ${issue.field}: ${issue.message}\n`);
  return null;
}
