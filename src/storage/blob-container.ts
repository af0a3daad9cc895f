// A blob container in the app's storage account (the one of the audit tables, storage/connection.ts): with the
// connection string, or with the managed identity at AzureWebJobsStorage__blobServiceUri (else the account's
// default blob endpoint), the platform settings the Functions host itself uses for blobs
// (learn.microsoft.com/azure/azure-functions/functions-reference#connecting-to-host-storage-with-an-identity).
import { BlobServiceClient, type ContainerClient } from '@azure/storage-blob';
import { sharedCredential } from './table-client';
import type { StorageConnection } from './connection';

/** The blob service URI of an identity connection: the explicit setting, else derived from the table one. */
function blobServiceUri(tableServiceUri: string, env: NodeJS.ProcessEnv): string {
  const explicit = env.AzureWebJobsStorage__blobServiceUri?.trim();
  if (explicit) return explicit;
  const accountName = env.AzureWebJobsStorage__accountName?.trim();
  if (accountName) return `https://${accountName}.blob.core.windows.net`;
  return tableServiceUri.replace('.table.', '.blob.');
}

export function createBlobContainerClient(
  connection: StorageConnection,
  containerName: string,
  env: NodeJS.ProcessEnv = process.env,
): ContainerClient {
  if (connection.kind === 'connectionString') {
    return BlobServiceClient.fromConnectionString(connection.connectionString).getContainerClient(
      containerName,
    );
  }
  const credential = sharedCredential(connection);
  return new BlobServiceClient(
    blobServiceUri(connection.tableServiceUri, env),
    credential,
  ).getContainerClient(containerName);
}
