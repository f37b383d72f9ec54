// See RelayMe.js. A query with a variable and a fragment (fragments are named <module>_<name>).
export const card = graphql`
  fragment RelayCourse_card on Course {
    title
  }
`;

export const query = graphql`
  query RelayCourseQuery($id: ID!) {
    course(id: $id) {
      ...RelayCourse_card
    }
  }
`;
