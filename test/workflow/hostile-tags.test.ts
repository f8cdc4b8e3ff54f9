/**
 * Tag keys a cluster owner may choose that JavaScript treats specially (`__proto__`, `constructor`,
 * `toString`, …) are valid EKS tags. End to end, through the deployed definition, the real handlers and
 * the emulator's DynamoDB: such tags, on the cluster or in the TagResource that set them, neither jam the
 * ledger nor hide from the judgement, and the cluster opened to the internet is still reverted, once.
 */
import { readFileSync } from 'node:fs';
import { EKSClient, TagResourceCommand, UntagResourceCommand, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { parse } from 'yaml';
import { startEmulator, type Emulator, type EmulatorState } from '../../src/emulator';
import { manualClock } from '../../src/emulator/clock';
import { parsePolicy } from '../../src/policy';
import { startLocalGuard, type LocalGuard } from '../../src/local/local-guard';
import type { ExecutionRecord } from '../../src/local/runner';

const HOME = '111122223333';
const REGION = 'us-east-1';
const ARN = `arn:aws:eks:${REGION}:${HOME}:cluster/prod-api`;
const ODD_TAGS: Record<string, string> = JSON.parse('{"__proto__":"x","constructor":"y","toString":"z","hasOwnProperty":"w","___proto__":"v","_constructor":"u"}');
const policy = parsePolicy(readFileSync('test/fixtures/workflow/policy.yaml', 'utf8'));

type Harness = { emulator: Emulator; guard: LocalGuard; eks: EKSClient };

async function harness(tags: Record<string, string>, name = 'prod-api', judgedBy = policy): Promise<Harness> {
  const { startTime: _s, ...base } = parse(readFileSync('test/fixtures/workflow/world.yaml', 'utf8')) as Record<string, unknown>;
  const state = {
    ...base,
    accounts: [{ id: HOME }],
    clusters: [{ name, account: HOME, region: REGION, vpcId: 'vpc-0a1b2c3d4e5f60001', endpointPublicAccess: false, endpointPrivateAccess: true, tags }],
  } as unknown as EmulatorState;
  const emulator = await startEmulator({ state, clock: manualClock(Date.UTC(2026, 0, 1)) });
  const guard = await startLocalGuard({ emulator, policy: judgedBy, homeAccount: HOME, homeRegion: REGION });
  const eks = new EKSClient({ region: REGION, endpoint: emulator.url, credentials: emulator.credentialsFor(`arn:aws:iam::${HOME}:user/alice`), maxAttempts: 1 });
  return { emulator, guard, eks };
}

const openToInternet = (h: Harness) => h.eks.send(new UpdateClusterConfigCommand({ name: 'prod-api', resourcesVpcConfig: { endpointPublicAccess: true, publicAccessCidrs: ['0.0.0.0/0'] } }));
const enforcement = async (h: Harness): Promise<ExecutionRecord[]> => (await h.guard.processPending()).flatMap((d) => d.executions).filter((e) => e.input.trigger.kind !== 'recheck');
const outcomeAlerts = (h: Harness) => h.emulator.publishedMessages().filter((m) => (m.messageAttributes as Record<string, { StringValue?: string }>).kind?.StringValue === 'outcome');
const storedLedger = (h: Harness) => h.emulator.dynamodbTables().flatMap((t) => t.items as { pk: string; doc: { lastJudged?: { tags: Record<string, string> } | null } }[]).find((i) => i.pk === `${HOME}#${REGION}#prod-api`);

describe('tag keys JavaScript treats specially', () => {
  let h: Harness | undefined;
  afterEach(async () => {
    h?.eks.destroy();
    h?.guard.close();
    await h?.emulator.close();
    h = undefined;
  });

  it('on the cluster: the open endpoint is reverted once, and the ledger keeps every tag', async () => {
    h = await harness(ODD_TAGS);
    await openToInternet(h);

    const executions = await enforcement(h);

    expect(executions.map((e) => e.outcome)).toEqual(['remediated']);
    expect(executions[0]!.finalConfig).toMatchObject({ endpointPublicAccess: false, endpointPrivateAccess: true });
    expect(outcomeAlerts(h)).toHaveLength(1);
    const { tags } = (await h.guard.ledger.read({ account: HOME, region: REGION, name: 'prod-api' })).lastJudged!;
    expect(Object.entries(tags)).toEqual(Object.entries(ODD_TAGS));
    expect(storedLedger(h)).toBeDefined();
  });

  it('set by a TagResource just before the opening: both events are handled, the cluster is reverted', async () => {
    h = await harness({ team: 'web' });
    await h.eks.send(new TagResourceCommand({ resourceArn: ARN, tags: ODD_TAGS }));
    await openToInternet(h);

    const executions = await enforcement(h);

    expect(executions.map((e) => e.outcome)).toContain('remediated');
    expect(executions.every((e) => e.outcome !== 'failed')).toBe(true);
    expect(h.emulator.snapshot().clusters[0]!.config).toMatchObject({ endpointPublicAccess: false });
    const cluster = h.emulator.snapshot().clusters[0]!;
    expect(Object.keys(cluster.tags).sort()).toEqual(['team', ...Object.keys(ODD_TAGS)].sort());
    const ledger = await h.guard.ledger.read({ account: HOME, region: REGION, name: 'prod-api' });
    const tagged = ledger.changes.find((c) => c.eventName === 'TagResource')!;
    expect(Object.keys(tagged.tags!.set).sort()).toEqual(Object.keys(ODD_TAGS).sort());
  });

  // The ledger keeps 10 tags per change, and integer-like keys come first in any object's key order: the
  // tag that moved the rule must not hide behind ten others. A cluster never judged has no `before` to
  // compare with, so what the cut list cannot show counts as a policy tag.
  const TEN = Object.fromEntries(Array.from({ length: 10 }, (_, i) => [String(i), 'a']));
  const tiered = parsePolicy('version: 1\ndefaults: { publicAccess: unrestricted, privateAccess: optional }\nrules:\n  - name: tier-prod\n    match: { tags: { tier: prod } }\n    publicAccess: forbidden\n');
  it.each<[label: string, tags: Record<string, string>, judgedBy: typeof policy, call: (h: Harness, arn: string) => Promise<unknown>]>([
    ['one TagResource setting the rule tag with ten others', { guard: 'strict' }, policy, (h, arn) => h.eks.send(new TagResourceCommand({ resourceArn: arn, tags: { guard: 'alert', ...TEN } }))],
    ['one UntagResource removing the rule tag after ten others', { tier: 'prod' }, tiered, (h, arn) => h.eks.send(new UntagResourceCommand({ resourceArn: arn, tagKeys: [...Object.keys(TEN).map((k) => `a${k}`), 'tier'] }))],
  ])('%s: the loosening is still alerted', async (_label, tags, judgedBy, call) => {
    h = await harness(tags, 'team-x', judgedBy);
    await call(h, `arn:aws:eks:${REGION}:${HOME}:cluster/team-x`);

    await enforcement(h);

    const subjects = h.emulator.publishedMessages().map((m) => m.subject ?? '');
    expect(subjects.filter((s) => s.includes('team-x') && s.includes('LOOSENED'))).toHaveLength(1);
    const ledger = await h.guard.ledger.read({ account: HOME, region: REGION, name: 'team-x' });
    const tagChange = ledger.changes.find((c) => c.eventName === 'TagResource' || c.eventName === 'UntagResource')!;
    expect(tagChange.tags!.omitted).toBe(1);
  });
});
