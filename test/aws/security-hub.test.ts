/**
 * The findings port against the emulator's Security Hub: findings imported in the account each names
 * (the home account with the own credentials, a member through the member findings role), the workflow
 * each carries applied afterwards, batches within Security Hub's limits, and every refusal reported per
 * finding, or thrown when repeating may help.
 */
import type { SecurityHubClient } from '@aws-sdk/client-securityhub';
import { createClientFactory, type Instrumentable } from '../../src/aws/clients';
import { createFindingsPort, findingsWiring, MAX_IMPORT_BYTES } from '../../src/aws/security-hub';
import { loadConfig } from '../../src/config';
import { parseEmulatorState, type Emulator } from '../../src/emulator';
import { TransientAwsError } from '../../src/errors';
import { clusterArn } from '../../src/findings/arn';
import { productArn, toAsffFinding, type AsffFinding, type FindingSubject } from '../../src/findings/asff';
import type { FindingsPort } from '../../src/findings/ports';
import { GUARD_ROLE_ARN, PROD, REGION, SANDBOX, callCounter, demoState, rejectionOf, useAdapterEmulator } from './helpers';

const READ_ROLE = 'eks-endpoint-guard-member-read';
const WRITE_ROLE = 'eks-endpoint-guard-member-findings';
const WRITE_ARN = `arn:aws:iam::${SANDBOX}:role/${WRITE_ROLE}`;
const OBSERVED = '2026-01-01T00:00:00.000Z';

let emulator: Emulator;

useAdapterEmulator((e) => (emulator = e));

/**
 * The port as a function builds it (findingsWiring on a client factory), with every call counted, the
 * RoleArn of every AssumeRole recorded and `tamper` given each client built.
 */
function port(options: { writeRole?: string | undefined; tamper?: (client: Instrumentable) => void } = {}) {
  const counter = callCounter();
  const assumed: string[] = [];
  const clients = createClientFactory({
    endpoint: emulator.url,
    credentials: emulator.credentialsFor(GUARD_ROLE_ARN),
    homeAccount: PROD,
    homeRegion: REGION,
    memberReadRoleName: READ_ROLE,
    ...('writeRole' in options ? (options.writeRole ? { memberFindingsRoleName: options.writeRole } : {}) : { memberFindingsRoleName: WRITE_ROLE }),
    maxAttempts: 1,
    now: () => emulator.clock.now(),
    instrument: (client) => {
      counter.instrument(client);
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if ((context as { commandName?: string }).commandName === 'AssumeRoleCommand') assumed.push(String((args.input as { RoleArn?: string }).RoleArn));
          return next(args);
        },
        { step: 'initialize', name: 'recordAssumedRoles' },
      );
      options.tamper?.(client);
    },
  });
  const findings: FindingsPort = findingsWiring({ clients, config: loadConfig({}), now: () => emulator.clock.now() });
  return { findings, counts: counter.counts, assumed };
}

beforeEach(() => {
  // The member stack in the sandbox account: the findings role only, so a read-role session would be refused.
  emulator.putRole({ account: SANDBOX, name: WRITE_ROLE, trust: [GUARD_ROLE_ARN] });
});

function subject(name: string, o: Partial<FindingSubject> = {}): FindingSubject {
  const account = o.account ?? PROD;
  return {
    account,
    region: REGION,
    name,
    arn: clusterArn(account, REGION, name),
    verdict: 'violation',
    status: 'ACTIVE',
    rule: 'default',
    observed: { endpointPublicAccess: true, endpointPrivateAccess: false, publicAccessCidrs: ['0.0.0.0/0'] },
    tags: { team: 'platform' },
    violations: [{ code: 'PUBLIC_ACCESS_FORBIDDEN', message: 'public access is on' }],
    exemption: null,
    target: null,
    error: null,
    ...o,
  };
}

const EXEMPTION = { source: 'tag' as const, name: 'eks-endpoint-guard/exempt', reason: 'migration window', expires: '2026-03-01' };
const VERDICTS: Record<'violation' | 'exempt' | 'compliant', Partial<FindingSubject>> = {
  violation: {},
  exempt: { verdict: 'exempt', exemption: EXEMPTION },
  compliant: { verdict: 'compliant', violations: [], observed: { endpointPublicAccess: false, endpointPrivateAccess: true, publicAccessCidrs: [] } },
};

