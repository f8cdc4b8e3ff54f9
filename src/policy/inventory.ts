import { InputError } from '../errors';
import { accountContextOf } from '../org/context';
import type { Organization } from '../org/types';
import { parseClusterArn } from './cluster';
import type { MatchSubject } from './compile';
import { formatPath } from './load';
import { describeValue } from './messages';

const isRecord = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
/** A field as the SDK and CLI spell it (camelCase) or as the Step Functions SDK integration does (PascalCase). */
const field = (o: Record<string, unknown>, name: string) => o[name] ?? o[name.charAt(0).toUpperCase() + name.slice(1)];

/**
 * Reads an inventory of clusters for `validate --inventory`: a list of DescribeCluster outputs (or their
 * `cluster` objects), or `{clusters: [...]}` of the same. Each cluster needs a name; account and region
 * come from its ARN (a cluster without one has neither, and so never matches a rule that lists
 * accounts or regions); tags are optional. Only what a match reads is read: endpoint settings need not
 * be there. With the organization (`organization`), each cluster also gets its account's place in it
 * (OU path, account tags) for rules on `ous`/`accountTags`; without it, that context is unknown. Throws
 * an InputError listing every entry that cannot be read, by its position.
 */
export function parseInventory(doc: unknown, organization: Organization | null = null): MatchSubject[] {
  const listed = isRecord(doc) ? field(doc, 'clusters') : doc;
  if (!Array.isArray(listed)) {
    throw new InputError([`(top level): an inventory must be a list of clusters (DescribeCluster outputs) or {clusters: [...]} (got ${describeValue(doc)})`]);
  }
  const base: PropertyKey[] = Array.isArray(doc) ? [] : ['clusters'];
  const problems: string[] = [];
  const clusters: MatchSubject[] = [];
  listed.forEach((entry: unknown, i) => {
    const wrapped = isRecord(entry) && isRecord(field(entry, 'cluster'));
    const body = wrapped ? (field(entry as Record<string, unknown>, 'cluster') as Record<string, unknown>) : entry;
    const path = [...base, i, ...(wrapped ? ['cluster'] : [])];
    if (!isRecord(body)) {
      problems.push(`${formatPath([...base, i])}: not a cluster (got ${describeValue(entry)})`);
      return;
    }
    const name = field(body, 'name');
    const arn = field(body, 'arn');
    const tags = field(body, 'tags') ?? {};
    const before = problems.length;
    if (typeof name !== 'string' || name === '') problems.push(`${formatPath([...path, 'name'])}: required, the cluster's name (got ${describeValue(name)})`);
    if (arn !== undefined && arn !== null && typeof arn !== 'string') problems.push(`${formatPath([...path, 'arn'])}: must be a string (got ${describeValue(arn)})`);
    if (!isRecord(tags) || !Object.values(tags).every((v) => typeof v === 'string')) {
      problems.push(`${formatPath([...path, 'tags'])}: must be a mapping of tag names to string values (got ${describeValue(tags)})`);
    }
    if (problems.length > before) return;
    const place = typeof arn === 'string' ? parseClusterArn(arn) : null;
    const account = place?.account ?? null;
    const subject: MatchSubject = { name: name as string, account, region: place?.region ?? null, tags: tags as Record<string, string> };
    if (organization !== null) subject.accountContext = account !== null ? accountContextOf(organization, account) : null;
    clusters.push(subject);
  });
  if (problems.length > 0) throw new InputError(problems);
  return clusters;
}
