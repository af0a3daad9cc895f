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
);
