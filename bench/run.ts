// `npm run bench [-- <module>...] [--quick] [--list]`: runs the benchmark modules in turn and prints their
// figures next to their goals. Goals are reported, never asserted: the exit code is non-zero only when a
// module could not run. To add a benchmark, write a module exporting a BenchModule and list it below.
import { allocationBench } from './allocation';
import { auditBench } from './audit';
import { decisionsBench } from './decisions';
import { clientReadBench } from './dps-client-read';
import { registrationsBench } from './dps-emulator-registrations';
import { x509MqttBench } from './dps-emulator-x509';
import { formatFigures, type BenchModule, type BenchOptions } from './figures';
import { hubLoadBench } from './hub-load';
import { machineInfo } from './machine';

const MODULES: readonly BenchModule[] = [
  allocationBench,
  registrationsBench,
  x509MqttBench,
  clientReadBench,
  auditBench,
  decisionsBench,
  hubLoadBench,
];

interface Arguments {
  names: string[];
  options: BenchOptions;
  list: boolean;
}

function parseArguments(argv: readonly string[]): Arguments {
  const names = argv.filter((arg) => !arg.startsWith('--'));
  const flags = argv.filter((arg) => arg.startsWith('--'));
  const unknown = flags.filter((flag) => flag !== '--quick' && flag !== '--list');
  if (unknown.length > 0) throw new UsageError(`unknown option(s): ${unknown.join(', ')}`);
  return { names, options: { quick: flags.includes('--quick') }, list: flags.includes('--list') };
}

class UsageError extends Error {}

function selectModules(names: readonly string[]): BenchModule[] {
  if (names.length === 0) return [...MODULES];
  const unknown = names.filter((name) => !MODULES.some((m) => m.name === name));
  if (unknown.length > 0) throw new UsageError(`unknown benchmark(s): ${unknown.join(', ')}`);
  return MODULES.filter((m) => names.includes(m.name));
}

function usage(): string {
  const width = Math.max(...MODULES.map((m) => m.name.length));
  return [
    'usage: npm run bench [-- <benchmark>...] [--quick] [--list]',
    'benchmarks:',
    ...MODULES.map((m) => `  ${m.name.padEnd(width)}  ${m.description}`),
  ].join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  let args: Arguments;
  let modules: BenchModule[];
  try {
    args = parseArguments(argv);
    modules = selectModules(args.names);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    console.error(`${error.message}\n${usage()}`);
    return 2;
  }
  if (args.list) {
    console.log(usage());
    return 0;
  }

  console.log(
    `dps-allocator benchmarks, ${new Date().toISOString()}${args.options.quick ? ' (--quick)' : ''}`,
  );
  for (const line of machineInfo()) console.log(`  ${line}`);
  let failures = 0;
  for (const module of modules) {
    console.log(`\n== ${module.name}: ${module.description}`);
    const started = performance.now();
    try {
      const figures = await module.run(args.options);
      for (const line of formatFigures(figures)) console.log(line);
      console.log(`(${((performance.now() - started) / 1000).toFixed(1)} s)`);
    } catch (error) {
      failures++;
      console.error(`benchmark '${module.name}' failed: ${(error as Error).stack ?? String(error)}`);
    }
  }
  return failures === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error);
    process.exitCode = 1;
  },
);
