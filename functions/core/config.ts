import { z } from 'zod';
import { crossFieldIssues } from './config-rules.js';
import { type ConfigIssue, type CutoverConfig, configShape } from './config-schema.js';

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

/** Validates a parsed JSON value; every problem is reported at once, each with the field it concerns. */
export function parseConfig(input: unknown): ParseResult {
  const shape = configShape.safeParse(input);
  if (shape.success) {
    const issues = crossFieldIssues(shape.data);
    return issues.length ? { ok: false, issues } : { ok: true, config: shape.data };
  }
  const issues = shape.error.issues.flatMap((i) => shapeIssues(i, input));
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
    issues.push(...crossFieldIssues(sections as CutoverConfig, (...keys) => keys.every((k) => valid.has(k))));
  }
  return { ok: false, issues };
}

/** A zod issue as the operator reads it; an unknown key is named itself, with the keys that would be valid. */
function shapeIssues(issue: z.core.$ZodIssue, input: unknown): ConfigIssue[] {
  if (issue.code !== 'unrecognized_keys') return [{ field: fieldName(issue.path), message: issue.message }];
  const known = knownKeys(configShape, issue.path, input);
  const hint = known.length ? `; valid fields here: ${known.join(', ')}` : '';
  return issue.keys.map((key) => ({
    field: fieldName([...issue.path, key]),
    message: `is not a known field${hint}`,
  }));
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

export function loadConfig(input: unknown): CutoverConfig {
  const result = parseConfig(input);
  if (!result.ok) throw new ConfigError(result.issues);
  return result.config;
}

/** Parses configuration text (JSON); a syntax error is reported like any other issue. */
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
  return parseConfig(json);
}
