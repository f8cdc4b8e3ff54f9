/**
 * The coverage record: every unit's result merged into one account of what the sweep judged and what
 * it could not, and the warning on-call gets when that is not everything. Pure.
 */
import { emptyResult, shortError, statusOf } from './continuation';
import { SWEEP_SCOPE, type AccountError, type CompactResult, type CoverageRecord, type NotJudgedReason, type StepFailure, type SweepPlan, type UnitOutcome, type UnitResult } from './types';

/** Bounds of the record (it is kept as one DynamoDB item, < 400 KB, and logged as one line). */
export const COVERAGE_LIMITS = { notJudgedSample: 100, errors: 100, alertLines: 30 } as const;

/**
 * What RecordCoverage is given: the plan without its units (their count instead), and every unit's
 * outcome. `configurationProblems` and `planFailure` are optional so that a record made from an older
 * plan still merges (absent: none).
 */
export type CoverageInput = Pick<SweepPlan, 'sweepTime' | 'organizationId' | 'regions' | 'accounts' | 'skipped'> &
  Partial<Pick<SweepPlan, 'configurationProblems' | 'planFailure'>> & { unitCount: number; outcomes: UnitOutcome[] };

/**
 * A Step Functions error in one line. A Lambda task's Cause is the function's error as JSON
 * (`{"errorType","errorMessage","trace"}`): its message is what a person needs, not the stack.
 */
export function failureMessage(failure: StepFailure): string {
  let cause = failure.Cause ?? 'no cause given';
  try {
    const parsed: unknown = JSON.parse(cause);
    if (parsed && typeof parsed === 'object' && typeof (parsed as { errorMessage?: unknown }).errorMessage === 'string') cause = (parsed as { errorMessage: string }).errorMessage;
  } catch {
    // Not JSON: the cause as given.
  }
  return shortError(`${failure.Error ?? 'Error'}: ${cause}`);
}

/** A unit's result as the Map collects it: short keys, only what differs from a clean unit. */
export function compactResult(r: UnitResult): CompactResult {
  const c: CompactResult = { a: r.account, r: r.region, l: r.listed, j: r.judged };
  if (r.status !== 'covered') c.st = r.status;
  if (r.violations) c.v = r.violations;
  if (r.started) c.s = r.started;
  if (r.notJudgedCount) {
    c.n = r.notJudgedCount;
    c.nr = r.notJudgedByReason;
    c.ns = r.notJudged;
  }
  if (!r.listingComplete) c.lc = false;
  if (r.error !== null) c.e = r.error;
  if (r.invocations !== 1) c.i = r.invocations;
  if (r.throttleRounds) c.t = r.throttleRounds;
  return c;
}

/** The UnitResult a compact result stands for. */
export function expandResult(c: CompactResult): UnitResult {
  return {
    account: c.a,
    region: c.r,
    status: c.st ?? 'covered',
    listed: c.l,
    judged: c.j,
    violations: c.v ?? 0,
    started: c.s ?? 0,
    notJudgedCount: c.n ?? 0,
    notJudgedByReason: { ...(c.nr ?? {}) },
    notJudged: [...(c.ns ?? [])],
    listingComplete: c.lc !== false,
    error: c.e ?? null,
    invocations: c.i ?? 1,
    throttleRounds: c.t ?? 0,
  };
}

/**
 * The result of a unit whatever became of it. A unit whose Lambda failed outright keeps what it had
 * found before; the names it still had to judge are counted as not judged (ERROR), and its status is
 * `failed`.
 */
export function resultOf(outcome: UnitOutcome): UnitResult {
  if ('c' in outcome) return expandResult(outcome.c);
  if ('result' in outcome) return outcome.result;
  const { unit, result, failure, pendingCount, retryCount, listingDone } = outcome.failed;
  const r: UnitResult = result ? { ...result, notJudged: [...result.notJudged], notJudgedByReason: { ...result.notJudgedByReason } } : emptyResult(unit);
  const error = failureMessage({ Error: failure.Error, Cause: failure.Cause ?? 'the unit failed' });
  const lost = pendingCount + retryCount;
  if (lost > 0) {
    r.notJudgedCount += lost;
    r.notJudgedByReason.ERROR = (r.notJudgedByReason.ERROR ?? 0) + lost;
    if (r.notJudged.length === 0) r.notJudged.push({ cluster: `(${lost} cluster(s))`, reason: 'ERROR', error });
  }
  r.listingComplete = r.listingComplete && listingDone;
  r.status = 'failed';
  r.error = error;
  return r;
}

