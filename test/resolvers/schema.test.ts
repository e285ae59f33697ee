import assert from 'node:assert/strict';
import {
  buildSchema,
  getNamedType,
  GraphQLObjectType,
  Kind,
  parse,
  validate,
  validateSchema,
  type GraphQLSchema,
  type SelectionSetNode,
  type StringValueNode,
  TokenKind,
  visit,
} from 'graphql';
import { bundleResolver } from '../../components/bundle';
import { APPSYNC_PRELUDE, buildAppSyncSchema, subscriptionBindings } from '../../local/appsync/graphql';
import { loadResolverModule } from '../../local/appsync/runner';
import { PUBLISH_ITEM_CHANGE } from '../../schema/publish';
import { FUNCTIONS, RESOLVERS, resolverFiles } from '../../schema/resolvers/manifest';
import { schemaSource, type AuthMode } from '../../schema/source';

/** Every leaf path a complete selection of `typeName` must contain, computed from the schema. */
function allFieldPaths(schema: GraphQLSchema, typeName: string, prefix = ''): string[] {
  const type = schema.getType(typeName) as GraphQLObjectType;
  const out: string[] = [];
  for (const f of Object.values(type.getFields())) {
    const named = getNamedType(f.type);
    if (named instanceof GraphQLObjectType) out.push(...allFieldPaths(schema, named.name, `${prefix}${f.name}.`));
    else out.push(prefix + f.name);
  }
  return out.sort();
}

function selectedPaths(set: SelectionSetNode | undefined, prefix = ''): string[] {
  const out: string[] = [];
  for (const sel of set?.selections ?? []) {
    assert.equal(sel.kind, Kind.FIELD, 'PUBLISH_ITEM_CHANGE uses plain fields only');
    if (sel.kind !== Kind.FIELD) continue;
    if (sel.selectionSet) out.push(...selectedPaths(sel.selectionSet, `${prefix}${sel.name.value}.`));
    else out.push(prefix + sel.name.value);
  }
  return out.sort();
}

/**
 * `#` comments inside enum bodies (between `enum X {` and `}`), as "Enum: comment" lines. AppSync rejects them
 * (aws/aws-appsync-community#55; serverless-appsync-plugin PR #340, "AppSync does not support old-style (#)
 * comments in Enums"). graphql-js keeps comment tokens in each node's token chain, so this reads them from there.
 */
function enumBodyComments(source: string): string[] {
  const out: string[] = [];
  visit(parse(source), {
    enter(node) {
      if ((node.kind !== Kind.ENUM_TYPE_DEFINITION && node.kind !== Kind.ENUM_TYPE_EXTENSION) || !node.loc) return;
      let inBody = false;
      for (let t = node.loc.startToken; t && t !== node.loc.endToken.next; t = t.next!) {
        if (t.kind === TokenKind.BRACE_L) inBody = true;
        if (inBody && t.kind === TokenKind.COMMENT) out.push(`${node.name.value}: #${t.value}`);
      }
    },
  });
  return out;
}

