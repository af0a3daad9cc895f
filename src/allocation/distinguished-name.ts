// X.500 distinguished names as text (`CN=device-1, OU=Line 4, O=Contoso`), read for attribute lookup. How DPS
// writes them is UNCONFIRMED (docs/dps-contract.md §1.2), so the reader takes any order, `,` `;` `+` or newline
// separators, RFC 4514 escapes (`\,`, `\2C`), quoted values (`O="Contoso, Ltd"`) and OpenSSL's `/C=US/O=x` form.
// It never throws: text it cannot read yields no attributes, and the whole name stays available as written.

export interface DistinguishedName {
  /** The name as sent, trimmed. */
  text: string;
  /** Attribute (upper case: CN, O, OU, C, ...) -> its values, in the order the name lists them. */
  attributes: ReadonlyMap<string, readonly string[]>;
}

/** Short names of the attribute types certificates use, for names written with OIDs (`2.5.4.3=device-1`). */
const ATTRIBUTE_OIDS: Readonly<Record<string, string>> = {
  '2.5.4.3': 'CN',
  '2.5.4.6': 'C',
  '2.5.4.7': 'L',
  '2.5.4.8': 'ST',
  '2.5.4.10': 'O',
  '2.5.4.11': 'OU',
  '1.2.840.113549.1.9.1': 'E',
};
/** Other spellings of the same attribute types (.NET writes S for ST; OpenSSL emailAddress for E). */
const ATTRIBUTE_ALIASES: Readonly<Record<string, string>> = { S: 'ST', EMAILADDRESS: 'E' };

const ATTRIBUTE_TYPE = /^(?:[A-Za-z][A-Za-z0-9-]*|(?:OID\.)?\d+(?:\.\d+)*)$/i;

/** Reads `text` as a distinguished name; undefined when it is not a non-empty string. */
export function parseDistinguishedName(text: unknown): DistinguishedName | undefined {
  if (typeof text !== 'string') return undefined;
  const trimmed = text.trim();
  if (trimmed === '') return undefined;
  const attributes = new Map<string, string[]>();
  for (const [type, value] of attributePairs(trimmed)) {
    const values = attributes.get(type);
    if (values) values.push(value);
    else attributes.set(type, [value]);
  }
  return { text: trimmed, attributes };
}

/** The values of one attribute (`CN`, `O`, ...; case-insensitive); empty when the name has none. */
export function attributeValues(name: DistinguishedName | undefined, type: string): readonly string[] {
  return name?.attributes.get(type.toUpperCase()) ?? [];
}

function attributePairs(text: string): [string, string][] {
  const openSsl = /^\/[A-Za-z0-9.]+=/.test(text);
  const separators = openSsl ? '/' : ',;+\n\r';
  const pairs: [string, string][] = [];
  for (const piece of splitUnescaped(openSsl ? text.slice(1) : text, separators)) {
    const equals = piece.raw.indexOf('=');
    const type = equals > 0 ? attributeType(piece.raw.slice(0, equals)) : undefined;
    if (type === undefined) {
      // `O=Contoso, Ltd, CN=x`: a piece without a type continues the value before it.
      // An empty piece is a doubled separator (a blank line), except in `CN=C++ Team`.
      const last = pairs.at(-1);
      const blank = piece.raw.trim() === '' && !piece.separator.startsWith('+');
      if (last && !blank) last[1] = `${last[1]}${piece.separator}${unescapeValue(piece.raw)}`;
      continue;
    }
    pairs.push([type, unescapeValue(piece.raw.slice(equals + 1))]);
  }
  return pairs;
}

function attributeType(raw: string): string | undefined {
  const type = raw.trim();
  if (!ATTRIBUTE_TYPE.test(type)) return undefined;
  const upper = type.toUpperCase().replace(/^OID\./, '');
  return ATTRIBUTE_OIDS[upper] ?? ATTRIBUTE_ALIASES[upper] ?? upper;
}

interface Piece {
  raw: string;
  /** The separator written before this piece, with the space after it (`, `). */
  separator: string;
}

/** Splits at separators outside quotes and not escaped with a backslash. */
function splitUnescaped(text: string, separators: string): Piece[] {
  const pieces: Piece[] = [];
  let start = 0;
  let separator = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === '\\') i++;
    else if (ch === '"') quoted = !quoted;
    else if (!quoted && separators.includes(ch)) {
      pieces.push({ raw: text.slice(start, i), separator });
      separator = ch === '\n' || ch === '\r' ? ', ' : `${ch}${text[i + 1] === ' ' ? ' ' : ''}`;
      start = i + 1;
    }
  }
  pieces.push({ raw: text.slice(start), separator });
  return pieces;
}

/** A value without its quotes and escapes: `"Contoso, Ltd"`, `Contoso\, Ltd` and `Contoso\2C Ltd` all read the same. */
function unescapeValue(raw: string): string {
  const value = raw.trim();
  const quoted = value.length >= 2 && value.startsWith('"') && value.endsWith('"');
  const body = quoted ? value.slice(1, -1).replace(/""/g, '"') : value;
  const bytes: number[] = [];
  let out = '';
  const flush = () => {
    if (bytes.length > 0) out += Buffer.from(bytes).toString('utf8');
    bytes.length = 0;
  };
  for (let i = 0; i < body.length; i++) {
    const ch = body[i]!;
    if (ch === '\\' && i + 1 < body.length) {
      const hex = body.slice(i + 1, i + 3);
      if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
        bytes.push(parseInt(hex, 16));
        i += 2;
        continue;
      }
      flush();
      out += body[i + 1];
      i++;
      continue;
    }
    flush();
    out += ch;
  }
  flush();
  return out;
}
