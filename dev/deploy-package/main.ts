// `npm run package:azure` (run by azd before it zips the api service): stages the deployment package in .deploy.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { stageDeployPackage, type StagedPackage } from './stage';

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

export function describeStagedPackage(staged: StagedPackage, cwd = process.cwd()): string {
  const where = path.relative(cwd, staged.outDir) || '.';
  return [
    `Deployment package staged in ${where}:`,
    `  app           ${staged.appFiles} files, ${megabytes(staged.appBytes)} (host.json, package.json, policies/, dist/src/)`,
    `  node_modules  ${staged.packages.length} top-level packages, ${staged.nodeModulesFiles} files, ` +
      `${megabytes(staged.nodeModulesBytes)} (production dependencies only)`,
  ].join('\n');
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { out: { type: 'string' } } });
  const projectRoot = path.resolve(__dirname, '../../..');
  const staged = await stageDeployPackage({
    projectRoot,
    outDir: values.out ? path.resolve(values.out) : undefined,
  });
  console.log(describeStagedPackage(staged));
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`package:azure failed: ${(error as Error).message}`);
    process.exit(1);
  });
}
