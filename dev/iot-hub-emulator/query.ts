// The part of the IoT Hub query language the emulator answers (POST /devices/query): the device count,
// `SELECT COUNT() AS <alias> FROM devices`, and every twin, `SELECT * FROM devices`, paged. Anything else (WHERE,
// GROUP BY, projections, other collections) is a clear 400 rather than a wrong answer
// (https://learn.microsoft.com/azure/iot-hub/iot-hub-devguide-query-language).
import { hubBadRequest } from './errors';

export type DeviceQuery = { kind: 'count'; alias: string } | { kind: 'twins' };

const COUNT = /^\s*select\s+count\(\s*\)\s+as\s+([A-Za-z_][A-Za-z0-9_]{0,127})\s+from\s+devices\s*$/i;
const ALL = /^\s*select\s+\*\s+from\s+devices\s*$/i;

export function parseDeviceQuery(body: unknown): DeviceQuery {
  const query = (body as { query?: unknown } | undefined)?.query;
  if (typeof body !== 'object' || body === null || typeof query !== 'string' || query.trim() === '') {
    throw hubBadRequest('The body must be a query specification: {"query": "SELECT ..."}');
  }
  const count = COUNT.exec(query);
  if (count) return { kind: 'count', alias: count[1]! };
  if (ALL.test(query)) return { kind: 'twins' };
  throw hubBadRequest(
    "The emulator answers only 'SELECT COUNT() AS <alias> FROM devices' and 'SELECT * FROM devices' " +
      `(got '${query.slice(0, 200)}')`,
  );
}
