import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { projectRoot } from './paths';

/** Where the state machine definition lives: the same file serverless.yml deploys. */
export const DEFINITION_FILE = 'statemachine/enforce-endpoint.asl.yml';

type TaskState = { Type: 'Task'; Resource: unknown };
export type Definition = { StartAt: string; States: Record<string, { Type: string; Resource?: unknown; SecondsPath?: string }> };

/** Reads the deployed definition and the Lambda function each Task state invokes (`Fn::GetAtt: [function, Arn]`). */
export function loadDefinition(): { definition: Definition; taskFunctions: Record<string, string> } {
  const definition = parse(readFileSync(join(projectRoot(), DEFINITION_FILE), 'utf8')) as Definition;
  const taskFunctions: Record<string, string> = {};
  for (const [name, state] of Object.entries(definition.States)) {
    if (state.Type !== 'Task') continue;
    const getAtt = ((state as TaskState).Resource as { 'Fn::GetAtt'?: [string, string] })['Fn::GetAtt'];
    if (!getAtt) throw new Error(`${DEFINITION_FILE}: Task state ${name} does not invoke a Lambda function of this service`);
    taskFunctions[name] = getAtt[0];
  }
  return { definition, taskFunctions };
}

/**
 * The definition as Step Functions sees it after deployment: CloudFormation replaces each
 * `Fn::GetAtt` with the function's ARN. Locally those ARNs are placeholders; the runner maps Task
 * states to the real handlers.
 */
export function resolvedDefinition(definition: Definition, taskFunctions: Record<string, string>, account: string, region: string): Definition {
  const states = Object.fromEntries(
    Object.entries(definition.States).map(([name, state]) =>
      state.Type === 'Task' ? [name, { ...state, Resource: `arn:aws:lambda:${region}:${account}:function:eks-endpoint-guard-local-${taskFunctions[name]}` }] : [name, state],
    ),
  );
  return { ...definition, States: states };
}
