// Azurite ships no typings for the deep imports that start its Table service in-process (setup-notes §2):
// `require('azurite')` is the VS Code extension, so dev/azurite.ts imports these two classes directly.
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
