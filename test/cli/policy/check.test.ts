import { readFileSync } from 'node:fs';
import type { PolicyInput } from '../../../src/allocation/policy-schema';
import { checkPolicyText, renderCheck, type CheckResult } from '../../../src/cli/policy/check';
import { hintFor } from '../../../src/cli/policy/check-hints';

const check = (policy: unknown) => checkPolicyText(JSON.stringify(policy), 'test.json');
const problemsOf = (result: CheckResult) => (result.ok ? [] : result.problems);
const notesOf = (result: CheckResult) => (result.ok ? result.notes : []);

describe('check: problems', () => {
  it('reports every seeded cross-field error with its JSON path and a hint', () => {
    const result = check({
      hubs: { eu: { hostName: 'eu.azure-devices.net' }, us: { hostName: 'us.azure-devices.net' } },
      rules: [
        {
          name: 'sensors',
          match: { registrationId: { regex: '^sn-(\\d+$' } },
          hubs: ['eu1'],
          initialTwin: { tags: { id: '{{registrationID}}' } },
        },
        { name: 'sensors', hubs: ['us'] },
      ],
    });
    expect(result.ok).toBe(false);
    expect(problemsOf(result)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          path: '$.rules[0].match.registrationId.regex',
          message: expect.stringContaining('invalid regular expression'),
        }),
        expect.objectContaining({ path: '$.rules[0].hubs[0]', hint: "did you mean 'eu'?" }),
        expect.objectContaining({
          path: '$.rules[0].initialTwin.tags.id',
          hint: 'did you mean {{registrationId}}?',
        }),
        expect.objectContaining({
          path: '$.rules[1].name',
          hint: expect.stringContaining('first used at $.rules[0].name'),
        }),
      ]),
    );
    expect(problemsOf(result)).toHaveLength(4);
    expect(result.ok || result.stage).toBe('semantics');
  });

  it('reports shape errors with suggestions drawn from the schema', () => {
    const result = check({
      defaults: { reprovision: 'stiky' },
      rules: [
        { name: 'a', mach: { registrationId: 'x*' }, strategy: { type: 'hashd' } },
        { name: 'b', strategy: { type: 'geo', regoinField: 'region' } },
      ],
    });
    const byPath = Object.fromEntries(problemsOf(result).map((p) => [p.path, p.hint]));
    expect(byPath).toEqual({
      '$.defaults.reprovision': "did you mean 'sticky'?",
      '$.rules[0]': expect.stringMatching(/^did you mean 'match'\? \(allowed here: name, .*match/),
      '$.rules[0].strategy.type': "did you mean 'hashed'?",
      '$.rules[1].strategy': expect.stringMatching(/^did you mean 'regionField'\?/),
      '$.rules[1].strategy.regionField': "'regionField' is required here",
    });
    expect(result.ok || result.stage).toBe('shape');
    expect(renderCheck(result)).toContain('checked once these are fixed');
  });

  it('hints with the allowed values when no value is close, and with what a field is for after a wrong type', () => {
    const result = check({
      defaults: { reprovision: 'whatever' },
      rules: [{ name: 'a', hubs: [5] }],
    });
    const byPath = Object.fromEntries(problemsOf(result).map((p) => [p.path, p.hint]));
    expect(byPath).toEqual({
      '$.defaults.reprovision': expect.stringMatching(/^allowed: 'sticky', /),
      // A list item: what the list is for, from the schema's description.
      '$.rules[0].hubs[0]': expect.stringMatching(/^Candidate hubs, in order of preference/),
    });
    // A field without a description of its own gets no hint, not the description of what holds it.
    const [described] = problemsOf(check({ description: 5 }));
    expect(described).toMatchObject({ path: '$.description' });
    expect(described?.hint).toBeUndefined();
  });

  it('reports text that is not JSON at $', () => {
    const result = checkPolicyText('{ "rules": [', 'test.json');
    expect(result).toMatchObject({ ok: false, stage: 'json', problems: [{ path: '$' }] });
  });

  it('prints each problem as "<path>: <message>" with its hint below, then a count', () => {
    const text = renderCheck(check({ rules: [{ name: 'a', hubs: ['eu'] }] }));
    expect(text.split('\n')).toEqual([
      "$.rules[0].hubs[0]: 'eu' is not a hub alias (known: none), a host name or a glob",
      '  hint: define the alias under $.hubs, or write a full host name (with a dot) or a glob (* or ?)',
      '1 problem in test.json',
    ]);
  });
});

