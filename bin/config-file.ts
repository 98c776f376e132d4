import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { type CutoverConfig, parseConfigText } from '#core/config.js';
import type { Io } from './io.js';

/**
 * Reads and validates a configuration file for every command. An unreadable file is reported on io.err; an
 * invalid one with every problem and its field, on io.err too unless the report is the command's own output
 * (`config validate`, `cost`), which puts it on io.out. Returns null when refused.
 */
export function loadConfig(file: string, io: Io, invalidTo: 'out' | 'err' = 'err'): CutoverConfig | null {
  return loadConfigFile(file, io, invalidTo)?.config ?? null;
}

/** As loadConfig, with the file's parsed JSON too (`config validate --explain` compares the two). */
export function loadConfigFile(
  file: string,
  io: Io,
  invalidTo: 'out' | 'err' = 'err',
): { config: CutoverConfig; raw: unknown } | null {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    const why =
      e.code === 'ENOENT'
        ? 'no such file'
        : e.code === 'EISDIR'
          ? 'it is a directory, not a file'
          : e.code === 'EACCES'
            ? 'permission denied'
            : e.message;
    io.err(`cannot read ${file}: ${why}\n`);
    return null;
  }
  const result = parseConfigText(text);
  if (result.ok) return { config: result.config, raw: JSON.parse(text) as unknown };
  const report = invalidTo === 'out' ? io.out : io.err;
  const n = result.issues.length;
  report(`INVALID ${file}: ${n} ${n === 1 ? 'problem' : 'problems'}\n`);
  for (const issue of result.issues) report(`  ${issue.field}: ${issue.message}\n`);
  return null;
}

/**
 * `--config FILE [--json]`, the flags of the commands that only read a configuration (`cost`, `rto`). A usage
 * problem is printed with the usage; null then means exit 2.
 */
export function configAndJsonFlags(argv: string[], usage: string): { file: string; json: boolean } | null {
  let values: { config?: string; json?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { config: { type: 'string' }, json: { type: 'boolean', default: false } },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    process.stderr.write(`${(err as Error).message}\n${usage}`);
    return null;
  }
  if (!values.config) {
    process.stderr.write(`--config is required\n${usage}`);
    return null;
  }
  return { file: values.config, json: values.json ?? false };
}
