/**
 * The findings port over AWS Security Hub. A finding is imported by the account it names, in the region
 * it names (BatchImportFindings accepts only the caller's own findings under its default product ARN): the
 * home account with the function's own credentials, a member account through the member write role.
 *
 * Per account and region: BatchImportFindings in batches of at most 100 findings and 240 KB, then
 * BatchUpdateFindings to set each finding's Workflow.Status and Note (an import leaves them as they were
 * once a finding exists), one call per distinct Workflow and Note and at most 100 findings. Both calls
 * answer HTTP 200 when some findings failed (FailedFindings, UnprocessedFindings): each such entry
 * becomes a failed outcome with its code and message, never dropped.
 *
 * A whole call refused for good (Security Hub not enabled there, the member role missing or refused)
 * fails the findings of that account and region and leaves the others to go on; throttling and server
 * errors throw TransientAwsError (src/aws/errors.ts), which the caller's retry repeats, as importing a
 * finding again only updates it.
 */
import { BatchImportFindingsCommand, BatchUpdateFindingsCommand, SecurityHubClient, type AwsSecurityFinding } from '@aws-sdk/client-securityhub';
import { AwsRequestRejectedError, TransientAwsError, type GuardError } from '../errors';
import { workflowUpdate, type AsffFinding } from '../findings/asff';
import type { FindingOutcome, FindingsPort, FindingsResult, FindingStage } from '../findings/ports';
import { mapBounded } from '../sweep/pool';
import type { WiringContext } from '../wiring';
import { awsErrorName, toGuardError } from './errors';

/** BatchImportFindings takes at most 100 findings and 240 KB per request. */
export const MAX_FINDINGS_PER_IMPORT = 100;
export const MAX_IMPORT_BYTES = 240 * 1024;
/** BatchUpdateFindings updates at most 100 findings per request. */
export const MAX_FINDINGS_PER_UPDATE = 100;
/** Accounts and regions imported at once by default: each has its own Security Hub quota. */
const DEFAULT_CONCURRENCY = 4;
/** The request body around the findings: `{"Findings":[` ... `]}`. */
const ENVELOPE_BYTES = Buffer.byteLength('{"Findings":[]}');

/** A Security Hub client acting in `account` and `region` (the member write role outside the home account). */
export type SecurityHubClientFor = (account: string, region: string) => SecurityHubClient;

export type FindingsPortOptions = {
  /** Accounts and regions worked on at once (default 4). */
  concurrency?: number;
};

type Entry = { finding: AsffFinding; index: number; bytes: number };

/**
 * toGuardError, except that InvalidAccessException, which Security Hub answers for an account and region
 * where it is not enabled, says so in words on-call people act on.
 */
function classify(err: unknown, operation: string, account: string, region: string): GuardError {
  if (awsErrorName(err) === 'InvalidAccessException') {
    const reason = err instanceof Error ? err.message : String(err);
    return new AwsRequestRejectedError(
      `${operation} in account ${account}, region ${region} failed: Security Hub is not enabled in account ${account}, region ${region} (InvalidAccessException: ${reason}); enable it there, or the guard's findings for that account and region are lost`,
      'InvalidAccessException',
      { cause: err },
    );
  }
  return toGuardError(err, { operation, account, region });
}

/** The code a failed outcome carries for a refused call: AWS's error name where there is one. */
function codeOf(err: GuardError): string {
  return err instanceof AwsRequestRejectedError ? err.awsErrorName : err.name;
}

