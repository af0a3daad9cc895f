// The function key lookup through Azure Resource Manager, against a fake ARM on 127.0.0.1.
import { ConfigureError } from '../../../src/cli/configure/errors';
import { UsageError } from '../../../src/cli/shared/usage-error';
import {
  ARM_WEB_API_VERSION,
  lookUpFunctionKey,
  type FunctionRef,
} from '../../../src/cli/configure/function-key';
import {
  FUNCTION_APP,
  FUNCTION_KEYS_PATH,
  HOST_KEYS_PATH,
  RESOURCE_GROUP,
  SUBSCRIPTION,
  fakeCredential,
  startFakeArm,
  type FakeArm,
} from './support/fake-arm';

const REF: FunctionRef = {
  subscriptionId: SUBSCRIPTION,
  resourceGroup: RESOURCE_GROUP,
  functionApp: FUNCTION_APP,
  functionName: 'allocate',
};
const FUNCTION_KEY = 'function-key-from-arm-0001==';
const HOST_KEY = 'host-function-key-0002==';
const MASTER_KEY = 'master-key-never-used-0003==';

let arm: FakeArm;
let sleeps: number[];
let notes: string[];

beforeEach(async () => {
  arm = await startFakeArm();
  sleeps = [];
  notes = [];
});

afterEach(async () => {
  await arm.close();
});

function lookUp(options: { credential?: ReturnType<typeof fakeCredential>; retryDelaysMs?: number[] } = {}) {
  return lookUpFunctionKey(REF, {
    credential: options.credential ?? fakeCredential(),
    baseUrl: arm.url,
    retryDelaysMs: options.retryDelaysMs ?? [10, 20, 30],
    sleep: async (ms) => {
      sleeps.push(ms);
    },
    onNote: (note) => notes.push(note),
  });
}

describe('lookUpFunctionKey', () => {
  it("reads the function's default key from the flat answer ARM really sends", async () => {
    arm.reply = () => ({ status: 200, body: { default: FUNCTION_KEY, other: 'x-other-key' } });
    const credential = fakeCredential();

    await expect(lookUp({ credential })).resolves.toEqual({
      key: FUNCTION_KEY,
      source: 'function',
      name: 'default',
    });
    expect(arm.requests).toEqual([
      {
        method: 'POST',
        path: FUNCTION_KEYS_PATH,
        apiVersion: ARM_WEB_API_VERSION,
        authorization: `Bearer token-for:${arm.url}/.default`,
        contentLength: '0',
      },
    ]);
    expect(credential.scopes).toEqual([`${arm.url}/.default`]);
  });

  it('reads the StringDictionary shape of the spec too, and another key name when there is no default', async () => {
    arm.reply = () => ({
      status: 200,
      body: { id: '/x', name: 'allocate', properties: { zeta: 'z-key-000', alpha: FUNCTION_KEY } },
    });
    await expect(lookUp()).resolves.toEqual({ key: FUNCTION_KEY, source: 'function', name: 'alpha' });
  });

  it('retries 401 and 403 (a role assigned moments ago), then succeeds', async () => {
    arm.reply = (_request, index) =>
      index === 0
        ? { status: 401, body: { error: { code: 'InvalidAuthenticationToken', message: 'not yet' } } }
        : index === 1
          ? { status: 403, body: { error: { code: 'AuthorizationFailed', message: 'no role yet' } } }
          : { status: 200, body: { default: FUNCTION_KEY } };

    await expect(lookUp()).resolves.toMatchObject({ key: FUNCTION_KEY, source: 'function' });
    expect(arm.requests).toHaveLength(3);
    expect(sleeps).toEqual([10, 20]);
    expect(notes.join('\n')).toContain('AuthorizationFailed');
  });

  it('falls back to a host function key (never the master key) when the function is not deployed', async () => {
    arm.reply = (request) =>
      request.path === HOST_KEYS_PATH
        ? {
            status: 200,
            body: {
              masterKey: MASTER_KEY,
              functionKeys: { default: HOST_KEY },
              systemKeys: { x: 'sys-key-1' },
            },
          }
        : { status: 404, body: { error: { code: 'NotFound', message: 'Error retrieving function.' } } };

    await expect(lookUp()).resolves.toEqual({ key: HOST_KEY, source: 'host', name: 'default' });
    expect(arm.requests.map((request) => request.path)).toEqual([FUNCTION_KEYS_PATH, HOST_KEYS_PATH]);
    expect(sleeps).toEqual([]); // 404 is not retried
  });

  it('gives up after the retries with the ARM error and a hint, without a key in the message', async () => {
    arm.reply = () => ({
      status: 403,
      body: {
        error: {
          code: 'AuthorizationFailed',
          message: "does not have authorization to perform action 'listkeys'",
        },
      },
    });
    const error = await lookUp().catch((e: unknown) => e);

    expect(error).toBeInstanceOf(ConfigureError);
    expect((error as Error).message).toMatch(/HTTP 403 AuthorizationFailed: does not have authorization/);
    expect((error as Error).message).toContain('--function-key');
    expect(arm.requests).toHaveLength(4); // first try + 3 retries
    expect(sleeps).toEqual([10, 20, 30]);
  });

  it('fails clearly when the app has no host function key either', async () => {
    arm.reply = (request) =>
      request.path === HOST_KEYS_PATH
        ? { status: 200, body: { masterKey: MASTER_KEY, functionKeys: {} } }
        : { status: 404 };
    await expect(lookUp()).rejects.toThrow(/no host function key/);
  });

  it('says how to sign in when no Entra token can be had, and sends nothing', async () => {
    const credential = fakeCredential({ fail: 'DefaultAzureCredential failed to retrieve a token' });
    const error = await lookUp({ credential }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigureError);
    expect((error as Error).message).toMatch(/az login.*DefaultAzureCredential failed to retrieve a token$/);
    expect(arm.requests).toHaveLength(0);
  });

  it('refuses malformed names before any call', async () => {
    await expect(
      lookUpFunctionKey(
        { ...REF, subscriptionId: 'not-a-guid' },
        { credential: fakeCredential(), baseUrl: arm.url },
      ),
    ).rejects.toBeInstanceOf(UsageError);
    await expect(
      lookUpFunctionKey(
        { ...REF, functionApp: 'bad/name' },
        { credential: fakeCredential(), baseUrl: arm.url },
      ),
    ).rejects.toBeInstanceOf(UsageError);
    expect(arm.requests).toHaveLength(0);
  });

  it('retries when ARM cannot be reached, then reports it', async () => {
    const url = arm.url;
    await arm.close();
    const error = await lookUpFunctionKey(REF, {
      credential: fakeCredential(),
      baseUrl: url,
      retryDelaysMs: [1],
      sleep: async (ms) => {
        sleeps.push(ms);
      },
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigureError);
    expect((error as Error).message).toMatch(/no answer \(ECONNREFUSED\)/);
    expect(sleeps).toEqual([1]);
    arm = await startFakeArm(); // afterEach closes it
  });
});
