import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const NOT_DEPLOYED = [
  {
    group: ['**/dev/**', '**/dev', '**/test/**', '**/bench/**'],
    message: 'Deployed code must not import dev/, test/ or bench/.',
  },
];
const NO_FUNCTION_FILES = {
  group: ['**/functions/*', '!@azure/functions'],
  message: 'A module never imports a function file.',
};
const NO_CLI = {
  group: ['**/cli/**', '**/cli'],
  message: 'Only src/cli/ holds command-line code; modules never import it.',
};
const NO_FUNCTIONS_RUNTIME = {
  name: '@azure/functions',
  message: 'Core modules stay free of the Functions runtime.',
};
const NO_PARSE_ARGS = ['node:util', 'util'].map((name) => ({
  name,
  importNames: ['parseArgs'],
  message: 'Argument parsing is command-line code: it lives in src/cli/.',
}));
const CLI_PROCESS = ['argv', 'exit', 'exitCode'].map((property) => ({
  object: 'process',
  property,
  message: 'Only src/cli/ reads the command line or ends the process.',
}));

/** One block per part of src/, each with every import restriction that applies to it. */
function sourceBoundaries() {
  const feature = (other) => ({
    group: [`**/${other}/**`, `../${other}`],
    message: 'audit/ and decisions/ never import each other: share through src/storage or src/http.',
  });
  const block = (files, patterns, { runtime = true, cli = true, ignores } = {}) => ({
    files,
    ...(ignores ? { ignores } : {}),
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [...(runtime ? [NO_FUNCTIONS_RUNTIME] : []), ...(cli ? NO_PARSE_ARGS : [])],
          patterns: [...NOT_DEPLOYED, ...patterns, ...(cli ? [NO_CLI] : [])],
        },
      ],
      ...(cli ? { 'no-restricted-properties': ['error', ...CLI_PROCESS] } : {}),
    },
  });
  return [
    block(['src/**/*.ts'], [NO_FUNCTION_FILES], {
      ignores: ['src/functions/**', 'src/cli/**', 'src/audit/**', 'src/decisions/**'],
    }),
    block(['src/functions/**/*.ts'], [], { runtime: false }),
    block(['src/cli/**/*.ts'], [NO_FUNCTION_FILES], { cli: false }),
    block(['src/audit/**/*.ts'], [NO_FUNCTION_FILES, feature('decisions')]),
    block(['src/decisions/**/*.ts'], [NO_FUNCTION_FILES, feature('audit')]),
  ];
}

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'coverage/**', '.local/**', 'test-artifacts/**', '.deploy/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      globals: { require: 'readonly', module: 'writable', process: 'readonly', __dirname: 'readonly' },
    },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  // Boundaries of src/ (see the README's project layout): deployed code never imports dev/, test/ or bench/;
  // only src/functions/ imports the Functions runtime and nothing imports a function file; only src/cli/ holds
  // command-line code and nothing else imports it; audit/ and decisions/ never import each other (what both need
  // is in storage/ and http/). Flat config gives a file the last block's setting of a rule, so each folder's
  // block lists every restriction that applies to it.
  ...sourceBoundaries(),
  {
    // The dashboard's browser script (its own tsconfig, with DOM types): browser globals, not Node's, and no sink
    // that turns data into markup or code (data enters the page as text only).
    files: ['src/dashboard/browser/**/*.ts'],
    languageOptions: {
      globals: {
        require: 'off',
        module: 'off',
        process: 'off',
        __dirname: 'off',
        window: 'readonly',
        document: 'readonly',
        Node: 'readonly',
        fetch: 'readonly',
        AbortController: 'readonly',
        URL: 'readonly',
        URLSearchParams: 'readonly',
        setTimeout: 'readonly',
        clearTimeout: 'readonly',
      },
    },
    rules: {
      'no-eval': 'error',
      'no-implied-eval': 'error',
      'no-new-func': 'error',
      'no-restricted-properties': [
        'error',
        ...['innerHTML', 'outerHTML', 'insertAdjacentHTML', 'write', 'writeln'].map((property) => ({
          property,
          message: 'Data enters the page as text: use textContent and DOM calls.',
        })),
      ],
    },
  },
);
