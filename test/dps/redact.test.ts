import { redactSecrets, redactWebhookUrl, stripEnrollmentSecrets } from '../../src/dps/redact';
import type { EnrollmentGroup, IndividualEnrollment } from '../../src/dps/schemas';

describe('redactSecrets', () => {
  it.each([
    ['HostName=h.net;SharedAccessKeyName=owner;SharedAccessKey=c2VjcmV0LWtleQ==', 'c2VjcmV0LWtleQ=='],
    ['Authorization: SharedAccessSignature sr=h.net&sig=abc%2Bdef%3D&skn=owner&se=1', 'abc%2Bdef%3D'],
    ['SharedAccessSignature sig=first&se=1&skn=owner&sr=h', 'first'],
    ['token fragment se=1&sig=loose-sig-value', 'loose-sig-value'],
    ['https://fn.net/api/allocate?code=FUNCKEY-1', 'FUNCKEY-1'],
    ['https://fn.net/api/allocate?x=1&code=FUNCKEY-2#frag', 'FUNCKEY-2'],
    ['{"webhookUrl":"https://fn.net/api/a?x=1\\u0026code=FUNCKEY-3"}', 'FUNCKEY-3'],
    ['https%3A%2F%2Ffn.net%2Fa%3Fx%3D1%26code=FUNCKEY-4', 'FUNCKEY-4'],
    ['Authorization: Bearer eyJ0eXAi.eyJhdWQi.c2lnbmF0dXJl', 'eyJ0eXAi.eyJhdWQi.c2lnbmF0dXJl'],
    ['{"symmetricKey":{"primaryKey":"cHJpbWFyeQ==","secondaryKey":"c2Vjb25kYXJ5"}}', 'cHJpbWFyeQ=='],
    ['{"symmetricKey":{"primaryKey":"cHJpbWFyeQ==","secondaryKey":"c2Vjb25kYXJ5"}}', 'c2Vjb25kYXJ5'],
    ['x-functions-key: FUNCKEY-5', 'FUNCKEY-5'],
  ])('masks the secret in %j', (text, secret) => {
    const redacted = redactSecrets(text);
    expect(redacted).not.toContain(secret);
    expect(redacted).toContain('***');
  });

  it('keeps what is not secret', () => {
    const text = 'HostName=h.net;SharedAccessKeyName=owner;SharedAccessKey=k';
    expect(redactSecrets(text)).toBe('HostName=h.net;SharedAccessKeyName=owner;SharedAccessKey=***');
    expect(redactSecrets('GET /enrollmentGroups/grp-1 -> 404 (errorCode 404201)')).toBe(
      'GET /enrollmentGroups/grp-1 -> 404 (errorCode 404201)',
    );
    expect(redactSecrets('https://fn.net/api/allocate?barcode=1')).toBe(
      'https://fn.net/api/allocate?barcode=1',
    );
  });
});

describe('redactWebhookUrl', () => {
  it('keeps scheme, host and path only', () => {
    expect(redactWebhookUrl('https://user:pw@fn.net:8443/api/allocate?code=K&x=1#f')).toBe(
      'https://fn.net:8443/api/allocate',
    );
  });

  it('cuts the query of a string that is not a URL', () => {
    expect(redactWebhookUrl('not a url?code=K')).toBe('not a url');
  });
});

describe('stripEnrollmentSecrets', () => {
  const group: EnrollmentGroup = {
    enrollmentGroupId: 'grp-1',
    attestation: { type: 'symmetricKey', symmetricKey: { primaryKey: 'cHJpbWFyeQ==', secondaryKey: 'c2Vj' } },
    allocationPolicy: 'custom',
    customAllocationDefinition: {
      webhookUrl: 'https://fn.net/api/allocate?code=FUNCKEY',
      apiVersion: '2021-10-01',
    },
    initialTwin: { tags: { site: 'a' } },
  };

  it('removes symmetric keys and the webhook query, keeps the rest, and leaves the input alone', () => {
    const stripped = stripEnrollmentSecrets(group);

    expect(JSON.stringify(stripped)).not.toMatch(/cHJpbWFyeQ==|c2Vj|FUNCKEY|code=/);
    expect(stripped).toEqual({
      ...group,
      attestation: { type: 'symmetricKey', symmetricKey: {} },
      customAllocationDefinition: { webhookUrl: 'https://fn.net/api/allocate', apiVersion: '2021-10-01' },
    });
    expect(group.attestation.symmetricKey?.primaryKey).toBe('cHJpbWFyeQ==');
    expect(group.customAllocationDefinition?.webhookUrl).toContain('code=FUNCKEY');
  });

  it('handles enrollments without keys or webhook', () => {
    const enrollment: IndividualEnrollment = { registrationId: 'dev-1', attestation: { type: 'tpm' } };
    expect(stripEnrollmentSecrets(enrollment)).toEqual(enrollment);
  });
});

it('masks a function key inside parentheses without eating the closing one', () => {
  expect(redactSecrets('allocation failed (https://fn.example/api/allocate?code=abc-DEF_1==)')).toBe(
    'allocation failed (https://fn.example/api/allocate?code=***)',
  );
});
