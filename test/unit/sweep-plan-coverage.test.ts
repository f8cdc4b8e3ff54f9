/**
 * The organization sweep's pure parts: planning (src/sweep/plan.ts), the continuation's bookkeeping
 * (src/sweep/continuation.ts) and the coverage record (src/sweep/coverage.ts).
 */
import fc from 'fast-check';
import { InputError } from '../../src/errors';
import type { Organization, OrgAccount } from '../../src/org/types';
import { parsePolicy } from '../../src/policy';
import { addNotJudged, backoffSeconds, emptyResult, nextStep, persistenceSeconds, startContinuation, startRound, statusOf, SWEEP_LIMITS, withPage } from '../../src/sweep/continuation';
import { compactResult, coverageAlert, expandResult, failureMessage, mergeCoverage, resultOf, type CoverageInput } from '../../src/sweep/coverage';
import { accountTagKeys, planSweep, usesOrganization } from '../../src/sweep/plan';
import type { Continuation, NotJudgedReason, UnitOutcome, UnitResult } from '../../src/sweep/types';

const ROOT = 'r-ab12';
const PROD = 'ou-ab12-11111111';
const SANDBOX = 'ou-ab12-22222222';
const account = (id: string, over: Partial<OrgAccount> = {}): OrgAccount => ({ id, name: `acct-${id.slice(0, 3)}`, status: 'ACTIVE', ouPath: [ROOT, PROD], tags: { env: 'prod', owner: 'x'.repeat(200) }, ...over });
const ORG: Organization = {
  id: 'o-abcdefghij',
  managementAccount: '111111111111',
  accounts: [
    account('111111111111', { ouPath: [ROOT] }),
    account('222222222222'),
    account('333333333333', { ouPath: [ROOT, SANDBOX], tags: { env: 'dev' } }),
    account('444444444444', { status: 'SUSPENDED' }),
    account('555555555555'),
  ],
};
const POLICY = parsePolicy(
  `version: 1
defaults: { publicAccess: restricted, privateAccess: required, allowedPublicCidrs: [203.0.113.0/24] }
rules:
  - name: prod
    match: { accountTags: { env: prod } }
    publicAccess: forbidden
`,
  'test policy',
);

