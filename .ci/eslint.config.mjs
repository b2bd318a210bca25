// ESLint flat config for wxgate (run from the repo root: `npm run lint`, which passes `-c .ci/eslint.config.mjs`).
// With -c, the file patterns below are relative to the working directory, i.e. the repo root.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    // Build output and dependencies (node_modules is ignored by default too). The hand-written
    // declarations (src/types/*.d.ts, scripts/bench/*.d.ts) lint clean, so they stay in.
    ignores: ['dist/**', 'node_modules/**'],
  },
  {
    files: ['**/*.ts'],
    extends: [tseslint.configs.recommended],
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        {
          argsIgnorePattern: '^_',
          varsIgnorePattern: '^_',
          caughtErrorsIgnorePattern: '^_',
          destructuredArrayIgnorePattern: '^_',
        },
      ],
    },
  },
  {
    // Production code: no `any`.
    files: ['src/**/*.ts'],
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
);
