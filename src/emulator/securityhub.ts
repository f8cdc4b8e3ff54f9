import { partitionOf } from '../findings/arn';
import { AwsError, type CallContext, type Env, type Reply, type Service } from './protocol';
import type { ResolvedSecurityHubState } from './securityhub-state';

/**
 * AWS Security Hub findings as a finding provider and its customers see them: BatchImportFindings,
 * GetFindings and BatchUpdateFindings over REST-JSON (SigV4 service `securityhub`), in the hub of the
 * caller's account and region.
 *
 * What is modelled, after the API reference and the user guide:
 * - A hub must be enabled in the caller's account and region (see securityhub-state.ts), otherwise
 *   InvalidAccessException, 401.
 * - BatchImportFindings takes 1-100 findings and at most 240 KB per request (InvalidInputException
 *   otherwise; a request within the limit holds no finding above AWS's 240 KB per finding). A finding that
 *   lacks a required ASFF field fails alone with InvalidInput; one whose AwsAccountId is not the caller's
 *   account, or whose ProductArn is not the caller's default product ARN, fails alone with
 *   AccessDeniedException. Both are listed in FailedFindings, the call itself succeeds.
 * - Importing an Id again (same ProductArn) replaces the finding, but Workflow, Note, UserDefinedFields
 *   and VerificationState stay as they were (they belong to the people triaging it), as do Severity,
 *   Types, Confidence, Criticality and RelatedFindings once BatchUpdateFindings set them. CreatedAt and
 *   FirstObservedAt stay those of the first import. An import whose UpdatedAt is older than the stored
 *   finding's is ignored and counted as a success.
 * - Security Hub's own workflow transitions on import: Compliance.Status PASSED moves NEW or NOTIFIED to
 *   RESOLVED; NOTIFIED or RESOLVED go back to NEW when Compliance.Status changes from PASSED to FAILED,
 *   WARNING or NOT_AVAILABLE, or RecordState from ARCHIVED to ACTIVE. SUPPRESSED is never changed.
 * - BatchUpdateFindings does not change UpdatedAt, and reports FindingNotFound,
 *   DuplicatedFindingIdentifier and InvalidInput per identifier in UnprocessedFindings.
 * Not modelled: administrator accounts reading or updating their members' findings, partner product ARNs,
 * the 90-day expiry of findings, SortCriteria and filters other than the string filters listed in FIELDS.
 */

export const MAX_IMPORT_FINDINGS = 100;
/** BatchImportFindings refuses a request body above 240 KB. */
export const MAX_IMPORT_BYTES = 240 * 1024;
export const MAX_UPDATE_IDENTIFIERS = 100;
const MAX_RESULTS = 100;
const MAX_RESOURCES = 32;
const SCHEMA_VERSION = '2018-10-08';

type WorkflowStatus = 'NEW' | 'NOTIFIED' | 'RESOLVED' | 'SUPPRESSED';

/** A stored finding, in ASFF (the fields below are always present; any other ASFF field as imported). */
export type SecurityHubFinding = {
  SchemaVersion: string;
  Id: string;
  ProductArn: string;
  GeneratorId: string;
  AwsAccountId: string;
  Region: string;
  CreatedAt: string;
  UpdatedAt: string;
  FirstObservedAt?: string;
  /** When Security Hub last accepted an import of the finding (the emulator's clock). */
  ProcessedAt: string;
  Title: string;
  Description: string;
  Types: string[];
  Severity: { Label: string; Normalized: number };
  Resources: { Type: string; Id: string; [key: string]: unknown }[];
  Compliance?: { Status?: string; [key: string]: unknown };
  Workflow: { Status: WorkflowStatus };
  RecordState: 'ACTIVE' | 'ARCHIVED';
  Note?: { Text: string; UpdatedBy: string; UpdatedAt: string };
  [key: string]: unknown;
};

export type SecurityHubSnapshot = {
  /** Where Security Hub is enabled: everywhere (no `securityHub.hubs` in the state), or the hubs listed. */
  enabled: 'everywhere' | { account: string; region: string }[];
  /** Every finding of every hub, in the order the findings were created. */
  findings: { account: string; region: string; finding: SecurityHubFinding }[];
};

type Doc = Record<string, any>;

type Stored = {
  finding: SecurityHubFinding;
  /** Fields BatchUpdateFindings set: later imports leave them as the customer set them. */
  customerSet: Set<string>;
};

