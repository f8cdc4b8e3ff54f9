/**
 * `report --organization` and the accounts it does not read (SUSPENDED, PENDING_CLOSURE): they are left
 * out of the scope and listed in every human and machine format, never dropped silently.
 */
import fc from 'fast-check';
import { parse as parseCsv } from 'csv-parse/sync';
import type { Organization, OrgAccount, OrgAccountStatus } from '../../src/org/types';
import { buildReport, reportExitCode, summaryLine } from '../../src/report/build';
import { CSV_COLUMNS, renderCsv } from '../../src/report/render/csv';
import { renderHtml } from '../../src/report/render/html';
import { renderReport, reportFindings } from '../../src/report/render/index';
import { renderTable } from '../../src/report/render/table';
import { organizationScope } from '../../src/report/scope';
import type { Report, SkippedAccount } from '../../src/report/types';
import { A, B, described, NOW, policy } from '../fixtures/report/cases';

const account = (id: string, status: OrgAccountStatus, name = `acct-${id.slice(0, 4)}`): OrgAccount => ({ id, name, status, ouPath: ['r-ab12', 'ou-ab12-11111111'], tags: { env: id } });
const org = (accounts: OrgAccount[]): Organization => ({ id: 'o-a1b2c3d4e5', managementAccount: A, accounts });

const CLOSED = '999900001111';
const CLOSING = '555566667777';
const SKIPPED: SkippedAccount[] = [
  { account: CLOSED, name: 'closed', status: 'SUSPENDED' },
  { account: CLOSING, name: 'closing', status: 'PENDING_CLOSURE' },
];

function withSkipped(skipped: readonly SkippedAccount[] = SKIPPED): Report {
  return buildReport({
    policy,
    policyFile: 'policy.yaml',
    policySha256: 'ab'.repeat(32),
    scope: { accounts: [A], regions: ['us-east-1'] },
    collected: [described({ name: 'prod-api', pub: false, priv: true })],
    now: NOW,
    skipped,
  });
}

describe('organizationScope', () => {
  it.each<[string, OrgAccount[], string[], SkippedAccount[]]>([
    ['every account active', [account(B, 'ACTIVE'), account(A, 'ACTIVE')], [A, B], []],
    ['a suspended account', [account(A, 'ACTIVE'), account(CLOSED, 'SUSPENDED', 'closed')], [A], [{ account: CLOSED, name: 'closed', status: 'SUSPENDED' }]],
    ['an account pending closure', [account(CLOSING, 'PENDING_CLOSURE', 'closing'), account(A, 'ACTIVE')], [A], [{ account: CLOSING, name: 'closing', status: 'PENDING_CLOSURE' }]],
    ['no account readable', [account(CLOSED, 'SUSPENDED', ''), account(CLOSING, 'PENDING_CLOSURE', 'closing')], [], [{ account: CLOSING, name: 'closing', status: 'PENDING_CLOSURE' }, { account: CLOSED, name: '', status: 'SUSPENDED' }]],
  ])('%s', (_, accounts, read, skipped) => {
    const scope = organizationScope(org(accounts));

    expect(scope.accounts).toEqual(read);
    expect(scope.skipped).toEqual(skipped);
    expect([...scope.accountContexts.keys()].sort()).toEqual(read);
  });

  it('reads exactly the ACTIVE accounts and lists every other one: none lost, none both (property)', () => {
    fc.assert(
      fc.property(
        fc.uniqueArray(fc.record({ id: fc.stringMatching(/^\d{12}$/), status: fc.constantFrom<OrgAccountStatus>('ACTIVE', 'SUSPENDED', 'PENDING_CLOSURE') }), { selector: (a) => a.id, maxLength: 30 }),
        (accounts) => {
          const scope = organizationScope(org(accounts.map((a) => account(a.id, a.status))));
          const all = accounts.map((a) => a.id).sort();

          expect([...scope.accounts, ...scope.skipped.map((s) => s.account)].sort()).toEqual(all);
          expect(scope.accounts).toEqual(accounts.filter((a) => a.status === 'ACTIVE').map((a) => a.id).sort());
          for (const s of scope.skipped) expect(s.status).not.toBe('ACTIVE');
          expect(scope.skipped.map((s) => s.account)).toEqual([...scope.skipped.map((s) => s.account)].sort());
        },
      ),
    );
  });
});

