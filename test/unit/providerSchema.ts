/**
 * The provider's own input schema, as the installed packages ship it, and a checker of recorded mock inputs against
 * it. @pulumi/aws 7.48.0 (and @pulumi/random) carry no machine-readable schema (no schema.json; no provider plugin is
 * installed to print one), so the schema is read from what they do ship: the generated TypeScript declarations, which
 * the SDK generator writes from the provider schema —
 *   - `<module>/<resource>.d.ts`: `export interface <Resource>Args` (the inputs; a property without `?` is required),
 *   - `types/input.d.ts`: every nested input type (`inputs.<module>.<Name>`), required and optional the same way,
 *   - `types/enums/<module>/index.d.ts`: the enums an input may name (`enums.lambda.Runtime`), as const objects.
 * The declarations are parsed with the TypeScript compiler's parser (syntax only: the generated code is regular, and
 * parsing the 5.7 MB input.d.ts takes about a second; type-checking the package would take far longer). Which file is a
 * resource's is checked against the token its JavaScript registers (`static __pulumiType = '<token>'`).
 *
 * What it checks, per recorded resource (secrets revealed): every input name is a property of the Args (or of the
 * nested input type, at every depth), every required property is present, every value has the declared shape
 * (string, number, boolean, list, map, nested object, asset), and a value typed with an enum is one of its values
 * (`string | enums.X` unions included: the provider validates against that list). References to other resources or to
 * helper types the declarations import (e.g. `PolicyDocument`, `RestApi`) are counted as unchecked, not guessed at.
 *
 * Where the declarations say only `string` but AWS's API takes one of a fixed list (a table's billingMode, a stream's
 * view type, an authorizer's type, a web ACL's scope...), STRING_ENUMS puts the API member's enumeration in its place:
 * botocore's model (config/aws-constraints.json, scripts/extract-aws-constraints.py), or PROSE_ENUMS where the model
 * has a plain string and the API reference lists the values. So a value AWS refuses fails here, as tsc cannot see.
 */
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';
import { reveal, type Recorded } from '../../scripts/mockCloud';

export type TypeDesc =
  | { kind: 'string' | 'number' | 'boolean' | 'asset' }
  | { kind: 'any'; why: string }
  | { kind: 'enum'; name: string; values: readonly (string | number | boolean)[] }
  | { kind: 'array'; of: TypeDesc }
  | { kind: 'map'; of: TypeDesc }
  | { kind: 'object'; name: string }
  | { kind: 'union'; of: TypeDesc[] };

export interface Prop {
  type: TypeDesc;
  required: boolean;
}

const ROOT = path.join(__dirname, '..', '..');
const CONSTRAINTS = JSON.parse(fs.readFileSync(path.join(ROOT, 'config', 'aws-constraints.json'), 'utf8')) as {
  botocore: string;
  members: Record<string, { service: string; operation: string; member: string; enum?: string[] }>;
};

