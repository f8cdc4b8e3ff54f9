/**
 * ARNs the report and the findings name, built from an account, a region and a cluster name. Pure; the
 * client factory (src/aws/clients.ts) uses the same `partitionOf` for the member roles' ARNs.
 */

/** The ARN partition of a region: ARNs in China, GovCloud or the isolated regions are not `arn:aws:`. */
export function partitionOf(region: string): string {
  if (region.startsWith('cn-')) return 'aws-cn';
  if (region.startsWith('us-gov-')) return 'aws-us-gov';
  if (region.startsWith('us-isob-')) return 'aws-iso-b';
  if (region.startsWith('us-iso-')) return 'aws-iso';
  if (region.startsWith('eusc-')) return 'aws-eusc';
  return 'aws';
}

/** The ARN of a cluster as EKS spells it: `arn:aws:eks:REGION:ACCOUNT:cluster/NAME`. */
export function clusterArn(account: string, region: string, name: string): string {
  return `arn:${partitionOf(region)}:eks:${region}:${account}:cluster/${name}`;
}
