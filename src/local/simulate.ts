/**
 * `eks-endpoint-guard simulate`: a scenario is an emulator state plus steps (API calls made as a given
 * principal, faults, time passing, sweeps). The steps run against a fresh emulator on virtual time; every
 * CloudTrail event they cause then goes through the deployed workflow, run locally, and the report says
 * what became of each.
 */
import { CreateClusterCommand, DeleteClusterCommand, EKSClient, TagResourceCommand, UntagResourceCommand, UpdateClusterConfigCommand } from '@aws-sdk/client-eks';
import { z } from 'zod';
import { InputError } from '../errors';
import { formatPath } from '../policy/load';
import { regionNameProblem } from '../policy/region';
import type { ClusterLedger, LedgerPort } from '../ledger/types';
import type { Policy } from '../policy';
import type { ClusterRef, EndpointConfig } from '../policy/types';
import { emulatorStateSchema, faultSchema, manualClock, startEmulator, stateReferenceProblems, type Emulator } from '../emulator';
import { checkExpectations, expectationReferenceProblems, expectationsSchema, type ExpectationResult } from './expect';
import { GUARD_ROLE_NAME, startLocalGuard } from './local-guard';
import { MEMBER_READ_ROLE_NAME, MEMBER_WRITE_ROLE_NAME, type MemberDeployment } from './deployment';
import type { DeliveryRecord, ExecutionRecord, ProgressEvent } from './runner';
import type { CoverageRecord } from '../sweep/types';
import { ownRecord } from '../records';

/** An AWS region the SDK knows: a typo would leave a region silently ungoverned or unheard. */
const regionName = z.string().superRefine((value, ctx) => {
  const problem = regionNameProblem(value);
  if (problem) ctx.addIssue({ code: 'custom', message: problem });
});

const accountOf = (arn: string) => /:(\d{12}):/.exec(arn)?.[1] ?? null;

const principalArn = z.string().regex(/^arn:aws:(iam::\d{12}:(user|role)\/\S+|sts::\d{12}:assumed-role\/\S+\/\S+)$/, { error: 'not an IAM user, role or assumed-role ARN' });
/**
 * `guard-role`: a session of the guard's own role, started by someone other than the guard (credentials
 * taken from it, or a person allowed to assume it), in the step's account (default: the guard's).
 */
export const GUARD_ROLE_ACTOR = 'guard-role';
const actor = z.union([principalArn, z.literal(GUARD_ROLE_ACTOR)], { error: `not an IAM user, role or assumed-role ARN, nor "${GUARD_ROLE_ACTOR}"` });

