// The optional data file: id scope, policy keys, linked hubs, the whole store and the hubs' registries, written
// atomically (temp file + rename) a moment after changes and on stop, and read back on the next start. Files
// written before the hubs were emulated have no `hubs`: their hubs start empty.
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { SERVICE_RIGHTS } from './auth';
import type { SharedAccessPolicy } from './auth';
import type { HubSnapshot } from '../iot-hub-emulator';
import type { LinkedHub } from './allocation';
import type { StoreSnapshot } from './store';

export const STATE_FILE_FORMAT = 'dps-emulator-state/1';

export interface EmulatorStateFile {
  format: typeof STATE_FILE_FORMAT;
  idScope: string;
  policies: SharedAccessPolicy[];
  linkedHubs: LinkedHub[];
  store: StoreSnapshot;
  hubs?: HubSnapshot[];
}

const timedRecord = { createdMs: z.number(), updatedMs: z.number(), sequence: z.number().int() };

const stateFileSchema = z.object({
  format: z.literal(STATE_FILE_FORMAT),
  idScope: z.string().min(1),
  policies: z.array(
    z.object({
      keyName: z.string().min(1),
      primaryKey: z.string().min(1),
      secondaryKey: z.string().optional(),
      rights: z.array(z.enum(SERVICE_RIGHTS)),
    }),
  ),
  linkedHubs: z.array(
    z.object({
      hostName: z.string().min(1),
      allocationWeight: z.number().optional(),
      applyAllocationPolicy: z.boolean().optional(),
    }),
  ),
  store: z.object({
    sequence: z.number().int(),
    groups: z.array(
      z.looseObject({ value: z.looseObject({ enrollmentGroupId: z.string() }), ...timedRecord }),
    ),
    individuals: z.array(
      z.looseObject({ value: z.looseObject({ registrationId: z.string() }), ...timedRecord }),
    ),
    registrations: z.array(z.looseObject({ registrationId: z.string(), status: z.string(), ...timedRecord })),
  }),
  hubs: z
    .array(
      z.object({
        hostName: z.string().min(1),
        policies: z.array(z.object({ keyName: z.string().min(1), primaryKey: z.string().min(1) })),
        registry: z.object({
          sequence: z.number().int(),
          keySeed: z.string().min(1),
          devices: z.array(
            z.looseObject({
              deviceId: z.string().min(1),
              createdMs: z.number(),
              createdSequence: z.number().int(),
            }),
          ),
        }),
      }),
    )
    .optional(),
});

/** The saved state, or undefined when the file does not exist yet; a damaged file is a clear error. */
export async function readStateFile(filePath: string): Promise<EmulatorStateFile | undefined> {
  let text: string;
  try {
    text = await readFile(filePath, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new Error(`DPS emulator data file ${filePath} is not valid JSON`);
  }
  const parsed = stateFileSchema.safeParse(json);
  if (!parsed.success) {
    throw new Error(
      `DPS emulator data file ${filePath} is not a saved emulator state: ${z.prettifyError(parsed.error)}`,
    );
  }
  return parsed.data as unknown as EmulatorStateFile;
}

export async function writeStateFile(filePath: string, state: EmulatorStateFile): Promise<void> {
  await mkdir(path.dirname(filePath), { recursive: true });
  const temporary = `${filePath}.${process.pid}.tmp`;
  await writeFile(temporary, JSON.stringify(state), { mode: 0o600 });
  await rename(temporary, filePath);
}

/** Saves a moment after the last change, one save at a time; `flush` saves now if anything is pending. */
export class DebouncedSaver {
  private timer: NodeJS.Timeout | undefined;
  private dirty = false;
  private saving: Promise<void> = Promise.resolve();

  constructor(
    private readonly save: () => Promise<void>,
    private readonly delayMs: number,
    private readonly onError: (error: Error) => void,
  ) {}

  schedule(): void {
    this.dirty = true;
    if (this.timer) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.delayMs);
    this.timer.unref();
  }

  async flush(): Promise<void> {
    if (this.timer) {
      clearTimeout(this.timer);
      this.timer = undefined;
    }
    this.saving = this.saving.then(async () => {
      if (!this.dirty) return;
      this.dirty = false;
      try {
        await this.save();
      } catch (error) {
        this.onError(error as Error);
      }
    });
    await this.saving;
  }
}
