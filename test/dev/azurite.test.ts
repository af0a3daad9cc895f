// dev/azurite.ts: Azurite's Table service in-process, in memory or on disk, and a restart on the same port
// that keeps the data (what the audit's storage-outage tests rely on).
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { TableClient } from '@azure/data-tables';
import { startAzurite, type Azurite } from '../../dev/azurite';

const started: Azurite[] = [];
const folders: string[] = [];

afterAll(async () => {
  await Promise.all(started.map((azurite) => azurite.stop()));
  await Promise.all(folders.map((folder) => rm(folder, { recursive: true, force: true })));
});

function tableClient(azurite: Azurite, table: string): TableClient {
  return TableClient.fromConnectionString(azurite.connectionString, table, {
    allowInsecureConnection: true,
    retryOptions: { maxRetries: 0 },
  });
}

it('serves tables on an ephemeral 127.0.0.1 port, in memory by default', async () => {
  const azurite = await startAzurite();
  started.push(azurite);
  expect(azurite.port).toBeGreaterThan(0);
  expect(azurite.tableEndpoint).toBe(`http://127.0.0.1:${azurite.port}/devstoreaccount1`);
  const client = tableClient(azurite, 'Memory');
  await client.createTable();
  await client.upsertEntity({ partitionKey: 'p', rowKey: 'r', value: 1 });
  await expect(client.getEntity('p', 'r')).resolves.toMatchObject({ value: 1 });
  await expect(azurite.restart()).rejects.toThrow(/dataDir/);
});

it('keeps the data of a data folder across an outage and a restart on the same port', async () => {
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'azurite-test-'));
  folders.push(dataDir);
  const azurite = await startAzurite({ dataDir });
  started.push(azurite);
  const client = tableClient(azurite, 'Survives');
  await client.createTable();
  await client.submitTransaction(
    Array.from({ length: 100 }, (_, i) => ['upsert', { partitionKey: 'p', rowKey: `r${i}`, i }] as const),
  );

  await azurite.interrupt();
  expect(azurite.running).toBe(false);
  await expect(client.getEntity('p', 'r1')).rejects.toMatchObject({ code: 'ECONNREFUSED' });

  const port = azurite.port;
  await azurite.restart();
  expect(azurite.running).toBe(true);
  expect(azurite.port).toBe(port);
  await expect(client.getEntity('p', 'r99')).resolves.toMatchObject({ i: 99 });
  let count = 0;
  for await (const _entity of client.listEntities()) count++;
  expect(count).toBe(100);
});
