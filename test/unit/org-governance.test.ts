/**
 * Which accounts one deployment governs (issue 8, item 3: suspended and excluded accounts are skipped
 * and reported): the accounts beneath GovernedOus, less ExcludedAccounts, SUSPENDED and PENDING_CLOSURE;
 * every account left out is reported with its reason, none vanishes.
 */
import fc from 'fast-check';
import { accountContextOf, isBeneath, ouCovers, rootOf } from '../../src/org/context';
import { governedAccounts, governedUnits } from '../../src/org/governance';
import { OUTSIDE_ORGANIZATION, type Organization, type OrgAccount, type OrgAccountStatus } from '../../src/org/types';

const NUM_RUNS = Number(process.env.PROPERTY_RUNS ?? 200);
const ROOT = 'r-ab12';
const PROD = 'ou-ab12-prod0001';
const PAYMENTS = 'ou-ab12-paym0001';
const SANDBOX = 'ou-ab12-sand0001';

const account = (id: string, ouPath: string[], status: OrgAccountStatus = 'ACTIVE', tags: Record<string, string> = {}): OrgAccount => ({ id, name: `acct-${id.slice(0, 3)}`, status, ouPath, tags });

const ORG: Organization = {
  id: 'o-abcdefghij',
  managementAccount: '100000000000',
  accounts: [
    account('100000000000', [ROOT]),
    account('200000000000', [ROOT, PROD]),
    account('300000000000', [ROOT, PROD, PAYMENTS], 'ACTIVE', { env: 'prod' }),
    account('400000000000', [ROOT, SANDBOX]),
    account('500000000000', [ROOT, PROD], 'SUSPENDED'),
    account('600000000000', [ROOT, SANDBOX], 'PENDING_CLOSURE'),
  ],
};

const ids = (accounts: OrgAccount[]) => accounts.map((a) => a.id);