const SEVERITY_LABELS = ['INFORMATIONAL', 'LOW', 'MEDIUM', 'HIGH', 'CRITICAL'] as const;
const COMPLIANCE_STATUSES = ['PASSED', 'WARNING', 'FAILED', 'NOT_AVAILABLE'];
const WORKFLOW_STATUSES: WorkflowStatus[] = ['NEW', 'NOTIFIED', 'RESOLVED', 'SUPPRESSED'];
const RECORD_STATES = ['ACTIVE', 'ARCHIVED'];
const VERIFICATION_STATES = ['UNKNOWN', 'TRUE_POSITIVE', 'FALSE_POSITIVE', 'BENIGN_POSITIVE'];
/** What BatchImportFindings never changes on an existing finding. */
const TRIAGE_FIELDS = ['Workflow', 'Note', 'UserDefinedFields', 'VerificationState'];

/** ASFF's Severity.Normalized of a label, as Security Hub fills it in when only the label is given. */
const NORMALIZED_OF: Record<string, number> = { INFORMATIONAL: 0, LOW: 1, MEDIUM: 40, HIGH: 70, CRITICAL: 90 };

function labelOf(normalized: number): string {
  if (normalized === 0) return 'INFORMATIONAL';
  if (normalized < 40) return 'LOW';
  if (normalized < 70) return 'MEDIUM';
  if (normalized < 90) return 'HIGH';
  return 'CRITICAL';
}

const invalidInput = (message: string) => new AwsError('InvalidInputException', message, 400);
const isObject = (v: unknown): v is Doc => typeof v === 'object' && v !== null && !Array.isArray(v);
const nonEmpty = (v: unknown): v is string => typeof v === 'string' && v !== '';
const hubKey = (account: string, region: string) => `${account}/${region}`;
const findingKey = (productArn: string, id: string) => `${productArn}\n${id}`;
const isTimestamp = (v: unknown) => typeof v === 'string' && /^\d{4}-\d{2}-\d{2}T/.test(v) && !Number.isNaN(Date.parse(v));

/** The product ARN a finding of the caller's own account is imported under. */
export function defaultProductArn(account: string, region: string): string {
  return `arn:${partitionOf(region)}:securityhub:${region}:${account}:product/${account}/default`;
}

