import type { Command } from 'commander';
import { InputError } from '../../errors';
import type { Scenario, SimulationReport } from '../../local/simulate';
import type { Policy } from '../../policy';
import { EXIT, loadAll, missingOptions, printJson, readDocument, runCommand } from '../io';
import { loadPolicyFile } from './policy';

function renderReport(report: SimulationReport): string {
  const lines = ['executions:'];
  for (const e of report.executions) {
    const where = e.cluster ? `${e.cluster.name} ${e.cluster.account}/${e.cluster.region}` : '-';
    lines.push(`  ${e.eventName.padEnd(20)} ${where.padEnd(40)} ${e.outcome.padEnd(24)}${e.reason ? ` ${e.reason}` : ''} (${e.stateTransitions} transitions)`);
    for (const a of e.alerts) lines.push(`      alert ${a.severity}: ${a.subject}`);
  }
  lines.push('clusters:');
  for (const c of report.clusters) {
    const pub = c.config.endpointPublicAccess ? `public ${c.config.publicAccessCidrs.join(',')}` : 'public off';
    lines.push(`  ${c.name} ${c.account}/${c.region}: ${pub}; private ${c.config.endpointPrivateAccess ? 'on' : 'off'}`);
  }
  return `${lines.join('\n')}\n`;
}

export function registerSimulateCommand(program: Command): void {
  program
    .command('simulate')
    .description('Run a scenario (emulator state + steps) through the whole workflow locally and report each execution')
    .option('--policy <file>', 'policy file (YAML or JSON) (required)')
    .option('--scenario <file>', 'scenario file: an emulator state plus steps (YAML or JSON) (required)')
    .option('--json', 'print the report as JSON')
    .action((opts: { policy?: string; scenario?: string; json?: boolean }) =>
      runCommand(async () => {
        // Loaded here, not at the top: the local runner, the emulator and the SDK are for this command only.
        const { parseScenario, simulate } = await import('../../local/simulate');
        const missing = missingOptions(opts, { policy: '--policy <file>', scenario: '--scenario <file>' });
        const scenario = async () => {
          const doc = await readDocument(opts.scenario!, 'scenario');
          if (doc === null || typeof doc !== 'object') throw new InputError([`scenario ${opts.scenario}: expected a mapping with accounts, clusters, steps`]);
          return parseScenario(doc, opts.scenario);
        };
        const [policy, parsed] = await loadAll<[Policy, Scenario]>(
          [opts.policy ? loadPolicyFile(opts.policy) : Promise.resolve(null as never), opts.scenario ? scenario() : Promise.resolve(null as never)],
          missing,
        );
        const report = await simulate(parsed, policy);
        if (opts.json) printJson(report);
        else process.stdout.write(renderReport(report));
        return EXIT.OK;
      }),
    );
}

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('Play the demo story against the local emulator (what `npm start` runs)')
    .option('--wait-ms <ms>', 'real milliseconds each Wait state lasts, to watch progress', '40')
    .action((opts: { waitMs: string }) =>
      runCommand(async () => {
        const { runDemo } = await import('../../local/demo');
        return runDemo(undefined, { waitMs: Number(opts.waitMs) });
      }),
    );
}
