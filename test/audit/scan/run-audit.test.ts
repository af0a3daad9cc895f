// From app settings to a scan: the audit settings and their defaults, the DPS and storage connections chosen
// from them, and clear errors naming the setting when the audit cannot run.
import type { AccessToken, TokenCredential } from '@azure/identity';
import { storageConnectionFrom } from '../../../src/storage/connection';
import { ConfigurationError, readSettings } from '../../../src/settings';
import { createTableClient } from '../../../src/storage/table-client';
import { DEFAULT_CERTIFICATE_EXPIRY_WARNING_DAYS } from '../../../src/audit/scan/certificate-validity';
import { createAuditDpsClient, expectedWebhookUrl, scanOptionsFrom } from '../../../src/audit/scan/run-audit';
import { auditStoreFor } from '../../../src/audit/store';

const SAS =
  'HostName=my-dps.azure-devices-provisioning.net;SharedAccessKeyName=enrollmentread;SharedAccessKey=a2V5';

describe('audit settings', () => {
  it('all have defaults or are optional, so the allocate function starts without them', () => {
    const settings = readSettings({});
    expect(settings).toMatchObject({
      AUDIT_SCHEDULE: '0 */5 * * * *',
      AUDIT_TABLE_PREFIX: 'Audit',
      AUDIT_TIME_BUDGET_SECONDS: 240,
      AUDIT_MAX_OPERATIONS_PER_RUN: 2000,
      AUDIT_DPS_OPERATIONS_PER_MINUTE: 500,
      AUDIT_ASSIGNING_GRACE_MINUTES: 10,
      AUDIT_LAST_SEEN_REFRESH_HOURS: 24,
      AUDIT_PAGE_SIZE: 100,
      // The scan's own default (for callers without settings) is the same.
      AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS: DEFAULT_CERTIFICATE_EXPIRY_WARNING_DAYS,
    });
    expect(DEFAULT_CERTIFICATE_EXPIRY_WARNING_DAYS).toBe(30);
    expect(settings.DPS_CONNECTION_STRING).toBeUndefined();
  });

  it('name the setting that is wrong', () => {
    expect(() => readSettings({ AUDIT_TABLE_PREFIX: 'audit-tables' })).toThrow(/AUDIT_TABLE_PREFIX/);
    expect(() => readSettings({ AUDIT_DPS_OPERATIONS_PER_MINUTE: '1500' })).toThrow(
      /AUDIT_DPS_OPERATIONS_PER_MINUTE/,
    );
    expect(() => readSettings({ AUDIT_SCHEDULE: '*/5 * * * *' })).toThrow(/AUDIT_SCHEDULE/);
    expect(() => readSettings({ AUDIT_MAX_OPERATIONS_PER_RUN: '3' })).toThrow(/AUDIT_MAX_OPERATIONS_PER_RUN/);
    expect(() => readSettings({ AUDIT_EXPECTED_WEBHOOK_URL: 'not a url' })).toThrow(
      /AUDIT_EXPECTED_WEBHOOK_URL/,
    );
    for (const days of ['-1', '1.5', 'soon', '4000']) {
      expect(() => readSettings({ AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS: days })).toThrow(
        /AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS/,
      );
    }
  });

  it('become the scan options', () => {
    const settings = readSettings({
      AUDIT_TIME_BUDGET_SECONDS: '120',
      AUDIT_PAGE_SIZE: '500',
      AUDIT_CERTIFICATE_EXPIRY_WARNING_DAYS: '0',
    });
    expect(scanOptionsFrom(settings, { WEBSITE_HOSTNAME: 'my-app.azurewebsites.net' })).toMatchObject({
      timeBudgetMs: 120_000,
      maxOperationsPerRun: 2000,
      pageSize: 500,
      assigningGraceMinutes: 10,
      lastSeenRefreshHours: 24,
      expectedWebhookUrl: 'https://my-app.azurewebsites.net/api/allocate',
      certificateExpiryWarningDays: 0,
    });
  });
});

describe('the allocate URL enrollments should call', () => {
  it('is the setting, else derived from WEBSITE_HOSTNAME, else unknown', () => {
    const explicit = readSettings({ AUDIT_EXPECTED_WEBHOOK_URL: 'https://front.example.net/api/allocate' });
    expect(expectedWebhookUrl(explicit, { WEBSITE_HOSTNAME: 'x.azurewebsites.net' })).toBe(
      'https://front.example.net/api/allocate',
    );
    expect(expectedWebhookUrl(readSettings({}), { WEBSITE_HOSTNAME: 'x.azurewebsites.net' })).toBe(
      'https://x.azurewebsites.net/api/allocate',
    );
    expect(expectedWebhookUrl(readSettings({}), {})).toBeUndefined();
  });
});

describe('the DPS client', () => {
  it('uses the connection string, else the host name with Entra ID', async () => {
    const sas = createAuditDpsClient(
      readSettings({ DPS_CONNECTION_STRING: SAS, DPS_HOST_NAME: 'other.net' }),
    );
    expect(sas.hostName).toBe('my-dps.azure-devices-provisioning.net');
    const entra = createAuditDpsClient(
      readSettings({ DPS_HOST_NAME: 'entra-dps.azure-devices-provisioning.net' }),
    );
    expect(entra.hostName).toBe('entra-dps.azure-devices-provisioning.net');
    await Promise.all([sas.close(), entra.close()]);
  });

  it('names the missing or unreadable setting', () => {
    expect(() => createAuditDpsClient(readSettings({}))).toThrow(
      new ConfigurationError(
        'The audit needs DPS access: set DPS_CONNECTION_STRING (SAS) or DPS_HOST_NAME (managed identity).',
      ),
    );
    expect(() =>
      createAuditDpsClient(
        readSettings({ DPS_CONNECTION_STRING: SAS, DPS_CA_CERTIFICATE_PATH: '/nowhere/ca.pem' }),
      ),
    ).toThrow(/DPS_CA_CERTIFICATE_PATH: cannot read \/nowhere\/ca.pem/);
  });
});

