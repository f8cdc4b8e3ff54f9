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
