/** Reading INFO replies in client tests. */

/** INFO text as field -> value (section titles and blank lines skipped). */
export function infoFields(info: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of info.split('\r\n')) {
    const i = line.indexOf(':');
    if (i > 0 && !line.startsWith('#')) m.set(line.slice(0, i), line.slice(i + 1));
  }
  return m;
}

/** INFO <section> of a client's server as a plain object (field -> value). */
export async function infoOf(r: { info(section: string): Promise<string> }, section: string): Promise<Record<string, string>> {
  return Object.fromEntries(infoFields(await r.info(section)));
}
