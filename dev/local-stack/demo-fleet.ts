// The demo's enrollment groups and simulated devices, after Microsoft's custom allocation tutorial (toasters with
// `-contoso-tstrsd-`, heat pumps with `-contoso-hpsd-`), plus two ways for devices to fail so the audit has
// something to show: heat pumps in a group whose hubs include no heat pump hub (the policy rejects them: 400207),
// and a group whose webhook URL carries a wrong function key (the function answers 401: 400209).
import { GENERAL_HUBS, TOASTERS_HUB } from './emulator-part';

export interface DemoGroup {
  id: string;
  /** Shown in the banner. */
  purpose: string;
  /** The group's `iotHubs`; absent: every hub linked to the DPS. */
  iotHubs?: readonly string[];
  /** The webhook URL carries a wrong key. */
  wrongKey?: boolean;
  registrationIds: readonly string[];
}

/** Not the function key: DPS presents it, the function answers 401, DPS fails the device with 400209. */
export const WRONG_FUNCTION_KEY = 'not-the-function-key';

const range = (count: number) => Array.from({ length: count }, (_, index) => index + 1);
const pad = (n: number, width: number) => String(n).padStart(width, '0');

export const DEMO_GROUPS: readonly DemoGroup[] = [
  {
    id: 'contoso-custom-allocated-devices',
    purpose: 'every linked hub; toasters and heat pumps go to their hubs, the rest is hashed',
    registrationIds: [
      ...range(6).map((n) => `breakroom${100 + n}-contoso-tstrsd-${pad(n, 3)}`),
      ...range(6).map((n) => `mainbuilding${200 + n}-contoso-hpsd-${pad(n, 3)}`),
      ...range(4).map((n) => `sensor-${pad(n, 4)}`),
    ],
  },
  {
    id: 'demo-no-heatpumps-hub',
    purpose: 'no heat pump hub among its iotHubs: its heat pumps are rejected (400207)',
    iotHubs: [TOASTERS_HUB, GENERAL_HUBS[0]],
    registrationIds: [
      ...range(2).map((n) => `annex${300 + n}-contoso-tstrsd-${pad(n, 3)}`),
      ...range(3).map((n) => `annex${300 + n}-contoso-hpsd-${pad(n, 3)}`),
    ],
  },
  {
    id: 'demo-wrong-key',
    purpose: 'webhook URL with a wrong function key: every device fails (400209)',
    wrongKey: true,
    registrationIds: [
      'warehouse401-contoso-tstrsd-001',
      'warehouse402-contoso-hpsd-001',
      'warehouse-sensor-0001',
    ],
  },
];
