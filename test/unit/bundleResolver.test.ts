import assert from 'node:assert/strict';
import { buildResolverDirect, bundleResolver, type ResolverSettings } from '../../components/bundle';
import { resolverFiles } from '../../schema/resolvers/manifest';

// bundleResolver bundles each file once and puts each region's settings in: what it returns must be, byte for byte,
// what one esbuild build with those settings gives (it is the `code` every region's resolvers deploy).
describe('resolver bundles built once per file', function () {
  this.timeout(60_000);

  const settings: ResolverSettings[] = [
    { region: 'eu-west-1', primaryRegion: 'us-east-1', writeMode: 'primary' },
    { region: 'ap-southeast-2', primaryRegion: 'ap-southeast-2', writeMode: 'multi-master', consistency: 'eventual' },
    // strong consistency, and a value with characters JSON and JavaScript escape differently
    { region: 'us-"east"-1 \\ \u2028', primaryRegion: 'eu-west-1', writeMode: 'multi-master', consistency: 'strong' },
  ];

  for (const file of resolverFiles()) {
    it(`${file}: the same text as a build with each region's settings`, () => {
      for (const s of settings) assert.equal(bundleResolver(file, s), buildResolverDirect(file, s), `${file} with ${JSON.stringify(s)}`);
    });
  }

  it("a file that reads the settings holds each region's own (no settings carried over from another region)", () => {
    const [a, b] = settings;
    assert.match(bundleResolver('writeGuard', a), /region: "eu-west-1"/);
    assert.match(bundleResolver('writeGuard', b), /region: "ap-southeast-2"/);
    assert.doesNotMatch(bundleResolver('writeGuard', b), /eu-west-1|placeholder/);
  });
});
