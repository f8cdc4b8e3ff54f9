/**
 * A scenario's `expect:` block: what its author says must come of it (outcomes per cluster, final
 * endpoint settings, alert counts, re-checks left), checked against a simulation report so `simulate`
 * can gate CI. Pure: the schema, the reference checks and the comparison take everything as arguments.
 */
import { z } from 'zod';
import type { ClusterRef, EndpointConfig } from '../policy/types';
import type { Outcome, Severity } from '../workflow/types';

export const OUTCOMES = ['ignored', 'compliant', 'exempt', 'alerted', 'remediated', 'escalated', 'manual-action-required', 'failed'] as const satisfies readonly Outcome[];
export const SEVERITIES = ['critical', 'warning', 'info'] as const satisfies readonly Severity[];

const outcomeList = OUTCOMES.join(' | ');
const isOutcome = (v: unknown): v is Outcome => typeof v === 'string' && (OUTCOMES as readonly string[]).includes(v);
// One message for both forms, naming the bad value: zod's own union message ("Invalid input") says neither.
const expectedOutcomes = z.custom<Outcome | Outcome[]>((v) => isOutcome(v) || (Array.isArray(v) && v.length > 0 && v.every(isOutcome)), {
  error: (issue) => `an outcome (${outcomeList}) or a non-empty list of them (value: ${JSON.stringify(issue.input)})`,
});

const count = z.int().min(0);
const expectedConfig = z
  .strictObject({
    endpointPublicAccess: z.boolean().optional(),
    endpointPrivateAccess: z.boolean().optional(),
    /** Compared as a set: order and repeats do not matter. */
    publicAccessCidrs: z.array(z.string().min(1)).optional(),
  })
  .refine((c) => Object.keys(c).length > 0, { error: 'name at least one of endpointPublicAccess, endpointPrivateAccess, publicAccessCidrs' });

export const expectationsSchema = z.strictObject({
  /** Per cluster (`name` or `account/region/name`): one outcome some execution had, or outcomes in that order. */
  outcomes: z.record(z.string(), expectedOutcomes).optional(),
  finalConfig: z.record(z.string(), expectedConfig).optional(),
  alerts: z
    .strictObject({
      total: count.optional(),
      ...Object.fromEntries(SEVERITIES.map((s) => [s, count.optional()])),
      ...Object.fromEntries(OUTCOMES.map((o) => [o, count.optional()])),
    } as Record<'total' | Severity | Outcome, z.ZodOptional<typeof count>>)
    .optional(),
  /** Re-checks still scheduled past the horizon. */
  pendingRechecks: count.optional(),
});
export type Expectations = z.output<typeof expectationsSchema>;

export type ExpectationResult = { path: string; ok: boolean; expected: unknown; actual: unknown };

/** What the comparison reads of a simulation report. */
export type ExpectationSubject = {
  executions: { cluster: ClusterRef | null; outcome: string; reason: string | null }[];
  clusters: { name: string; account: string; region: string; config: EndpointConfig }[];
  alerts: { severity: string; outcome: string }[];
  pendingRechecks: unknown[];
};

type ClusterKey = { name: string; account?: string; region?: string };

function parseKey(key: string): ClusterKey | null {
  const parts = key.split('/');
  if (parts.length === 1) return parts[0] ? { name: key } : null;
  const [account, region, name] = parts;
  return parts.length === 3 && /^\d{12}$/.test(account!) && region && name ? { account, region, name } : null;
}

const keyMatches = (key: ClusterKey, c: ClusterRef) => c.name === key.name && (key.account === undefined || (c.account === key.account && c.region === key.region));
const where = (c: ClusterRef) => `${c.account}/${c.region}/${c.name}`;

/**
 * Problems with the cluster keys of `expect:`, each naming its path: a key that is neither `name` nor
 * `account/region/name`, names no cluster the scenario has or creates (a typo would otherwise fail
 * quietly as "no executions"), or a bare name that several clusters share.
 */
