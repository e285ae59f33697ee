// ESLint flat config: typescript-eslint everywhere; AppSync's own rules (APPSYNC_JS subset: no try/throw,
// no while/for(;;), no ++/--, no `in`, no regex literals, allowed methods only...) on everything that is
// bundled into resolvers: schema/resolvers/** and the shared schema/rules.ts.
import js from '@eslint/js';
import appsync from '@aws-appsync/eslint-plugin';
import tseslint from 'typescript-eslint';

const resolverFiles = ['schema/resolvers/**/*.ts', 'schema/rules.ts'];

export default tseslint.config(
  { ignores: ['node_modules/**', 'dist/**', '.local/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { ecmaVersion: 2022, sourceType: 'module' },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: { sourceType: 'commonjs', globals: { require: 'readonly', module: 'writable', __dirname: 'readonly', process: 'readonly', console: 'readonly' } },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // the browser console's files: ES modules the browser runs as they are (no build step)
    files: ['local/console/**/*.js'],
    languageOptions: {
      sourceType: 'module',
      globals: Object.fromEntries(['window', 'document', 'location', 'fetch', 'WebSocket', 'URL', 'URLSearchParams', 'TextEncoder', 'btoa', 'crypto', 'performance', 'setTimeout', 'clearTimeout'].map((g) => [g, 'readonly'])),
    },
  },
  {
    // the runnable examples the README points to: Node ES modules, as a user runs them (node examples/x.mjs)
    files: ['examples/**/*.mjs'],
    languageOptions: { sourceType: 'module', globals: { console: 'readonly', process: 'readonly' } },
  },
  {
    files: resolverFiles,
    ...appsync.configs.recommended,
    languageOptions: {
      ...appsync.configs.recommended.languageOptions,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
  },
);
