#!/usr/bin/env node
/**
 * mnemo-cli [OPTIONS] [cmd [arg ...]]
 * A redis-cli compatible command line client (same options, same output); see src/cli/.
 */
import { main } from '../cli/main.js';

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`${(e as Error)?.stack ?? String(e)}\n`);
    process.exit(1);
  },
);
