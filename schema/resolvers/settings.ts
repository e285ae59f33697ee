/**
 * The region's deploy-time settings. AppSync JS resolvers have no environment variables, so components/bundle.ts
 * bakes them in per region with esbuild's `define` of the global `__SETTINGS__`.
 */
declare const __SETTINGS__: {
  region: string;
  primaryRegion: string;
  writeMode: 'multi-master' | 'primary';
  /** absent = eventual */
  consistency?: 'eventual' | 'strong';
};

export const SETTINGS = __SETTINGS__;
