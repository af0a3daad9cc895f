import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import { startFunctionsHost, type FunctionsHost, type FunctionsHostOptions } from '../../dev/functions-host';

const fixtures = path.join(__dirname, '../fixtures/functions');
const httpFixtures = ['echo.ts', 'ping.ts', 'default-methods.ts', 'admin-things.ts', 'explode.ts'].map((f) =>
  path.join(fixtures, f),
);
const KEY = 'local-test-key-0123';

async function startHost(
  options: Partial<FunctionsHostOptions> = {},
): Promise<{ host: FunctionsHost; logs: string[] }> {
  const logs: string[] = [];
  const host = await startFunctionsHost({
    functionFiles: httpFixtures,
    port: 0,
    env: {},
    enableTimers: false,
    log: (line) => logs.push(line),
    ...options,
  });
  return { host, logs };
}

async function call(url: string, init: Parameters<typeof request>[1] = {}) {
  const response = await request(url, init);
  const text = await response.body.text();
  return { status: response.statusCode, headers: response.headers, text };
}

describe('local Functions host with a function key', () => {
  let host: FunctionsHost;
  let logs: string[];
  let warnings: string[];
  const api = (pathAndQuery: string): string => `${host.baseUrl}/api/${pathAndQuery}`;

  beforeAll(async () => {
    warnings = [];
    const warn = jest.spyOn(console, 'warn').mockImplementation((...args: unknown[]) => {
      warnings.push(args.join(' '));
    });
    try {
      ({ host, logs } = await startHost({ functionKey: KEY }));
    } finally {
      warn.mockRestore();
    }
  });
  afterAll(() => host.stop());

  it('loads the functions without the library falling back to test mode', () => {
    expect(warnings.filter((w) => /test mode|Failed to detect/i.test(w))).toEqual([]);
    expect(host.functions.map((f) => f.name).sort()).toEqual([
      'DefaultMethods',
      'adminThings',
      'echo',
      'explode',
      'ping',
    ]);
  });

  it('takes routes, methods and auth levels from the real registrations', () => {
    const byName = Object.fromEntries(host.functions.map((f) => [f.name, f]));
    expect(byName.echo).toMatchObject({
      kind: 'http',
      route: 'echo/{id:int}/{label?}',
      methods: ['GET', 'POST', 'PUT'],
      authLevel: 'function',
      sourceFile: path.join(fixtures, 'echo.ts'),
    });
    expect(byName.ping).toMatchObject({ route: 'ping', methods: ['GET'], authLevel: 'anonymous' });
    // @azure/functions v4 defaults: route = function name, methods GET and POST, anonymous.
    expect(byName.DefaultMethods).toMatchObject({
      route: 'DefaultMethods',
      methods: ['GET', 'POST'],
      authLevel: 'anonymous',
    });
    expect(host.functionUrl('echo')).toBe(`${host.baseUrl}/api/echo/{id:int}/{label?}`);
    expect(host.functionKeyRequired).toBe(true);
  });

  it('passes route params, query, headers and body to the handler and converts its response', async () => {
    const response = await call(api('echo/42/first?x=1&code=' + KEY), {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: 'hello body',
    });
    expect(response.status).toBe(201);
    expect(response.headers['x-echo']).toBe('yes');
    expect(response.headers['content-type']).toBe('application/json');
    expect(response.headers['set-cookie']).toBe('seen=a%20b; Path=/; HttpOnly');
    const echoed = JSON.parse(response.text);
    expect(echoed).toMatchObject({
      method: 'POST',
      params: { id: '42', label: 'first' },
      query: { x: '1', code: KEY },
      body: 'hello body',
      contentType: 'text/plain',
      functionName: 'echo',
      triggerType: 'httpTrigger',
    });
    expect(echoed.url).toBe(api('echo/42/first?x=1&code=' + KEY));
    const invocationLog = logs.find((l) => l.includes(echoed.invocationId));
    expect(invocationLog).toMatch(
      /\[echo\] information: Executed 'Functions\.echo' \(Succeeded.*POST \/api\/echo\/42\/first -> 201/,
    );
    expect(logs.some((l) => /\[echo\] information: echo called for 42$/.test(l))).toBe(true);
    expect(logs.join('\n')).not.toContain(KEY);
  });

  it('matches literals case-insensitively, leaves optional params out, decodes values, passes the trace', async () => {
    const response = await call(`${host.baseUrl}/API/Echo/7`, { headers: { 'x-functions-key': KEY } });
    expect(response.status).toBe(200);
    expect(JSON.parse(response.text)).toMatchObject({
      params: { id: '7' },
      traceParent: expect.stringMatching(/^00-[0-9a-f]{32}-[0-9a-f]{16}-01$/),
    });
    const traceParent = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';
    const encoded = await call(api('echo/8/caf%C3%A9%20au%20lait'), {
      headers: { 'x-functions-key': KEY, traceparent: traceParent },
    });
    expect(JSON.parse(encoded.text)).toMatchObject({
      params: { id: '8', label: 'café au lait' },
      traceParent,
    });
  });

  it('answers 404 for unknown routes, failed constraints, wrong methods and no prefix; 400 for bad encoding', async () => {
    const headers = { 'x-functions-key': KEY };
    expect((await call(api('nothing-here'), { headers })).status).toBe(404);
    expect((await call(api('echo/abc'), { headers })).status).toBe(404);
    expect((await call(api('echo/1/2/3'), { headers })).status).toBe(404);
    expect((await call(api('echo/1'), { method: 'DELETE', headers })).status).toBe(404);
    expect((await call(`${host.baseUrl}/echo/1`, { headers })).status).toBe(404);
    expect(logs).toContainEqual(
      expect.stringContaining('404 DELETE /api/echo/1 (route exists for GET, POST, PUT)'),
    );
    expect((await call(api('echo/1/%E0%A4%A'), { headers })).status).toBe(400);
  });

  it('requires the key for function and admin levels, from the code parameter or the header', async () => {
    const missing = await call(api('echo/1'));
    expect(missing).toMatchObject({ status: 401, text: '' });
    expect((await call(api('echo/1'), { headers: { 'x-functions-key': 'wrong' } })).status).toBe(401);
    expect((await call(api('echo/1?code=wrong'))).status).toBe(401);
    expect((await call(api(`echo/1?code=${KEY}x`))).status).toBe(401);
    expect((await call(api(`echo/1?code=${KEY}`))).status).toBe(200);
    expect((await call(api('echo/1'), { headers: { 'x-functions-key': KEY } })).status).toBe(200);

    expect((await call(api('things/a/b'), { method: 'DELETE' })).status).toBe(401);
    const admin = await call(api('things/a/b'), { method: 'DELETE', headers: { 'x-functions-key': KEY } });
    expect(admin).toMatchObject({ status: 204, text: '' });
    expect(logs.some((l) => /\[adminThings\] warning: deleting a\/b$/.test(l))).toBe(true);
  });

  it('never checks anonymous functions', async () => {
    expect(await call(api('ping'))).toMatchObject({ status: 200, text: 'pong' });
    expect((await call(api('ping?code=wrong'))).status).toBe(200);
    expect((await call(api('DefaultMethods'), { method: 'POST' })).text).toBe('{"method":"POST"}');
    expect((await call(api('defaultmethods'))).text).toBe('{"method":"GET"}');
    expect((await call(api('DefaultMethods'), { method: 'PUT' })).status).toBe(404);
  });

  it('turns a thrown error into a generic 500 and logs the error', async () => {
    const response = await call(api('explode'), { method: 'POST', body: '{}' });
    expect(response.status).toBe(500);
    const body = JSON.parse(response.text);
    expect(body).toEqual({ error: 'internal error', invocationId: expect.any(String) });
    expect(response.text).not.toMatch(/hunter2|\bat\b|\.ts/);
    const errorLog = logs.find((l) => l.includes(body.invocationId));
    expect(errorLog).toMatch(
      /\[explode\] error: Executed 'Functions\.explode' \(Failed.*database password hunter2/,
    );
    expect(errorLog).not.toContain('\n');
  });

  it('serves the host status to admins only', async () => {
    expect((await call(`${host.baseUrl}/admin/host/status`)).status).toBe(401);
    const status = await call(`${host.baseUrl}/admin/host/status?code=${KEY}`);
    expect(JSON.parse(status.text)).toEqual({ state: 'Running' });
  });
});

describe('local Functions host key configuration', () => {
  it('checks no key when none is configured, as func start does', async () => {
    const { host } = await startHost({ env: { LOCAL_FUNCTION_KEY: '' } });
    try {
      expect(host.functionKeyRequired).toBe(false);
      expect((await call(`${host.baseUrl}/api/echo/5`)).status).toBe(200);
      expect((await call(`${host.baseUrl}/api/things/x`, { method: 'DELETE' })).status).toBe(204);
    } finally {
      await host.stop();
    }
  });

  it('reads the key from the LOCAL_FUNCTION_KEY app setting', async () => {
    const { host } = await startHost({ env: { LOCAL_FUNCTION_KEY: 'from-env' } });
    try {
      expect((await call(`${host.baseUrl}/api/echo/5`)).status).toBe(401);
      expect((await call(`${host.baseUrl}/api/echo/5?code=from-env`)).status).toBe(200);
    } finally {
      await host.stop();
    }
  });
});

describe('local Functions host limits and shutdown', () => {
  it('rejects bodies over the limit with 413 while streaming', async () => {
    const { host } = await startHost({ maxRequestBodyBytes: 1024 });
    try {
      const url = `${host.baseUrl}/api/DefaultMethods`;
      expect((await call(url, { method: 'POST', body: 'x'.repeat(1024) })).status).toBe(200);
      const chunked = Readable.from([Buffer.alloc(800, 1), Buffer.alloc(800, 2)]); // no content-length
      expect((await call(url, { method: 'POST', body: chunked })).status).toBe(413);
    } finally {
      await host.stop();
    }
  });

  it('rejects a declared body over 100 MB before reading it', async () => {
    const { host } = await startHost();
    try {
      const head = await rawRequest(
        host.port,
        'POST /api/DefaultMethods HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 104857601\r\n\r\n',
      );
      expect(head).toMatch(/^HTTP\/1\.1 413 /);
    } finally {
      await host.stop();
    }
  });

  it('stop() closes keep-alive connections and refuses new requests', async () => {
    const { host } = await startHost();
    const agent = new Agent({ keepAliveTimeout: 60_000 });
    try {
      const first = await request(`${host.baseUrl}/api/ping`, { dispatcher: agent });
      expect(await first.body.text()).toBe('pong');
      await host.stop();
      await expect(request(`${host.baseUrl}/api/ping`, { dispatcher: agent })).rejects.toThrow();
      await host.stop(); // idempotent
    } finally {
      await agent.close();
    }
  });

  it('says clearly when the port is taken', async () => {
    const { host } = await startHost();
    try {
      await expect(startHost({ port: host.port })).rejects.toThrow(
        /Port \d+ on 127\.0\.0\.1 is already in use/,
      );
    } finally {
      await host.stop();
    }
  });
});

/** Sends raw bytes and resolves with the first chunk of the answer. */
function rawRequest(port: number, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(text));
    socket.once('data', (data) => {
      resolve(data.toString('latin1'));
      socket.destroy();
    });
    socket.once('error', reject);
  });
}
