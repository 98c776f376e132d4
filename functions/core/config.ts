import { z } from 'zod';
import { describeIssue } from './config-messages.js';
import { crossFieldIssues } from './config-rules.js';
import { type ConfigIssue, type CutoverConfig, configShape } from './config-schema.js';
import { closest } from './regions.js';

export type { ConfigIssue, CutoverConfig, CutoverConfigInput } from './config-schema.js';

export class ConfigError extends Error {
  readonly issues: ConfigIssue[];
  constructor(issues: ConfigIssue[]) {
    super(`invalid Cutover configuration:\n${issues.map((i) => `  - ${i.field}: ${i.message}`).join('\n')}`);
    this.name = 'ConfigError';
    this.issues = issues;
  }
}

function fieldName(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out ? `.${String(part)}` : String(part);
  }
  return out || '(root)';
}

export type ParseResult = { ok: true; config: CutoverConfig } | { ok: false; issues: ConfigIssue[] };

export interface ParseOptions {
  /**
   * The configuration is an operator's file (`cutover config validate`, every CLI command, the CDK app), not one
   * rebuilt from a validated configuration (CUTOVER_CONFIG in the functions, tests). A file must say what moves
   * traffic, what database is promoted and how long the lease is, or opt out in so many words: see
   * `requiredSectionIssues`.
   */
  file?: boolean;
}

/**
 * The explicit opt-outs: `"traffic": { "mode": "none" }` (Cutover moves no traffic: something else points clients at
 * the lease holder) and `"database": { "engine": "none" }` (nothing to promote: a stateless application, or a data
 * layer that follows the lease by itself). Both parse to an absent section, which every step already handles.
 */
const OPT_OUTS = { traffic: ['mode', 'none'], database: ['engine', 'none'] } as const;

/**
 * The sections a file must have. Without `traffic` a failover fences and promotes but no client is moved; without
 * `database` nothing is promoted and the new holder writes to a read replica: both pass a drill of the control plane
 * and fail at incident time, so a file must name them or opt out. The lease decides the single-primary fence
 * (maxSkewMs is an assumption about the fleet's clocks that no default can know) and its TTL is the longest wait of
 * every failover: it is an error to leave them to defaults, not a warning, because a warning is read after the
 * incident.
 */
export function requiredSectionIssues(input: Record<string, unknown>): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  if (!('traffic' in input)) {
    issues.push({
      field: 'traffic',
      message:
        'is required: without it a failover moves no client to the new primary. Configure how traffic moves (mode "health-check", "accelerator", "arc" or "records"), or write "traffic": { "mode": "none" } if something outside Cutover does it',
    });
  }
  if (!('database' in input)) {
    issues.push({
      field: 'database',
      message:
        'is required: without it a failover promotes nothing and the new primary writes to a replica. Name the engine ("rds", "aurora" or "dynamodb"), or write "database": { "engine": "none" } for an application without a database to promote',
    });
  }
  const lease = input.lease;
  if (lease === undefined) {
    issues.push({
      field: 'lease',
      message:
        'is required: its ttlMs is the fence\'s wait in every failover and its maxSkewMs the clock error the fence assumes; write at least "lease": { "ttlMs": 30000, "maxSkewMs": 1000 } with your fleet\'s real clock bound',
    });
  } else if (isRecord(lease)) {
    if (!('ttlMs' in lease))
      issues.push({
        field: 'lease.ttlMs',
        message:
          'is required: every failover waits out the old lease (ttlMs + maxSkewMs) before it promotes; 30000 is a common choice',
      });
    if (!('maxSkewMs' in lease))
      issues.push({
        field: 'lease.maxSkewMs',
        message:
          'is required: the largest clock difference between two hosts of the fleet (with NTP or Amazon Time Sync, 1000 is a safe bound); the single-primary fence is only as good as this number',
      });
  }
  return issues;
}

/** Removes an explicit opt-out section; a stray field beside it is refused. */
function withoutOptOuts(input: Record<string, unknown>): {
  input: Record<string, unknown>;
  issues: ConfigIssue[];
} {
  const out = { ...input };
  const issues: ConfigIssue[] = [];
  for (const [section, [key, none]] of Object.entries(OPT_OUTS)) {
    const value = out[section];
    if (!isRecord(value) || value[key] !== none) continue;
    for (const extra of Object.keys(value).filter((k) => k !== key)) {
      issues.push({
        field: `${section}.${extra}`,
        message: `must be left out when ${section}.${key} is "${none}": nothing reads it; remove it, or choose a ${key}`,
      });
    }
    delete out[section];
  }
  return { input: out, issues };
}

/** Validates a parsed JSON value; every problem is reported at once, each with the field it concerns. */
export function parseConfig(raw: unknown, options: ParseOptions = {}): ParseResult {
  const pre: ConfigIssue[] = [];
  let input = raw;
  if (isRecord(raw)) {
    if (options.file) pre.push(...requiredSectionIssues(raw));
    const stripped = withoutOptOuts(raw);
    input = stripped.input;
    pre.push(...stripped.issues);
  }
  const shape = configShape.safeParse(input, { error: describeIssue });
  const setByUser = (field: string) => valueAt(input, field) !== undefined;
  if (shape.success) {
    const issues = [...pre, ...crossFieldIssues(shape.data, () => true, setByUser)];
    return issues.length ? { ok: false, issues } : { ok: true, config: shape.data };
  }
  const issues = [...pre, ...shape.error.issues.flatMap((i) => shapeIssues(i, input))];
  // All errors at once: the cross-field rules still run on the sections that parsed on their own.
  if (isRecord(input)) {
    const sections: Record<string, unknown> = {};
    const valid = new Set<string>();
    for (const [key, schema] of Object.entries(configShape.shape)) {
      const section = (schema as z.ZodType).safeParse(input[key]);
      if (section.success) {
        sections[key] = section.data;
        valid.add(key);
      }
    }
    issues.push(
      ...crossFieldIssues(sections as CutoverConfig, (...keys) => keys.every((k) => valid.has(k)), setByUser),
    );
  }
  return { ok: false, issues };
}

