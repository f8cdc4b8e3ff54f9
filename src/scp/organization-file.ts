/**
 * The organization file of `eks-endpoint-guard scp --organization FILE`: the OUs and accounts of an AWS
 * Organization, in exactly the format of the emulator state's `organization:` section (a whole state file
 * works too: its `organization:` section is read). One format, one schema: the emulator's, reused here,
 * so a scenario's organization and the file given to `scp` can never be read differently.
 *
 * ```yaml
 * id: o-exampleorg1             # optional: the organization id
 * rootId: r-ab12                # optional: the root id; otherwise taken from the OU ids (ou-ab12-… lives under r-ab12)
 * managementAccount: "111111111111"
 * units:                        # OUs; parent: an OU name or id, the root when omitted; id generated when omitted
 *   - { id: ou-ab12-11111111, name: Production }
 *   - { id: ou-ab12-22222222, name: Payments, parent: Production }
 * accounts:                     # unit: an OU name or id, the root when omitted
 *   - { id: "222222222222", name: payments-prod, unit: Payments, tags: { env: prod } }
 * ```
 *
 * Pure: the caller reads the file; this validates the document and builds the `Organization` the policy's
 * `ous` and `accountTags` are judged on, plus the OU tree service control policies attach to.
 */
import { organizationReferenceProblems, organizationStateSchema } from '../emulator/organization-state';
import { Organizations } from '../emulator/organizations';
import { InputError } from '../errors';
import { formatPath } from '../policy/load';
import type { Organization, OrgAccountStatus } from '../org/types';

/** An OU of the tree: `parent` is the root id or another OU's id. */
export type OrgUnit = { id: string; name: string; parent: string };

/** An organization with its OU tree: what the SCP generator places policies on. */
export type OrganizationTree = {
  organization: Organization;
  /** The root id: every account's `ouPath` starts with it. */
  root: string;
  /** False when the file gives neither `rootId` nor an OU id, so the root id above was made up (as the emulator makes it up). */
  rootKnown: boolean;
  units: OrgUnit[];
};

const isMapping = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);

/**
 * Validates an organization document (see the module comment for its shape) and resolves it: OU ids
 * generated where the file gives none (as the emulator generates them), each account's OU path from the
 * root down to its parent. Every problem is reported at once, each naming the file, the path and the value
 * (`org.yaml: organization.accounts[2].unit: no OU has the name or id Pyaments in organization.units`), in an
 * InputError. The management account is a member even when `accounts` does not list it.
 */
export function parseOrganizationDocument(doc: unknown, source = 'organization'): OrganizationTree {
  const section = isMapping(doc) && 'organization' in doc ? doc.organization : doc;
  const parsed = organizationStateSchema.safeParse(section);
  if (!parsed.success) {
    throw new InputError(
      parsed.error.issues.map((issue) => {
        const got = issue.path.reduce<unknown>((node, key) => (isMapping(node) || Array.isArray(node) ? (node as Record<PropertyKey, unknown>)[key] : undefined), section);
        const shown = got === undefined || typeof got === 'object' ? '' : ` (got ${JSON.stringify(got)})`;
        // YAML reads an unquoted 123456789012 as a number (and 012345678901 as another number).
        const hint = typeof got === 'number' ? '; write account ids as quoted strings' : '';
        return `${source}: ${formatPath(['organization', ...issue.path])}: ${issue.message}${shown}${hint}`;
      }),
    );
  }
  const problems = organizationReferenceProblems(parsed.data, 'organization');
  if (problems.length > 0) throw new InputError(problems.map((p) => `${source}: ${p}`));

  const emulated = new Organizations();
  emulated.load(parsed.data, 0);
  const snapshot = emulated.snapshot()!;
  const parentOf = new Map(snapshot.units.map((u) => [u.id, u.parentId]));
  const pathTo = (parentId: string): string[] => {
    const chain: string[] = [];
    // References were checked above (no cycles), so the walk reaches the root.
    for (let at = parentId; at !== snapshot.rootId; at = parentOf.get(at)!) chain.unshift(at);
    return [snapshot.rootId, ...chain];
  };
  const accounts = snapshot.accounts.map((a) => ({ id: a.id, name: a.name, status: a.status as OrgAccountStatus, ouPath: pathTo(a.parentId), tags: { ...a.tags } }));
  return {
    organization: { id: snapshot.id, managementAccount: snapshot.managementAccount, accounts },
    root: snapshot.rootId,
    rootKnown: parsed.data.rootId !== undefined || parsed.data.units.some((u) => u.id !== undefined),
    units: snapshot.units.map((u) => ({ id: u.id, name: u.name, parent: u.parentId })),
  };
}
