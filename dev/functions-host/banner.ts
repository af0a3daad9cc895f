import { FUNCTION_KEY_HEADER, FUNCTION_KEY_SETTING } from './function-keys';
import type { FunctionsHost } from './host';

/** The start-up listing: each function with its URL, methods and auth level, and how keys work. */
export function formatFunctionsBanner(host: FunctionsHost): string[] {
  const lines = ['Functions:'];
  for (const fn of host.functions) {
    if (fn.kind === 'http') {
      lines.push(
        `  ${fn.name}: [${fn.methods.join(',')}] ${host.functionUrl(fn.name)}  (auth: ${fn.authLevel})`,
      );
    } else if (fn.kind === 'timer') {
      const state = host.timersEnabled ? '' : ', timers disabled';
      lines.push(`  ${fn.name}: timerTrigger, schedule "${fn.schedule}"${state}`);
      lines.push(`      run now: POST ${host.baseUrl}/admin/functions/${fn.name}`);
    } else {
      lines.push(`  ${fn.name}: ${fn.triggerType} (not run by this host)`);
    }
  }
  lines.push(
    host.functionKeyRequired
      ? `Keys: 'function' and 'admin' functions need the ${FUNCTION_KEY_SETTING} value as ?code=<key> ` +
          `or header ${FUNCTION_KEY_HEADER}; wrong or missing -> 401.`
      : `Keys: not checked (set ${FUNCTION_KEY_SETTING} in the environment or local.settings.json Values to ` +
          `require ?code=<key> or header ${FUNCTION_KEY_HEADER}, as on Azure).`,
  );
  return lines;
}
