// Decision rows: keys that sort by time and keep two decisions apart, the columns of a decision, and nothing a row
// must not hold (payload values, keys, the webhook's code=), whatever the request carried.
import { createAllocationWebhook, type AllocationWebhook } from '../../src/allocation/setup';
import { createAllocateHandler } from '../../src/decisions/allocate-handler';
import type { DecisionRecorder } from '../../src/decisions/writer';
import { safeReason, MAX_REASON_LENGTH } from '../../src/decisions/reason';
import { dayPartition, decisionRowFrom, decisionRowKey, decisionsTableName } from '../../src/decisions/table';
import { groupRequest, HEATPUMPS_HUB, TOASTERS_HUB } from './support/decision-log';

const webhook = createAllocationWebhook({});
const rowOf = (body: string, at = new Date('2026-05-04T03:02:01.123Z')) =>
  decisionRowFrom(webhook(body).log, at);

describe('keys', () => {
  it('partitions by UTC day and orders by time, then registration', () => {
    expect(dayPartition(new Date('2026-05-04T23:59:59.999Z'))).toBe('2026-05-04');
    expect(dayPartition(new Date('2026-05-05T00:00:00.000+01:00'))).toBe('2026-05-04');
    const key = decisionRowKey(new Date('2026-05-04T03:02:01.123Z'), 'Sensor/01', 'abc');
    expect(key).toBe('2026-05-04T03:02:01.123Z|sensor%2F01|abc');
    const keys = ['2026-05-04T03:02:01.124Z', '2026-05-04T03:02:01.123Z', '2026-05-04T03:02:01.120Z'].map(
      (iso) => decisionRowKey(new Date(iso), 'zz', 'x'),
    );
    expect([...keys].sort()).toEqual([...keys].reverse());
    // A range from a time includes rows made at exactly that time.
    expect(decisionRowKey(new Date('2026-05-04T03:02:01.123Z'), 'a', 'x') >= '2026-05-04T03:02:01.123Z').toBe(
      true,
    );
  });

  it('keeps two decisions of one device in one millisecond apart, and fits any id in a key', () => {
    const body = groupRequest('twice-contoso-tstrsd-001');
    expect(rowOf(body).rowKey).not.toBe(rowOf(body).rowKey);
    const awkward = decisionRowKey(new Date(), '日本'.repeat(64), 'x');
    expect(awkward.length).toBeLessThanOrEqual(1024);
    const forbidden = [...awkward].filter((c) => '/\\#?'.includes(c) || c.charCodeAt(0) < 0x20);
    expect(forbidden).toEqual([]);
    expect(decisionRowKey(new Date(0), undefined, 'x')).toBe('1970-01-01T00:00:00.000Z|~|x');
  });

  it('names the table after the audit prefix', () => {
    expect(decisionsTableName('Audit')).toBe('AuditDecisions');
    expect(() => decisionsTableName('bad-prefix')).toThrow(RangeError);
  });
});

describe('rows', () => {
  it('holds what was decided: group, rule, strategy, hub, initial or reprovision, candidates, latency', () => {
    const row = rowOf(groupRequest('kitchen-contoso-hpsd-001', { currentHub: HEATPUMPS_HUB }));
    expect(row).toMatchObject({
      partitionKey: '2026-05-04',
      at: new Date('2026-05-04T03:02:01.123Z'),
      registrationId: 'kitchen-contoso-hpsd-001',
      enrollmentKind: 'group',
      enrollmentId: 'contoso-custom-allocated-devices',
      outcome: 'assigned',
      status: 200,
      hub: HEATPUMPS_HUB,
      rule: 'heatpumps',
      strategy: 'hashed',
      assignment: 'reprovision',
      candidateCount: 1,
    });
    expect(row.latencyMs).toBeGreaterThanOrEqual(0);
    expect(row.reason).toMatch(/sticky/);
  });

  it('leaves absent values out (an invalid request names no registration)', () => {
    const row = rowOf('{"not":"dps"}');
    expect(row).toMatchObject({ outcome: 'invalid-request', status: 400, candidateCount: 0 });
    for (const absent of ['registrationId', 'hub', 'rule', 'strategy', 'assignment', 'enrollmentKind']) {
      expect(Object.keys(row)).not.toContain(absent);
    }
    expect(row.rowKey).toMatch(/^2026-05-04T03:02:01\.123Z\|~\|/);
  });
});

