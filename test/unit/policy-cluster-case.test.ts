/**
 * Reading a DescribeCluster document whose keys are not in the usual camelCase: the PascalCase of the
 * Step Functions AWS SDK integration is read as the same fields; any other letter case of a field the
 * decision reads is refused with an InputError naming the key, never skipped (a skipped
 * `endpointPublicAccess` would be judged as the EKS default). Fields the decision does not read never
 * refuse a cluster, whatever their type.
 */
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { InputError } from '../../src/errors';
import { parseObservedCluster } from '../../src/policy';

const fixture = (file: string) => JSON.parse(readFileSync(new URL(`../fixtures/eks/${file}.json`, import.meta.url), 'utf8'));

/** The document with every key of the decision's fields turned to PascalCase, as Step Functions returns it. */
function pascalCase(doc: { cluster: Record<string, unknown> }) {
  const up = (k: string) => k.charAt(0).toUpperCase() + k.slice(1);
  const vpc = doc.cluster.resourcesVpcConfig as Record<string, unknown>;
  const c: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(doc.cluster)) c[up(k)] = k === 'resourcesVpcConfig' ? Object.fromEntries(Object.entries(vpc).map(([vk, vv]) => [up(vk), vv])) : v;
  return { Cluster: c };
}

function refusal(doc: unknown): string[] {
  try {
    parseObservedCluster(doc);
  } catch (err) {
    expect(err).toBeInstanceOf(InputError);
    return (err as InputError).problems;
  }
  throw new Error('accepted');
}

const vpcOf = (overrides: Record<string, unknown>) => ({
  cluster: { name: 'c1', arn: 'arn:aws:eks:eu-west-1:123456789012:cluster/c1', resourcesVpcConfig: { vpcId: 'vpc-1', ...overrides } },
});

describe('the PascalCase of the Step Functions SDK integration is read as the same fields', () => {
  it.each(['public-only-open', 'private-only', 'public-only-mixed', 'dual-stack-open', 'exempt-by-tag', 'public-no-cidrs-field'])('%s', (file) => {
    const doc = fixture(file);
    expect(parseObservedCluster(pascalCase(doc))).toEqual(parseObservedCluster(doc));
  });

  it('reads EndpointPublicAccess: false (not the default true) and EndpointPrivateAccess: true', () => {
    const observed = parseObservedCluster({ Cluster: { Name: 'c1', Arn: 'arn:aws:eks:eu-west-1:123456789012:cluster/c1', ResourcesVpcConfig: { EndpointPublicAccess: false, EndpointPrivateAccess: true, PublicAccessCidrs: ['203.0.113.0/24'] } } });
    expect(observed).toMatchObject({ name: 'c1', account: '123456789012', region: 'eu-west-1', config: { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] } });
  });

  it('accepts the bare PascalCase cluster object and a mix of the two cases', () => {
    expect(parseObservedCluster({ Name: 'c1', ResourcesVpcConfig: { EndpointPublicAccess: false, endpointPrivateAccess: true } }).config).toEqual({
      endpointPublicAccess: false,
      endpointPrivateAccess: true,
      publicAccessCidrs: ['0.0.0.0/0'],
    });
  });

  it('accepts both spellings of one field when they agree, refuses them when they differ', () => {
    expect(parseObservedCluster(vpcOf({ endpointPublicAccess: false, EndpointPublicAccess: false, endpointPrivateAccess: true })).config.endpointPublicAccess).toBe(false);
    const [problem, ...more] = refusal(vpcOf({ endpointPublicAccess: false, EndpointPublicAccess: true }));
    expect(more).toEqual([]);
    expect(problem).toContain('endpointPublicAccess');
    expect(problem).toContain('EndpointPublicAccess');
  });

  it('names the key as the document spells it when a PascalCase value has the wrong type', () => {
    const [problem] = refusal({ Cluster: { Name: 'c1', ResourcesVpcConfig: { EndpointPublicAccess: 'yes' } } });
    expect(problem).toMatch(/^Cluster\.ResourcesVpcConfig\.EndpointPublicAccess: /);
  });
});

