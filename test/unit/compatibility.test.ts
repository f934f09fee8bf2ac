/**
 * docs/COMPATIBILITY.md is generated from the command table and src/config by
 * scripts/gen-compatibility.mjs. These tests regenerate it in memory from this build and fail when
 * the committed file is stale, and check that the page says what the build does.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { buildCommandTable } from '../../src/commands/index.js';
import { loadCommandFacts } from '../../src/commands/facts/encode.js';
import { DIRECTIVES, EFFECTIVE_DIRECTIVES } from '../../src/config/directives.js';

// Compiled to dist/test/unit/: the build's root is two levels up, the repository's three.
const DIST_ROOT = new URL('../../', import.meta.url);
const REPO_ROOT = new URL('../../../', import.meta.url);
const DOC = new URL('docs/COMPATIBILITY.md', REPO_ROOT);

interface Generator {
  loadInputs(distRoot: URL): Promise<unknown>;
  renderCompatibility(inputs: unknown): string;
}

async function render(): Promise<string> {
  const gen = (await import(new URL('scripts/gen-compatibility.mjs', REPO_ROOT).href)) as Generator;
  return gen.renderCompatibility(await gen.loadInputs(DIST_ROOT));
}

/** Splits a Markdown table row into cells, honouring escaped pipes. */
function cells(line: string): string[] {
  return line
    .slice(1, -1)
    .split(/(?<!\\)\|/)
    .map((c) => c.trim());
}

test('docs/COMPATIBILITY.md is up to date with the command table and config', async () => {
  const expected = await render();
  let actual: string;
  try {
    actual = readFileSync(DOC, 'utf8');
  } catch {
    assert.fail('docs/COMPATIBILITY.md is missing: run `npm run docs:compat`');
  }
  if (actual !== expected) {
    const a = actual.split('\n');
    const e = expected.split('\n');
    let i = 0;
    while (i < a.length && i < e.length && a[i] === e[i]) i++;
    assert.fail(
      'docs/COMPATIBILITY.md is stale: run `npm run docs:compat` and commit the result.\n' +
        `First difference at line ${i + 1}:\n  file:      ${a[i] ?? '<end of file>'}\n  generated: ${e[i] ?? '<end of file>'}`,
    );
  }
});

test('the page lists every Redis command once, with what this build implements', async () => {
  const text = await render();
  const table = buildCommandTable();
  const facts = loadCommandFacts();
  assert.match(text, new RegExp(`\\*\\*${table.size} of ${facts.size} commands implemented\\*\\*`));

  const rows = new Map<string, string[]>();
  for (const line of text.split('\n')) {
    const m = /^\| `([A-Z0-9_ |-]+)` \|/.exec(line);
    if (!m || !/^\| `[^`]+` \| (yes|no) \|/.test(line)) continue;
    const row = cells(line);
    assert.equal(row.length, 5, `a command row has 5 cells: ${line}`);
    assert.ok(!rows.has(m[1]), `${m[1]} listed twice`);
    rows.set(m[1], row);
  }
  let expectedRows = 0;
  for (const f of facts.values()) {
    for (const entry of [f, ...f.subcommands]) {
      expectedRows++;
      const name = entry.name.replace('|', ' ').toUpperCase();
      const row = rows.get(name);
      assert.ok(row, `${name} has no row`);
      const impl = table.lookupFullName(entry.name);
      assert.equal(row[1], impl ? 'yes' : 'no', name);
      if (impl) assert.ok(row[2].length > 0, `${name} shows our summary`);
      assert.ok(row[4].startsWith(entry.docs.since ?? ''), `${name} shows Redis's "since"`);
    }
  }
  assert.equal(rows.size, expectedRows);
});

test('the page lists every config directive with its status', async () => {
  const text = await render();
  for (const d of DIRECTIVES) {
    const line = text.split('\n').find((l) => l.startsWith(`| \`${d.name}\``));
    assert.ok(line, `${d.name} is not listed`);
    const on = EFFECTIVE_DIRECTIVES.has(d.name) || (d.alias !== undefined && EFFECTIVE_DIRECTIVES.has(d.alias));
    assert.ok(line.endsWith(on ? '| effective |' : '| accepted, no effect yet |'), line);
  }
});
