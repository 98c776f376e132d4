import type { z } from 'zod';
import { closest } from './regions.js';

/**
 * Zod's issues in Cutover's words: what the field must be, and how to fix it. Used as the parse's error map, so a
 * message written in the schema itself (a region, a Slack id) wins and every other one comes from here. The value
 * the field had is appended by the caller (config.ts), once for every issue.
 */

/** What a field is for, said when it is missing. */
const PURPOSE: Readonly<Record<string, string>> = {
  application:
    'the application name (lowercase letters, digits and dashes), used in every table and stack name',
  primary: 'the region that serves writes now: { "region", "healthUrl", ... }',
  standby: 'the region a failover moves to: { "region", "healthUrl", ... }',
  watchers: 'the list of 3 or more regions (other than primary and standby) that probe and vote',
  controlRegions: 'the list of 2 or more regions that run the aggregator and the state machines',
  leaseAuthority:
    'where the lease lives: { "mode": "mrsc", "regions": [3 regions] } or { "mode": "arbiter", "region": "..." }',
  quorum: 'how many watchers must agree that a region is down (a majority of the watchers)',
  region: 'an AWS region code such as us-east-1',
  healthUrl: "the region's own health endpoint, an http(s) URL",
  hostedZoneId: 'the Route 53 hosted zone id, such as Z0123456789ABC',
  recordName: 'the DNS name clients use, such as orders.example.com',
  engine: '"rds", "aurora" or "dynamodb" (or "none" when Cutover must not promote a database)',
  channel: 'the Slack channel id where approvals are asked',
  approvers: 'the Slack user ids allowed to approve, such as ["U012AB3CD"]',
  mode: 'the mode of this section',
};

const show = (v: unknown): string =>
  typeof v === 'string' ? JSON.stringify(v) : (JSON.stringify(v) ?? String(v));

function kindOf(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'string') return 'text';
  if (typeof v === 'number') return Number.isInteger(v) ? 'a whole number' : 'a number';
  return `a ${typeof v}`;
}

const EXPECTED: Readonly<Record<string, string>> = {
  number: 'a number',
  int: 'a whole number',
  string: 'text in double quotes',
  boolean: 'true or false (no quotes)',
  array: 'a list in square brackets',
  object: 'an object in curly braces',
  nan: 'a number',
};

function typeFix(expected: string, input: unknown): string {
  if ((expected === 'number' || expected === 'int') && typeof input === 'string' && input.trim() !== '') {
    const n = Number(input);
    if (Number.isFinite(n)) return `: write ${n} without quotes`;
    if (/\d\s*(ms|s|m|h|sec|seconds?|minutes?)$/i.test(input.trim()))
      return ": write a plain number of the field's unit (milliseconds for fields ending in Ms, seconds for fields ending in Seconds)";
  }
  if (expected === 'boolean' && (input === 'true' || input === 'false'))
    return `: write ${input} without quotes`;
  if (expected === 'array' && typeof input === 'string') return `: write [${JSON.stringify(input)}]`;
  return '';
}

/** The literal values a union of literals accepts (`10 | 30`), or undefined for any other union. */
function literalUnionValues(issue: z.core.$ZodRawIssue): unknown[] | undefined {
  const errors = (issue as { errors?: z.core.$ZodIssue[][] }).errors;
  if (!errors?.length) return undefined;
  const values: unknown[] = [];
  for (const branch of errors) {
    const only = branch.length === 1 ? branch[0] : undefined;
    if (only?.code !== 'invalid_value') return undefined;
    values.push(...only.values);
  }
  return values;
}

function oneOf(values: readonly unknown[], input: unknown): string {
  const list = values.map(show);
  const choices = list.length <= 2 ? list.join(' or ') : `one of ${list.join(', ')}`;
  const near =
    typeof input === 'string'
      ? closest(
          input,
          values.filter((v): v is string => typeof v === 'string'),
        )
      : undefined;
  return `must be ${choices}${near && near !== input ? ` (did you mean ${show(near)}?)` : ''}`;
}

function discriminatorValues(issue: z.core.$ZodRawIssue): { key: string; values: unknown[] } | undefined {
  const inst = (issue as { inst?: unknown }).inst as
    | { def?: { discriminator?: string; options?: { def?: { shape?: Record<string, unknown> } }[] } }
    | undefined;
  const key = inst?.def?.discriminator;
  if (!key || !inst?.def?.options) return undefined;
  const values: unknown[] = [];
  for (const o of inst.def.options) {
    const lit = o.def?.shape?.[key] as { def?: { values?: unknown[] } } | undefined;
    values.push(...(lit?.def?.values ?? []));
  }
  return { key, values };
}

/** The error map: a message for every issue zod raises on a configuration. */
export function describeIssue(issue: z.core.$ZodRawIssue): string {
  const input = issue.input;
  const last = issue.path?.at(-1);
  switch (issue.code) {
    case 'invalid_type': {
      if (input === undefined) {
        const purpose = typeof last === 'string' ? PURPOSE[last] : undefined;
        return `is required${purpose ? `: ${purpose}` : ''}`;
      }
      const expected = EXPECTED[issue.expected] ?? issue.expected;
      return `must be ${expected}, not ${kindOf(input)}${typeFix(issue.expected, input)}`;
    }
    case 'too_small': {
      const min = Number(issue.minimum);
      if (issue.origin === 'array' || issue.origin === 'set')
        return `needs at least ${min} ${min === 1 ? 'entry' : 'entries'}`;
      if (issue.origin === 'string')
        return min <= 1 ? 'must not be empty' : `needs at least ${min} characters`;
      return issue.inclusive ? `must be at least ${min}` : `must be above ${min}`;
    }
    case 'too_big': {
      const max = Number(issue.maximum);
      if (issue.origin === 'array' || issue.origin === 'set')
        return `takes at most ${max} ${max === 1 ? 'entry' : 'entries'}`;
      if (issue.origin === 'string') return `takes at most ${max} characters`;
      return issue.inclusive ? `must be at most ${max}` : `must be below ${max}`;
    }
    case 'invalid_value':
      return oneOf(issue.values, input);
    case 'invalid_union': {
      const disc = discriminatorValues(issue);
      if (disc) {
        const tag =
          typeof input === 'object' && input !== null
            ? (input as Record<string, unknown>)[disc.key]
            : undefined;
        return `needs "${disc.key}": ${oneOf(disc.values, tag).replace(/^must be /, '')}${tag === undefined ? '' : `, not ${show(tag)}`}`;
      }
      const literals = literalUnionValues(issue);
      if (literals) return oneOf(literals, input);
      return 'has a value of the wrong form: see docs/architecture.md for this field';
    }
    case 'invalid_format':
      return `must be ${issue.format === 'url' ? 'an http(s) URL' : `a valid ${issue.format}`}`;
    case 'not_multiple_of':
      return `must be a multiple of ${String(issue.divisor)}`;
    case 'unrecognized_keys':
      return 'is not a known field';
    case 'invalid_key':
      return 'has a key that is not valid here';
    case 'invalid_element':
      return 'has an entry that is not valid here';
    default:
      return 'is not valid here';
  }
}
