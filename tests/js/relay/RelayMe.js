// Read by relay-compiler only (tests/test_documents_clients.py copies this directory beside a
// relay.config.json and the schema the server exports): the graphql tags are never run, the
// compiler's artifacts are. Relay's naming rule: an operation's name starts with its module's
// name (the file's) and ends in its kind.
export const query = graphql`
  query RelayMeQuery {
    me {
      role
    }
  }
`;