describe('planSweep', () => {
  const SWEEP = '2026-03-02T06:00:00Z';
  it.each([
    { label: 'whole organization', ous: [], excluded: [], governed: ['111111111111', '222222222222', '333333333333', '555555555555'], skipped: { '444444444444': 'SUSPENDED' } },
    { label: 'one OU', ous: [PROD], excluded: [], governed: ['222222222222', '555555555555'], skipped: { '111111111111': 'OUTSIDE_GOVERNED_OUS', '333333333333': 'OUTSIDE_GOVERNED_OUS', '444444444444': 'SUSPENDED' } },
    { label: 'an exclusion', ous: [ROOT], excluded: ['555555555555'], governed: ['111111111111', '222222222222', '333333333333'], skipped: { '444444444444': 'SUSPENDED', '555555555555': 'EXCLUDED' } },
  ])('$label: one unit per governed account × region, every other account skipped with its reason', ({ ous, excluded, governed, skipped }) => {
    const plan = planSweep(ORG, POLICY, { regions: ['us-east-1', 'eu-west-1', 'us-east-1'], governedOus: ous, excludedAccounts: excluded }, SWEEP);
    expect(plan.accounts).toEqual(governed);
    expect(plan.regions).toEqual(['us-east-1', 'eu-west-1']);
    expect(plan.units.map((u) => `${u.account}/${u.region}`)).toEqual(governed.flatMap((a) => [`${a}/us-east-1`, `${a}/eu-west-1`]));
    expect(Object.fromEntries(plan.skipped.map((s) => [s.account, s.reason]))).toEqual(skipped);
    expect(plan.sweepTime).toBe(SWEEP);
    expect(plan.organizationId).toBe('o-abcdefghij');
  });

  it('a unit carries the OU path and only the account tags the policy matches on', () => {
    expect([...accountTagKeys(POLICY)]).toEqual(['env']);
    const unit = planSweep(ORG, POLICY, { regions: ['us-east-1'], governedOus: [], excludedAccounts: [] }, SWEEP).units.find((u) => u.account === '222222222222')!;
    expect(unit.accountContext).toEqual({ ouPath: [ROOT, PROD], tags: { env: 'prod' } });
  });

  it('a policy that matches on no OU or account tag gets no account context in its units (a smaller plan)', () => {
    const plain = parsePolicy('version: 1\ndefaults: { publicAccess: restricted, privateAccess: required, allowedPublicCidrs: [203.0.113.0/24] }\n', 'plain');
    expect(usesOrganization(plain)).toBe(false);
    expect(usesOrganization(POLICY)).toBe(true);
    expect(planSweep(ORG, plain, { regions: ['us-east-1'], governedOus: [], excludedAccounts: [] }, SWEEP).units.every((u) => u.accountContext === null)).toBe(true);
  });

  it.each([
    { regions: [], time: SWEEP, problem: /at least one governed region/ },
    { regions: ['us-east-1'], time: 'yesterday', problem: /not an ISO 8601 time/ },
  ])('refuses $regions / $time', ({ regions, time, problem }) => {
    expect(() => planSweep(ORG, POLICY, { regions, governedOus: [], excludedAccounts: [] }, time)).toThrow(InputError);
    expect(() => planSweep(ORG, POLICY, { regions, governedOus: [], excludedAccounts: [] }, time)).toThrow(problem);
  });

  it('reports excluded ids the organization does not list', () => {
    expect(planSweep(ORG, POLICY, { regions: ['us-east-1'], governedOus: [], excludedAccounts: ['999999999999'] }, SWEEP).unknownExclusions).toEqual(['999999999999']);
  });

  // Regression: GovernedOus [ou-ab12-workl0ad] (a typo) planned 0 units, and the coverage said complete.
  it.each([
    { label: 'a governed OU typo', ous: ['ou-ab12-workl0ad'], excluded: [], problems: [/GovernedOus entry ou-ab12-workl0ad matches no account of organization o-abcdefghij/, /governs none of the 5 account\(s\)/] },
    { label: 'a typo beside a real OU', ous: [PROD, 'ou-ab12-1111111l'], excluded: [], problems: [/GovernedOus entry ou-ab12-1111111l/] },
    { label: 'an unknown exclusion', ous: [], excluded: ['999999999999'], problems: [/ExcludedAccounts entry 999999999999 is not an account/] },
    { label: 'every account excluded', ous: [], excluded: ['111111111111', '222222222222', '333333333333', '555555555555'], problems: [/governs none of the 5 account\(s\)/] },
    { label: 'a sound scope', ous: [ROOT], excluded: ['555555555555'], problems: [] },
  ])('configuration problems: $label', ({ ous, excluded, problems }) => {
    const plan = planSweep(ORG, POLICY, { regions: ['us-east-1'], governedOus: ous, excludedAccounts: excluded }, SWEEP);
    expect(plan.configurationProblems).toHaveLength(problems.length);
    problems.forEach((problem, i) => expect(plan.configurationProblems[i]).toMatch(problem));
    expect(plan.planFailure).toBeNull();
  });

  it('a governed OU typo reaches the coverage record: incomplete, named in errors and in the alert', () => {
    const plan = planSweep(ORG, POLICY, { regions: ['us-east-1'], governedOus: ['ou-ab12-workl0ad'], excludedAccounts: [] }, SWEEP);
    const { units, unknownExclusions: _x, unknownOus: _o, ...rest } = plan;
    const record = mergeCoverage({ ...rest, unitCount: units.length, outcomes: [] }, 'now');
    expect(record.units.total).toBe(0);
    expect(record.complete).toBe(false);
    expect(record.configurationProblems).toEqual(plan.configurationProblems);
    expect(record.errors.map((e) => [e.account, e.region, e.status])).toEqual([
      ['*', '*', 'sweep'],
      ['*', '*', 'sweep'],
    ]);
    expect(record.errorCount).toBe(2);
    const alert = coverageAlert(record);
    expect(alert.subject).toMatch(/2 configuration problem\(s\)/);
    expect(alert.text).toContain('  - GovernedOus entry ou-ab12-workl0ad matches no account');
  });
});

