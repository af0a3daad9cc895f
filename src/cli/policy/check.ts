// `policy check`: validates a policy file the way the function does at start-up, with hints and warnings.
import { compilePolicy } from '../../allocation/engine';
import { parsePolicyText, PolicyError, type PolicyProblem } from '../../allocation/policy';
import { policySchema } from '../../allocation/policy-schema';
import { hintFor } from './check-hints';
import { policyWarnings, type PolicyNote } from './policy-warnings';

export interface CheckProblem extends PolicyProblem {
  hint?: string;
}

export type CheckResult =
  | { ok: true; source: string; rules: number; hubs: number; notes: PolicyNote[] }
  | {
      ok: false;
      source: string;
      /** json: not JSON; shape: fields and types; semantics: aliases, regexes, placeholders, names, twin limits. */
      stage: 'json' | 'shape' | 'semantics';
      problems: CheckProblem[];
    };

export function checkPolicyText(text: string, source: string): CheckResult {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch {
    raw = undefined;
  }
  try {
    const policy = parsePolicyText(text, source);
    compilePolicy(policy);
    return {
      ok: true,
      source,
      rules: policy.rules.length,
      hubs: Object.keys(policy.hubs).length,
      notes: policyWarnings(policy),
    };
  } catch (error) {
    const problems: PolicyProblem[] =
      error instanceof PolicyError
        ? error.problems
        : [{ path: '$', message: `the engine cannot compile this policy: ${(error as Error).message}` }];
    return {
      ok: false,
      source,
      stage: raw === undefined ? 'json' : policySchema.safeParse(raw).success ? 'semantics' : 'shape',
      problems: problems.map((problem) => {
        const hint = hintFor(problem, raw);
        return hint === undefined ? problem : { ...problem, hint };
      }),
    };
  }
}

export function renderCheck(result: CheckResult): string {
  if (result.ok) {
    const lines = [`OK: ${plural(result.rules, 'rule')}, ${plural(result.hubs, 'hub')}`];
    for (const note of result.notes) lines.push(`${note.level}: ${note.path}: ${note.message}`);
    return lines.join('\n');
  }
  const lines: string[] = [];
  for (const problem of result.problems) {
    lines.push(`${problem.path}: ${problem.message}`);
    if (problem.hint) lines.push(`  hint: ${problem.hint}`);
  }
  lines.push(`${plural(result.problems.length, 'problem')} in ${result.source}`);
  if (result.stage === 'shape') {
    lines.push(
      '(hub aliases, regular expressions, placeholders and rule names are checked once these are fixed)',
    );
  }
  return lines.join('\n');
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}
