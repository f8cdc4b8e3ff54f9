/**
 * The YAML parser, for src/cli/io.ts to import on demand. Through this module, not `import('yaml')`:
 * yaml is CommonJS for Node, and a bundled chunk of it exports only a default, whereas a static named
 * import is given its `parse` by esbuild's interop.
 */
export { parse } from 'yaml';
