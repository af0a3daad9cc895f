// Azurite ships no typings for the deep imports that start its Table and Blob services in-process:
// `require('azurite')` is the VS Code extension, so dev/azurite.ts imports these classes directly.
declare module 'azurite/dist/src/table/TableConfiguration' {
  export default class TableConfiguration {
    constructor(
      host?: string,
      port?: number,
      keepAliveTimeout?: number,
      metadataDBPath?: string,
      enableDebugLog?: boolean,
      enableAccessLog?: boolean,
      accessLogWriteStream?: NodeJS.WritableStream,
      debugLogFilePath?: string,
      loose?: boolean,
      skipApiVersionCheck?: boolean,
      cert?: string,
      key?: string,
      pwd?: string,
      oauth?: string,
      disableProductStyleUrl?: boolean,
      isMemoryPersistence?: boolean,
    );
  }
}

declare module 'azurite/dist/src/table/TableServer' {
  import type TableConfiguration from 'azurite/dist/src/table/TableConfiguration';

  export default class TableServer {
    constructor(configuration?: TableConfiguration);
    start(): Promise<void>;
    /** Stops listening and closes the LokiJS database (an on-disk one is saved first). */
    close(): Promise<void>;
    /** After close(): deletes the database file. */
    clean(): Promise<void>;
    /** `http://127.0.0.1:PORT` once started. */
    getHttpServerAddress(): string;
  }
}

declare module 'azurite/dist/src/blob/BlobConfiguration' {
  export default class BlobConfiguration {
    constructor(
      host?: string,
      port?: number,
      keepAliveTimeout?: number,
      metadataDBPath?: string,
      extentDBPath?: string,
      persistencePathArray?: { locationId: string; locationPath: string; maxConcurrency: number }[],
      enableAccessLog?: boolean,
      accessLogWriteStream?: NodeJS.WritableStream,
      enableDebugLog?: boolean,
      debugLogFilePath?: string,
      loose?: boolean,
      skipApiVersionCheck?: boolean,
      cert?: string,
      key?: string,
      pwd?: string,
      oauth?: string,
      disableProductStyleUrl?: boolean,
      isMemoryPersistence?: boolean,
    );
  }
}

declare module 'azurite/dist/src/blob/BlobServer' {
  import type BlobConfiguration from 'azurite/dist/src/blob/BlobConfiguration';

  export default class BlobServer {
    constructor(configuration?: BlobConfiguration);
    start(): Promise<void>;
    close(): Promise<void>;
    /** `http://127.0.0.1:PORT` once started. */
    getHttpServerAddress(): string;
  }
}