/** Why an imported finding is not valid ASFF, or an empty list. */
function asffProblems(f: Doc): string[] {
  const problems: string[] = [];
  for (const field of ['SchemaVersion', 'Id', 'ProductArn', 'GeneratorId', 'AwsAccountId', 'CreatedAt', 'UpdatedAt', 'Title', 'Description']) {
    if (!nonEmpty(f[field])) problems.push(`${field} is required`);
  }
  if (nonEmpty(f.SchemaVersion) && f.SchemaVersion !== SCHEMA_VERSION) problems.push(`SchemaVersion must be ${SCHEMA_VERSION}`);
  for (const field of ['CreatedAt', 'UpdatedAt', 'FirstObservedAt', 'LastObservedAt']) {
    if (f[field] !== undefined && !isTimestamp(f[field])) problems.push(`${field} must be an ISO 8601 timestamp`);
  }
  if (typeof f.Id === 'string' && f.Id.length > 512) problems.push('Id must be at most 512 characters');
  if (typeof f.Title === 'string' && f.Title.length > 256) problems.push('Title must be at most 256 characters');
  if (typeof f.Description === 'string' && f.Description.length > 1024) problems.push('Description must be at most 1024 characters');
  if (!Array.isArray(f.Resources) || f.Resources.length === 0) problems.push('Resources is required (at least one resource)');
  else if (f.Resources.length > MAX_RESOURCES) problems.push(`Resources holds at most ${MAX_RESOURCES} resources`);
  else if (!f.Resources.every((r: unknown) => isObject(r) && nonEmpty(r.Type) && nonEmpty(r.Id))) problems.push('every resource needs a Type and an Id');
  const provider = isObject(f.FindingProviderFields) ? f.FindingProviderFields : {};
  if (f.Types === undefined && provider.Types === undefined) problems.push('Types (or FindingProviderFields.Types) is required');
  for (const [at, types] of [['Types', f.Types], ['FindingProviderFields.Types', provider.Types]] as const) {
    if (types !== undefined && (!Array.isArray(types) || types.length === 0 || !types.every(nonEmpty))) problems.push(`${at} must be a non-empty list of strings`);
  }
  if (f.Severity === undefined && provider.Severity === undefined) problems.push('Severity (or FindingProviderFields.Severity) is required');
  for (const [at, s] of [['Severity', f.Severity], ['FindingProviderFields.Severity', provider.Severity]] as const) {
    if (s === undefined) continue;
    if (!isObject(s) || (s.Label === undefined && s.Normalized === undefined)) {
      problems.push(`${at} needs a Label or a Normalized value`);
      continue;
    }
    if (s.Label !== undefined && !SEVERITY_LABELS.includes(s.Label)) problems.push(`${at}.Label must be one of ${SEVERITY_LABELS.join(', ')}`);
    if (s.Normalized !== undefined && !(Number.isInteger(s.Normalized) && s.Normalized >= 0 && s.Normalized <= 100)) problems.push(`${at}.Normalized must be an integer from 0 to 100`);
  }
  if (f.Compliance?.Status !== undefined && !COMPLIANCE_STATUSES.includes(f.Compliance.Status)) problems.push(`Compliance.Status must be one of ${COMPLIANCE_STATUSES.join(', ')}`);
  if (f.Workflow?.Status !== undefined && !WORKFLOW_STATUSES.includes(f.Workflow.Status)) problems.push(`Workflow.Status must be one of ${WORKFLOW_STATUSES.join(', ')}`);
  if (f.RecordState !== undefined && !RECORD_STATES.includes(f.RecordState)) problems.push(`RecordState must be ACTIVE or ARCHIVED`);
  if (f.Note !== undefined) {
    if (!isObject(f.Note) || !nonEmpty(f.Note.Text) || !nonEmpty(f.Note.UpdatedBy) || !isTimestamp(f.Note.UpdatedAt)) problems.push('Note needs Text, UpdatedBy and UpdatedAt');
    else if (f.Note.Text.length > 512) problems.push('Note.Text must be at most 512 characters');
  }
  return problems;
}

/** The severity with both Label and Normalized, as Security Hub stores it. */
function fullSeverity(s: Doc): { Label: string; Normalized: number } & Doc {
  const label = s.Label ?? labelOf(s.Normalized);
  return { ...s, Label: label, Normalized: s.Normalized ?? NORMALIZED_OF[label]! };
}

/**
 * The finding as Security Hub stores it on import: severity and types from FindingProviderFields when
 * given (that is where providers set them), the provider fields filled from the top level otherwise, and
 * the defaults (RecordState ACTIVE, Workflow NEW) and Security Hub's own Region and ProcessedAt.
 */
function asStored(raw: Doc, region: string, nowIso: string): SecurityHubFinding {
  const f = structuredClone(raw);
  const provider: Doc = isObject(f.FindingProviderFields) ? f.FindingProviderFields : {};
  const severity = fullSeverity(provider.Severity ?? f.Severity);
  const types = [...(provider.Types ?? f.Types)];
  const stored: Doc = {
    ...f,
    Region: region,
    ProcessedAt: nowIso,
    Types: types,
    Severity: severity,
    FindingProviderFields: { ...provider, Severity: provider.Severity ?? { Label: severity.Label }, Types: provider.Types ?? types },
    RecordState: f.RecordState ?? 'ACTIVE',
    Workflow: { Status: f.Workflow?.Status ?? 'NEW' },
  };
  return stored as SecurityHubFinding;
}

/** Security Hub's automatic workflow transitions when an import changes a finding. */
function workflowAfterImport(previous: SecurityHubFinding, next: SecurityHubFinding): WorkflowStatus {
  const status = previous.Workflow.Status;
  if (status === 'SUPPRESSED') return status;
  const compliance = next.Compliance?.Status;
  if (compliance === 'PASSED' && (status === 'NEW' || status === 'NOTIFIED')) return 'RESOLVED';
  const failedAgain = previous.Compliance?.Status === 'PASSED' && (compliance === 'FAILED' || compliance === 'WARNING' || compliance === 'NOT_AVAILABLE');
  const unarchived = previous.RecordState === 'ARCHIVED' && next.RecordState === 'ACTIVE';
  if ((status === 'NOTIFIED' || status === 'RESOLVED') && (failedAgain || unarchived)) return 'NEW';
  return status;
}

