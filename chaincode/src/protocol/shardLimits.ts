/** shamir-secret-sharing's limit is 255 shares, and the device keeps one of them. */
export const MAX_VERIFIERS = 254;
