/**
 * The emulator's Security Hub through the real SDK v3 client: BatchImportFindings creating and updating
 * findings (never duplicating an Id, keeping the triage fields, Security Hub's own workflow transitions),
 * BatchUpdateFindings, the per-finding and per-call refusals, a hub that is not enabled, GetFindings
 * filters and pages, faults.
 */
import {
  BatchImportFindingsCommand,
  BatchUpdateFindingsCommand,
  GetFindingsCommand,
  paginateGetFindings,
  SecurityHubClient,
  type AwsSecurityFinding,
  type AwsSecurityFindingFilters,
  type BatchUpdateFindingsCommandInput,
} from '@aws-sdk/client-securityhub';
import { parseEmulatorState, type Credentials, type Emulator } from '../../src/emulator';
import { ALICE, BOB, PROD, SANDBOX, demoState, rejectionOf, useDemoEmulator } from './helpers';

const REGION = 'us-east-1';
const PRODUCT = `arn:aws:securityhub:${REGION}:${PROD}:product/${PROD}/default`;
const T0 = '2026-01-01T00:00:00.000Z';
/** An ISO time `minutes` after T0: successive imports of a finding carry later UpdatedAt times. */
const at = (minutes: number) => new Date(Date.parse(T0) + minutes * 60_000).toISOString();

let emulator: Emulator;
const clients: SecurityHubClient[] = [];

useDemoEmulator((e) => (emulator = e));
afterAll(() => {
  for (const c of clients) c.destroy();
});

function hub(o: { credentials?: Credentials; region?: string } = {}): SecurityHubClient {
  const client = new SecurityHubClient({ endpoint: emulator.url, region: o.region ?? REGION, credentials: o.credentials ?? ALICE, maxAttempts: 1 });
  clients.push(client);
  return client;
}

/** A valid finding of PROD in us-east-1 under its default product ARN. */
function finding(id: string, o: Partial<AwsSecurityFinding> = {}): AwsSecurityFinding {
  return {
    SchemaVersion: '2018-10-08',
    Id: id,
    ProductArn: PRODUCT,
    GeneratorId: 'test/endpoint-policy',
    AwsAccountId: PROD,
    CreatedAt: T0,
    UpdatedAt: T0,
    Title: `finding ${id}`,
    Description: 'what the finding says',
    Types: ['Software and Configuration Checks/AWS Security Best Practices'],
    Severity: { Label: 'HIGH' },
    Resources: [{ Type: 'AwsEksCluster', Id: `arn:aws:eks:${REGION}:${PROD}:cluster/${id}` }],
    Compliance: { Status: 'FAILED' },
    ...o,
  };
}

async function importFindings(findings: AwsSecurityFinding[], client = hub()) {
  return client.send(new BatchImportFindingsCommand({ Findings: findings }));
}

async function update(input: Omit<BatchUpdateFindingsCommandInput, 'FindingIdentifiers'> & { ids: string[] }, client = hub()) {
  const { ids, ...rest } = input;
  return client.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: ids.map((Id) => ({ Id, ProductArn: PRODUCT })), ...rest }));
}

const stored = (id: string) => emulator.findings(PROD, REGION).find((f) => f.Id === id);

