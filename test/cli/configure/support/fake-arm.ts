// A stand-in for Azure Resource Manager's listkeys actions on 127.0.0.1 (plain HTTP, ephemeral port), and a fake
// Entra credential whose token names the scope it was asked for.
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AccessToken, TokenCredential } from '@azure/identity';

export const SUBSCRIPTION = '11111111-2222-3333-4444-555555555555';
export const RESOURCE_GROUP = 'rg-dps';
export const FUNCTION_APP = 'func-dps-allocator';
export const SITE_PATH = `/subscriptions/${SUBSCRIPTION}/resourceGroups/${RESOURCE_GROUP}/providers/Microsoft.Web/sites/${FUNCTION_APP}`;
export const FUNCTION_KEYS_PATH = `${SITE_PATH}/functions/allocate/listkeys`;
export const HOST_KEYS_PATH = `${SITE_PATH}/host/default/listkeys`;

export interface ArmRequest {
  method: string;
  path: string;
  apiVersion: string | null;
  authorization: string | undefined;
  contentLength: string | undefined;
}

export type ArmReply = { status: number; body?: unknown };

export interface FakeArm {
  /** `http://127.0.0.1:PORT` */
  url: string;
  requests: ArmRequest[];
  /** Decides each answer; the default is 404 for everything. */
  reply: (request: ArmRequest, index: number) => ArmReply;
  close(): Promise<void>;
}

export async function startFakeArm(): Promise<FakeArm> {
  const fake: FakeArm = {
    url: '',
    requests: [],
    reply: () => ({ status: 404, body: { error: { code: 'NotFound', message: 'nothing here' } } }),
    close: async () => undefined,
  };
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const request: ArmRequest = {
        method: req.method ?? '',
        path: url.pathname,
        apiVersion: url.searchParams.get('api-version'),
        authorization: req.headers.authorization,
        contentLength: req.headers['content-length'],
      };
      const index = fake.requests.length;
      fake.requests.push(request);
      const answer = fake.reply(request, index);
      res.writeHead(answer.status, { 'content-type': 'application/json' });
      res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  fake.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  fake.close = async () => {
    const closed = once(server, 'close');
    server.close();
    server.closeAllConnections();
    await closed;
  };
  return fake;
}

/** A credential whose tokens read `token-for:<scope>`; `fail` makes getToken throw like an unavailable credential. */
export function fakeCredential(options: { fail?: string } = {}): TokenCredential & { scopes: string[] } {
  const scopes: string[] = [];
  return {
    scopes,
    async getToken(scope: string | string[]): Promise<AccessToken> {
      const name = Array.isArray(scope) ? scope.join(' ') : scope;
      scopes.push(name);
      if (options.fail) throw new Error(`${options.fail}\nmore detail on a second line`);
      return { token: `token-for:${name}`, expiresOnTimestamp: Date.now() + 3_600_000 };
    },
  };
}
