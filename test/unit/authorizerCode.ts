/**
 * The code archives for mock runs that deploy the token authorizer (token and oidc modes): the real esbuild bundle
 * of handlers/authorizer.ts once that file exists, and until then an empty archive in its place (Pulumi mocks
 * never unpack an archive; every other handler is the real bundle).
 */
import * as pulumi from '@pulumi/pulumi';
import fs from 'node:fs';
import path from 'node:path';
import { AUTHORIZER_HANDLER } from '../../components/authorizerFunction';
import { bundledCode, type CodeSource } from '../../components/lambda';

export const authorizerCode: CodeSource = (h) =>
  h === AUTHORIZER_HANDLER && !fs.existsSync(path.join(__dirname, '..', '..', 'handlers', 'authorizer.ts')) ? new pulumi.asset.AssetArchive({}) : bundledCode(h);
