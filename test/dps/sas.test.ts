import {
  buildDeviceSasToken,
  buildSasToken,
  buildServiceSasToken,
  deriveDeviceKey,
  parseSasToken,
  parseServiceConnectionString,
  verifySasToken,
} from '../../src/dps/sas';

describe('SAS tokens (docs/dps-contract.md §3 vectors)', () => {
  it('reproduces the Node SDK unit-test vector', () => {
    expect(
      buildSasToken({ resource: 'uri', keyBase64: 'cGFzc3dvcmQ=', expiry: 12345, keyName: "encode('Me')" }),
    ).toBe(
      'SharedAccessSignature sr=uri&sig=kcWxXAK2OAaAoq2oCkaGzX2NMqDB8nCyNuq2fPYCDhk%3D&skn=encode%28%27Me%27%29&se=12345',
    );
  });

  it('reproduces the service token regression vector', () => {
    const token = buildServiceSasToken(
      'mydps.azure-devices-provisioning.net',
      'provisioningserviceowner',
      'MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=',
      1700000000,
    );
    expect(token).toContain('sig=xXBqEKztXMACe9dg1gMBreO%2F8CMn3ovt%2B%2BxDvPb6Xl0%3D');
    expect(token).toContain('sr=mydps.azure-devices-provisioning.net');
  });

  it('derives the documented group device key', () => {
    expect(
      deriveDeviceKey(
        '8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==',
        'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6',
      ),
    ).toBe('Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=');
  });

  it('reproduces the device token vector over the encoded resource', () => {
    const token = buildDeviceSasToken(
      '0ne00000A0A',
      'sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6',
      'Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=',
      1700000000,
    );
    expect(token).toContain('sr=0ne00000A0A%2Fregistrations%2Fsn-007-888-abc-mac-a1-b2-c3-d4-e5-f6');
    expect(token).toContain('sig=t6%2F8JHWQuQgM9mXdYf%2FuIqa3dKECOEk9Rr4WrFV19q0%3D');
    expect(token).toContain('skn=registration');
  });
});

describe('verifySasToken', () => {
  const key = Buffer.from('device-key-of-32-bytes-exactly!!').toString('base64');
  const resource = '0ne001/registrations/dev-1';

  it('accepts the documented encoded form and the raw form the Node SDK sends', () => {
    const encoded = parseSasToken(buildDeviceSasToken('0ne001', 'dev-1', key, 2000))!;
    const raw = parseSasToken(
      buildSasToken({ resource, keyBase64: key, expiry: 2000, keyName: 'registration' }),
    )!;
    expect(verifySasToken(encoded, resource, [key], 1000)).toEqual({ ok: true });
    expect(verifySasToken(raw, resource, [key], 1000)).toEqual({ ok: true });
  });

  it('refuses a wrong key, an expired token and another resource', () => {
    const token = parseSasToken(buildDeviceSasToken('0ne001', 'dev-1', key, 2000))!;
    const other = Buffer.from('another-key-of-32-bytes-exactly!').toString('base64');
    expect(verifySasToken(token, resource, [other], 1000)).toEqual({
      ok: false,
      reason: 'signature does not match',
    });
    expect(verifySasToken(token, resource, [key], 2000)).toEqual({ ok: false, reason: 'token expired' });
    expect(verifySasToken(token, '0ne001/registrations/dev-2', [key], 1000).ok).toBe(false);
  });

  it('accepts either of several keys (primary or secondary)', () => {
    const token = parseSasToken(buildDeviceSasToken('0ne001', 'dev-1', key, 2000))!;
    expect(verifySasToken(token, resource, ['AAAA', key], 1000)).toEqual({ ok: true });
  });

  it.each([
    undefined,
    '',
    'Bearer x',
    'SharedAccessSignature sr=a&sig=b',
    'SharedAccessSignature sr=a&sig=%zz&se=1',
  ])('rejects a malformed header %p', (header) => {
    expect(parseSasToken(header)).toBeUndefined();
  });
});

describe('parseServiceConnectionString', () => {
  it('reads the three fields, keeping = padding in the key', () => {
    expect(
      parseServiceConnectionString(
        'HostName=x.azure-devices-provisioning.net;SharedAccessKeyName=owner;SharedAccessKey=YWJj==',
      ),
    ).toEqual({
      hostName: 'x.azure-devices-provisioning.net',
      sharedAccessKeyName: 'owner',
      sharedAccessKey: 'YWJj==',
    });
  });

  it('names the missing fields without echoing the key', () => {
    expect(() => parseServiceConnectionString('HostName=x;SharedAccessKey=c2VjcmV0')).toThrow(
      'DPS connection string is missing SharedAccessKeyName',
    );
  });
});
