/**
 * Layer rules for wxgate's src/ (run by `npm run lint:layers`, from the repo root).
 *
 * Layers, lowest to highest. A module may import its own layer and the layers below it, never above:
 *   0  src/kernel/                   errors, clock, log, config, timers, small pure helpers
 *   1  src/infra/, src/cache/        Redis/Mongo connections, the Redis key catalogue, caches
 *   2  src/http/, src/transport/,    Koa context, error handler, body input; HTTP edge to WeChat;
 *      src/protocol/                 WeChat's pure wire protocol (push signatures and cipher)
 *   3  src/tenancy/
 *   3b src/contracts/                the seams features and services plug into (Feature, AccessTokens)
 *   4  services: src/token/, src/wechat/, src/auth/, src/ops/, src/delivery/, src/merchants/, src/platforms/, src/limits/
 *   5  features: src/tenant-info/, src/token-service/, src/passthrough/, src/portal/, src/users/, src/miniapp/, src/pay/, src/platform/
 *   6  src/admin/
 *   7  src/composition/ and src/main.ts (the composition root)
 *   dev-only: src/sandbox/, src/devstack/ (never imported by production code)
 *
 * Rules key on folder names only: a folder that does not exist (yet) simply matches nothing.
 * Paths are relative to the repo root, where npm runs the scripts.
 */

// Path regexes per layer. Each ends in '/' (or '$' for a file), so 'token/' never matches 'token-service/'.
const KERNEL = '^src/kernel/';
const L1 = '^src/(infra|cache)/';
const L2 = '^src/(http|transport|protocol)/';
const L3 = '^src/tenancy/';
const CONTRACTS = '^src/contracts/';
const SERVICES = '^src/(token|wechat|auth|ops|delivery|merchants|platforms|audit|limits)/';
const FEATURES = '^src/(tenant-info|token-service|passthrough|portal|users|miniapp|pay|platform)/';
const ADMIN = '^src/admin/';
const COMPOSITION = '^src/(composition/|main\\.ts$)';
const DEV_ONLY = '^src/(sandbox|devstack)/';

// Everything above a given layer, as one alternation (the dev-only folders have their own rule below).
const above = (...layers) => layers.join('|');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    // ---- one rule per layer: nothing imports upwards ------------------------------------------
    {
      name: 'kernel-is-the-floor',
      comment:
        'src/kernel is layer 0: everything else builds on it, so it may import nothing else from src/ ' +
        '(infra, cache, http, transport, tenancy, services, features, admin, composition, main.ts).',
      severity: 'error',
      from: { path: KERNEL },
      to: { path: above(L1, L2, L3, CONTRACTS, SERVICES, FEATURES, ADMIN, COMPOSITION) },
    },
    {
      name: 'infra-below-http',
      comment:
        'src/infra and src/cache (layer 1) hold connections, key catalogue and caches; they serve everything ' +
        'above and may import only src/kernel.',
      severity: 'error',
      from: { path: L1 },
      to: { path: above(L2, L3, CONTRACTS, SERVICES, FEATURES, ADMIN, COMPOSITION) },
    },
    {
      name: 'http-below-tenancy',
      comment:
        'src/http and src/transport (layer 2) are the generic HTTP edges (Koa and WeChat); they know nothing ' +
        'of tenants, services, features, admin or the composition root.',
      severity: 'error',
      from: { path: L2 },
      to: { path: above(L3, CONTRACTS, SERVICES, FEATURES, ADMIN, COMPOSITION) },
    },
    {
      name: 'tenancy-below-services',
      comment:
        'src/tenancy (layer 3) must not import any service, feature, admin or composition folder: services ' +
        'and features depend on tenancy, not the other way round.',
      severity: 'error',
      from: { path: L3 },
      to: { path: above(CONTRACTS, SERVICES, FEATURES, ADMIN, COMPOSITION) },
    },
    {
      name: 'contracts-below-services',
      comment:
        'src/contracts (layer 3b) holds the interfaces services and features meet through; an interface that ' +
        'imported an implementation would tie the seam to one side.',
      severity: 'error',
      from: { path: CONTRACTS },
      to: { path: above(SERVICES, FEATURES, ADMIN, COMPOSITION) },
    },
    {
      name: 'services-below-features',
      comment:
        'Services (token, wechat, auth, ops, delivery; layer 4) are used by features; they must not import ' +
        'a feature, admin or the composition root.',
      severity: 'error',
      from: { path: SERVICES },
      to: { path: above(FEATURES, ADMIN, COMPOSITION) },
    },
    {
      name: 'features-below-admin',
      comment:
        'Features (layer 5) are wired together by the composition root; they must not import src/admin ' +
        'or the composition root.',
      severity: 'error',
      from: { path: FEATURES },
      to: { path: above(ADMIN, COMPOSITION) },
    },
    {
      name: 'admin-below-composition',
      comment: 'src/admin (layer 6) must not import the composition root (src/composition, src/main.ts).',
      severity: 'error',
      from: { path: ADMIN },
      to: { path: COMPOSITION },
    },

    // ---- seams within a layer -------------------------------------------------------------------
    {
      name: 'features-are-independent',
      comment:
        'A feature folder may not import another feature folder: features share code only through lower ' +
        'layers, so each can be switched off or moved on its own.',
      severity: 'error',
      from: { path: '^src/(tenant-info|token-service|passthrough|portal|users|miniapp|pay|platform)/' },
      to: {
        path: '^src/(tenant-info|token-service|passthrough|portal|users|miniapp|pay|platform)/',
        pathNot: '^src/$1/',
      },
    },
    {
      name: 'wechat-not-to-token',
      comment:
        'The token seam: src/wechat must not import src/token. The two meet only through contracts wired ' +
        'in the composition root.',
      severity: 'error',
      from: { path: '^src/wechat/' },
      to: { path: '^src/token/' },
    },
    {
      name: 'token-not-to-wechat',
      comment:
        'The token seam: src/token must not import src/wechat. The two meet only through contracts wired ' +
        'in the composition root.',
      severity: 'error',
      from: { path: '^src/token/' },
      to: { path: '^src/wechat/' },
    },

    // ---- dev-only code -------------------------------------------------------------------------
    {
      name: 'production-not-to-dev-only',
      comment:
        'Production code (all of src/ but src/sandbox and src/devstack, main.ts and the composition root ' +
        'included) must not import the dev-only folders: they are not part of what ships.',
      severity: 'error',
      from: { path: '^src/', pathNot: DEV_ONLY },
      to: { path: DEV_ONLY },
    },
    {
      name: 'sandbox-is-standalone',
      comment:
        'src/sandbox is a stand-alone fake WeChat: it may import only src/kernel and src/protocol (WeChat\'s ' +
        'own signature and cipher, checked against the official vectors), never the gateway code it is meant ' +
        'to test against.',
      severity: 'error',
      from: { path: '^src/sandbox/' },
      to: { path: '^src/', pathNot: '^src/(kernel|protocol|sandbox)/' },
    },

    // ---- general hygiene -----------------------------------------------------------------------
    {
      name: 'no-circular',
      comment:
        'Circular dependencies make load order fragile and layers meaningless; break the cycle by moving ' +
        'the shared part down a layer or passing it in.',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    {
      name: 'not-to-unresolvable',
      comment: 'An import that cannot be resolved on disk: a typo, a moved file, or a package missing from package.json.',
      severity: 'error',
      from: {},
      to: { couldNotResolve: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // Keep `import type` / type-only imports: they are still dependencies between layers.
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.d.ts', '.js', '.cjs', '.mjs', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
