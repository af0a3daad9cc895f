// Seeding: groups and registration states in chosen statuses, realistic failures, reproducible order,
// and a 100,000-registration group that pages correctly.
import type { Agent } from 'undici';
import type { DpsEmulator } from '../../../dev/dps-emulator';
import { DEFAULT_SEED_FAILURES } from '../../../dev/dps-emulator';
import {
  emulatorDispatcher,
  HUB_A,
  HUB_B,
  HUB_C,
  ownerAuthorization,
  rawCall,
  startTestEmulator,
} from './support/emulator';

let emulator: DpsEmulator;
let dispatcher: Agent;

beforeAll(async () => {
  emulator = await startTestEmulator();
  dispatcher = emulatorDispatcher(emulator);
});

afterAll(async () => {
  await dispatcher.close();
  await emulator.stop();
});

describe('seeding', () => {
  it('creates K groups with the requested registration states each', () => {
    const result = emulator.seed({
      groups: 3,
      groupIdPrefix: 'small-',
      perGroup: { assigned: 6, failed: 5, unassigned: 2, disabled: 1 },
    });
    expect(result.groupIds).toEqual(['small-001', 'small-002', 'small-003']);
    expect(result.registrations).toBe(42);
    expect(result.perStatus).toEqual({ assigned: 18, failed: 15, unassigned: 6, disabled: 3 });
    for (const groupId of result.groupIds) expect(emulator.store.groupRegistrationCount(groupId)).toBe(14);

    const states = Array.from({ length: 14 }, (_, i) =>
      emulator.getRegistration(`small-001-device-${String(i).padStart(6, '0')}`)!,
    );
    const failed = states.filter((s) => s.status === 'failed');
    expect(failed).toHaveLength(5);
    expect(failed.map((s) => s.errorCode)).toEqual(
      [0, 1, 2, 3, 4].map((i) => DEFAULT_SEED_FAILURES[i % DEFAULT_SEED_FAILURES.length]!.errorCode),
    );
    expect(failed.every((s) => s.errorMessage && s.assignedHub === undefined)).toBe(true);
    const assigned = states.filter((s) => s.status === 'assigned');
    expect(
      assigned.every(
        (s) => [HUB_A, HUB_B, HUB_C].includes(s.assignedHub!) && s.substatus === 'initialAssignment',
      ),
    ).toBe(true);
    // Statuses are shuffled, not laid out in blocks.
    expect(states.map((s) => s.status)).not.toEqual([...states.map((s) => s.status)].sort());
  });

  it('is reproducible with the same seed', () => {
    const statusesOf = (groupId: string) =>
      Array.from(
        { length: 20 },
        (_, i) => emulator.getRegistration(`${groupId}-device-${String(i).padStart(6, '0')}`)!.status,
      );
    emulator.seed({ groupIds: ['repro-a'], perGroup: { assigned: 10, failed: 10 }, seed: 5 });
    emulator.seed({ groupIds: ['repro-b'], perGroup: { assigned: 10, failed: 10 }, seed: 5 });
    emulator.seed({ groupIds: ['repro-c'], perGroup: { assigned: 10, failed: 10 }, seed: 6 });
    expect(statusesOf('repro-a')).toEqual(statusesOf('repro-b'));
    expect(statusesOf('repro-a')).not.toEqual(statusesOf('repro-c'));
  });

  it('creates custom allocation groups with failures of their own', () => {
    emulator.seed({
      groupIds: ['seeded-custom'],
      allocationPolicy: 'custom',
      webhookUrl: 'http://127.0.0.1:7071/api/allocate?code=x',
      perGroup: { failed: 2 },
      failures: [{ errorCode: 400209, errorMessage: 'Custom allocation failed with status code: 401' }],
    });
    expect(emulator.store.getGroup('seeded-custom')?.value.allocationPolicy).toBe('custom');
    expect(emulator.getRegistration('seeded-custom-device-000001')?.errorCode).toBe(400209);
    expect(() =>
      emulator.seed({ groupIds: ['x'], allocationPolicy: 'custom', perGroup: { failed: 1 } }),
    ).toThrow(/webhookUrl/);
  });

  it('seeds 100,000 registrations in one group that page in order', async () => {
    const result = emulator.seed({
      groupIds: ['big-group'],
      perGroup: { assigned: 90_000, failed: 9_000, unassigned: 1_000 },
    });
    expect(result.registrations).toBe(100_000);
    expect(emulator.store.groupRegistrationCount('big-group')).toBe(100_000);

    const page = (token?: string) =>
      rawCall(emulator, dispatcher, 'POST', '/registrations/big-group/query?api-version=2021-10-01', {
        headers: {
          authorization: ownerAuthorization(emulator),
          'x-ms-max-item-count': '1000',
          ...(token ? { 'x-ms-continuation': token } : {}),
        },
        body: '{"query":"*"}',
      });
    const first = await page();
    const second = await page(first.headers['x-ms-continuation'] as string);
    const ids = [
      ...(first.json as Array<{ registrationId: string }>),
      ...(second.json as Array<{ registrationId: string }>),
    ].map((s) => s.registrationId);
    expect(ids).toHaveLength(2_000);
    expect(ids[0]).toBe('big-group-device-000000');
    expect(ids[1_999]).toBe('big-group-device-001999');
    expect(second.headers['x-ms-continuation']).toEqual(expect.any(String));
  });
});