/** Cuts findings into BatchImportFindings requests within both limits; a finding too large alone is returned apart. */
function importBatches(entries: Entry[]): { batches: Entry[][]; oversized: Entry[] } {
  const batches: Entry[][] = [];
  const oversized: Entry[] = [];
  let batch: Entry[] = [];
  let size = ENVELOPE_BYTES;
  for (const entry of entries) {
    if (ENVELOPE_BYTES + entry.bytes > MAX_IMPORT_BYTES) {
      oversized.push(entry);
      continue;
    }
    // One comma between findings.
    const added = entry.bytes + (batch.length > 0 ? 1 : 0);
    if (batch.length === MAX_FINDINGS_PER_IMPORT || size + added > MAX_IMPORT_BYTES) {
      batches.push(batch);
      batch = [];
      size = ENVELOPE_BYTES;
    }
    size += entry.bytes + (batch.length > 0 ? 1 : 0);
    batch.push(entry);
  }
  if (batch.length > 0) batches.push(batch);
  return { batches, oversized };
}

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export function createFindingsPort(clientFor: SecurityHubClientFor, options: FindingsPortOptions = {}): FindingsPort {
  const concurrency = options.concurrency ?? DEFAULT_CONCURRENCY;

  return {
    async record(findings: AsffFinding[]): Promise<FindingsResult> {
      const outcomes: (FindingOutcome | undefined)[] = new Array(findings.length);
      // Failures Security Hub reported under an Id that was not sent: reported as they came.
      const unmatched: FindingOutcome[] = [];
      const groups = new Map<string, { account: string; region: string; entries: Entry[] }>();
      findings.forEach((finding, index) => {
        const key = `${finding.AwsAccountId}/${finding.Region}`;
        let group = groups.get(key);
        if (!group) groups.set(key, (group = { account: finding.AwsAccountId, region: finding.Region, entries: [] }));
        group.entries.push({ finding, index, bytes: Buffer.byteLength(JSON.stringify(finding)) });
      });

      await mapBounded([...groups.values()], concurrency, async ({ account, region, entries }) => {
        const failed = (entry: Entry, stage: FindingStage, errorCode: string, errorMessage: string) => {
          outcomes[entry.index] = { id: entry.finding.Id, account, region, status: 'failed', stage, errorCode, errorMessage };
        };
        /** A refused call: thrown when repeating it may help, else the failure of every finding it carried. */
        const refused = (err: unknown, operation: string, stage: FindingStage, carried: Entry[]) => {
          const mapped = classify(err, operation, account, region);
          if (mapped instanceof TransientAwsError) throw mapped;
          for (const entry of carried) failed(entry, stage, codeOf(mapped), mapped.message);
        };

        let client: SecurityHubClient;
        try {
          client = clientFor(account, region);
        } catch (err) {
          // No member write role configured: an InputError naming the setting.
          refused(err, 'BatchImportFindings', 'import', entries);
          return;
        }

        const { batches, oversized } = importBatches(entries);
        for (const entry of oversized) {
          failed(entry, 'import', 'FindingSizeExceeded', `the finding is ${entry.bytes} bytes; BatchImportFindings accepts at most ${MAX_IMPORT_BYTES} bytes per request`);
        }
        const imported: Entry[] = [];
        for (const batch of batches) {
          let out;
          try {
            out = await client.send(new BatchImportFindingsCommand({ Findings: batch.map((e) => e.finding as AwsSecurityFinding) }));
          } catch (err) {
            refused(err, 'BatchImportFindings', 'import', batch);
            continue;
          }
          const failedIds = new Set<string>();
          for (const f of out.FailedFindings ?? []) {
            const code = f.ErrorCode ?? 'UnknownError';
            const message = f.ErrorMessage ?? 'BatchImportFindings reported the finding as failed without a message';
            const carried = batch.filter((e) => e.finding.Id === f.Id);
            if (carried.length === 0) unmatched.push({ id: f.Id ?? '', account, region, status: 'failed', stage: 'import', errorCode: code, errorMessage: message });
            for (const entry of carried) failed(entry, 'import', code, message);
            failedIds.add(f.Id ?? '');
          }
          imported.push(...batch.filter((e) => !failedIds.has(e.finding.Id)));
        }

        // One BatchUpdateFindings per distinct Workflow and Note; a finding named twice is sent once.
        const updates = new Map<string, { update: ReturnType<typeof workflowUpdate>; byId: Map<string, Entry[]> }>();
        for (const entry of imported) {
          // A finding that is not exempt says so in its note: a note left by an exemption that has since
          // ended must not go on saying the cluster is exempt.
          const own = workflowUpdate(entry.finding);
          const update = own.Note ? own : { ...own, Note: NOT_EXEMPT_NOTE };
          const key = JSON.stringify([update.Workflow, update.Note ?? null]);
          let group = updates.get(key);
          if (!group) updates.set(key, (group = { update, byId: new Map() }));
          group.byId.set(entry.finding.Id, [...(group.byId.get(entry.finding.Id) ?? []), entry]);
        }
        for (const { update, byId } of updates.values()) {
          for (const ids of chunks([...byId.keys()], MAX_FINDINGS_PER_UPDATE)) {
            const carried = ids.flatMap((id) => byId.get(id)!);
            let out;
            try {
              out = await client.send(
                new BatchUpdateFindingsCommand({
                  FindingIdentifiers: ids.map((id) => ({ Id: id, ProductArn: byId.get(id)![0]!.finding.ProductArn })),
                  Workflow: update.Workflow,
                  ...(update.Note ? { Note: update.Note } : {}),
                }),
              );
            } catch (err) {
              refused(err, 'BatchUpdateFindings', 'workflow', carried);
              continue;
            }
            for (const u of out.UnprocessedFindings ?? []) {
              const id = u.FindingIdentifier?.Id ?? '';
              const code = u.ErrorCode ?? 'UnknownError';
              const message = u.ErrorMessage ?? 'BatchUpdateFindings left the finding unprocessed without a message';
              const entriesOfId = ids.includes(id) ? byId.get(id)! : [];
              if (entriesOfId.length === 0) unmatched.push({ id, account, region, status: 'failed', stage: 'workflow', errorCode: code, errorMessage: message });
              for (const entry of entriesOfId) failed(entry, 'workflow', code, message);
            }
          }
        }
        for (const entry of imported) outcomes[entry.index] ??= { id: entry.finding.Id, account, region, status: 'imported' };
      });

      const all = [...(outcomes as FindingOutcome[]), ...unmatched];
      const imported = all.filter((o) => o.status === 'imported').length;
      return { imported, failed: all.length - imported, findings: all };
    },
  };
}

/** The note of a finding no exemption applies to (the same text for all, so updates stay batched). */
export const NOT_EXEMPT_NOTE = { Text: 'No exemption applies: eks-endpoint-guard judges this cluster against the endpoint policy.', UpdatedBy: 'eks-endpoint-guard' };

/** The findings port: each finding imported in its own account and region, through the member findings role outside the home account. */
export const findingsWiring = ({ clients }: WiringContext): FindingsPort =>
  createFindingsPort((account, region) => clients.forAccount(SecurityHubClient, account, region, 'findings'));