const asff = (s: FindingSubject, observedAt = OBSERVED) => toAsffFinding(s, { observedAt });
const storedIn = (account: string, id: string) => emulator.findings(account, REGION).find((f) => f.Id === id);

describe('record in the home account', () => {
  it('imports the findings with the own credentials, then applies each one\'s workflow and note', async () => {
    const { findings, counts, assumed } = port();
    const violation = asff(subject('prod-api'));
    const exempt = asff(subject('prod-payments', VERDICTS.exempt));

    const result = await findings.record([violation, exempt]);

    expect(result).toEqual({
      imported: 2,
      failed: 0,
      findings: [
        { id: violation.Id, account: PROD, region: REGION, status: 'imported' },
        { id: exempt.Id, account: PROD, region: REGION, status: 'imported' },
      ],
    });
    expect(storedIn(PROD, violation.Id)).toMatchObject({ Workflow: { Status: 'NEW' }, Compliance: { Status: 'FAILED' }, Severity: { Label: 'HIGH' } });
    expect(storedIn(PROD, exempt.Id)).toMatchObject({ Workflow: { Status: 'SUPPRESSED' }, Note: { Text: expect.stringContaining('migration window'), UpdatedBy: 'eks-endpoint-guard' } });
    // One import; one workflow update per distinct Workflow and Note.
    expect(counts).toEqual({ BatchImportFindings: 1, BatchUpdateFindings: 2 });
    expect(assumed).toEqual([]);
  });

  it.each(['violation', 'exempt', 'compliant'] as const)('stores every field of the guard\'s %s finding: the SDK drops none on the way', async (verdict) => {
    const { findings } = port();
    const { Note, ...finding } = asff(subject('prod-api', VERDICTS[verdict]));

    await findings.record([{ ...finding, ...(Note ? { Note } : {}) }]);

    // The SDK sends only the members of its model: a field ASFF spells otherwise would be missing here.
    expect(storedIn(PROD, finding.Id)).toMatchObject(finding);
    if (Note) expect(storedIn(PROD, finding.Id)!.Note).toMatchObject({ Text: Note.Text, UpdatedBy: Note.UpdatedBy });
  });

  it('follows a cluster through its lifecycle: one finding, whose workflow follows the verdict', async () => {
    const { findings } = port();
    const steps: [keyof typeof VERDICTS, string][] = [
      ['violation', 'NEW'],
      ['exempt', 'SUPPRESSED'],
      ['violation', 'NEW'],
      ['compliant', 'RESOLVED'],
      ['violation', 'NEW'],
    ];
    for (const [i, [verdict, workflow]] of steps.entries()) {
      const observedAt = new Date(Date.parse(OBSERVED) + i * 3_600_000).toISOString();

      const result = await findings.record([toAsffFinding(subject('prod-api', VERDICTS[verdict]), { observedAt, createdAt: OBSERVED })]);

      expect(result.imported).toBe(1);
      const stored = emulator.findings(PROD, REGION);
      expect(stored).toHaveLength(1);
      expect([verdict, stored[0]!.Workflow.Status, stored[0]!.UpdatedAt, stored[0]!.CreatedAt]).toEqual([verdict, workflow, observedAt, OBSERVED]);
    }
  });
});

