/** Response schemas of the supply endpoints, named as they appear in the OpenAPI document. */
export const supplyComponentSchemas = {} as const;
