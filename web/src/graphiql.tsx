// GraphiQL bundled with the explorer: React, GraphiQL and its CSS all come
// from this build, so /graphql works in a browser without internet access.
import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import "graphiql/graphiql.css";
import { createRoot } from "react-dom/client";

const wsUrl = `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`;
const fetcher = createGraphiQLFetcher({ url: "/graphql", subscriptionUrl: wsUrl });

const defaultQuery = `# The demo's remix tree in one round trip.
{
  video(id: "grandma") {
    title
    derivativeCount
    treeDepth
    generationCounts { generation count }
    topVariants(limit: 5) { child { id derivativeCount } promptDiff { variantKey } }
    variantGroups(limit: 5) { key remixCount reach }
  }
}
`;

const container = document.getElementById("graphiql");
if (container) {
  container.textContent = "";
  createRoot(container).render(
    <GraphiQL fetcher={fetcher} defaultQuery={defaultQuery} shouldPersistHeaders />,
  );
}