const callStep = z.strictObject({
  call: z.enum(['updateClusterConfig', 'createCluster', 'tagResource', 'untagResource', 'deleteCluster']),
  as: actor,
  account: z.string().regex(/^\d{12}$/).optional(),
  region: z.string().min(1),
  cluster: z.string().min(1),
  resourcesVpcConfig: z
    .strictObject({
      endpointPublicAccess: z.boolean().optional(),
      endpointPrivateAccess: z.boolean().optional(),
      publicAccessCidrs: z.array(z.string()).optional(),
      subnetIds: z.array(z.string()).optional(),
      securityGroupIds: z.array(z.string()).optional(),
    })
    .default({}),
  logging: z.unknown().optional(),
  tags: ownRecord(z.string(), z.string()).optional(),
  /** untagResource: the keys to remove. */
  tagKeys: z.array(z.string().min(1)).optional(),
  sourceIp: z.string().optional(),
  userAgent: z.string().optional(),
  /**
   * Make the call while the guard is working, not now: just before the workflow enters this Task state
   * (for the `occurrence`-th time, counting every execution), as a person racing the guard would.
   */
  during: z.strictObject({ state: z.string().min(1), occurrence: z.int().min(1).default(1) }).optional(),
});
const platformUpdateFault = z.strictObject({ kind: z.literal('platform-update'), account: z.string(), region: z.string(), cluster: z.string(), seconds: z.number().positive().optional() });
// `{fault: {kind, ...}}`, or the flat form `{fault: KIND, ...}` that reads naturally in a scenario file.
const faultStep = z.preprocess(
  (step) => {
    if (step === null || typeof step !== 'object' || typeof (step as { fault?: unknown }).fault !== 'string') return step;
    const { fault, ...rest } = step as { fault: string };
    return { fault: { kind: fault, ...rest } };
  },
  z.strictObject({
    fault: z.union([platformUpdateFault, faultSchema], {
      error: 'a fault is {kind: throttle | server-error | latency | update-fails, operation?, account?, region?, cluster?, times?, latencyMs?, errors?} or {kind: platform-update, account, region, cluster, seconds?}',
    }),
  }),
);
const advanceStep = z.strictObject({ advance: z.number().nonnegative() });
const sweepStep = z.strictObject({ sweep: z.literal(true) });
// Let the guard handle every event so far before the next step (otherwise it runs after the last step).
const settleStep = z.strictObject({ settle: z.literal(true) });
const STEP_KINDS = { call: callStep, fault: faultStep, advance: advanceStep, sweep: sweepStep, settle: settleStep } as const;
// The step's kind is its key: validate against that kind alone, so errors name the field at fault
// (`steps[0].resourcesVpcConfig.endpointPrivateAccess`) rather than "matches none of four shapes".
const stepSchema = z.unknown().transform((step, ctx) => {
  const kind = step !== null && typeof step === 'object' ? (Object.keys(STEP_KINDS) as (keyof typeof STEP_KINDS)[]).find((k) => k in step) : undefined;
  if (!kind) {
    ctx.addIssue({ code: 'custom', message: 'a step is {call, as, region, cluster, ...}, {fault: {...}}, {advance: SECONDS}, {sweep: true} or {settle: true}' });
    return z.NEVER;
  }
  const parsed = STEP_KINDS[kind].safeParse(step);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
    return z.NEVER;
  }
  const value = parsed.data;
  if ('call' in value && value.as !== GUARD_ROLE_ACTOR && value.account !== undefined && value.account !== accountOf(value.as)) {
    ctx.addIssue({ code: 'custom', path: ['account'], message: `${value.account} is not the account of "as" (${accountOf(value.as)}): a principal acts in its own account` });
    return z.NEVER;
  }
  return value;
});
type Step = z.output<typeof callStep> | z.output<typeof faultStep> | z.output<typeof advanceStep> | z.output<typeof sweepStep> | z.output<typeof settleStep>;

const ISO_DATE_TIME = z.union([z.iso.datetime({ offset: true, local: true }), z.iso.date()]);

/**
 * An ISO date-time (`2026-01-01T00:00:00Z`, an offset, or none: read as UTC, as exemption dates are) or
 * date (midnight UTC), as epoch milliseconds; null when it is not one (or not a real calendar date).
 */
export function parseInstant(value: string): number | null {
  if (!ISO_DATE_TIME.safeParse(value).success) return null;
  const zoned = value.length > 10 && !/(Z|[+-]\d{2}:\d{2})$/i.test(value) ? `${value}Z` : value;
  const ms = Date.parse(zoned);
  return Number.isNaN(ms) ? null : ms;
}

// YAML 1.1 readers hand timestamps over as Date objects; take those too.
const startTimeSchema = z.preprocess(
  (v) => (v instanceof Date && !Number.isNaN(v.getTime()) ? v.toISOString() : v),
  z.string().transform((value, ctx) => {
    const ms = parseInstant(value);
    if (ms === null) {
      ctx.addIssue({ code: 'custom', message: `not an ISO date-time such as 2026-01-01T00:00:00Z (value: ${JSON.stringify(value)})` });
      return z.NEVER;
    }
    return ms;
  }),
);

