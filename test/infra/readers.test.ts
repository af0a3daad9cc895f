// Pins what the text readers behind infra.test.ts see, and what they deliberately do not.
import { readBicep, stripComments } from './support/bicep-text';
import { readYamlSubset } from './support/yaml-subset';

describe('stripComments', () => {
  it('removes comments but keeps strings that look like comments, and keeps line breaks', () => {
    const source = [
      "var a = 'http://x' // trailing",
      '/* block',
      "   param hidden string */ var b = '${concat('/*', '//')}'",
      "var c = '''",
      '// inside a multi-line string',
      "'''",
      "var d = 'it\\'s // still a string'",
    ].join('\n');
    expect(stripComments(source)).toBe(
      [
        "var a = 'http://x' ",
        '',
        " var b = '${concat('/*', '//')}'",
        "var c = '''",
        '// inside a multi-line string',
        "'''",
        "var d = 'it\\'s // still a string'",
      ].join('\n'),
    );
  });

  it('refuses unterminated strings and comments rather than guessing', () => {
    expect(() => stripComments("var a = 'open")).toThrow(/unterminated/);
    expect(() => stripComments('/* open')).toThrow(/unterminated/);
    expect(() => stripComments("var a = '${f('x')")).toThrow(/unterminated/);
  });
});

describe('readBicep', () => {
  const file = readBicep(
    [
      '@description(\'A param; "param fake string" in a description is not a declaration\')',
      'param required string',
      "param withDefault string = 'a=b'",
      'param nullable string?',
      "param choice 'x' | 'y' = 'x'",
      '// param commented string',
      "output URL string = '${api.outputs.uri}/api/allocate' // note",
      "resource st 'Microsoft.Storage/storageAccounts@2023-05-01' existing = {",
      "  resource blob 'blobServices' = {",
      '  }',
      '}',
      "module api 'app/api.bicep' = {",
      '}',
      'var settings = [',
      '  {',
      '    // a comment between the brace and the name',
      "    name: 'MULTI_LINE'",
      "    value: 'v' // trailing comment",
      '  }',
      "  { name: 'ONE_LINE', value: '${x}' }",
      '  {',
      "    value: 'first'",
      "    name: 'VALUE_FIRST_IS_NOT_SEEN'",
      '  }',
      '  {',
      "    name: 'COMPUTED_${suffix}'",
      "    value: 'not seen'",
      '  }',
      ']',
      "var objectForm = { NOT_SEEN: 'x' }",
    ].join('\n'),
  );

  it('reads params, telling required ones from those with a default', () => {
    expect(file.params).toEqual([
      { name: 'required', type: 'string', hasDefault: false },
      { name: 'withDefault', type: 'string', hasDefault: true },
      { name: 'nullable', type: 'string?', hasDefault: true },
      { name: 'choice', type: "'x' | 'y'", hasDefault: true },
    ]);
  });

  it('reads outputs with their expression, resources (nested ones too) and modules', () => {
    expect(file.outputs).toEqual([
      { name: 'URL', type: 'string', expression: "'${api.outputs.uri}/api/allocate'" },
    ]);
    expect(file.resources).toEqual([
      { symbol: 'st', type: 'Microsoft.Storage/storageAccounts', apiVersion: '2023-05-01', existing: true },
      { symbol: 'blob', type: 'blobServices', apiVersion: undefined, existing: false },
    ]);
    expect(file.modules).toEqual([{ symbol: 'api', path: 'app/api.bicep' }]);
  });

  it('reads name/value app settings with a literal name first, and nothing else', () => {
    expect(file.appSettings).toEqual([
      { name: 'MULTI_LINE', value: "'v'" },
      { name: 'ONE_LINE', value: "'${x}'" },
    ]);
  });
});

describe('readYamlSubset', () => {
  it('reads nested mappings of plain and quoted scalars, ignoring comments', () => {
    const yaml = [
      '# yaml-language-server: $schema=https://example.invalid/schema.json',
      'name: app # trailing comment',
      'services:',
      '  api:',
      '    host: function',
      "    quoted: 'it''s # not a comment'",
      '    double: "a\\tb"',
      '  empty:',
      'hooks:',
      '  run: ./x.sh',
    ].join('\n');
    expect(readYamlSubset(yaml)).toEqual({
      name: 'app',
      services: { api: { host: 'function', quoted: "it's # not a comment", double: 'a\tb' }, empty: {} },
      hooks: { run: './x.sh' },
    });
  });

  it('throws on YAML outside the subset instead of misreading it', () => {
    expect(() => readYamlSubset('list:\n  - a')).toThrow(/line 2/);
    expect(() => readYamlSubset('flow: { a: 1 }')).toThrow(/outside the YAML subset/);
    expect(() => readYamlSubset('a:\n    b: 1\n  c: 2')).toThrow(/indentation/);
    expect(() => readYamlSubset('a: 1\na: 2')).toThrow(/duplicate key a/);
  });
});