export function expectationReferenceProblems(expectations: Expectations, known: ClusterRef[]): string[] {
  const problems: string[] = [];
  for (const section of ['outcomes', 'finalConfig'] as const) {
    for (const key of Object.keys(expectations[section] ?? {})) {
      const path = `expect.${section}.${key}`;
      const parsed = parseKey(key);
      if (!parsed) {
        problems.push(`${path}: a cluster is named NAME or ACCOUNT/REGION/NAME (12-digit account)`);
        continue;
      }
      const matches = [...new Map(known.filter((c) => keyMatches(parsed, c)).map((c) => [where(c), c])).values()];
      if (matches.length === 0) problems.push(`${path}: no cluster ${key} in the scenario's clusters or createCluster steps`);
      else if (matches.length > 1) problems.push(`${path}: ${key} names ${matches.length} clusters (${matches.map(where).join(', ')}): write ACCOUNT/REGION/NAME`);
    }
  }
  return problems;
}

/** Whether `wanted` appears in `seen` in that order, other entries in between allowed. */
function inOrder(wanted: readonly string[], seen: readonly string[]): boolean {
  let i = 0;
  for (const s of seen) if (s === wanted[i]) i += 1;
  return i >= wanted.length;
}

function configMatches(expected: z.output<typeof expectedConfig>, actual: EndpointConfig): boolean {
  if (expected.endpointPublicAccess !== undefined && expected.endpointPublicAccess !== actual.endpointPublicAccess) return false;
  if (expected.endpointPrivateAccess !== undefined && expected.endpointPrivateAccess !== actual.endpointPrivateAccess) return false;
  if (expected.publicAccessCidrs !== undefined) {
    const want = new Set(expected.publicAccessCidrs);
    const have = new Set(actual.publicAccessCidrs);
    if (want.size !== have.size || [...want].some((c) => !have.has(c))) return false;
  }
  return true;
}

/**
 * Checks every expectation against a report, in the order outcomes, finalConfig, alerts, pendingRechecks.
 * An outcome list is matched in order among the cluster's executions, leaving out the guard's own
 * reverts coming back (SELF_REMEDIATION), which every remediation causes; a single outcome is a list of one.
 */
export function checkExpectations(expectations: Expectations, report: ExpectationSubject): ExpectationResult[] {
  const results: ExpectationResult[] = [];
  for (const [key, expected] of Object.entries(expectations.outcomes ?? {})) {
    const parsed = parseKey(key)!;
    const actual = report.executions.filter((e) => e.cluster && keyMatches(parsed, e.cluster) && e.reason !== 'SELF_REMEDIATION').map((e) => e.outcome);
    results.push({ path: `outcomes.${key}`, ok: inOrder(typeof expected === 'string' ? [expected] : expected, actual), expected, actual });
  }
  for (const [key, expected] of Object.entries(expectations.finalConfig ?? {})) {
    const parsed = parseKey(key)!;
    const cluster = report.clusters.find((c) => keyMatches(parsed, c));
    const actual = cluster ? cluster.config : null;
    results.push({ path: `finalConfig.${key}`, ok: actual !== null && configMatches(expected, actual), expected, actual });
  }
  for (const [key, expected] of Object.entries(expectations.alerts ?? {})) {
    if (expected === undefined) continue;
    const actual = report.alerts.filter((a) => key === 'total' || a.severity === key || a.outcome === key).length;
    results.push({ path: `alerts.${key}`, ok: actual === expected, expected, actual });
  }
  if (expectations.pendingRechecks !== undefined) {
    const actual = report.pendingRechecks.length;
    results.push({ path: 'pendingRechecks', ok: actual === expectations.pendingRechecks, expected: expectations.pendingRechecks, actual });
  }
  return results;
}

function show(value: unknown): string {
  if (value === null) return 'no such cluster';
  if (typeof value === 'string' || typeof value === 'number') return String(value);
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.length > 0 ? value.join(', ') : 'no executions';
  return JSON.stringify(value);
}

/** One line per expectation: `outcomes.prod-api: expected remediated, got failed, ignored`. */
export function describeExpectation(r: ExpectationResult): string {
  return r.ok ? `${r.path}: ${show(r.expected)}` : `${r.path}: expected ${show(r.expected)}, got ${show(r.actual)}`;
}