describe('record in a member account', () => {
  it('imports a member\'s finding in the member\'s own hub through the member findings role', async () => {
    const { findings, assumed } = port();
    const member = asff(subject('sandbox-dev', { account: SANDBOX }));
    const home = asff(subject('prod-api'));

    const result = await findings.record([member, home]);

    expect(result.findings.map((o) => [o.account, o.status])).toEqual([
      [SANDBOX, 'imported'],
      [PROD, 'imported'],
    ]);
    expect(assumed).toEqual([WRITE_ARN]);
    expect(emulator.findings(SANDBOX).map((f) => [f.Id, f.ProductArn])).toEqual([[member.Id, productArn(SANDBOX, REGION)]]);
    expect(emulator.findings(PROD).map((f) => f.Id)).toEqual([home.Id]);
  });

  it('fails the member\'s findings, naming the role, when the findings role cannot be assumed, and still imports the others', async () => {
    emulator.deleteRole(SANDBOX, WRITE_ROLE);
    const { findings } = port();

    const result = await findings.record([asff(subject('sandbox-dev', { account: SANDBOX })), asff(subject('prod-api'))]);

    expect(result).toMatchObject({ imported: 1, failed: 1 });
    expect(result.findings[0]).toMatchObject({ account: SANDBOX, status: 'failed', stage: 'import', errorCode: 'AccessDenied', errorMessage: expect.stringContaining(`AssumeRole on ${WRITE_ARN} failed`) });
    expect(emulator.findings(SANDBOX)).toEqual([]);
  });

  it('fails the member\'s findings, naming the setting, when no write role is configured', async () => {
    const { findings } = port({ writeRole: undefined });

    const result = await findings.record([asff(subject('sandbox-dev', { account: SANDBOX }))]);

    expect(result.findings).toEqual([
      expect.objectContaining({ status: 'failed', errorCode: 'InputError', errorMessage: expect.stringContaining('MEMBER_FINDINGS_ROLE_NAME is not set') }),
    ]);
  });
});

describe('batches', () => {
  it('imports 250 findings in 3 calls of at most 100, and sets their workflow in 3 calls', async () => {
    const { findings, counts } = port();
    const many = Array.from({ length: 250 }, (_, i) => asff(subject(`cluster-${String(i).padStart(3, '0')}`)));

    const result = await findings.record(many);

    expect(result).toMatchObject({ imported: 250, failed: 0 });
    expect(counts).toEqual({ BatchImportFindings: 3, BatchUpdateFindings: 3 });
    expect(emulator.findings(PROD, REGION).map((f) => f.Id)).toEqual(many.map((f) => f.Id));
  });

  it('cuts batches at 240 KB, however few findings they hold', async () => {
    const sizes: number[] = [];
    const { findings, counts } = port({
      tamper: (client) =>
        client.middlewareStack.add(
          (next, context) => async (args) => {
            if ((context as { commandName?: string }).commandName === 'BatchImportFindingsCommand') sizes.push(Number((args.request as { headers: Record<string, string> }).headers['content-length']));
            return next(args);
          },
          { step: 'finalizeRequest', name: 'measureImports' },
        ),
    });
    // About 50 KB each: 25 ProductFields of 2,000 characters, the most ASFF allows per value being 2,048.
    const large = (i: number): AsffFinding => {
      const f = asff(subject(`large-${i}`));
      return { ...f, ProductFields: { ...f.ProductFields, ...Object.fromEntries(Array.from({ length: 25 }, (_, k) => [`eks-endpoint-guard/Pad${k}`, 'x'.repeat(2000)])) } };
    };

    const all = Array.from({ length: 10 }, (_, i) => large(i));

    const result = await findings.record(all);

    expect(result).toMatchObject({ imported: 10, failed: 0 });
    expect(counts.BatchImportFindings).toBe(3);
    // Four findings fit (about 200 KB), a fifth would not: the bodies are what the adapter reckoned, byte for byte.
    expect(sizes).toEqual([all.slice(0, 4), all.slice(4, 8), all.slice(8)].map((batch) => Buffer.byteLength(JSON.stringify({ Findings: batch }))));
    for (const size of sizes) expect(size).toBeLessThanOrEqual(MAX_IMPORT_BYTES);
  });

  it('fails a finding larger than a whole request without sending it', async () => {
    const { findings, counts } = port();
    const f = asff(subject('huge'));
    const huge = { ...f, ProductFields: Object.fromEntries(Array.from({ length: 130 }, (_, k) => [`Pad${k}`, 'x'.repeat(2000)])) };

    const result = await findings.record([huge]);

    expect(result.findings).toEqual([expect.objectContaining({ id: f.Id, status: 'failed', stage: 'import', errorCode: 'FindingSizeExceeded' })]);
    expect(counts.BatchImportFindings).toBeUndefined();
  });
});

