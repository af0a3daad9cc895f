import fc from 'fast-check';
import { attributeValues, parseDistinguishedName } from '../../src/allocation/distinguished-name';
import { distinguishedName, parseCertificate } from '../../dev/dps-emulator/x509-info';
import { createSelfSignedDeviceCertificate } from '../support/certificates';

fc.configureGlobal({ seed: 0x0d95a111, numRuns: 300 });

const valuesOf = (text: string, type: string) => attributeValues(parseDistinguishedName(text), type);

describe('names of generated certificates, as the DPS emulator writes them', () => {
  let subjectName: string;
  let nodeSubject: string;
  beforeAll(async () => {
    const device = await createSelfSignedDeviceCertificate({
      subject: 'CN=device-1, OU=Line 4, OU=Plant 2, O="Contoso, Ltd", C=DE',
    });
    const certificate = parseCertificate(device.certPem);
    nodeSubject = certificate.subject;
    subjectName = distinguishedName(certificate.subject);
  });

  it('reads every attribute, a quoted value with a comma included', () => {
    expect(valuesOf(subjectName, 'CN')).toEqual(['device-1']);
    expect(valuesOf(subjectName, 'O')).toEqual(['Contoso, Ltd']);
    expect(valuesOf(subjectName, 'C')).toEqual(['DE']);
    expect([...valuesOf(subjectName, 'OU')].sort()).toEqual(['Line 4', 'Plant 2']);
  });

  it("reads Node's one-attribute-a-line form the same way (in its order)", () => {
    expect(nodeSubject).toContain('\n');
    for (const type of ['CN', 'O', 'OU', 'C']) {
      expect([...valuesOf(nodeSubject, type)].sort()).toEqual([...valuesOf(subjectName, type)].sort());
    }
  });
});

describe('forms DPS might use', () => {
  it.each([
    ['most specific first', 'CN=device-1, OU=Line 4, O=Contoso'],
    ['least specific first, no spaces', 'O=Contoso,OU=Line 4,CN=device-1'],
    ['semicolons', 'CN=device-1; OU=Line 4; O=Contoso'],
    ['newlines', 'O=Contoso\r\nOU=Line 4\r\nCN=device-1\n'],
    ['OpenSSL', '/O=Contoso/OU=Line 4/CN=device-1'],
    ['OIDs', '2.5.4.3=device-1, OID.2.5.4.11=Line 4, 2.5.4.10=Contoso'],
    ['lower-case types', 'cn=device-1, ou=Line 4, o=Contoso'],
    ['a multi-valued RDN', 'CN=device-1+OU=Line 4, O=Contoso'],
  ])('%s', (_form, text) => {
    expect(valuesOf(text, 'CN')).toEqual(['device-1']);
    expect(valuesOf(text, 'OU')).toEqual(['Line 4']);
    expect(valuesOf(text, 'o')).toEqual(['Contoso']);
  });

  it('unescapes RFC 4514 escapes, hex pairs as UTF-8, and doubled quotes inside quotes', () => {
    expect(valuesOf('O=Contoso\\, Ltd, CN=a', 'O')).toEqual(['Contoso, Ltd']);
    expect(valuesOf('O=M\\C3\\BCller\\2C Ltd, CN=a', 'O')).toEqual(['Müller, Ltd']);
    expect(valuesOf('O="Say ""hi""", CN=a', 'O')).toEqual(['Say "hi"']);
    expect(valuesOf('O="Contoso\\, Ltd", CN=a', 'O')).toEqual(['Contoso, Ltd']);
    expect(valuesOf('CN=C++ Team, O=x', 'CN')).toEqual(['C++ Team']);
  });

  it('keeps an unquoted comma inside a value rather than losing the rest', () => {
    expect(valuesOf('O=Contoso, Ltd, CN=device-1', 'O')).toEqual(['Contoso, Ltd']);
    expect(valuesOf('O=Contoso, Ltd, CN=device-1', 'CN')).toEqual(['device-1']);
  });

  it('gives no attributes for text that is not a name, and nothing for what is not text', () => {
    expect(parseDistinguishedName('device-1')).toEqual({ text: 'device-1', attributes: new Map() });
    expect(parseDistinguishedName('  ')).toBeUndefined();
    expect(parseDistinguishedName(42)).toBeUndefined();
    expect(parseDistinguishedName(null)).toBeUndefined();
    expect(valuesOf('=x, CN', 'CN')).toEqual([]);
  });
});

// Attribute values with the characters names escape, written in the forms above: the reader must give back exactly
// the values that went in, whatever the order and the form.
const VALUE_CHARACTERS = [...'abcXYZ019 -_.,+"\\=;#<>/é€'];
const valueArb = fc
  .string({ unit: fc.constantFrom(...VALUE_CHARACTERS), minLength: 1, maxLength: 12 })
  .map((v) => v.trim())
  .filter((v) => v.length > 0);
const attributesArb = fc.array(fc.tuple(fc.constantFrom('CN', 'O', 'OU', 'C', 'L'), valueArb), {
  minLength: 1,
  maxLength: 6,
});

type Writer = (attributes: [string, string][]) => string;
const rfc4514 = (value: string) => value.replace(/[,+"\\<>;=/]/g, (ch) => `\\${ch}`).replace(/^#/, '\\#');
const WRITERS: Record<string, Writer> = {
  'RFC 4514, most specific first': (a) => a.map(([t, v]) => `${t}=${rfc4514(v)}`).join(', '),
  'RFC 4514, hex escapes, no spaces': (a) =>
    a
      .map(
        ([t, v]) => `${t}=${[...v].map((ch) => (/[,+"\\<>;=/#é€]/.test(ch) ? hexEscape(ch) : ch)).join('')}`,
      )
      .join(','),
  // Quotes as .NET writes them (a quote doubled); a backslash inside is an escape, as RFC 2253 has it.
  quoted: (a) =>
    a
      .map(([t, v]) => {
        const special = /[,+"\\<>;=/#]/.test(v);
        return `${t}=${special ? `"${v.replace(/\\/g, '\\\\').replace(/"/g, '""')}"` : v}`;
      })
      .join(', '),
  'one a line': (a) => a.map(([t, v]) => `${t}=${rfc4514(v)}`).join('\n'),
  OpenSSL: (a) => a.map(([t, v]) => `/${t}=${rfc4514(v)}`).join(''),
};

function hexEscape(ch: string): string {
  return [...Buffer.from(ch, 'utf8')].map((byte) => `\\${byte.toString(16).padStart(2, '0')}`).join('');
}

describe('properties', () => {
  it('every attribute value written in any form and order is read back exactly', () => {
    fc.assert(
      fc.property(
        attributesArb,
        fc.constantFrom(...Object.keys(WRITERS)),
        fc.boolean(),
        (attributes, form, reverse) => {
          const ordered = reverse ? [...attributes].reverse() : attributes;
          const name = parseDistinguishedName(WRITERS[form]!(ordered));
          for (const type of new Set(attributes.map(([t]) => t))) {
            const expected = ordered.filter(([t]) => t === type).map(([, v]) => v);
            expect({ form, type, values: attributeValues(name, type) }).toEqual({
              form,
              type,
              values: expected,
            });
          }
        },
      ),
    );
  });

  it('never throws, whatever the text', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: fc.constantFrom(...'CNO=,+;"\\\n/ #a2.') })),
        (text) => {
          const name = parseDistinguishedName(text);
          if (text.trim() === '') expect(name).toBeUndefined();
          else expect(name?.text).toBe(text.trim());
        },
      ),
    );
  });
});
