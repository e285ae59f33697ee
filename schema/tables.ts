/**
 * The two DynamoDB tables' key layout, shared by the Pulumi GlobalTable component, the test setup and the
 * local emulator so all three create the same tables.
 */
export const HASH_KEY = 'id';
export const HASH_KEY_TYPE = 'S';
export const STREAM_VIEW_TYPE = 'NEW_AND_OLD_IMAGES';

export interface TableNames {
  items: string;
  appConfig: string;
}

/** Default physical names: `<project>-<stack>-items` (docs/architecture.md, "Stack config") and `<project>-<stack>-app-config`. */
export function defaultTableNames(project: string, stack: string): TableNames {
  return { items: `${project}-${stack}-items`, appConfig: `${project}-${stack}-app-config` };
}

/** App-config table name derived from the items table name (so a custom `tableName` keeps them paired). */
export function appConfigTableName(itemsTableName: string): string {
  return itemsTableName.endsWith('-items') ? `${itemsTableName.slice(0, -'-items'.length)}-app-config` : `${itemsTableName}-app-config`;
}
