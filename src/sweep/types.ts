/**
 * The organization sweep's shapes: what ListSweepUnits plans, what each SweepUnit invocation carries
 * from one invocation to the next (the continuation), what a unit reports, and the coverage record
 * RecordCoverage keeps. All plain JSON: they travel through Step Functions, whose payloads (state input
 * and output) are limited to 256 KB, so every list that could grow with the organization is bounded
 * here and its full count kept beside it.
 */
import type { AccountContext } from '../org/types';

/** One unit of work: one governed account in one governed region. */
export type SweepUnit = {
  account: string;
  region: string;
  /**
   * What the policy's `ous`/`accountTags` match on for this account: the OU path, and only the account
   * tags the policy names (a unit's size must not grow with tags no rule reads). Null when no rule or
   * exemption matches on `ous` or `accountTags`: nothing would read it, and the plan stays small.
   */
  accountContext: AccountContext | null;
};

/** A member account the sweep does not judge, and why (suspended, excluded, outside the governed OUs). */
export type SkippedAccount = { account: string; name: string; reason: string };

/** ListSweepUnits' result: the Map iterates over `units`. */
export type SweepPlan = {
  /** The schedule's time (ISO 8601): execution names carry it, so a redelivered schedule starts nothing twice. */
  sweepTime: string;
  organizationId: string;
  regions: string[];
  /** Governed accounts, each swept in every region. */
  accounts: string[];
  units: SweepUnit[];
  skipped: SkippedAccount[];
  /** EXCLUDED_ACCOUNTS entries the organization does not list: likely typos, so reported. */
  unknownExclusions: string[];
  /** GOVERNED_OUS entries no account of the organization lies beneath: likely typos, so reported. */
  unknownOus: string[];
  /**
   * What is wrong with the deployment's scope, in on-call's words: unknown governed OUs, unknown
   * exclusions, a scope that governs no account of an organization that has some. Any of them makes
   * the coverage incomplete (a typo in GovernedOus must not switch the guard off in silence).
   */
  configurationProblems: string[];
  /**
   * Null when the plan was made. When ListSweepUnits failed (the organization could not be read, e.g.
   * AccessDenied outside the management account and delegated administrators), the state machine's
   * Catch puts Step Functions' error here, with an empty plan, and goes on to RecordCoverage.
   */
  planFailure: StepFailure | null;
};

/** An error as a Step Functions Catch hands it on (`Cause` is the Lambda's JSON error for a Lambda task). */
export type StepFailure = { Error?: string; Cause?: string };

/** Why a listed cluster was not judged. `DELETED` (gone between ListClusters and DescribeCluster) is no coverage gap. */
export type NotJudgedReason = 'THROTTLED' | 'ACCESS_DENIED' | 'DELETED' | 'UNREADABLE' | 'START_FAILED' | 'ERROR';

export type NotJudged = { cluster: string; reason: NotJudgedReason; error: string };

/**
 * - `covered`: every cluster listed, every listed cluster judged (or deleted meanwhile);
 * - `partial`: some clusters could not be judged, or the listing could not be finished;
 * - `uncovered`: the member role is missing or refuses (AssumeRole, or EKS AccessDenied on ListClusters);
 * - `failed`: the unit's Lambda failed in a way nobody foresaw (after the state machine's retries).
 */
export type UnitStatus = 'covered' | 'partial' | 'uncovered' | 'failed';

/** What one unit found, accumulated across its invocations. */
export type UnitResult = {
  account: string;
  region: string;
  status: UnitStatus;
  /** Cluster names ListClusters returned. Invariant: listed = judged + notJudgedCount. */
  listed: number;
  judged: number;
  violations: number;
  /** Executions started for violations (a redelivered schedule starts none: their names exist). */
  started: number;
  notJudgedCount: number;
  notJudgedByReason: Partial<Record<NotJudgedReason, number>>;
  /** The first MAX_NOT_JUDGED_PER_UNIT of them (every one is logged): the Map collects every unit's result. */
  notJudged: NotJudged[];
  /** False when ListClusters could not be finished: clusters of the pages not read are unknown. */
  listingComplete: boolean;
  /** Why the unit is not covered (uncovered, failed, or an unfinished listing). */
  error: string | null;
  /** SweepUnit invocations the unit took (1 + continuations). */
  invocations: number;
  /** Describe rounds retried after throttling outlasted the SDK's own retries. */
  throttleRounds: number;
};

/** A cluster waiting for another try after its calls stayed throttled. */
export type RetryEntry = { cluster: string; attempts: number; error: string };

