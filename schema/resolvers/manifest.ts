/**
 * Which resolver runs on which field, with which data source: the one list that the RegionalApi component
 * deploys and the resolver tests (and the local emulator) execute. Files are schema/resolvers/<file>.ts.
 *
 * Data sources per region (DESIGN §4):
 * - localItems:   the items table's replica in the region serving the request
 * - primaryItems: the items table's replica in the primary region (read local, write global)
 * - appConfig:    the app-config table's local replica (app state, drain flags)
 * - none:         NONE data source (local resolver, used by publishItemChange)
 */
export type DataSourceKey = 'localItems' | 'primaryItems' | 'appConfig' | 'none';

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

/** Filled in by the runtime-code work: see schema/resolvers/*.ts. */
export const FUNCTIONS: Readonly<Record<string, FunctionSpec>> = {};
export const RESOLVERS: readonly ResolverSpec[] = [];
