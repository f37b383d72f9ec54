// relay-runtime with the artifacts relay-compiler wrote under persistConfig (their params hold the
// document's id, their text is null), against a server (tests/test_documents_clients.py).
// usage: node relay_persisted.mjs URL TENANT TOKEN ARTIFACTS_DIR COURSE_ID
// The network layer is the one Relay's persisted-queries guide gives (relay-runtime's
// llm-docs/guides/persisted-queries.mdx): POST {doc_id: operation.id, variables}, no text.
// Prints one JSON object: each query's id, the server's raw answers, what fetchQuery returned
// and the records Relay's store normalized from the answers.
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Environment, Network, RecordSource, Store, fetchQuery } from "relay-runtime";

const [url, tenant, token, artifacts, courseId] = process.argv.slice(2);

const answers = [];
const network = Network.create(async (operation, variables) => {
  const headers = { "content-type": "application/json", "x-tenant-id": tenant };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, {
    method: "POST",
    headers,
    body: JSON.stringify({ doc_id: operation.id, variables }),
  });
  const body = await response.json();
  answers.push({ name: operation.name, id: operation.id, text: operation.text, status: response.status, body });
  return body;
});
const environment = new Environment({ network, store: new Store(new RecordSource()) });

const load = async (name) => (await import(pathToFileURL(join(artifacts, `${name}.graphql.js`)).href)).default;
const queries = [
  [await load("RelayMeQuery"), {}],
  [await load("RelayCourseQuery"), { id: courseId }],
];
const results = {};
for (const [query, variables] of queries) {
  try {
    results[query.params.name] = await fetchQuery(environment, query, variables).toPromise();
  } catch (error) {
    results[query.params.name] = { error: error.message };
  }
}
console.log(JSON.stringify({ answers, results, records: environment.getStore().getSource().toJSON() }));