describe('governedAccounts', () => {
  it.each([
    {
      what: 'no governed OUs: the whole organization, less suspended and closing accounts',
      governedOus: [],
      excludedAccounts: [],
      governed: ['100000000000', '200000000000', '300000000000', '400000000000'],
      skipped: [
        { account: '500000000000', reason: 'SUSPENDED' },
        { account: '600000000000', reason: 'PENDING_CLOSURE' },
      ],
    },
    {
      what: 'the root: the same, the management account included',
      governedOus: [ROOT],
      excludedAccounts: [],
      governed: ['100000000000', '200000000000', '300000000000', '400000000000'],
      skipped: [
        { account: '500000000000', reason: 'SUSPENDED' },
        { account: '600000000000', reason: 'PENDING_CLOSURE' },
      ],
    },
    {
      what: 'one OU: its accounts at any depth; the rest outside',
      governedOus: [PROD],
      excludedAccounts: [],
      governed: ['200000000000', '300000000000'],
      skipped: [
        { account: '100000000000', reason: 'OUTSIDE_GOVERNED_OUS' },
        { account: '400000000000', reason: 'OUTSIDE_GOVERNED_OUS' },
        { account: '500000000000', reason: 'SUSPENDED' },
        { account: '600000000000', reason: 'PENDING_CLOSURE' },
      ],
    },
    {
      what: 'exclusions win over everything else, status included',
      governedOus: [PROD, SANDBOX],
      excludedAccounts: ['300000000000', '500000000000'],
      governed: ['200000000000', '400000000000'],
      skipped: [
        { account: '100000000000', reason: 'OUTSIDE_GOVERNED_OUS' },
        { account: '300000000000', reason: 'EXCLUDED' },
        { account: '500000000000', reason: 'EXCLUDED' },
        { account: '600000000000', reason: 'PENDING_CLOSURE' },
      ],
    },
    {
      what: 'a nested OU alone: only beneath it',
      governedOus: [PAYMENTS],
      excludedAccounts: [],
      governed: ['300000000000'],
      skipped: [
        { account: '100000000000', reason: 'OUTSIDE_GOVERNED_OUS' },
        { account: '200000000000', reason: 'OUTSIDE_GOVERNED_OUS' },
        { account: '400000000000', reason: 'OUTSIDE_GOVERNED_OUS' },
        { account: '500000000000', reason: 'SUSPENDED' },
        { account: '600000000000', reason: 'PENDING_CLOSURE' },
      ],
    },
  ])('$what', ({ governedOus, excludedAccounts, governed, skipped }) => {
    const result = governedAccounts(ORG, { governedOus, excludedAccounts });
    expect(ids(result.governed)).toEqual(governed);
    expect(result.skipped).toEqual(skipped);
    expect(result.unknownExclusions).toEqual([]);
    expect(result.unknownOus).toEqual([]);
  });

  // Regression: a GovernedOus typo governed nothing, and nothing said so.
  it.each([
    { what: 'a typo (ou-ab12-workl0ad) is unknown', governedOus: ['ou-ab12-workl0ad'], unknownOus: ['ou-ab12-workl0ad'] },
    { what: 'only the typo among known OUs is reported', governedOus: [PROD, 'ou-ab12-prod000l'], unknownOus: ['ou-ab12-prod000l'] },
    { what: 'the root is known (every account lies beneath it)', governedOus: [ROOT], unknownOus: [] },
    { what: 'an OU only a suspended or closing account lies beneath is known', governedOus: [SANDBOX], unknownOus: [] },
    { what: "another organization's root is unknown", governedOus: ['r-zz99'], unknownOus: ['r-zz99'] },
  ])('governed OUs: $what', ({ governedOus, unknownOus }) => {
    expect(governedAccounts(ORG, { governedOus, excludedAccounts: [] }).unknownOus).toEqual(unknownOus);
  });

  it('an unknown governed OU is exactly one that governs no account of the organization', () => {
    const candidates = [ROOT, PROD, PAYMENTS, SANDBOX, 'ou-ab12-zzzz0001', 'r-cd34'];
    fc.assert(
      fc.property(fc.uniqueArray(fc.constantFrom(...candidates), { minLength: 1 }), (governedOus) => {
        const { unknownOus } = governedAccounts(ORG, { governedOus, excludedAccounts: [] });
        for (const ou of governedOus) {
          // Beneath, whatever the status: an OU whose accounts are all suspended is still a real OU.
          const reaches = ORG.accounts.some((a) => isBeneath(a.ouPath, [ou]));
          expect(unknownOus.includes(ou)).toBe(!reaches);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });

  it('reports excluded ids the organization does not list (a typo would leave the account governed)', () => {
    const result = governedAccounts(ORG, { governedOus: [], excludedAccounts: ['300000000000', '300000000001'] });
    expect(result.unknownExclusions).toEqual(['300000000001']);
    expect(ids(result.governed)).not.toContain('300000000000');
  });

  it('every account is either governed or skipped, exactly once, and only ACTIVE, non-excluded accounts beneath a governed OU are governed', () => {
    const ous = [ROOT, PROD, PAYMENTS, SANDBOX];
    const paths = [[ROOT], [ROOT, PROD], [ROOT, PROD, PAYMENTS], [ROOT, SANDBOX]];
    const accounts = fc.uniqueArray(
      fc.record({ id: fc.stringMatching(/^\d{12}$/), path: fc.constantFrom(...paths), status: fc.constantFrom<OrgAccountStatus>('ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE') }),
      { selector: (a) => a.id, maxLength: 20 },
    );
    fc.assert(
      fc.property(accounts, fc.subarray(ous), fc.func(fc.boolean()), (list, governedOus, excludes) => {
        const org: Organization = { id: 'o-abcdefghij', managementAccount: list[0]?.id ?? '100000000000', accounts: list.map((a) => account(a.id, a.path, a.status)) };
        const excludedAccounts = list.filter((a) => excludes(a.id)).map((a) => a.id);
        const result = governedAccounts(org, { governedOus, excludedAccounts });
        const seen = [...ids(result.governed), ...result.skipped.map((s) => s.account)].sort();
        expect(seen).toEqual(list.map((a) => a.id).sort());
        for (const a of result.governed) {
          expect(a.status).toBe('ACTIVE');
          expect(excludedAccounts).not.toContain(a.id);
          if (governedOus.length > 0) expect(a.ouPath.some((id) => governedOus.includes(id))).toBe(true);
        }
      }),
      { numRuns: NUM_RUNS },
    );
  });
});

describe('governedUnits', () => {
  it('one unit per governed account and region, account-major', () => {
    const { governed } = governedAccounts(ORG, { governedOus: [PROD], excludedAccounts: [] });
    expect(governedUnits(governed, ['us-east-1', 'eu-west-1'])).toEqual([
      { account: '200000000000', region: 'us-east-1' },
      { account: '200000000000', region: 'eu-west-1' },
      { account: '300000000000', region: 'us-east-1' },
      { account: '300000000000', region: 'eu-west-1' },
    ]);
  });
});

describe('account context helpers', () => {
  it('accountContextOf: a member\'s OU path and tags; a stranger is outside the organization', () => {
    expect(accountContextOf(ORG, '300000000000')).toEqual({ ouPath: [ROOT, PROD, PAYMENTS], tags: { env: 'prod' } });
    expect(accountContextOf(ORG, '999999999999')).toBe(OUTSIDE_ORGANIZATION);
  });

  it.each([
    [PAYMENTS, ROOT],
    [ROOT, ROOT],
    ['ou-0123456789-abcdefgh', 'r-0123456789'],
    ['123456789012', null],
    ['ou-ab12', null],
  ])('rootOf(%s) is %s', (id, root) => {
    expect(rootOf(id)).toBe(root);
  });

  it.each([
    [ROOT, PAYMENTS, true],
    [PROD, PROD, true],
    [PROD, PAYMENTS, false],
    ['r-cd34', PAYMENTS, false],
    [PAYMENTS, ROOT, false],
  ])('ouCovers(%s, %s) is %s', (wide, narrow, covers) => {
    expect(ouCovers(wide, narrow)).toBe(covers);
  });

  it('isBeneath: any listed id on the path', () => {
    expect(isBeneath([ROOT, PROD, PAYMENTS], [PROD])).toBe(true);
    expect(isBeneath([ROOT, PROD, PAYMENTS], new Set([SANDBOX]))).toBe(false);
    expect(isBeneath([], [ROOT])).toBe(false);
  });
});
