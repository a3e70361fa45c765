/** Response schemas of the billing endpoints, named as they appear in the OpenAPI document. */
export const billingComponentSchemas = {} as const;