describe('a report with skipped accounts', () => {
  it('lists them at the top level, sorted, with name and status, and counts them in no verdict', () => {
    const r = withSkipped([...SKIPPED].reverse());

    expect(r.skipped).toEqual([SKIPPED[1], SKIPPED[0]]);
    expect(r.schemaVersion).toBe(1);
    expect(r.scope.accounts).toEqual([A]);
    expect(r.summary).toMatchObject({ compliant: 1, violation: 0, exempt: 0, error: 0 });
    // A closed account holds nothing to fix: the exit code stays that of what was read.
    expect(reportExitCode(r.summary)).toBe(0);
  });

  it('says so in the summary line, by status', () => {
    expect(summaryLine(withSkipped())).toBe(
      '1 cluster in 1 account × 1 region: 1 compliant, 0 violation, 0 exempt, 0 error; 2 accounts of the organization not read (1 PENDING_CLOSURE, 1 SUSPENDED)',
    );
    expect(summaryLine(withSkipped([SKIPPED[0]!]))).toMatch(/; 1 account of the organization not read \(1 SUSPENDED\)$/);
    expect(summaryLine(withSkipped([]))).not.toContain('not read');
  });

  it('keeps them in the JSON output', () => {
    expect(JSON.parse(renderReport(withSkipped(), 'json')).skipped).toEqual([SKIPPED[1], SKIPPED[0]]);
  });

  it('prints a line per skipped account above the summary in the table', () => {
    const lines = renderTable(withSkipped()).trimEnd().split('\n');

    expect(lines.slice(-3)).toEqual([
      `skipped ${CLOSING} (closing): PENDING_CLOSURE in AWS Organizations, not read`,
      `skipped ${CLOSED} (closed): SUSPENDED in AWS Organizations, not read`,
      summaryLine(withSkipped()),
    ]);
    expect(renderTable(withSkipped([]))).not.toContain('skipped');
  });

  it('shows a skipped account\'s name in the table without the control characters a terminal acts on', () => {
    const text = renderTable(withSkipped([{ account: CLOSED, name: 'evil\u001b[2Jname', status: 'SUSPENDED' }]));

    expect(text).not.toContain('\u001b');
    expect(text).toContain('evil?[2Jname');
  });

  it('writes one CSV record per skipped account, after the clusters, with verdict skipped', () => {
    const records = parseCsv(renderCsv(withSkipped()), { columns: true }) as Record<(typeof CSV_COLUMNS)[number], string>[];

    expect(records.map((r) => [r.account, r.region, r.cluster, r.verdict, r.status])).toEqual([
      [A, 'us-east-1', 'prod-api', 'compliant', 'ACTIVE'],
      [CLOSING, '', '(account not read)', 'skipped', 'PENDING_CLOSURE'],
      [CLOSED, '', '(account not read)', 'skipped', 'SUSPENDED'],
    ]);
    expect(records[2]!.error).toBe('closed: SUSPENDED in AWS Organizations, not read');
  });

  it('neutralizes a skipped account name that a spreadsheet would run as a formula', () => {
    const records = parseCsv(renderCsv(withSkipped([{ account: CLOSED, name: '=HYPERLINK("x")', status: 'SUSPENDED' }])), { columns: true }) as Record<string, string>[];

    expect(records.at(-1)!.error).toBe(`'=HYPERLINK("x"): SUSPENDED in AWS Organizations, not read`);
  });

  it('has a section of its own in HTML, absent when nothing was skipped', () => {
    const page = renderHtml(withSkipped());

    expect(page).toContain('<h2 id="skipped-heading">Accounts not read</h2>');
    expect(page).toContain(`<tr data-account="${CLOSED}" data-status="SUSPENDED"><td>${CLOSED}</td><td>closed</td><td>SUSPENDED</td>`);
    expect(page).toContain(`<tr data-account="${CLOSING}" data-status="PENDING_CLOSURE">`);
    expect(renderHtml(withSkipped([]))).not.toContain('id="skipped"');
  });

  it('escapes a skipped account\'s name in HTML', () => {
    const page = renderHtml(withSkipped([{ account: CLOSED, name: '<img src=x onerror=alert(1)>', status: 'SUSPENDED' }]));

    expect(page).not.toContain('<img');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('makes no ASFF finding of a skipped account: nothing was observed there', () => {
    expect(reportFindings(withSkipped())).toHaveLength(1);
    expect(renderReport(withSkipped(), 'asff')).not.toContain(CLOSED);
  });
});