// --- GetFindings filters -------------------------------------------------------------------------------

const strings = (...values: unknown[]): string[] => values.filter((v): v is string => typeof v === 'string');
const resources = (f: SecurityHubFinding) => (Array.isArray(f.Resources) ? f.Resources : []);

/** The string filters GetFindings implements, and the values of a finding each one tests. */
const FIELDS: Record<string, (f: SecurityHubFinding) => string[]> = {
  Id: (f) => strings(f.Id),
  ProductArn: (f) => strings(f.ProductArn),
  AwsAccountId: (f) => strings(f.AwsAccountId),
  GeneratorId: (f) => strings(f.GeneratorId),
  Region: (f) => strings(f.Region),
  Type: (f) => strings(...(f.Types ?? [])),
  Title: (f) => strings(f.Title),
  Description: (f) => strings(f.Description),
  SeverityLabel: (f) => strings(f.Severity?.Label),
  ComplianceStatus: (f) => strings(f.Compliance?.Status),
  WorkflowStatus: (f) => strings(f.Workflow?.Status),
  RecordState: (f) => strings(f.RecordState),
  ResourceType: (f) => strings(...resources(f).map((r) => r.Type)),
  ResourceId: (f) => strings(...resources(f).map((r) => r.Id)),
  ResourceRegion: (f) => strings(...resources(f).map((r) => r.Region)),
  ResourcePartition: (f) => strings(...resources(f).map((r) => r.Partition)),
};

type Comparison = 'EQUALS' | 'PREFIX' | 'CONTAINS' | 'NOT_EQUALS' | 'PREFIX_NOT_EQUALS' | 'NOT_CONTAINS';
type StringFilter = { Value: string; Comparison: Comparison };

/** The positive test behind each comparison; the NOT_ ones negate theirs. */
const TESTS: Record<Comparison, (value: string, filter: string) => boolean> = {
  EQUALS: (v, f) => v === f,
  PREFIX: (v, f) => v.startsWith(f),
  CONTAINS: (v, f) => v.includes(f),
  NOT_EQUALS: (v, f) => v === f,
  PREFIX_NOT_EQUALS: (v, f) => v.startsWith(f),
  NOT_CONTAINS: (v, f) => v.includes(f),
};
const NEGATIVE = new Set<Comparison>(['NOT_EQUALS', 'PREFIX_NOT_EQUALS', 'NOT_CONTAINS']);

function parseFilters(doc: unknown): [string, StringFilter[]][] {
  if (doc === undefined) return [];
  if (!isObject(doc)) throw invalidInput('Filters must be an object.');
  return Object.entries(doc).map(([name, list]) => {
    if (!Object.hasOwn(FIELDS, name)) throw invalidInput(`The emulator's GetFindings does not implement the filter ${name}; it filters on ${Object.keys(FIELDS).join(', ')}.`);
    if (!Array.isArray(list)) throw invalidInput(`Filters.${name} must be a list of string filters.`);
    const filters = list.map((f: unknown, i) => {
      if (!isObject(f) || typeof f.Value !== 'string' || typeof f.Comparison !== 'string') throw invalidInput(`Filters.${name}[${i}] needs a Value and a Comparison.`);
      if (!Object.hasOwn(TESTS, f.Comparison)) throw invalidInput(`Filters.${name}[${i}].Comparison ${f.Comparison} is not one the emulator implements (${Object.keys(TESTS).join(', ')}).`);
      return f as StringFilter;
    });
    const used = new Set(filters.map((f) => f.Comparison));
    // The combinations Security Hub refuses on one field.
    if ((used.has('CONTAINS') && used.size > 1) || (used.has('NOT_CONTAINS') && used.size > 1)) {
      throw invalidInput(`Filters.${name}: CONTAINS and NOT_CONTAINS filters can only be combined with filters of the same comparison.`);
    }
    if (used.has('EQUALS') && (used.has('NOT_EQUALS') || used.has('PREFIX_NOT_EQUALS'))) {
      throw invalidInput(`Filters.${name}: an EQUALS filter cannot be combined with NOT_EQUALS or PREFIX_NOT_EQUALS on the same field.`);
    }
    return [name, filters] as [string, StringFilter[]];
  });
}