export const scenarioSchema = emulatorStateSchema.extend({
  description: z.string().optional(),
  /** Where emulated time starts (epoch ms once parsed). Default: the real current time, as `check` judges. */
  startTime: startTimeSchema.optional(),
  /** What must come of the scenario; `simulate` exits 1 when any of it does not hold. */
  expect: expectationsSchema.optional(),
  /** Where the guard runs; other accounts are reached by assuming its role. Default: the first account. */
  guard: z
    .strictObject({
      account: z.string().regex(/^\d{12}$/).optional(),
      region: regionName.optional(),
      shadowMode: z.boolean().optional(),
      notifyCompliant: z.boolean().optional(),
      /** The stack parameter SecurityHubFindings: one finding per cluster in its own account's Security Hub. */
      securityHubFindings: z.boolean().optional(),
      maxWaitSeconds: z.int().min(60).optional(),
      /** The stack parameters Regions, GovernedOus and ExcludedAccounts. */
      regions: z.array(regionName).min(1).optional(),
      governedOus: z.array(z.string().regex(/^(ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|r-[0-9a-z]{4,32})$/, 'must be an OU id (ou-…) or the root id (r-…)')).optional(),
      excludedAccounts: z.array(z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id')).optional(),
    })
    .optional(),
  /**
   * Where the member stack is deployed: its forwarding rule in each listed region, its roles in the
   * account. Only these accounts and regions are heard in real time and reachable by the guard; the
   * others are caught by nobody (the sweep reports them uncovered). Without `members:`, the stack is
   * deployed in every account of the scenario, in every region it uses.
   */
  members: z
    .array(z.strictObject({ account: z.string().regex(/^\d{12}$/, 'must be a 12-digit AWS account id'), regions: z.array(regionName).min(1) }))
    .optional(),
  /**
   * Seeds the guard's cluster ledger before the first step: another execution's lease, earlier reverts
   * (tug-of-war history), updates the guard recorded as its own. Times are relative to the start.
   */
  ledger: z
    .array(
      z.strictObject({
        account: z.string().regex(/^\d{12}$/),
        region: z.string().min(1),
        cluster: z.string().min(1),
        lease: z.strictObject({ holder: z.string().min(1), expiresInSeconds: z.number().positive() }).optional(),
        reverts: z.array(z.strictObject({ secondsAgo: z.number().nonnegative(), actor: principalArn.optional() })).default([]),
        ownTokens: z.array(z.string().min(1)).default([]),
      }),
    )
    .default([]),
  /** How long (emulated hours after the last step) the re-checks the guard schedules are run. */
  recheckHorizonHours: z.number().positive().max(24 * 30).default(48),
  steps: z.array(stepSchema as unknown as z.ZodType<Step>).default([]),
});
export type Scenario = z.output<typeof scenarioSchema>;

export type ReportAlert = {
  subject: string;
  severity: string;
  outcome: string;
  /** With `alerts: 'full'`: the e-mail text. */
  text?: string;
  /** With `alerts: 'full'`: the chat notification (Amazon Q Developer custom notification), null when the message carried none. */
  chat?: unknown;
};

export type StepReport = { index: number; kind: string; ok: boolean; result: string };

export type SimulationReport = {
  /** Where emulated time started (ISO). */
  startTime: string;
  executions: {
    eventId: string;
    eventName: string;
    cluster: ClusterRef | null;
    outcome: string;
    reason: string | null;
    finalConfig: EndpointConfig | null;
    alerts: { subject: string; severity: string; outcome: string }[];
    stateTransitions: number;
    lambdaInvocations: number;
    /** The Express update tracker runs of the execution: how many, and their billed seconds (emulated). */
    tracker: { executions: number; billedSeconds: number };
    awsCalls: Record<string, number>;
    /** False when the outcome's alert could not be published (the execution failed; the operations alarm fired). */
    alertDelivered: boolean;
  }[];
  clusters: { name: string; account: string; region: string; config: EndpointConfig }[];
  alerts: ReportAlert[];
  /** With `guard.securityHubFindings`: every Security Hub finding at the end, per account and region. */
  findings?: { account: string; region: string; id: string; workflowStatus: string; compliance: string; severity: string; note: string | null; createdAt: string; updatedAt: string }[];
  /** Detection notices (chat, before the revert; not e-mailed, not counted as alerts), in the order sent. */
  notices: ReportAlert[];
  steps: StepReport[];
  /** What the stack's alarms sent to the operations topic (failed executions). */
  operations: { subject: string; text: string; delivered: boolean; error?: string }[];
  /** Each `sweep` step's coverage record: accounts covered, uncovered (no member role) and skipped, clusters judged and not. */
  sweeps: { index: number; status: string; coverage: CoverageRecord | null }[];
  /** Re-checks still scheduled past the horizon: the guard has not given up on these clusters. */
  pendingRechecks: { name: string; cluster: ClusterRef; dueAt: string; attempt: number }[];
  /** Only when the scenario has `expect:`: each expectation, in the order outcomes, finalConfig, alerts, pendingRechecks. */
  expectations?: ExpectationResult[];
};

export type SimulateOptions = {
  /** Emulated start, epoch ms: wins over the scenario's `startTime` (the CLI's `--now`). */
  startTime?: number;
  /** `full` adds each alert's e-mail text and chat JSON to `alerts`. Default `subjects`. */
  alerts?: 'subjects' | 'full';
  /** Real milliseconds each Wait state lasts (the demo shows progress); default 0. */
  waitMs?: number;
  onProgress?: (event: ProgressEvent) => void;
  /** Called with each step's result as it is known (a `during` call when it fires). */
  onStep?: (step: StepReport) => void;
  /** Called before each step runs (a `during` call only arms then). */
  beforeStep?: (index: number) => void;
};

/** A scenario's emulator state: the scenario without its own keys. */
export function scenarioState(scenario: Scenario) {
  const { steps: _steps, guard: _guard, description: _description, ledger: _ledger, recheckHorizonHours: _horizon, startTime: _startTime, expect: _expect, members, ...state } = scenario;
  const home = guardHome(scenario).account;
  // The guard governs an organization: a scenario without one is an organization whose management
  // account is the guard's, with every account of the scenario beneath the root.
  const organization = state.organization ?? {
    managementAccount: home,
    delegatedAdministrators: [],
    strictRoles: false,
    units: [],
    accounts: state.accounts.filter((a) => a.id !== home).map((a) => ({ id: a.id, status: 'ACTIVE' as const, joinedMethod: 'CREATED' as const, tags: {} })),
  };
  if (!members) return { ...state, organization };
  // With the member stack placed explicitly, an account without it has no role the guard may assume.
  return {
    ...state,
    accounts: state.accounts.map((a) => (a.id === home ? a : { ...a, strictRoles: true })),
    organization: { ...organization, strictRoles: true },
  };
}

/** The account and region the guard is "deployed" in: `guard:`, else the first account and the first cluster's region. */
export function guardHome(scenario: Scenario): { account: string; region: string } {
  return {
    account: scenario.guard?.account ?? scenario.accounts[0]?.id ?? scenario.clusters[0]?.account ?? '123456789012',
    region: scenario.guard?.region ?? scenario.clusters[0]?.region ?? 'us-east-1',
  };
}

/** Where the member stack is: `members:`, else every account of the scenario in every region it uses. */
export function memberDeployments(scenario: Scenario): MemberDeployment[] {
  if (scenario.members) return scenario.members;
  const home = guardHome(scenario);
  const clusters = knownClusters(scenario);
  const accounts = new Set([home.account, ...scenario.accounts.map((a) => a.id), ...(scenario.organization?.accounts ?? []).map((a) => a.id), ...clusters.map((c) => c.account)]);
  if (scenario.organization?.managementAccount) accounts.add(scenario.organization.managementAccount);
  const regions = [...new Set([home.region, ...clusters.map((c) => c.region), ...scenario.steps.flatMap((s) => ('call' in s ? [s.region] : []))])];
  return [...accounts].map((account) => ({ account, regions }));
}

/** The clusters a scenario has or creates, for `expect:` to name. */
function knownClusters(scenario: Scenario): ClusterRef[] {
  const home = guardHome(scenario).account;
  const created = scenario.steps.flatMap((s) =>
    'call' in s && s.call === 'createCluster' ? [{ name: s.cluster, region: s.region, account: s.as === GUARD_ROLE_ACTOR ? (s.account ?? home) : accountOf(s.as)! }] : [],
  );
  return [...scenario.clusters.map((c) => ({ name: c.name, account: c.account, region: c.region })), ...created];
}

/** `members:` may name only accounts the scenario has (declared, or in its organization), each once. */
function memberProblems(scenario: Scenario): string[] {
  const known = new Set([...scenario.accounts.map((a) => a.id), ...(scenario.organization?.accounts ?? []).map((a) => a.id)]);
  if (scenario.organization) known.add(scenario.organization.managementAccount);
  const seen = new Set<string>();
  const problems: string[] = [];
  const home = guardHome(scenario).account;
  const inOrganization = new Set([...(scenario.organization?.accounts ?? []).map((a) => a.id), scenario.organization?.managementAccount]);
  if (scenario.organization && !inOrganization.has(home)) {
    problems.push(`guard.account: ${home} is not in the organization: the central stack runs in its management account or a delegated administrator`);
  }
  for (const [i, m] of (scenario.members ?? []).entries()) {
    if (!known.has(m.account)) problems.push(`members[${i}].account: account ${m.account} is not declared in accounts or the organization`);
    if (seen.has(m.account)) problems.push(`members[${i}].account: account ${m.account} is listed twice (list every region of one stack instance set together)`);
    seen.add(m.account);
  }
  return problems;
}

/** Validates a scenario document, naming every bad path. */
export function parseScenario(doc: unknown, source = 'scenario'): Scenario {
  const parsed = scenarioSchema.safeParse(doc);
  if (!parsed.success) throw new InputError(parsed.error.issues.map((i) => `${source}: ${formatPath(i.path)}: ${i.message}`));
  const problems = [...stateReferenceProblems(parsed.data), ...memberProblems(parsed.data), ...(parsed.data.expect ? expectationReferenceProblems(parsed.data.expect, knownClusters(parsed.data)) : [])];
  if (problems.length > 0) throw new InputError(problems.map((p) => `${source}: ${p}`));
  return parsed.data;
}

async function runCall(emulator: Emulator, step: z.output<typeof callStep>, homeAccount: string): Promise<string> {
  // The guard's role: its function role at home, its member write role elsewhere.
  const guardAccount = step.account ?? homeAccount;
  const as = step.as === GUARD_ROLE_ACTOR ? `arn:aws:sts::${guardAccount}:assumed-role/${guardAccount === homeAccount ? GUARD_ROLE_NAME : MEMBER_WRITE_ROLE_NAME}/borrowed-session` : step.as;
  const account = accountOf(as)!;
  const credentials = emulator.credentialsFor(as, { sourceIp: step.sourceIp ?? '203.0.113.24', userAgent: step.userAgent ?? 'aws-cli/2.17.20 md/command#eks' });
  const client = new EKSClient({ region: step.region, endpoint: emulator.url, credentials, maxAttempts: 1 });
  const clusterArn = `arn:aws:eks:${step.region}:${account}:cluster/${step.cluster}`;
  try {
    if (step.call === 'createCluster') {
      const out = await client.send(
        new CreateClusterCommand({ name: step.cluster, roleArn: `arn:aws:iam::${account}:role/eks-cluster`, resourcesVpcConfig: step.resourcesVpcConfig, tags: step.tags }),
      );
      return `cluster ${out.cluster?.name} ${out.cluster?.status}`;
    }
    if (step.call === 'deleteCluster') {
      const out = await client.send(new DeleteClusterCommand({ name: step.cluster }));
      return `cluster ${out.cluster?.name} ${out.cluster?.status}`;
    }
    if (step.call === 'tagResource') {
      await client.send(new TagResourceCommand({ resourceArn: clusterArn, tags: step.tags ?? {} }));
      return `tagged ${step.cluster}: ${Object.entries(step.tags ?? {}).map(([k, v]) => `${k}=${v}`).join(', ')}`;
    }
    if (step.call === 'untagResource') {
      await client.send(new UntagResourceCommand({ resourceArn: clusterArn, tagKeys: step.tagKeys ?? [] }));
      return `untagged ${step.cluster}: ${(step.tagKeys ?? []).join(', ')}`;
    }
    const out = await client.send(
      new UpdateClusterConfigCommand({ name: step.cluster, resourcesVpcConfig: step.resourcesVpcConfig, logging: step.logging as never }),
    );
    return `update ${out.update?.id} ${out.update?.status}`;
  } finally {
    client.destroy();
  }
}

async function summarize(delivery: DeliveryRecord, readConfig: (c: ClusterRef) => Promise<EndpointConfig | null>): Promise<SimulationReport['executions']> {
  const t = delivery.triage;
  const base = { eventId: t?.eventId ?? '?', eventName: t?.eventName ?? '?', cluster: t?.cluster ?? null };
  const toEntry = (e: ExecutionRecord) => ({
    ...base,
    eventId: e.eventId,
    eventName: e.input.trigger.eventName,
    cluster: e.cluster,
    outcome: e.outcome,
    reason: e.error,
    finalConfig: e.finalConfig,
    alerts: e.alerts.map(({ subject, severity, outcome }) => ({ subject, severity, outcome })),
    stateTransitions: e.stateTransitions,
    lambdaInvocations: e.lambdaInvocations,
    tracker: { executions: e.tracker.executions, billedSeconds: e.tracker.billedMs / 1000 },
    awsCalls: e.awsCalls,
    alertDelivered: e.alertDelivered,
  });
  if (delivery.executions.length > 0) return delivery.executions.map(toEntry);
  // A sweep that found nothing to do is not an event.
  if (delivery.event === null) return [];
  const reason = delivery.error ?? t?.reason ?? (delivery.started ? null : 'DUPLICATE_EVENT');
  const finalConfig = base.cluster ? await readConfig(base.cluster) : null;
  return [{ ...base, outcome: 'ignored', reason, finalConfig, alerts: [], stateTransitions: 0, lambdaInvocations: 0, tracker: { executions: 0, billedSeconds: 0 }, awsCalls: {}, alertDelivered: true }];
}

/**
 * One entry per event: an execution belongs to the event that started it. An event delivered while
 * another execution ran has its execution run by whichever delivery drained the queue next; move each
 * execution to the delivery that named it (re-checks and sweeps keep theirs).
 */
function attributeExecutions(deliveries: DeliveryRecord[]): DeliveryRecord[] {
  const starters = new Map(deliveries.filter((d) => d.executionName).map((d) => [d.executionName!, d]));
  const moved = deliveries.map((d) => ({ ...d, executions: [] as ExecutionRecord[] }));
  const byOriginal = new Map(deliveries.map((d, i) => [d, moved[i]!]));
  for (const d of deliveries) {
    for (const e of d.executions) {
      const starter = starters.get(e.name);
      (starter ? byOriginal.get(starter)! : byOriginal.get(d)!).executions.push(e);
    }
  }
  return moved;
}

/** Writes the scenario's `ledger:` seed through the guard's own ledger code. */
export async function seedLedger(ledger: LedgerPort, seed: Scenario['ledger'], now: number): Promise<void> {
  for (const entry of seed) {
    const cluster = { account: entry.account, region: entry.region, name: entry.cluster };
    await ledger.mutate(cluster, (current) => {
      const next: ClusterLedger = {
        ...current,
        lease: entry.lease ? { holder: entry.lease.holder, acquiredAt: now, expiresAt: now + entry.lease.expiresInSeconds * 1000 } : current.lease,
        reverts: [
          ...current.reverts,
          ...entry.reverts.map((r, i) => ({
            at: now - r.secondsAgo * 1000,
            execution: `seeded-revert-${i}`,
            updateId: null,
            actors: r.actor ? [{ arn: r.actor, type: 'AssumedRole', sourceIPAddress: null, userAgent: null }] : [],
          })),
        ].sort((a, b) => a.at - b.at),
        ownUpdates: [
          ...current.ownUpdates,
          ...entry.ownTokens.map((token) => ({ token, updateId: null, execution: 'seeded', at: now, target: { endpointPublicAccess: false, endpointPrivateAccess: true } })),
        ],
      };
      return { next, result: null };
    });
  }
}

/**
 * The alerts as published, with what e-mail subscribers read and the chat JSON chat subscribers get (the
 * `https` part of the per-protocol message). Read from the topic rather than rendered again, so the
 * report shows what SNS took, shortened or not.
 */
function fullAlerts(emulator: Emulator, topicArn: string, kind: 'alerts' | 'notices' = 'alerts'): ReportAlert[] {
  return emulator
    .publishedMessages()
    .filter((m) => m.topicArn === topicArn && isDetection(m.messageAttributes) === (kind === 'notices'))
    .map((m) => {
      const attrs: Partial<typeof m.messageAttributes> = m.messageAttributes;
      let parts: { default?: string; email?: string; https?: string } = {};
      try {
        parts = m.messageStructure === 'json' ? (JSON.parse(m.message) as typeof parts) : { default: m.message };
      } catch {
        parts = { default: m.message };
      }
      let chat: unknown = null;
      try {
        chat = parts.https !== undefined ? JSON.parse(parts.https) : null;
      } catch {
        chat = parts.https ?? null;
      }
      return { subject: m.subject ?? '', severity: attrs.severity?.StringValue ?? '', outcome: attrs.outcome?.StringValue ?? '', text: parts.email ?? parts.default ?? m.message, chat };
    });
}

/** A detection notice (kind=detection): told before the revert, to chat; not one of the alerts counted. */
function isDetection(attributes: unknown): boolean {
  const kind = (attributes as Record<string, { StringValue?: string } | undefined> | undefined)?.kind;
  return kind?.StringValue === 'detection';
}

/** Runs a scenario against a fresh emulator with the given policy and reports what happened. */
export async function simulate(scenario: Scenario, policy: Policy, options: SimulateOptions = {}): Promise<SimulationReport> {
  const startMs = options.startTime ?? scenario.startTime ?? Date.now();
  const clock = manualClock(startMs);
  const { steps, guard: guardOptions, ledger: ledgerSeed, recheckHorizonHours, expect } = scenario;
  const emulator = await startEmulator({ state: scenarioState(scenario), clock });
  const { account: homeAccount, region: homeRegion } = guardHome(scenario);
  // `during` steps wait here until the workflow reaches their state.
  const armed: { index: number; step: z.output<typeof callStep>; seen: number }[] = [];
  const fired: StepReport[] = [];
  const report: SimulationReport = { startTime: new Date(startMs).toISOString(), executions: [], clusters: [], alerts: [], notices: [], steps: [], operations: [], pendingRechecks: [], sweeps: [] };
  const record = (into: StepReport[], step: StepReport) => {
    into.push(step);
    options.onStep?.(step);
  };
  const beforeTask = async (task: { state: string }) => {
    for (const entry of [...armed]) {
      if (entry.step.during!.state !== task.state) continue;
      entry.seen += 1;
      if (entry.seen < entry.step.during!.occurrence) continue;
      armed.splice(armed.indexOf(entry), 1);
      try {
        record(fired, { index: entry.index, kind: entry.step.call, ok: true, result: `during ${task.state}: ${await runCall(emulator, entry.step, homeAccount)}` });
      } catch (err) {
        record(fired, { index: entry.index, kind: entry.step.call, ok: false, result: `during ${task.state}: ${(err as Error).name}: ${(err as Error).message}` });
      }
    }
  };
  const members = memberDeployments(scenario);
  let guard: Awaited<ReturnType<typeof startLocalGuard>>;
  try {
    guard = await startLocalGuard({ emulator, policy, homeAccount, homeRegion, ...guardOptions, members, beforeTask, waitMs: options.waitMs ?? 0, onProgress: options.onProgress });
  } catch (err) {
    // Deploying into the emulator failed: stop it, or the open server keeps the process alive.
    await emulator.close();
    throw err;
  }
  try {
    await seedLedger(guard.ledger, ledgerSeed, clock.now());
    const deliveries: DeliveryRecord[] = [];
    for (const [index, step] of steps.entries()) {
      options.beforeStep?.(index);
      if ('call' in step && step.during) {
        armed.push({ index, step, seen: 0 });
      } else if ('call' in step) {
        try {
          record(report.steps, { index, kind: step.call, ok: true, result: await runCall(emulator, step, homeAccount) });
        } catch (err) {
          record(report.steps, { index, kind: step.call, ok: false, result: `${(err as Error).name}: ${(err as Error).message}` });
        }
      } else if ('fault' in step) {
        if (step.fault.kind === 'platform-update') {
          const f = step.fault as z.output<typeof platformUpdateFault>;
          try {
            const update = emulator.startPlatformUpdate({ account: f.account, region: f.region, cluster: f.cluster, seconds: f.seconds });
            record(report.steps, { index, kind: 'fault', ok: true, result: `platform update ${String(update.id)} started on ${f.cluster}` });
          } catch (err) {
            record(report.steps, { index, kind: 'fault', ok: false, result: (err as Error).message });
          }
        } else {
          emulator.setFault(step.fault as z.output<typeof faultSchema>);
          record(report.steps, { index, kind: 'fault', ok: true, result: `${step.fault.kind} fault set` });
        }
      } else if ('settle' in step) {
        const handled = await guard.processPending();
        deliveries.push(...handled);
        record(report.steps, { index, kind: 'settle', ok: true, result: `${handled.length} event(s) handled` });
      } else if ('advance' in step) {
        // Re-checks the guard scheduled within the time that passes run on their own time.
        // (Only when one is due: an advance otherwise just moves the clock, events wait for settle/sweep/the end.)
        const until = clock.now() + step.advance * 1000;
        const due = guard.runner.pendingRechecks().some((p) => p.dueAt <= until);
        const ran = due ? await guard.runRechecks(until) : [];
        deliveries.push(...ran);
        clock.advance(Math.max(0, until - clock.now()));
        const rechecks = ran.reduce((n, d) => n + (d.event === null ? d.executions.length : 0), 0);
        record(report.steps, { index, kind: 'advance', ok: true, result: `clock advanced ${step.advance}s${rechecks ? `; ${rechecks} re-check(s) ran` : ''}` });
      } else {
        deliveries.push(...(await guard.processPending()));
        const { executions, error, result } = await guard.runner.sweep(new Date(clock.now()).toISOString());
        deliveries.push({ event: null, triage: null, filtered: false, executionName: null, started: true, error: null, executions });
        report.sweeps.push({ index, status: result.status, coverage: result.coverage });
        const c = result.coverage;
        const started = `${c ? `${c.clusters.judged}/${c.clusters.listed} cluster(s) judged, ` : ''}${executions.length} execution(s) started`;
        record(report.steps, { index, kind: 'sweep', ok: error === null, result: error === null ? started : `${started}; ${error}` });
      }
    }
    deliveries.push(...(await guard.processPending()));
    // The guard does not give up: run the re-checks it scheduled until none is left (or the horizon).
    deliveries.push(...(await guard.runRechecks(clock.now() + recheckHorizonHours * 3_600_000)));
    report.steps.push(...fired);
    for (const { index, step } of armed) {
      record(report.steps, { index, kind: step.call, ok: false, result: `never made: the workflow did not reach ${step.during!.state} (occurrence ${step.during!.occurrence})` });
    }
    report.steps.sort((a, b) => a.index - b.index);
    report.pendingRechecks = guard.runner.pendingRechecks().map((p) => ({ ...p, dueAt: new Date(p.dueAt).toISOString() }));
    // The guard's own refused calls (ResourceInUseException while it waits out a busy cluster) are
    // filtered by the rule and are not events of the scenario: leave them out of the report.
    const guardRoles = [GUARD_ROLE_NAME, MEMBER_WRITE_ROLE_NAME, MEMBER_READ_ROLE_NAME].map((r) => `:assumed-role/${r}/`);
    const ownFailures = (d: DeliveryRecord) => d.filtered && /:assumed-role\/[^/]+\/eks-endpoint-guard/.test(d.triage?.actor?.arn ?? '') && guardRoles.some((r) => (d.triage?.actor?.arn ?? '').includes(r));
    const entries = await Promise.all(attributeExecutions(deliveries).filter((d) => !ownFailures(d)).map((d) => summarize(d, guard.readConfig)));
    report.executions = entries.flat();
    report.operations = guard.operations();
    report.alerts = options.alerts === 'full' ? fullAlerts(emulator, guard.topicArn) : guard.alerts().map(({ subject, severity, outcome }) => ({ subject, severity, outcome }));
    if (guardOptions?.securityHubFindings) {
      report.findings = emulator.findings().map((f) => {
        const x = f as unknown as { AwsAccountId: string; Region: string; Id: string; Workflow?: { Status?: string }; Compliance?: { Status?: string }; Severity?: { Label?: string }; Note?: { Text?: string }; CreatedAt: string; UpdatedAt: string };
        return { account: x.AwsAccountId, region: x.Region, id: x.Id, workflowStatus: x.Workflow?.Status ?? '', compliance: x.Compliance?.Status ?? '', severity: x.Severity?.Label ?? '', note: x.Note?.Text ?? null, createdAt: x.CreatedAt, updatedAt: x.UpdatedAt };
      });
    }
    const notices = fullAlerts(emulator, guard.topicArn, 'notices');
    report.notices = options.alerts === 'full' ? notices : notices.map(({ subject, severity, outcome }) => ({ subject, severity, outcome }));
    report.clusters = emulator.snapshot().clusters.map((c) => ({
      name: c.name,
      account: c.account,
      region: c.region,
      config: { endpointPublicAccess: c.config.endpointPublicAccess, endpointPrivateAccess: c.config.endpointPrivateAccess, publicAccessCidrs: c.config.publicAccessCidrs },
    }));
    if (expect) report.expectations = checkExpectations(expect, report);
    return report;
  } finally {
    guard.close();
    await emulator.close();
  }
}
