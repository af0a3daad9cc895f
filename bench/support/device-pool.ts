// Devices that register again and again: a task takes the device that has waited longest and gives it back when
// its registration is over, so that no device has two registrations in flight and all register about as often.

export class DevicePool<Device> {
  private readonly idle: Device[];

  constructor(readonly devices: readonly Device[]) {
    if (devices.length === 0) throw new Error('a device pool needs devices');
    this.idle = [...devices];
  }

  /** Runs `use` with a device of the pool; more tasks in flight than devices is a caller's error. */
  async with<T>(use: (device: Device) => Promise<T>): Promise<T> {
    const device = this.idle.shift();
    if (device === undefined) throw new Error('more registrations in flight than devices in the pool');
    try {
      return await use(device);
    } finally {
      this.idle.push(device);
    }
  }
}
