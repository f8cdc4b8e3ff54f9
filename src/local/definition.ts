import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from './paths';

/** Where the state machine definition lives: the same file serverless.yml deploys. */
export const DEFINITION_FILE = 'statemachine/enforce-endpoint.asl.yml';

type TaskState = { Type: 'Task'; Resource: unknown; Credentials?: { RoleArn?: string; 'RoleArn.$'?: string } };
export type Definition = { StartAt: string; TimeoutSeconds?: number; States: Record<string, { Type: string; Resource?: unknown; SecondsPath?: string; Seconds?: number; Next?: string; Parameters?: unknown }> };

/** The Express update tracker the enforcement workflow starts (statemachine/track-change.asl.yml), and its logical id in serverless.yml. */
export const TRACKER_DEFINITION_FILE = 'statemachine/track-change.asl.yml';
export const TRACKER_LOGICAL_ID = 'TrackChangeStateMachine';

/** The Step Functions service integrations the definition uses, which the local runner carries out itself. */
export const SERVICE_INTEGRATIONS = ['arn:aws:states:::states:startExecution', 'arn:aws:states:::states:startExecution.sync:2'] as const;
export type ServiceIntegration = (typeof SERVICE_INTEGRATIONS)[number];

/** An AWS SDK integration task (`arn:aws:states:::aws-sdk:SERVICE:ACTION`) and the role it acts as (`Credentials`). */
export type SdkTask = { service: string; action: string; roleArn: string | null; roleArnPath: string | null };

export type LoadedDefinition = {
  definition: Definition;
  taskFunctions: Record<string, string>;
  integrations: Record<string, ServiceIntegration>;
  sdkTasks: Record<string, SdkTask>;
};

const SDK_RESOURCE = /^arn:aws:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/;

/**
 * The Lambda function each Task state invokes (`Fn::GetAtt: [function, Arn]`), the Task states that call a
 * Step Functions service integration instead, and those that call an AWS SDK integration.
 */
export function analyzeDefinition(definition: Definition, file: string): LoadedDefinition {
  const taskFunctions: Record<string, string> = {};
  const integrations: Record<string, ServiceIntegration> = {};
  const sdkTasks: Record<string, SdkTask> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const { Resource: resource, Credentials: credentials } = state as TaskState;
    if (typeof resource === 'string' && (SERVICE_INTEGRATIONS as readonly string[]).includes(resource)) {
      integrations[name] = resource as ServiceIntegration;
      continue;
    }
    const sdk = typeof resource === 'string' ? SDK_RESOURCE.exec(resource) : null;
    if (sdk) {
      sdkTasks[name] = { service: sdk[1]!, action: sdk[2]!, roleArn: credentials?.RoleArn ?? null, roleArnPath: credentials?.['RoleArn.$'] ?? null };
      continue;
    }
    const getAtt = (resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (!getAtt) throw new Error(`${file}: Task state ${name} neither invokes a Lambda function of this service nor a supported integration`);
    taskFunctions[name] = getAtt[0];
  }
  return { definition, taskFunctions, integrations, sdkTasks };
}

/** Reads a definition the stack deploys (default: the enforcement workflow), analyzed as analyzeDefinition does. */
export function loadDefinition(file: string = DEFINITION_FILE): LoadedDefinition {
  return analyzeDefinition(parse(readFileSync(join(projectRoot(), file), 'utf8')) as Definition, file);
}

/** The local ARN of a state machine of the stack, by its serverless.yml logical id. */
export function localStateMachineArn(logicalId: string, account: string, region: string): string {
  const name = logicalId === TRACKER_LOGICAL_ID ? 'track-change' : logicalId;
  return `arn:aws:states:${region}:${account}:stateMachine:eks-endpoint-guard-local-${name}`;
}

