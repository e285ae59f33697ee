// Subscribes to every item change in eu-west-1 of a running emulator (npm start) with AWS's own client, aws-amplify
// v6, unchanged, and prints each change as one line of JSON. From the project folder:
//
//   node examples/subscribe.mjs [endpoints file]     (default .emulator/endpoints.json: the emulator started last)
//
// then write in any region (README, "Try it"). The one line of glue below: aws-amplify v6 always opens wss:// for a
// host that is not AppSync's, and the emulator serves plain ws:// on 127.0.0.1, so Amplify gets a WebSocket class
// that rewrites the scheme (Node 20 has no global WebSocket anyway). It uses the region's AppSync API key: start
// the emulator in apiKey mode (the default).
import { readFileSync } from 'node:fs';
import WebSocket from 'ws';
import { Amplify } from 'aws-amplify';
import { generateClient } from 'aws-amplify/api';

globalThis.WebSocket = class extends WebSocket { constructor(url, protocols) { super(url.replace('wss://127.0.0.1', 'ws://127.0.0.1'), protocols); } };

const { regions } = JSON.parse(readFileSync(process.argv[2] ?? '.emulator/endpoints.json', 'utf8'));
const eu = regions['eu-west-1'];
Amplify.configure({ API: { GraphQL: { endpoint: eu.graphqlUrl, region: 'eu-west-1', defaultAuthMode: 'apiKey', apiKey: eu.apiKey } } });
const client = generateClient();
client.graphql({ query: 'subscription { onItemChange { id kind publishedRegion item { value updatedRegion } } }' }).subscribe({
  next: ({ data }) => console.log(JSON.stringify(data.onItemChange)),
  error: (err) => console.error(err),
});