/** Enumerations AWS documents in prose only (the model's member is a plain string), with the page that lists them. */
export const PROSE_ENUMS: Record<string, { values: readonly string[]; source: string }> = {
  // "Valid values are NONE for open access, AWS_IAM ..., CUSTOM ..., or COGNITO_USER_POOLS"
  'apigateway:PutMethod.authorizationType': { values: ['NONE', 'AWS_IAM', 'CUSTOM', 'COGNITO_USER_POOLS'], source: 'https://docs.aws.amazon.com/apigateway/latest/api/API_PutMethod.html' },
  // "The type of a usage plan key. Currently, the valid key type is API_KEY."
  'apigateway:CreateUsagePlanKey.keyType': { values: ['API_KEY'], source: 'https://docs.aws.amazon.com/apigateway/latest/api/API_UsagePlanKey.html' },
  // "Valid Values: breaching | notBreaching | ignore | missing"
  'cloudwatch:PutMetricAlarm.TreatMissingData': { values: ['breaching', 'notBreaching', 'ignore', 'missing'], source: 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference/API_PutMetricAlarm.html' },
};

/**
 * Properties declared as a plain `string` (or list of strings) that AWS limits to a list: where the property is
 * declared (a resource token: its Args; `aws:<ns>.<Name>`: a nested input type) → property → the API member.
 */
export const STRING_ENUMS: Record<string, Record<string, string>> = {
  'aws:dynamodb/table:Table': { billingMode: 'dynamodb:CreateTable.BillingMode', streamViewType: 'dynamodb:CreateTable.StreamSpecification.StreamViewType' },
  'aws:dynamodb.TableAttribute': { type: 'dynamodb:CreateTable.AttributeDefinitions[].AttributeType' },
  'aws:dynamodb.TableReplica': { consistencyMode: 'dynamodb:UpdateTable.MultiRegionConsistency' },
  'aws:lambda/eventSourceMapping:EventSourceMapping': { startingPosition: 'lambda:CreateEventSourceMapping.StartingPosition', functionResponseTypes: 'lambda:CreateEventSourceMapping.FunctionResponseTypes[]' },
  'aws:lambda/function:Function': { architectures: 'lambda:CreateFunction.Architectures[]' },
  'aws:lambda.FunctionLoggingConfig': { logFormat: 'lambda:CreateFunction.LoggingConfig.LogFormat' },
  'aws:lambda.FunctionTracingConfig': { mode: 'lambda:CreateFunction.TracingConfig.Mode' },
  'aws:apigateway/authorizer:Authorizer': { type: 'apigateway:CreateAuthorizer.type' },
  'aws:apigateway.RestApiEndpointConfiguration': { types: 'apigateway:CreateRestApi.endpointConfiguration.types[]' },
  'aws:apigateway.DomainNameEndpointConfiguration': { types: 'apigateway:CreateDomainName.endpointConfiguration.types[]' },
  'aws:apigateway/domainName:DomainName': { securityPolicy: 'apigateway:CreateDomainName.securityPolicy' },
  'aws:apigateway/integration:Integration': { type: 'apigateway:PutIntegration.type' },
  'aws:apigateway/method:Method': { authorization: 'apigateway:PutMethod.authorizationType' },
  'aws:apigateway/usagePlanKey:UsagePlanKey': { keyType: 'apigateway:CreateUsagePlanKey.keyType' },
  'aws:appsync/dataSource:DataSource': { type: 'appsync:CreateDataSource.type' },
  'aws:appsync.FunctionRuntime': { name: 'appsync:CreateFunction.runtime.name' },
  'aws:appsync.ResolverRuntime': { name: 'appsync:CreateResolver.runtime.name' },
  'aws:appsync/resolver:Resolver': { kind: 'appsync:CreateResolver.kind' },
  'aws:appsync/graphQLApi:GraphQLApi': { authenticationType: 'appsync:CreateGraphqlApi.authenticationType' },
  'aws:appsync.GraphQLApiAdditionalAuthenticationProvider': { authenticationType: 'appsync:CreateGraphqlApi.additionalAuthenticationProviders[].authenticationType' },
  'aws:appsync.GraphQLApiLogConfig': { fieldLogLevel: 'appsync:CreateGraphqlApi.logConfig.fieldLogLevel' },
  'aws:appsync.GraphQLApiUserPoolConfig': { defaultAction: 'appsync:CreateGraphqlApi.userPoolConfig.defaultAction' },
  'aws:cloudwatch/metricAlarm:MetricAlarm': {
    comparisonOperator: 'cloudwatch:PutMetricAlarm.ComparisonOperator',
    statistic: 'cloudwatch:PutMetricAlarm.Statistic',
    treatMissingData: 'cloudwatch:PutMetricAlarm.TreatMissingData',
  },
  'aws:acm/certificate:Certificate': { keyAlgorithm: 'acm:RequestCertificate.KeyAlgorithm', validationMethod: 'acm:RequestCertificate.ValidationMethod' },
  'aws:route53/healthCheck:HealthCheck': { type: 'route53:CreateHealthCheck.HealthCheckConfig.Type', regions: 'route53:CreateHealthCheck.HealthCheckConfig.Regions[]' },
  'aws:route53.RecordLatencyRoutingPolicy': { region: 'route53:ChangeResourceRecordSets.ChangeBatch.Changes[].ResourceRecordSet.Region' },
  'aws:wafv2/webAcl:WebAcl': { scope: 'wafv2:CreateWebACL.Scope' },
  'aws:wafv2.WebAclRuleStatementRateBasedStatement': { aggregateKeyType: 'wafv2:CreateWebACL.Rules[].Statement.RateBasedStatement.AggregateKeyType' },
  'aws:wafv2.WebAclLoggingConfigurationLoggingFilter': { defaultBehavior: 'wafv2:PutLoggingConfiguration.LoggingConfiguration.LoggingFilter.DefaultBehavior' },
  'aws:wafv2.WebAclLoggingConfigurationLoggingFilterFilter': {
    behavior: 'wafv2:PutLoggingConfiguration.LoggingConfiguration.LoggingFilter.Filters[].Behavior',
    requirement: 'wafv2:PutLoggingConfiguration.LoggingConfiguration.LoggingFilter.Filters[].Requirement',
  },
  'aws:wafv2.WebAclLoggingConfigurationLoggingFilterFilterConditionActionCondition': { action: 'wafv2:PutLoggingConfiguration.LoggingConfiguration.LoggingFilter.Filters[].Conditions[].ActionCondition.Action' },
};

/** An API member's allowed values and where they come from; throws when neither the model nor PROSE_ENUMS has a list. */
export function awsEnum(member: string): { name: string; values: readonly string[] } {
  const prose = PROSE_ENUMS[member];
  if (prose) return { name: `${member} (${prose.source})`, values: prose.values };
  const m = CONSTRAINTS.members[member];
  if (!m) throw new Error(`${member} is not in config/aws-constraints.json: add it to scripts/extract-aws-constraints.py and run it`);
  if (!m.enum?.length) throw new Error(`${member}: botocore ${CONSTRAINTS.botocore} has no enumeration for it; list its values in PROSE_ENUMS with the page that documents them`);
  return { name: `${member} (botocore ${CONSTRAINTS.botocore} ${m.service} ${m.operation} ${m.member})`, values: m.enum };
}

/** Props with STRING_ENUMS applied: a plain string (or list of them) becomes the API's enumeration. */
function withAwsEnums(where: string, props: Record<string, Prop>): Record<string, Prop> {
  for (const [prop, member] of Object.entries(STRING_ENUMS[where] ?? {})) {
    const p = props[prop];
    if (!p) throw new Error(`STRING_ENUMS: ${where} declares no ${prop}`);
    const { name, values } = awsEnum(member);
    const e: TypeDesc = { kind: 'enum', name, values };
    if (p.type.kind === 'string') p.type = e;
    else if (p.type.kind === 'array' && p.type.of.kind === 'string') p.type = { kind: 'array', of: e };
    else throw new Error(`STRING_ENUMS: ${where}.${prop} is declared ${JSON.stringify(p.type)}, not a plain string: drop it from STRING_ENUMS`);
  }
  return props;
}

const PACKAGES: Record<string, string> = {
  aws: path.dirname(require.resolve('@pulumi/aws/package.json')),
  random: path.dirname(require.resolve('@pulumi/random/package.json')),
};
export const AWS_VERSION = (JSON.parse(fs.readFileSync(path.join(PACKAGES.aws, 'package.json'), 'utf8')) as { version: string }).version;

const parse = (file: string): ts.SourceFile => ts.createSourceFile(file, fs.readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, false);

/** A package's nested input types (`inputs.<ns>.<Name>` or `inputs.<Name>`) and enums, parsed once. */
class PackageTypes {
  private inputs?: Map<string, ts.InterfaceDeclaration>;
  /** types/input.d.ts, parsed (the parser keeps no parent links, so declarations cannot find their file) */
  inputSource?: ts.SourceFile;
  private enums = new Map<string, (string | number | boolean)[]>();
  constructor(private readonly root: string) {}

  interfaceOf(name: string): ts.InterfaceDeclaration | undefined {
    if (!this.inputs) {
      this.inputs = new Map();
      const file = path.join(this.root, 'types', 'input.d.ts');
      if (fs.existsSync(file)) {
        const index = (stmts: readonly ts.Statement[], prefix: string): void => {
          for (const s of stmts) {
            if (ts.isInterfaceDeclaration(s)) this.inputs!.set(`${prefix}${s.name.text}`, s);
            else if (ts.isModuleDeclaration(s) && s.body && ts.isModuleBlock(s.body)) index(s.body.statements, `${prefix}${s.name.getText(src)}.`);
          }
        };
        const src = parse(file);
        this.inputSource = src;
        index(src.statements, '');
      }
    }
    return this.inputs.get(name);
  }

  /** `enums.<ns>.<Name>` → its values (the const object's property values). */
  enumValues(qualified: string): (string | number | boolean)[] | undefined {
    if (this.enums.has(qualified)) return this.enums.get(qualified);
    const parts = qualified.split('.');
    const name = parts.pop() as string;
    const file = path.join(this.root, 'types', 'enums', ...parts, 'index.d.ts');
    if (!fs.existsSync(file)) return undefined;
    const src = parse(file);
    for (const s of src.statements) {
      if (!ts.isVariableStatement(s)) continue;
      for (const d of s.declarationList.declarations) {
        if (d.name.getText(src) !== name || !d.type || !ts.isTypeLiteralNode(d.type)) continue;
        const values = d.type.members.flatMap((m): (string | number | boolean)[] => {
          if (!ts.isPropertySignature(m) || !m.type || !ts.isLiteralTypeNode(m.type)) return [];
          const lit = m.type.literal;
          if (ts.isStringLiteral(lit)) return [lit.text];
          if (ts.isNumericLiteral(lit)) return [Number(lit.text)];
          if (lit.kind === ts.SyntaxKind.TrueKeyword) return [true];
          if (lit.kind === ts.SyntaxKind.FalseKeyword) return [false];
          return [];
        });
        this.enums.set(qualified, values);
        return values;
      }
    }
    return undefined;
  }
}

const packageTypes = new Map<string, PackageTypes>();
const typesOf = (pkg: string): PackageTypes => {
  let t = packageTypes.get(pkg);
  if (!t) {
    t = new PackageTypes(PACKAGES[pkg]);
    packageTypes.set(pkg, t);
  }
  return t;
};

/** A declared type (inside `pulumi.Input<...>` or not) → TypeDesc. */
function describe(node: ts.TypeNode, src: ts.SourceFile, pkg: string): TypeDesc {
  if (ts.isParenthesizedTypeNode(node)) return describe(node.type, src, pkg);
  switch (node.kind) {
    case ts.SyntaxKind.StringKeyword:
      return { kind: 'string' };
    case ts.SyntaxKind.NumberKeyword:
      return { kind: 'number' };
    case ts.SyntaxKind.BooleanKeyword:
      return { kind: 'boolean' };
    case ts.SyntaxKind.AnyKeyword:
    case ts.SyntaxKind.UnknownKeyword:
      return { kind: 'any', why: node.getText(src) };
  }
  if (ts.isLiteralTypeNode(node)) {
    const lit = node.literal;
    const value = ts.isStringLiteral(lit) ? lit.text : ts.isNumericLiteral(lit) ? Number(lit.text) : lit.kind === ts.SyntaxKind.TrueKeyword;
    return { kind: 'enum', name: node.getText(src), values: [value] };
  }
  if (ts.isUnionTypeNode(node)) {
    const of = node.types.filter((t) => t.kind !== ts.SyntaxKind.UndefinedKeyword).map((t) => describe(t, src, pkg));
    // `string | enums.X`: the enum is the list the provider accepts (the string only lets new values compile)
    const enums = of.filter((t) => t.kind === 'enum');
    if (enums.length > 0 && of.every((t) => t.kind === 'enum' || t.kind === 'string')) {
      return { kind: 'enum', name: enums.map((e) => (e as { name: string }).name).join(' | '), values: enums.flatMap((e) => (e as { values: readonly (string | number | boolean)[] }).values) };
    }
    return of.length === 1 ? of[0] : { kind: 'union', of };
  }
  if (ts.isArrayTypeNode(node)) return { kind: 'array', of: describe(node.elementType, src, pkg) };
  if (ts.isTypeLiteralNode(node)) {
    const index = node.members.find(ts.isIndexSignatureDeclaration);
    if (index?.type) return { kind: 'map', of: describe(index.type, src, pkg) };
    return { kind: 'any', why: `inline ${node.getText(src).slice(0, 40)}` };
  }
  if (ts.isTypeReferenceNode(node)) {
    const name = node.typeName.getText(src);
    if (name === 'pulumi.Input' && node.typeArguments?.length === 1) return describe(node.typeArguments[0], src, pkg);
    if (name.startsWith('pulumi.asset.')) return { kind: 'asset' };
    if (name.startsWith('inputs.')) return { kind: 'object', name: `${pkg}:${name.slice('inputs.'.length)}` };
    if (name.startsWith('enums.')) {
      const values = typesOf(pkg).enumValues(name.slice('enums.'.length));
      return values ? { kind: 'enum', name, values } : { kind: 'any', why: `${name} (no enum file)` };
    }
    if (name === 'Array' && node.typeArguments?.length === 1) return { kind: 'array', of: describe(node.typeArguments[0], src, pkg) };
    return { kind: 'any', why: name };
  }
  return { kind: 'any', why: node.getText(src).slice(0, 60) };
}

function propsOf(decl: ts.InterfaceDeclaration, src: ts.SourceFile, pkg: string): Record<string, Prop> {
  const out: Record<string, Prop> = {};
  for (const m of decl.members) {
    if (!ts.isPropertySignature(m) || !m.type) continue;
    out[m.name.getText(src)] = { type: describe(m.type, src, pkg), required: !m.questionToken };
  }
  return out;
}

const objectProps = new Map<string, Record<string, Prop>>();
/** A nested input type's properties ("aws:lambda.FunctionEnvironment"). */
export function objectType(name: string): Record<string, Prop> {
  let props = objectProps.get(name);
  if (!props) {
    const [pkg, qualified] = name.split(':');
    const types = typesOf(pkg);
    const decl = types.interfaceOf(qualified);
    if (!decl || !types.inputSource) throw new Error(`no input type ${qualified} in @pulumi/${pkg}/types/input.d.ts`);
    props = withAwsEnums(name, propsOf(decl, types.inputSource, pkg));
    objectProps.set(name, props);
  }
  return props;
}

export interface ResourceSchema {
  token: string;
  /** the declaration file it was read from, relative to the package */
  file: string;
  args: string;
  props: Record<string, Prop>;
}

const resources = new Map<string, ResourceSchema>();
/**
 * The Args of a resource token (`aws:lambda/function:Function`, `pulumi:providers:aws`,
 * `random:index/randomPassword:RandomPassword`), from the file whose JavaScript registers that token.
 */
export function resourceSchema(token: string): ResourceSchema {
  const cached = resources.get(token);
  if (cached) return cached;
  let pkg: string;
  let rel: string;
  let cls: string;
  const provider = /^pulumi:providers:(\w+)$/.exec(token);
  if (provider) {
    [pkg, rel, cls] = [provider[1], 'provider', 'Provider'];
  } else {
    const m = /^(\w+):([\w/]+):(\w+)$/.exec(token);
    if (!m) throw new Error(`not a resource token: ${token}`);
    pkg = m[1];
    const mod = m[2].split('/');
    rel = mod[0] === 'index' ? mod.slice(1).join('/') : mod.join('/');
    cls = m[3];
  }
  if (!PACKAGES[pkg]) throw new Error(`${token}: no installed package @pulumi/${pkg}`);
  const js = path.join(PACKAGES[pkg], `${rel}.js`);
  const registered = fs.existsSync(js) ? /static __pulumiType = '([^']+)'|__pulumiType = '([^']+)'/.exec(fs.readFileSync(js, 'utf8')) : null;
  const expected = provider ? pkg : token;
  if (!registered || (registered[1] ?? registered[2]) !== expected) throw new Error(`${token}: @pulumi/${pkg}/${rel}.js does not register it (found ${registered ? (registered[1] ?? registered[2]) : 'nothing'})`);
  const file = path.join(PACKAGES[pkg], `${rel}.d.ts`);
  const src = parse(file);
  const decl = src.statements.find((s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === `${cls}Args`);
  if (!decl) throw new Error(`${token}: no interface ${cls}Args in ${file}`);
  const schema = { token, file: `@pulumi/${pkg}/${rel}.d.ts`, args: `${cls}Args`, props: withAwsEnums(token, propsOf(decl, src, pkg)) };
  resources.set(token, schema);
  return schema;
}

export interface SchemaViolation {
  resource: string;
  path: string;
  problem: string;
}

const show = (v: unknown): string => (JSON.stringify(v) ?? String(v)).slice(0, 80);

/** Why `value` does not fit `type` (undefined: it fits); `unchecked` collects the `any` types met. */
function mismatch(value: unknown, type: TypeDesc, where: string, out: SchemaViolation[], resource: string, unchecked: Set<string>): string | undefined {
  switch (type.kind) {
    case 'string':
    case 'number':
    case 'boolean':
      return typeof value === type.kind ? undefined : `${show(value)} is not a ${type.kind}`;
    case 'asset':
      return value && typeof value === 'object' ? undefined : `${show(value)} is not an asset or archive`;
    case 'any':
      unchecked.add(type.why);
      return undefined;
    case 'enum':
      return type.values.includes(value as string) ? undefined : `${show(value)} is not one of ${type.name}: ${type.values.join(', ')}`;
    case 'array':
      if (!Array.isArray(value)) return `${show(value)} is not a list`;
      value.forEach((v, i) => {
        const why = mismatch(v, type.of, `${where}[${i}]`, out, resource, unchecked);
        if (why) out.push({ resource, path: `${where}[${i}]`, problem: why });
      });
      return undefined;
    case 'map':
      if (!value || typeof value !== 'object' || Array.isArray(value)) return `${show(value)} is not a map`;
      for (const [k, v] of Object.entries(value)) {
        const why = mismatch(v, type.of, `${where}.${k}`, out, resource, unchecked);
        if (why) out.push({ resource, path: `${where}.${k}`, problem: why });
      }
      return undefined;
    case 'object':
      if (!value || typeof value !== 'object' || Array.isArray(value)) return `${show(value)} is not an object (${type.name})`;
      checkProps(value as Record<string, unknown>, objectType(type.name), type.name, where, out, resource, unchecked);
      return undefined;
    case 'union': {
      // the first alternative that fits, with its nested findings; otherwise every alternative's reason
      const reasons: string[] = [];
      for (const alt of type.of) {
        const nested: SchemaViolation[] = [];
        const why = mismatch(value, alt, where, nested, resource, unchecked);
        if (!why && nested.length === 0) return undefined;
        reasons.push(why ?? nested.map((n) => `${n.path}: ${n.problem}`).join('; '));
      }
      return `fits none of: ${reasons.join(' | ')}`;
    }
  }
}

function checkProps(value: Record<string, unknown>, props: Record<string, Prop>, typeName: string, where: string, out: SchemaViolation[], resource: string, unchecked: Set<string>): void {
  for (const [k, v] of Object.entries(value)) {
    const at = where ? `${where}.${k}` : k;
    const prop = props[k];
    if (!prop) {
      out.push({ resource, path: at, problem: `not an input of ${typeName}` });
      continue;
    }
    if (v === undefined || v === null) continue;
    const why = mismatch(v, prop.type, at, out, resource, unchecked);
    if (why) out.push({ resource, path: at, problem: why });
  }
  for (const [k, p] of Object.entries(props)) {
    if (p.required && (value[k] === undefined || value[k] === null)) out.push({ resource, path: where ? `${where}.${k}` : k, problem: `required by ${typeName}, missing` });
  }
}

/** Every custom resource's inputs against its Args; `unchecked` lists the declared types taken on trust. */
export function schemaViolations(recorded: readonly Recorded[]): { violations: SchemaViolation[]; checked: number; unchecked: string[] } {
  const violations: SchemaViolation[] = [];
  const unchecked = new Set<string>();
  let checked = 0;
  for (const r of recorded.filter((x) => x.custom)) {
    const schema = resourceSchema(r.type);
    let inputs = reveal<Record<string, unknown>>(r.inputs);
    // a provider's settings travel as strings: the SDK sends every non-string one as JSON (provider.js: JSON.stringify)
    if (r.type.startsWith('pulumi:providers:')) inputs = Object.fromEntries(Object.entries(inputs).map(([k, v]) => [k, typeof v === 'string' && schema.props[k] && schema.props[k].type.kind !== 'string' && schema.props[k].type.kind !== 'enum' ? JSON.parse(v) : v]));
    checkProps(inputs, schema.props, `${schema.args} (${schema.file} ${AWS_VERSION})`, '', violations, r.name, unchecked);
    checked += 1;
  }
  return { violations, checked, unchecked: [...unchecked].sort() };
}
