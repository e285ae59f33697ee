/**
 * What AWS's APPSYNC_JS runtime supports, as data: the one list that the resolver sandbox (./sandbox.ts, what the
 * runner evaluates resolvers in) and the bundle check (./runtimeCheck.ts, an AST walk over every built resolver)
 * both enforce, so neither accepts anything AppSync would refuse.
 *
 * Source: AWS AppSync Developer Guide, "Supported runtime features" (APPSYNC_JS),
 * https://docs.aws.amazon.com/appsync/latest/devguide/supported-features.html — its sections Operators, Statements,
 * Primitive objects (Object, String, Number), Built-in objects and functions (Math, Array, Console, Function, JSON,
 * Promises), Globals and Error types. Anything that page does not list is treated as unsupported (e.g. `String()`,
 * `Number()`, `Array.isArray`, `Date`, `parseInt`, String.prototype.includes, Number.prototype.toFixed): AppSync
 * has been seen failing at runtime on some of them (aws/aws-appsync-community#303 for `Number()`).
 */

/** Globals usable as values: "The following global constants are supported". */
export const VALUE_GLOBALS: readonly string[] = ['NaN', 'Infinity', 'undefined'];

/** Globals that are AppSync's own modules (also importable from '@aws-appsync/utils'). */
export const UTIL_GLOBALS: readonly string[] = ['util', 'extensions', 'runtime'];

/**
 * Built-in objects reachable by name, each with the only members the page lists. `String`, `Number` and `Object`
 * are namespaces here, not functions: the page lists String.raw(), Number.isFinite/isNaN and five Object functions,
 * never the constructors themselves.
 */
export const GLOBAL_MEMBERS: Readonly<Record<string, readonly string[]>> = {
  Object: ['assign', 'entries', 'hasOwn', 'keys', 'values'],
  String: ['raw'],
  Number: ['isFinite', 'isNaN'],
  Math: ['random', 'min', 'max', 'round', 'floor', 'ceil'],
  JSON: ['parse', 'stringify'],
  console: ['error', 'log'],
};

/** String.prototype methods the page lists (`length` is a property, always there). */
export const STRING_METHODS: readonly string[] = [
  'charAt',
  'concat',
  'endsWith',
  'indexOf',
  'lastIndexOf',
  'replace',
  'replaceAll',
  'slice',
  'split',
  'startsWith',
  'toLowerCase',
  'toUpperCase',
  'trim',
  'trimEnd',
  'trimStart',
];

/** Array.prototype methods the page lists. Note: "Array.prototype.sort() doesn't support arguments". */
export const ARRAY_METHODS: readonly string[] = [
  'concat',
  'fill',
  'flat',
  'indexOf',
  'join',
  'lastIndexOf',
  'pop',
  'push',
  'reverse',
  'shift',
  'slice',
  'sort',
  'splice',
  'unshift',
  'forEach',
  'map',
  'flatMap',
  'filter',
  'reduce',
  'reduceRight',
  'find',
  'some',
  'every',
  'findIndex',
  'findLast',
  'findLastIndex',
];

/**
 * "Passing a function as an argument is not supported", yet the page lists the Array methods that take a
 * callback: these are the only calls that may be given a function (the same allowance as @aws-appsync/eslint-plugin).
 */
export const CALLBACK_METHODS: readonly string[] = [
  'forEach',
  'map',
  'flatMap',
  'filter',
  'reduce',
  'reduceRight',
  'find',
  'some',
  'every',
  'findIndex',
  'findLast',
  'findLastIndex',
];

/** The only module a resolver may import here: the one the local stand-in (./util.ts) emulates. */
export const UTILS_MODULE = '@aws-appsync/utils';

/** AWS's "Built-in modules" page for APPSYNC_JS, where the modules below are documented. */
export const BUILT_IN_MODULES_PAGE = 'https://docs.aws.amazon.com/appsync/latest/devguide/built-in-modules-js.html';

/**
 * Real APPSYNC_JS built-in modules that this local runtime does NOT emulate: AppSync would run a resolver importing
 * them, the stand-in would not, so the bundle check and the runner refuse them and say so (use the util.dynamodb
 * helpers of @aws-appsync/utils instead). Source: "Built-in modules" (BUILT_IN_MODULES_PAGE), "Modules are
 * imported using @aws-appsync/utils/dynamodb".
 */
export const UNEMULATED_MODULES: readonly string[] = ['@aws-appsync/utils/dynamodb'];

/** The refusal for an import of one of UNEMULATED_MODULES; null for any other id (which keeps its usual refusal). */
export function unemulatedModuleMessage(id: string): string | null {
  if (!UNEMULATED_MODULES.includes(id)) return null;
  return `${id} is a real APPSYNC_JS built-in module (${BUILT_IN_MODULES_PAGE}) that this local runtime does not emulate: use the util.dynamodb helpers of ${UTILS_MODULE} instead`;
}

/**
 * String.prototype.replace/replaceAll: AppSync reads a STRING pattern as a (Java-style) regular expression, not as
 * literal text as JavaScript does ("Supported runtime features", String section, FEATURES_PAGE below), so
 * `'a.b'.replace('.', '-')` is '-.b' there and 'a-b' in Node. The sandbox does as AppSync does; the bundle check
 * refuses a pattern whose meaning differs between the two (a literal with any of these characters) or that it
 * cannot see (not a literal).
 */
export const REGEX_PATTERN_METHODS: readonly string[] = ['replace', 'replaceAll'];
export const REGEX_METACHARACTERS = /[\\^$.|?*+()[\]{}]/;

/** Where every rule above comes from, for error messages. */
export const FEATURES_PAGE = 'https://docs.aws.amazon.com/appsync/latest/devguide/supported-features.html';
