/**
 * The schema as deployed: schema.graphql with the client-auth directive set to the configured auth mode.
 * schema.graphql writes the client auth as `@aws_api_key`; AppSync rejects directives of auth modes the API
 * does not have, so another mode gets its own directive instead.
 */
import fs from 'node:fs';
import path from 'node:path';

export type AuthMode = 'apiKey' | 'lambda' | 'cognito' | 'oidc';

export const AUTH_DIRECTIVE: Readonly<Record<AuthMode, string>> = {
  apiKey: '@aws_api_key',
  lambda: '@aws_lambda',
  cognito: '@aws_cognito_user_pools',
  oidc: '@aws_oidc',
};

export const SCHEMA_PATH = path.join(__dirname, 'schema.graphql');

export function schemaSource(mode: AuthMode = 'apiKey'): string {
  const raw = fs.readFileSync(SCHEMA_PATH, 'utf8');
  return raw.replace(/@aws_api_key\b/g, AUTH_DIRECTIVE[mode]);
}
