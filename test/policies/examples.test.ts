// The example policies are documentation: each one passes `policy check` with no warning, and the README links it.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { checkPolicyText } from '../../src/cli/policy/check';

const EXAMPLES = path.join(__dirname, '..', '..', 'policies', 'examples');
const examples = readdirSync(EXAMPLES).filter((file) => file.endsWith('.json'));
const readme = readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

it('there are examples', () => {
  expect(examples.length).toBeGreaterThan(0);
});

describe.each(examples)('policies/examples/%s', (file) => {
  const text = readFileSync(path.join(EXAMPLES, file), 'utf8');

  it('passes policy check without warnings', () => {
    const result = checkPolicyText(text, file);
    expect(result).toMatchObject({ ok: true, notes: [] });
  });

  it('points editors at the schema and says what it does', () => {
    expect(JSON.parse(text)).toMatchObject({
      $schema: '../policy.schema.json',
      description: expect.any(String),
    });
  });

  it('is linked from the README', () => {
    expect(readme).toContain(`(policies/examples/${file})`);
  });
});
