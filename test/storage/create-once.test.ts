// Creating a table once: later calls share the first, a failure is forgotten, reset() forgets a success.
import { createOnce } from '../../src/storage/create-once';

describe('createOnce', () => {
  it('creates once while it succeeds, and again after a failure or a reset', async () => {
    let calls = 0;
    let fail = true;
    const ensure = createOnce(async () => {
      calls++;
      if (fail) throw new Error('storage away');
    });
    await expect(ensure()).rejects.toThrow('storage away');
    fail = false;
    await Promise.all([ensure(), ensure()]);
    await ensure();
    expect(calls).toBe(2);
    ensure.reset();
    await ensure();
    expect(calls).toBe(3);
  });
});
