// The operations the Apollo Client test sends (tests/test_documents_clients.py): read by
// apollo_persisted.mjs at run time and by Apollo's generate-persisted-query-manifest (through
// persisted-query-manifest.config.cjs) to write the manifest a trusted-only tenant registers.
import { gql } from "@apollo/client";

export const ApolloViewer = gql`
  query ApolloViewer {
    me {
      id
      role
    }
  }
`;

// The fragment comes first on purpose: the persisted-query link hashes the document as written
// (print(query)), Apollo's manifest tooling after sorting its definitions (operations first), so
// the two ids of this document differ and the server must take each as the client computed it.
export const ApolloCourse = gql`
  fragment ApolloCourseCard on Course {
    id
    title
  }

  query ApolloCourse($id: ID!) {
    course(id: $id) {
      ...ApolloCourseCard
    }
  }
`;
