// Apollo's generate-persisted-query-manifest, run from tests/js by tests/test_documents_clients.py:
// the operations in apollo/operations.js, written to APOLLO_MANIFEST_OUTPUT (a test's temporary
// directory). Ids are its default: the SHA-256 of the operation's text as Apollo Client prints it.
module.exports = {
  documents: ["apollo/operations.js"],
  output: process.env.APOLLO_MANIFEST_OUTPUT,
};
