import { describe, expect, it } from 'vitest';
import { type FisCommandModule, FisExperiments, loadFisModule } from '#adapters/aws/fis-experiments.js';

/**
 * The FIS adapter's exact commands. moto serves FIS experiment templates but not experiments, and
 * @aws-sdk/client-fis is not installed yet (so aws-sdk-client-mock has no client to mock): the module is given here
 * with command classes that keep their input, so each request is asserted as the SDK would receive it.
 */
function fakeFis(answers: Record<string, unknown>) {
  const sent: { command: string; input: unknown }[] = [];
  const command = (name: string) =>
    class {
      readonly name = name;
      constructor(readonly input: unknown) {}
    };
  const module: FisCommandModule = {
    FISClient: class {
      async send() {
        return {};
      }
    } as never,
    StartExperimentCommand: command('StartExperimentCommand'),
    GetExperimentCommand: command('GetExperimentCommand'),
    StopExperimentCommand: command('StopExperimentCommand'),
  };
  const client = {
    send: async (c: unknown) => {
      const { name, input } = c as { name: string; input: unknown };
      sent.push({ command: name, input });
      return answers[name] as never;
    },
  };
  return { module, client, sent };
}

describe('FIS experiments (exact commands)', () => {
  it('starts from the template with a client token and tags, reads the state, stops by id', async () => {
    const { module, client, sent } = fakeFis({
      StartExperimentCommand: { experiment: { id: 'EXPabc', state: { status: 'initiating' } } },
      GetExperimentCommand: {
        experiment: { id: 'EXPabc', state: { status: 'running', reason: 'Experiment is running.' } },
      },
      StopExperimentCommand: { experiment: { id: 'EXPabc', state: { status: 'stopping' } } },
    });
    const fis = new FisExperiments(module, 'us-east-1', client);
    expect(await fis.start('EXT1a2b3c4d5e6f7', 'gameday-orders-1', { application: 'orders' })).toEqual({
      id: 'EXPabc',
      status: 'initiating',
    });
    expect(await fis.status('EXPabc')).toEqual({ status: 'running', reason: 'Experiment is running.' });
    await fis.stop('EXPabc');
    expect(sent).toEqual([
      {
        command: 'StartExperimentCommand',
        input: {
          clientToken: 'gameday-orders-1',
          experimentTemplateId: 'EXT1a2b3c4d5e6f7',
          tags: { application: 'orders' },
        },
      },
      { command: 'GetExperimentCommand', input: { id: 'EXPabc' } },
      { command: 'StopExperimentCommand', input: { id: 'EXPabc' } },
    ]);
  });

  it('a start that answers no experiment id is an error, not a fault made', async () => {
    const { module, client } = fakeFis({ StartExperimentCommand: {} });
    await expect(new FisExperiments(module, 'us-east-1', client).start('EXT1', 't', {})).rejects.toThrow(
      'FIS StartExperiment of EXT1 answered no experiment id',
    );
  });

  it('without @aws-sdk/client-fis installed, says what to install', async () => {
    const loaded = await loadFisModule().then(
      () => 'installed',
      (err: Error) => `${err.name}: ${err.message}`,
    );
    expect([
      'installed',
      'FisUnavailableError: --fault fis needs the AWS SDK for FIS: npm install @aws-sdk/client-fis (or use --fault health)',
    ]).toContain(loaded);
  });
});