describe('check: valid policies and warnings', () => {
  it('passes the shipped default policy without warnings', () => {
    const result = checkPolicyText(readFileSync('policies/default.policy.json', 'utf8'), 'default');
    expect(result).toEqual({ ok: true, source: 'default', rules: 7, hubs: 0, notes: [] });
    expect(renderCheck(result)).toBe('OK: 7 rules, 0 hubs');
  });

  it('warns that a policy without rules rejects every device, and notes it when a fallback allocates', () => {
    expect(notesOf(check({ rules: [] }))).toEqual([
      { level: 'warning', path: '$.rules', message: 'no rules: the fallback rejects every device (400)' },
    ]);
    expect(notesOf(check({ rules: [], fallback: { action: 'allocate' } }))).toEqual([
      { level: 'info', path: '$.rules', message: 'no rules: every device is allocated by the fallback' },
    ]);
  });

  it('warns about rules after a rule that decides every device', () => {
    const result = check({
      rules: [
        { name: 'edge', match: { iotEdge: true } },
        { name: 'all', match: {} },
        { name: 'late', match: { registrationId: 'x*' } },
      ],
    });
    expect(notesOf(result)).toEqual([
      {
        level: 'warning',
        path: '$.rules[2]',
        message:
          "rule 'late' is never reached: rule 'all' ($.rules[1]) has no match conditions and decides every device",
      },
    ]);
  });

  it('does not warn when the catch-all rule passes devices on for lack of its hubs', () => {
    const result = check({
      rules: [
        { name: 'eu-first', hubs: ['*-eu-*'], onNoCandidate: 'nextRule' },
        { name: 'rest', match: { registrationId: '*' } },
      ],
    });
    expect(notesOf(result)).toEqual([]);
  });

  it('warns about a hub alias nothing uses, but not one that carries a weight or feeds {{hubAlias}}', () => {
    const policy = (extra: PolicyInput['rules']): PolicyInput => ({
      hubs: {
        eu: { hostName: 'eu.azure-devices.net' },
        spare: { hostName: 'spare.azure-devices.net' },
        heavy: { hostName: 'heavy.azure-devices.net', weight: 3 },
      },
      rules: [{ name: 'a', match: { enrollmentKind: 'group' }, hubs: ['eu'] }, ...(extra ?? [])],
    });
    expect(notesOf(check(policy([])))).toEqual([
      expect.objectContaining({ level: 'warning', path: '$.hubs.spare' }),
    ]);
    expect(notesOf(check(policy([{ name: 'b', payload: { alias: '{{hubAlias}}' } }])))).toEqual([]);
  });

  it('notes that later selectors of a static rule are only failover', () => {
    const result = check({
      defaults: { strategy: { type: 'static' } },
      rules: [
        {
          name: 'primary',
          match: { enrollmentKind: 'group' },
          hubs: ['main.azure-devices.net', 'standby.azure-devices.net'],
        },
        { name: 'single', hubs: ['main.azure-devices.net'], strategy: { type: 'hashed' } },
      ],
    });
    expect(notesOf(result)).toEqual([
      expect.objectContaining({
        level: 'info',
        path: '$.rules[0].hubs',
        message: expect.stringContaining("'standby.azure-devices.net' is only failover"),
      }),
    ]);
  });
});

describe('check: capacity fields', () => {
  it('validates maxDevices, drain, leastLoaded and onDrainingHub, with hints from the schema', () => {
    const result = check({
      hubs: { a: { hostName: 'a.azure-devices.net', maxDevices: 0, drain: 'yes' } },
      defaults: { onDrainingHub: 'stay' },
      rules: [{ name: 'r', strategy: { type: 'leastloaded' } }],
    });
    const byPath = Object.fromEntries(problemsOf(result).map((p) => [p.path, p]));
    expect(Object.keys(byPath).sort()).toEqual(
      [
        '$.defaults.onDrainingHub',
        '$.hubs.a.drain',
        '$.hubs.a.maxDevices',
        '$.rules[0].strategy.type',
      ].sort(),
    );
    expect(byPath['$.rules[0].strategy.type']?.hint).toBe("did you mean 'leastLoaded'?");
    expect(byPath['$.defaults.onDrainingHub']?.hint).toBe("allowed: 'move', 'keep'");
    expect(byPath['$.hubs.a.maxDevices']?.hint).toContain('Device cap');
  });

  it('accepts capacity fields on hubs nothing names, with no warning', () => {
    const result = check({
      hubs: {
        a: { hostName: 'a.azure-devices.net', maxDevices: 6000 },
        b: { hostName: 'b.azure-devices.net', drain: true },
      },
      rules: [{ name: 'all', strategy: { type: 'leastLoaded' }, onDrainingHub: 'keep' }],
    });
    expect(result).toMatchObject({ ok: true, notes: [] });
  });

  it('notes a rule that names only draining hubs', () => {
    const result = check({
      hubs: { old: { hostName: 'old.azure-devices.net', drain: true } },
      rules: [
        { name: 'legacy', match: { enrollmentKind: 'group' }, hubs: ['old', 'OLD.azure-devices.net'] },
        { name: 'rest', hubs: ['old', 'new.azure-devices.net'] },
      ],
    });
    expect(notesOf(result)).toEqual([
      {
        level: 'info',
        path: '$.rules[0].hubs',
        message:
          "every hub rule 'legacy' names is draining: it assigns no new device (onNoCandidate: reject)",
      },
    ]);
  });

  it("warns that onDrainingHub 'keep' does nothing where devices are reallocated", () => {
    const onRule = check({
      rules: [{ name: 'r', reprovision: 'reallocate', onDrainingHub: 'keep' }],
    });
    expect(notesOf(onRule)).toEqual([
      expect.objectContaining({ level: 'warning', path: '$.rules[0].onDrainingHub' }),
    ]);
    const inDefaults = {
      defaults: { reprovision: 'reallocate', onDrainingHub: 'keep' },
      rules: [{ name: 'r' }],
    };
    expect(notesOf(check(inDefaults))).toEqual([
      expect.objectContaining({ level: 'warning', path: '$.defaults.onDrainingHub' }),
    ]);
    const oneSticky = { ...inDefaults, rules: [{ name: 'r', reprovision: 'sticky' }] };
    expect(notesOf(check(oneSticky))).toEqual([]);
  });
});