describe('BatchImportFindings', () => {
  it('creates a finding with the defaults Security Hub fills in', async () => {
    const out = await importFindings([finding('a')]);

    expect(out).toMatchObject({ SuccessCount: 1, FailedCount: 0, FailedFindings: [] });
    const { Findings } = await hub().send(new GetFindingsCommand({}));
    expect(Findings).toHaveLength(1);
    expect(Findings![0]).toMatchObject({
      Id: 'a',
      AwsAccountId: PROD,
      Region: REGION,
      Workflow: { Status: 'NEW' },
      RecordState: 'ACTIVE',
      Severity: { Label: 'HIGH', Normalized: 70 },
      FindingProviderFields: { Severity: { Label: 'HIGH' }, Types: ['Software and Configuration Checks/AWS Security Best Practices'] },
      ProcessedAt: new Date(emulator.clock.now()).toISOString(),
    });
  });

  it('takes a new finding\'s Workflow.Status and Note from the import', async () => {
    const note = { Text: 'exempt until June', UpdatedBy: 'guard', UpdatedAt: T0 };

    await importFindings([finding('suppressed', { Workflow: { Status: 'SUPPRESSED' }, Note: note })]);

    expect(stored('suppressed')).toMatchObject({ Workflow: { Status: 'SUPPRESSED' }, Note: note });
  });

  it('updates a finding imported again with the same Id, keeping its first CreatedAt and FirstObservedAt', async () => {
    await importFindings([finding('a', { FirstObservedAt: T0 })]);
    emulator.clock.advance(60_000);

    const out = await importFindings([finding('a', { Title: 'changed', CreatedAt: at(5), FirstObservedAt: at(5), UpdatedAt: at(5), Severity: { Label: 'LOW' } })]);

    expect(out.SuccessCount).toBe(1);
    const findings = emulator.findings(PROD, REGION);
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ Title: 'changed', CreatedAt: T0, FirstObservedAt: T0, UpdatedAt: at(5), Severity: { Label: 'LOW', Normalized: 1 }, ProcessedAt: new Date(emulator.clock.now()).toISOString() });
  });

  it('refuses a finding under a product ARN other than the account\'s default one', async () => {
    // The only product ARN an account may import under is its own default one, so an Id is unique per hub.
    const foreign = `arn:aws:securityhub:${REGION}::product/aws/guardduty`;

    const out = await importFindings([finding('a'), finding('a', { ProductArn: foreign })]);

    expect(out).toMatchObject({ SuccessCount: 1, FailedCount: 1 });
    expect(out.FailedFindings).toEqual([{ Id: 'a', ErrorCode: 'AccessDeniedException', ErrorMessage: expect.stringContaining(`this account and region import under ${PRODUCT}`) }]);
    expect(emulator.findings()).toHaveLength(1);
  });

  it('keeps Workflow and Note when a finding is imported again: only BatchUpdateFindings changes them', async () => {
    await importFindings([finding('a')]);
    await update({ ids: ['a'], Workflow: { Status: 'SUPPRESSED' }, Note: { Text: 'accepted risk', UpdatedBy: 'alice' } });

    await importFindings([finding('a', { UpdatedAt: at(1), Workflow: { Status: 'NEW' }, Note: { Text: 'from the provider', UpdatedBy: 'guard', UpdatedAt: at(1) } })]);

    expect(stored('a')).toMatchObject({ UpdatedAt: at(1), Workflow: { Status: 'SUPPRESSED' }, Note: { Text: 'accepted risk', UpdatedBy: 'alice' } });
  });

  it('ignores an import older than the stored finding, counting it as a success', async () => {
    await importFindings([finding('a', { UpdatedAt: at(10), Title: 'newer' })]);

    const out = await importFindings([finding('a', { UpdatedAt: at(5), Title: 'older' })]);

    expect(out).toMatchObject({ SuccessCount: 1, FailedCount: 0 });
    expect(stored('a')).toMatchObject({ Title: 'newer', UpdatedAt: at(10) });
  });

  it('leaves a severity set through BatchUpdateFindings alone on later imports', async () => {
    await importFindings([finding('a')]);
    await update({ ids: ['a'], Severity: { Label: 'CRITICAL' } });

    await importFindings([finding('a', { UpdatedAt: at(1), Severity: { Label: 'LOW' }, Title: 'changed' })]);

    expect(stored('a')).toMatchObject({ Title: 'changed', Severity: { Label: 'CRITICAL', Normalized: 90 } });
  });

  describe('Security Hub\'s own workflow transitions on import', () => {
    type Compliance = 'PASSED' | 'FAILED' | 'WARNING' | 'NOT_AVAILABLE';
    // Workflow status before, compliance of the first and the second import, workflow status after.
    it.each<[string, Compliance, Compliance, string]>([
      ['NEW', 'FAILED', 'PASSED', 'RESOLVED'],
      ['NOTIFIED', 'FAILED', 'PASSED', 'RESOLVED'],
      ['RESOLVED', 'PASSED', 'FAILED', 'NEW'],
      ['RESOLVED', 'PASSED', 'WARNING', 'NEW'],
      ['RESOLVED', 'PASSED', 'NOT_AVAILABLE', 'NEW'],
      ['NOTIFIED', 'PASSED', 'FAILED', 'NEW'],
      ['SUPPRESSED', 'FAILED', 'PASSED', 'SUPPRESSED'],
      ['SUPPRESSED', 'PASSED', 'FAILED', 'SUPPRESSED'],
      ['NEW', 'FAILED', 'FAILED', 'NEW'],
      // Resolved by hand while failing: only a change away from PASSED reopens a finding.
      ['RESOLVED', 'FAILED', 'FAILED', 'RESOLVED'],
    ])('%s, compliance %s then %s: %s', async (before, first, second, after) => {
      await importFindings([finding('a', { Compliance: { Status: first } })]);
      await update({ ids: ['a'], Workflow: { Status: before as 'NEW' } });

      await importFindings([finding('a', { UpdatedAt: at(1), Compliance: { Status: second } })]);

      expect(stored('a')!.Workflow.Status).toBe(after);
    });

    it('reopens a resolved finding whose RecordState goes from ARCHIVED back to ACTIVE', async () => {
      await importFindings([finding('a', { RecordState: 'ARCHIVED' })]);
      await update({ ids: ['a'], Workflow: { Status: 'RESOLVED' } });

      await importFindings([finding('a', { UpdatedAt: at(1), RecordState: 'ACTIVE' })]);

      expect(stored('a')).toMatchObject({ RecordState: 'ACTIVE', Workflow: { Status: 'NEW' } });
    });
  });

  it('fails a finding of another account alone, with AccessDeniedException, and imports the rest', async () => {
    const out = await importFindings([finding('mine'), finding('theirs', { AwsAccountId: SANDBOX })]);

    expect(out).toMatchObject({ SuccessCount: 1, FailedCount: 1 });
    expect(out.FailedFindings).toEqual([{ Id: 'theirs', ErrorCode: 'AccessDeniedException', ErrorMessage: expect.stringContaining(`AwsAccountId ${SANDBOX} is not the account ${PROD}`) }]);
    expect(emulator.findings().map((f) => f.Id)).toEqual(['mine']);
  });

  it('fails a finding under another account\'s product ARN, even when AwsAccountId is the caller\'s', async () => {
    const out = await importFindings([finding('a', { ProductArn: `arn:aws:securityhub:${REGION}:${SANDBOX}:product/${SANDBOX}/default` })]);

    expect(out.FailedFindings).toEqual([{ Id: 'a', ErrorCode: 'AccessDeniedException', ErrorMessage: expect.stringContaining('is not authorized to import findings') }]);
  });

  it('fails a finding of another region\'s product ARN: a hub imports under its own region\'s', async () => {
    const out = await importFindings([finding('a')], hub({ region: 'eu-west-1' }));

    expect(out.FailedFindings?.map((f) => f.ErrorCode)).toEqual(['AccessDeniedException']);
  });

  const REQUIRED = ['SchemaVersion', 'Id', 'ProductArn', 'GeneratorId', 'AwsAccountId', 'CreatedAt', 'UpdatedAt', 'Title', 'Description', 'Resources', 'Types', 'Severity'] as const;

  it.each(REQUIRED)('fails a finding without %s alone, with InvalidInput naming the field', async (field) => {
    const broken: Record<string, unknown> = { ...finding('broken') };
    delete broken[field];

    const out = await importFindings([finding('ok'), broken as unknown as AwsSecurityFinding]);

    expect(out).toMatchObject({ SuccessCount: 1, FailedCount: 1 });
    expect(out.FailedFindings![0]).toMatchObject({ ErrorCode: 'InvalidInput', ErrorMessage: expect.stringContaining(`${field}`) });
    expect(out.FailedFindings![0]!.ErrorMessage).toContain('required');
  });

  it.each([
    ['Types', { Types: undefined, FindingProviderFields: { Types: ['Effects/Data Exposure'] } }, { Types: ['Effects/Data Exposure'] }],
    ['Severity', { Severity: undefined, FindingProviderFields: { Severity: { Label: 'MEDIUM' as const } } }, { Severity: { Label: 'MEDIUM', Normalized: 40 } }],
  ])('accepts FindingProviderFields in place of top-level %s, and copies it up', async (_field, overrides, expected) => {
    const out = await importFindings([finding('a', overrides)]);

    expect(out.FailedCount).toBe(0);
    expect(stored('a')).toMatchObject(expected);
  });

  it.each([
    ['a wrong schema version', { SchemaVersion: '2020-01-01' }, 'SchemaVersion must be 2018-10-08'],
    ['an unknown severity label', { Severity: { Label: 'SEVERE' as 'HIGH' } }, 'Severity.Label must be one of'],
    ['an unknown workflow status', { Workflow: { Status: 'DONE' as 'NEW' } }, 'Workflow.Status must be one of'],
    ['a title over 256 characters', { Title: 'x'.repeat(257) }, 'Title must be at most 256 characters'],
    ['no resources', { Resources: [] }, 'Resources is required'],
    ['a CreatedAt that is no timestamp', { CreatedAt: 'yesterday' }, 'CreatedAt must be an ISO 8601 timestamp'],
  ])('fails a finding with %s', async (_what, overrides, message) => {
    const out = await importFindings([finding('a', overrides)]);

    expect(out.FailedFindings).toEqual([{ Id: 'a', ErrorCode: 'InvalidInput', ErrorMessage: expect.stringContaining(message) }]);
    expect(emulator.findings()).toEqual([]);
  });

  it.each([
    ['more than 100 findings', () => Array.from({ length: 101 }, (_, i) => finding(`f-${i}`)), 'at most 100 findings'],
    ['no finding', () => [], 'Findings is required'],
    ['more than 240 KB', () => Array.from({ length: 3 }, (_, i) => finding(`big-${i}`, { Description: 'x'.repeat(1000), ProductFields: { blob: 'y'.repeat(90_000) } })), 'at most 245760 bytes'],
  ])('refuses a request with %s as a whole, importing nothing', async (_what, findings, message) => {
    const err = await rejectionOf(importFindings(findings()));

    expect(err).toMatchObject({ name: 'InvalidInputException', message: expect.stringContaining(message) });
    expect(err.$metadata?.httpStatusCode).toBe(400);
    expect(emulator.findings()).toEqual([]);
  });

  it('imports exactly 100 findings in one call', async () => {
    const out = await importFindings(Array.from({ length: 100 }, (_, i) => finding(`f-${i}`)));

    expect(out).toMatchObject({ SuccessCount: 100, FailedCount: 0 });
    expect(emulator.findings(PROD, REGION)).toHaveLength(100);
  });
});

