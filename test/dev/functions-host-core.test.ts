import path from 'node:path';
import { request } from 'undici';
import {
  createFunctionsCoreStub,
  FunctionRegistry,
  functionsCoreStub,
  installCoreStubForNode,
  isFunctionsCoreStub,
  startFunctionsHost,
  type CoreFunctionMetadata,
} from '../../dev/functions-host';
import { appEvents } from '../fixtures/recorder';

const metadata = (name: string): CoreFunctionMetadata => ({
  name,
  bindings: { trigger1: { type: 'httpTrigger', direction: 'in', route: name, methods: ['GET'] } },
});

describe('@azure/functions-core stub', () => {
  it('attributes registrations to the file being loaded and loads each file once', () => {
    const registry = new FunctionRegistry();
    const stub = createFunctionsCoreStub(registry);
    const handler = (): string => 'ok';
    let loads = 0;
    const load = (): void => {
      loads++;
      stub.registerFunction(metadata('a'), handler);
    };
    const first = registry.captureFile('/app/a.js', load);
    const second = registry.captureFile('/app/a.js', load);
    expect(loads).toBe(1);
    expect(second).toBe(first);
    expect(first).toEqual([{ metadata: metadata('a'), handler, sourceFile: '/app/a.js' }]);

    const loose = stub.registerFunction(metadata('b'), handler);
    expect(registry.unattributed.map((r) => r.metadata.name)).toEqual(['b']);
    loose.dispose();
    expect(registry.unattributed).toEqual([]);
  });

  it('keeps hooks and the programming model, and routes system logs to listeners', () => {
    const registry = new FunctionRegistry();
    const stub = createFunctionsCoreStub(registry);
    const hook = jest.fn();
    const registration = stub.registerHook('preInvocation', hook);
    expect(registry.hooks('preInvocation')).toEqual([hook]);
    registration.dispose();
    expect(registry.hooks('preInvocation')).toEqual([]);

    const model = { name: '@azure/functions', version: '4.16.5' };
    stub.setProgrammingModel(model);
    expect(stub.getProgrammingModel()).toBe(model);

    const seen: string[] = [];
    const listener = registry.onSystemLog((level, category, message) =>
      seen.push(`${level}/${category}/${message}`),
    );
    stub.log('warning', 'system', 'careful');
    listener.dispose();
    expect(seen).toEqual(['warning/system/careful']);
    expect(isFunctionsCoreStub(stub)).toBe(true);
    expect(isFunctionsCoreStub({ registerFunction: jest.fn() })).toBe(false);
  });

  it('hooks node once per process and refuses a second, different stub', () => {
    // Under jest this patches jest's wrapper of node:module; functions-host-node.test.ts checks real node.
    const uninstall = installCoreStubForNode(functionsCoreStub);
    try {
      expect(() => installCoreStubForNode(functionsCoreStub)).not.toThrow();
      expect(() => installCoreStubForNode(createFunctionsCoreStub(new FunctionRegistry()))).toThrow(
        /already stubbed with another registry/,
      );
    } finally {
      uninstall();
    }
    const other = installCoreStubForNode(createFunctionsCoreStub(new FunctionRegistry()));
    other();
  });
});

describe('the host with other kinds of function files', () => {
  it('serves compiled CommonJS function files', async () => {
    const host = await startFunctionsHost({
      functionsDir: path.join(__dirname, '../fixtures/functions-js'),
      port: 0,
      env: {},
      log: () => undefined,
    });
    try {
      expect(host.functions.map((f) => f.name)).toEqual(['helloJs', 'secretJs']);
      const response = await request(`${host.baseUrl}/api/hello/Zed`);
      expect(await response.body.json()).toEqual({ greeting: 'Hello, Zed!' });
    } finally {
      await host.stop();
    }
  });

  it('runs app.hook hooks: appStart, pre- and postInvocation around the handler, appTerminate', async () => {
    const logs: string[] = [];
    const host = await startFunctionsHost({
      functionsDir: path.join(__dirname, '../fixtures/functions-hooks'),
      port: 0,
      env: {},
      log: (line) => logs.push(line),
    });
    try {
      const response = await request(`${host.baseUrl}/api/hooked`);
      expect(await response.body.json()).toEqual({
        original: { body: 'from handler' },
        startedBy: 'preInvocation',
      });
      expect(logs.some((l) => /\[hooked\] information: pre hook saw hooked$/.test(l))).toBe(true);
      expect(appEvents).toEqual(['appStart']);
    } finally {
      await host.stop();
    }
    expect(appEvents).toEqual(['appStart', 'appTerminate (started: true)']);
  });

  it('explains a folder without function files', async () => {
    const empty = path.join(__dirname, '../fixtures/no-such-folder');
    await expect(startFunctionsHost({ functionsDir: empty, port: 0, env: {} })).rejects.toThrow(
      `No function files (.js or .ts) in ${empty}`,
    );
  });
});
