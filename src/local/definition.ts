import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from './paths';

/** Where the state machine definition lives: the same file serverless.yml deploys. */
export const DEFINITION_FILE = 'statemachine/enforce-endpoint.asl.yml';

type TaskState = { Type: 'Task'; Resource: unknown };
export type Definition = { StartAt: string; States: Record<string, { Type: string; Resource?: unknown; SecondsPath?: string }> };

/** The Step Functions service integrations the definition uses, which the local runner carries out itself. */
export const SERVICE_INTEGRATIONS = ['arn:aws:states:::states:startExecution'] as const;
export type ServiceIntegration = (typeof SERVICE_INTEGRATIONS)[number];

/**
 * Reads the deployed definition, the Lambda function each Task state invokes (`Fn::GetAtt: [function, Arn]`)
 * and the Task states that call a Step Functions service integration instead.
 */
export function loadDefinition(): { definition: Definition; taskFunctions: Record<string, string>; integrations: Record<string, ServiceIntegration> } {
  const definition = parse(readFileSync(join(projectRoot(), DEFINITION_FILE), 'utf8')) as Definition;
  const taskFunctions: Record<string, string> = {};
  const integrations: Record<string, ServiceIntegration> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const resource = (state as TaskState).Resource;
    if (typeof resource === 'string' && (SERVICE_INTEGRATIONS as readonly string[]).includes(resource)) {
      integrations[name] = resource as ServiceIntegration;
      continue;
    }
    const getAtt = (resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (!getAtt) throw new Error(`${DEFINITION_FILE}: Task state ${name} neither invokes a Lambda function of this service nor a supported service integration`);
    taskFunctions[name] = getAtt[0];
  }
  return { definition, taskFunctions, integrations };
}

/**
 * The definition as Step Functions sees it after deployment: CloudFormation replaces each
 * `Fn::GetAtt` with the function's ARN. Locally those ARNs are placeholders; the runner maps Task
 * states to the real handlers.
 */
export function resolvedDefinition(definition: Definition, taskFunctions: Record<string, string>, account: string, region: string): Definition {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) =>
      state.Type === 'Task' && taskFunctions[name] ? [name, { ...state, Resource: `arn:aws:lambda:${region}:${account}:function:eks-endpoint-guard-local-${taskFunctions[name]}` }] : [name, state],
    ),
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
