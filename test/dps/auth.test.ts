import type { AccessToken, TokenCredential } from '@azure/identity';
import { DPS_ENTRA_SCOPE, EntraAuthorizer, SasAuthorizer } from '../../src/dps/auth';
import { parseSasToken, verifySasToken } from '../../src/dps/sas';
import { FakeClock } from './support/fake-clock';

// Stands in for @azure/identity and records whether anything required it.
let mockIdentityRequired = false;
jest.mock('@azure/identity', () => {
  mockIdentityRequired = true;
  return {
    DefaultAzureCredential: class {
      async getToken(): Promise<AccessToken> {
        return { token: 'default-credential-token', expiresOnTimestamp: Date.now() + 3600_000 };
      }
    },
  };
});

const key = Buffer.from('policy-key-for-tests-0123456789!').toString('base64');

describe('SasAuthorizer', () => {
  it('signs for the host and port as given, lower-cased, and renews five minutes before expiry', async () => {
    const clock = new FakeClock();
    const auth = new SasAuthorizer(
      { hostName: 'LocalHost:8443', sharedAccessKeyName: 'enrollmentread', sharedAccessKey: key },
      clock,
    );

    const first = parseSasToken(await auth.authorization())!;
    expect(first.rawResource).toBe('localhost%3A8443');
    expect(first.keyName).toBe('enrollmentread');
    expect(verifySasToken(first, 'localhost:8443', [key], clock.now() / 1000)).toEqual({ ok: true });

    clock.advance(54 * 60_000);
    expect(parseSasToken(await auth.authorization())!.expiry).toBe(first.expiry);
    clock.advance(60_000);
    expect(parseSasToken(await auth.authorization())!.expiry).toBe(first.expiry + 55 * 60);
  });
});

describe('EntraAuthorizer', () => {
  it('asks an injected credential for the DPS scope and refreshes at refreshAfterTimestamp', async () => {
    const clock = new FakeClock();
    const scopes: unknown[] = [];
    let issued = 0;
    const credential: TokenCredential = {
      getToken: async (scope) => {
        scopes.push(scope);
        issued++;
        return {
          token: `t${issued}`,
          expiresOnTimestamp: clock.now() + 3600_000,
          refreshAfterTimestamp: clock.now() + 600_000,
        };
      },
    };
    const auth = new EntraAuthorizer(credential, clock);

    expect(await auth.authorization()).toBe('Bearer t1');
    clock.advance(599_000);
    expect(await auth.authorization()).toBe('Bearer t1');
    clock.advance(1_000);
    expect(await auth.authorization()).toBe('Bearer t2');
    expect(scopes).toEqual([DPS_ENTRA_SCOPE, DPS_ENTRA_SCOPE]);
  });

  it('fails clearly when the credential returns no token', async () => {
    const auth = new EntraAuthorizer({ getToken: async () => null }, new FakeClock());
    await expect(auth.authorization()).rejects.toThrow(/no token/);
  });

  it('requires @azure/identity only when no credential is given, on first use', async () => {
    const withCredential = new EntraAuthorizer(
      { getToken: async () => ({ token: 'x', expiresOnTimestamp: Date.now() + 3600_000 }) },
      new FakeClock(),
    );
    await withCredential.authorization();
    const withDefault = new EntraAuthorizer(undefined, new FakeClock());
    expect(mockIdentityRequired).toBe(false);

    expect(await withDefault.authorization()).toBe('Bearer default-credential-token');
    expect(mockIdentityRequired).toBe(true);
  });
});
