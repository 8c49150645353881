// Lint and the one direction of dependency (core, with its ports in core/ports ← adapters ← edges), checked in `npm test`.
const js = require('@eslint/js');
const tseslint = require('typescript-eslint');

const SDKS = ['@duckdb/*', '@aws-sdk/*', '@aws-lambda-powertools/*', 'aws-cdk-lib', 'aws-cdk-lib/*', 'constructs', 'cdk-nag'];
const FILE_SYSTEM = ['fs', 'fs/promises', 'node:fs', 'node:fs/promises', 'child_process', 'node:child_process'];
const restricted = (patterns, paths = [], allowTypeImports = false) => ({
  '@typescript-eslint/no-restricted-imports': [
    'error',
    {
      patterns: patterns.map((p) => ({ ...p, allowTypeImports })),
      paths: paths.map((name) => ({ name, message: 'core does no file I/O: go through a port' })),
    },
  ],
});

module.exports = tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'cdk.out/**', 'examples/*/out/**', 'examples/*/data/**', 'coverage/**', '.venv-*/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'off',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/no-require-imports': 'off',
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // Core and its ports (lib/core/ports): adapters implement the ports, the edges call the steps.
    files: ['lib/core/**/*.ts'],
    rules: restricted(
      [
        {
          group: ['**/adapters/**', '**/cli/**', '**/runner/**', '**/project/**', '**/pull/**', '**/cdk/**', '**/lambdas/**', '**/local', '**/aws', '**/cdk'],
          message: 'core imports no adapter and no edge: depend on a port instead',
        },
        { group: SDKS, message: 'core imports no SDK: adapters do' },
      ],
      FILE_SYSTEM,
    ),
  },
  {
    files: ['lib/adapters/**/*.ts'],
    // Adapters import core (its ports and helpers), never an edge.
    rules: restricted([{ group: ['**/cli/**', '**/runner/**', '**/cdk/**', '**/lambdas/**', '**/cdk'], message: 'adapters do not depend on the edges' }]),
  },
  {
    files: ['lambdas/**/*.ts'],
    rules: restricted([
      {
        group: ['@duckdb/*', 'aws-cdk-lib', 'aws-cdk-lib/*', '**/adapters/duckdb/**', '**/cli/**', '**/local'],
        message: 'no DuckDB, CLI or CDK in a Lambda bundle',
      },
    ]),
  },
  {
    files: ['**/*.js'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' },
    },
  },
);
