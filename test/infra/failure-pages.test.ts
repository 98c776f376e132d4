import { Match } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CONFIGS, synth } from './support.js';

describe('Failover Failed, Failback Failed and an abort after the fence page the on-call', () => {
  it('a rule on each control region bus sends each event, as it is, to the alarm topic', () => {
    const { stacks, template } = synth(CONFIGS.example);
    expect(stacks.control.map((s) => s.region)).toEqual(['us-east-2', 'eu-central-1']);
    for (const stack of stacks.control) {
      const t = template(stack);
      for (const detailType of ['Failover Failed', 'Failback Failed']) {
        t.hasResourceProperties('AWS::Events::Rule', {
          EventBusName: { Ref: Match.stringLikeRegexp('^eventbus') },
          EventPattern: { source: ['cutover'], 'detail-type': [detailType] },
          // No input transformer: the page carries the whole event, step, error, cause and progress included.
          Targets: [
            Match.objectLike({
              Arn: { Ref: Match.stringLikeRegexp('^alarmstopic') },
              InputTransformer: Match.absent(),
              Input: Match.absent(),
            }),
          ],
        });
      }
      // An abort after the fence (traffic stopped, lease revoked, nothing promoted) ends in a Succeed state that no
      // execution metric counts: its event pages, on its fenced flag alone.
      const aborted = t.findResources('AWS::Events::Rule', {
        Properties: { EventPattern: { 'detail-type': Match.arrayWith(['Failover Aborted']) } },
      });
      expect(Object.values(aborted).map((r) => r.Properties.EventPattern)).toEqual([
        {
          source: ['cutover'],
          'detail-type': ['Failover Aborted', 'Failback Aborted'],
          detail: { fenced: [true] },
        },
      ]);
      t.hasResourceProperties('AWS::Events::Rule', {
        EventBusName: { Ref: Match.stringLikeRegexp('^eventbus') },
        EventPattern: { 'detail-type': ['Failover Aborted', 'Failback Aborted'] },
        Targets: [
          Match.objectLike({
            Arn: { Ref: Match.stringLikeRegexp('^alarmstopic') },
            InputTransformer: Match.absent(),
            Input: Match.absent(),
          }),
        ],
      });
      // EventBridge may publish to the topic: the SnsTopic target adds that to the topic policy.
      t.hasResourceProperties('AWS::SNS::TopicPolicy', {
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Action: 'sns:Publish', Principal: { Service: 'events.amazonaws.com' } }),
          ]),
        },
        Topics: [{ Ref: Match.stringLikeRegexp('^alarmstopic') }],
      });
    }
  });
});
