import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { request } from 'undici';
import { applyLocalSettings, readLocalSettings, startFunctionsHost } from '../../dev/functions-host';
import { isAuthorized, keysEqual, presentedKeys } from '../../dev/functions-host/function-keys';
import { readRoutePrefix } from '../../dev/functions-host/host-json';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'functions-host-settings-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

function writeJson(name: string, value: unknown): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof value === 'string' ? value : JSON.stringify(value));
  return file;
}

describe('local.settings.json', () => {
  it('copies Values into the environment without overriding variables already set', () => {
    const file = writeJson('local.settings.json', {
      IsEncrypted: false,
      Values: { FROM_FILE: 'file', ALREADY_SET: 'file', EMPTY: '' },
      Host: { LocalHttpPort: 7099 },
      ConnectionStrings: {},
    });
    const env: NodeJS.ProcessEnv = { ALREADY_SET: 'env' };
    const result = applyLocalSettings(file, env);
    expect(env).toEqual({ FROM_FILE: 'file', ALREADY_SET: 'env', EMPTY: '' });
    expect(result).toMatchObject({
      file,
      applied: ['FROM_FILE', 'EMPTY'],
      skipped: ['ALREADY_SET'],
      localHttpPort: 7099,
    });
  });

  it('is optional', () => {
    const env: NodeJS.ProcessEnv = {};
    expect(applyLocalSettings(path.join(dir, 'local.settings.json'), env)).toMatchObject({
      file: undefined,
      applied: [],
    });
    expect(env).toEqual({});
  });

  it('explains malformed files', () => {
    const broken = writeJson('broken.json', '{ "Values": { "A": "1", } }');
    expect(() => readLocalSettings(broken)).toThrow(`${broken} is not valid JSON`);
    const wrongType = writeJson('wrong.json', { Values: { PORT: 8080 } });
    expect(() => readLocalSettings(wrongType)).toThrow(
      /wrong\.json is malformed:\n.*must be a string[\s\S]*Values\.PORT/,
    );
    const encrypted = writeJson('enc.json', { IsEncrypted: true, Values: {} });
    expect(() => readLocalSettings(encrypted)).toThrow(/is encrypted/);
  });

  it('gives the host its function key, port and route prefix through appRoot', async () => {
    writeJson('local.settings.json', {
      Values: { LOCAL_FUNCTION_KEY: 'from-settings' },
      Host: { LocalHttpPort: 0 },
    });
    writeJson('host.json', { version: '2.0', extensions: { http: { routePrefix: 'v1' } } });
    const env: NodeJS.ProcessEnv = {};
    const logs: string[] = [];
    const host = await startFunctionsHost({
      functionFiles: [path.join(__dirname, '../fixtures/functions/echo.ts')],
      appRoot: dir,
      env,
      enableTimers: false,
      log: (line) => logs.push(line),
    });
    try {
      expect(env.LOCAL_FUNCTION_KEY).toBe('from-settings');
      expect(host.port).toBeGreaterThan(0); // LocalHttpPort 0: ephemeral
      expect(host.routePrefix).toBe('v1');
      const denied = await request(`${host.baseUrl}/v1/echo/1`);
      await denied.body.dump();
      expect(denied.statusCode).toBe(401);
      const allowed = await request(`${host.baseUrl}/v1/echo/1?code=from-settings`);
      await allowed.body.dump();
      expect(allowed.statusCode).toBe(200);
      expect(logs.join('\n')).not.toContain('from-settings');
    } finally {
      await host.stop();
    }
  });
});

describe('host.json routePrefix', () => {
  it('defaults to api and accepts an empty prefix', () => {
    expect(readRoutePrefix(path.join(dir, 'missing.json'))).toBe('api');
    expect(readRoutePrefix(writeJson('a.json', { version: '2.0' }))).toBe('api');
    expect(readRoutePrefix(writeJson('b.json', { extensions: { http: { routePrefix: '' } } }))).toBe('');
    expect(readRoutePrefix(writeJson('c.json', { extensions: { http: { routePrefix: '/x/' } } }))).toBe('x');
  });
});

describe('function keys', () => {
  it('compares keys exactly', () => {
    expect(keysEqual('abc', 'abc')).toBe(true);
    expect(keysEqual('abc', 'abd')).toBe(false);
    expect(keysEqual('abc', 'abcd')).toBe(false);
    expect(keysEqual('', 'a')).toBe(false);
  });

  it('accepts the header or the code parameter, and skips anonymous functions and unconfigured keys', () => {
    const presented = presentedKeys({ 'x-functions-key': 'h' }, new URLSearchParams('code=q&x=1'));
    expect(presented).toEqual(['h', 'q']);
    expect(isAuthorized('function', 'q', presented)).toBe(true);
    expect(isAuthorized('admin', 'h', presented)).toBe(true);
    expect(isAuthorized('function', 'other', presented)).toBe(false);
    expect(isAuthorized('function', 'k', [])).toBe(false);
    expect(isAuthorized('anonymous', 'k', [])).toBe(true);
    expect(isAuthorized('admin', '', [])).toBe(true);
  });
});
