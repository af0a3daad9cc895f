// allocate reads the hub counts at start and in the background, never on a request's path: with the HubLoad table
// filled (by the hub-load timer, from the IoT Hub emulator), N allocations through the handler make no table
// request at all (counted by a proxy in front of Azurite), while leastLoaded spreads them by the counts and this
// worker's own assignments.
import { AZURITE_ACCOUNT_KEY, AZURITE_ACCOUNT_NAME } from '../../dev/azurite';
import { dpsRequestBody } from '../../dev/fixtures/dps-requests';
import { createAllocateHandler, type AllocateHandler } from '../../src/decisions/allocate-handler';
import { startCountingProxy, type CountingProxy } from './support/counting-proxy';
import {
  HUB_A,
  HUB_B,
  recordingLog,
  startHubLoadEnvironment,
  type HubLoadEnvironment,
} from './support/environment';

const ALLOCATIONS = 200;

const POLICY = JSON.stringify({
  hubs: { a: { hostName: HUB_A, maxDevices: 1000 }, b: { hostName: HUB_B, maxDevices: 1000 } },
  defaults: { strategy: { type: 'leastLoaded' } },
  fallback: { action: 'allocate' },
});

let env: HubLoadEnvironment;
let proxy: CountingProxy;
let handler: AllocateHandler;

beforeAll(async () => {
  env = await startHubLoadEnvironment([HUB_A, HUB_B]);
  env.emulator.hubs.registry(HUB_A).seedDevices(150, 'a-');
  env.emulator.hubs.registry(HUB_B).seedDevices(50, 'b-');
  const settings = env.settings();
  await env.timer(settings).run(recordingLog());
  proxy = await startCountingProxy(env.azurite.tableEndpoint);
  handler = createAllocateHandler({
    env: {
      ...settings,
      AUDIT_STORAGE_CONNECTION_STRING:
        `DefaultEndpointsProtocol=http;AccountName=${AZURITE_ACCOUNT_NAME};AccountKey=${AZURITE_ACCOUNT_KEY};` +
        `TableEndpoint=${proxy.origin}/${AZURITE_ACCOUNT_NAME};`,
      ALLOCATION_POLICY: POLICY,
      DECISION_LOG_ENABLED: 'false',
      HUB_LOAD_REFRESH_SECONDS: '3600',
    },
    notices: { info: () => undefined, warn: () => undefined },
  });
}, 60_000);

afterAll(async () => {
  await handler?.close();
  await proxy?.stop();
  await env?.stop();
});

const body = (index: number) =>
  JSON.stringify(
    dpsRequestBody({
      registrationId: `load-device-${index}`,
      group: 'load-fleet',
      attestation: 'symmetricKey',
      linkedHubs: [HUB_A, HUB_B],
    }),
  );

it('makes no table request per allocation beyond the background load', async () => {
  await handler.hubLoad!.ready();
  const loaded = proxy.requests.length;
  expect(loaded).toBeGreaterThanOrEqual(1); // the load went through the proxy
  expect(proxy.requests.every((request) => request.includes('HubLoad'))).toBe(true);
  expect(Object.fromEntries(handler.hubLoad!.view().devices)).toEqual({ [HUB_A]: 150, [HUB_B]: 50 });

  const assigned: Record<string, number> = {};
  const log = { log: () => undefined, warn: () => undefined };
  for (let i = 0; i < ALLOCATIONS; i++) {
    const answer = await handler.answer(body(i), log);
    expect(answer.status).toBe(200);
    const hub = (answer.jsonBody as { iotHubHostName: string }).iotHubHostName;
    assigned[hub] = (assigned[hub] ?? 0) + 1;
  }

  expect(proxy.requests.slice(loaded)).toEqual([]);
  // leastLoaded filled the emptier hub first: 100 to B, then the two shared the rest.
  expect(assigned[HUB_B]).toBeGreaterThanOrEqual(100);
  expect((assigned[HUB_A] ?? 0) + assigned[HUB_B]!).toBe(ALLOCATIONS);
  expect(Math.abs(150 + (assigned[HUB_A] ?? 0) - (50 + assigned[HUB_B]!))).toBeLessThanOrEqual(1);
  expect(Object.fromEntries(handler.hubLoad!.view().devices)).toEqual({
    [HUB_A]: 150 + (assigned[HUB_A] ?? 0),
    [HUB_B]: 50 + assigned[HUB_B]!,
  });

  // A refresh is one request (listing the partition), made off the request path.
  await handler.hubLoad!.refresh();
  expect(proxy.requests.length).toBe(loaded + 1);
});

it('does not count a reprovisioned device kept on its current hub as a new device there', async () => {
  const before = Object.fromEntries(handler.hubLoad!.view().devices);
  const reprovision = JSON.stringify(
    dpsRequestBody({
      registrationId: 'load-device-returning',
      group: 'load-fleet',
      attestation: 'symmetricKey',
      linkedHubs: [HUB_A, HUB_B],
      currentHub: HUB_A,
    }),
  );
  const answer = await handler.answer(reprovision, { log: () => undefined, warn: () => undefined });
  expect(answer.jsonBody).toMatchObject({ iotHubHostName: HUB_A }); // sticky: it stays
  expect(Object.fromEntries(handler.hubLoad!.view().devices)).toEqual(before);
});