describe('check: certificate conditions and placeholders', () => {
  it('hints at the intended certificate field, part or placeholder', () => {
    const result = check({
      rules: [
        { name: 'a', match: { x509: { subjet: { O: 'Contoso' } } } },
        { name: 'b', match: { x509: { issuer: { CNN: 'CA' } } } },
        { name: 'c', match: { x509: { subject: { O: 5 } } } },
      ],
    });
    const byPath = Object.fromEntries(problemsOf(result).map((p) => [p.path, p.hint]));
    expect(byPath).toEqual({
      '$.rules[0].match.x509': expect.stringMatching(
        /^did you mean 'subject'\? \(allowed here: subject, issuer/,
      ),
      '$.rules[1].match.x509.issuer': "did you mean 'CN'? (allowed here: CN, O, OU, DN)",
      '$.rules[2].match.x509.subject.O': expect.stringMatching(
        /^expected a glob string, \{ "glob": "..." \}/,
      ),
    });
  });

  it('checks certificate regexes and placeholders once the shape is right', () => {
    const result = check({
      rules: [
        {
          name: 'a',
          match: { x509: { subject: { CN: { regex: '^sn-(\\d+$' } } } },
          initialTwin: { tags: { cn: '{{x509.subject.cn}}', serial: '{{x509.serial}}' } },
        },
      ],
    });
    expect(result.ok || result.stage).toBe('semantics');
    expect(problemsOf(result)).toEqual([
      expect.objectContaining({
        path: '$.rules[0].match.x509.subject.CN.regex',
        message: expect.stringContaining('invalid regular expression'),
      }),
      expect.objectContaining({
        path: '$.rules[0].initialTwin.tags.cn',
        hint: 'did you mean {{x509.subject.CN}}?',
      }),
      {
        path: '$.rules[0].initialTwin.tags.serial',
        message: expect.stringContaining('the certificate placeholders are x509.subject.CN, x509.subject.O'),
      },
    ]);
  });

  it('warns about a certificate rule for devices that have no certificate', () => {
    const result = check({
      rules: [
        {
          name: 'keys',
          match: { attestation: ['symmetricKey', 'tpm'], x509: { subject: { O: 'Contoso' } } },
        },
        { name: 'mixed', match: { attestation: ['symmetricKey', 'x509'], x509: {} } },
      ],
      fallback: { action: 'allocate' },
    });
    expect(notesOf(result)).toEqual([
      {
        level: 'warning',
        path: '$.rules[0].match',
        message:
          "rule 'keys' never matches: match.x509 needs an X.509 device, and match.attestation allows only symmetricKey, tpm",
      },
    ]);
  });

  it('notes that m is minutes', () => {
    const result = check({ rules: [{ name: 'soon', match: { x509: { notAfter: { within: '6m' } } } }] });
    expect(notesOf(result)).toEqual([
      {
        level: 'info',
        path: '$.rules[0].match.x509.notAfter.within',
        message: `'6m' is 6 minutes (m is minutes; write days or weeks, e.g. "30d", "8w")`,
      },
    ]);
  });

  it('notes certificate placeholders where devices without a certificate can arrive', () => {
    const tags = { owner: '{{x509.subject.O}}', cn: '{{ x509.subject.CN }}' };
    const result = check({
      rules: [
        { name: 'certified', match: { x509: {} }, initialTwin: { tags } },
        { name: 'anyone', match: { enrollmentKind: 'group' }, payload: { owner: 'O={{x509.subject.O}}' } },
      ],
      fallback: { action: 'allocate', initialTwin: { tags } },
    });
    expect(notesOf(result)).toEqual([
      expect.objectContaining({
        level: 'info',
        path: '$.rules[1]',
        message: expect.stringMatching(/^rule 'anyone' has no match\.x509: .* \{\{x509\.subject\.O\}\}/),
      }),
      expect.objectContaining({
        level: 'info',
        path: '$.fallback',
        message: expect.stringContaining('{{x509.subject.O}}, {{x509.subject.CN}}'),
      }),
    ]);
  });

  it('follows $defs references of the schema for hints', () => {
    // The string matchers are one definition in the JSON Schema, referenced from each field that takes one.
    const hint = hintFor(
      { path: '$.rules[0].match.x509.subject.O', message: "unknown field(s) 'regx'" },
      { rules: [{ name: 'a', match: { x509: { subject: { O: { regx: '^C' } } } } }] },
    );
    expect(hint).toMatch(/^did you mean 'regex'\?/);
  });
});