describe('schema and manifest (resolvers)', () => {
  for (const mode of ['apiKey', 'lambda', 'cognito', 'oidc'] as AuthMode[]) {
    it(`schema.graphql builds and validates with the AppSync prelude (auth ${mode})`, () => {
      const schema = buildAppSyncSchema(mode);
      assert.deepEqual(validateSchema(schema), []);
      assert.ok(schema.getQueryType()?.getFields().getItem);
      assert.equal(String(schema.getMutationType()?.getFields().putItem.type), 'Item!');
    });
  }

  it('the deployed schema text has no "…" descriptions (AppSync rejects or strips them, aws/aws-appsync-community#38)', () => {
    for (const mode of ['apiKey', 'lambda', 'cognito', 'oidc'] as AuthMode[]) {
      const described: string[] = [];
      visit(parse(schemaSource(mode)), {
        enter(node) {
          const d = (node as { description?: StringValueNode }).description;
          if (d !== undefined) described.push(`${node.kind} ${(node as { name?: { value: string } }).name?.value ?? ''}: ${JSON.stringify(d.value)}`);
        },
      });
      assert.deepEqual(described, [], `auth ${mode}: descriptions found`);
    }
    assert.match(schemaSource(), /^\s*# 1 on creation, then \+1 on every write\.$/m, 'the documentation is kept as # comments');
  });

  it('the deployed schema text has no # comments inside enum bodies (AppSync rejects them, aws/aws-appsync-community#55)', () => {
    // The detector itself: a comment inside the body is found, one above the enum is not.
    assert.deepEqual(enumBodyComments('# above is fine\nenum E {\n  # inside is not\n  A\n  B # nor trailing\n}\ntype Q { e: E }'), ['E: # inside is not', 'E: # nor trailing']);
    for (const mode of ['apiKey', 'lambda', 'cognito', 'oidc'] as AuthMode[]) {
      const source = schemaSource(mode);
      assert.match(source, /^enum \w+ \{$/m, `auth ${mode}: the schema has enums to check`);
      assert.deepEqual(enumBodyComments(source), [], `auth ${mode}: # comments inside enum bodies (move them above the enum)`);
    }
  });

  it('needs the prelude: without it the AppSync directives and scalars are unknown', () => {
    assert.throws(() => buildSchema(schemaSource('apiKey')), /Unknown directive "@aws_api_key"|Unknown type "AWSDateTime"/);
    assert.match(APPSYNC_PRELUDE, /directive @aws_subscribe\(mutations: \[String\]\)/);
  });

  it('onItemChange is bound to publishItemChange only', () => {
    assert.deepEqual([...subscriptionBindings(buildAppSyncSchema()).entries()], [['publishItemChange', ['onItemChange']]]);
  });

  it('PUBLISH_ITEM_CHANGE validates and selects every field of ItemChange and of the nested Item', () => {
    const schema = buildAppSyncSchema();
    const doc = parse(PUBLISH_ITEM_CHANGE);
    assert.deepEqual(validate(schema, doc), []);
    const op = doc.definitions[0];
    assert.ok(op.kind === Kind.OPERATION_DEFINITION && op.operation === 'mutation');
    const field = op.selectionSet.selections[0];
    assert.ok(field.kind === Kind.FIELD && field.name.value === 'publishItemChange');
    const expected = allFieldPaths(schema, 'ItemChange');
    assert.ok(expected.includes('item.updatedRegion') && expected.includes('sequenceNumber'), 'computed from the schema, nested item included');
    assert.deepEqual(selectedPaths(field.selectionSet), expected);
  });

  it('manifest: every Query and Mutation field has exactly one resolver, on an existing field, with known functions', () => {
    const schema = buildAppSyncSchema();
    for (const typeName of ['Query', 'Mutation'] as const) {
      const fields = Object.keys((schema.getType(typeName) as GraphQLObjectType).getFields()).sort();
      const covered = RESOLVERS.filter((r) => r.typeName === typeName).map((r) => r.fieldName).sort();
      assert.deepEqual(covered, fields, `${typeName} fields vs manifest`);
    }
    for (const r of RESOLVERS) {
      if (r.kind === 'pipeline') for (const f of r.functions) assert.ok(FUNCTIONS[f], `${r.fieldName} names unknown function ${f}`);
    }
    assert.equal(FUNCTIONS.putItemLocal.dataSource, 'localItems');
    assert.equal(FUNCTIONS.putItemPrimary.dataSource, 'primaryItems');
    assert.equal(FUNCTIONS.writeGuard.dataSource, 'appConfig');
  });

  it('every manifest file bundles to ESM importing only @aws-appsync/utils, with the region settings inlined', () => {
    const settings = { region: 'ap-southeast-2', primaryRegion: 'eu-west-1', writeMode: 'primary' as const };
    for (const file of resolverFiles()) {
      const code = bundleResolver(file, settings);
      const imports = [...code.matchAll(/^import .* from "([^"]+)";$/gm)].map((m) => m[1]);
      for (const i of imports) assert.equal(i, '@aws-appsync/utils', `${file} imports ${i}`);
      assert.doesNotMatch(code.replace(/^\/\/.*$/gm, ''), /__SETTINGS__/, `${file} still references __SETTINGS__ in code`);
      const mod = loadResolverModule(file, settings);
      assert.equal(typeof mod.request, 'function', `${file} request`);
      assert.equal(typeof mod.response, 'function', `${file} response`);
    }
    assert.match(bundleResolver('writeGuard', settings), /"ap-southeast-2"/);
  });
});
