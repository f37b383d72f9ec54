// Apollo Client 4 with its persisted-queries link, against a server (tests/test_documents_clients.py).
// usage: node apollo_persisted.mjs URL TENANT TOKEN COURSE_ID MODE [MANIFEST]
//   MODE post:     automatic persisted queries, the link hashing with SHA-256 (node:crypto, hex)
//   MODE get:      the same with useGETForHashedQueries: true
//   MODE manifest: ids from an Apollo persisted query manifest (generatePersistedQueryIdsFromManifest
//                  of @apollo/persisted-query-lists), as a client of a trusted-documents server runs
// Runs each operation of apollo/operations.js twice (fetchPolicy network-only) and prints one JSON
// object: what the link hashed (text and hash, modes post and get), each round's answers, and every
// request the HttpLink made as seen by its fetch (method, operation, hash, whether the text went too,
// status, error codes).
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { ApolloClient, ApolloLink, HttpLink, InMemoryCache } from "@apollo/client";
import { PersistedQueryLink } from "@apollo/client/link/persisted-queries";
import { generatePersistedQueryIdsFromManifest } from "@apollo/persisted-query-lists";
import { ApolloCourse, ApolloViewer } from "./apollo/operations.js";

const [url, tenant, token, courseId, mode, manifestPath] = process.argv.slice(2);

// The link's default generateHash is `sha256(print(query))` (node_modules/@apollo/client/link/
// persisted-queries/index.js), print being graphql-js's print of the document Apollo Client sends,
// __typename added: this records each text it hashed beside its hash.
const hashed = {};
const sha256 = (text) => {
  const hash = createHash("sha256").update(text).digest("hex");
  const name = /^(?:query|mutation|subscription) (\w+)/m.exec(text)?.[1] ?? "";
  hashed[name] = { text, hash };
  return hash;
};

const requests = [];
async function recordingFetch(input, init = {}) {
  const method = (init.method ?? "GET").toUpperCase();
  let request;
  if (method === "GET") {
    const params = new URL(String(input)).searchParams;
    request = {
      operationName: params.get("operationName"),
      extensions: params.has("extensions") ? JSON.parse(params.get("extensions")) : null,
      query: params.get("query"),
    };
  } else {
    request = JSON.parse(init.body);
  }
  const response = await fetch(input, init);
  const body = await response.clone().json().catch(() => null);
  requests.push({
    method,
    operationName: request.operationName ?? null,
    hash: request.extensions?.persistedQuery?.sha256Hash ?? null,
    withText: typeof request.query === "string" && request.query.length > 0,
    status: response.status,
    codes: (body?.errors ?? []).map((error) => error.extensions?.code ?? null),
  });
  return response;
}

let persisted;
if (mode === "post" || mode === "get") {
  persisted = new PersistedQueryLink({ sha256, useGETForHashedQueries: mode === "get" });
} else if (mode === "manifest") {
  const manifest = JSON.parse(readFileSync(manifestPath, "utf8"));
  persisted = new PersistedQueryLink(generatePersistedQueryIdsFromManifest({ loadManifest: () => manifest }));
} else {
  throw new Error(`unknown mode ${mode}`);
}

const headers = { "x-tenant-id": tenant };
if (token) headers.authorization = `Bearer ${token}`;
const client = new ApolloClient({
  cache: new InMemoryCache(),
  link: ApolloLink.from([persisted, new HttpLink({ uri: url, headers, fetch: recordingFetch })]),
});

async function ask(query, variables) {
  try {
    const { data } = await client.query({ query, variables, fetchPolicy: "network-only" });
    return data;
  } catch (error) {
    return { error: error.message, codes: (error.errors ?? []).map((e) => e.extensions?.code ?? null) };
  }
}

const rounds = [];
for (let round = 0; round < 2; round++) {
  rounds.push({
    ApolloViewer: await ask(ApolloViewer),
    ApolloCourse: await ask(ApolloCourse, { id: courseId }),
  });
}
console.log(JSON.stringify({ hashed, rounds, requests }));