describe('the continuation', () => {
  const c = (over: Partial<Continuation>): Continuation => ({ ...startContinuation(), ...over });
  const entry = (cluster: string, attempts = 1) => ({ cluster, attempts, error: 'throttled' });
  it.each([
    { label: 'fresh: list the first page', c: c({}), step: { kind: 'list' } },
    { label: 'names pending: judge them', c: c({ pending: ['a'], retry: [entry('b')], listingDone: true }), step: { kind: 'judge' } },
    { label: 'a retry round under way: go on with it', c: c({ retrying: [entry('a')] }), step: { kind: 'retry' } },
    { label: 'retries held while pages remain: list on', c: c({ retry: [entry('a')] }), step: { kind: 'list' } },
    { label: 'listing done, retries held: pause first', c: c({ retry: [entry('a', 2)], listingDone: true }), step: { kind: 'pause', seconds: 4 } },
    { label: 'paused already: start the round', c: c({ retry: [entry('a')], listingDone: true, retryWaited: true }), step: { kind: 'startRound' } },
    { label: 'too many retries held: work them off before more pages', c: c({ retry: Array.from({ length: SWEEP_LIMITS.retryHeld }, (_, i) => entry(`c${i}`)) }), step: { kind: 'pause', seconds: 2 } },
    { label: 'nothing left: finish', c: c({ listingDone: true }), step: { kind: 'finish' } },
  ])('$label', ({ c: continuation, step }) => {
    expect(nextStep(continuation)).toEqual(step);
  });

  it('a page appends its names and moves the token; the last page ends the listing', () => {
    const first = withPage(c({ listFailures: 2 }), { names: ['a', 'b'], nextToken: 't1' });
    expect(first).toMatchObject({ pending: ['a', 'b'], nextToken: 't1', listingDone: false, listFailures: 0 });
    expect(withPage(first, { names: ['c'], nextToken: null })).toMatchObject({ pending: ['a', 'b', 'c'], nextToken: null, listingDone: true });
  });

  it('a round takes the held retries and waits again next time', () => {
    expect(startRound(c({ retry: [entry('a')], retryWaited: true }))).toMatchObject({ retry: [], retrying: [entry('a')], retryWaited: false });
  });

  it.each([
    [1, 2],
    [3, 8],
    [6, 64],
    [7, 120],
    [10, SWEEP_LIMITS.maxWaitSeconds],
  ])('backoff before round %i: %i s', (attempt, seconds) => expect(backoffSeconds(attempt)).toBe(seconds));

  // Regression: a page that stayed throttled was given up after 5 attempts, ~30 s of pauses.
  it.each([
    ['a ListClusters page', SWEEP_LIMITS.listRounds],
    ["a cluster's DescribeCluster", SWEEP_LIMITS.clusterRounds],
  ])('%s that stays throttled is retried for at least 20 minutes before it is given up', (_what, rounds) => {
    expect(SWEEP_LIMITS.minimumPersistenceSeconds).toBeGreaterThanOrEqual(20 * 60);
    expect(persistenceSeconds(rounds)).toBeGreaterThanOrEqual(SWEEP_LIMITS.minimumPersistenceSeconds);
    // And not far beyond: each round costs a Lambda invocation and ~3 state transitions.
    expect(persistenceSeconds(rounds - 1)).toBeLessThan(SWEEP_LIMITS.minimumPersistenceSeconds + SWEEP_LIMITS.maxWaitSeconds);
  });

  it('pauses grow and never exceed the cap', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (attempt) => {
        expect(backoffSeconds(attempt)).toBeLessThanOrEqual(SWEEP_LIMITS.maxWaitSeconds);
        expect(backoffSeconds(attempt + 1)).toBeGreaterThanOrEqual(backoffSeconds(attempt));
      }),
    );
  });

  it.each<[string, Partial<UnitResult>, NotJudgedReason[], string]>([
    ['all judged', { listed: 3, judged: 3 }, [], 'covered'],
    ['one deleted meanwhile', { listed: 3, judged: 2 }, ['DELETED'], 'covered'],
    ['one throttled for good', { listed: 3, judged: 2 }, ['THROTTLED'], 'partial'],
    ['listing unfinished', { listed: 3, judged: 3, listingComplete: false }, [], 'partial'],
    ['uncovered stays uncovered', { status: 'uncovered' }, [], 'uncovered'],
  ])('status: %s', (_label, over, reasons, status) => {
    const r = { ...emptyResult({ account: '222222222222', region: 'us-east-1' }), ...over };
    reasons.forEach((reason, i) => addNotJudged(r, `c${i}`, reason, 'x'));
    expect(statusOf(r)).toBe(status);
  });

  it('names at most a few not-judged clusters but counts them all, by reason', () => {
    const r = emptyResult({ account: '222222222222', region: 'us-east-1' });
    for (let i = 0; i < 20; i += 1) addNotJudged(r, `c${i}`, i % 2 ? 'THROTTLED' : 'ERROR', 'e'.repeat(1000));
    expect(r.notJudgedCount).toBe(20);
    expect(r.notJudged).toHaveLength(SWEEP_LIMITS.notJudgedPerUnit);
    expect(r.notJudgedByReason).toEqual({ ERROR: 10, THROTTLED: 10 });
    expect(r.notJudged[0]!.error.length).toBeLessThanOrEqual(SWEEP_LIMITS.errorChars);
  });
});

