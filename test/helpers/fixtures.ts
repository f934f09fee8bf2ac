import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** test/fixtures/<name>, found above this (possibly compiled) file or in the working directory. */
export function fixture(name: string): string {
  const candidates = [join(process.cwd(), 'test', 'fixtures', name)];
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 6; i++, dir = dirname(dir)) candidates.push(join(dir, 'test', 'fixtures', name));
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new Error(`fixture ${name} not found`);
  return found;
}
