import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  failbackOrder,
  MACHINE_STEPS,
  MACHINES,
  type Machine,
  placeholdersOf,
  STEP_FUNCTIONS,
  stepFunctions,
  stepOrder,
} from '#core/step-registry.js';
import { STEP_HANDLERS } from '#steps/core/task-handlers.js';

interface AslState {
  Type: string;
  Resource?: string;
  Parameters?: { FunctionName?: string; of?: string; Payload?: { kind?: string } };
  ResultPath?: string | null;
  Next?: string;
  Default?: string;
  Choices?: { Next: string }[];
  Catch?: { Next: string }[];
}
const asl = (m: Machine) =>
  (JSON.parse(readFileSync(`statemachines/${m}.asl.json`, 'utf8')) as { States: Record<string, AslState> })
    .States;
const placeholderOf = (s: AslState) =>
  /\$\{([A-Za-z0-9_]+)\}/.exec(s.Parameters?.FunctionName ?? s.Resource ?? '')?.[1];

describe.each(MACHINES)('the step registry and statemachines/%s.asl.json', (m) => {
  const states = asl(m);
  const tasks = Object.entries(states).filter(([, s]) => s.Type === 'Task');

  it('has every Task state of the machine, by name and placeholder, and no other', () => {
    const inAsl = tasks.map(([name, s]) => [name, placeholderOf(s)]).sort();
    const inRegistry = MACHINE_STEPS[m].map((t) => [t.state, t.placeholder]).sort();
    expect(inRegistry).toEqual(inAsl);
  });

  it('keeps each result where the state’s ResultPath puts it', () => {
    for (const t of MACHINE_STEPS[m]) {
      const path = states[t.state]!.ResultPath;
      if (t.replacesState) expect(path ?? '$', t.state).toBe('$');
      else expect(path, t.state).toBe(`$.${t.result}`);
    }
  });

  it('names the audit step an approval or a traffic poll records from the state’s own parameters', () => {
    for (const t of MACHINE_STEPS[m]) {
      const p = states[t.state]!.Parameters;
      if (t.placeholder === 'RequestApprovalFunctionName')
        expect(t.audit).toBe(`approval-${p?.Payload?.kind}`);
      if (t.placeholder === 'TrafficStatusFunctionArn') expect(t.audit).toBe(`${p?.of}-traffic-status`);
    }
  });

  it('lists the states in an order the machine can run them: each reachable from the one before', () => {
    const next = (s: AslState) => [
      s.Next,
      s.Default,
      ...(s.Choices ?? []).map((c) => c.Next),
      ...(s.Catch ?? []).map((c) => c.Next),
    ];
    const reachable = (from: string) => {
      const seen = new Set<string>();
      const todo = next(states[from]!);
      while (todo.length) {
        const n = todo.pop();
        if (!n || seen.has(n)) continue;
        seen.add(n);
        todo.push(...next(states[n]!));
      }
      return seen;
    };
    const ordered = MACHINE_STEPS[m].filter((t) => t.path !== 'end').map((t) => t.state);
    for (const [i, state] of ordered.slice(1).entries()) {
      expect(reachable(ordered[i]!).has(state), `${ordered[i]} → ${state}`).toBe(true);
    }
    expect(states[ordered.at(-1)!]!.Next).toBe('Completed');
  });
});

describe('what derives from the step registry', () => {
  it('binds every placeholder to a local handler, and every handler to a placeholder', () => {
    expect(Object.keys(STEP_HANDLERS).sort()).toEqual(Object.keys(STEP_FUNCTIONS).sort());
    const used = new Set(MACHINES.flatMap((m) => placeholdersOf(m)));
    expect(Object.keys(STEP_FUNCTIONS).filter((p) => !used.has(p as never))).toEqual([]);
  });

  it('deploys, as each Lambda, the entry that runs the same step as the local handler', () => {
    for (const f of stepFunctions()) {
      expect(existsSync(f.entry), f.entry).toBe(true);
      // The approval task waits for a token on AWS; locally its handler is the callback (approval.ts).
      if (f.placeholder === 'RequestApprovalFunctionName') continue;
      expect(readFileSync(f.entry, 'utf8'), f.entry).toContain(`${STEP_HANDLERS[f.placeholder].name}(event`);
    }
    expect(new Set(stepFunctions().map((f) => f.role)).size).toBe(stepFunctions().length);
  });

  it('gives the failback order every step a failback records progress under, traffic polls included', () => {
    expect(failbackOrder()).toEqual([
      'start',
      'preconditions',
      'approval-failback',
      'fence',
      'drain-replication',
      'hooks-before-promote',
      'promote',
      'promote-status',
      'grant-lease',
      'route-traffic',
      'route-traffic-status',
      'verify',
      'hooks-after-traffic',
      'approval-hook',
      'notify',
    ]);
    expect(stepOrder('failover')).toContain('stop-traffic-status');
  });
});
