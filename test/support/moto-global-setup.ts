import type { TestProject } from 'vitest/node';
import { startMotoServer } from './moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

/** One moto_server for the aws tier: free port, in memory, stopped at the end. */
export default async function setup(project: TestProject) {
  const moto = await startMotoServer();
  // moto's Step Functions runs the ASL (its interpreter) only when asked; the callback tests need real tokens.
  const res = await fetch(`${moto.endpoint}/moto-api/config`, {
    method: 'POST',
    body: JSON.stringify({ stepfunctions: { execute_state_machine: true } }),
  });
  if (!res.ok) throw new Error(`moto refused its configuration: ${res.status} ${await res.text()}`);
  project.provide('motoEndpoint', moto.endpoint);
  return async () => {
    const failed = project.vitest.state.getCountOfFailedTests?.() ?? 0;
    if (failed > 0) console.error(`--- moto_server log (tests failed) ---\n${moto.log().slice(-5000)}`);
    await moto.stop();
  };
}
