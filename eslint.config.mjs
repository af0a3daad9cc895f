import js from '@eslint/js';
import tseslint from 'typescript-eslint';

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
  {
    // Deployed code never imports dev tooling, and modules never import function files.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [{ group: ['**/dev/**', '../../dev/*'], message: 'Deployed code must not import dev/.' }],
        },
      ],
    },
  },
  {
    files: [
      'src/allocation/**/*.ts',
      'src/dps/**/*.ts',
      'src/audit/**/*.ts',
      'src/decisions/**/*.ts',
      'src/dashboard/**/*.ts',
      'src/settings.ts',
    ],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          paths: [{ name: '@azure/functions', message: 'Core modules stay free of the Functions runtime.' }],
          patterns: [
            { group: ['**/functions/*'], message: 'A module never imports a function file.' },
            { group: ['**/dev/**'], message: 'Deployed code must not import dev/.' },
          ],
        },
      ],
    },
  },
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
