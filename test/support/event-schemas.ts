import { existsSync, readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';

const ajv = new Ajv2020({ allErrors: true, strict: false });
const shared: Record<string, string> = {
  'Primary Suspect': 'primary-health-changed',
  'Primary Recovered': 'primary-health-changed',
};

export const schemaName = (detailType: string) =>
  shared[detailType] ?? detailType.toLowerCase().replaceAll(' ', '-');

/** Validates an event's detail against events/<name>.schema.json; returns the errors, empty when valid. */
export function eventErrors(detailType: string, detail: unknown): string[] {
  const file = new URL(`../../events/${schemaName(detailType)}.schema.json`, import.meta.url);
  if (!existsSync(file)) return [`no schema for ${detailType} (${file.pathname})`];
  const schema = JSON.parse(readFileSync(file, 'utf8'));
  const validate = ajv.getSchema(schema.$id) ?? ajv.compile(schema);
  return validate(detail) ? [] : (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message}`);
}