describe('no secret and no payload value in a row', () => {
  const SECRET = 'c2VjcmV0LXN5bW1ldHJpYy1rZXktdmFsdWU=';

  const logLines: string[] = [];

  /** The log lines allocate writes for these bodies (the row's recorder does nothing). */
  async function loggedLines(webhook: AllocationWebhook, bodies: string[]): Promise<string[]> {
    const lines: string[] = [];
    const recorder: DecisionRecorder = { record: async () => 'skipped', close: async () => undefined };
    const handler = createAllocateHandler({ webhook, recorder });
    const log = { log: (line: string) => lines.push(line), warn: (line: string) => lines.push(line) };
    for (const body of bodies) await handler.answer(body, log);
    return lines;
  }

  it('keeps payload values, symmetric keys and the function key out of rows and log lines, with a payloadMap policy that quotes them', async () => {
    const payloadPolicy = createAllocationWebhook({
      ALLOCATION_POLICY: JSON.stringify({
        hubs: { toasters: { hostName: TOASTERS_HUB, region: 'westeurope' } },
        regions: { westeurope: ['westeurope'] },
        rules: [
          {
            name: 'by-tenant',
            match: { registrationId: 'tenant-*' },
            strategy: { type: 'payloadMap', field: 'tenant' },
          },
          { name: 'by-region', strategy: { type: 'geo', regionField: 'site.region' } },
        ],
      }),
    });
    const bodies = [
      groupRequest('tenant-001', { payload: { tenant: 'secret-tenant-name', apiKey: SECRET } }),
      groupRequest('tenant-002', { payload: { tenant: 'toasters', primaryKey: SECRET } }),
      groupRequest('site-001', { payload: { site: { region: 'secret-region-name' }, token: SECRET } }),
    ];
    const rows = bodies.map((body) => decisionRowFrom(payloadPolicy(body).log, new Date()));
    logLines.push(...(await loggedLines(payloadPolicy, bodies)));
    expect(rows.map((row) => row.outcome)).toEqual(['rejected', 'assigned', 'assigned']);
    expect(logLines).toHaveLength(3);
    const stored = JSON.stringify(rows) + logLines.join('\n');
    for (const secret of [
      SECRET,
      'secret-tenant-name',
      'secret-region-name',
      'secret-function-key',
      'code=',
    ]) {
      expect(stored).not.toContain(secret);
    }
    expect(rows[0]!.reason).toContain("payload.tenant value '…' names '…', which is not a candidate");
    expect(rows[1]!.reason).toBe("payloadMap: payload.tenant = '…' names '…'");
  });

  it('keeps the body out of a JSON parse error and secrets out of any reason', () => {
    const broken = `{"deviceRuntimeContext":{"symmetricKey":{"primaryKey":"${SECRET}"}},`;
    const row = rowOf(broken);
    expect(row.outcome).toBe('invalid-request');
    expect(row.reason).toMatch(/not valid JSON/);
    expect(JSON.stringify(row)).not.toContain(SECRET);
    expect(
      safeReason(`Unexpected token 'x', "{\\"primaryKey\\": \\"${SECRET}" is not valid JSON`),
    ).not.toContain(SECRET);
    expect(safeReason('see https://x/api/allocate?code=abc123 and SharedAccessKey=def456;')).toBe(
      'see https://x/api/allocate?code=*** and SharedAccessKey=***;',
    );
  });

  it('bounds the reason and puts it on one line', () => {
    const reason = safeReason(`first line\nsecond\tline ${'x'.repeat(5000)}`);
    expect(reason.length).toBe(MAX_REASON_LENGTH);
    expect(reason).toMatch(/^first line second line x+…$/);
  });
});