/** The value at a dotted field name (`lease.ttlMs`, `watchers[1]`) of the raw input, or undefined. */
export function valueAt(input: unknown, field: string): unknown {
  let v: unknown = input;
  for (const part of field.split(/\.|\[(\d+)\]/).filter((p) => p !== undefined && p !== '')) {
    if (!isRecord(v) && !Array.isArray(v)) return undefined;
    v = (v as Record<string, unknown>)[part];
  }
  return v;
}

const shown = (v: unknown): string => (typeof v === 'string' ? JSON.stringify(v) : JSON.stringify(v));

/** A zod issue as the operator reads it: the field, what it must be, the value it has and the fix. */
function shapeIssues(issue: z.core.$ZodIssue, input: unknown): ConfigIssue[] {
  if (issue.code === 'unrecognized_keys') {
    const known = knownKeys(configShape, issue.path, input);
    return issue.keys.map((key) => {
      const near = closest(key, known);
      const elsewhere = near ? [] : (fieldsNamed().get(key) ?? []);
      const fix = near
        ? `did you mean ${near}?`
        : elsewhere.length
          ? `${key} belongs ${elsewhere.map(placeOf).join(' or ')}, not in ${fieldName(issue.path)}: move it there`
          : 'remove it or correct its name';
      const list = known.length ? ` (fields here: ${known.join(', ')})` : '';
      return { field: fieldName([...issue.path, key]), message: `is not a known field; ${fix}${list}` };
    });
  }
  // A record's key (an accelerator endpoint's region): the message of the key's own check, filed under the key.
  if (issue.code === 'invalid_key') {
    const inner = issue.issues[0];
    const key = String((issue as { key?: unknown }).key ?? '');
    return [
      { field: fieldName([...issue.path, ...(key ? [key] : [])]), message: inner?.message ?? issue.message },
    ];
  }
  const field = fieldName(issue.path);
  const value = valueAt(input, field);
  const message =
    value === undefined || /\bgot\b/.test(issue.message) || issue.message.includes(JSON.stringify(value))
      ? issue.message
      : `${issue.message}; got ${shown(value)}`;
  return [{ field, message }];
}

/** Where a field lives, said as a place: "at the top level", "in lease". */
const placeOf = (field: string): string =>
  field.includes('.') ? `in ${field.slice(0, field.lastIndexOf('.'))}` : 'at the top level';

let byName: Map<string, string[]> | undefined;

/** Every field of the schema by its last name (`debounceMs` → ["debounceMs"]), to say where a misplaced key goes. */
function fieldsNamed(): Map<string, string[]> {
  if (byName) return byName;
  const map = new Map<string, string[]>();
  const walk = (s: unknown, path: string): void => {
    let t = s;
    while (t instanceof z.ZodOptional || t instanceof z.ZodDefault || t instanceof z.ZodPrefault)
      t = t.unwrap();
    if (t instanceof z.ZodDiscriminatedUnion) {
      for (const o of t.options) walk(o, path);
      return;
    }
    if (!(t instanceof z.ZodObject)) return;
    for (const [k, v] of Object.entries(t.shape as Record<string, unknown>)) {
      const field = path ? `${path}.${k}` : k;
      const list = map.get(k) ?? [];
      if (!list.includes(field)) list.push(field);
      map.set(k, list);
      walk(v, field);
    }
  };
  walk(configShape, '');
  byName = map;
  return map;
}

/** The keys the schema accepts at `path`, following the input to pick a discriminated union's branch. */
function knownKeys(schema: z.ZodType, path: readonly PropertyKey[], input: unknown): string[] {
  let s: unknown = schema;
  let value = input;
  for (let i = 0; ; i++) {
    s = unwrap(s, value);
    if (i === path.length) break;
    const part = path[i];
    if (s instanceof z.ZodObject && typeof part === 'string') s = s.shape[part];
    else if (s instanceof z.ZodArray) s = s.element;
    else return [];
    value =
      isRecord(value) || Array.isArray(value)
        ? (value as Record<PropertyKey, unknown>)[part as PropertyKey]
        : undefined;
  }
  return s instanceof z.ZodObject ? Object.keys(s.shape) : [];
}

function unwrap(s: unknown, value: unknown): unknown {
  while (s instanceof z.ZodOptional || s instanceof z.ZodDefault || s instanceof z.ZodPrefault)
    s = s.unwrap();
  if (!(s instanceof z.ZodDiscriminatedUnion)) return s;
  const key = s.def.discriminator;
  const tag = isRecord(value) ? value[key] : undefined;
  return s.options.find((o) => {
    const literal = o instanceof z.ZodObject ? o.shape[key] : undefined;
    return literal instanceof z.ZodLiteral && literal.values.has(tag as z.core.util.Literal);
  });
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

export function loadConfig(input: unknown, options: ParseOptions = {}): CutoverConfig {
  const result = parseConfig(input, options);
  if (!result.ok) throw new ConfigError(result.issues);
  return result.config;
}

/**
 * Parses an operator's configuration file (JSON), with the file's stricter rules; a syntax error is reported like
 * any other issue.
 */
export function parseConfigText(text: string): ParseResult {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return {
      ok: false,
      issues: [{ field: '(file)', message: `is not valid JSON: ${(err as Error).message}` }],
    };
  }
  return parseConfig(json, { file: true });
}