describe('BatchUpdateFindings', () => {
  it('suppresses a finding with a note, stamped with the emulator\'s time, without touching UpdatedAt', async () => {
    await importFindings([finding('a'), finding('b')]);
    emulator.clock.advance(3_600_000);

    const out = await update({ ids: ['a'], Workflow: { Status: 'SUPPRESSED' }, Note: { Text: 'exempt: migration window', UpdatedBy: 'eks-endpoint-guard' } });

    expect(out).toMatchObject({ ProcessedFindings: [{ Id: 'a', ProductArn: PRODUCT }], UnprocessedFindings: [] });
    expect(stored('a')).toMatchObject({
      UpdatedAt: T0,
      Workflow: { Status: 'SUPPRESSED' },
      Note: { Text: 'exempt: migration window', UpdatedBy: 'eks-endpoint-guard', UpdatedAt: new Date(emulator.clock.now()).toISOString() },
    });
    expect(stored('b')).toMatchObject({ Workflow: { Status: 'NEW' } });
    expect(stored('b')!.Note).toBeUndefined();
    const { Findings } = await hub().send(new GetFindingsCommand({ Filters: { WorkflowStatus: [{ Value: 'SUPPRESSED', Comparison: 'EQUALS' }] } }));
    expect(Findings?.map((f) => [f.Id, f.Note?.Text])).toEqual([['a', 'exempt: migration window']]);
  });

  it('reports unknown and duplicated identifiers in UnprocessedFindings and updates the rest', async () => {
    await importFindings([finding('a'), finding('b')]);

    const out = await update({ ids: ['a', 'missing', 'b', 'b'], Workflow: { Status: 'NOTIFIED' } });

    expect(out.ProcessedFindings).toEqual([{ Id: 'a', ProductArn: PRODUCT }]);
    expect(out.UnprocessedFindings).toEqual([
      { FindingIdentifier: { Id: 'missing', ProductArn: PRODUCT }, ErrorCode: 'FindingNotFound', ErrorMessage: expect.stringContaining(`account ${PROD}, region ${REGION}`) },
      { FindingIdentifier: { Id: 'b', ProductArn: PRODUCT }, ErrorCode: 'DuplicatedFindingIdentifier', ErrorMessage: expect.any(String) },
      { FindingIdentifier: { Id: 'b', ProductArn: PRODUCT }, ErrorCode: 'DuplicatedFindingIdentifier', ErrorMessage: expect.any(String) },
    ]);
    expect([stored('a')!.Workflow.Status, stored('b')!.Workflow.Status]).toEqual(['NOTIFIED', 'NEW']);
  });

  it('does not reach another account\'s findings: they are not found in the caller\'s hub', async () => {
    await importFindings([finding('a')]);

    const out = await update({ ids: ['a'], Workflow: { Status: 'SUPPRESSED' } }, hub({ credentials: BOB }));

    expect(out.UnprocessedFindings?.map((u) => u.ErrorCode)).toEqual(['FindingNotFound']);
    expect(stored('a')!.Workflow.Status).toBe('NEW');
  });

  it.each<[string, Omit<BatchUpdateFindingsCommandInput, 'FindingIdentifiers'> & { ids: string[] }, string]>([
    ['more than 100 identifiers', { ids: Array.from({ length: 101 }, (_, i) => `f-${i}`), Workflow: { Status: 'NEW' } }, 'at most 100 findings'],
    ['nothing to update', { ids: ['a'] }, 'updates nothing'],
    ['a note without UpdatedBy', { ids: ['a'], Note: { Text: 'why', UpdatedBy: '' } }, 'Note needs Text and UpdatedBy'],
    ['an unknown workflow status', { ids: ['a'], Workflow: { Status: 'DONE' as 'NEW' } }, 'Workflow.Status must be one of'],
  ])('refuses a request with %s as a whole', async (_what, input, message) => {
    await importFindings([finding('a')]);

    const err = await rejectionOf(update(input));

    expect(err).toMatchObject({ name: 'InvalidInputException', message: expect.stringContaining(message) });
    expect(stored('a')!.Workflow.Status).toBe('NEW');
  });
});

