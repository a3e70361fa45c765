import NextLink from "next/link.js";

/**
 * Next's <Link>. TypeScript under `nodenext` (which the build needs to read the shared workspace
 * package's `.js` imports) types Next's CommonJS entry as its whole exports object, while the
 * bundler hands over `exports.default`: take whichever one is the component.
 */
export const Link = ((NextLink as { default?: unknown }).default ?? NextLink) as typeof NextLink.default;