/**
 * Merges the units' results into the coverage record. The sweep is complete when every planned unit
 * reported, none is uncovered, partial or failed, and every listed cluster was judged (a cluster
 * deleted meanwhile counts as judged: nothing is left of it to judge). Invariant: the record's
 * `listed` is the sum of the units' `listed`, and `judged + notJudged = listed`.
 */
export function mergeCoverage(input: CoverageInput, recordedAt: string): CoverageRecord {
  const results = input.outcomes.map(resultOf);
  const units = { total: input.unitCount, covered: 0, partial: 0, uncovered: 0, failed: 0 };
  const clusters: CoverageRecord['clusters'] = { listed: 0, judged: 0, violations: 0, started: 0, notJudged: 0, notJudgedByReason: {}, notJudgedSample: [] };
  const errors: AccountError[] = [];
  let errorCount = 0;
  const troubled = new Set<string>();
  const uncovered = new Set<string>();
  for (const r of results) {
    const status = statusOf(r);
    units[status] += 1;
    clusters.listed += r.listed;
    clusters.judged += r.judged;
    clusters.violations += r.violations;
    clusters.started += r.started;
    clusters.notJudged += r.notJudgedCount;
    for (const [reason, n] of Object.entries(r.notJudgedByReason) as [NotJudgedReason, number][]) clusters.notJudgedByReason[reason] = (clusters.notJudgedByReason[reason] ?? 0) + n;
    for (const n of r.notJudged) if (clusters.notJudgedSample.length < COVERAGE_LIMITS.notJudgedSample) clusters.notJudgedSample.push({ ...n, account: r.account, region: r.region });
    if (status !== 'covered') {
      troubled.add(r.account);
      if (status === 'uncovered') uncovered.add(r.account);
      const error = r.error ?? `${r.notJudgedCount - (r.notJudgedByReason.DELETED ?? 0)} cluster(s) not judged`;
      errorCount += 1;
      if (errors.length < COVERAGE_LIMITS.errors) errors.push({ account: r.account, region: r.region, status, error });
    }
  }
  // A unit the Map never reported (it cannot happen with an inline Map, but the record must not claim more than it saw).
  const missing = Math.max(0, input.unitCount - results.length);
  const gaps = clusters.notJudged - (clusters.notJudgedByReason.DELETED ?? 0);
  const configurationProblems = [...(input.configurationProblems ?? [])];
  const planError = input.planFailure ? `the organization could not be read, so nothing was swept: ${failureMessage(input.planFailure)}` : null;
  // Errors of the whole sweep come first: they are why everything else is missing.
  const sweepErrors = [
    ...(planError ? [planError] : []),
    ...configurationProblems,
    ...(missing > 0 ? [`${missing} of ${input.unitCount} account-region(s) never reported (the Map failed as a whole)`] : []),
  ].map((error): AccountError => ({ account: SWEEP_SCOPE, region: SWEEP_SCOPE, status: 'sweep', error }));
  errors.unshift(...sweepErrors);
  errors.splice(COVERAGE_LIMITS.errors);
  errorCount += sweepErrors.length;
  return {
    sweepTime: input.sweepTime,
    recordedAt,
    organizationId: input.organizationId,
    complete: sweepErrors.length === 0 && units.partial + units.uncovered + units.failed === 0 && gaps === 0,
    regions: [...input.regions],
    accounts: { governed: input.accounts.length, covered: input.accounts.filter((a) => !troubled.has(a)).length, uncovered: [...uncovered].sort(), skipped: input.skipped },
    units,
    clusters,
    configurationProblems,
    planError,
    errors,
    errorCount,
  };
}

/**
 * The warning for an incomplete sweep: which accounts are uncovered (their member role is missing or
 * refuses), which units could not be finished, and how many clusters were not judged and why.
 */
