/**
 * What the console talks to, read from one of two sources into one shape:
 *   - the emulator: its admin API's GET /endpoints (what .emulator/endpoints.json holds);
 *   - a deployed stack: the JSON of `pulumi stack output --json --show-secrets` (the outputs index.ts exports:
 *     regions.<r>.{graphqlUrl, realtimeUrl, restUrl, healthCheckId, url?}, globalUrl with a domain, apiKeys.<r> — each
 *     region's AppSync key — in apiKey mode, primaryRegion, writeMode, drainedRegions).
 *
 * Target: {
 *   kind: 'emulator' | 'deployed', stack, primaryRegion, writeMode, drainedRegions: string[],
 *   regions: [{ name, graphqlUrl, realtimeUrl, apiKey: string | null, healthCheckId: string | null }],
 *   global: { graphqlUrl, apiKey: string | null } | null,   // null: not callable from a browser (see globalNote)
 *   globalNote: string,
 *   auth: { mode: 'apiKey' } | { mode: 'token', hint: string },
 * }
 * In token mode (auth.mode token, and the lambda/oidc/cognito modes AWS deploys) there are no API keys: every call and
 * every realtime connection sends the token the user gives as `Authorization`.
 *
 * Only direct AppSync URLs are called from the page: AppSync answers CORS preflights, API Gateway (restUrl, the
 * regional and global custom domains) does not — components/restApi.ts deploys no OPTIONS methods — so a browser
 * cannot call those; against the emulator the admin API forwards calls to the global endpoint instead.
 */

export class TargetError extends Error {}

const isObject = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);

/** The emulator's endpoints (GET /endpoints) → a Target; `globalGraphqlUrl` is the admin API's forwarder. */
export function fromEndpoints(e, globalGraphqlUrl) {
  if (!isObject(e) || !isObject(e.regions)) throw new TargetError('the emulator answered /endpoints without regions');
  const token = e.auth?.mode === 'token';
  return {
    kind: 'emulator',
    stack: String(e.stack ?? '?'),
    primaryRegion: e.primaryRegion,
    writeMode: e.writeMode,
    drainedRegions: [],
    regions: Object.entries(e.regions).map(([name, r]) => ({
      name,
      graphqlUrl: r.graphqlUrl,
      realtimeUrl: r.realtimeUrl,
      apiKey: token ? null : r.apiKey,
      healthCheckId: null,
    })),
    global: { graphqlUrl: globalGraphqlUrl, apiKey: token ? null : e.globalApiKey },
    globalNote: `the global endpoint ${e.globalUrl}, forwarded by the admin API (it answers no CORS preflight, as API Gateway does not)`,
    auth: token ? { mode: 'token', hint: `a token from: ${e.auth.tokenCommand}` } : { mode: 'apiKey' },
  };
}

/** `pulumi stack output --json [--show-secrets]` text → a Target, or a TargetError naming what is wrong. */
export function fromStackOutputs(text) {
  let o;
  try {
    o = JSON.parse(text);
  } catch (err) {
    throw new TargetError(`the stack outputs are not JSON (${err.message}): paste what \`pulumi stack output --json --show-secrets\` prints`);
  }
  if (!isObject(o)) throw new TargetError('the stack outputs must be a JSON object, as `pulumi stack output --json` prints them');
  if (!isObject(o.regions)) {
    throw new TargetError(`the stack outputs have no "regions" object (keys: ${Object.keys(o).join(', ') || 'none'}): is this \`pulumi stack output --json\` of a global-appsync stack?`);
  }
  if (o.apiKeys === '[secret]') {
    throw new TargetError('apiKeys is "[secret]": the outputs were printed without their secrets; run `pulumi stack output --json --show-secrets`');
  }
  if (o.apiKeys !== undefined && !isObject(o.apiKeys)) throw new TargetError('apiKeys must be an object of region → AppSync API key');
  const regions = Object.entries(o.regions).map(([name, r]) => {
    if (!isObject(r)) throw new TargetError(`regions.${name} is not an object`);
    for (const k of ['graphqlUrl', 'realtimeUrl']) {
      if (typeof r[k] !== 'string' || !/^(https?|wss?):\/\//.test(r[k])) throw new TargetError(`regions.${name}.${k} is missing or not a URL (got ${JSON.stringify(r[k])})`);
    }
    let apiKey = null;
    if (o.apiKeys) {
      apiKey = o.apiKeys[name];
      if (typeof apiKey !== 'string' || !apiKey) throw new TargetError(`apiKeys has no key for region ${name}`);
    }
    return { name, graphqlUrl: r.graphqlUrl, realtimeUrl: r.realtimeUrl, apiKey, healthCheckId: typeof r.healthCheckId === 'string' ? r.healthCheckId : null };
  });
  if (regions.length === 0) throw new TargetError('the stack outputs list no regions');
  const globalNote =
    typeof o.globalUrl === 'string'
      ? `${o.globalUrl} is API Gateway, which answers no CORS preflight (no OPTIONS methods are deployed): a browser cannot call it; use curl`
      : 'no global name (the stack has no domain)';
  return {
    kind: 'deployed',
    stack: typeof o.tables?.items === 'string' ? o.tables.items.replace(/-items$/, '') : 'deployed stack',
    primaryRegion: o.primaryRegion,
    writeMode: o.writeMode,
    drainedRegions: Array.isArray(o.drainedRegions) ? o.drainedRegions : [],
    regions,
    global: null,
    globalNote,
    auth: o.apiKeys ? { mode: 'apiKey' } : { mode: 'token', hint: 'the stack has no API keys (auth.mode token, lambda, oidc or cognito): a token its authorizer accepts' },
  };
}

/** The headers a call or a realtime connection sends for region `r` (or the global endpoint) of target `t`. */
export function credential(t, r, token) {
  if (t.auth.mode === 'token') {
    if (!token) throw new TargetError(`this stack takes a token (${t.auth.hint}): paste one first`);
    return { authorization: token };
  }
  return { 'x-api-key': r.apiKey };
}
