import { type CutoverConfig, loadConfig } from '#core/config.js';

/**
 * The deployed functions get the validated configuration as JSON in CUTOVER_CONFIG (set by the CDK app from
 * the same file that `cutover config validate` checks). Read once per cold start; a bad value fails the
 * cold start with the field's name rather than deciding on a wrong configuration.
 */
let cached: CutoverConfig | undefined;
export function configFromEnv(env: NodeJS.ProcessEnv = process.env): CutoverConfig {
  if (cached && env === process.env) return cached;
  const raw = env.CUTOVER_CONFIG;
  if (!raw) throw new Error('CUTOVER_CONFIG is not set');
  const config = loadConfig(JSON.parse(raw));
  if (env === process.env) cached = config;
  return config;
}

export function requiredEnv(name: string, env: NodeJS.ProcessEnv = process.env): string {
  const value = env[name];
  if (!value) throw new Error(`${name} is not set`);
  return value;
}
