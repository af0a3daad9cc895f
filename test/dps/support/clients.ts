import { DpsClient, type DpsClientOptions, type DpsLogLevel } from '../../../src/dps/client';
import { FakeClock } from './fake-clock';
import type { TestHttpsServer } from './test-https-server';

/** A policy key (base64) that must never show up in a log line or error message. */
export const POLICY_KEY = Buffer.from('policy-key-for-tests-0123456789!').toString('base64');
export const POLICY_NAME = 'provisioningserviceowner';

export function connectionStringFor(hostName: string): string {
  return `HostName=${hostName};SharedAccessKeyName=${POLICY_NAME};SharedAccessKey=${POLICY_KEY}`;
}

export interface TestClient {
  client: DpsClient;
  clock: FakeClock;
  logs: { level: DpsLogLevel; message: string }[];
}

/** A SAS client for the test server with a fake clock (sleeps return at once) and captured logs. */
export function sasClientFor(server: TestHttpsServer, options: Partial<DpsClientOptions> = {}): TestClient {
  const clock = new FakeClock();
  const logs: TestClient['logs'] = [];
  const client = new DpsClient({
    connectionString: connectionStringFor(server.hostName),
    caCertificate: server.ca,
    clock,
    logger: (level, message) => logs.push({ level, message }),
    ...options,
  });
  return { client, clock, logs };
}
