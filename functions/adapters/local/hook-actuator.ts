import {
  type Hook,
  type HookActuator,
  HookError,
  type HookInvocation,
  type HookReading,
  hookTarget,
} from '#core/hooks.js';
import type { Clock } from '#core/ports.js';

/** One scalable thing in a region: an ECS service, an Auto Scaling group, a function's provisioned concurrency. */
interface LocalResource {
  desired: number;
  /** How many were ready when `desired` last changed, and when. */
  readyAtChange: number;
  changedAt: number;
}

/** A local function behind a `lambda` hook: answers the event, or throws as a function error would. */
export type LocalHookFunction = (event: Record<string, unknown>) => Promise<unknown>;

export interface LocalHookOptions {
  clock: Clock;
  /** Told of every call that reached a region (the drill's timeline). */
  onCall?: (call: { op: 'read' | 'apply' | 'invoke'; region: string; hook: string; detail: string }) => void;
  /** How long one unit (a task, an instance) takes to become ready or to stop: the drill compresses minutes. */
  unitMs: number;
  /** The functions of `lambda` hooks, by the hook's `function`. */
  functions?: Record<string, LocalHookFunction>;
}

/**
 * The drill's stand-in for ECS, Auto Scaling and Lambda behind the hooks' port: capacity moves toward its desired
 * value one unit every `unitMs`, like tasks being placed or instances launched; a region marked down refuses every
 * call, as the failed region does in an outage. Every call
 * goes to `calls`, so a drill and a test can check that a retried step never scaled twice.
 */
export class LocalHookActuator implements HookActuator {
  readonly calls: string[] = [];
  private readonly resources = new Map<string, LocalResource>();
  private readonly down = new Set<string>();

  constructor(private readonly opts: LocalHookOptions) {}

  /** Sets a resource's starting capacity, all of it ready (a warm standby at its idle size). */
  seed(hook: Hook, region: string, desired: number): void {
    this.resources.set(key(hook, region), {
      desired,
      readyAtChange: desired,
      changedAt: this.opts.clock.now(),
    });
  }

  /** The region stops answering (true) or answers again. */
  setDown(region: string, down = true): void {
    if (down) this.down.add(region);
    else this.down.delete(region);
  }

  async read(hook: Hook, region: string): Promise<HookReading> {
    await this.reachable(region);
    this.calls.push(`read ${region} ${hook.name}`);
    const r = this.resource(hook, region);
    const ready = this.ready(r);
    this.opts.onCall?.({ op: 'read', region, hook: hook.name, detail: `${ready} ready of ${r.desired}` });
    return {
      desired: r.desired,
      ready,
      ...(hook.kind === 'lambda-provisioned-concurrency'
        ? { status: ready === r.desired ? ('ready' as const) : ('pending' as const) }
        : {}),
      detail: `${ready} ready of ${r.desired} desired`,
    };
  }

  async apply(hook: Hook, region: string): Promise<{ detail: string }> {
    await this.reachable(region);
    const target = hookTarget(hook);
    if (target === null) throw new HookError(`${hook.name} is a lambda hook: it is invoked, not scaled`);
    this.calls.push(`apply ${region} ${hook.name} ${target}`);
    this.opts.onCall?.({ op: 'apply', region, hook: hook.name, detail: `desired ${target}` });
    const r = this.resource(hook, region);
    // What is ready now is where the move starts from, whichever way it goes.
    this.resources.set(key(hook, region), {
      desired: target,
      readyAtChange: this.ready(r),
      changedAt: this.opts.clock.now(),
    });
    return { detail: `${hook.name} desired ${target}` };
  }

  async invoke(hook: Hook, region: string, event: Record<string, unknown>): Promise<HookInvocation> {
    await this.reachable(region);
    if (hook.kind !== 'lambda')
      throw new HookError(`${hook.name} is a ${hook.kind} hook: it is scaled, not invoked`);
    this.calls.push(`invoke ${region} ${hook.function}`);
    this.opts.onCall?.({ op: 'invoke', region, hook: hook.name, detail: hook.function });
    const fn = this.opts.functions?.[hook.function];
    if (!fn) throw new HookError(`function ${hook.function} not found in ${region}`);
    try {
      return { ok: true, detail: JSON.stringify((await fn(event)) ?? null) };
    } catch (err) {
      return { ok: false, detail: `Unhandled: ${(err as Error).message}` };
    }
  }

  private resource(hook: Hook, region: string): LocalResource {
    const r = this.resources.get(key(hook, region));
    if (!r) throw new HookError(`${hook.kind} resource of hook ${hook.name} not found in ${region}`);
    return r;
  }

  private ready(r: LocalResource): number {
    const moved = Math.floor((this.opts.clock.now() - r.changedAt) / this.opts.unitMs);
    return r.desired >= r.readyAtChange
      ? Math.min(r.desired, r.readyAtChange + moved)
      : Math.max(r.desired, r.readyAtChange - moved);
  }

  private async reachable(region: string): Promise<void> {
    if (this.down.has(region)) {
      throw Object.assign(new Error(`connect ECONNREFUSED: ${region} does not answer`), {
        code: 'ECONNREFUSED',
      });
    }
  }
}

/** The resource a hook acts on: two hooks on one service (scale up, later down) share it. */
function key(hook: Hook, region: string): string {
  switch (hook.kind) {
    case 'ecs':
      return `${region}/ecs/${hook.cluster}/${hook.service}`;
    case 'autoscaling':
      return `${region}/autoscaling/${hook.groupName}`;
    case 'lambda-provisioned-concurrency':
      return `${region}/provisioned/${hook.functionName}:${hook.qualifier}`;
    case 'lambda':
      return `${region}/lambda/${hook.function}`;
  }
}
