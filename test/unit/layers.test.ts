import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

/**
 * The layers under functions/ are enforced by biome.json (overrides with noRestrictedImports), and import cycles
 * anywhere by noImportCycles with type imports counted. These tests lint probe files with the repository's own
 * configuration in a scratch directory, so nothing is left in the tree. Biome's --stdin-file-path mode cannot be
 * the oracle: it exits non-zero even for a clean file and prints no diagnostics.
 */

const repo = resolve(import.meta.dirname, '../..');
const biome = join(repo, 'node_modules/.bin/biome');
const scratch = mkdtempSync(join(tmpdir(), 'cutover-layers-'));
const config: Record<string, unknown> = JSON.parse(readFileSync(join(repo, 'biome.json'), 'utf8'));
delete config.$schema;
writeFileSync(join(scratch, 'biome.json'), JSON.stringify(config));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

interface Finding {
  rule: string;
  line: number;
  message: string;
}

/** Lints `path` holding `lines`, with `beside` (path → lines) present too, then removes them all. */
function lint(
  path: string,
  lines: string[],
  beside: Record<string, string[]> = {},
): { status: number | null; findings: Finding[] } {
  const files = Object.entries({ ...beside, [path]: lines }).map(([p, text]) => {
    const file = join(scratch, p);
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(file, `${text.join('\n')}\n`);
    return file;
  });
  try {
    const run = spawnSync(biome, ['lint', '--reporter=json', path], { cwd: scratch, encoding: 'utf8' });
    const report = JSON.parse(run.stdout) as {
      diagnostics: { category: string; message: string; location: { start: { line: number } } }[];
    };
    const findings = report.diagnostics.map((d) => ({
      rule: d.category,
      line: d.location.start.line,
      message: d.message,
    }));
    return { status: run.status, findings };
  } finally {
    for (const file of files) rmSync(file);
  }
}

const restricted = (findings: Finding[]) =>
  findings.filter((f) => f.rule === 'lint/style/noRestrictedImports').map((f) => f.line);