/**
 * EQUALS, PREFIX and CONTAINS filters of one field are joined by OR, the NOT_ ones by AND, and fields by
 * AND. A field with several values (ResourceId of a finding with several resources) matches a positive
 * filter when any value does, and a negative one when none contradicts it.
 */
function matches(finding: SecurityHubFinding, filters: [string, StringFilter[]][]): boolean {
  return filters.every(([name, list]) => {
    const values = FIELDS[name]!(finding);
    const positive = list.filter((f) => !NEGATIVE.has(f.Comparison));
    const negative = list.filter((f) => NEGATIVE.has(f.Comparison));
    const anyPositive = positive.length === 0 || positive.some((f) => values.some((v) => TESTS[f.Comparison](v, f.Value)));
    return anyPositive && negative.every((f) => !values.some((v) => TESTS[f.Comparison](v, f.Value)));
  });
}

function pageStart(token: unknown, total: number): number {
  if (token === undefined || token === null || token === '') return 0;
  const start = typeof token === 'string' ? Number(Buffer.from(token, 'base64url').toString('utf8')) : NaN;
  if (!Number.isInteger(start) || start < 0 || start > total) throw invalidInput('The NextToken is not valid.');
  return start;
}

// --- BatchUpdateFindings -------------------------------------------------------------------------------

type FindingUpdate = (finding: SecurityHubFinding, customerSet: Set<string>) => void;

/** The changes a BatchUpdateFindings request makes, validated as a whole before any finding is touched. */
function parseUpdate(doc: Doc, nowIso: string): FindingUpdate[] {
  const updates: FindingUpdate[] = [];
  if (doc.Workflow !== undefined) {
    const status = doc.Workflow?.Status;
    if (!WORKFLOW_STATUSES.includes(status)) throw invalidInput(`Workflow.Status must be one of ${WORKFLOW_STATUSES.join(', ')}.`);
    updates.push((f) => (f.Workflow = { Status: status }));
  }
  if (doc.Note !== undefined) {
    const note = doc.Note;
    if (!isObject(note) || !nonEmpty(note.Text) || !nonEmpty(note.UpdatedBy)) throw invalidInput('Note needs Text and UpdatedBy.');
    if (note.Text.length > 512 || note.UpdatedBy.length > 512) throw invalidInput('Note.Text and Note.UpdatedBy must be at most 512 characters.');
    updates.push((f) => (f.Note = { Text: note.Text, UpdatedBy: note.UpdatedBy, UpdatedAt: nowIso }));
  }
  if (doc.Severity !== undefined) {
    const s = doc.Severity;
    if (!isObject(s) || (s.Label === undefined && s.Normalized === undefined)) throw invalidInput('Severity needs a Label or a Normalized value.');
    if (s.Label !== undefined && !SEVERITY_LABELS.includes(s.Label)) throw invalidInput(`Severity.Label must be one of ${SEVERITY_LABELS.join(', ')}.`);
    if (s.Normalized !== undefined && !(Number.isInteger(s.Normalized) && s.Normalized >= 0 && s.Normalized <= 100)) throw invalidInput('Severity.Normalized must be an integer from 0 to 100.');
    const severity = fullSeverity({ ...(s.Label !== undefined ? { Label: s.Label } : {}), ...(s.Normalized !== undefined ? { Normalized: s.Normalized } : {}) });
    updates.push((f, set) => {
      f.Severity = severity;
      set.add('Severity');
    });
  }
  for (const field of ['Confidence', 'Criticality'] as const) {
    if (doc[field] === undefined) continue;
    const n = doc[field];
    if (!Number.isInteger(n) || n < 0 || n > 100) throw invalidInput(`${field} must be an integer from 0 to 100.`);
    updates.push((f, set) => {
      f[field] = n;
      set.add(field);
    });
  }
  if (doc.VerificationState !== undefined) {
    if (!VERIFICATION_STATES.includes(doc.VerificationState)) throw invalidInput(`VerificationState must be one of ${VERIFICATION_STATES.join(', ')}.`);
    updates.push((f) => (f.VerificationState = doc.VerificationState));
  }
  if (doc.Types !== undefined) {
    if (!Array.isArray(doc.Types) || doc.Types.length === 0 || !doc.Types.every(nonEmpty)) throw invalidInput('Types must be a list of non-empty strings.');
    const types = [...doc.Types];
    updates.push((f, set) => {
      f.Types = [...types];
      set.add('Types');
    });
  }
  if (doc.UserDefinedFields !== undefined) {
    if (!isObject(doc.UserDefinedFields) || !Object.values(doc.UserDefinedFields).every((v) => typeof v === 'string')) throw invalidInput('UserDefinedFields must map names to strings.');
    const fields = { ...doc.UserDefinedFields };
    updates.push((f) => (f.UserDefinedFields = { ...(isObject(f.UserDefinedFields) ? f.UserDefinedFields : {}), ...fields }));
  }
  if (doc.RelatedFindings !== undefined) {
    if (!Array.isArray(doc.RelatedFindings) || !doc.RelatedFindings.every((r: unknown) => isObject(r) && nonEmpty(r.ProductArn) && nonEmpty(r.Id))) throw invalidInput('RelatedFindings must be a list of {ProductArn, Id}.');
    const related = structuredClone(doc.RelatedFindings);
    updates.push((f, set) => {
      f.RelatedFindings = structuredClone(related);
      set.add('RelatedFindings');
    });
  }
  if (updates.length === 0) throw invalidInput('The request updates nothing: give at least one of Workflow, Note, Severity, Confidence, Criticality, VerificationState, Types, UserDefinedFields, RelatedFindings.');
  return updates;
}

