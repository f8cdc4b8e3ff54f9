import fc from 'fast-check';
import { z } from 'zod';
import { findingId, subjectFromEvaluation, toAsffFinding, workflowUpdate, type FindingSubject } from '../../src/findings/asff';
import { evaluateCluster, parseObservedCluster } from '../../src/policy';
import { reportFindings } from '../../src/report/render/index';
import { A, B, described, NOW, policy, report } from '../fixtures/report/cases';

// The ASFF contract as Security Hub's BatchImportFindings documents it: the required top-level attributes,
// their formats and length limits. Written from the documentation, independently of the mapping.
const iso = z.string().regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/);
const NAMESPACES = ['Software and Configuration Checks', 'TTPs', 'Effects', 'Unusual Behaviors', 'Sensitive Data Identifications'];
const findingType = z.string().refine((t) => {
  const parts = t.split('/');
  return parts.length >= 1 && parts.length <= 3 && NAMESPACES.includes(parts[0]!);
}, 'Types must be namespace/category/classifier with a known namespace');
const asffSchema = z.looseObject({
  SchemaVersion: z.literal('2018-10-08'),
  Id: z.string().min(1).max(512),
  ProductArn: z.string().regex(/^arn:aws[a-z-]*:securityhub:[a-z0-9-]+:\d{12}:product\/\d{12}\/default$/),
  GeneratorId: z.string().min(1).max(512),
  AwsAccountId: z.string().regex(/^\d{12}$/),
  Types: z.array(findingType).min(1).max(50),
  CreatedAt: iso,
  UpdatedAt: iso,
  Severity: z.looseObject({ Label: z.enum(['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL']) }),
  Title: z.string().min(1).max(256),
  Description: z.string().min(1).max(1024),
  Resources: z
    .array(z.looseObject({ Type: z.string().min(1), Id: z.string().min(1), Partition: z.enum(['aws', 'aws-cn', 'aws-us-gov']).optional(), Region: z.string().optional() }))
    .min(1)
    .max(32),
  Compliance: z.looseObject({ Status: z.enum(['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE']) }).optional(),
  Workflow: z.looseObject({ Status: z.enum(['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED']) }).optional(),
  RecordState: z.enum(['ACTIVE', 'ARCHIVED']).optional(),
  Note: z.strictObject({ Text: z.string().min(1).max(512), UpdatedBy: z.string().min(1).max(512), UpdatedAt: iso }).optional(),
  Remediation: z.looseObject({ Recommendation: z.looseObject({ Text: z.string().max(512), Url: z.string().url().optional() }) }).optional(),
  ProductFields: z.record(z.string().max(128), z.string().max(2048)).refine((f) => Object.keys(f).length <= 50).optional(),
});

