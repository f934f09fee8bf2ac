/**
 * Expansion of wildcard `include` paths (include /etc/redis/conf.d/*.conf),
 * following glob(3): wildcards may appear in any path component, names
 * starting with '.' only match a pattern that starts with '.', results are
 * sorted, and a pattern matching nothing gives an empty list.
 */
import { readdirSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';
import { globMatch } from '../util/glob.js';

export function hasWildcard(path: string): boolean {
  return /[*?[]/.test(path);
}

function listDir(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

function isDir(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Paths matching `pattern` (relative patterns resolve against `cwd` but are returned relative). */
export function expandIncludeGlob(pattern: string, cwd: string): string[] {
  const absolute = isAbsolute(pattern);
  const parts = pattern.split('/').filter((p, i) => p !== '' || i === 0);
  let found: string[] = [absolute ? '/' : ''];
  if (absolute) parts.shift();
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i];
    const last = i === parts.length - 1;
    const next: string[] = [];
    for (const base of found) {
      const onDisk = resolve(cwd, base || '.');
      if (!hasWildcard(part)) {
        const candidate = base ? join(base, part) : part;
        if (last || isDir(resolve(cwd, candidate))) next.push(candidate);
        continue;
      }
      const names = listDir(onDisk)
        .filter((name) => (name.startsWith('.') ? part.startsWith('.') : true) && globMatch(part, name))
        .sort();
      for (const name of names) {
        const candidate = base ? join(base, name) : name;
        if (last || isDir(resolve(cwd, candidate))) next.push(candidate);
      }
    }
    found = next;
  }
  // A non-wildcard last component must still exist to count as a match.
  return found.filter((p) => {
    try {
      statSync(resolve(cwd, p));
      return true;
    } catch {
      return false;
    }
  });
}