export function coverageAlert(record: CoverageRecord): { subject: string; text: string } {
  const notJudged = record.clusters.notJudged - (record.clusters.notJudgedByReason.DELETED ?? 0);
  const { configurationProblems, planError } = record;
  const parts = [
    planError ? 'the organization could not be read' : null,
    configurationProblems.length > 0 ? `${configurationProblems.length} configuration problem(s)` : null,
    record.accounts.uncovered.length > 0 ? `${record.accounts.uncovered.length} account(s) uncovered` : null,
    notJudged > 0 ? `${notJudged} cluster(s) not judged` : null,
    record.units.partial + record.units.failed > 0 ? `${record.units.partial + record.units.failed} account-region(s) incomplete` : null,
  ].filter(Boolean);
  const subject = `WARNING: sweep coverage incomplete: ${parts.join(', ') || 'see the coverage record'}`;
  const lines = [
    `The organization sweep of ${record.sweepTime} (${record.organizationId}) did not judge every cluster of every governed account.`,
    '',
    `Accounts governed: ${record.accounts.governed}, fully covered: ${record.accounts.covered}; regions: ${record.regions.join(', ') || '(none)'}.`,
    `Clusters listed: ${record.clusters.listed}, judged: ${record.clusters.judged}, not judged: ${notJudged}` +
      (notJudged > 0 ? ` (${Object.entries(record.clusters.notJudgedByReason).filter(([r]) => r !== 'DELETED').map(([r, n]) => `${r} ${n}`).join(', ')})` : '') +
      `; violations: ${record.clusters.violations}, enforcement executions started: ${record.clusters.started}.`,
  ];
  if (planError) lines.push('', `The sweep ended early: ${planError}`, 'Deploy the guard in the management account or a delegated administrator of AWS Organizations, and check its ListSweepUnits role may read Organizations.');
  if (configurationProblems.length > 0) {
    lines.push('', 'Configuration problems (fix the stack parameters GovernedOus / ExcludedAccounts):');
    for (const p of configurationProblems.slice(0, COVERAGE_LIMITS.alertLines)) lines.push(`  - ${p}`);
    if (configurationProblems.length > COVERAGE_LIMITS.alertLines) lines.push(`  ... and ${configurationProblems.length - COVERAGE_LIMITS.alertLines} more`);
  }
  const wholeSweep = record.errors.filter((e) => e.status === 'sweep' && e.error !== planError && !configurationProblems.includes(e.error));
  for (const e of wholeSweep) lines.push('', `${e.error}.`);
  if (record.accounts.uncovered.length > 0) {
    lines.push('', 'Uncovered accounts (deploy the member stack there, or check its roles trust the guard):');
    for (const account of record.accounts.uncovered.slice(0, COVERAGE_LIMITS.alertLines)) {
      const e = record.errors.find((x) => x.account === account && x.status === 'uncovered');
      lines.push(`  - ${account}${e ? `: ${e.error}` : ''}`);
    }
    if (record.accounts.uncovered.length > COVERAGE_LIMITS.alertLines) lines.push(`  ... and ${record.accounts.uncovered.length - COVERAGE_LIMITS.alertLines} more`);
  }
  const other = record.errors.filter((e) => e.status !== 'uncovered' && e.status !== 'sweep');
  if (other.length > 0) {
    lines.push('', 'Incomplete account-regions:');
    for (const e of other.slice(0, COVERAGE_LIMITS.alertLines)) lines.push(`  - ${e.account} ${e.region} (${e.status}): ${e.error}`);
    if (record.errorCount - record.errors.filter((e) => e.status === 'uncovered' || e.status === 'sweep').length > other.slice(0, COVERAGE_LIMITS.alertLines).length) lines.push('  ... more in the coverage record');
  }
  if (record.clusters.notJudgedSample.some((n) => n.reason !== 'DELETED')) {
    lines.push('', 'Clusters not judged (first ones):');
    for (const n of record.clusters.notJudgedSample.filter((x) => x.reason !== 'DELETED').slice(0, COVERAGE_LIMITS.alertLines)) lines.push(`  - ${n.cluster} (${n.account} ${n.region}): ${n.reason}: ${n.error}`);
  }
  lines.push('', 'They are judged again by the next sweep; real-time events still reach the guard from accounts with the member stack.');
  return { subject, text: lines.join('\n') };
}
