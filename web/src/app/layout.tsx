import type { Metadata, Viewport } from "next";
import type { ReactNode } from "react";

import { ChainClock } from "../components/ChainClock.js";
import { ConnectWallet } from "../components/ConnectWallet.js";
import { Nav } from "../components/Nav.js";
import { Providers } from "../components/Providers.js";
import { loadDeployment } from "../server/deployment.js";
import "./globals.css";

// Every page shows the live system: nothing is prerendered at build time.
export const dynamic = "force-dynamic";

export const metadata: Metadata = {
  title: "GridMesh",
  description: "Peer-to-peer energy trading with your neighbours, and an audit explorer for every trade",
};

export const viewport: Viewport = { width: "device-width", initialScale: 1 };

export default async function RootLayout({ children }: { children: ReactNode }) {
  let body: ReactNode;
  try {
    const deployment = await loadDeployment();
    body = (
      <Providers deployment={deployment}>
        <header>
          <div className="brand">
            <a href="/">GridMesh</a>
            <ChainClock />
          </div>
          <ConnectWallet />
        </header>
        <Nav />
        <main>{children}</main>
      </Providers>
    );
  } catch (error) {
    body = (
      <main>
        <div className="state error" role="alert">
          <strong>GridMesh cannot reach its gateway.</strong>{" "}
          {error instanceof Error ? error.message : String(error)}. Check that the gateway runs and that
          GRIDMESH_GATEWAY_URL points at it, then reload.
        </div>
      </main>
    );
  }
  return (
    <html lang="en">
      <body>{body}</body>
    </html>
  );
}
