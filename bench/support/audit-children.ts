// The child processes of the audit benchmark, parent side: Azurite (bench/support/azurite-child.ts) and the two
// scanners (bench/support/scanner-protocol.ts). Paths come from this file's own folder, so a build into any output
// folder runs the children of that same build. Every child started here must be given to stopBenchChild.
import path from 'node:path';
import type { AzuriteReady } from './azurite-child';
import { startBenchChild, type BenchChild } from './child-process';
import type { ScannerReady, ScanFailure, ScanReport, ScanRequest } from './scanner-protocol';

/** Starts Azurite's Table service (in memory, an ephemeral 127.0.0.1 port) in a child process. */
export function startAzuriteChild(): Promise<BenchChild<AzuriteReady>> {
  return startBenchChild<AzuriteReady>('Azurite', path.join(__dirname, 'azurite-child.js'), [], process.env);
}

export type ScannerKind = 'audit' | 'sdk';

const SCRIPTS: Record<ScannerKind, string> = {
  audit: 'audit-scanner-child.js',
  sdk: 'sdk-scanner-child.js',
};

/**
 * Forks a scanner. With BENCH_AUDIT_CPU_PROF=<dir> in the environment it writes a V8 CPU profile of each scan
 * there (see serveScans), for finding where its time goes.
 */
export function startScannerChild(kind: ScannerKind, label: string): Promise<BenchChild<ScannerReady>> {
  return startBenchChild<ScannerReady>(label, path.join(__dirname, SCRIPTS[kind]), [kind], process.env);
}

/** Sends one scan request and waits for its report; rejects on a failure, exit or timeout. */
export function requestScan(
  child: BenchChild<ScannerReady>,
  request: ScanRequest,
  timeoutMs: number,
): Promise<ScanReport> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      cleanUp();
      reject(new Error(`the ${child.label} did not finish its scan within ${timeoutMs / 1000} s`));
    }, timeoutMs);
    const onMessage = (message: ScanReport | ScanFailure): void => {
      if (message.type !== 'scanned' && message.type !== 'scan-failed') return;
      cleanUp();
      if (message.type === 'scanned') resolve(message);
      else reject(new Error(`the ${child.label} failed: ${message.message}`));
    };
    const onExit = (code: number | null, signal: string | null): void => {
      cleanUp();
      reject(new Error(`the ${child.label} exited (${signal ?? `code ${code}`}) during its scan`));
    };
    const cleanUp = (): void => {
      clearTimeout(timer);
      child.process.off('message', onMessage);
      child.process.off('exit', onExit);
    };
    child.process.on('message', onMessage);
    child.process.once('exit', onExit);
    child.process.send(request, (error) => {
      if (!error) return;
      cleanUp();
      reject(new Error(`could not send the scan request to the ${child.label}: ${error.message}`));
    });
  });
}
