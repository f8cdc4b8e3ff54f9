/**
 * Reading EKS TagResource / UntagResource records. A tag change can move a cluster to another policy rule
 * or exempt it, so a change on a cluster is judged like an endpoint change; on any other EKS resource
 * (node group, add-on, Fargate profile, ...) it cannot affect the endpoint and is ignored.
 */
import type { ClusterRef } from '../policy/types';
import { clusterOfArn, parseEksArn, type EksResourceArn } from './arn';
import { formatPath, parsePart, type JsonObject, type Path } from './read';
import { TagResourceParamsSchema, UntagResourceParamsSchema } from './schema';

/** What a tag change did: the tags it set (with their new values) and the keys it removed. */
export type TagChange = { set: Record<string, string>; removed: string[] };

/** A tag change as read from its record; `resource` null when the ARN could not be read. */
export type TagEvent = { resource: EksResourceArn | null; cluster: ClusterRef | null; tags: TagChange | null };

export const TAG_EVENT_NAMES: ReadonlySet<string> = new Set(['TagResource', 'UntagResource']);

/**
 * Reads the resource and the tags of a TagResource / UntagResource record's `requestParameters`. The
 * resource ARN is URL-decoded first: it travels in the request path (`/tags/{resourceArn}`), and some
 * records keep it encoded (`arn%3Aaws%3Aeks%3A...%3Acluster%2Fname`). An ARN that is not an EKS ARN, or a
 * cluster ARN whose name is not a valid cluster name, is a problem; `cluster` is null for other resources.
 */
export function readTagEvent(eventName: string, params: JsonObject, at: Path, problems: string[]): TagEvent {
  const body =
    eventName === 'TagResource'
      ? withTags(parsePart(TagResourceParamsSchema, params, at, problems))
      : withRemoved(parsePart(UntagResourceParamsSchema, params, at, problems));
  if (!body) return { resource: null, cluster: null, tags: null };
  const arn = decodeArn(body.resourceArn);
  // The whole ARN, decoded: the part that is wrong is often at its end, where a cut preview would hide it.
  const got = `${formatPath([...at, 'resourceArn'])}: %s, got ${JSON.stringify(arn ?? body.resourceArn)}`;
  const resource = arn === null ? null : parseEksArn(arn);
  if (!resource) {
    problems.push(`event: ${got.replace('%s', 'not an EKS resource ARN (expected arn:PARTITION:eks:REGION:ACCOUNT:TYPE/ID)')}`);
    return { resource: null, cluster: null, tags: body.tags };
  }
  if (resource.resourceType !== 'cluster') return { resource, cluster: null, tags: body.tags };
  const cluster = clusterOfArn(resource);
  if (!cluster) problems.push(`event: ${got.replace('%s', 'not a cluster ARN (expected arn:PARTITION:eks:REGION:ACCOUNT:cluster/NAME)')}`);
  return { resource, cluster, tags: body.tags };
}

function withTags(body: { resourceArn: string; tags: Record<string, string> } | null) {
  return body && { resourceArn: body.resourceArn, tags: { set: body.tags, removed: [] } };
}

function withRemoved(body: { resourceArn: string; tagKeys: string[] } | null) {
  return body && { resourceArn: body.resourceArn, tags: { set: {}, removed: body.tagKeys } };
}

function decodeArn(value: string): string | null {
  if (!value.includes('%')) return value;
  try {
    return decodeURIComponent(value);
  } catch {
    // A malformed escape (`%zz`): not an ARN anyone could have called EKS with.
    return null;
  }
}
