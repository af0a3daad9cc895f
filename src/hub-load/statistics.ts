// What an IoT hub's identity registry says of its devices: GET /statistics/devices, api-version 2021-04-12
// (learn.microsoft.com/rest/api/iothub/service/statistics/get-device-statistics).
import { z } from 'zod';

export const HUB_API_VERSION = '2021-04-12';
export const DEVICE_STATISTICS_PATH = `/statistics/devices?api-version=${HUB_API_VERSION}`;

const count = z.number().int().min(0);

/** RegistryStatistics; unknown fields are dropped. */
export const deviceStatisticsSchema = z.object({
  totalDeviceCount: count,
  enabledDeviceCount: count,
  disabledDeviceCount: count,
});
export type DeviceStatistics = z.infer<typeof deviceStatisticsSchema>;
