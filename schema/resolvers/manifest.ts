/**
 * Which resolver runs on which field, with which data source: the one list that the RegionalApi component
 * deploys and the resolver tests (and the local emulator) execute. Files are schema/resolvers/<file>.ts.
 *
 * Data sources per region (docs/architecture.md, "Per-region picture"):
 * - localItems:   the items table's replica in the region serving the request
 * - primaryItems: the items table's replica in the primary region (read local, write global)
 * - appConfig:    the app-config table's local replica (app state, drain flags)
 * - primaryAppConfig: the app-config table's replica in the primary region (writeMode primary: the app state of
 *                 the replica written to)
 * - none:         NONE data source (local resolver, used by publishItemChange)
 */
export type DataSourceKey = 'localItems' | 'primaryItems' | 'appConfig' | 'primaryAppConfig' | 'none';

/** A pipeline function: code file + data source. The same file may back two functions (local / primary). */
export interface FunctionSpec {
  file: string;
  dataSource: DataSourceKey;
}

export interface UnitResolverSpec {
  kind: 'unit';
  typeName: 'Query' | 'Mutation';
  fieldName: string;
  file: string;
  dataSource: DataSourceKey;
}

export interface PipelineResolverSpec {
  kind: 'pipeline';
  typeName: 'Query' | 'Mutation';
  fieldName: string;
  /** before/after handlers of the pipeline resolver itself */
  file: string;
  functions: string[];
}

export type ResolverSpec = UnitResolverSpec | PipelineResolverSpec;

/**
 * Pipeline functions by name (the name is what PipelineResolverSpec.functions lists; also a fine AppSync function
 * name). The local and primary write functions are separate files because code cannot see its data source.
 */
export const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {
  writeGuard: { file: 'writeGuard', dataSource: 'appConfig' },
  targetGuard: { file: 'targetGuard', dataSource: 'primaryAppConfig' },
  loadItemLocal: { file: 'loadItemLocal', dataSource: 'localItems' },
  loadItemPrimary: { file: 'loadItemPrimary', dataSource: 'primaryItems' },
  putItemLocal: { file: 'putItemLocal', dataSource: 'localItems' },
  putItemPrimary: { file: 'putItemPrimary', dataSource: 'primaryItems' },
  deleteItemLocal: { file: 'deleteItemLocal', dataSource: 'localItems' },
  deleteItemPrimary: { file: 'deleteItemPrimary', dataSource: 'primaryItems' },
  confirmItemLocal: { file: 'confirmItemLocal', dataSource: 'localItems' },
  confirmItemPrimary: { file: 'confirmItemPrimary', dataSource: 'primaryItems' },
};

export const RESOLVERS: readonly ResolverSpec[] = [
  { kind: 'unit', typeName: 'Query', fieldName: 'getItem', file: 'getItem', dataSource: 'localItems' },
  { kind: 'unit', typeName: 'Query', fieldName: 'listItems', file: 'listItems', dataSource: 'localItems' },
  { kind: 'unit', typeName: 'Query', fieldName: 'appState', file: 'appState', dataSource: 'appConfig' },
  { kind: 'pipeline', typeName: 'Mutation', fieldName: 'putItem', file: 'putItem', functions: ['writeGuard', 'targetGuard', 'loadItemLocal', 'loadItemPrimary', 'putItemLocal', 'putItemPrimary', 'confirmItemLocal', 'confirmItemPrimary'] },
  { kind: 'pipeline', typeName: 'Mutation', fieldName: 'deleteItem', file: 'deleteItem', functions: ['writeGuard', 'targetGuard', 'loadItemLocal', 'loadItemPrimary', 'deleteItemLocal', 'deleteItemPrimary', 'confirmItemLocal', 'confirmItemPrimary'] },
  { kind: 'unit', typeName: 'Mutation', fieldName: 'publishItemChange', file: 'publishItemChange', dataSource: 'none' },
];

/** Every entry file the manifest uses (resolvers and functions), each bundled once per region. */
export function resolverFiles(): string[] {
  const files: string[] = [];
  for (const spec of RESOLVERS) {
    if (files.indexOf(spec.file) < 0) files.push(spec.file);
  }
  for (const name of Object.keys(FUNCTIONS)) {
    if (files.indexOf(FUNCTIONS[name].file) < 0) files.push(FUNCTIONS[name].file);
  }
  return files;
}
