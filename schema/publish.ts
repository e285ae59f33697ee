/**
 * The mutation the notifier sends. AppSync delivers to subscribers only the fields this selection names and
 * matches `onItemChange(id)` against them, so it selects every field of ItemChange, nested item included
 * (test/resolvers checks that against schema.graphql).
 */
export const PUBLISH_ITEM_CHANGE = `mutation PublishItemChange($input: ItemChangeInput!) {
  publishItemChange(input: $input) {
    id
    kind
    publishedRegion
    sequenceNumber
    changedAt
    item { id value version updatedAt updatedRegion updatedBy }
  }
}`;
