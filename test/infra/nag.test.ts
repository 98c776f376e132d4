import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { describe, expect, it } from 'vitest';
import { type ConfigSource, SYNTH_MATRIX, synth } from './support.js';

/** Every acknowledgement recorded in the construct tree, with where it was made. */
function acknowledgements(config: ConfigSource): Array<{ path: string; id: string; reason: string }> {
  const { app } = synth(config);
  return app.node.findAll().flatMap((c) =>
    c.node.metadata
      .filter((m) => m.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      // The metadata maps "Annotation::<rule id>" to the reason.
      .flatMap((m) => Object.entries(m.data as Record<string, string>))
      .map(([id, reason]) => ({ path: c.node.path, id: id.replace(/^Annotation::/, ''), reason })),
  );
}

// Every configuration of the synthesis matrix: the three examples and the generated ones (support.ts).
describe.each(SYNTH_MATRIX)('cdk-nag AwsSolutions on the %s config', (_name, config) => {
  it('reports no unacknowledged finding', () => {
    const { app } = synth(config);
    const report = new AwsSolutionsChecks().validateScope(app);
    const findings = report.violations.map(
      (v) =>
        `${v.ruleName} (${v.severity}): ${v.violatingResources.map((r) => r.constructPath ?? r.resourceLogicalId).join(', ')}`,
    );
    expect(findings).toEqual([]);
    expect(report.success).toBe(true);
  });

  it('every acknowledgement names an AwsSolutions rule and states its reason', () => {
    const acks = acknowledgements(config);
    expect(acks.length).toBeGreaterThan(0);
    for (const a of acks) {
      expect(a.id, a.path).toMatch(/^AwsSolutions-[A-Z]+\d+/);
      expect(a.reason.length, `${a.path} ${a.id}`).toBeGreaterThan(40);
    }
  });
});
