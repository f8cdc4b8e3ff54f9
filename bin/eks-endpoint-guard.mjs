#!/usr/bin/env node
// The CLI is bundled by `npm run build` (run by `prepare` on `npm ci`).
await import('../dist/cli.mjs');
