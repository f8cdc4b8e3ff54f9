/**
 * The ports the workflow's use cases need. Adapters in src/aws implement them with the AWS SDK; tests and
 * the local runner use the same adapters against the emulator. Errors cross these ports as the
 * GuardError family (src/errors.ts), never as SDK exceptions.
 */
import type { ClusterRef, EndpointConfig, EndpointTarget } from '../policy/types';
import type { GuardEvent } from './outcome-event';
import type { Alert, ExecutionInput } from './types';

/** A cluster as DescribeCluster returns it (the `cluster` object), kept as plain JSON. */
export type ClusterDescription = Record<string, unknown> & { name: string };

export type UpdateDescription = {
  id: string;
  status: string;
  type: string | null;
  errors: { errorCode: string | null; errorMessage: string | null }[];
};

export type EksPort = {
  /** Throws ClusterNotFoundError, TransientAwsError, AwsRequestRejectedError. */
  describeCluster(cluster: ClusterRef): Promise<ClusterDescription>;
  describeUpdate(cluster: ClusterRef, updateId: string): Promise<UpdateDescription>;
  /**
   * Sends UpdateClusterConfig with only the endpoint fields of the target. Returns the update id, or null
   * when EKS says the cluster is already at the desired configuration. Throws ClusterBusyError on
   * ResourceInUseException. `observed` is the configuration the target was checked against just before
   * (flags that do not change are left out of the request, see src/iam/guardrail.ts); `token` is the
   * clientRequestToken the guard recorded for this update.
   */
  updateEndpointAccess(cluster: ClusterRef, target: EndpointTarget, request: { observed: EndpointConfig; token: string }): Promise<{ updateId: string | null }>;
  /** Every cluster name in the account and region (follows pagination). */
  listClusters(account: string, region: string): Promise<string[]>;
};

export type VpcDnsFacts = {
  vpcId: string;
  enableDnsSupport: boolean;
  enableDnsHostnames: boolean;
  dhcpOptionsId: string | null;
  /** The DHCP options set's domain-name-servers (empty when the VPC has no DHCP options). */
  domainNameServers: string[];
};

export type Ec2Port = {
  vpcDnsFacts(cluster: ClusterRef, vpcId: string): Promise<VpcDnsFacts>;
};

export type AlertPort = {
  /** Publishes one alert; returns the SNS message id. */
  publish(alert: Alert): Promise<string>;
};

/** Puts outcome events (src/workflow/outcome-event.ts) on the home account's event bus. */
export type OutcomeEventPort = {
  /** Puts one event; returns its EventBridge event id (null: outcome events are turned off). A failed entry throws (TransientAwsError when worth retrying). */
  put(event: GuardEvent): Promise<string | null>;
};

export type ExecutionPort = {
  /** Starts a named execution; returns false when one with that name already exists (a redelivery). */
  start(name: string, input: ExecutionInput): Promise<boolean>;
};
