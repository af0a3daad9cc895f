// The demo's X.509 fleet, after Microsoft's first custom allocation example ("examine the certificate a device is
// using during provisioning, and assign the device to an IoT hub based on a certificate property",
// learn.microsoft.com/azure/iot-dps/concepts-custom-allocation): meters whose certificate organisation picks the
// regional hub, over MQTT (one over MQTT over WebSocket), one certificate due for rotation, and two devices DPS
// refuses: an expired certificate (an individual enrollment, so the audit sees it) and a certificate from a CA
// the DPS instance does not know.
export const X509_DEMO_GROUP_ID = 'contoso-x509-meters';
export const EU_HUB = 'contoso-eu-hub-1.azure-devices.net';
export const US_HUB = 'contoso-us-hub-1.azure-devices.net';

export type DemoTransport = 'mqtt' | 'mqttWs';

export interface X509DemoDevice {
  registrationId: string;
  /** Most specific first; the CN is the registration id. */
  subject: string;
  transport: DemoTransport;
  /** Who issued the device certificate. */
  issuer: 'demo-intermediate' | 'unknown-ca';
  /** Validity relative to the start, in days (default: valid for a year). */
  validity?: { fromDays: number; toDays: number };
  /** Enrolled individually with its own certificate (else a device of the X.509 group). */
  individual?: boolean;
  /** What should happen, for the banner and the tests. */
  expected: 'assigned' | 'refused';
}

export const X509_DEMO_DEVICES: readonly X509DemoDevice[] = [
  ...[1, 2, 3].map((n): X509DemoDevice => ({
    registrationId: `contoso-eu-meter-00${n}`,
    subject: `CN=contoso-eu-meter-00${n}, OU=Meters, O=Contoso-EU`,
    transport: 'mqtt',
    issuer: 'demo-intermediate',
    expected: 'assigned',
  })),
  {
    registrationId: 'contoso-eu-meter-004',
    subject: 'CN=contoso-eu-meter-004, OU=Meters, O=Contoso-EU',
    transport: 'mqtt',
    issuer: 'demo-intermediate',
    // Expires within 30 days: the policy tags it for certificate rotation.
    validity: { fromDays: -340, toDays: 20 },
    expected: 'assigned',
  },
  ...[1, 2].map((n): X509DemoDevice => ({
    registrationId: `contoso-us-meter-00${n}`,
    subject: `CN=contoso-us-meter-00${n}, OU=Meters, O=Contoso-US`,
    transport: 'mqtt',
    issuer: 'demo-intermediate',
    expected: 'assigned',
  })),
  {
    registrationId: 'contoso-us-meter-003',
    subject: 'CN=contoso-us-meter-003, OU=Meters, O=Contoso-US',
    transport: 'mqttWs',
    issuer: 'demo-intermediate',
    expected: 'assigned',
  },
  {
    registrationId: 'contoso-eu-meter-expired',
    subject: 'CN=contoso-eu-meter-expired, OU=Meters, O=Contoso-EU',
    transport: 'mqtt',
    issuer: 'demo-intermediate',
    validity: { fromDays: -400, toDays: -5 },
    individual: true,
    expected: 'refused',
  },
  {
    registrationId: 'rogue-meter-001',
    subject: 'CN=rogue-meter-001, OU=Meters, O=Contoso-EU',
    transport: 'mqtt',
    issuer: 'unknown-ca',
    expected: 'refused',
  },
];
