/**
 * Physical names that tools outside the Pulumi program rely on. No imports, so scripts can use it without
 * loading @pulumi/aws.
 */

/**
 * The state updater's function name, the same in every region (Lambda names are per region), so
 * `npm run state` can invoke it knowing only the stack and a region.
 */
export function stateUpdaterFunctionName(project: string, stack: string): string {
  return `${project}-${stack}-state-updater`;
}

/** The API Gateway stage every region deploys; its invoke URL (`.../live`) is the region's restUrl. */
export const STAGE_NAME = 'live';
