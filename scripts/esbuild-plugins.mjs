// esbuild plugins shared by the CLI build (scripts/build-cli.mjs) and the Lambda bundles (serverless.yml,
// custom.esbuild.plugins, which serverless-esbuild loads from this file's default export).

/**
 * zod's `z` namespace re-exports `locales`: the error messages of some 60 languages, about 500 KB of
 * source. esbuild keeps every one of them, because the code uses `z` as a value (z.object), and each
 * start-up then parses them. The guard never calls `z.config(z.locales.xx())`: its messages are zod's
 * English default, which zod's schemas import on their own (../locales/en.js, not through the index).
 * This resolves the locales index, when zod itself imports it, to an empty module; `z.locales` is then
 * an empty namespace. A zod release that moves the index only makes the bundles bigger again.
 */
export const zodWithoutLocales = {
  name: 'zod-without-locales',
  setup(build) {
    build.onResolve({ filter: /^\.\.\/locales\/index\.js$/ }, ({ importer }) =>
      /[\\/]node_modules[\\/]zod[\\/]v4[\\/]/.test(importer) ? { path: 'zod-locales', namespace: 'zod-without-locales' } : undefined,
    );
    build.onLoad({ filter: /.*/, namespace: 'zod-without-locales' }, () => ({ contents: 'export {};', loader: 'js' }));
  },
};

export default [zodWithoutLocales];