describe('a hub that is not enabled', () => {
  beforeEach(() => emulator.loadState(parseEmulatorState({ ...demoState(), securityHub: { hubs: [{ account: PROD, region: REGION }] } }, 'state')));

  it.each([
    ['BatchImportFindings', (c: SecurityHubClient) => c.send(new BatchImportFindingsCommand({ Findings: [finding('a', { AwsAccountId: SANDBOX })] }))],
    ['GetFindings', (c: SecurityHubClient) => c.send(new GetFindingsCommand({}))],
    ['BatchUpdateFindings', (c: SecurityHubClient) => c.send(new BatchUpdateFindingsCommand({ FindingIdentifiers: [{ Id: 'a', ProductArn: PRODUCT }], Workflow: { Status: 'NEW' } }))],
  ])('refuses %s with InvalidAccessException naming the account', async (_op, call) => {
    const err = await rejectionOf(call(hub({ credentials: BOB })));

    expect(err).toMatchObject({ name: 'InvalidAccessException', message: `Account ${SANDBOX} is not subscribed to AWS Security Hub` });
    expect(err.$metadata?.httpStatusCode).toBe(401);
  });

  it('is enabled per region: the listed hub works, another region of the same account does not', async () => {
    await expect(importFindings([finding('a')])).resolves.toMatchObject({ SuccessCount: 1 });

    const err = await rejectionOf(hub({ region: 'eu-west-1' }).send(new GetFindingsCommand({})));

    expect(err.name).toBe('InvalidAccessException');
    expect(emulator.snapshot().securityHub.enabled).toEqual([{ account: PROD, region: REGION }]);
  });

  it.each([
    ['an undeclared account', { hubs: [{ account: '999999999999', region: REGION }] }, 'securityHub.hubs[0].account: account 999999999999 is not declared in accounts'],
    ['a hub declared twice', { hubs: [{ account: PROD, region: REGION }, { account: PROD, region: REGION }] }, `securityHub.hubs[1]: Security Hub is declared twice in ${PROD} ${REGION}`],
  ])('refuses a state with %s', (_what, securityHub, problem) => {
    expect(() => parseEmulatorState({ ...demoState(), securityHub }, 'state')).toThrow(problem);
  });
});

