import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventErrors } from '../support/event-schemas.js';

const dir = new URL('../../events/', import.meta.url);
const samples = readdirSync(dir).filter((f) => f.endsWith('.sample.json') && !f.includes('input'));
const typeOf: Record<string, string> = {
  'primary-suspect': 'Primary Suspect',
  'primary-recovered': 'Primary Recovered',
};

/** Every detail-type Cutover puts on its bus. */
const EMITTED = [
  'Failover Requested',
  'Primary Suspect',
  'Primary Recovered',
  'Lease Renewal Failed',
  'Primary Self-Fenced',
  'Failover Completed',
  'Failover Failed',
  'Failover Aborted',
  'Failback Completed',
  'Failback Failed',
  'Failback Aborted',
  'Traffic Change Failed',
];

function sourceFiles(dir: URL): URL[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory()
      ? sourceFiles(new URL(`${e.name}/`, dir))
      : e.name.endsWith('.ts')
        ? [new URL(e.name, dir)]
        : [],
  );
}

describe('every emitted event has a schema and a sample', () => {
  it('the list covers every literal detail-type published in functions/', () => {
    const literals = new Set<string>();
    for (const f of sourceFiles(new URL('../../functions/', import.meta.url))) {
      for (const m of readFileSync(f, 'utf8').matchAll(/publish\('([A-Z][A-Za-z ]+)'/g)) literals.add(m[1]!);
    }
    expect(literals.size).toBeGreaterThan(0);
    for (const l of literals) expect(EMITTED).toContain(l);
  });

  it.each(EMITTED)('%s', (detailType) => {
    const name = detailType.toLowerCase().replaceAll(' ', '-');
    const sample = JSON.parse(readFileSync(new URL(`${name}.sample.json`, dir), 'utf8'));
    expect(eventErrors(detailType, sample)).toEqual([]);
  });
});

describe('event samples validate against their schemas', () => {
  it.each(samples)('%s', (file) => {
    const name = file.replace('.sample.json', '');
    const detailType =
      typeOf[name] ??
      name
        .split('-')
        .map((w) => w[0]!.toUpperCase() + w.slice(1))
        .join(' ');
    expect(eventErrors(detailType, JSON.parse(readFileSync(new URL(file, dir), 'utf8')))).toEqual([]);
  });

  it('a schema refuses a detail that breaks it', () => {
    const sample = JSON.parse(readFileSync(new URL('failover-requested.sample.json', dir), 'utf8'));
    delete sample.incidentId;
    sample.epoch = -1;
    expect(eventErrors('Failover Requested', sample)).toEqual(
      expect.arrayContaining(["/ must have required property 'incidentId'", '/epoch must be >= 0']),
    );
  });
});
