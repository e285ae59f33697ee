/**
 * The one way the project's scripts run as a command: `main(argv)` resolves to the exit code (0 done, 1 failed,
 * 2 bad usage, each script's own usage says which); anything it throws is a bug, printed with its stack, exit 1.
 * Imported scripts (the tests call each `main` directly) run nothing.
 */
export function runMain(mod: NodeJS.Module, main: (argv: string[]) => Promise<number>): void {
  if (require.main !== mod) return;
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e));
      process.exit(1);
    },
  );
}
