// Guard rails run by `npm test` (as `npm run lint`, with dpdm's import-cycle
// check beside it, which counts type-only imports as ESLint's plugins do not):
// - no explicit `any` outside test files; a true boundary says why in an
//   `eslint-disable-next-line ... -- reason` comment;
// - no imports from one component into another except through lib/ or the
//   declared contract module kubelet/api/.
import tseslint from 'typescript-eslint';

const COMPONENTS = ['apiserver', 'kubelet', 'controllers', 'scheduler', 'proxy', 'store', 'cli'];
const CONTRACTS = { kubelet: 'kubelet/api' };

/** For each component, and lib/: imports of another component's files are an error, its contract module excepted. */
const boundaries = [...COMPONENTS, 'lib'].map((self) => ({
  files: [`${self}/**/*.ts`],
  ignores: ['**/*.test.ts'],
  rules: {
    'no-restricted-imports': ['error', {
      patterns: [{
        // `../kubelet/pod-manager` is refused, `../../kubelet/api/proto` is not
        regex: `(^|/)(${COMPONENTS.filter((c) => c !== self).map((c) => (CONTRACTS[c] ? `${c}/(?!${CONTRACTS[c].slice(c.length + 1)}/)` : `${c}/`)).join('|')})`,
        message: 'components import each other only through lib/ or a declared contract module (kubelet/api/)',
      }],
    }],
  },
}));

export default [
  { ignores: ['dist/**', 'node_modules/**', 'bench/results/**'] },
  {
    files: ['**/*.ts'],
    languageOptions: { parser: tseslint.parser },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    plugins: { '@typescript-eslint': tseslint.plugin },
    rules: { '@typescript-eslint/no-explicit-any': 'error' },
  },
  { files: ['**/*.test.ts'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
  ...boundaries,
];