describe('GetFindings', () => {
  const EU = 'eu-west-1';
  beforeEach(async () => {
    await importFindings([
      finding('cluster/prod-api', { Severity: { Label: 'HIGH' }, Compliance: { Status: 'FAILED' } }),
      finding('cluster/prod-payments', { Severity: { Label: 'INFORMATIONAL' }, Compliance: { Status: 'PASSED' }, GeneratorId: 'other/generator' }),
      finding('account/read-clusters', { Severity: { Label: 'LOW' }, Compliance: { Status: 'NOT_AVAILABLE' }, Resources: [{ Type: 'AwsAccount', Id: `AWS::::Account:${PROD}` }] }),
    ]);
    await update({ ids: ['cluster/prod-payments'], Workflow: { Status: 'RESOLVED' } });
  });

  it.each<[string, AwsSecurityFindingFilters, string[]]>([
    ['no filter', {}, ['cluster/prod-api', 'cluster/prod-payments', 'account/read-clusters']],
    ['Id EQUALS', { Id: [{ Value: 'cluster/prod-api', Comparison: 'EQUALS' }] }, ['cluster/prod-api']],
    ['Id PREFIX', { Id: [{ Value: 'cluster/', Comparison: 'PREFIX' }] }, ['cluster/prod-api', 'cluster/prod-payments']],
    ['Id NOT_EQUALS', { Id: [{ Value: 'cluster/prod-api', Comparison: 'NOT_EQUALS' }] }, ['cluster/prod-payments', 'account/read-clusters']],
    ['two EQUALS on a field are joined by OR', { Id: [{ Value: 'cluster/prod-api', Comparison: 'EQUALS' }, { Value: 'account/read-clusters', Comparison: 'EQUALS' }] }, ['cluster/prod-api', 'account/read-clusters']],
    ['PREFIX then NOT_EQUALS on a field', { Id: [{ Value: 'cluster/', Comparison: 'PREFIX' }, { Value: 'cluster/prod-api', Comparison: 'NOT_EQUALS' }] }, ['cluster/prod-payments']],
    ['AwsAccountId EQUALS', { AwsAccountId: [{ Value: PROD, Comparison: 'EQUALS' }] }, ['cluster/prod-api', 'cluster/prod-payments', 'account/read-clusters']],
    ['AwsAccountId of another account', { AwsAccountId: [{ Value: SANDBOX, Comparison: 'EQUALS' }] }, []],
    ['Region EQUALS', { Region: [{ Value: REGION, Comparison: 'EQUALS' }] }, ['cluster/prod-api', 'cluster/prod-payments', 'account/read-clusters']],
    ['ResourceId EQUALS', { ResourceId: [{ Value: `arn:aws:eks:${REGION}:${PROD}:cluster/cluster/prod-api`, Comparison: 'EQUALS' }] }, ['cluster/prod-api']],
    ['ResourceType EQUALS', { ResourceType: [{ Value: 'AwsAccount', Comparison: 'EQUALS' }] }, ['account/read-clusters']],
    ['ResourceType PREFIX', { ResourceType: [{ Value: 'AwsEks', Comparison: 'PREFIX' }] }, ['cluster/prod-api', 'cluster/prod-payments']],
    ['GeneratorId NOT_EQUALS', { GeneratorId: [{ Value: 'test/endpoint-policy', Comparison: 'NOT_EQUALS' }] }, ['cluster/prod-payments']],
    ['ComplianceStatus EQUALS', { ComplianceStatus: [{ Value: 'FAILED', Comparison: 'EQUALS' }] }, ['cluster/prod-api']],
    ['WorkflowStatus EQUALS', { WorkflowStatus: [{ Value: 'RESOLVED', Comparison: 'EQUALS' }] }, ['cluster/prod-payments']],
    ['WorkflowStatus NOT_EQUALS', { WorkflowStatus: [{ Value: 'RESOLVED', Comparison: 'NOT_EQUALS' }] }, ['cluster/prod-api', 'account/read-clusters']],
    ['RecordState EQUALS', { RecordState: [{ Value: 'ARCHIVED', Comparison: 'EQUALS' }] }, []],
    ['SeverityLabel EQUALS', { SeverityLabel: [{ Value: 'LOW', Comparison: 'EQUALS' }] }, ['account/read-clusters']],
    ['fields are joined by AND', { ResourceType: [{ Value: 'AwsEksCluster', Comparison: 'EQUALS' }], SeverityLabel: [{ Value: 'INFORMATIONAL', Comparison: 'EQUALS' }] }, ['cluster/prod-payments']],
  ])('filters: %s', async (_what, Filters, ids) => {
    const { Findings } = await hub().send(new GetFindingsCommand({ Filters }));

    expect(Findings?.map((f) => f.Id)).toEqual(ids);
  });

  it.each<[string, AwsSecurityFindingFilters, string]>([
    ['EQUALS with NOT_EQUALS on one field', { Id: [{ Value: 'a', Comparison: 'EQUALS' }, { Value: 'b', Comparison: 'NOT_EQUALS' }] }, 'cannot be combined'],
    ['a filter the emulator does not implement', { CreatedAt: [{ DateRange: { Value: 1, Unit: 'DAYS' } }] }, 'does not implement the filter CreatedAt'],
  ])('refuses %s', async (_what, Filters, message) => {
    const err = await rejectionOf(hub().send(new GetFindingsCommand({ Filters })));

    expect(err).toMatchObject({ name: 'InvalidInputException', message: expect.stringContaining(message) });
  });

  it('shows a hub\'s findings only: not to another region or another account', async () => {
    const [eu, sandbox] = await Promise.all([hub({ region: EU }).send(new GetFindingsCommand({})), hub({ credentials: BOB }).send(new GetFindingsCommand({}))]);

    expect([eu.Findings, sandbox.Findings]).toEqual([[], []]);
    expect(emulator.findings(PROD, EU)).toEqual([]);
    expect(emulator.findings(SANDBOX)).toEqual([]);
    expect(emulator.snapshot().securityHub.findings.map((f) => [f.account, f.region, f.finding.Id])).toEqual([
      [PROD, REGION, 'cluster/prod-api'],
      [PROD, REGION, 'cluster/prod-payments'],
      [PROD, REGION, 'account/read-clusters'],
    ]);
  });
});

