import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parsePolicy, parsePolicyText, PolicyError } from '../../src/allocation/policy';
import { policyJsonSchema } from '../../src/allocation/policy-json-schema';
import { appRoot, loadPolicy } from '../../src/allocation/policy-source';
import { createAllocationWebhook } from '../../src/allocation/setup';

function problemsOf(policy: unknown): string[] {
  try {
    parsePolicy(policy, 'test');
  } catch (error) {
    if (error instanceof PolicyError) return error.problems.map((p) => `${p.path}: ${p.message}`);
    throw error;
  }
  return [];
}

describe('policy validation', () => {
  it('accepts an empty policy (every device rejected by the default fallback)', () => {
    expect(problemsOf({})).toEqual([]);
  });

  it.each([
    [{ rules: [{ name: 'a', strategy: { type: 'random' } }] }, '$.rules[0].strategy.type'],
    [
      { rules: [{ name: 'a', match: { registrationId: { regex: '(' } } }] },
      '$.rules[0].match.registrationId.regex',
    ],
    [
      { rules: [{ name: 'a', match: { payload: { 'model.id': { equal: 1 } } } }] },
      '$.rules[0].match.payload["model.id"]',
    ],
    [
      { rules: [{ name: 'a', match: { payload: { x: { equals: 1, exists: true } } } }] },
      '$.rules[0].match.payload.x',
    ],
    [{ rules: [{ name: 'a' }, { name: 'a' }] }, '$.rules[1].name'],
    [{ hubs: { eu: { hostName: 'h.net', weight: 0 } } }, '$.hubs.eu.weight'],
    [{ hubs: { eu: { hostName: 'h.net', weight: 1001 } } }, '$.hubs.eu.weight'],
    [{ rules: [{ name: 'a', hubs: ['europe'] }] }, '$.rules[0].hubs[0]'],
    [{ rules: [{ name: 'a', strategy: { type: 'geo', regionField: 'r' } }] }, '$.rules[0].strategy'],
    [
      { rules: [{ name: 'a', strategy: { type: 'payloadMap', field: 'f', map: { x: 'nowhere' } } }] },
      '$.rules[0].strategy.map.x',
    ],
    [
      { rules: [{ name: 'a', initialTwin: { tags: { 'bad.key': 1 } } }] },
      '$.rules[0].initialTwin.tags.bad.key',
    ],
    [{ rules: [{ name: 'a', initialTwin: { tags: { list: [1, 2] } } }] }, '$.rules[0].initialTwin.tags.list'],
    [{ rules: [{ name: 'a', payload: { who: '{{deviceName}}' } }] }, '$.rules[0].payload.who'],
    [{ rules: [{ name: 'a', colour: 'red' }] }, '$.rules[0]'],
    [{ fallback: { action: 'allocate', strategy: { type: 'static', extra: 1 } } }, '$.fallback.strategy'],
    [
      { rules: [{ name: 'a', match: { x509: { subject: { O: { regex: '(' } } } } }] },
      '$.rules[0].match.x509.subject.O.regex',
    ],
    [
      { rules: [{ name: 'a', match: { x509: { issuer: { CN: ['ok', { regex: '[' }] } } } }] },
      '$.rules[0].match.x509.issuer.CN[1].regex',
    ],
    [{ rules: [{ name: 'a', match: { x509: { subject: {} } } }] }, '$.rules[0].match.x509.subject'],
    [{ rules: [{ name: 'a', match: { x509: { subject: { cn: 'x' } } } }] }, '$.rules[0].match.x509.subject'],
    [{ rules: [{ name: 'a', match: { x509: { subjct: { CN: 'x' } } } }] }, '$.rules[0].match.x509'],
    [
      { rules: [{ name: 'a', match: { x509: { thumbprint: ['AB:CD'] } } }] },
      '$.rules[0].match.x509.thumbprint[0]',
    ],
    [
      { rules: [{ name: 'a', match: { x509: { thumbprint: 'G'.repeat(40) } } }] },
      '$.rules[0].match.x509.thumbprint',
    ],
    [{ rules: [{ name: 'a', match: { x509: { notAfter: {} } } }] }, '$.rules[0].match.x509.notAfter'],
    [
      { rules: [{ name: 'a', match: { x509: { notAfter: { within: '30 days' } } } }] },
      '$.rules[0].match.x509.notAfter.within',
    ],
    [
      { rules: [{ name: 'a', match: { x509: { notAfter: { before: '2027-13-01' } } } }] },
      '$.rules[0].match.x509.notAfter.before',
    ],
    [
      { rules: [{ name: 'a', match: { x509: { notAfter: { after: '2027-01-01T00:00:00' } } } }] },
      '$.rules[0].match.x509.notAfter.after',
    ],
  ])('reports the JSON path of a seeded error (%#)', (policy, expectedPath) => {
    const problems = problemsOf(policy);
    expect(problems.length).toBeGreaterThan(0);
    expect(problems.some((p) => p.startsWith(`${expectedPath}:`))).toBe(true);
  });

  it('reports every problem at once, with a readable message', () => {
    const error = (() => {
      try {
        parsePolicy(
          {
            rules: [
              { name: 'a', strategy: { type: 'random' } },
              { name: 'b', hubs: ['nowhere'] },
            ],
          },
          'file p.json',
        );
      } catch (e) {
        return e as PolicyError;
      }
      throw new Error('expected a PolicyError');
    })();
    expect(error.message).toContain('Invalid allocation policy (file p.json):');
    expect(error.message).toMatch(/\n {2}\$\.rules\[0\]\.strategy\.type: .*'hashed'/);
    expect(error.problems).toHaveLength(1); // shape errors first; cross-field checks run on a well-formed policy
  });

  it('explains what a certificate condition takes', () => {
    expect(
      problemsOf({ rules: [{ name: 'a', match: { x509: { notAfter: { within: '6 months' } } } }] }),
    ).toEqual([
      '$.rules[0].match.x509.notAfter.within: a duration is a whole number and a unit: m (minutes), h (hours), d (days) or w (weeks), e.g. "30d"',
    ]);
    expect(problemsOf({ rules: [{ name: 'a', match: { x509: { thumbprint: 'ABCD' } } }] })).toEqual([
      '$.rules[0].match.x509.thumbprint: a thumbprint is 40 (SHA-1) or 64 (SHA-256) hex digits; colons or spaces between pairs are allowed',
    ]);
    expect(
      problemsOf({ rules: [{ name: 'a', match: { x509: { subject: { O: { regex: '(' } } } } }] }),
    ).toEqual([
      expect.stringMatching(/^\$\.rules\[0\]\.match\.x509\.subject\.O\.regex: invalid regular expression: /),
    ]);
    expect(
      problemsOf({
        rules: [
          {
            name: 'a',
            match: {
              x509: {
                subject: { CN: 'device-*', DN: { regex: '^CN=' } },
                thumbprint: ['ab:'.repeat(19) + 'ab', 'AB'.repeat(32), ('ab ' as string).repeat(31) + 'ab'],
                notAfter: { within: '90m', before: '2027-01-01', after: '2026-01-01T00:00:00+01:00' },
              },
            },
          },
        ],
      }),
    ).toEqual([]);
  });

  it('reports JSON syntax errors at $', () => {
    expect(() => parsePolicyText('{"rules": [', 'setting ALLOCATION_POLICY')).toThrow(/\$: not valid JSON/);
  });
});

