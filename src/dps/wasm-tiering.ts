// undici parses HTTP/1.1 with llhttp compiled to WebAssembly. V8 compiles it with Liftoff, then recompiles its hot
// parser functions with TurboFan, whose compile memory the C allocator keeps for the life of a Functions worker.
// Liftoff code parses the DPS client's few responses per second at no measurable cost. The figures are in the
// README's benchmark section (audit memory).
import { setFlagsFromString } from 'node:v8';

let applied = false;

/**
 * Keeps WebAssembly on V8's baseline compiler. Call before undici's first connection (it compiles llhttp then);
 * it applies to every WebAssembly module compiled afterwards in this process, and the deployed app has no other.
 */
export function keepWebAssemblyOnBaselineCompiler(): void {
  if (applied) return;
  applied = true;
  setFlagsFromString('--liftoff-only');
}