describe('GetFindings pages', () => {
  const ids = Array.from({ length: 250 }, (_, i) => `f-${String(i).padStart(3, '0')}`);
  beforeEach(async () => {
    for (let i = 0; i < ids.length; i += 100) await importFindings(ids.slice(i, i + 100).map((id) => finding(id)));
  });

  it('pages through every finding once, in creation order, MaxResults at a time', async () => {
    const pages: string[][] = [];
    for await (const page of paginateGetFindings({ client: hub(), pageSize: 100 }, {})) pages.push(page.Findings!.map((f) => f.Id!));

    expect(pages.map((p) => p.length)).toEqual([100, 100, 50]);
    expect(pages.flat()).toEqual(ids);
  });

  it('returns 100 findings by default, with a NextToken for the rest', async () => {
    const first = await hub().send(new GetFindingsCommand({}));

    expect(first.Findings).toHaveLength(100);
    expect(first.NextToken).toEqual(expect.any(String));
    const second = await hub().send(new GetFindingsCommand({ NextToken: first.NextToken }));
    expect(second.Findings?.map((f) => f.Id)).toEqual(ids.slice(100, 200));
    const last = await hub().send(new GetFindingsCommand({ NextToken: second.NextToken, MaxResults: 60 }));
    expect(last.Findings?.map((f) => f.Id)).toEqual(ids.slice(200));
    expect(last.NextToken).toBeUndefined();
  });

  it.each([
    ['MaxResults 0', { MaxResults: 0 }, 'MaxResults must be an integer from 1 to 100'],
    ['MaxResults 101', { MaxResults: 101 }, 'MaxResults must be an integer from 1 to 100'],
    ['a NextToken it did not issue', { NextToken: 'not-a-token' }, 'The NextToken is not valid'],
  ])('refuses %s', async (_what, input, message) => {
    const err = await rejectionOf(hub().send(new GetFindingsCommand(input)));

    expect(err).toMatchObject({ name: 'InvalidInputException', message: expect.stringContaining(message) });
  });
});