describe('policy sources', () => {
  it('loads the shipped default policy', () => {
    const policy = loadPolicy({ ALLOCATION_POLICY_PATH: 'policies/default.policy.json' });
    expect(policy.rules.map((r) => r.name)).toEqual([
      'toasters',
      'heatpumps',
      'eu-rotation-due',
      'eu',
      'us-rotation-due',
      'us',
      'everything-else',
    ]);
  });

  it('prefers the inline ALLOCATION_POLICY setting', () => {
    const policy = loadPolicy({
      ALLOCATION_POLICY: JSON.stringify({ rules: [{ name: 'inline' }] }),
      ALLOCATION_POLICY_PATH: 'policies/default.policy.json',
    });
    expect(policy.rules.map((r) => r.name)).toEqual(['inline']);
  });

  it('fails start-up with the JSON path of an invalid inline policy', () => {
    expect(() =>
      createAllocationWebhook({ ALLOCATION_POLICY: '{"rules":[{"name":"x","hubs":[]}]}' }),
    ).toThrow(/setting ALLOCATION_POLICY.*\n\s+\$\.rules\[0\]\.hubs: /s);
  });

  it('fails start-up naming an unreadable policy file', () => {
    expect(() => createAllocationWebhook({ ALLOCATION_POLICY_PATH: 'policies/missing.json' })).toThrow(
      /cannot read the policy file \(ALLOCATION_POLICY_PATH\)/,
    );
  });

  it('fails start-up on a bad setting value', () => {
    expect(() => createAllocationWebhook({ ALLOCATE_MAX_BODY_BYTES: 'lots' })).toThrow(
      /ALLOCATE_MAX_BODY_BYTES/,
    );
  });
});

describe('policy JSON Schema', () => {
  it('policies/policy.schema.json is the one generated from the zod schema (npm run policy:schema)', () => {
    const committed = JSON.parse(
      readFileSync(path.join(appRoot(), 'policies', 'policy.schema.json'), 'utf8'),
    );
    expect(committed).toEqual(policyJsonSchema());
  });
});
