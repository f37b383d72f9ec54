// Subscribe with the reference graphql-ws client; print each result as a JSON line.
// usage: node subscribe.mjs URL TOKEN QUERY VARIABLES_JSON COUNT
import { createClient } from "graphql-ws";
import WebSocket from "ws";

const [url, token, query, variables, count] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: { authorization: `Bearer ${token}` },
  retryAttempts: 0,
});
let seen = 0;
const done = (code) => {
  client.dispose();
  process.exit(code);
};
console.log(JSON.stringify({ ready: true }));
client.subscribe(
  { query, variables: JSON.parse(variables) },
  {
    next: (result) => {
      console.log(JSON.stringify(result));
      seen += 1;
      if (seen >= Number(count)) done(0);
    },
    error: (error) => {
      console.log(JSON.stringify({ error: String(error?.reason ?? error?.message ?? error) }));
      done(1);
    },
    complete: () => done(seen >= Number(count) ? 0 : 1),
  },
);
setTimeout(() => done(2), 20000);
