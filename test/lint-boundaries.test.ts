// The layout's boundaries are ESLint rules (eslint.config.mjs), so `npm test` keeps them; these cases show each
// rule refuses what it is for, and lets through what the layout allows.
import { execFileSync } from 'node:child_process';
import path from 'node:path';

const repoRoot = path.resolve(__dirname, '..');

// ESLint loads its flat config with a dynamic import, which Jest's VM cannot run: a plain node lints each case.
const LINT_CASES = `
const { ESLint } = require('eslint');
const path = require('node:path');
const eslint = new ESLint({ cwd: process.cwd() });
const cases = JSON.parse(process.argv[1]);
Promise.all(cases.map(async ([file, code]) => {
  const [result] = await eslint.lintText(code, { filePath: path.join(process.cwd(), file) });
  return result.messages
    .filter((message) => /no-restricted-(imports|properties)/.test(message.ruleId ?? ''))
    .map((message) => message.message);
})).then((messages) => process.stdout.write(JSON.stringify(messages)));
`;

let linted: Map<string, string[]> | undefined;

/** The boundary rules' messages for `code` as if it were the file `file` (every case is linted at once). */
function boundaryMessages(file: string, code: string): string[] {
  linted ??= lintAll();
  return linted.get(file + '\0' + code) ?? [];
}

const REFUSED: [string, string, RegExp][] = [
  [
    'src/audit/read/x.ts',
    "import { decisionStoreFor } from '../../decisions/store';",
    /never import each other/,
  ],
  ['src/decisions/x.ts', "import { AuditStore } from '../audit/store';", /never import each other/],
  ['src/audit/x.ts', "import { main } from '../cli/audit/main';", /Only src\/cli/],
  ['src/storage/x.ts', "import { parseArgs } from 'node:util';", /lives in src\/cli/],
  ['src/decisions/x.ts', 'export const argv = process.argv;', /Only src\/cli/],
  ['src/http/x.ts', "import { startDpsEmulator } from '../../dev/dps-emulator';", /must not import dev/],
  [
    'src/cli/audit/x.ts',
    "import { startDpsEmulator } from '../../../dev/dps-emulator';",
    /must not import dev/,
  ],
  ['src/allocation/x.ts', "import { app } from '@azure/functions';", /free of the Functions runtime/],
  ['src/audit/x.ts', "import '../functions/audit';", /function file/],
];

const ALLOWED: [string, string][] = [
  [
    'src/cli/audit/x.ts',
    "import { auditStoreFor } from '../../audit/store';\nimport { decisionStoreFor } from '../../decisions/store';\nexport const argv = process.argv;\n",
  ],
  [
    'src/decisions/x.ts',
    "import { storageCall } from '../storage/errors';\nimport { respond } from '../http/response';\n",
  ],
  [
    'src/functions/x.ts',
    "import { app } from '@azure/functions';\nimport { auditApi } from '../audit/read/http-api';\n",
  ],
];

function lintAll(): Map<string, string[]> {
  const cases = [...REFUSED, ...ALLOWED].map(([file, code]) => [file, code]);
  const output = execFileSync(process.execPath, ['-e', LINT_CASES, JSON.stringify(cases)], {
    cwd: repoRoot,
    encoding: 'utf8',
  });
  const messages = JSON.parse(output) as string[][];
  return new Map(cases.map(([file, code], index) => [file + '\0' + code, messages[index] ?? []]));
}

describe('layout boundaries', () => {
  it.each(REFUSED)('%s: %s is refused', (file, code, message) => {
    expect(boundaryMessages(file, code)).toEqual([expect.stringMatching(message)]);
  });

  it.each(ALLOWED)('%s: what the layout allows passes', (file, code) => {
    expect(boundaryMessages(file, code)).toEqual([]);
  });
});
