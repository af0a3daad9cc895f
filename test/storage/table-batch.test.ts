// The audit's own entity group transactions against Azurite, read back through the table SDK: every value type the
// audit writes keeps its type, keys with quotes, percent signs and non-ASCII letters work, deletes work, and a
// refused transaction writes nothing and says why.
import { TableClient } from '@azure/data-tables';
import { startAzurite, type Azurite } from '../../dev/azurite';
import { batchFailure, submitBatch, TableBatchError, type BatchAction } from '../../src/storage/table-batch';

let azurite: Azurite;
let client: TableClient;

beforeAll(async () => {
  azurite = await startAzurite();
  client = TableClient.fromConnectionString(azurite.connectionString, 'BatchTest', {
    allowInsecureConnection: true,
  });
  await client.createTable();
});

afterAll(async () => {
  await azurite.stop();
});

const PARTITION = "fleet-'quoted'-%25-über";

it('upserts entities with every value type the audit writes, as the SDK reads them back', async () => {
  const firstSeen = new Date('2026-11-23T10:20:30.456Z');
  const entity = {
    partitionKey: PARTITION,
    rowKey: "device-o'neil-100%-Ωmega",
    registrationId: "Device-O'Neil",
    errorCode: 400209,
    durationMs: 2 ** 40,
    ratio: 0.25,
    open: true,
    firstSeen,
    substatus: undefined,
    errorMessage: 'line one\nline two "quoted" \\ back',
  };
  await submitBatch(client, [['upsert', entity]]);
  const stored = await client.getEntity(entity.partitionKey, entity.rowKey);
  expect(stored).toMatchObject({
    registrationId: "Device-O'Neil",
    errorCode: 400209,
    ratio: 0.25,
    open: true,
    firstSeen,
    errorMessage: entity.errorMessage,
  });
  // Beyond Int32 the value is sent as Edm.Double: the same number comes back.
  expect(Number(stored.durationMs)).toBe(2 ** 40);
  expect(stored).not.toHaveProperty('substatus');

  // Replace, not merge: a property left out is gone.
  const closed = { partitionKey: PARTITION, rowKey: entity.rowKey, open: false };
  await submitBatch(client, [['upsert', closed]]);
  const replaced = await client.getEntity(entity.partitionKey, entity.rowKey);
  expect(replaced.open).toBe(false);
  expect(replaced).not.toHaveProperty('registrationId');
});

it('writes 100 operations at once, upserts and deletes mixed, in one transaction', async () => {
  const rows = Array.from({ length: 100 }, (_, i) => ({ partitionKey: 'many', rowKey: `row-${i}`, n: i }));
  await submitBatch(
    client,
    rows.map((row): BatchAction => ['upsert', row]),
  );
  const actions: BatchAction[] = [
    ...rows.slice(0, 40).map((row): BatchAction => ['delete', row]),
    ...rows.slice(40).map((row): BatchAction => {
      const changed = { ...row, n: row.n * 10 };
      return ['upsert', changed];
    }),
  ];
  await submitBatch(client, actions);
  const left = [];
  for await (const entity of client.listEntities({ queryOptions: { filter: "PartitionKey eq 'many'" } })) {
    left.push(entity);
  }
  expect(left).toHaveLength(60);
  expect(left.find((entity) => entity.rowKey === 'row-41')?.n).toBe(410);
});

it('refuses a transaction with a bad operation as a whole, with the status and code of the service', async () => {
  const actions: BatchAction[] = [
    ['upsert', { partitionKey: 'refused', rowKey: 'fine' }],
    // Deleting a row that does not exist fails the transaction.
    ['delete', { partitionKey: 'refused', rowKey: 'never-written' }],
  ];
  const failure = await submitBatch(client, actions).then(
    () => undefined,
    (error: unknown) => error,
  );
  expect(failure).toBeInstanceOf(TableBatchError);
  expect(failure).toMatchObject({ statusCode: 404, code: 'ResourceNotFound' });
  await expect(client.getEntity('refused', 'fine')).rejects.toMatchObject({ statusCode: 404 });
});

describe('batchFailure', () => {
  it('reads the failed operation of a changeset response, and passes one where all succeeded', () => {
    const ok = [
      '--batchresponse_1',
      'Content-Type: multipart/mixed; boundary=changesetresponse_1',
      '',
      '--changesetresponse_1',
      'Content-Type: application/http',
      '',
      'HTTP/1.1 204 No Content',
      '',
      '--changesetresponse_1--',
      '--batchresponse_1--',
    ].join('\r\n');
    expect(batchFailure(202, ok)).toBeUndefined();
    const refused = ok
      .replace('HTTP/1.1 204 No Content', 'HTTP/1.1 400 Bad Request\r\nContent-Type: application/json\r\n')
      .replace(
        '\r\n\r\n--changesetresponse_1--',
        '\r\n{"odata.error":{"code":"PropertyValueTooLarge","message":{"lang":"en-US","value":"0:The property value exceeds the maximum allowed size (64KB)."}}}\r\n--changesetresponse_1--',
      );
    expect(batchFailure(202, refused)).toMatchObject({
      statusCode: 400,
      code: 'PropertyValueTooLarge',
      message: expect.stringContaining('0:The property value exceeds'),
    });
    expect(batchFailure(403, '')).toMatchObject({ statusCode: 403 });
    // A 202 without any operation status is not a success either.
    expect(batchFailure(202, '')).toBeInstanceOf(TableBatchError);
  });
});
