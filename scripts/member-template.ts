// Writes the member stack's CloudFormation template (src/deploy/member-template.ts), offline:
//   tsx scripts/member-template.ts [FILE]      (default .serverless/member-stack.json)
// `npm run package` runs it after `sls package`, which empties .serverless/ first.
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { memberTemplate, renderMemberTemplate } from '../src/deploy/member-template';

const file = resolve(process.argv[2] ?? '.serverless/member-stack.json');
await mkdir(dirname(file), { recursive: true });
await writeFile(file, renderMemberTemplate());
const template = memberTemplate();
process.stdout.write(`Member stack template: ${file} (${Object.keys(template.Resources).length} resources, parameters ${Object.keys(template.Parameters).join(', ')})\n`);
