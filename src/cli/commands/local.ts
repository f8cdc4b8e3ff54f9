import type { Command } from 'commander';
import { InputError } from '../../errors';
import { runDemo } from '../../local/demo';
import { parseScenario, simulate, type SimulationReport } from '../../local/simulate';
import { EXIT, printJson, readDocument, runCommand } from '../io';
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
    .requiredOption('--policy <file>', 'policy file (YAML or JSON)')
    .requiredOption('--scenario <file>', 'scenario file: an emulator state plus steps (YAML or JSON)')
    .option('--json', 'print the report as JSON')
    .action((opts: { policy: string; scenario: string; json?: boolean }) =>
      runCommand(async () => {
        const [policy, doc] = await Promise.all([loadPolicyFile(opts.policy), readDocument(opts.scenario, 'scenario')]);
        if (doc === null || typeof doc !== 'object') throw new InputError([`scenario ${opts.scenario}: expected a mapping with accounts, clusters, steps`]);
        const report = await simulate(parseScenario(doc, opts.scenario), policy);
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
    .action((opts: { waitMs: string }) => runCommand(() => runDemo(undefined, { waitMs: Number(opts.waitMs) })));
}
