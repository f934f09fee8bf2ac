/**
 * The process title, as Redis sets it (set-proc-title, proc-title-template):
 * `ps` shows e.g. "mnemo-server *:6379 [cluster]".
 * Only the standalone server process does this: an embedded server must not
 * rename the process it lives in. {title} is the server script's name (what
 * Redis's argv[0] is to it, without ".js"). Node can only use the room of the original
 * command line, so a long title is cut.
 */
import { basename, resolve } from 'node:path';
import type { Server } from './server.js';
import { expandProcTitleTemplate } from '../config/special.js';

function titleVariables(server: Server): (name: string) => string | undefined {
  const config = server.config;
  return (name) => {
    switch (name) {
      case 'title':
        return process.argv[1] ? basename(process.argv[1], '.js') : 'mnemo-server';
      case 'listen-addr':
        return `${config.bindAddresses()[0] ?? '*'}:${server.port}`;
      case 'server-mode':
        return server.mode === 'standalone' ? '' : `[${server.mode}]`;
      case 'port':
        return String(server.port);
      case 'tls-port':
        return String(config.getNumber('tls-port'));
      case 'unixsocket':
        return config.get('unixsocket') ?? '';
      case 'config-file':
        return config.configFile ? resolve(config.configFile) : '';
      default:
        return undefined;
    }
  };
}

/** Sets the title now and again whenever proc-title-template changes (unless set-proc-title is no). */
export function installProcTitle(server: Server): void {
  const config = server.config;
  if (!config.getBool('set-proc-title')) return;
  const apply = (): void => {
    const title = expandProcTitleTemplate(config.get('proc-title-template') ?? '', titleVariables(server));
    if (title !== null && title !== '') process.title = title;
  };
  apply();
  config.onChange('proc-title-template', apply);
}
