// Reads the small YAML subset azure.yaml uses: nested block mappings of plain or quoted scalars, and comments.
// Anything else (sequences, flow collections, anchors, tags, block scalars, tabs) throws, so a test never guesses.
// (The project has no YAML library among its dependencies; see readers.test.ts for what this accepts.)

export interface YamlMap {
  [key: string]: string | YamlMap;
}

/** The line without its comment: `#` at the start or after whitespace, outside quotes. */
function withoutComment(line: string): string {
  let quote: string | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === "'" || char === '"') quote = char;
    else if (char === '#' && (i === 0 || /\s/.test(line[i - 1]!))) return line.slice(0, i);
  }
  return line;
}

function scalar(text: string, where: string): string {
  if (/^'.*'$/.test(text)) return text.slice(1, -1).replace(/''/g, "'");
  if (/^".*"$/.test(text)) return JSON.parse(text) as string;
  if (/^[[\]{}&*!|>%@`'"-]/.test(text)) throw new Error(`${where}: value outside the YAML subset: ${text}`);
  return text;
}

export function readYamlSubset(text: string): YamlMap {
  const root: YamlMap = {};
  const frames: Array<{ indent: number; map: YamlMap }> = [{ indent: 0, map: root }];
  let opened: { map: YamlMap; indent: number } | undefined;
  text.split(/\r?\n/).forEach((raw, index) => {
    const where = `line ${index + 1}`;
    if (raw.includes('\t')) throw new Error(`${where}: tabs are outside the YAML subset`);
    const line = withoutComment(raw).trimEnd();
    if (line.trim() === '') return;
    const indent = line.length - line.trimStart().length;
    if (opened && indent > opened.indent) frames.push({ indent, map: opened.map });
    opened = undefined;
    while (frames.length > 1 && frames[frames.length - 1]!.indent > indent) frames.pop();
    const frame = frames[frames.length - 1]!;
    if (frame.indent !== indent) throw new Error(`${where}: indentation does not match an enclosing mapping`);
    const entry = /^([A-Za-z0-9_.-]+):(?:\s+(.*))?$/.exec(line.trimStart());
    if (!entry) throw new Error(`${where}: not a "key: value" line of the YAML subset: ${raw.trim()}`);
    const [, key, value] = entry as unknown as [string, string, string | undefined];
    if (key in frame.map) throw new Error(`${where}: duplicate key ${key}`);
    if (value === undefined || value === '') {
      const child: YamlMap = {};
      frame.map[key] = child;
      opened = { map: child, indent };
    } else frame.map[key] = scalar(value, where);
  });
  return root;
}