// --- the model ---------------------------------------------------------------------------------------

/** The findings of every hub, keyed by account and region, then by ProductArn and Id. */
export class SecurityHub {
  private everywhere = true;
  private readonly hubs = new Set<string>();
  private readonly byHub = new Map<string, Map<string, Stored>>();

  constructor(private readonly now: () => number) {}

  /** Replaces the enabled hubs with the state's and removes every finding. */
  load(state: ResolvedSecurityHubState | undefined): void {
    this.hubs.clear();
    this.byHub.clear();
    this.everywhere = state?.hubs === undefined;
    for (const hub of state?.hubs ?? []) this.hubs.add(hubKey(hub.account, hub.region));
  }

  isEnabled(account: string, region: string): boolean {
    return this.everywhere || this.hubs.has(hubKey(account, region));
  }

  /** Copies of the stored findings: of one hub, of one account's hubs, or of all. */
  findings(account?: string, region?: string): SecurityHubFinding[] {
    return this.entries()
      .filter((e) => (account === undefined || e.account === account) && (region === undefined || e.region === region))
      .map((e) => e.finding);
  }

  snapshot(): SecurityHubSnapshot {
    const enabled = this.everywhere
      ? ('everywhere' as const)
      : [...this.hubs].sort().map((k) => {
          const [account, region] = k.split('/') as [string, string];
          return { account, region };
        });
    return { enabled, findings: this.entries() };
  }

  private entries(): { account: string; region: string; finding: SecurityHubFinding }[] {
    return [...this.byHub.entries()].flatMap(([k, findings]) => {
      const [account, region] = k.split('/') as [string, string];
      return [...findings.values()].map((s) => ({ account, region, finding: structuredClone(s.finding) }));
    });
  }

  /** The caller's hub, or InvalidAccessException when Security Hub is not enabled there. */
  private hub(ctx: CallContext): Map<string, Stored> {
    if (!this.isEnabled(ctx.account, ctx.region)) throw new AwsError('InvalidAccessException', `Account ${ctx.account} is not subscribed to AWS Security Hub`, 401);
    const k = hubKey(ctx.account, ctx.region);
    let hub = this.byHub.get(k);
    if (!hub) this.byHub.set(k, (hub = new Map()));
    return hub;
  }