describe('failures', () => {
  it('reports each finding Security Hub refuses with its code and message, and applies no workflow to it', async () => {
    const { findings, counts } = port();
    const good = asff(subject('prod-api'));
    const foreignProduct = { ...asff(subject('prod-payments')), ProductArn: productArn(SANDBOX, REGION) };
    const untitled = { ...asff(subject('legacy')), Title: '' };

    const result = await findings.record([good, foreignProduct, untitled]);

    expect(result).toMatchObject({ imported: 1, failed: 2 });
    expect(result.findings).toEqual([
      { id: good.Id, account: PROD, region: REGION, status: 'imported' },
      { id: foreignProduct.Id, account: PROD, region: REGION, status: 'failed', stage: 'import', errorCode: 'AccessDeniedException', errorMessage: expect.stringContaining('not authorized to import findings') },
      { id: untitled.Id, account: PROD, region: REGION, status: 'failed', stage: 'import', errorCode: 'InvalidInput', errorMessage: expect.stringContaining('Title is required') },
    ]);
    expect(counts.BatchUpdateFindings).toBe(1);
    expect(emulator.findings().map((f) => f.Id)).toEqual([good.Id]);
  });

  it('reports findings the workflow update left unprocessed, including one under an Id it was not sent', async () => {
    // Stands in for a finding that vanished between the two calls: its identifier is spoiled on the way out,
    // and an identifier nobody asked for is added.
    const { findings } = port({
      tamper: (client) =>
        client.middlewareStack.add(
          (next, context) => async (args) => {
            if ((context as { commandName?: string }).commandName === 'BatchUpdateFindingsCommand') {
              const input = args.input as { FindingIdentifiers: { Id: string; ProductArn: string }[] };
              input.FindingIdentifiers = [...input.FindingIdentifiers.map((i, n) => (n === 0 ? { ...i, ProductArn: `${i.ProductArn}-gone` } : i)), { Id: 'stray', ProductArn: productArn(PROD, REGION) }];
            }
            return next(args);
          },
          { step: 'initialize', name: 'spoilIdentifiers' },
        ),
    });
    const [a, b] = [asff(subject('prod-api')), asff(subject('prod-payments'))];

    const result = await findings.record([a, b]);

    expect(result.findings).toEqual([
      { id: a.Id, account: PROD, region: REGION, status: 'failed', stage: 'workflow', errorCode: 'FindingNotFound', errorMessage: expect.any(String) },
      { id: b.Id, account: PROD, region: REGION, status: 'imported' },
      { id: 'stray', account: PROD, region: REGION, status: 'failed', stage: 'workflow', errorCode: 'FindingNotFound', errorMessage: expect.any(String) },
    ]);
    expect(result).toMatchObject({ imported: 1, failed: 2 });
  });

  it('fails the findings of a hub that is not enabled with a clear message, and imports the others', async () => {
    emulator.loadState(parseEmulatorState({ ...demoState(), securityHub: { hubs: [{ account: PROD, region: REGION }] } }, 'state'));
    emulator.putRole({ account: SANDBOX, name: WRITE_ROLE, trust: [GUARD_ROLE_ARN] });
    const { findings } = port();

    const result = await findings.record([asff(subject('sandbox-dev', { account: SANDBOX })), asff(subject('prod-api'))]);

    expect(result.findings.map((o) => o.status)).toEqual(['failed', 'imported']);
    expect(result.findings[0]).toMatchObject({
      errorCode: 'InvalidAccessException',
      errorMessage: expect.stringContaining(`Security Hub is not enabled in account ${SANDBOX}, region ${REGION}`),
    });
  });

  it.each([
    ['throttled', 'throttle', 'BatchImportFindings'],
    ['answered with a server error', 'server-error', 'BatchImportFindings'],
    ['throttled on the workflow update', 'throttle', 'BatchUpdateFindings'],
  ] as const)('throws TransientAwsError when %s, for the caller to retry', async (_what, kind, operation) => {
    emulator.setFault({ kind, operation });
    const { findings } = port();

    const err = await rejectionOf(findings.record([asff(subject('prod-api'))]));

    expect(err).toBeInstanceOf(TransientAwsError);
    expect(err.message).toContain(`${operation} on ${PROD}/${REGION} failed`);
  });

  it('imports nothing for an empty list, without calling Security Hub', async () => {
    const calls: unknown[] = [];
    const findings = createFindingsPort((account, region) => {
      calls.push([account, region]);
      return undefined as unknown as SecurityHubClient;
    });

    await expect(findings.record([])).resolves.toEqual({ imported: 0, failed: 0, findings: [] });
    expect(calls).toEqual([]);
  });
});
