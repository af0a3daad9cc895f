// The hub-load settings: host name lists read leniently (spaces, case, repeats) but strictly shaped, connection
// strings split on newlines or |, and errors that name the setting without quoting a key.
import { readSettings } from '../../src/settings';

const CONNECTION = (host: string, key = 'c2VjcmV0LWtleS1vZi10aGUtdGVzdA==') =>
  `HostName=${host};SharedAccessKeyName=registryRead;SharedAccessKey=${key}`;

it('reads HUB_LOAD_HUBS as lower-case host names, once each; empty means none', () => {
  expect(
    readSettings({
      HUB_LOAD_HUBS: ' Hub-A.azure-devices.net, hub-b.azure-devices.net,,hub-a.azure-devices.net ',
    }),
  ).toMatchObject({ HUB_LOAD_HUBS: ['hub-a.azure-devices.net', 'hub-b.azure-devices.net'] });
  expect(readSettings({ HUB_LOAD_HUBS: '' }).HUB_LOAD_HUBS).toBeUndefined();
  expect(readSettings({}).HUB_LOAD_HUBS).toBeUndefined();
});

it('refuses anything but host names, and more than the 50 hubs DPS links', () => {
  for (const value of [
    'https://hub.azure-devices.net',
    'hub.azure-devices.net:443',
    'hub',
    'hub.azure-devices.net/x',
  ]) {
    expect(() => readSettings({ HUB_LOAD_HUBS: value })).toThrow(
      /HUB_LOAD_HUBS\.\d+: each entry must be a hub host name/,
    );
  }
  const hubs = Array.from({ length: 51 }, (_, i) => `hub-${i}.azure-devices.net`).join(',');
  expect(() => readSettings({ HUB_LOAD_HUBS: hubs })).toThrow(/HUB_LOAD_HUBS: at most 50 hubs/);
});

it('splits HUB_LOAD_CONNECTION_STRINGS on newlines or |, and names a bad entry without quoting it', () => {
  const value = `${CONNECTION('a.azure-devices.net')}\r\n${CONNECTION('b.azure-devices.net')}|`;
  expect(readSettings({ HUB_LOAD_CONNECTION_STRINGS: value }).HUB_LOAD_CONNECTION_STRINGS).toEqual([
    CONNECTION('a.azure-devices.net'),
    CONNECTION('b.azure-devices.net'),
  ]);
  const secret = 'dG9wLXNlY3JldC1rZXktbm90LXRvLWJlLWxvZ2dlZA==';
  let message = '';
  try {
    readSettings({ HUB_LOAD_CONNECTION_STRINGS: `HostName=a.azure-devices.net;SharedAccessKey=${secret}` });
  } catch (error) {
    message = String(error);
  }
  expect(message).toMatch(/HUB_LOAD_CONNECTION_STRINGS: each entry must be a hub connection string/);
  expect(message).not.toContain(secret);
});

it('defaults the schedule to every minute, the refresh to 30 s and the maximum age to 300 s', () => {
  expect(readSettings({})).toMatchObject({
    HUB_LOAD_SCHEDULE: '0 */1 * * * *',
    HUB_LOAD_REFRESH_SECONDS: 30,
    HUB_LOAD_MAX_AGE_SECONDS: 300,
  });
  expect(() => readSettings({ HUB_LOAD_SCHEDULE: '*/1 * * * *' })).toThrow(
    /HUB_LOAD_SCHEDULE: must be a six-field/,
  );
  expect(() => readSettings({ HUB_LOAD_REFRESH_SECONDS: '0' })).toThrow(/HUB_LOAD_REFRESH_SECONDS/);
});