describe('faults and state', () => {
  it.each([
    ['throttle', 'TooManyRequestsException', 429],
    ['server-error', 'InternalException', 500],
  ] as const)('a %s fault refuses BatchImportFindings as Security Hub would, importing nothing', async (kind, name, status) => {
    emulator.setFault({ kind, service: 'securityhub', operation: 'BatchImportFindings', times: 1 });

    const err = await rejectionOf(importFindings([finding('a')]));

    expect(err.name).toBe(name);
    expect(err.$metadata?.httpStatusCode).toBe(status);
    expect(emulator.findings()).toEqual([]);
    await expect(importFindings([finding('a')])).resolves.toMatchObject({ SuccessCount: 1 });
  });

  it('a fault on one operation leaves the others alone', async () => {
    emulator.setFault({ kind: 'throttle', operation: 'BatchUpdateFindings' });

    await importFindings([finding('a')]);
    const err = await rejectionOf(update({ ids: ['a'], Workflow: { Status: 'SUPPRESSED' } }));

    expect(err.name).toBe('TooManyRequestsException');
    await expect(hub().send(new GetFindingsCommand({}))).resolves.toMatchObject({ Findings: [expect.objectContaining({ Id: 'a' })] });
  });

  it('removes every finding when a state is loaded or reset', async () => {
    await importFindings([finding('a')]);
    emulator.reset();

    expect(emulator.findings()).toEqual([]);
    expect(emulator.snapshot().securityHub).toEqual({ enabled: 'everywhere', findings: [] });
  });
});
