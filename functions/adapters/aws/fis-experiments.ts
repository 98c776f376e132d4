import type { FaultExperiments } from '#core/gameday.js';

/**
 * AWS FIS for a game day: StartExperiment (with a client token, so a retried start is one experiment),
 * GetExperiment to watch it, StopExperiment on every way out (FIS API reference). moto does not serve FIS
 * experiments (only templates), so this is proved with the exact commands (test/api/fis-experiments.test.ts).
 *
 * `@aws-sdk/client-fis` is not a dependency yet: it is loaded only when a game day runs with `--fault fis`, by a
 * name TypeScript does not resolve, and its absence is a sentence saying what to install. The shapes below are the
 * few fields used.
 */
export interface FisCommandModule {
  FISClient: new (config: { region: string }) => FisClientLike;
  StartExperimentCommand: new (input: {
    clientToken: string;
    experimentTemplateId: string;
    tags?: Record<string, string>;
  }) => unknown;
  GetExperimentCommand: new (input: { id: string }) => unknown;
  StopExperimentCommand: new (input: { id: string }) => unknown;
}

export interface FisClientLike {
  send(
    command: unknown,
  ): Promise<{ experiment?: { id?: string; state?: { status?: string; reason?: string } } }>;
}

export class FisUnavailableError extends Error {
  constructor(cause: unknown) {
    super('--fault fis needs the AWS SDK for FIS: npm install @aws-sdk/client-fis (or use --fault health)', {
      cause,
    });
    this.name = 'FisUnavailableError';
  }
}

const FIS_MODULE = '@aws-sdk/client-fis';

/** Loads the FIS client module, or throws FisUnavailableError. */
export async function loadFisModule(): Promise<FisCommandModule> {
  try {
    return (await import(/* @vite-ignore */ FIS_MODULE)) as FisCommandModule;
  } catch (err) {
    throw new FisUnavailableError(err);
  }
}

export class FisExperiments implements FaultExperiments {
  private readonly client: FisClientLike;

  constructor(
    private readonly fis: FisCommandModule,
    region: string,
    client?: FisClientLike,
  ) {
    this.client = client ?? new fis.FISClient({ region });
  }

  async start(templateId: string, clientToken: string, tags: Record<string, string>) {
    const res = await this.client.send(
      new this.fis.StartExperimentCommand({ clientToken, experimentTemplateId: templateId, tags }),
    );
    const id = res.experiment?.id;
    if (!id) throw new Error(`FIS StartExperiment of ${templateId} answered no experiment id`);
    return { id, status: res.experiment?.state?.status ?? 'unknown' };
  }

  async status(id: string) {
    const res = await this.client.send(new this.fis.GetExperimentCommand({ id }));
    return {
      status: res.experiment?.state?.status ?? 'unknown',
      reason: res.experiment?.state?.reason ?? '',
    };
  }

  async stop(id: string): Promise<void> {
    await this.client.send(new this.fis.StopExperimentCommand({ id }));
  }
}
