// The registry statistics client: Microsoft Entra ID (scope https://iothubs.azure.net/.default) and SAS tokens whose
// `sr` is the hub's host name, the Host header kept when requests go to a shared endpoint, the shared retry loop on
// 429 and 5xx, typed errors from IoT Hub's error answers; and against the IoT Hub emulator, the documented path.
import { MockAgent } from 'undici';
import { FAST_TIMING, startDpsEmulator, type DpsEmulator } from '../../dev/dps-emulator';
import { DpsThrottledError, DpsUnauthorizedError, DpsValidationError } from '../../src/dps/errors';
import { parseSasToken } from '../../src/dps/sas';
import { HubStatisticsClient, IOT_HUB_ENTRA_SCOPE } from '../../src/hub-load/statistics-client';
import { FakeClock } from '../dps/support/fake-clock';
import { NO_ENTRA } from './support/environment';

const HUB = 'contoso-stats.azure-devices.net';
const PATH = '/statistics/devices?api-version=2021-04-12';
const STATISTICS = { totalDeviceCount: 12, enabledDeviceCount: 10, disabledDeviceCount: 2 };

describe('HubStatisticsClient on a mock dispatcher', () => {
  let agent: MockAgent;

  beforeEach(() => {
    agent = new MockAgent();
    agent.disableNetConnect();
  });

  afterEach(async () => {
    await agent.close();
  });

  it('reads with a Microsoft Entra ID token for the IoT Hub scope, cached across calls', async () => {
    const scopes: string[] = [];
    const credential = {
      getToken: async (scope: string | string[]) => {
        scopes.push(String(scope));
        return { token: 'entra-token', expiresOnTimestamp: Date.now() + 3_600_000 };
      },
    };
    const seen: Record<string, string | string[] | undefined>[] = [];
    agent
      .get(`https://${HUB}`)
      .intercept({ path: PATH, method: 'GET' })
      .reply(200, (options) => {
        seen.push(options.headers as Record<string, string>);
        return STATISTICS;
      })
      .times(2);
    const client = new HubStatisticsClient({
      credential,
      http: { dispatcher: agent },
      clock: new FakeClock(),
    });
    await expect(client.deviceStatistics(HUB)).resolves.toEqual(STATISTICS);
    await expect(client.deviceStatistics(HUB.toUpperCase())).resolves.toEqual(STATISTICS);
    await client.close();
    expect(scopes).toEqual([IOT_HUB_ENTRA_SCOPE]);
    expect(seen.map((headers) => headers.authorization)).toEqual([
      'Bearer entra-token',
      'Bearer entra-token',
    ]);
    expect(client.usesSas(HUB)).toBe(false);
  });

  it('signs SAS tokens for the hub host name, and sends Host as the hub to a shared endpoint', async () => {
    const key = Buffer.alloc(32, 3).toString('base64');
    let headers: Record<string, string> = {};
    agent
      .get('https://127.0.0.1:1')
      .intercept({ path: PATH, method: 'GET' })
      .reply(200, (options) => {
        headers = options.headers as Record<string, string>;
        return STATISTICS;
      });
    const client = new HubStatisticsClient({
      connectionStrings: [`HostName=${HUB};SharedAccessKeyName=registryRead;SharedAccessKey=${key}`],
      originFor: () => 'https://127.0.0.1:1',
      http: { dispatcher: agent },
      credential: NO_ENTRA,
      clock: new FakeClock(),
    });
    await expect(client.deviceStatistics(HUB)).resolves.toEqual(STATISTICS);
    await client.close();
    expect(headers.host).toBe(HUB);
    expect(parseSasToken(headers.authorization)).toMatchObject({ resource: HUB, keyName: 'registryRead' });
    expect(client.usesSas(HUB)).toBe(true);
  });

  it("retries 429 (after Retry-After) and 503, and gives up at once on 401 with IoT Hub's error code", async () => {
    const pool = agent.get(`https://${HUB}`);
    pool.intercept({ path: PATH, method: 'GET' }).reply(429, '', { headers: { 'retry-after': '2' } });
    pool.intercept({ path: PATH, method: 'GET' }).reply(503, 'busy');
    pool.intercept({ path: PATH, method: 'GET' }).reply(200, STATISTICS);
    pool
      .intercept({ path: PATH, method: 'GET' })
      .reply(
        401,
        { Message: 'ErrorCode:IotHubUnauthorizedAccess;Unauthorized', ExceptionMessage: 'Tracking ID:x' },
        { headers: { 'iothub-errorcode': 'IotHubUnauthorizedAccess' } },
      );
    pool.intercept({ path: PATH, method: 'GET' }).reply(429, '').times(3);
    const clock = new FakeClock();
    const client = new HubStatisticsClient({
      credential: { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) },
      http: { dispatcher: agent },
      clock,
    });
    await expect(client.deviceStatistics(HUB)).resolves.toEqual(STATISTICS);
    expect(clock.sleeps[0]).toBe(2000);
    expect(clock.sleeps).toHaveLength(2);

    const unauthorized = client.deviceStatistics(HUB);
    await expect(unauthorized).rejects.toBeInstanceOf(DpsUnauthorizedError);
    await expect(unauthorized).rejects.toThrow(
      `IoT Hub getDeviceStatistics of ${HUB} failed (HTTP 401, IotHubUnauthorizedAccess): ErrorCode:IotHubUnauthorizedAccess;Unauthorized`,
    );
    const throttled = client.deviceStatistics(HUB);
    await expect(throttled).rejects.toBeInstanceOf(DpsThrottledError);
    await expect(throttled).rejects.toMatchObject({ attempts: 3 });
    await client.close();
    agent.assertNoPendingInterceptors();
  });

  it('refuses an answer that holds no registry statistics', async () => {
    agent.get(`https://${HUB}`).intercept({ path: PATH, method: 'GET' }).reply(200, { totalDeviceCount: -1 });
    const client = new HubStatisticsClient({
      credential: { getToken: async () => ({ token: 't', expiresOnTimestamp: Date.now() + 3_600_000 }) },
      http: { dispatcher: agent },
      clock: new FakeClock(),
    });
    await expect(client.deviceStatistics(HUB)).rejects.toBeInstanceOf(DpsValidationError);
    await client.close();
  });
});

describe('HubStatisticsClient on the IoT Hub emulator', () => {
  let emulator: DpsEmulator;

  beforeAll(async () => {
    emulator = await startDpsEmulator({ ...FAST_TIMING, linkedHubs: [{ hostName: HUB }] });
  });

  afterAll(async () => {
    await emulator?.stop();
  });

  it("reads a hub's statistics with its registryRead policy, over the emulator's TLS", async () => {
    const registry = emulator.hubs.registry(HUB);
    registry.seedDevices(25, 'stats-');
    const client = new HubStatisticsClient({
      connectionStrings: [emulator.hubConnectionString(HUB, 'registryRead')],
      originFor: () => emulator.hubEndpoint,
      caCertificate: emulator.caCertificatePem,
      credential: NO_ENTRA,
    });
    try {
      await expect(client.deviceStatistics(HUB)).resolves.toEqual(registry.statistics());
      expect(registry.statistics()).toMatchObject({ totalDeviceCount: 25 });
    } finally {
      await client.close();
    }
  });
});