const REASONS: NotJudgedReason[] = ['THROTTLED', 'ACCESS_DENIED', 'DELETED', 'UNREADABLE', 'START_FAILED', 'ERROR'];

function input(outcomes: UnitOutcome[], over: Partial<CoverageInput> = {}): CoverageInput {
  const accounts = [...new Set(outcomes.map((o) => ('result' in o ? o.result.account : 'c' in o ? o.c.a : o.failed.unit.account)))];
  return { sweepTime: '2026-03-02T06:00:00Z', organizationId: 'o-abcdefghij', regions: ['us-east-1'], accounts, skipped: [], unitCount: outcomes.length, outcomes, ...over };
}
const unitResult = (account: string, over: Partial<UnitResult> = {}): UnitResult => ({ ...emptyResult({ account, region: 'us-east-1' }), ...over });

describe('mergeCoverage', () => {
  it('a clean sweep is complete: every account covered, every listed cluster judged, no alert needed', () => {
    const record = mergeCoverage(input([{ result: unitResult('111111111111', { listed: 5, judged: 5, violations: 1, started: 1 }) }, { result: unitResult('222222222222', { listed: 2, judged: 2 }) }]), '2026-03-02T06:05:00Z');
    expect(record).toMatchObject({ complete: true, accounts: { governed: 2, covered: 2, uncovered: [] }, units: { total: 2, covered: 2 }, clusters: { listed: 7, judged: 7, violations: 1, started: 1, notJudged: 0 }, errors: [] });
  });

  it('an uncovered account, a throttled cluster and a failed unit make it incomplete, each named', () => {
    const failed: UnitOutcome = {
      failed: {
        unit: { account: '333333333333', region: 'us-east-1', accountContext: { ouPath: [], tags: {} } },
        result: unitResult('333333333333', { listed: 10, judged: 4 }),
        pendingCount: 6,
        retryCount: 0,
        listingDone: true,
        failure: { Error: 'Runtime.ExitError', Cause: 'out of memory' },
      },
    };
    const throttled = unitResult('222222222222', { listed: 3, judged: 2 });
    addNotJudged(throttled, 'prod-x', 'THROTTLED', 'ThrottlingException');
    const record = mergeCoverage(
      input([{ result: unitResult('111111111111', { status: 'uncovered', error: 'the member role cannot be used: AssumeRole ... AccessDenied' }) }, { result: throttled }, failed]),
      '2026-03-02T06:05:00Z',
    );
    expect(record.complete).toBe(false);
    expect(record.accounts.uncovered).toEqual(['111111111111']);
    expect(record.accounts.covered).toBe(0);
    expect(record.units).toEqual({ total: 3, covered: 0, partial: 1, uncovered: 1, failed: 1 });
    expect(record.clusters).toMatchObject({ listed: 13, judged: 6, notJudged: 7, notJudgedByReason: { THROTTLED: 1, ERROR: 6 } });
    expect(record.errors.map((e) => [e.account, e.status])).toEqual([
      ['111111111111', 'uncovered'],
      ['222222222222', 'partial'],
      ['333333333333', 'failed'],
    ]);
    const alert = coverageAlert(record);
    expect(alert.subject).toMatch(/1 account\(s\) uncovered, 7 cluster\(s\) not judged/);
    expect(alert.text).toContain('  - 111111111111: the member role cannot be used');
    expect(alert.text).toContain('prod-x (222222222222 us-east-1): THROTTLED');
    expect(alert.text).toContain('333333333333 us-east-1 (failed): Runtime.ExitError: out of memory');
  });

  it('a Map that reported no unit is never complete, and says so', () => {
    const record = mergeCoverage(input([], { unitCount: 4, accounts: ['111111111111'] }), 'now');
    expect(record.complete).toBe(false);
    expect(record.errors).toEqual([{ account: '*', region: '*', status: 'sweep', error: '4 of 4 account-region(s) never reported (the Map failed as a whole)' }]);
    expect(coverageAlert(record).text).toContain('4 of 4 account-region(s) never reported');
  });

  // Regression: ListSweepUnits failing (AccessDenied on Organizations) left no coverage record and no alert.
  it('a plan that failed records an incomplete coverage naming the error, and the alert says what to do', () => {
    const cause = JSON.stringify({ errorType: 'AccessDeniedException', errorMessage: 'You don\'t have permissions to access this resource.', trace: ['at x'] });
    const record = mergeCoverage(input([], { accounts: [], regions: [], organizationId: 'unknown', unitCount: 0, configurationProblems: [], planFailure: { Error: 'AccessDeniedException', Cause: cause } }), 'now');
    expect(record.complete).toBe(false);
    expect(record.planError).toBe("the organization could not be read, so nothing was swept: AccessDeniedException: You don't have permissions to access this resource.");
    expect(record.errors).toEqual([{ account: '*', region: '*', status: 'sweep', error: record.planError }]);
    const alert = coverageAlert(record);
    expect(alert.subject).toMatch(/^WARNING: sweep coverage incomplete: the organization could not be read/);
    expect(alert.text).toContain('AccessDeniedException: You don\'t have permissions');
    expect(alert.text).toContain('delegated administrator');
  });

  it.each([
    [{ Error: 'States.TaskFailed', Cause: 'plain text' }, 'States.TaskFailed: plain text'],
    [{ Error: 'InputError', Cause: JSON.stringify({ errorType: 'InputError', errorMessage: 'GOVERNED_REGIONS is empty' }) }, 'InputError: GOVERNED_REGIONS is empty'],
    [{}, 'Error: no cause given'],
    [{ Error: 'X', Cause: 'y'.repeat(1000) }, expect.stringMatching(/^X: y+\.\.\.$/)],
  ])('failureMessage %#', (failure, message) => expect(failureMessage(failure)).toEqual(message));

  it('the record without configuration problems or plan failure (an older plan) merges as before', () => {
    const record = mergeCoverage(input([{ result: unitResult('111111111111', { listed: 1, judged: 1 }) }]), 'now');
    expect(record).toMatchObject({ complete: true, configurationProblems: [], planError: null });
  });

  it('a failed unit whose first invocation failed counts what it had to judge', () => {
    const r = resultOf({ failed: { unit: { account: '1', region: 'r', accountContext: { ouPath: [], tags: {} } }, result: null, pendingCount: 0, retryCount: 0, listingDone: false, failure: {} } });
    expect(r).toMatchObject({ status: 'failed', listed: 0, listingComplete: false });
  });

  it('the compact result the Map collects stands for the whole result, and is small for a clean unit', () => {
    const reasonArb = fc.constantFrom(...REASONS);
    fc.assert(
      fc.property(
        fc.record({
          status: fc.constantFrom('covered', 'partial', 'uncovered', 'failed'),
          listed: fc.nat(500),
          judged: fc.nat(500),
          violations: fc.nat(20),
          started: fc.nat(20),
          listingComplete: fc.boolean(),
          error: fc.option(fc.string({ maxLength: 50 }), { nil: null }),
          invocations: fc.integer({ min: 1, max: 9 }),
          throttleRounds: fc.nat(4),
          notJudged: fc.array(fc.tuple(fc.string({ minLength: 1, maxLength: 20 }), reasonArb), { maxLength: 8 }),
        }),
        (u) => {
          const r = unitResult('123456789012', { ...u, status: u.status as UnitResult['status'], notJudged: [] });
          u.notJudged.forEach(([cluster, reason]) => addNotJudged(r, cluster, reason, 'e'));
          expect(expandResult(JSON.parse(JSON.stringify(compactResult(r))))).toEqual(r);
        },
      ),
    );
    const clean = unitResult('123456789012', { listed: 150, judged: 150, violations: 3, started: 3, invocations: 1 });
    expect(JSON.stringify({ c: compactResult(clean) }).length).toBeLessThan(80);
  });

  // The property: merging never loses a cluster. Every unit's listed clusters end up judged or not
  // judged (with a reason), and the record's totals are the units' sums, whatever mix of outcomes.
  it('never loses a cluster: judged + not judged = listed, for the record and for every unit', () => {
    const unitArb = fc.record({
      judged: fc.nat(50),
      notJudged: fc.array(fc.constantFrom(...REASONS), { maxLength: 12 }),
      status: fc.constantFrom('covered', 'uncovered'),
      failed: fc.option(fc.record({ pending: fc.nat(20), retry: fc.nat(5) }), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(unitArb, { maxLength: 30 }), (units) => {
        let expectedListed = 0;
        const outcomes: UnitOutcome[] = units.map((u, i) => {
          const r = unitResult(String(100000000000 + i), { judged: u.judged, status: u.status as 'covered' | 'uncovered' });
          u.notJudged.forEach((reason, k) => addNotJudged(r, `c${k}`, reason, 'e'));
          const lost = u.failed ? u.failed.pending + u.failed.retry : 0;
          r.listed = u.judged + u.notJudged.length + lost;
          expectedListed += r.listed;
          if (!u.failed) return i % 2 ? { result: r } : { c: compactResult(r) };
          // Of a failed unit, the names still to be judged were listed already.
          return { failed: { unit: { account: r.account, region: r.region, accountContext: { ouPath: [], tags: {} } }, result: r, pendingCount: u.failed.pending, retryCount: u.failed.retry, listingDone: true, failure: { Error: 'X' } } };
        });
        const record = mergeCoverage(input(outcomes), 'now');
        expect(record.clusters.listed).toBe(expectedListed);
        expect(record.clusters.judged + record.clusters.notJudged).toBe(record.clusters.listed);
        expect(Object.values(record.clusters.notJudgedByReason).reduce((a, b) => a + (b ?? 0), 0)).toBe(record.clusters.notJudged);
        for (const o of outcomes) {
          const r = resultOf(o);
          expect(r.judged + r.notJudgedCount).toBe(r.listed);
        }
        const gaps = record.clusters.notJudged - (record.clusters.notJudgedByReason.DELETED ?? 0);
        expect(record.complete).toBe(gaps === 0 && record.units.uncovered === 0 && record.units.failed === 0 && record.units.partial === 0);
      }),
      { numRuns: 300 },
    );
  });
});