  batchImportFindings(ctx: CallContext, doc: Doc): unknown {
    const hub = this.hub(ctx);
    const findings = doc.Findings;
    if (!Array.isArray(findings) || findings.length === 0) throw invalidInput('Findings is required: give 1 to 100 findings.');
    if (findings.length > MAX_IMPORT_FINDINGS) throw invalidInput(`A request imports at most ${MAX_IMPORT_FINDINGS} findings; this one has ${findings.length}.`);
    if (ctx.body.length > MAX_IMPORT_BYTES) throw invalidInput(`The request is ${ctx.body.length} bytes; BatchImportFindings accepts at most ${MAX_IMPORT_BYTES} bytes (240 KB).`);
    const nowIso = new Date(this.now()).toISOString();
    const expectedProduct = defaultProductArn(ctx.account, ctx.region);
    const failed: { Id: string; ErrorCode: string; ErrorMessage: string }[] = [];
    for (const raw of findings as unknown[]) {
      const id = isObject(raw) && typeof raw.Id === 'string' ? raw.Id : '';
      const problems = isObject(raw) ? asffProblems(raw) : ['a finding must be an object'];
      if (problems.length > 0) {
        failed.push({ Id: id, ErrorCode: 'InvalidInput', ErrorMessage: `Finding does not adhere to the AWS Security Finding Format: ${problems.join('; ')}.` });
        continue;
      }
      const f = raw as Doc;
      if (f.AwsAccountId !== ctx.account) {
        failed.push({
          Id: id,
          ErrorCode: 'AccessDeniedException',
          ErrorMessage: `AwsAccountId ${f.AwsAccountId} is not the account ${ctx.account} that calls BatchImportFindings; with the default product ARN, an account imports its own findings only.`,
        });
        continue;
      }
      if (f.ProductArn !== expectedProduct) {
        failed.push({ Id: id, ErrorCode: 'AccessDeniedException', ErrorMessage: `User: ${ctx.key.principal.arn} is not authorized to import findings under ${f.ProductArn}; this account and region import under ${expectedProduct}.` });
        continue;
      }
      this.importOne(hub, asStored(f, ctx.region, nowIso));
    }
    return { FailedCount: failed.length, SuccessCount: findings.length - failed.length, FailedFindings: failed };
  }

  private importOne(hub: Map<string, Stored>, incoming: SecurityHubFinding): void {
    const k = findingKey(incoming.ProductArn, incoming.Id);
    const stored = hub.get(k);
    if (!stored) {
      hub.set(k, { finding: incoming, customerSet: new Set() });
      return;
    }
    const previous = stored.finding;
    // Security Hub drops an update older than what it holds (a provider's late retry), without an error.
    if (Date.parse(incoming.UpdatedAt) < Date.parse(previous.UpdatedAt)) return;
    const next: SecurityHubFinding = { ...incoming, CreatedAt: previous.CreatedAt };
    const firstObserved = previous.FirstObservedAt ?? incoming.FirstObservedAt;
    if (firstObserved === undefined) delete next.FirstObservedAt;
    else next.FirstObservedAt = firstObserved;
    for (const field of [...TRIAGE_FIELDS, ...stored.customerSet]) {
      if (previous[field] === undefined) delete next[field];
      else next[field] = previous[field];
    }
    next.Workflow = { Status: workflowAfterImport(previous, next) };
    stored.finding = next;
  }

  getFindings(ctx: CallContext, doc: Doc): unknown {
    const hub = this.hub(ctx);
    if (doc.SortCriteria !== undefined && (!Array.isArray(doc.SortCriteria) || doc.SortCriteria.length > 0)) {
      throw invalidInput('The emulator does not implement SortCriteria; findings come in the order they were created.');
    }
    const max = doc.MaxResults ?? MAX_RESULTS;
    if (!Number.isInteger(max) || max < 1 || max > MAX_RESULTS) throw invalidInput(`MaxResults must be an integer from 1 to ${MAX_RESULTS}.`);
    const filters = parseFilters(doc.Filters);
    const found = [...hub.values()].map((s) => s.finding).filter((f) => matches(f, filters));
    const start = pageStart(doc.NextToken, found.length);
    const end = start + max;
    return {
      Findings: found.slice(start, end).map((f) => structuredClone(f)),
      ...(end < found.length ? { NextToken: Buffer.from(String(end)).toString('base64url') } : {}),
    };
  }

