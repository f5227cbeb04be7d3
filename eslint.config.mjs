// One flat config for the whole repository. Syntax-only rules (no type-aware linting): `tsc -b`
// already type-checks, and lint stays fast enough to run on every save.
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import globals from 'globals';
import reactHooks from 'eslint-plugin-react-hooks';
import tseslint from 'typescript-eslint';

export default defineConfig(
  globalIgnores(['**/dist/**', '**/node_modules/**', '.data/**', '**/coverage/**', 'bench/results/**', '**/.turbo/**']),
  js.configs.recommended,
  tseslint.configs.recommended,
  {
    languageOptions: { globals: globals.node },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrorsIgnorePattern: '^_' },
      ],
    },
  },
  {
    // Services log through the pino logger they are given; a stray console.log skips it.
    files: ['services/*/src/**', 'packages/*/src/**'],
    ignores: ['**/*.test.ts'],
    rules: { 'no-console': 'error' },
  },
  {
    // The dashboard runs in browsers: their globals, not Node's.
    files: ['packages/dashboard/**'],
    languageOptions: { globals: globals.browser },
  },
  {
    // The React hooks package and the test app that drives it in Chromium: the rules of hooks.
    files: ['packages/react/**/*.{ts,tsx}', 'test/browser/react-app/**/*.{ts,tsx}'],
    extends: [reactHooks.configs.flat.recommended],
    languageOptions: { globals: globals.browser },
  },
  {
    // Tests read loosely typed JSON answers and assert on them; the assertions are the types.
    files: ['test/**', 'test-support/**', '**/*.test.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    files: ['**/*.cjs'],
    languageOptions: { sourceType: 'commonjs' },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);
