"use client";

import { Link } from "./Link.js";
import { usePathname } from "next/navigation.js";

const links = [
  ["/", "Dashboard"],
  ["/market", "Market"],
  ["/contracts", "Forwards & options"],
  ["/trades", "Trades"],
  ["/bills", "Bills"],
  ["/devices", "Devices"],
  ["/audit", "Audit"],
] as const;

export function Nav() {
  const path = usePathname();
  return (
    <nav aria-label="Main">
      {links.map(([href, label]) => {
        const current = href === "/" ? path === "/" : path.startsWith(href);
        return (
          <Link key={href} href={href} aria-current={current ? "page" : undefined}>
            {label}
          </Link>
        );
      })}
    </nav>
  );
}