/** `{Ref: LogicalId}` anywhere in a state (the tracker's ARN in TrackChange's Parameters), as CloudFormation resolves it. */
function resolveRefs(value: unknown, account: string, region: string): unknown {
  if (Array.isArray(value)) return value.map((v) => resolveRefs(v, account, region));
  if (value === null || typeof value !== 'object') return value;
  const ref = (value as { Ref?: unknown }).Ref;
  if (typeof ref === 'string' && Object.keys(value).length === 1) return localStateMachineArn(ref, account, region);
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveRefs(v, account, region)]));
}

/**
 * The definition as Step Functions sees it after deployment: CloudFormation replaces each
 * `Fn::GetAtt` with the function's ARN and each `Ref` with the state machine's. Locally those ARNs are
 * placeholders; the runner maps Task states to the real handlers.
 */
export function resolvedDefinition(definition: Definition, taskFunctions: Record<string, string>, account: string, region: string): Definition {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) => {
      const resolved = resolveRefs(state, account, region) as typeof state;
      return state.Type === 'Task' && taskFunctions[name] ? [name, { ...resolved, Resource: `arn:aws:lambda:${region}:${account}:function:eks-endpoint-guard-local-${taskFunctions[name]}` }] : [name, resolved];
    }),
  );
  return { ...definition, States: states };
}

/** The organization sweep's definition: the same file serverless.yml deploys. */
export const SWEEP_DEFINITION_FILE = 'statemachine/sweep-organization.asl.yml';

type NestedState = { Type: string; Resource?: unknown; SecondsPath?: string; ItemProcessor?: { StartAt: string; States: Record<string, NestedState> } };
export type NestedDefinition = { StartAt: string; TimeoutSeconds?: number; States: Record<string, NestedState> };

/**
 * Reads a definition whose Task states may sit inside a Map's ItemProcessor, with the Lambda function
 * each Task invokes (by state name: names are unique across the whole definition here, which
 * `taskResourceLocalHandlers` relies on) and every Wait state's SecondsPath.
 */
export function loadNestedDefinition(file: string): { definition: NestedDefinition; taskFunctions: Record<string, string>; waits: Record<string, string | null> } {
  const definition = parse(readFileSync(join(projectRoot(), file), 'utf8')) as NestedDefinition;
  const taskFunctions: Record<string, string> = {};
  const waits: Record<string, string | null> = {};
  const visit = (states: Record<string, NestedState>) => {
    for (const [name, state] of Object.entries(states)) {
      if (name in taskFunctions || name in waits) throw new Error(`${file}: state ${name} is declared twice (nested states need unique names locally)`);
      if (state.Type === 'Wait') waits[name] = state.SecondsPath ?? null;
      if (state.Type === 'Map' && state.ItemProcessor) visit(state.ItemProcessor.States);
      if (state.Type !== 'Task') continue;
      const getAtt = (state.Resource as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
      if (!getAtt) throw new Error(`${file}: Task state ${name} does not invoke a Lambda function of this service`);
      taskFunctions[name] = getAtt[0];
    }
  };
  visit(definition.States);
  return { definition, taskFunctions, waits };
}

/** A nested definition with each `Fn::GetAtt` replaced by a placeholder ARN, at every depth (see resolvedDefinition). */
export function resolvedNestedDefinition(definition: NestedDefinition, account: string, region: string): NestedDefinition {
  const resolve = (states: Record<string, NestedState>): Record<string, NestedState> =>
    Object.fromEntries(
      Object.entries(states).map(([name, state]) => {
        const getAtt = (state.Resource as { 'Fn::GetAtt'?: [string, string] } | undefined)?.['Fn::GetAtt'];
        let next: NestedState = getAtt ? { ...state, Resource: `arn:aws:lambda:${region}:${account}:function:eks-endpoint-guard-local-${getAtt[0]}` } : state;
        if (next.ItemProcessor) next = { ...next, ItemProcessor: { ...next.ItemProcessor, States: resolve(next.ItemProcessor.States) } };
        return [name, next];
      }),
    );
  return { ...definition, States: resolve(definition.States) };
}