  batchUpdateFindings(ctx: CallContext, doc: Doc): unknown {
    const hub = this.hub(ctx);
    const identifiers = doc.FindingIdentifiers;
    if (!Array.isArray(identifiers) || identifiers.length === 0) throw invalidInput('FindingIdentifiers is required: give 1 to 100 identifiers.');
    if (identifiers.length > MAX_UPDATE_IDENTIFIERS) throw invalidInput(`A request updates at most ${MAX_UPDATE_IDENTIFIERS} findings; this one has ${identifiers.length}.`);
    const updates = parseUpdate(doc, new Date(this.now()).toISOString());
    const keyOf = (i: unknown) => (isObject(i) && nonEmpty(i.Id) && nonEmpty(i.ProductArn) ? findingKey(i.ProductArn, i.Id) : undefined);
    const counts = new Map<string, number>();
    for (const i of identifiers) {
      const k = keyOf(i);
      if (k) counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    const processed: { Id: string; ProductArn: string }[] = [];
    const unprocessed: { FindingIdentifier: { Id: string; ProductArn: string }; ErrorCode: string; ErrorMessage: string }[] = [];
    for (const i of identifiers as unknown[]) {
      const identifier = { Id: isObject(i) ? String(i.Id ?? '') : '', ProductArn: isObject(i) ? String(i.ProductArn ?? '') : '' };
      const k = keyOf(i);
      const stored = k ? hub.get(k) : undefined;
      if (!k) unprocessed.push({ FindingIdentifier: identifier, ErrorCode: 'InvalidInput', ErrorMessage: 'A finding identifier needs an Id and a ProductArn.' });
      else if (counts.get(k)! > 1) unprocessed.push({ FindingIdentifier: identifier, ErrorCode: 'DuplicatedFindingIdentifier', ErrorMessage: 'The request names this finding more than once.' });
      else if (!stored) unprocessed.push({ FindingIdentifier: identifier, ErrorCode: 'FindingNotFound', ErrorMessage: `No finding ${identifier.Id} of ${identifier.ProductArn} exists in account ${ctx.account}, region ${ctx.region}.` });
      else {
        for (const apply of updates) apply(stored.finding, stored.customerSet);
        processed.push(identifier);
      }
    }
    return { ProcessedFindings: processed, UnprocessedFindings: unprocessed };
  }
}

// --- the wire ----------------------------------------------------------------------------------------

const ROUTES: { method: string; path: string; name: string; run: (hub: SecurityHub, ctx: CallContext, doc: Doc) => unknown }[] = [
  { method: 'POST', path: '/findings/import', name: 'BatchImportFindings', run: (hub, ctx, doc) => hub.batchImportFindings(ctx, doc) },
  { method: 'POST', path: '/findings', name: 'GetFindings', run: (hub, ctx, doc) => hub.getFindings(ctx, doc) },
  { method: 'PATCH', path: '/findings/batchupdate', name: 'BatchUpdateFindings', run: (hub, ctx, doc) => hub.batchUpdateFindings(ctx, doc) },
];

/** Every Security Hub operation the emulator serves, by its AWS name. */
export const SECURITYHUB_OPERATIONS = ROUTES.map((r) => r.name);

function jsonReply(status: number, body: unknown, requestId: string, extra: Record<string, string> = {}): Reply {
  return { status, headers: { 'content-type': 'application/json', 'x-amzn-requestid': requestId, ...extra }, body: JSON.stringify(body) };
}

/**
 * AWS Security Hub over REST-JSON. Errors are the HTTP status, `x-amzn-errortype` and
 * `{"Message", "Code"}`; throttling is TooManyRequestsException (429), the name Security Hub answers with
 * in the wild although its API model does not list it. Calls are not recorded in CloudTrail: the product
 * does not watch Security Hub's own events.
 */
export const securityHubService: Service = {
  resolve: (ctx, env: Env) => {
    const path = ctx.path.split('?')[0]!.replace(/\/+$/, '');
    const route = ROUTES.find((r) => r.method === ctx.method && r.path === path);
    if (!route) throw new AwsError('UnknownOperationException', `The emulator's Security Hub does not implement ${ctx.method} ${path}; it serves ${SECURITYHUB_OPERATIONS.join(', ')}.`, 404);
    return {
      name: route.name,
      run: () => {
        let doc: unknown;
        try {
          doc = ctx.body.length ? JSON.parse(ctx.body.toString('utf8')) : {};
        } catch {
          throw invalidInput('The request body is not valid JSON.');
        }
        if (!isObject(doc)) throw invalidInput('The request body must be a JSON object.');
        return route.run(env.world.securityHub, ctx, doc);
      },
    };
  },
  success: (_op, payload, ctx) => jsonReply(200, payload ?? {}, ctx.requestId),
  error: (err, ctx) => jsonReply(err.status, { Message: err.message, Code: err.code }, ctx.requestId, { 'x-amzn-errortype': err.code }),
  throttled: () => new AwsError('TooManyRequestsException', 'Too Many Requests', 429),
  serverError: () => new AwsError('InternalException', 'Internal server error (fault injected by the emulator).', 500),
};