const valid = (finding: unknown) => {
  const parsed = asffSchema.safeParse(finding);
  if (!parsed.success) throw new Error(parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n'));
  expect(Buffer.byteLength(JSON.stringify(finding))).toBeLessThan(240 * 1024);
};

const byName = (name: string) => reportFindings(report()).find((f) => f.Resources[0]!.Id.endsWith(`/${name}`))!;

describe('ASFF findings of a report', () => {
  it('are valid ASFF, one per cluster and one per unreadable scope', () => {
    const findings = reportFindings(report());

    expect(findings).toHaveLength(6);
    for (const f of findings) valid(f);
    expect(new Set(findings.map((f) => f.Id)).size).toBe(6);
  });

  it.each([
    ['prod-web', 'violation', 'FAILED', 'NEW', 'HIGH'],
    ['prod-api', 'compliant', 'PASSED', 'RESOLVED', 'INFORMATIONAL'],
    ['legacy-billing', 'exempt', 'FAILED', 'SUPPRESSED', 'HIGH'],
    ['gone', 'error', 'NOT_AVAILABLE', 'NEW', 'LOW'],
  ])('%s (%s): Compliance %s, Workflow %s, severity %s', (name, verdict, compliance, workflow, severity) => {
    const f = byName(name);

    expect(f.ProductFields['eks-endpoint-guard/Verdict']).toBe(verdict.toUpperCase());
    expect(f.Compliance.Status).toBe(compliance);
    expect(f.Workflow.Status).toBe(workflow);
    expect(f.Severity.Label).toBe(severity);
    expect(f.FindingProviderFields.Severity.Label).toBe(severity);
  });

  it('names the cluster\'s own account and region (a finding is imported where the cluster is)', () => {
    const f = byName('legacy-billing');

    expect(f).toMatchObject({
      Id: `arn:aws:eks:us-east-1:${B}:cluster/legacy-billing/eks-endpoint-guard/endpoint`,
      ProductArn: `arn:aws:securityhub:us-east-1:${B}:product/${B}/default`,
      AwsAccountId: B,
      Region: 'us-east-1',
      CreatedAt: '2026-12-01T00:00:00.000Z',
      Resources: [
        {
          Type: 'AwsEksCluster',
          Id: `arn:aws:eks:us-east-1:${B}:cluster/legacy-billing`,
          Partition: 'aws',
          Region: 'us-east-1',
          Details: { AwsEksCluster: { Name: 'legacy-billing', Arn: `arn:aws:eks:us-east-1:${B}:cluster/legacy-billing`, ClusterStatus: 'ACTIVE', ResourcesVpcConfig: { EndpointPublicAccess: true } } },
        },
      ],
    });
  });

  it('puts the exemption\'s name, reason and expiry in the Note of a suppressed finding, and only there', () => {
    expect(byName('legacy-billing').Note).toEqual({
      Text: 'Exempt by policy exemption legacy-vpn until 2099-12-31: vendor VPN migration, ticket OPS-1234',
      UpdatedBy: 'eks-endpoint-guard',
      UpdatedAt: '2026-12-01T00:00:00.000Z',
    });
    expect(byName('prod-web').Note).toBeUndefined();
  });

  it('recommends the change the guard would make', () => {
    expect(byName('prod-web').Remediation.Recommendation.Text).toBe(
      'Set endpointPublicAccess=false, endpointPrivateAccess=true: aws eks update-cluster-config --region us-east-1 --name prod-web --resources-vpc-config endpointPublicAccess=false,endpointPrivateAccess=true',
    );
  });

  it('reports an account and region whose clusters could not be listed on the account itself', () => {
    const f = reportFindings(report()).at(-1)!;

    expect(f).toMatchObject({
      Id: 'arn:aws:eks:us-east-1:777788889999:eks-endpoint-guard/read-clusters',
      AwsAccountId: '777788889999',
      Resources: [{ Type: 'AwsAccount', Id: 'AWS::::Account:777788889999' }],
      Compliance: { Status: 'NOT_AVAILABLE' },
      Workflow: { Status: 'NEW' },
    });
  });
});

describe('toAsffFinding', () => {
  const subject = (over: Partial<FindingSubject> = {}): FindingSubject => ({
    account: A,
    region: 'cn-north-1',
    name: 'c',
    arn: `arn:aws-cn:eks:cn-north-1:${A}:cluster/c`,
    verdict: 'violation',
    status: 'ACTIVE',
    rule: null,
    observed: { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['198.51.100.0/24'] },
    tags: {},
    violations: [{ code: 'PUBLIC_CIDR_NOT_ALLOWED', cidr: '198.51.100.0/24', message: 'not allowed' }],
    exemption: null,
    target: null,
    error: null,
    ...over,
  });

  it('keeps one Id per cluster whatever the verdict, so a re-import updates the same finding', () => {
    const ids = (['violation', 'compliant', 'exempt', 'error'] as const).map((verdict) => toAsffFinding(subject({ verdict }), { observedAt: '2026-12-01T00:00:00.000Z' }).Id);

    expect(new Set(ids)).toEqual(new Set([findingId(`arn:aws-cn:eks:cn-north-1:${A}:cluster/c`)]));
  });

  it('uses the partition of the region, and MEDIUM for a violation that does not open the endpoint to the internet', () => {
    const f = toAsffFinding(subject(), { observedAt: '2026-12-01T00:00:00.000Z', createdAt: '2026-11-01T00:00:00.000Z', sourceUrl: 'https://example.com/x' });

    expect(f).toMatchObject({ ProductArn: `arn:aws-cn:securityhub:cn-north-1:${A}:product/${A}/default`, Severity: { Label: 'MEDIUM' }, CreatedAt: '2026-11-01T00:00:00.000Z', FirstObservedAt: '2026-11-01T00:00:00.000Z', SourceUrl: 'https://example.com/x' });
    expect(f.Resources[0]!.Partition).toBe('aws-cn');
  });

  it('stays valid ASFF whatever the cluster owner puts in tags and whatever the messages say (property)', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ minLength: 1, maxLength: 300 }), fc.string({ maxLength: 600 }), { maxKeys: 60 }),
        fc.array(fc.string({ maxLength: 2000 }), { maxLength: 5 }),
        fc.constantFrom('violation', 'compliant', 'exempt', 'error'),
        (tags, messages, verdict) => {
          const f = toAsffFinding(
            subject({
              tags,
              verdict: verdict as FindingSubject['verdict'],
              violations: messages.map((message) => ({ code: 'PUBLIC_CIDR_NOT_ALLOWED' as const, message })),
              exemption: verdict === 'exempt' ? { source: 'tag', name: 'x', reason: messages.join(' ') || 'r', expires: '2027-01-01' } : null,
              error: verdict === 'error' ? { code: 'E', message: messages.join(' ') } : null,
            }),
            { observedAt: '2026-12-01T00:00:00.000Z' },
          );
          valid(f);
          expect(Object.keys(f.Resources[0]!.Tags ?? {}).length).toBeLessThanOrEqual(50);
        },
      ),
      { numRuns: 50 },
    );
  });

  it('maps a single evaluation the same way (for the Security Hub integration)', () => {
    const observed = parseObservedCluster(described({ name: 'prod-web' }).description);
    const e = evaluateCluster(policy, observed, { now: NOW });

    const f = toAsffFinding(subjectFromEvaluation(e, { account: A, region: 'us-east-1', arn: observed.arn! }), { observedAt: '2026-12-01T00:00:00.000Z' });

    expect(f).toEqual(byName('prod-web'));
  });

  it('gives the BatchUpdateFindings entry that sets Workflow and Note on an existing finding', () => {
    const f = byName('legacy-billing');

    expect(workflowUpdate(f)).toEqual({
      FindingIdentifiers: [{ Id: f.Id, ProductArn: f.ProductArn }],
      Workflow: { Status: 'SUPPRESSED' },
      Note: { Text: f.Note!.Text, UpdatedBy: 'eks-endpoint-guard' },
    });
    expect(workflowUpdate(byName('prod-api'))).toEqual({ FindingIdentifiers: [expect.any(Object)], Workflow: { Status: 'RESOLVED' } });
  });
});
