/**
 * What `npm start` needs before the emulator's heavy modules load: the Java check and its message, the error type
 * for problems a user can fix, and the default port. Kept free of heavy imports so local/start.ts can check Java and
 * boot the DynamoDB Local JVM first, and load the emulator while the JVM starts.
 */
import { spawnSync } from 'node:child_process';

export const DEFAULT_BASE_PORT = 4010;

/** A problem the user can fix (Java missing, a port in use, bad config): printed as one message, no stack trace. */
export class StartError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'StartError';
  }
}

export const JAVA_HINT =
  'DynamoDB Local (AWS\'s own jar) needs a Java 17+ JDK (java and javac): ' +
  'Debian/Ubuntu: sudo apt-get install openjdk-17-jdk-headless; macOS: brew install openjdk@17; ' +
  'Windows: winget install Microsoft.OpenJDK.17. Then run npm start again.';

export function checkJava(): void {
  for (const cmd of ['java', 'javac']) {
    const r = spawnSync(cmd, ['-version'], { encoding: 'utf8' });
    if (r.error || r.status !== 0) throw new StartError(`${cmd} was not found. ${JAVA_HINT}`);
    const m = /version "?(\d+)/.exec(`${r.stderr}${r.stdout}`);
    if (m && Number(m[1]) < 17) throw new StartError(`${cmd} is version ${m[1]}. ${JAVA_HINT}`);
  }
}

