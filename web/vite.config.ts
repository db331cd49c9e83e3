// Two pages from one install: the explorer (index.html, served at /) and a
// self-hosted GraphiQL (graphiql.html, served at /graphql to browsers).
// Everything is bundled: nothing is loaded from a CDN at run time.
import { resolve } from "node:path";
import { defineConfig } from "vite";

const api = process.env.LINEAGE_API_URL ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  build: {
    outDir: "dist",
    emptyOutDir: true,
    chunkSizeWarningLimit: 2000,
    rollupOptions: {
      // GraphiQL's Radix components carry React's "use client" directive,
      // which means nothing to a page bundle.
      onwarn(warning, warn) {
        if (warning.code === "MODULE_LEVEL_DIRECTIVE") return;
        warn(warning);
      },
      input: {
        explorer: resolve(import.meta.dirname, "index.html"),
        graphiql: resolve(import.meta.dirname, "graphiql.html"),
      },
    },
  },
  server: {
    proxy: { "/graphql": { target: api, ws: true } },
  },
});
