/**
 * Physical names that tools outside the Pulumi program rely on, and that config/index.ts checks (the stack name
 * must make a valid function name). No imports: components/, local/ and scripts/ import it without loading
 * @pulumi/aws or the rest of config/.
 */

/** The Pulumi project name: the config namespace and the first part of every physical name. */
export const PROJECT = 'global-appsync';

/**
 * The state updater's function name, the same in every region (Lambda names are per region), so
 * `npm run state` can invoke it knowing only the stack and a region.
 */
export function stateUpdaterFunctionName(project: string, stack: string): string {
  return `${project}-${stack}-state-updater`;
}

/** The API Gateway stage every region deploys; its invoke URL (`.../live`) is the region's restUrl. */
export const STAGE_NAME = 'live';
