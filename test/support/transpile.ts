import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

/**
 * Transpiles the .ts files of `folders` (relative to `repoRoot`) into `<outRoot>/dist/<folder>/...js`, as
 * `npm run build` lays them out, without type checking: fast enough for a test that runs compiled code in plain node.
 */
export function transpileInto(repoRoot: string, folders: readonly string[], outRoot: string): void {
  const sources = folders.flatMap((folder) =>
    fs
      .readdirSync(path.join(repoRoot, folder), { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && !file.endsWith('.d.ts'))
      .map((file) => path.join(repoRoot, folder, file)),
  );
  for (const source of sources) {
    const { outputText } = ts.transpileModule(fs.readFileSync(source, 'utf8'), {
      compilerOptions: {
        module: ts.ModuleKind.CommonJS,
        target: ts.ScriptTarget.ES2022,
        esModuleInterop: true,
      },
      fileName: source,
    });
    const target = path.join(outRoot, 'dist', path.relative(repoRoot, source)).replace(/\.ts$/, '.js');
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, outputText);
  }
}
