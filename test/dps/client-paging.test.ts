import type { DpsClient } from '../../src/dps/client';
import { sasClientFor } from './support/clients';
import { sendJson, startTestHttpsServer, type TestHttpsServer } from './support/test-https-server';

let server: TestHttpsServer;
const clients: DpsClient[] = [];

beforeAll(async () => {
  server = await startTestHttpsServer();
});

afterEach(async () => {
  await Promise.all(clients.splice(0).map((c) => c.close()));
  server.requests.length = 0;
});

afterAll(async () => {
  await server.close();
});

function newClient(options: Parameters<typeof sasClientFor>[1] = {}): DpsClient {
  const { client } = sasClientFor(server, options);
  clients.push(client);
  return client;
}

const groupItem = (id: string) => ({ enrollmentGroupId: id, attestation: { type: 'symmetricKey' } });
const stateItem = (id: string) => ({ registrationId: id, status: 'failed', errorCode: 400207 });

/** Serves pages keyed by the continuation token the request carries ('' = first page). */
function servePages(pages: Record<string, { items: unknown[]; next?: string }>): void {
  server.handler = (req, res) => {
    const token = (req.headers['x-ms-continuation'] as string | undefined) ?? '';
    const page = pages[token];
    if (!page) return sendJson(res, 400, { errorCode: 400000, message: `unknown token ${token}` });
    sendJson(res, 200, page.items, page.next === undefined ? {} : { 'x-ms-continuation': page.next });
  };
}

async function collect<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const result: T[] = [];
  for await (const item of iterable) result.push(item);
  return result;
}

describe('paged queries', () => {
  it('follows continuation tokens across pages, through an empty page, and stops when none comes back', async () => {
    servePages({
      '': { items: [groupItem('g1'), groupItem('g2')], next: 't1' },
      t1: { items: [], next: 't2' },
      t2: { items: [groupItem('g3')] },
    });
    const client = newClient({ pageSize: 2 });

    const groups = await collect(client.enrollmentGroups());

    expect(groups.map((g) => g.enrollmentGroupId)).toEqual(['g1', 'g2', 'g3']);
    expect(server.requests.map((r) => r.headers['x-ms-continuation'])).toEqual([undefined, 't1', 't2']);
    for (const request of server.requests) {
      expect(request.method).toBe('POST');
      expect(request.path).toBe('/enrollmentGroups/query');
      expect(request.query.get('api-version')).toBe('2021-10-01');
      expect(request.headers['x-ms-max-item-count']).toBe('2');
      expect(JSON.parse(request.body)).toEqual({ query: '*' });
    }
  });

  it('yields pages with the token that resumes after each of them', async () => {
    servePages({
      '': { items: [stateItem('d1')], next: 'r1' },
      r1: { items: [stateItem('d2'), stateItem('d3')] },
    });
    const client = newClient();

    const pages = await collect(client.registrationStatePages('grp 1', { pageSize: 7 }));

    expect(pages).toEqual([
      { items: [expect.objectContaining({ registrationId: 'd1' })], continuationToken: 'r1' },
      {
        items: [
          expect.objectContaining({ registrationId: 'd2' }),
          expect.objectContaining({ registrationId: 'd3' }),
        ],
        continuationToken: undefined,
      },
    ]);
    expect(server.requests[0]?.path).toBe('/registrations/grp%201/query');
    expect(server.requests[0]?.headers['x-ms-max-item-count']).toBe('7');
  });

  it('resumes from a saved token without reading the pages before it', async () => {
    servePages({
      '': { items: [stateItem('d1')], next: 'r1' },
      r1: { items: [stateItem('d2')], next: 'r2' },
      r2: { items: [stateItem('d3')] },
    });
    const client = newClient();

    const states = await collect(client.registrationStates('grp-1', { startToken: 'r1' }));

    expect(states.map((s) => s.registrationId)).toEqual(['d2', 'd3']);
    expect(server.requests.map((r) => r.headers['x-ms-continuation'])).toEqual(['r1', 'r2']);
  });

  it('reads a single page when the first response has no token', async () => {
    servePages({ '': { items: [] } });
    const client = newClient();

    const enrollments = await collect(client.individualEnrollments());

    expect(enrollments).toEqual([]);
    expect(server.requests).toHaveLength(1);
    expect(server.requests[0]?.path).toBe('/enrollments/query');
    expect(server.requests[0]?.headers['x-ms-max-item-count']).toBe('100');
  });

  it('retries a failed page without skipping or repeating items', async () => {
    let failuresLeft = 1;
    const pages: Record<string, { items: unknown[]; next?: string }> = {
      '': { items: [groupItem('g1')], next: 't1' },
      t1: { items: [groupItem('g2')], next: 't2' },
      t2: { items: [groupItem('g3')] },
    };
    server.handler = (req, res) => {
      const token = (req.headers['x-ms-continuation'] as string | undefined) ?? '';
      if (token === 't1' && failuresLeft-- > 0) return sendJson(res, 503, { errorCode: 503000 });
      const page = pages[token]!;
      sendJson(res, 200, page.items, page.next === undefined ? {} : { 'x-ms-continuation': page.next });
    };
    const client = newClient();

    const groups = await collect(client.enrollmentGroups());

    expect(groups.map((g) => g.enrollmentGroupId)).toEqual(['g1', 'g2', 'g3']);
    expect(server.requests.map((r) => r.headers['x-ms-continuation'])).toEqual([undefined, 't1', 't1', 't2']);
  });

  it('reports a bad group id when iteration starts, before any request', async () => {
    const client = newClient();
    await expect(collect(client.registrationStates(''))).rejects.toThrow(/non-empty/);
    expect(server.requests).toHaveLength(0);
  });
});