describe('layers', () => {
  it('refuses an upward import from core/, relative, subpath or SDK', () => {
    const { status, findings } = lint('functions/core/probe.ts', [
      "import { DynamoVoteStore } from '../adapters/dynamodb/vote-store.js';",
      "import { logger } from '#commons/logger.js';",
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
      "import { decide } from './decide.js';",
      'export const used = [DynamoVoteStore, logger, DynamoDBClient, decide];',
    ]);
    expect(status).not.toBe(0);
    expect(restricted(findings)).toEqual([1, 2, 3]);
    expect(findings.find((f) => f.line === 1)?.message).toMatch(/core\/ never imports adapters\//);
    expect(findings.find((f) => f.line === 2)?.message).toMatch(/core\/ never imports commons\//);
    expect(findings.find((f) => f.line === 3)?.message).toMatch(/core\/ is pure/);
  });

  it('passes an adapter that imports core, relative or subpath, and its SDK', () => {
    const { status, findings } = lint('functions/adapters/dynamodb/probe.ts', [
      "import { DynamoDBClient } from '@aws-sdk/client-dynamodb';",
      "import { ConflictError } from '../../core/errors.js';",
      "import { systemClock } from '#core/ports.js';",
      'export const used = [DynamoDBClient, ConflictError, systemClock];',
    ]);
    expect(findings).toEqual([]);
    expect(status).toBe(0);
  });

  it.each([
    ['functions/core/probe.ts', "import { x } from '../../steps/core/approval.js';"],
    ['functions/core/probe.ts', "import { x } from '#steps/core/approval.js';"],
    ['functions/core/probe.ts', "import { x } from '#guard/lease-guard.js';"],
    ['functions/core/probe.ts', "import { x } from '../aggregator.js';"],
    ['functions/core/probe.ts', "import { x } from '@middy/core';"],
    ['functions/core/probe.ts', "import { x } from '../../infra/local/drill/stack.js';"],
    ['functions/steps/core/probe.ts', "import { x } from '../../adapters/dynamodb/lease-store.js';"],
    ['functions/steps/core/probe.ts', "import { x } from '../fence.js';"],
    ['functions/adapters/aws/probe.ts', "import { x } from '../../steps/core/steps.js';"],
    ['functions/adapters/aws/probe.ts', "import { x } from '#commons/clients.js';"],
    ['functions/adapters/aws/probe.ts', "import { x } from '../../aggregator.js';"],
    ['functions/commons/probe.ts', "import { x } from '../steps/core/approval.js';"],
    ['functions/commons/probe.ts', "import { x } from '#steps/core/approval.js';"],
    ['functions/commons/probe.ts', "import { x } from '../prober.js';"],
    ['functions/guard/probe.ts', "import { x } from '../adapters/dynamodb/lease-store.js';"],
    ['functions/guard/probe.ts', "import { x } from '#commons/logger.js';"],
    ['functions/steps/probe.ts', "import { x } from './fence.js';"],
    ['functions/steps/probe.ts', "import { x } from '#steps/fence.js';"],
    ['functions/steps/probe.ts', "import { x } from '../aggregator.js';"],
    ['functions/probe.ts', "import { x } from './aggregator.js';"],
    ['functions/probe.ts', "import { x } from './steps/fence.js';"],
    ['functions/probe.ts', "import { x } from '../test/support/capture-io.js';"],
    ['functions/probe.ts', "import { x } from '../bin/options.js';"],
  ])('refuses in %s: %s', (path, line) => {
    const { status, findings } = lint(path, [line, 'export const used = x;']);
    expect(status).not.toBe(0);
    expect(restricted(findings)).toEqual([1]);
  });

  it.each([
    ['functions/steps/probe.ts', "import { x } from './aws-deps.js';"],
    ['functions/steps/probe.ts', "import { x } from './core/steps.js';"],
    ['functions/steps/probe.ts', "import { x } from '../commons/request-approval-core.js';"],
    ['functions/probe.ts', "import { x } from './steps/core/steps.js';"],
    ['functions/probe.ts', "import { x } from '#adapters/dynamodb/vote-store.js';"],
    ['functions/guard/probe.ts', "import { x } from '../core/lease.js';"],
    ['functions/guard/probe.ts', "import { x } from '@aws-sdk/lib-dynamodb';"],
    ['functions/commons/probe.ts', "import { x } from '../adapters/dynamodb/vote-store.js';"],
    ['functions/core/probe.ts', "import { x } from '@aws-lambda-powertools/commons/types';"],
  ])('allows in %s: %s', (path, line) => {
    const { status, findings } = lint(path, [line, 'export const used = x;']);
    expect(findings).toEqual([]);
    expect(status).toBe(0);
  });

  it('refuses an import cycle, even one made of type imports only', () => {
    const { status, findings } = lint(
      'infra/local/drill/probe-run.ts',
      [
        "import type { ProbeScenario } from './probe-scenarios.js';",
        'export interface ProbeContext {',
        '  scenarios: ProbeScenario[];',
        '}',
      ],
      {
        'infra/local/drill/probe-scenarios.ts': [
          "import type { ProbeContext } from './probe-run.js';",
          'export type ProbeScenario = (ctx: ProbeContext) => void;',
        ],
      },
    );
    expect(status).not.toBe(0);
    expect(findings.map((f) => f.rule)).toEqual(['lint/suspicious/noImportCycles']);
  });

  it('refuses process.env in core/', () => {
    const { status, findings } = lint('functions/core/probe.ts', [
      'export const region = process.env.AWS_REGION;',
    ]);
    expect(status).not.toBe(0);
    expect(findings.map((f) => f.rule)).toEqual(['lint/style/noRestrictedGlobals']);
  });
});