describe('the storage connection', () => {
  const azurite =
    'DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:1/devstoreaccount1;';

  it('prefers AUDIT_STORAGE_CONNECTION_STRING, then AzureWebJobsStorage, then the managed identity', () => {
    expect(storageConnectionFrom(azurite, { AzureWebJobsStorage: 'UseDevelopmentStorage=true' })).toEqual({
      kind: 'connectionString',
      connectionString: azurite,
    });
    expect(storageConnectionFrom(undefined, { AzureWebJobsStorage: 'UseDevelopmentStorage=true' })).toEqual({
      kind: 'connectionString',
      connectionString: 'UseDevelopmentStorage=true',
    });
    expect(
      storageConnectionFrom(undefined, {
        AzureWebJobsStorage__tableServiceUri: 'https://acct.table.core.windows.net',
        AzureWebJobsStorage__clientId: '00000000-0000-0000-0000-000000000001',
      }),
    ).toEqual({
      kind: 'identity',
      tableServiceUri: 'https://acct.table.core.windows.net',
      clientId: '00000000-0000-0000-0000-000000000001',
    });
    expect(storageConnectionFrom(undefined, { AzureWebJobsStorage__accountName: 'acct' })).toEqual({
      kind: 'identity',
      tableServiceUri: 'https://acct.table.core.windows.net',
      clientId: undefined,
    });
  });

  it('names the settings when there is none', () => {
    expect(() => storageConnectionFrom(undefined, {})).toThrow(
      /AUDIT_STORAGE_CONNECTION_STRING.*AzureWebJobsStorage/,
    );
    expect(() => auditStoreFor(readSettings({}), {})).toThrow(ConfigurationError);
  });

  it('names the setting whose value is not a connection string, and never shows the value', () => {
    const secret = 'AccountKey=c2VjcmV0LWtleQ==';
    const malformed = [
      'garbage',
      'AccountName=x',
      `DefaultEndpointsProtocol=https;${secret}`,
      `${secret};x=y`,
      // Each passes a check of keys alone and is refused by the SDK (one with a TypeError).
      `AccountName=acct;${secret};EndpointSuffix=core.windows.net`,
      `DefaultEndpointsProtocol=https;AccountName=acct;${secret}`,
      'DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=;EndpointSuffix=core.windows.net',
      'TableEndpoint=acct.table.core.windows.net;SharedAccessSignature=sv=1&sig=x',
    ];
    for (const value of malformed) {
      const attempt = () => storageConnectionFrom(value, {});
      expect(attempt).toThrow(ConfigurationError);
      expect(attempt).toThrow(
        /^AUDIT_STORAGE_CONNECTION_STRING is not a storage connection string the table SDK can use: it needs/,
      );
      expect(attempt).not.toThrow(/c2VjcmV0/);
    }
    expect(() => storageConnectionFrom(undefined, { AzureWebJobsStorage: 'AccountName=x;Foo=bar' })).toThrow(
      /^AzureWebJobsStorage is not a storage connection string/,
    );
    expect(() => auditStoreFor(readSettings({ AUDIT_STORAGE_CONNECTION_STRING: 'garbage' }), {})).toThrow(
      ConfigurationError,
    );
    // SAS connection strings are connection strings too, and surrounding white space is dropped.
    const sas = 'TableEndpoint=https://acct.table.core.windows.net/;SharedAccessSignature=sv=2022&sig=x';
    expect(storageConnectionFrom(sas, {})).toEqual({ kind: 'connectionString', connectionString: sas });
    const azure = `DefaultEndpointsProtocol=https;AccountName=acct;${secret};EndpointSuffix=core.windows.net;`;
    expect(storageConnectionFrom(` ${azure} `, {})).toEqual({
      kind: 'connectionString',
      connectionString: azure,
    });
  });

  it('builds table clients for connection strings and, with a credential, for identity endpoints', () => {
    const http = createTableClient(
      { kind: 'connectionString', connectionString: azurite },
      'AuditProblems',
      {},
    );
    expect(http.url).toBe('http://127.0.0.1:1/devstoreaccount1');
    const credential: TokenCredential = {
      getToken: async (): Promise<AccessToken> => ({ token: 't', expiresOnTimestamp: Date.now() + 60_000 }),
    };
    const identity = createTableClient(
      { kind: 'identity', tableServiceUri: 'https://acct.table.core.windows.net', credential },
      'AuditProblems',
      {},
    );
    expect(identity.url).toBe('https://acct.table.core.windows.net');
    expect(identity.tableName).toBe('AuditProblems');
  });

  it('gives one store per connection and prefix', () => {
    const settings = readSettings({ AUDIT_STORAGE_CONNECTION_STRING: azurite });
    expect(auditStoreFor(settings, {})).toBe(auditStoreFor(settings, {}));
    expect(
      auditStoreFor(
        readSettings({ AUDIT_STORAGE_CONNECTION_STRING: azurite, AUDIT_TABLE_PREFIX: 'Other' }),
        {},
      ).names.problems,
    ).toBe('OtherProblems');
  });
});
