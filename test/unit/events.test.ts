import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { eventErrors } from '../support/event-schemas.js';

const dir = new URL('../../events/', import.meta.url);
const samples = readdirSync(dir).filter((f) => f.endsWith('.sample.json') && !f.includes('input'));
const typeOf: Record<string, string> = {
  'primary-suspect': 'Primary Suspect',
  'primary-recovered': 'Primary Recovered',
};

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