describe('any other letter case of a field the decision reads is refused, naming the key', () => {
  it.each([
    ['endpointpublicaccess', { endpointpublicaccess: false }],
    ['ENDPOINTPUBLICACCESS', { ENDPOINTPUBLICACCESS: false }],
    ['endpointPublicaccess', { endpointPublicaccess: false }],
    ['endpointprivateaccess', { endpointprivateaccess: true }],
    ['publicaccesscidrs', { publicaccesscidrs: ['203.0.113.0/24'] }],
    ['PUBLICACCESSCIDRS', { PUBLICACCESSCIDRS: ['203.0.113.0/24'] }],
  ])('resourcesVpcConfig.%s', (key, fields) => {
    const problems = refusal(vpcOf(fields));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toContain(`cluster.resourcesVpcConfig.${key}`);
  });

  it.each([
    ['resourcesvpcconfig', { name: 'c1', resourcesvpcconfig: { endpointPublicAccess: false } }],
    ['NAME', { NAME: 'c1', resourcesVpcConfig: {} }],
    ['TAGS', { name: 'c1', TAGS: { env: 'prod' }, resourcesVpcConfig: {} }],
    ['aRN', { name: 'c1', aRN: 'arn:aws:eks:eu-west-1:123456789012:cluster/c1', resourcesVpcConfig: {} }],
  ])('cluster.%s', (key, cluster) => {
    expect(refusal({ cluster }).some((p) => p.startsWith(`cluster.${key}:`))).toBe(true);
  });

  it('a wrapper key in another case (CLUSTER) is refused too', () => {
    expect(refusal({ CLUSTER: { name: 'c1', resourcesVpcConfig: {} } }).some((p) => p.startsWith('CLUSTER:'))).toBe(true);
  });

  it('every problem of the document at once', () => {
    const problems = refusal(vpcOf({ endpointpublicaccess: false, PUBLICACCESSCIDRS: [], endpointPrivateAccess: 'on' }));
    expect(problems).toHaveLength(3);
  });

  it('property: each of the three endpoint fields in a random letter case is read (camel or Pascal) or refused (anything else)', () => {
    const fields = { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] } as const;
    const recase = (key: string) => fc.array(fc.boolean(), { minLength: key.length, maxLength: key.length }).map((ups) => [...key].map((ch, i) => (ups[i] ? ch.toUpperCase() : ch.toLowerCase())).join(''));
    fc.assert(
      fc.property(fc.tuple(...Object.keys(fields).map(recase)), (keys) => {
        const names = Object.keys(fields);
        const vpc = Object.fromEntries(keys.map((k, i) => [k, fields[names[i] as keyof typeof fields]]));
        const doc = { cluster: { name: 'c1', resourcesVpcConfig: { vpcId: 'vpc-1', ...vpc } } };
        const odd = keys.filter((k, i) => k !== names[i] && k !== names[i]!.charAt(0).toUpperCase() + names[i]!.slice(1));
        if (odd.length === 0) {
          expect(parseObservedCluster(doc)).toMatchObject({ vpcId: 'vpc-1', config: { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: ['203.0.113.0/24'] } });
        } else {
          const problems = refusal(doc);
          for (const k of odd) expect(problems.some((p) => p.includes(`resourcesVpcConfig.${k}:`))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('fields the decision does not read never refuse a cluster', () => {
  it.each([
    ['createdAt', { createdAt: 1736936430 }],
    ['version', { version: 1.31 }],
    ['platformVersion', { platformVersion: { major: 12 } }],
    ['logging', { logging: 'all' }],
    ['status', { status: 7 }],
    ['certificateAuthority', { certificateAuthority: null }],
    ['PascalCase extras', { CreatedAt: [], Version: false }],
    ['lower-case extras', { createdat: 1, platformversion: 2 }],
  ])('%s of an unexpected type', (_what, extra) => {
    const doc = fixture('public-only-open');
    Object.assign(doc.cluster, extra);
    const observed = parseObservedCluster(doc);
    expect(observed.config).toEqual({ endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] });
  });

  it('status and vpcId in an unexpected letter case are not read, and do not refuse the cluster', () => {
    const doc = fixture('public-only-open');
    delete doc.cluster.status;
    doc.cluster.STATUS = 'ACTIVE';
    doc.cluster.resourcesVpcConfig.VPCID = doc.cluster.resourcesVpcConfig.vpcId;
    delete doc.cluster.resourcesVpcConfig.vpcId;
    expect(parseObservedCluster(doc)).toMatchObject({ status: null, vpcId: null, config: { endpointPublicAccess: true } });
  });

  it('an unexpected status or vpcId type is reported as unknown (null), not refused', () => {
    const doc = fixture('public-only-open');
    doc.cluster.status = 3;
    doc.cluster.resourcesVpcConfig.vpcId = 42;
    doc.cluster.resourcesVpcConfig.subnetIds = 'subnet-1';
    expect(parseObservedCluster(doc)).toMatchObject({ status: null, vpcId: null });
  });
});
