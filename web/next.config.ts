import path from "node:path";

import type { NextConfig } from "next";

// The workspace root: dependencies are hoisted there, and @gridmesh/contracts is a sibling workspace.
const root = path.resolve(import.meta.dirname, "..");

const config: NextConfig = {
  // @gridmesh/contracts ships TypeScript sources: the one clearing module, ABIs and reading types.
  transpilePackages: ["@gridmesh/contracts"],
  turbopack: { root },
  outputFileTracingRoot: root,
  poweredByHeader: false,
  reactStrictMode: true,
};

export default config;