/**
 * Where a unit's work stands between two invocations: small by construction (at most one ListClusters
 * page of names, plus the retries), so the Map's per-iteration state stays far below 256 KB.
 */
export type Continuation = {
  /** The token of the next ListClusters page; null before the first page and after the last. */
  nextToken: string | null;
  /** Every page has been read (or reading gave up). */
  listingDone: boolean;
  /** Names of the current page not judged yet. */
  pending: string[];
  /** Clusters to try again in the next retry round. */
  retry: RetryEntry[];
  /** The retry round under way. */
  retrying: RetryEntry[];
  /** Consecutive failed attempts at the current page. */
  listFailures: number;
  /** The Wait before the next retry round has been taken. */
  retryWaited: boolean;
};

/** The Map iteration's state: SweepUnit's input and output, looped on by the Choice until `done`. */
export type UnitState = {
  unit: SweepUnit;
  sweepTime: string;
  continuation: Continuation | null;
  result: UnitResult | null;
  done: boolean;
  /** Seconds the Wait state pauses before the next invocation (0: go on at once). */
  waitSeconds: number;
  /** Once done: the result as the Map collects it. */
  summary?: CompactResult;
};

/**
 * How a unit that failed outright reaches RecordCoverage: its last state (the Map iteration's Catch keeps
 * the input of the failed invocation) with Step Functions' error.
 */
export type FailedUnit = {
  unit: SweepUnit;
  /** What the unit had found before the invocation that failed; null when its first one failed. */
  result: UnitResult | null;
  /** Names of the continuation that were still to be judged (ListClusters page, retries). */
  pendingCount: number;
  retryCount: number;
  listingDone: boolean;
  failure: StepFailure;
};

/**
 * A finished unit's result as the Map collects it: one per unit, so it is kept short. Keys are short
 * and only what differs from a clean unit is present (`st` status when not covered, `n`/`nr`/`ns` not
 * judged, `e` error, `lc: false` listing incomplete). About 70 bytes for a clean unit, against ~250 for
 * the UnitResult; see compactResult / expandResult in coverage.ts.
 */
export type CompactResult = {
  a: string;
  r: string;
  st?: Exclude<UnitStatus, 'covered'>;
  l: number;
  j: number;
  v?: number;
  s?: number;
  n?: number;
  nr?: Partial<Record<NotJudgedReason, number>>;
  ns?: NotJudged[];
  lc?: false;
  e?: string;
  i?: number;
  t?: number;
};

/** What one Map iteration hands to RecordCoverage: a finished unit's compact result, or a failed unit. */
export type UnitOutcome = { c: CompactResult } | { result: UnitResult } | { failed: FailedUnit };

/**
 * One account's trouble, as on-call reads it in the coverage record and the alert. Trouble of the
 * whole sweep (its scope is misconfigured, the organization could not be read, units never reported)
 * has status `sweep`, with SWEEP_SCOPE as account and region.
 */
export type AccountError = { account: string; region: string; status: UnitStatus | 'sweep'; error: string };

/** The account and region of an error of the whole sweep. */
export const SWEEP_SCOPE = '*';

/** The sweep's coverage record: logged, kept (the ledger table) and alerted on when incomplete. */
export type CoverageRecord = {
  sweepTime: string;
  /** When RecordCoverage ran (ISO 8601). */
  recordedAt: string;
  organizationId: string;
  /** Every governed account in every region was listed and every listed cluster judged. */
  complete: boolean;
  regions: string[];
  accounts: {
    governed: number;
    /** Accounts all of whose units are `covered`. */
    covered: number;
    /** Accounts with at least one `uncovered` unit: the member role is missing or refuses. */
    uncovered: string[];
    skipped: SkippedAccount[];
  };
  units: { total: number; covered: number; partial: number; uncovered: number; failed: number };
  clusters: {
    listed: number;
    judged: number;
    violations: number;
    started: number;
    notJudged: number;
    notJudgedByReason: Partial<Record<NotJudgedReason, number>>;
    /** The first MAX_NOT_JUDGED_KEPT, with their account and region. */
    notJudgedSample: (NotJudged & { account: string; region: string })[];
  };
  /** See SweepPlan.configurationProblems; the sweep is not complete while there is any. */
  configurationProblems: string[];
  /** Why the sweep could not be planned (the organization could not be read); null when it was. */
  planError: string | null;
  /** Errors of the whole sweep first (status `sweep`), then per-account ones (uncovered, failed, unfinished listings), at most COVERAGE_LIMITS.errors. */
  errors: AccountError[];
  errorCount: number;
};
