// With no topic, allocate builds no event at all (ids are sha-256 hashes: not work for the webhook to do for
// nothing), and with one it hands each decision to the publisher.
import { createAllocateHandler } from '../../src/decisions/allocate-handler';
import type { EventPublisher } from '../../src/events/publisher';

const body = JSON.stringify({
  enrollmentGroup: { enrollmentGroupId: 'events-off-group', attestation: { type: 'symmetricKey' } },
  deviceRuntimeContext: { registrationId: 'events-off-contoso-tstrsd-001', symmetricKey: {} },
  linkedHubs: ['contoso-toasters-hub-1098.azure-devices.net', 'contoso-general-hub-1.azure-devices.net'],
});
const quiet = { info: () => undefined, warn: () => undefined };
const log = { log: () => undefined, warn: () => undefined };

function publisher(enabled: boolean): EventPublisher & { publish: jest.Mock } {
  return {
    source: '/dps-allocator/test',
    enabled,
    publish: jest.fn(),
    flush: () => Promise.resolve(),
    close: () => Promise.resolve(),
    stats: () => ({ queued: 0, sent: 0, dropped: 0, failing: false }),
  };
}

it.each([
  [false, 0],
  [true, 1],
])('with a publisher enabled=%s, allocate publishes %i event batch(es)', async (enabled, batches) => {
  const events = publisher(enabled);
  const handler = createAllocateHandler({ env: { DECISION_LOG_ENABLED: 'false' }, events, notices: quiet });
  try {
    expect((await handler.answer(body, log)).status).toBe(200);
    expect(events.publish).toHaveBeenCalledTimes(batches);
    if (batches > 0) {
      expect(events.publish.mock.calls[0][0]).toEqual([
        expect.objectContaining({
          type: 'dps-allocator.device.assigned',
          subject: 'events-off-contoso-tstrsd-001',
        }),
      ]);
    }
  } finally {
    await handler.close();
  }
});
