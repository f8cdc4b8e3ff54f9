import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { INTAKE_RULE_PATTERN, matchesIntakeRule } from '../../src/events/rule';
import { triageEvent } from '../../src/events/triage';

const FIXTURES = join(process.cwd(), 'test/fixtures/cloudtrail');
const fixture = (name: string): Record<string, any> => JSON.parse(readFileSync(join(FIXTURES, `${name}.json`), 'utf8'));

describe('INTAKE_RULE_PATTERN', () => {
  it('delivers exactly the EKS calls that triage supports', () => {
    const names = ['CreateCluster', 'UpdateClusterConfig', 'TagResource', 'UntagResource', 'DeleteCluster', 'CreateNodegroup', 'UpdateClusterVersion'];
    // A failed call: triage then says UNSUPPORTED_EVENT or CALL_FAILED without needing the call's body.
    const supported = names.filter((eventName) => {
      const event = fixture('update-access-denied');
      event.detail.eventName = eventName;
      return triageEvent(event, { selfRoleArns: [] }).reason !== 'UNSUPPORTED_EVENT';
    });

    expect([...INTAKE_RULE_PATTERN.detail.eventName].sort()).toEqual(supported.sort());
  });

  it.each<[string, boolean]>([
    ['update-endpoint-public-open', true],
    ['create-cluster-defaults', true],
    ['tag-cluster', true],
    ['untag-cluster-encoded-arn', true],
    ['tag-nodegroup', true],
    ['tag-cluster-by-guard-role', true],
    ['update-access-denied', false],
    ['tag-access-denied', false],
    ['not-eks-event', false],
    // A bare record has no EventBridge source: only an envelope can match.
    ['bare-record-update', false],
  ])('matches %s: %p', (name, matches) => {
    expect(matchesIntakeRule(fixture(name))).toBe(matches);
  });
});
